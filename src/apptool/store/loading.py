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
import copy
import difflib
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from apptool.domain.models import ControlCharacter
from apptool.domain.source import Document
from apptool.errors import InvalidInput, Path_, Problem, did_you_mean, field_name

if TYPE_CHECKING:
    import yaml

M = TypeVar("M", bound=BaseModel)

#: The largest file the tool reads (README, "Limits"): checked before anything is parsed.
MAX_FILE_BYTES = 5 * 1024 * 1024
#: The deepest nesting of mappings and lists accepted (a workspace file needs about 6).
MAX_DEPTH = 32
#: Digits of the longest number accepted (an amount, a count; more is a mistake).
MAX_NUMBER_DIGITS = 30


def _parser() -> Any:
    """libyaml's parser when PyYAML has it, else PyYAML's own. PyYAML is imported on the
    first parse: a command whose files were all remembered (:mod:`.load_cache`) never
    imports it."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]+([eE][-+]?[0-9]+)?$")
_BOOL = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_STR_TAG = "tag:yaml.org,2002:str"
_COLLECTION_TAGS = frozenset(("!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"))
#: What YAML does not accept in a file (YAML 1.1 "printable" is tab, line feed, carriage
#: return, U+0020-U+007E, U+0085, U+00A0-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF): binary
#: or a control character, reported with its line before parsing. Written as the characters
#: outside that set rather than as its negation, a class that compiles ten times faster
#: (every command that parses a file compiles it).
_NOT_PRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
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
    import yaml

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


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _quoted(source: str) -> str:
    """The line ``title: Réunion: équipe`` with its value in quotes, as an example to type."""
    body = source.split(" #", 1)[0].strip()  # a comment stays out of the quotes
    dash = ""
    if body.startswith("- "):
        dash, body = "- ", body[2:].lstrip()
    key, sep, value = body.partition(": ")
    if not sep or not value.strip():
        return ""
    value = value.strip().replace('"', '\\"')
    return f' (write `{dash}{key}: "{value}"`)'


def _unclosed_quote(lines: list[str], before: int | None) -> int | None:
    """The line (before line ``before``) where a value opens a quote it does not close on
    that line: YAML lets a quoted value run over several lines, so the parser stumbles only
    where the quote finally closes."""
    for number, line in enumerate(lines[: (before or len(lines)) - 1], 1):
        found = re.match(r"""^\s*(?:- )?[^\s"'#][^:#]*:\s+(["'])(.*)$""", line)
        if found is None:
            continue
        quote, rest = found.groups()
        closed = rest.replace("''", "") if quote == "'" else re.sub(r"\\.", "", rest)
        if quote not in closed:
            return number
    return None


def syntax_hint(exc: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """A YAML syntax error in our words, at the line to fix, with what to type there.

    PyYAML (pure Python or libyaml, whose wordings differ) reports where it gave up, which is
    often the line after the mistake (a missing ``:``, an unclosed quote or bracket): the line
    where the faulty construct began is named instead.
    """
    problem = str(exc.problem or "")
    context = str(exc.context or "")
    mark = exc.problem_mark
    at, began = _line(mark), _line(exc.context_mark)
    lines = text.splitlines()
    here = lines[at - 1] if at is not None and 0 < at <= len(lines) else ""
    column = mark.column if mark is not None else 0
    char = here[column] if 0 <= column < len(here) else ""
    content = here.strip().removeprefix("- ").strip()

    if "mapping values are not allowed" in problem:
        if ": " in here[:column] or here[:column].rstrip().endswith(":"):
            return at, "a value containing ': ' must be written in quotes" + _quoted(here)
        return at, (
            "this key is indented under a value: give it the same indentation as the keys beside it"
        )
    if "could not find expected ':'" in problem:
        return began or at, (
            "this line is neither `key: value` nor `- item`: add ': ' after the key, or join "
            "it to the value above"
        )
    if "cannot start any token" in problem:
        if char == "\t":
            return at, "a tab character: YAML is indented with spaces only; replace the tab"
        shown = f"'{char}'" if char else "this character"
        return at, f"a value cannot begin with {shown}: write the value in quotes" + _quoted(here)
    if "quoted scalar" in context:
        return began or at, (
            "a quote opened on this line is never closed: close it (same quote character) "
            "on the same line, or remove it"
        )
    if "flow sequence" in context or "flow mapping" in context:
        opening, closing = ("[", "]") if "sequence" in context else ("{", "}")
        return began or at, (
            f"a '{opening}' opened on this line is not closed: end it with '{closing}', "
            "and separate its items with ', '"
        )
    opened = _unclosed_quote(lines, at)
    if opened is not None and ("block" in context or "expected" in problem):
        return opened, (
            "a quote opened on this line is closed only further down, which swallows the "
            "lines between: close it on the same line, or remove it"
        )
    if char in "]}" and char:
        return at, f"a closing '{char}' without its opening one: remove it, or add the opening"
    if re.match(r"""^[^"']*:\s*(["']).*\1\s*\S""", content):
        return at, "text after a quoted value: put the whole value inside the quotes"
    if "block collection" in context:
        return at, (
            "a `key: value` line among `- item` lines, or indented differently from them: "
            "start it with '- ' if it is a new item, or indent it like the keys of its item"
        )
    if "block mapping" in context or "block end" in problem or "expected key" in problem:
        return at, (
            "this line is indented differently from the keys around it: give it the same "
            "number of spaces as the key it belongs beside"
        )
    if "end of stream" in problem:
        return began or at, "the file ends in the middle of a value: complete or remove it"
    return at or began, (
        "this line is not valid YAML: compare it with the README's examples (`key: value`, "
        "`- item`, two spaces per level, quotes around a value with ': ' or '#')"
    )


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
    import yaml

    parser = _parser()(text)  # events only: no Python object is ever built from a tag
    next_event = parser.get_event
    # the event classes as locals, and the common case (no anchor, no tag; text that cannot
    # be a number, a boolean or null) decided inline: this loop runs for every key and value
    # of every file a command reads
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    document_start = yaml.DocumentStartEvent
    not_text_start = _NOT_TEXT_START
    try:
        while (event := next_event()) is not None:
            kind = type(event)
            if kind is mapping_end or kind is sequence_end:
                stack.pop()
                continue
            value: Any
            if kind is scalar_event:
                top = stack[-1] if stack else None
                if top is not None and top.key is _NO_KEY and type(top.data) is dict:
                    if event.anchor is not None or event.tag is not None:
                        _refuse(event, display)  # a key: its text as written (``3:`` is "3")
                    top.key, top.key_line = event.value, event.start_mark.line + 1
                    continue
                if event.anchor is None and event.tag is None:
                    value = event.value
                    if event.implicit[0] and (not value or value[0] in not_text_start):
                        value = _plain(value, event.start_mark.line + 1, display)
                else:
                    _refuse(event, display)
                    plain = event.tag == "!" and event.implicit[0]
                    line = event.start_mark.line + 1
                    value = _plain(event.value, line, display) if plain else event.value
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or event.tag is not None:
                    _refuse(event, display)
                value = {} if kind is mapping_start else []
            elif kind is alias_event:
                _refuse(event, display)
                continue
            elif kind is document_start:
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
            if kind is not scalar_event:
                if len(stack) >= MAX_DEPTH:
                    line = event.start_mark.line + 1
                    raise _fail(display, line, f"nested deeper than {MAX_DEPTH} levels")
                stack.append(_Open(value, path_))
    except yaml.MarkedYAMLError as exc:
        line_, hint = syntax_hint(exc, text)
        raise _fail(display, line_, f"YAML syntax error: {hint}") from None
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
    return decode_text(read_file_bytes(path, display), display)


class Snapshot:
    """The bytes of the files a load will read, taken before it (the key of what it gives, in
    :mod:`apptool.store.load_cache`): while it is in force (:func:`reading_from`), the load
    reads these very bytes, and :meth:`consistent` says whether it read all of them and
    nothing else (a file added, removed or saved meanwhile: then what it gives is not kept).
    """

    def __init__(self, files: dict[Path, bytes | None]) -> None:
        self.files = files  # None: absent, or not a regular file the load can read
        self.read: set[Path] = set()
        self.elsewhere = False

    def consistent(self) -> bool:
        return not self.elsewhere and self.read == {
            path for path, data in self.files.items() if data is not None
        }


_SNAPSHOT: ContextVar[Snapshot | None] = ContextVar("snapshot", default=None)


@contextlib.contextmanager
def reading_from(snapshot: Snapshot) -> Iterator[Snapshot]:
    """:func:`read_file_bytes` gives the snapshot's bytes while in this block."""
    token = _SNAPSHOT.set(snapshot)
    try:
        yield snapshot
    finally:
        _SNAPSHOT.reset(token)


def read_file_bytes(path: Path, display: str) -> bytes:
    """A workspace file's bytes: a regular file of at most :data:`MAX_FILE_BYTES`, its size
    checked before reading (or the bytes a :class:`Snapshot` in force took of it)."""
    snapshot = _SNAPSHOT.get()
    if snapshot is not None:
        taken = snapshot.files.get(path)
        if taken is not None:
            snapshot.read.add(path)
            return taken
        snapshot.elsewhere = True  # read from the disk: not what the snapshot holds
    try:  # O_NONBLOCK: a named pipe given as a file does not hang the tool
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _fail(display, None, f"cannot read file: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # before fdopen, which refuses a folder with its own words
        os.close(fd)
        raise _fail(
            display,
            None,
            "a folder, not a file" if stat.S_ISDIR(info.st_mode) else "not a regular file",
        )
    with os.fdopen(fd, "rb") as handle:
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
    return data


def decode_text(data: bytes, display: str) -> str:
    """A file's bytes as text: UTF-8 (a byte order mark is dropped); a byte that is not UTF-8
    is reported with its line."""
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


def _shown(value: Any) -> str:
    """A value as the user wrote it, in a message: ``15/03/2026``, ``[1, 2]``."""
    if isinstance(value, dict):
        return "a mapping of keys"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return f"`{text[:60]}{'…' if len(text) > 60 else ''}`"


def _expected(ctx: dict[str, Any]) -> list[str]:
    """The choices of a literal or enum error, from pydantic's ``'a', 'b' or 'c'``."""
    return re.findall(r"'([^']*)'", str(ctx.get("expected", "")))


#: What each kind of value the models read must look like, in our words (the README's
#: reference uses the same).
_EXPECTED = {
    "date": "a date written YYYY-MM-DD (e.g. 2026-03-15)",
    "time": "a time written HH:MM (e.g. 09:00)",
    "int": "a whole number (e.g. 12)",
    "decimal": "a number (e.g. 150 or 150.50)",
    "float": "a number (e.g. 150 or 150.50)",
    "bool": "true or false",
    "string": "text",
    "list": "a list (one `- item` per line, or [a, b])",
    "tuple": "a list (one `- item` per line, or [a, b])",
    "set": "a list (one `- item` per line, or [a, b])",
    "dict": "a mapping of keys (key: value)",
    "model": "a mapping of keys (key: value)",
    "model_attributes": "a mapping of keys (key: value)",
    "dataclass": "a mapping of keys (key: value)",
}


def error_message(error: Any, known: set[str] | None = None) -> str:
    """A pydantic error in our words: what was expected, and what was written.

    Our own validators' messages (``ValueError`` raised in :mod:`apptool.domain.models`) are
    kept as written; every other kind of error pydantic can raise on a workspace file is
    worded here, so that no library phrase reaches the user (tested by ``test_messages``).
    """
    kind = str(error.get("type", ""))
    ctx: dict[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    got = f", got {_shown(value)}"
    if kind == "extra_forbidden":
        key = error["loc"][-1] if error.get("loc") else ""
        return "unknown key" + did_you_mean(key, known or ())
    if kind == "missing":
        return "missing: this key is required"
    if kind in ("value_error", "assertion_error"):
        inner = ctx.get("error")
        text = str(inner) if inner is not None else str(error.get("msg", ""))
        return text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in ("literal_error", "enum"):
        choices = _expected(ctx)
        hint = did_you_mean(value, choices)
        return f"expected one of {', '.join(choices)}{got}" + (
            hint if hint.startswith(" (did you mean") else ""
        )
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f'expected text, got the number {value}: write it in quotes ("{value}")'
    for prefix, expected in _EXPECTED.items():
        if kind.startswith(prefix + "_") or kind == prefix:
            if kind.endswith(("_too_short", "_too_long")):
                break
            if kind in ("int_from_float", "decimal_max_places", "decimal_max_digits"):
                break
            if kind.startswith("date_from_datetime_inexact"):
                return f"expected a date without a time, e.g. 2026-03-15{got}"
            if kind in ("date_future", "date_past"):
                break
            return f"expected {expected}{got}"
    if kind == "int_from_float":
        return f"expected a whole number{got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = ctx.get("gt", ctx.get("ge", ctx.get("lt", ctx.get("le"))))
        word = {
            "greater_than": "more than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        return f"must be {word} {bound}{got}"
    if kind in ("string_too_short", "too_short"):
        least = ctx.get("min_length", 1)
        if kind == "string_too_short":
            return "must not be empty" if least == 1 else f"needs at least {least} characters"
        return f"needs at least {least} item(s)"
    if kind in ("string_too_long", "too_long"):
        most = ctx.get("max_length")
        unit = "characters" if kind == "string_too_long" else "item(s)"
        return f"at most {most} {unit}{got if kind == 'string_too_long' else ''}"
    if kind == "string_pattern_mismatch":
        return f"not in the expected form{got}"
    if kind in ("decimal_max_places", "decimal_max_digits", "decimal_whole_digits"):
        return f"too many digits (amounts have at most 2 decimals){got}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"not a kind this key accepts{got}"
    return f"invalid value{got}"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (through Optional, list, dict and Annotated), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def keys_at(model: type[BaseModel], loc: Path_) -> set[str] | None:
    """The keys the mapping at ``loc`` accepts (names and aliases), or None if unknown."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field_ = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)), None
        )
        if field_ is None:
            return None
        current = _model_of(field_.annotation)
    if current is None:
        return None
    return {f.alias or name for name, f in current.model_fields.items()}


def _loc(error: Any) -> Path_:
    return tuple(
        part
        for part in error["loc"]
        # pydantic adds the tag of a tagged union and function-validator names to loc
        if not (isinstance(part, str) and ("[" in part or part.startswith("function-")))
    )


def _typos(errors: list[Any]) -> dict[Path_, Path_]:
    """Unknown keys that are a typo of a missing required key of the same mapping:
    ``sesion_duration`` for ``session_duration`` (reported once, as the unknown key)."""
    missing = {_loc(e) for e in errors if e.get("type") == "missing"}
    found: dict[Path_, Path_] = {}
    for error in errors:
        if error.get("type") != "extra_forbidden":
            continue
        loc = _loc(error)
        candidates = [m[-1] for m in missing if m[:-1] == loc[:-1] and isinstance(m[-1], str)]
        close = difflib.get_close_matches(str(loc[-1]), candidates, n=1, cutoff=0.75)
        if close:
            found[loc] = (*loc[:-1], close[0])
    return found


def validation_problems(
    doc: Document, exc: ValidationError, model: type[BaseModel] | None = None
) -> list[Problem]:
    """Translate pydantic errors into problems with the file's line numbers, in our words;
    an unknown key that is a typo of a missing one is one problem: "did you mean"."""
    problems = []
    errors = exc.errors()
    typos = _typos(errors)
    for error in errors:
        loc = _loc(error)
        if error.get("type") == "missing" and loc in typos.values():
            continue  # said by the typo's "did you mean"
        inner = (error.get("ctx") or {}).get("error")
        if isinstance(inner, ControlCharacter):  # where inside the field: an item, a key
            loc = (*loc, *inner.path)
        known = keys_at(model, loc[:-1]) if model is not None and loc else None
        problems.append(doc.problem(loc, error_message(error, known)))
    return sorted(set(problems), key=lambda p: (p.line or 0, p.field, p.message))


class Salvaged(Document):
    """A document whose faulty list items were set aside: a problem found on what remains
    names the line of the item as the file has it (indices are translated back)."""

    def __init__(self, base: Document, kept: dict[Path_, list[int]]) -> None:
        super().__init__(base.path, base.display, base.data, base.lines, base.problems)
        self.kept = kept

    def _original(self, loc: Path_) -> Path_:
        for k, part in enumerate(loc):
            if isinstance(part, int):
                kept = self.kept.get(loc[:k])
                if kept is not None and 0 <= part < len(kept):
                    return (*loc[:k], kept[part], *loc[k + 1 :])
                break
        return loc

    def line_of(self, loc: Path_) -> int | None:
        return super().line_of(self._original(loc))

    def problem(self, loc: Path_, message: str) -> Problem:
        return super().problem(self._original(loc), message)


def _node(data: Any, path: Path_) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


#: Values tried in place of a wrong required value, so that the other rules of the file
#: still run (each kind of field takes the first that its model accepts).
PLACEHOLDERS: tuple[Any, ...] = (
    0,
    1,
    30,
    365,
    Decimal("1"),
    "2000-01-01",
    "2099-12-31",
    "1h",
    "x",
    True,
    False,
)


def _required(model: type[BaseModel], loc: Path_) -> bool:
    """Whether the key at ``loc`` (no list index in it) is one its mapping requires."""
    current: type[BaseModel] | None = model
    for k, part in enumerate(loc):
        if current is None or not isinstance(part, str):
            return False
        found = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)), None
        )
        if found is None:
            return False
        if k == len(loc) - 1:
            return found.is_required()
        current = _model_of(found.annotation)
    return False


def salvage(
    doc: Document, model: type[M], variant: int = 0
) -> tuple[M | None, Salvaged, set[str], set[Path_]]:
    """What loaded of a document that failed validation, so that the rules across its
    fields still run in the same pass: each faulty item of a list is set aside, a faulty
    optional key left out, a typo of a required key read as the key it misspells, and a
    wrong required value replaced by a placeholder (:data:`PLACEHOLDERS`; ``variant`` 1
    takes the second one the field accepts, see :func:`rules_on_what_loaded`).

    Returns the model (None when nothing sensible stands in for a wrong value), the
    document that places problems on the original lines, the ids of the items set aside (a
    rule naming one of them would report a false problem), and the keys held by a
    placeholder.
    """
    data = copy.deepcopy(doc.data)
    kept: dict[Path_, list[int]] = {}
    dropped: set[str] = set()
    held: dict[Path_, list[int]] = {}  # key -> [candidate index, accepted ones passed]
    salvaged = Salvaged(doc, kept)

    def place(loc: Path_) -> bool:
        """Put the next placeholder at ``loc``; False when none is left."""
        state = held.setdefault(loc, [-1, 0])
        state[0] += 1
        parent = _node(data, loc[:-1])
        if state[0] >= len(PLACEHOLDERS) or not isinstance(parent, dict):
            return False
        parent[loc[-1]] = PLACEHOLDERS[state[0]]
        return True

    for _ in range(64):
        try:
            result = model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
        else:
            pending = [loc for loc, state in held.items() if state[1] < variant]
            if not pending:
                return result, salvaged, dropped, set(held)
            for loc in pending:  # accepted: pass it, to reach the variant asked for
                held[loc][1] += 1
                if not place(loc):
                    return None, salvaged, dropped, set(held)
            continue
        faulty = {_loc(e) for e in errors}
        for loc, state in held.items():
            if loc not in faulty and state[1] < variant:
                state[1] += 1  # this one was accepted: pass it
                if not place(loc):
                    return None, salvaged, dropped, set(held)
        typos = _typos(errors)
        for wrong, right in typos.items():
            parent = _node(data, wrong[:-1])
            if isinstance(parent, dict) and wrong[-1] in parent:
                parent[right[-1]] = parent.pop(wrong[-1])
        removals: dict[Path_, set[int]] = {}
        deletions: set[Path_] = set()
        for error in errors:
            loc = _loc(error)
            if loc in typos or loc in typos.values():
                continue
            if error.get("type") in ("literal_error", "enum") and loc and loc not in held:
                choices = _expected(error.get("ctx") or {})
                close = difflib.get_close_matches(str(error.get("input")), choices, 1, 0.6)
                parent = _node(data, loc[:-1])
                key = loc[-1]
                fixed = False
                if close and isinstance(parent, dict):
                    parent[key] = close[0]  # `montly`: read as the `monthly` it misspells
                    fixed = True
                elif close and isinstance(parent, list) and isinstance(key, int):
                    parent[key] = close[0]
                    fixed = True
                if fixed:
                    typos[loc] = loc
                    continue
            first = next((k for k, part in enumerate(loc) if isinstance(part, int)), None)
            if first is not None:
                index = loc[first]
                assert isinstance(index, int)
                removals.setdefault(loc[:first], set()).add(index)
            elif error.get("type") == "missing" or not loc:
                return None, salvaged, dropped, set(held)  # nothing stands in for it
            elif loc in held or _required(model, loc):
                if not place(loc):
                    return None, salvaged, dropped, set(held)
                typos[loc] = loc
            else:
                deletions.add(loc)
        if not (typos or removals or deletions):
            return None, salvaged, dropped, set(held)
        for path, indices in removals.items():
            items = _node(data, path)
            if not isinstance(items, list):
                return None, salvaged, dropped, set(held)
            order = kept.setdefault(path, list(range(len(items))))
            for index in sorted(indices, reverse=True):
                if 0 <= index < len(items):
                    item = items.pop(index)
                    del order[index]
                    if isinstance(item, dict) and isinstance(item.get("id"), str):
                        dropped.add(item["id"])
        for loc in deletions:
            parent = _node(data, loc[:-1])
            if isinstance(parent, dict):
                parent.pop(loc[-1], None)
    return None, salvaged, dropped, set(held)


def rules_on_what_loaded(
    doc: Document,
    model: type[M],
    found: list[Problem],
    rules: Callable[[M, Document], list[Problem]],
) -> list[Problem]:
    """The problems ``rules`` find on what loaded of a document that failed validation,
    besides those already ``found``: all the problems of a file come in one run.

    Where a placeholder stands in for a wrong required value, the rules run twice, with two
    different placeholders, and only the problems found both times (and not on that key)
    are kept: a problem that depends on the placeholder is never reported.
    """
    loaded, salvaged, dropped, held = salvage(doc, model)
    if loaded is None:
        return []
    problems = salvaged_problems(found, rules(loaded, salvaged), dropped)
    if not held:
        return problems
    other, other_doc, _, _ = salvage(doc, model, variant=1)
    if other is None:
        return []
    again = {(p.line, p.field, p.message) for p in rules(other, other_doc)}
    fields = {field_name(loc) for loc in held}
    return [
        p
        for p in problems
        if (p.line, p.field, p.message) in again
        and not any(p.field == f or p.field.startswith((f + ".", f + "[")) for f in fields)
    ]


def salvaged_problems(
    found: list[Problem], rule_problems: list[Problem], dropped: set[str]
) -> list[Problem]:
    """The problems the rules found on what loaded, besides those already reported (the
    same line and field) and those about an item set aside."""
    seen = {(p.line, p.field) for p in found}
    return [
        p
        for p in rule_problems
        if (p.line, p.field) not in seen and not any(f"'{i}'" in p.message for i in dropped)
    ]


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
            [*doc.problems, *validation_problems(doc, exc, model)],
            key=lambda p: (p.line or 0, p.field, p.message),
        )
    return (None, list(doc.problems)) if doc.problems else (result, [])
