"""Reading an uploaded YAML file stays cheap: size and aliases are bounded, with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from carebudget.rulebook.yamlsource import MAX_YAML_BYTES, RuleFileError, load_yaml, parse_yaml
from carebudget.settings import REPO_ROOT
from tests.hostile.files import alias_bomb


def test_a_574_byte_alias_bomb_is_refused_naming_the_file_and_line() -> None:
    with pytest.raises(RuleFileError) as caught:
        parse_yaml(alias_bomb(), "councils/demo/bomb.yaml")
    assert caught.value.path == "councils/demo/bomb.yaml"
    assert caught.value.line is not None
    assert "more than 20 YAML aliases" in caught.value.reason


def test_a_file_above_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("w") as out:
        out.truncate(MAX_YAML_BYTES + 1)
    with pytest.raises(RuleFileError, match=r"big.yaml: is 1,000,001 bytes; .* at most 1,000,000"):
        load_yaml(big)


def test_every_shipped_rule_file_is_within_the_bounds() -> None:
    for path in (REPO_ROOT / "rules").rglob("*.yaml"):
        load_yaml(path)
