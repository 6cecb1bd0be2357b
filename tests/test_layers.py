"""One direction through the core (issue 10 point 5): the law's vocabulary at the bottom, the
rulebook (files to bundles, the engine) above it, the pure decision core above that, the policy
package above both, and the durable shell (workflows) kept away from the engine, store and web.

Every import is counted, at module level and inside functions, so a lazy import cannot hide a
wrong turn. The check fails the build when a layer reaches where it must not."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package (folder) -> modules it must never import (prefix match on the dotted name)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "carebudget/law.py": ("carebudget.",),
    "carebudget/rulebook": ("carebudget.decisions", "carebudget.policy", "carebudget.store",
                            "carebudget.web", "carebudget.service", "temporalio"),
    "carebudget/decisions": ("carebudget.store", "carebudget.web", "carebudget.service",
                             "carebudget.settings", "carebudget.policy", "carebudget.rulebook.registry",
                             "temporalio"),
    "workflows": ("carebudget.rulebook.engine", "durable", "durable_rules_engine", "carebudget.store",
                  "carebudget.web", "carebudget.service", "carebudget.policy"),
}


def imports_of(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _files(where: str) -> list[Path]:
    target = ROOT / where
    return [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_each_layer_imports_only_downwards(layer: str) -> None:
    wrong = []
    for path in _files(layer):
        for line, name in imports_of(path):
            if any(name == bad.rstrip(".") or name.startswith(bad if bad.endswith(".") else bad + ".")
                   or name == bad for bad in FORBIDDEN[layer]):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "imports against the layering:\n" + "\n".join(sorted(set(wrong)))


def test_the_check_itself_catches_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from carebudget.decisions.contract import decide_with_bundle\n")
    assert (2, "carebudget.decisions.contract") in imports_of(module)
