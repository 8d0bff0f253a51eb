"""Documents and formats: French wording, jinja2 rendering, PDF, Factur-X, JSON, ICS, the
mandatory mentions, and the shipped templates (``templates/``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Where jinja2 keeps the templates it compiled (its bytecode cache), or None: compiled in
#: each process. The use cases install it (:mod:`apptool.services`): a function, so that the
#: cache is only looked for when a template is rendered.
template_cache: Callable[[], Any] | None = None
