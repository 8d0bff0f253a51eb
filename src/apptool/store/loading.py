"""YAML with line marks -> strict pydantic models, collecting every problem with file:line.

The YAML dialect is YAML 1.1 as PyYAML reads it, with three changes that avoid classic traps
for people who edit files by hand:

* ``09:00`` stays the string ``"09:00"`` (YAML 1.1 would read the number 540);
* dates stay strings, so an impossible date (``2025-02-30``) is reported by the model with
  its line instead of crashing the parser;
* decimal numbers are read as :class:`~decimal.Decimal`, never as float (money is exact).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from apptool.domain.source import Document
from apptool.errors import InvalidInput, Path_, Problem, field_name

M = TypeVar("M", bound=BaseModel)


_SafeBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _Loader(_SafeBase):  # type: ignore[misc]
    """SafeLoader without sexagesimal numbers and implicit timestamps; floats are Decimal."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]+([eE][-+]?[0-9]+)?$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    value = loader.construct_scalar(node)  # type: ignore[arg-type]
    return Decimal(str(value).replace("_", ""))


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _mark_lines(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], duplicates: list[tuple[Path_, int, int]]
) -> None:
    """Record the line of every key and item; a key given twice in a mapping goes to
    ``duplicates`` as (path, line, first line): YAML would silently keep the last value."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in first_lines and key != "<<":
                duplicates.append((child, line, first_lines[key]))
            first_lines.setdefault(key, line)
            lines[child] = line
            _mark_lines(value_node, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _mark_lines(item, (*path, index), lines, duplicates)


def parse_yaml(text: str, path: Path, display: str) -> Document:
    """Parse YAML text, keeping the line of every key; a syntax error is an InvalidInput."""
    loader = _Loader(text)  # a safe loader: no Python object is ever built from a tag
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"YAML syntax error: {exc.problem or exc.context}"
        raise InvalidInput(message, [Problem(display, line, "", message)]) from None
    except (yaml.YAMLError, ValueError) as exc:
        message = f"YAML error: {exc}"
        raise InvalidInput(message, [Problem(display, None, "", message)]) from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    duplicates: list[tuple[Path_, int, int]] = []
    if node is not None:
        _mark_lines(node, (), lines, duplicates)
    problems = [
        Problem(display, line, field_name(loc), f"key given twice (first at line {first})")
        for loc, line, first in duplicates
    ]
    return Document(path, display, data, lines, problems)


def read_yaml(path: Path, display: str) -> Document:
    """Read and parse a YAML file; unreadable files are reported, not raised raw."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        message = f"cannot read file: {exc}"
        raise InvalidInput(message, [Problem(display, None, "", message)]) from None
    return parse_yaml(text, path, display)


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
