"""Reading rule and parameter files as YAML while keeping the line of every mapping, for errors.

Files come from policy officers' uploads, so reading one must stay cheap whatever it holds: a file
is refused above MAX_YAML_BYTES, and above MAX_ALIASES aliases (`*name`). Aliases are shared, not
copied, when read, but everything after (hashing, JSON, the engine) walks them out in full: a
574-byte file of nested aliases is a billion-element document (the "billion laughs").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LINE_KEY = "__line__"
MAX_YAML_BYTES = 1_000_000  # the largest shipped file is 17 kB
MAX_ALIASES = 20  # the shipped files use at most 4, for repeated test inputs


class RuleFileError(ValueError):
    """A rule, parameter or rule-test file that does not parse or validate: file, line, reason."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {reason}")

    def to_json(self) -> dict[str, Any]:
        return {"error": "invalid rule file", "file": self.path, "line": self.line, "reason": self.reason}


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the 1-based line of each mapping under LINE_KEY."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay strings: the loaders parse them with their own messages.
_LineLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _too_big(size: int) -> str:
    return f"is {size:,} bytes; a rule, parameter or test file may be at most {MAX_YAML_BYTES:,} bytes"


def load_yaml(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise RuleFileError(path, None, _too_big(size))
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(path, None, f"cannot be read: {exc}") from exc
    return parse_yaml(text, path)


def _count_aliases(text: str, path: Path | str) -> None:
    aliases = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise RuleFileError(path, line, (
                    f"more than {MAX_ALIASES} YAML aliases (*name); write the values out instead"))


def parse_yaml(text: str, path: Path | str) -> Any:
    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        raise RuleFileError(path, None, _too_big(size))
    try:
        _count_aliases(text, path)
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise RuleFileError(path, line, f"not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise RuleFileError(path, None, f"not valid YAML: {exc}") from exc


def strip_lines(value: Any) -> Any:
    """The same data without the line markers (what is hashed and stored)."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def line_of(value: Any, default: int | None = None) -> int | None:
    return value.get(LINE_KEY, default) if isinstance(value, dict) else default
