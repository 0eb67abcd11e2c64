"""Transport options from loose values: URL query strings, CLI flags, profiles."""

from __future__ import annotations

from dataclasses import fields
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from asyncmcp_cli.errors import ConfigurationError


def query_options(url: str, *, target: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Options named by a transport URL: ``scheme://TARGET?key=value``, then `overrides`.

    TARGET (host and path) becomes the option named `target`; non-None
    overrides win over the URL.
    """
    parts = urlsplit(url)
    values: dict[str, Any] = dict(parse_qsl(parts.query))
    where = unquote(parts.netloc + parts.path).strip("/")
    if where:
        values.setdefault(target, where)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return values


def options_from(cls: type[Any], values: dict[str, Any], *, base: Any = None) -> Any:
    """Build an options dataclass from loose values (URL query strings, CLI flags).

    Unknown keys are refused by name; strings are coerced to the field's type.
    """
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(unknown)} for {cls.__name__}; known: {', '.join(sorted(known))}"
        )
    current = {name: getattr(base, name) for name in known} if base is not None else {}
    for name, value in values.items():
        if value is None:
            continue
        current[name] = _coerce(name, value, getattr(cls(), name))
    return cls(**current)


def _coerce(name: str, value: Any, default: Any) -> Any:
    if not isinstance(value, str):
        return tuple(value) if isinstance(default, tuple) else value
    try:
        if isinstance(default, bool):
            if value.lower() in {"1", "true", "yes", "on"}:
                return True
            if value.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            return tuple(part.strip() for part in value.split(",") if part.strip())
    except ValueError:
        raise ConfigurationError(f"option {name}={value!r} is not a valid {type(default).__name__}") from None
    return value
