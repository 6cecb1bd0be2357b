"""Form and request validation with pydantic, turned into plain-language messages per field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

# What each pattern on our models allows, in words (pydantic would show the regex itself).
PATTERN_WORDS = {
    r"^[a-z0-9][a-z0-9._-]*$": "Use lower-case letters, digits, dots, - and _, starting with a letter or digit",
    r"^[a-z0-9_-]+$": "Use lower-case letters, digits, - and _ only",
    r"^[a-z0-9_-]{1,40}$": "Use up to 40 lower-case letters, digits, - and _",
    r"^[A-Za-z0-9_.:-]+$": "Use letters, digits, dots, colons, - and _ only, as in C-20260101-1a2b3c4d",
    r"^[a-z_]+$": "Use lower-case letters and _ only",
    r"^[0-9a-f]{12}$": "Use the 12-character reference shown on the change",
}


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
    if kind in ("int_parsing", "int_from_float"):
        return "Enter a whole number, like 3"
    if kind in ("decimal_parsing", "float_parsing", "decimal_type"):
        return "Enter a number, like 125.50"
    if kind.startswith("date") or kind == "date_from_datetime_parsing":
        return "Enter a real date, like 2025-04-01"
    if kind == "enum" or kind == "literal_error":
        return msg.replace("Input should be", "Choose")
    ctx = error.get("ctx") or {}
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "Enter a value: this is required" if least == 1 else f"Enter at least {least} characters"
    if kind == "string_too_long":
        return f"Use at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":  # the pattern itself is for programmers, never shown
        return PATTERN_WORDS.get(str(ctx.get("pattern", "")), "Use only letters, digits, dots, - and _")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {"greater_than": "more than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        bound = next(iter(ctx.values()), "")
        return f"Enter a number {words} {bound}"
    if kind in ("bool_parsing", "bool_type"):
        return "Answer yes or no"
    if kind in ("string_type", "dict_type", "list_type", "model_type", "model_attributes_type"):
        return "This is not the kind of answer expected here; check it"
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
