"""Form and request validation with pydantic, turned into plain-language messages per field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def field_path(loc: tuple[Any, ...]) -> str:
    """`person.setting`, not `body.person.setting`: where the value came from is not the user's concern."""
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    return ".".join(str(p) for p in loc if not str(p).startswith("function-"))


def plain_message(error: dict[str, Any]) -> str:
    """Pydantic's message in words a non-programmer can act on."""
    kind, msg = error.get("type", ""), str(error.get("msg", ""))
    if kind == "missing":
        return "Enter a value: this is required"
    if kind == "extra_forbidden":
        return "This field is not expected here; remove it"
    if kind in ("decimal_parsing", "float_parsing", "int_parsing", "decimal_type"):
        return "Enter a number, like 125.50"
    if kind.startswith("date") or kind == "date_from_datetime_parsing":
        return "Enter a real date, like 2025-04-01"
    if kind == "enum" or kind == "literal_error":
        return msg.replace("Input should be", "Choose")
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    return msg[0].upper() + msg[1:] if msg else "Check this value"


def errors_by_field(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.errors():
        out.setdefault(field_path(error["loc"]) or "form", plain_message(dict(error)))
    return out


def parse(model: type[M], data: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """(model, {}) when valid, (None, {field: message}) when not."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, errors_by_field(exc)


def blank_to_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}


def field_id(name: str) -> str:
    return "f-" + "".join(c if c.isalnum() else "-" for c in name)
