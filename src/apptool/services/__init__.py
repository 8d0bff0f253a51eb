"""Use cases, one module per command family: load the workspace, decide with the domain,
write through the store, and return data (the CLI picks the format).

Importing the use cases gives the domain its holidays: the public and school holidays
computed once per library version and kept in the user's cache folder
(:mod:`apptool.store.holiday_cache`); and the documents their compiled templates, kept there
too (:mod:`apptool.store.template_cache`).
"""

from typing import Any

import apptool.output
from apptool.domain.calendar_fr import use_holidays
from apptool.store.holiday_cache import CachedHolidays

use_holidays(CachedHolidays())


def _template_cache() -> Any:
    from apptool.store.template_cache import template_cache  # lazy: jinja2, for documents only

    return template_cache()


apptool.output.template_cache = _template_cache
