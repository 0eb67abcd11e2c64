"""Typer's Rich help without the Markdown and traceback renderers it imports and never uses here.

Typer formats help with ``typer.rich_utils``, which imports ``rich.markdown``
(and with it ``markdown_it``) and ``rich.traceback`` (and ``pygments``) when it
is loaded: about 80 ms of CPU, a third of what ``asyncmcp --help`` may cost.
The CLI uses neither: its help is in Rich markup (``rich_markup_mode="rich"``:
Markdown is rendered only in ``"markdown"`` mode) and Typer's pretty
tracebacks are off. No Typer setting skips those imports short of dropping
Rich help altogether (``rich_markup_mode=None``: plain Click help).

`install` therefore has ``typer.rich_utils`` loaded with stand-ins for
``Markdown`` and ``Traceback`` that import the real class the first time one
is used, so the help looks exactly as before and nothing breaks should Typer
ever use them. Only that module sees the stand-ins: ``rich.markdown`` and
``rich.traceback`` stay importable as usual. If a Typer release moves things,
the finder steps aside and Typer loads as shipped (the test of what ``--help``
imports then says so); so does a release that needs more of those modules while
loading: it is loaded again with the real ones.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

_TARGET = "typer.rich_utils"
_DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}
"""The modules ``typer.rich_utils`` imports but does not need to show help, and the class it takes from each."""
_PLACEHOLDER = "__asyncmcp_placeholder__"
"""Marks the stand-in modules, which exist in `sys.modules` only while ``typer.rich_utils`` loads."""


class _ImportedOnUse(type):
    """The metaclass of a stand-in: calling it, or reading an attribute, imports and uses the real class."""

    _module: str
    _name: str

    def _real(cls) -> Any:
        module = importlib.import_module(cls._module)
        if getattr(module, _PLACEHOLDER, False):  # used while its own module is still a placeholder
            raise ImportError(f"{cls._module}.{cls._name} is needed while typer.rich_utils loads")
        return getattr(module, cls._name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(cls._real(), attribute)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls._real())


def _stand_in(module: str, name: str) -> type:
    return _ImportedOnUse(name, (), {"_module": module, "_name": name, "__module__": module})


class _Loader(importlib.abc.Loader):
    """Runs the real loader of ``typer.rich_utils`` with the stand-in modules in `sys.modules`."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.real.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        try:
            with _stand_ins():
                self.real.exec_module(module)
        except Exception:  # a Typer release that needs more of them while loading: load it as shipped
            self.real.exec_module(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_code...: what tracebacks and inspect ask
        return getattr(self.real, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TARGET or any(name in sys.modules for name in _DEFERRED):
            return None  # not ours, or the real modules are loaded already: nothing to save
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _Loader(spec.loader)
        return spec


@contextmanager
def _stand_ins() -> Iterator[None]:
    placed: dict[str, types.ModuleType] = {}
    for module, name in _DEFERRED.items():
        if module not in sys.modules:
            placed[module] = sys.modules[module] = types.ModuleType(module)
            setattr(placed[module], _PLACEHOLDER, True)
            setattr(placed[module], name, _stand_in(module, name))
    try:
        yield
    finally:
        for module, stand_in in placed.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]


_FINDER = _Finder()


def install() -> None:
    """Have ``typer.rich_utils`` load without Markdown and traceback rendering (see the module docstring)."""
    if _TARGET not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
