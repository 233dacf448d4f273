"""Open registries: a name -> object table filled by a decorator in any module, or by an installed
package's entry point.

Probes, model families and report figures are each one ``Registry``. Entry points are read only when a
name is not found or everything is listed, so start-up stays cheap and an installed package's extension
works without being imported anywhere. A name is registered once: a second, different registration is an
error naming both (re-running the same code, e.g. a ``conftest.py`` imported again, replaces its own).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def origin(obj: object) -> str:
    """Where an object was defined (``module.qualname``): what a duplicate registration is named by."""
    target = getattr(obj, "origin_of", obj)  # a wrapper (e.g. a probe implementation) names what it wraps
    return (
        f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(target).__qualname__)}"
    )


class Registry(Generic[T]):
    """Named extensions of one kind.

    ``builtins``: modules whose import registers the built-in entries (imported on first use);
    ``adapt``: turns an entry point's loaded object into an entry when importing it registered nothing.
    """

    def __init__(
        self,
        kind: str,
        group: str,
        builtins: tuple[str, ...] = (),
        adapt: Callable[[str, Any], T] | None = None,
    ) -> None:
        self.kind = kind
        self.group = group
        self._builtins = builtins
        self._adapt = adapt
        self._entries: dict[str, T] = {}
        self._loaded_builtins = False
        self._loading = False
        self._scanned_entry_points = False

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name``; a different entry already there is an error naming both."""
        if not name or name != name.strip():
            raise ValueError(f"{self.kind} name {name!r}: empty or padded with spaces")
        present = self._entries.get(name)
        if present is not None and present is not entry and origin(present) != origin(entry):
            raise ValueError(
                f"{self.kind} {name!r} is already registered (by {origin(present)}); "
                f"{origin(entry)} cannot register it again"
            )
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> T | None:
        """Remove ``name`` (tests, and a plugin withdrawing its entry); returns what was there."""
        return self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """The entry ``name``: built-ins and decorator registrations first, then entry points."""
        self._load_builtins()
        if name not in self._entries:
            self._load_entry_points(only=name)
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r}; known: {', '.join(self.names()) or 'none'}"
            ) from None

    def names(self) -> list[str]:
        """Every name, entry points included, in registration order."""
        self._load_builtins()
        self._load_entry_points()
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        self.names()
        return list(self._entries.items())

    def __contains__(self, name: object) -> bool:
        self._load_builtins()
        return name in self._entries

    def _load_builtins(self) -> None:
        if self._loaded_builtins or self._loading:
            return
        self._loading = True  # a built-in module that registers through this registry re-enters here
        try:
            for module in self._builtins:
                importlib.import_module(module)
        finally:
            self._loading = False
        self._loaded_builtins = True

    def _load_entry_points(self, only: str | None = None) -> None:
        if self._scanned_entry_points:
            return
        from importlib import metadata  # not at import: the CLI's start-up reads no package metadata

        for ep in metadata.entry_points(group=self.group):
            if (only is not None and ep.name != only) or ep.name in self._entries:
                continue
            try:
                loaded = ep.load()
            except Exception as exc:
                raise ValueError(
                    f"{self.kind} {ep.name!r}: entry point {ep.value!r} ({self.group}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if ep.name in self._entries:  # importing its module registered it (a decorator)
                continue
            if isinstance(loaded, ModuleType) or self._adapt is None:
                raise ValueError(
                    f"{self.kind} {ep.name!r}: entry point {ep.value!r} ({self.group}) registered "
                    f"nothing under that name"
                )
            self.register(ep.name, self._adapt(ep.name, loaded))
        if only is None:
            self._scanned_entry_points = True
