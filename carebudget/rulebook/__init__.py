"""Council policy as versioned rule files: loading, dated bundles, hot reload, the engine adapter."""

from carebudget.rulebook.bundle import Bundle, bundle_from_content
from carebudget.rulebook.library import UnknownCouncil
from carebudget.rulebook.parameters import MissingParameter
from carebudget.rulebook.policy import CouncilPolicy, council_policy
from carebudget.rulebook.registry import Registry, get_registry
from carebudget.rulebook.yamlsource import RuleFileError

__all__ = [
    "Bundle",
    "CouncilPolicy",
    "MissingParameter",
    "Registry",
    "RuleFileError",
    "UnknownCouncil",
    "bundle_from_content",
    "council_policy",
    "get_registry",
]
