"""The decision core: eligibility, charging, indicative budget and counter-proposal, as pure functions.

Imported lazily so that the rulebook (which reads the input vocabulary) and this package can
import each other's models without a cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DecisionError", "decide", "decide_with_bundle", "parse_input"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib

        module = importlib.import_module("carebudget.decisions.contract")

        return getattr(module, name)
    raise AttributeError(name)
