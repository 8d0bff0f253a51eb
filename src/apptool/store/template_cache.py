"""The templates compiled once: jinja2's bytecode cache, in the user's cache folder.

jinja2 compiles a template to Python code each time a process first renders it (40 ms for an
invoice's two templates, against 1 ms to load the compiled code). Its bytecode cache keeps
the code of each template, keyed by the template's name and file, and checked against the
template's source (an edited template compiles again) and against jinja2's and Python's
versions. The files live in ``compiled-templates/<code>/`` of apptool's cache folder
(:func:`apptool.store.holiday_cache.cache_dir`), ``<code>`` naming the apptool code that
set up the environment (:func:`apptool.store.load_cache.code_fingerprint`). Each file is
written atomically, for its user only; one that is missing, stale, unreadable, not a
regular file, another user's or writable by others is compiled again, and one that cannot
be written is not kept. Deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import jinja2

from apptool.store.files import private_folder, read_regular_file, write_atomic
from apptool.store.holiday_cache import cache_dir
from apptool.store.load_cache import code_fingerprint

#: Not "templates": the cache folder may be a workspace, whose ``templates/`` is the user's.
FOLDER = "compiled-templates"
#: The largest compiled template read back.
MAX_TEMPLATE_BYTES = 16 * 1024 * 1024


class TemplateCache(jinja2.BytecodeCache):
    """jinja2's bytecode cache in a folder, written atomically, never an error."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{bucket.key}.cache"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        # compiled code: only a regular file of this user's that no one else may write
        data = read_regular_file(self._file(bucket), MAX_TEMPLATE_BYTES, private=True)
        if data is not None:
            bucket.load_bytecode(io.BytesIO(data))  # a stale or torn file: compiled again

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        private_folder(self.folder)
        with contextlib.suppress(OSError):
            write_atomic(self._file(bucket), bucket.bytecode_to_string(), private=True)


def template_cache() -> TemplateCache | None:
    """The bytecode cache of this apptool's templates; None when no cache folder can be named."""
    try:
        folder = cache_dir() / FOLDER / code_fingerprint().hex()[:16]
    except Exception:  # platformdirs without a home folder...: compiled each time
        return None
    return TemplateCache(folder)
