"""The decision core: eligibility, charging, indicative budget and counter-proposal, as pure
functions of the facts and a bundle (the caller chooses the bundle: carebudget.policy.decide).

Names are resolved lazily so that importing the package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DecisionError", "decide_with_bundle", "parse_input"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib

        module = importlib.import_module("carebudget.decisions.contract")

        return getattr(module, name)
    raise AttributeError(name)
