"""YAML with line marks -> strict pydantic models, collecting every problem with file:line.

The YAML dialect is YAML 1.1 as PyYAML reads it, with changes that avoid classic traps for
people who edit files by hand, and that keep any input bounded:

* ``09:00`` stays the string ``"09:00"`` (YAML 1.1 would read the number 540);
* dates stay strings, so an impossible date (``2025-02-30``) is reported by the model with
  its line instead of crashing the parser;
* decimal numbers are read as :class:`~decimal.Decimal`, never as float (money is exact);
* anchors and aliases (``&name``, ``*name``) and tags (``!!python/...``, ``!!binary``...) are
  refused with their line: nothing a workspace needs uses them, and an alias can make a small
  file expand without limit; a key is its text as written (``3:`` and ``yes:`` are the keys
  ``"3"`` and ``"yes"``, ``<<`` is no merge), and never a list or a mapping;
* a file larger than :data:`MAX_FILE_BYTES` (5 MB) is refused before it is parsed, and
  nesting deeper than :data:`MAX_DEPTH` is refused as it is read: parsing is one linear pass;
* a file that is not UTF-8 text, or holds a control character (NUL...), is refused with the
  line of the first bad byte.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from apptool.domain.models import ControlCharacter
from apptool.domain.source import Document
from apptool.errors import InvalidInput, Path_, Problem, field_name

M = TypeVar("M", bound=BaseModel)

#: The largest file the tool reads (README, "Limits"): checked before anything is parsed.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: The deepest nesting of mappings and lists accepted (a workspace file needs about 6).
MAX_DEPTH = 32
#: Digits of the longest number accepted (an amount, a count; more is a mistake).
MAX_NUMBER_DIGITS = 30

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]+([eE][-+]?[0-9]+)?$")
_BOOL = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_STR_TAG = "tag:yaml.org,2002:str"
_COLLECTION_TAGS = frozenset(("!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"))
#: What YAML accepts in a file (YAML 1.1 "printable"): anything else is binary or a control
#: character, reported with its line before parsing.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _fail(display: str, line: int | None, message: str) -> InvalidInput:
    return InvalidInput(message, [Problem(display, line, "", message)])


#: First characters of a plain scalar that may be something else than text.
_NOT_TEXT_START = frozenset("-+.0123456789~nNyYtTfFoO")


def _plain(value: str, line: int, display: str) -> Any:
    """A plain (unquoted) scalar: null, a YAML 1.1 boolean, an integer, a decimal or text."""
    if value and value[0] not in _NOT_TEXT_START:
        return value
    if value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    is_int = _INT.match(value) is not None
    if is_int or _FLOAT.match(value):
        digits = value.replace("_", "")
        if len(digits) > MAX_NUMBER_DIGITS:
            raise _fail(display, line, f"number too long ({len(digits)} characters)")
        try:
            number = int(digits) if is_int else Decimal(digits)
        except (ValueError, InvalidOperation):
            raise _fail(display, line, f"{value!r} is not a number") from None
        if isinstance(number, Decimal) and not (-(10**12) < number < 10**12):
            raise _fail(display, line, f"{value!r} is out of range")
        return number
    return value


class _Open:
    """A mapping or list being read: where it is, and for a mapping the key waiting."""

    __slots__ = ("data", "firsts", "key", "key_line", "path")

    def __init__(self, data: dict[Any, Any] | list[Any], path: Path_) -> None:
        self.data = data
        self.path = path
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.firsts: dict[Any, int] = {}


_NO_KEY = object()


def _refuse(event: yaml.Event, display: str) -> None:
    """Anchors, aliases and tags are refused with their line (see the module's docstring)."""
    message = _refused_feature(event)
    if message is not None:
        mark = event.start_mark
        raise _fail(display, mark.line + 1 if mark is not None else None, message)


def _refused_feature(event: yaml.Event) -> str | None:
    """Why an event uses a refused feature (an anchor, an alias, a tag), or None."""
    if isinstance(event, yaml.AliasEvent):
        return (
            f"YAML alias *{event.anchor} is not supported: write the value out "
            "(anchors and aliases are refused)"
        )
    anchor = getattr(event, "anchor", None)
    if anchor is not None:
        return (
            f"YAML anchor &{anchor} is not supported: write the value out "
            "(anchors and aliases are refused)"
        )
    tag = getattr(event, "tag", None)
    if tag is None:
        return None
    if isinstance(event, yaml.ScalarEvent):
        if tag in ("!", _STR_TAG):
            return None
    elif tag in _COLLECTION_TAGS:
        return None
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"YAML tag {shown} is not supported: write a plain value"


def parse_yaml(text: str, path: Path, display: str) -> Document:
    """Parse YAML text, keeping the line of every key and item, in one linear pass over the
    parser's events; a syntax error or a refused feature is an :class:`InvalidInput`."""
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise _fail(
            display,
            line,
            f"control character U+{ord(bad.group()):04X} is not allowed (is this a binary file?)",
        )
    lines: dict[Path_, int] = {}
    duplicates: list[tuple[Path_, int, int]] = []
    stack: list[_Open] = []
    root: list[Any] = []
    documents = 0
    parser = _Parser(text)  # events only: no Python object is ever built from a tag
    next_event = parser.get_event
    try:
        while (event := next_event()) is not None:
            kind = type(event)
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
                continue
            value: Any
            if kind is yaml.ScalarEvent:
                top = stack[-1] if stack else None
                if top is not None and top.key is _NO_KEY and type(top.data) is dict:
                    _refuse(event, display)  # a key: its text as written (``3:`` is "3")
                    top.key, top.key_line = event.value, event.start_mark.line + 1
                    continue
                if event.anchor is None and event.tag is None:
                    value = (
                        _plain(event.value, event.start_mark.line + 1, display)
                        if event.implicit[0]
                        else event.value
                    )
                else:
                    _refuse(event, display)
                    plain = event.tag == "!" and event.implicit[0]
                    line = event.start_mark.line + 1
                    value = _plain(event.value, line, display) if plain else event.value
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                _refuse(event, display)
                value = {} if kind is yaml.MappingStartEvent else []
            elif kind is yaml.AliasEvent:
                _refuse(event, display)
                continue
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    line = event.start_mark.line + 1
                    raise _fail(display, line, "one YAML document per file (found a second)")
                continue
            else:  # stream start and end, document end
                continue
            path_: Path_
            if not stack:
                path_ = ()
                root.append(value)
                lines[()] = event.start_mark.line + 1
            else:
                top = stack[-1]
                if type(top.data) is list:
                    path_ = (*top.path, len(top.data))
                    top.data.append(value)
                    lines[path_] = event.start_mark.line + 1
                elif top.key is _NO_KEY:  # scalar keys were taken above
                    raise _fail(
                        display,
                        event.start_mark.line + 1,
                        "a key must be a plain value, not a list or mapping",
                    )
                else:
                    key = top.key
                    path_ = (*top.path, key)
                    if key in top.firsts:
                        duplicates.append((path_, top.key_line, top.firsts[key]))
                    else:
                        top.firsts[key] = top.key_line
                    top.data[key] = value
                    lines[path_] = top.key_line
                    top.key = _NO_KEY
            if kind is not yaml.ScalarEvent:
                if len(stack) >= MAX_DEPTH:
                    line = event.start_mark.line + 1
                    raise _fail(display, line, f"nested deeper than {MAX_DEPTH} levels")
                stack.append(_Open(value, path_))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context}"
        raise _fail(display, mark.line + 1 if mark is not None else None, message) from None
    except yaml.YAMLError as exc:  # a reader error: the bad character's line
        position = getattr(exc, "position", None)
        line_ = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise _fail(display, line_, f"YAML error: {exc}") from None
    finally:
        with contextlib.suppress(Exception):
            parser.dispose()
    if not root:
        lines[()] = 1  # an empty file: its problems are on line 1
    problems = [
        Problem(display, line, field_name(loc), f"key given twice (first at line {first})")
        for loc, line, first in duplicates
    ]
    return Document(path, display, root[0] if root else None, lines, problems)


def read_text(path: Path, display: str) -> str:
    """A workspace file's text: a regular file of at most :data:`MAX_FILE_BYTES`, in UTF-8.

    The size is checked before reading; a byte that is not UTF-8 is reported with its line.
    """
    try:  # O_NONBLOCK: a named pipe given as a file does not hang the tool
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _fail(display, None, f"cannot read file: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _fail(display, None, "not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise _fail(
                display,
                None,
                f"file too large ({info.st_size} bytes): apptool reads files of at most "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB",
            )
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise _fail(display, None, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise _fail(
            display,
            None,
            f"file too large: apptool reads files of at most {MAX_FILE_BYTES // (1024 * 1024)} MB",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _fail(
            display,
            line,
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}; save the file as UTF-8",
        ) from None


def read_yaml(path: Path, display: str) -> Document:
    """Read and parse a YAML file; unreadable files are reported, not raised raw."""
    return parse_yaml(read_text(path, display), path, display)


def _message(error: Any) -> str:
    kind = error.get("type", "")
    msg = str(error.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing required key"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind.endswith("_type") or kind in ("literal_error", "enum"):
        value = error.get("input")
        if not isinstance(value, dict | list):
            msg += f" (got {value!r})"
    return msg


def validation_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    """Translate pydantic errors into problems with the file's line numbers."""
    problems = []
    for error in exc.errors():
        loc: Path_ = tuple(
            part
            for part in error["loc"]
            # pydantic adds the tag of a tagged union and function-validator names to loc
            if not (isinstance(part, str) and ("[" in part or part.startswith("function-")))
        )
        inner = (error.get("ctx") or {}).get("error")
        if isinstance(inner, ControlCharacter):  # where inside the field: an item, a key
            loc = (*loc, *inner.path)
        problems.append(doc.problem(loc, _message(error)))
    return sorted(set(problems), key=lambda p: (p.line or 0, p.field, p.message))


def validate_document(doc: Document, model: type[M]) -> tuple[M | None, list[Problem]]:
    """Validate a document's data against a model: the model, or the list of problems.

    Problems found while parsing (a key given twice) come with the model's own problems.
    """
    if not isinstance(doc.data, dict):
        return None, [
            *doc.problems,
            doc.problem((), "expected a mapping of keys at the top of the file"),
        ]
    try:
        result = model.model_validate(doc.data)
    except ValidationError as exc:
        return None, sorted(
            [*doc.problems, *validation_problems(doc, exc)],
            key=lambda p: (p.line or 0, p.field, p.message),
        )
    return (None, list(doc.problems)) if doc.problems else (result, [])
