"""Writing the workspace's files safely: atomic replacement, deterministic YAML, one lock.

Every file the tool writes goes through :func:`write_atomic` (temp file in the same folder,
fsync, ``os.replace``); every command that changes a workspace holds :func:`lock`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import io
import math
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apptool.errors import InvalidInput, WorkspaceBusy

if TYPE_CHECKING:
    import yaml

LOCK_NAME = ".apptool.lock"
_UMASK = os.umask(0o022)
os.umask(_UMASK)
#: The temp files :func:`write_atomic` makes (``.2025.yaml.k3j_x9qa.tmp``).
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def write_atomic(path: Path, content: str | bytes, private: bool = False) -> None:
    """Write ``content`` to ``path`` so that readers see the old file or the new one, never half.

    Temp file in the same folder, flush, fsync, ``os.replace``, then fsync the folder. Text
    is written as UTF-8 with ``\\n`` line ends. ``private``: readable and writable by this
    user only (an entry of the cache folder), whatever the umask; the temp files that writes
    of the same file killed midway left an hour ago or more are then removed (the cache
    folder has no lock to take as a workspace has, :func:`remove_leftovers`).
    """
    _write(path, content, exclusive=False, private=private)
    if private:
        remove_stale_temp_files(path, time.time() - STALE_TEMP_SECONDS)


#: A temp file of the cache folder this old belongs to no running write: a write of an entry
#: takes a fraction of a second.
STALE_TEMP_SECONDS = 3600.0


def remove_stale_temp_files(path: Path, before: float) -> list[Path]:
    """Remove the temp files that :func:`write_atomic` of ``path`` made beside it, last
    changed before ``before`` (a timestamp), that belong to this user: leftovers of writes
    killed midway. Only those of ``path``: the cache folder may be shared with other
    programs (``APPTOOL_CACHE_DIR=/tmp``), whose files are never touched."""
    removed = []
    prefix = f".{path.name}."
    for temp in _temp_files(path.parent, before, prefix):
        if len(temp.name) != len(prefix) + len("12345678.tmp"):  # mkstemp's 8 characters
            continue
        with contextlib.suppress(OSError):
            if temp.lstat().st_uid == os.getuid():
                temp.unlink()
                removed.append(temp)
    return removed


def read_regular_file(path: Path, limit: int, private: bool = False) -> bytes | None:
    """The bytes of a file (of apptool's cache folder, or one the tool wrote), or None when it
    is not a regular file (a named pipe, a device: never waited on), is larger than
    ``limit``, or cannot be read.

    ``private``: also None unless the file belongs to this user and nobody else may write it
    (as ssh asks of its keys): what the cache loads (a pickle) or plans with. Whoever may
    write in its folder can replace it, but not with a file of this user's.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        if private and not _owned_alone(info):
            return None
        chunks = []
        size = 0
        while size <= limit and (chunk := os.read(fd, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks) if size <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


def private_folder(folder: Path) -> None:
    """Make ``folder`` (and its parents) if missing, for this user only: where the cache keeps
    what it will load again. An existing folder is left as it is (it may be shared, ``/tmp``);
    not an error when it cannot be made."""
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def _owned_alone(info: os.stat_result) -> bool:
    """Owned by this user (where users exist) and writable by no one else."""
    getuid = getattr(os, "getuid", None)
    return (getuid is None or info.st_uid == getuid()) and not info.st_mode & 0o022


def write_once(path: Path, content: str | bytes) -> None:
    """Create ``path`` with ``content``, atomically, and never replace an existing file.

    For what is write-once (an issued invoice, credit note or order): the complete temp file
    is linked to its name, which fails if the name exists (:class:`FileExistsError`), so a
    bug or a clash can never overwrite an issued document.
    """
    _write(path, content, exclusive=True)


def _write(path: Path, content: str | bytes, exclusive: bool, private: bool = False) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if not private:
            os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; use the usual mode
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(tmp_name, path)  # atomic, and refuses an existing name (O_EXCL-like)
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


#: A character that libyaml's emitter does not write exactly as PyYAML's own: they agree on
#: the printable characters of the Basic Multilingual Plane and line feeds, but libyaml
#: escapes a character beyond U+FFFF (an emoji) that PyYAML writes as is, and quotes control
#: characters, line separators and the byte order mark differently (they also write an empty
#: key another way). Written as the characters outside the agreed set, a class that compiles
#: four times faster (every command that writes YAML compiles it).
_NOT_THE_SAME_IN_BOTH_EMITTERS = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe-\U0010ffff]"
)


@functools.cache
def faster_dumper() -> Any:
    """libyaml's emitter when PyYAML has it, else None. PyYAML is imported on the first
    write: a command that writes no YAML never imports it."""
    import yaml

    return getattr(yaml, "CSafeDumper", None)


#: The longest key (in UTF-8 bytes) that both emitters write as a simple ``key: value``.
#: Past it they differ: PyYAML writes a complex ``? key`` once the key and its tag
#: (``!!str``) reach 128 characters, libyaml once the key alone passes 128 bytes.
_SIMPLE_KEY_BYTES = 122


def _same_in_both_emitters(data: object) -> bool:
    """Whether every text of ``data`` (keys and values) is written the same by both."""
    todo = [data]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if _NOT_THE_SAME_IN_BOTH_EMITTERS.search(item):
                return False
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str) or not key:
                    return False
                if len(key) > _SIMPLE_KEY_BYTES // 4 and (
                    len(key.encode("utf-8", "replace")) > _SIMPLE_KEY_BYTES
                ):
                    return False
            todo += item.keys()
            todo += item.values()
        elif isinstance(item, list | tuple):
            todo += item
    return True


def dump_yaml(data: object, header: str = "") -> str:
    """Readable, diff-friendly, deterministic YAML (sorted keys, block style, UTF-8).

    Written by libyaml's emitter when PyYAML has it and the text is one it writes exactly as
    PyYAML's own (about ten times faster: a year of 80 groups is 880 sessions), else by
    PyYAML's: the same bytes either way, with or without libyaml. Plain data goes to the
    emitter as the events PyYAML's serializer would send it (:func:`_plain_events`), the
    others through PyYAML's representer.
    """
    import yaml

    dumper = faster_dumper() if _same_in_both_emitters(data) else None
    if dumper is not None:
        stream = io.StringIO()
        emitter = dumper(stream, allow_unicode=True, default_flow_style=False, width=100)
        events = _plain_events(data, emitter.resolve)
        if events is not None:
            for event in events:
                emitter.emit(event)
            return header + stream.getvalue()
    return header + yaml.dump(
        data,
        Dumper=dumper or yaml.SafeDumper,
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


_TAG = "tag:yaml.org,2002:"


class _NotPlain(Exception):
    """A value :func:`_plain_events` leaves to PyYAML's representer."""


def _plain_events(data: object, resolve: Any) -> list[yaml.Event] | None:
    """The events PyYAML's safe representer and serializer send the emitter for ``data``
    (keys sorted, block style), for plain data only: mappings with text keys, lists, texts,
    integers, booleans, None and dates, each mapping or list met once (PyYAML writes an
    anchor for one met twice). None for anything else: the representer then does it.

    Each text is resolved once (``resolve``: the dumper's, which tells whether a value may be
    written plain, as the serializer asks it): a calendar repeats its values (statuses,
    places, times), and 80 groups make 16,000 scalars. A third of the time of nodes."""
    import yaml
    from yaml import events

    out: list[yaml.Event] = []
    add, scalar_event = out.append, events.ScalarEvent
    implicit: dict[tuple[str, str], tuple[bool, bool]] = {}
    seen: set[int] = set()

    def scalar(tag: str, text: str) -> None:
        flags = implicit.get((tag, text))
        if flags is None:
            flags = implicit[tag, text] = (
                resolve(yaml.ScalarNode, text, (True, False)) == tag,
                resolve(yaml.ScalarNode, text, (False, True)) == tag,
            )
        add(scalar_event(None, tag, flags, text))

    def walk(value: object) -> None:
        kind = type(value)
        if kind is str:
            scalar(_TAG + "str", value)  # type: ignore[arg-type]
        elif kind is dict or kind is list:
            if id(value) in seen:
                raise _NotPlain
            seen.add(id(value))
            if kind is list:
                add(events.SequenceStartEvent(None, _TAG + "seq", True, flow_style=False))
                for item in value:  # type: ignore[attr-defined]
                    walk(item)
                add(events.SequenceEndEvent())
                return
            add(events.MappingStartEvent(None, _TAG + "map", True, flow_style=False))
            for key, item in sorted(value.items()):  # type: ignore[attr-defined]
                if type(key) is not str:
                    raise _NotPlain
                scalar(_TAG + "str", key)
                walk(item)
            add(events.MappingEndEvent())
        elif kind is bool:
            scalar(_TAG + "bool", "true" if value else "false")
        elif kind is int:
            scalar(_TAG + "int", str(value))
        elif value is None:
            scalar(_TAG + "null", "null")
        elif kind is date:
            scalar(_TAG + "timestamp", value.isoformat())  # type: ignore[attr-defined]
        else:
            raise _NotPlain

    add(events.StreamStartEvent())
    add(events.DocumentStartEvent(explicit=False))
    try:
        walk(data)
    except (_NotPlain, TypeError):  # TypeError: keys that do not sort
        return None
    add(events.DocumentEndEvent(explicit=False))
    add(events.StreamEndEvent())
    return out


#: The folders of a workspace that commands write under the lock: where an interrupted
#: command may have left a temp file (``--output`` copies are written elsewhere, unlocked).
WRITTEN_FOLDERS = ("calendars", "records", "invoices")


def leftover_temp_files(root: Path, before: float | None = None) -> list[Path]:
    """Temp files of :func:`write_atomic` that a command killed while writing left in the
    workspace's folders (:data:`WRITTEN_FOLDERS`), older than ``before`` (a timestamp)."""
    return [path for name in WRITTEN_FOLDERS for path in _temp_files(root / name, before)]


def _temp_files(folder: Path, before: float | None, prefix: str = ".") -> list[Path]:
    """The regular files of ``folder`` named as :func:`write_atomic`'s temp files (of the
    files whose name ``prefix`` gives: ``.name.``), last changed before ``before`` (a
    timestamp; None: any), sorted by name.

    The folder's entries are told apart by name before anything else is asked of them: a
    cache folder holds an entry per workspace, and every write of one looks here."""
    found: list[Path] = []
    try:
        with os.scandir(folder) as entries:
            names = [
                entry.name
                for entry in entries
                if entry.name.startswith(prefix) and _TEMP_NAME.fullmatch(entry.name)
            ]
    except OSError:
        return found
    for name in sorted(names):
        path = folder / name
        with contextlib.suppress(OSError):
            info = path.lstat()
            if stat.S_ISREG(info.st_mode) and (before is None or info.st_mtime <= before):
                found.append(path)
    return found


def remove_leftovers(root: Path) -> list[Path]:
    """Remove the temp files an interrupted command left. The caller holds the lock, and every
    command that writes these folders holds it while it writes: a temp file older than the
    moment the lock was taken belongs to no running command."""
    removed = []
    for path in leftover_temp_files(root, before=time.time()):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


#: The longest wait for the lock ``APPTOOL_LOCK_TIMEOUT`` may ask for, in seconds.
MAX_LOCK_TIMEOUT = 3600.0


def lock_timeout(value: str | None) -> float:
    """The wait for the lock: ``APPTOOL_LOCK_TIMEOUT`` seconds (0 to 3600), 10 by default."""
    if value is None or not value.strip():
        return 10.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_LOCK_TIMEOUT:  # also refuses nan
        raise InvalidInput(
            f"APPTOOL_LOCK_TIMEOUT={value!r}: give a number of seconds from 0 to "
            f"{MAX_LOCK_TIMEOUT:g}"
        )
    return seconds


@contextlib.contextmanager
def lock(root: Path, timeout: float | None = None) -> Iterator[list[Path]]:
    """Serialize commands that change a workspace: wait up to ``timeout`` s, then fail.

    The default wait is 10 s, or ``APPTOOL_LOCK_TIMEOUT`` seconds when set. ``root`` is a
    workspace folder already checked by the caller (a mistyped ``--workspace`` is refused
    before any lock file is created).

    Once the lock is taken, the temp files an interrupted command left are removed (see
    :func:`remove_leftovers`); the context gives their paths.
    """
    if timeout is None:
        timeout = lock_timeout(os.environ.get("APPTOOL_LOCK_TIMEOUT"))
    with open(root / LOCK_NAME, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise WorkspaceBusy(
                        f"{root / LOCK_NAME}: another apptool command is changing this "
                        f"workspace; try again when it has finished"
                    ) from None
                time.sleep(0.05)
        try:
            yield remove_leftovers(root)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
