"""Find a transport by name or URL.

Entries are ``"module:attr"`` import strings, so a transport's dependencies
load only when it is used. Third parties register with `register()` or an
``asyncmcp.transports`` entry point.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from dataclasses import fields, is_dataclass
from typing import Any

from asyncmcp_cli.errors import ConfigurationError, UnknownTransportError
from asyncmcp_cli.transports import names
from asyncmcp_cli.transports.base import Transport

_BUILTIN = names.BUILTIN
_registered: dict[str, str] = {}


def register(name: str, target: str) -> None:
    """Make `name` (and ``name://...`` URLs) resolve to the transport class at ``module:attr``."""
    if ":" not in target:
        raise ConfigurationError(f"transport target must be 'module:attr', got {target!r}")
    _registered[name] = target


def known() -> dict[str, str]:
    return _BUILTIN | names.installed() | _registered


def resolve(name_or_url: str, *, defaults: dict[str, Any] | None = None, **options: Any) -> Transport:
    """Build a transport from a name (``sqs``) or URL (``sqs://queue?...``) plus options.

    `options` were asked for explicitly: one the transport does not take is an
    error. `defaults` come from the environment or a profile and are shared by
    all transports (``AWS_REGION`` means nothing to a webhook): each one
    applies only when the transport takes it, and explicit options win.
    """
    name = name_or_url.split("://", 1)[0] if "://" in name_or_url else name_or_url
    table = known()
    if name not in table:
        close = difflib.get_close_matches(name, list(table), n=1, cutoff=0.5)
        raise UnknownTransportError(name, list(table), close[0] if close else None)
    cls = load_class(table[name])
    if defaults:
        accepted = declared_options(cls)
        applicable = {k: v for k, v in defaults.items() if v is not None and (accepted is None or k in accepted)}
        options = applicable | {k: v for k, v in options.items() if v is not None}
    if "://" in name_or_url:
        return cls.from_url(name_or_url, **options)
    return cls(**{k: v for k, v in options.items() if v is not None})


def load_class(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load transport {target!r}: {exc}") from exc


def declared_options(cls: Any) -> frozenset[str] | None:
    """The option names a transport class takes; None when it does not say (then all are passed on).

    A transport declares them with an ``options_type`` dataclass, else by the
    keyword parameters of its constructor.
    """
    options_type = getattr(cls, "options_type", None)
    if is_dataclass(options_type):
        return frozenset(f.name for f in fields(options_type))
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
