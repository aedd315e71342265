"""Structuring TOML tables into frozen attrs classes, collecting every problem.

Unlike a plain ``cattrs`` call this checks types strictly (``"20"`` is not a
float, ``5.7`` is not an int, ``true`` is not a number), gives each validator
failure the path of its field, suggests the closest key for a typo, and returns
all problems instead of stopping at the first.
"""

from __future__ import annotations

import collections.abc
import difflib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

import attrs
import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError

from scopeweave.errors import Problem

__all__ = ["describe_type", "structure_table"]

T = TypeVar("T")


def _strict_float(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r} ({type(value).__name__})")
    return float(value)


def _strict_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r} ({type(value).__name__})")
    return value


def _strict_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r} ({type(value).__name__})")
    return value


def _strict_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r} ({type(value).__name__})")
    return value


def _path(value: Any, _: type) -> Path:
    return Path(_strict_str(value, str))


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(float, _strict_float)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(Path, _path)
    return converter


CONVERTER = _make_converter()


def describe_type(tp: Any) -> str:
    """A short, user-facing name for a type annotation."""
    if tp in (float, int, str, bool):
        return {float: "number", int: "integer", str: "string", bool: "boolean"}[tp]
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _format(exc: BaseException, tp: Any) -> str:
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown keys: {', '.join(sorted(exc.extra_fields))}"
    if isinstance(exc, (TypeError, ValueError)):
        message = str(exc)
        if tp is not None and "expected" not in message:
            message = f"expected {describe_type(tp)}: {message}"
        return message
    return f"{type(exc).__name__}: {exc}"


def _attrs_element_type(tp: Any) -> Any:
    """The element class of ``tuple[C, ...]``, ``list[C]`` or ``Sequence[C]`` when ``C`` is an attrs class."""
    args = typing.get_args(tp)
    homogeneous = len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis)
    if typing.get_origin(tp) in (tuple, list, collections.abc.Sequence) and homogeneous and attrs.has(args[0]):
        return args[0]
    return None


def _structure_value(value: Any, tp: Any, path: str) -> tuple[Any, list[Problem]]:
    # Nested parameter tables recurse, so a validator failure points at its own field.
    if isinstance(tp, type) and attrs.has(tp):
        return structure_table(value, tp, path)
    element = _attrs_element_type(tp)
    if element is not None and isinstance(value, list):
        items, problems = [], []
        for index, item in enumerate(value):
            built, found = structure_table(item, element, f"{path}[{index}]")
            items.append(built)
            problems += found
        container = list if typing.get_origin(tp) is list else tuple
        return (None, problems) if problems else (container(items), [])
    try:
        return CONVERTER.structure(value, tp), []
    except (ClassValidationError, IterableValidationError) as exc:
        messages = cattrs.transform_error(exc, path=path, format_exception=_format)
        return None, [Problem(*message.rsplit(" @ ", 1)[::-1]) for message in messages]
    except (TypeError, ValueError) as exc:
        return None, [Problem(path, _format(exc, tp))]
    except Exception as exc:  # noqa: BLE001 - cattrs raises several kinds for unions and literals
        return None, [Problem(path, f"expected {describe_type(tp)}, got {value!r}: {exc}")]


def structure_table(data: Any, cls: type[T], path: str) -> tuple[T | None, list[Problem]]:
    """Structure ``data`` into the attrs class ``cls``.

    Returns the instance (or ``None`` when there were problems) and the list of
    problems, each with a ``$.``-style path rooted at ``path``.
    """
    if not isinstance(data, Mapping):
        return None, [Problem(path, f"expected a table, got {data!r} ({type(data).__name__})")]
    attrs.resolve_types(cast(Any, cls))
    fields = {f.alias or f.name: f for f in attrs.fields(cast(Any, cls)) if f.init}
    problems: list[Problem] = []
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            allowed = ", ".join(fields) or "none"
            problems.append(Problem(f"{path}.{key}", f"unknown key (allowed: {allowed}){hint}"))
    kwargs: dict[str, Any] = {}
    for key, field in fields.items():
        field_path = f"{path}.{key}"
        if key not in data:
            if field.default is attrs.NOTHING:
                problems.append(Problem(field_path, f"required key missing ({describe_type(field.type)})"))
            continue
        value, found = _structure_value(data[key], field.type, field_path)
        if found:
            problems.extend(found)
            continue
        if field.validator is not None:
            try:
                field.validator(None, field, value)
            except (TypeError, ValueError) as exc:
                problems.append(Problem(field_path, str(exc)))
                continue
        kwargs[key] = value
    if problems:
        return None, problems
    try:
        return cls(**kwargs), []
    except (TypeError, ValueError) as exc:
        return None, [Problem(path, str(exc))]


def field_type_at(cls: type, key: str) -> Any:
    """The annotation of field ``key`` of attrs class ``cls`` (``None`` if unknown)."""
    attrs.resolve_types(cls)
    for field in attrs.fields(cls):
        if (field.alias or field.name) == key:
            return field.type
    return None
