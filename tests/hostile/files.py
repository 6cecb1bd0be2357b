"""Hostile rule files a policy officer could upload (issue 10): each must be refused, none may hurt
the running service. Built as text, so what is uploaded is exactly what is described."""

from __future__ import annotations

OPS = ("==", "!=", "<", "<=", ">", ">=")


def _rule_file(stage: str, conditions: list[str]) -> str:
    rules = "".join(
        f"  - id: hostile.{i}\n    reference: test\n    when: {cond}\n    then: {{reason: Rule {i}}}\n"
        for i, cond in enumerate(conditions)
    )
    return f"name: hostile\nstage: {stage}\neffective_from: 2030-01-01\nreference: test\nrules:\n{rules}"


def equality_tests_on_one_field(count: int) -> str:
    return _rule_file("assess", [f"age_years == {i}" for i in range(count)])


def every_operator() -> str:
    """Every comparison operator on one field, 20 rules each: past what the engine runs at once."""
    return _rule_file("assess", [f"age_years {op} {i}" for op in OPS for i in range(20)])


def capital_rules(count: int = 70) -> str:
    """Rules that all hold for a wealthy person: the engine fails with error 303 at evaluation."""
    return _rule_file("charge", [f"capital > {i * 1000}" for i in range(count)])


def alias_bomb() -> str:
    """Nine levels of nine aliases: 574 bytes of YAML that expand to 9**9 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    return "# " + "x" * (574 - len(text) - 3) + "\n" + text


def huge(megabytes: int = 50) -> str:
    line = "# " + "x" * 97 + "\n"
    return "name: huge\n" + line * (megabytes * 10_000)
