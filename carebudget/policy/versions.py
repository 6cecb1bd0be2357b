"""The published versions in the store as the rulebook's version source, and the registry that
layers them over the shipped rules for one service (web or worker) process."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from carebudget.rulebook.registry import Registry, get_registry


class StoreVersions:
    """Reads the newest published version of every council file from the store."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.key = str(store.url)

    def token(self) -> int:
        try:
            return int(self.store.latest_policy_seq())
        except Exception:  # noqa: BLE001 - a store not yet migrated has no versions
            return 0

    def files(self) -> list[tuple[str, str, str]]:
        if self.token() == 0:
            return []
        return list(self.store.policy_files_in_force())


def registry_for(rules_dir: Path | str, store: Any | None) -> Registry:
    """The rules in force for this process: the shipped folder, with the store's versions."""
    return get_registry(Path(rules_dir), StoreVersions(store) if store is not None else None)


def export_zip(registry: Registry, council: str | None = None) -> bytes:
    """Every effective rule file (shipped, with published versions applied) as a zip archive."""
    root = registry.effective_root
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*.yaml")):
            relative = path.relative_to(root)
            wanted = relative.parts[0] == "england" or relative.parts[:2] == ("councils", council)
            if council is not None and not wanted:
                continue
            archive.writestr(str(Path("rules") / relative), path.read_text(encoding="utf-8"))
    return buffer.getvalue()


class VersionNotFound(LookupError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def compare_versions(store: Any, first: int, second: int) -> dict[str, Any]:
    """What changed between the bundles two published versions produced (any two, either order):
    amounts before and after, and each rule's condition and effect before and after."""
    from carebudget.rulebook.bundle import bundle_from_content
    from carebudget.rulebook.diff import diff_two

    found = {v["seq"]: v for v in store.list_policy_versions()}
    for name, seq in (("from", first), ("to", second)):
        if seq not in found:
            raise VersionNotFound(f"no published policy version {seq}", name)
    a, b = found[first], found[second]
    if a["council"] != b["council"]:
        raise VersionNotFound(
            f"version {first} is for {a['council']} and version {second} for {b['council']}: "
            "compare two versions of the same council", "to")
    bundles = []
    for version in (a, b):
        content = store.get_bundle(version["bundle"]).content
        bundles.append(bundle_from_content(content, date.fromisoformat(version["effective_from"])))
    result = diff_two(bundles[0], bundles[1], a["council"],
                      f"version {first} (from {a['effective_from']})", f"version {second} (from {b['effective_from']})")
    result["versions"] = [{k: v for k, v in version.items() if k != "checks"} for version in (a, b)]
    return result
