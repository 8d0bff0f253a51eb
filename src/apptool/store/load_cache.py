"""What a load found in files, remembered between commands while the files stay the same.

Reading a workspace means parsing its YAML, validating every model and running every rule
on it: for a command that runs in a fraction of a second, most of its time (and the import of
the libraries only the checks use: the SIRET and IBAN checks of python-stdnum). What a load
gives depends on nothing but the bytes it reads and the code that reads them, so a load that
succeeded is kept in the user's cache folder (``validated/`` beside the holiday cache, see
:mod:`apptool.store.holiday_cache`), as beancount keeps its loaded ledger, and given back
while the same bytes are read by the same code:

* each entry is named after what was loaded (``workspace /home/me/app``), one file a name,
  replaced when the bytes change: the cache does not grow with each edit;
* its header holds the digest of the bytes read, of apptool's source files (size and time of
  each: an edited or upgraded apptool reads again) and of the versions of Python and of the
  libraries a load uses (pydantic, PyYAML, python-stdnum), then the digest of the body;
* a load that fails is never kept: its problems are found again, with their lines, each time;
* the load parses the very bytes its key was taken from (a snapshot of the files,
  :class:`apptool.store.loading.Snapshot`), and a load that read another file or missed one
  (added or removed meanwhile) is not kept: what is kept under some bytes is what they give;
* an entry is a pickle, code to load: it is written for this user alone, and only read when
  it is a regular file that this user owns and no one else may write (as ssh asks of its
  keys), and of the shape the load gives.

An entry that is missing, of other bytes or code, unreadable, altered or corrupt is ignored and
the files are read again; one that cannot be written is simply not kept. The cache never
changes a result: it gives back what reading the files gives. Deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import apptool
from apptool.store.files import private_folder, read_regular_file, write_atomic
from apptool.store.holiday_cache import cache_dir, library_version
from apptool.store.loading import MAX_FILE_BYTES

T = TypeVar("T")

#: The layout of an entry; an entry of another format is read again.
FORMAT = b"apptool-load-cache 1"
FOLDER = "validated"
#: The largest entry read back (a year of 80 groups is about 1 MB).
MAX_ENTRY_BYTES = 256 * 1024 * 1024
#: The libraries whose answers a load depends on (distribution, import name).
LIBRARIES = (
    ("pydantic", "pydantic"),
    ("pydantic-core", "pydantic_core"),
    ("PyYAML", "yaml"),
    ("python-stdnum", "stdnum"),
)


@functools.cache
def code_fingerprint() -> bytes:
    """apptool's source files (name, size and modification time of each), its version, and
    the versions of Python and of the libraries a load uses: the code that reads the files."""
    digest = hashlib.blake2b(digest_size=32)
    digest.update(f"{apptool.__version__}\0{sys.version}\0".encode())
    for distribution, package in LIBRARIES:
        try:
            version = library_version(distribution, package)
        except Exception:  # not installed as a distribution: its files still say what it is
            version = "unknown"
        digest.update(f"{distribution}={version}\0".encode())
    package_folder = os.path.dirname(apptool.__file__)
    for folder, subfolders, files in os.walk(package_folder):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    info = os.stat(path)
                    relative = path[len(package_folder) :]
                    digest.update(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.digest()


def _entry(name: str) -> Path | None:
    """The cache file of ``name``; ``None`` when no cache folder can be named."""
    try:
        folder = cache_dir() / FOLDER
    except Exception:  # platformdirs without a home folder...: no cache, same results
        return None
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=16)
    return folder / f"{digest.hexdigest()}.pickle"


def _key(name: str, inputs: Iterable[bytes]) -> bytes:
    digest = hashlib.blake2b(code_fingerprint(), digest_size=32)
    digest.update(name.encode("utf-8", "surrogatepass") + b"\0")
    for part in inputs:  # each part's length first: no two lists of parts give the same bytes
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest().encode()


def _read(path: Path, key: bytes, valid: Callable[[Any], bool]) -> tuple[bool, object]:
    """``(True, value)`` from an entry of ``key`` that reads back whole and ``valid``, else
    ``(False, None)``. Only a regular file of this user's that no one else may write is
    read: an entry is a pickle, code to load."""
    raw = read_regular_file(path, MAX_ENTRY_BYTES, private=True)
    if raw is None:
        return False, None
    try:
        head, _, body = raw.partition(b"\n")
        if head != _header(key, body):
            return False, None
        value = pickle.loads(body)
        return (True, value) if valid(value) else (False, None)
    except Exception:  # corrupt, or of classes this code no longer has
        return False, None


def _header(key: bytes, body: bytes) -> bytes:
    return b" ".join((FORMAT, key, hashlib.blake2b(body, digest_size=32).hexdigest().encode()))


def remembered(
    name: str,
    inputs: list[bytes],
    load: Callable[[], T],
    valid: Callable[[Any], bool] = lambda value: True,
    consistent: Callable[[], bool] = lambda: True,
) -> T:
    """What ``load()`` gives, remembered under ``name`` for the ``inputs`` it depends on:
    every byte the load reads (each file's path and content, or a mark that it is absent).

    ``load()`` runs when no entry of the same inputs and code exists (or the entry is not
    ``valid``: of another shape); what it gives is kept only if it read the very ``inputs``
    (``consistent()``: no file saved, added or removed meanwhile). If it raises, nothing is
    kept and the exception propagates."""
    path = _entry(name)
    key = _key(name, inputs)
    if path is not None:
        found, value = _read(path, key, valid)
        if found:
            return value  # type: ignore[return-value]
    value = load()
    if path is not None and consistent():
        with contextlib.suppress(Exception):  # a cache that cannot be written is not an error
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            private_folder(path.parent)
            write_atomic(path, _header(key, body) + b"\n" + body, private=True)
    return value


def file_input(path: Path, data: bytes | None) -> bytes:
    """A file as an input of a load: its path, then its bytes (``data``, as
    :func:`file_bytes` read them), or a mark for a path that is absent, or there but not a
    regular file the load can read (the load then says what is wrong, and fails)."""
    if data is not None:
        return os.fsencode(path) + b"\0file\0" + data
    return os.fsencode(path) + (b"\0there" if os.path.lexists(path) else b"\0absent")


def file_bytes(path: Path) -> bytes | None:
    """A file's bytes as a load reads them, or None: absent, or not a regular file it can
    read (a folder, a named pipe: never waited on; too large; unreadable)."""
    return read_regular_file(path, MAX_FILE_BYTES)
