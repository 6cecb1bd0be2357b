"""The rule files in force in a running process, reloaded when a file changes, without restart.

A change is checked as a whole snapshot: if any file fails to parse or validate it is refused
with file, line and reason, and the previous snapshot stays in force.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from datetime import date
from functools import lru_cache
from pathlib import Path

from carebudget.rulebook.bundle import Bundle
from carebudget.rulebook.library import Library, load_library, rule_file_paths
from carebudget.rulebook.yamlsource import RuleFileError

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(root: Path) -> Fingerprint:
    entries = []
    for path in rule_file_paths(root):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


class Registry:
    def __init__(self, root: Path, poll_seconds: float = 0.2) -> None:
        self.root = Path(root)
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._fingerprint: Fingerprint = ()
        self._library: Library | None = None
        self._bundles: dict[tuple[str, date], Bundle] = {}
        # Every bundle handed out recently, by hash, kept across reloads: a decision's record may
        # be written after the rule files changed, and must still store the content it was made under.
        self._known: OrderedDict[str, Bundle] = OrderedDict()
        self.refused: RuleFileError | None = None
        self.refresh(force=True)

    @property
    def library(self) -> Library:
        self.refresh()
        assert self._library is not None
        return self._library

    def refresh(self, force: bool = False) -> bool:
        """Reload if any rule file changed; True when a new snapshot came into force."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.poll_seconds:
            return False
        with self._lock:
            self._checked_at = now
            current = fingerprint(self.root)
            if current == self._fingerprint and self._library is not None:
                return False
            try:
                library = load_library(self.root)
            except RuleFileError as exc:
                self._fingerprint = current  # do not re-read the same broken files every call
                self.refused = exc
                log.error("rule change refused, previous rules stay in force: %s", exc)
                if self._library is None:
                    raise
                return False
            self._library = library
            self._fingerprint = current
            self._bundles = {}
            self.refused = None
            return True

    def bundle(self, council: str, on: date) -> Bundle:
        library = self.library
        key = (council, on)
        bundle = self._bundles.get(key)
        if bundle is None:
            bundle = library.bundle(council, on)
            if len(self._bundles) > 4096:
                self._bundles.clear()
            self._bundles[key] = bundle
            self._known[bundle.hash] = bundle
            self._known.move_to_end(bundle.hash)
            while len(self._known) > 256:
                self._known.popitem(last=False)
        return bundle

    def known_bundle(self, bundle_hash: str) -> Bundle | None:
        """A bundle this process decided under recently (even if the files have since changed)."""
        return self._known.get(bundle_hash)


@lru_cache(maxsize=8)
def _registry_for(root: str) -> Registry:
    return Registry(Path(root))


_default: Registry | None = None


def get_registry(root: Path | None = None) -> Registry:
    """The registry for `root`, or for the configured rules folder (CAREBUDGET_RULES_DIR)."""
    global _default
    if root is not None:
        return _registry_for(str(Path(root).resolve()))
    if _default is None:
        from carebudget.settings import get_settings

        _default = _registry_for(str(Path(get_settings().rules_dir).resolve()))
    return _default
