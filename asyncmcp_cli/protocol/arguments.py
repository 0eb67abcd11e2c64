"""Tool arguments from what a person types: ``KEY=VALUE`` words, coerced and checked by the tool's schema.

A shell hands every value over as text. The tool's ``inputSchema`` says what
each value should be, so ``count=3`` becomes the integer 3 for an integer
property but stays the string ``"3"`` for a string one; ``flag=yes`` becomes
``true`` for a boolean; ``tags=a,b`` (or ``tags=a tags=b``) becomes an array;
``point={"x": 1}`` an object. Values for properties the schema does not
describe are parsed as JSON where they parse, else kept as text.

The coerced arguments are then validated against the schema (JSON Schema, with
the `jsonschema` library the SDK already depends on), so a typo is reported
here, with every problem at once, instead of costing a round trip over a queue.
"""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jsonschema
from jsonschema import validators

from asyncmcp_cli.errors import UsageError

logger = logging.getLogger(__name__)

_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}


class InvalidArgumentsError(UsageError):
    """Arguments that cannot be sent: malformed words, or values the schema refuses."""

    def __init__(self, problems: Sequence[str], *, name: str | None = None) -> None:
        self.problems = list(problems)
        what = f"arguments for {name!r}" if name else "arguments"
        if len(self.problems) == 1:
            super().__init__(f"invalid {what}: {self.problems[0]}")
        else:
            super().__init__(f"invalid {what}:\n  - " + "\n  - ".join(self.problems))


class UnknownNameError(UsageError):
    """A tool, prompt or argument name the server does not offer ("did you mean ...")."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        self.kind = kind
        self.name = name
        self.suggestion = suggest(name, known)
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        listing = f" (known: {', '.join(known)})" if known and len(known) <= 20 else ""
        super().__init__(f"unknown {kind} {name!r}{hint}{listing}")


def suggest(name: str, known: Iterable[str]) -> str | None:
    """The closest known name, if one is close enough to be a typo."""
    by_lower = {k.lower(): k for k in known}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def split_pairs(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """``["a=1", "b=x=y"]`` -> ``[("a", "1"), ("b", "x=y")]``; refuses words without ``=``."""
    split: list[tuple[str, str]] = []
    bad: list[str] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            bad.append(f"{pair!r} is not KEY=VALUE")
        else:
            split.append((key.strip(), value))
    if bad:
        raise InvalidArgumentsError(bad)
    return split


def parse_json_object(text: str | None, *, what: str = "--args-json") -> dict[str, Any]:
    if not text:
        return {}
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgumentsError([f"{what} is not valid JSON: {exc}"]) from None
    if not isinstance(loaded, dict):
        raise InvalidArgumentsError([f"{what} must be a JSON object, not {type(loaded).__name__}"])
    return loaded


def build_arguments(
    pairs: Sequence[str],
    *,
    args_json: str | None = None,
    schema: Mapping[str, Any] | None = None,
    name: str | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Arguments for a tool call: ``--args-json`` first, then ``KEY=VALUE`` words over it.

    With a `schema`, values are coerced to the declared types, names it does
    not declare are refused (with a "did you mean"; see `_closed`), and the
    result is validated. Without one, values are parsed as JSON where they
    parse.
    """
    arguments = parse_json_object(args_json)
    schema = schema or {}
    properties: Mapping[str, Any] = schema.get("properties") or {}
    closed = _closed(schema)
    unknown: list[str] = []
    repeated: dict[str, list[Any]] = {}
    for key, text in split_pairs(pairs):
        if key not in properties and closed:
            unknown.append(key)
            continue
        subschema = _resolve(properties.get(key), schema)
        value = coerce(text, subschema, root=schema)
        if isinstance(value, list) and "array" in _types_of(subschema, schema) and not text.lstrip().startswith("["):
            # `tag=a tag=b` collects into one array
            repeated.setdefault(key, []).extend(value if isinstance(value, list) else [value])
            arguments[key] = repeated[key]
        else:
            arguments[key] = value
    if closed:
        unknown += [key for key in arguments if key not in properties and key not in unknown]  # from --args-json
    problems, suggested = _unknown_problems(unknown, properties, schema, arguments)
    if validate and schema:
        try:
            check({k: v for k, v in arguments.items() if k not in unknown}, schema, name=name)
        except InvalidArgumentsError as exc:
            meant = tuple(f"missing required argument {s!r}" for s in suggested)  # already said: "did you mean"
            problems += [problem for problem in exc.problems if not problem.startswith(meant)]
    if problems:
        raise InvalidArgumentsError(problems, name=name)
    return arguments


def _closed(schema: Mapping[str, Any]) -> bool:
    """Whether names the schema does not declare are refused: an object schema that does not say it takes more.

    JSON Schema admits undeclared properties unless ``additionalProperties`` is
    false, but tool schemas rarely say either way, and an undeclared name is far
    more often a typo (``c=2`` for ``b=2``) than something the tool reads. So a
    name is sent only if the schema declares it, or declares ``additionalProperties``
    (true or a schema) or ``patternProperties``. An empty schema says nothing, so
    anything goes. ``--no-validate`` sends whatever is typed.
    """
    if not schema or not ("properties" in schema or schema.get("type") == "object"):
        return False
    additional = schema.get("additionalProperties", False)
    return additional is False and not schema.get("patternProperties")


def _unknown_problems(
    unknown: Sequence[str], properties: Mapping[str, Any], schema: Mapping[str, Any], arguments: Mapping[str, Any]
) -> tuple[list[str], set[str]]:
    """One line per unknown name, with the likeliest meant one: a close spelling, else the one missing name."""
    missing = [r for r in schema.get("required") or [] if isinstance(r, str) and r not in arguments]
    problems: list[str] = []
    suggested: set[str] = set()
    for key in unknown:
        hint = suggest(key, properties)
        if hint is None and len(unknown) == 1 and len(missing) == 1:
            hint = missing[0]
        if hint is not None:
            suggested.add(hint)
            problems.append(f"unknown argument {key!r}; did you mean {hint!r}?")
        elif properties:
            problems.append(f"unknown argument {key!r} (it takes: {', '.join(properties)})")
        else:
            problems.append(f"unknown argument {key!r} (it takes no arguments)")
    return problems, suggested


def coerce(text: str, schema: Mapping[str, Any] | None, *, root: Mapping[str, Any] | None = None) -> Any:
    """One typed value from text, as `schema` describes it (best effort: validation reports the rest)."""
    root = root or schema or {}
    schema = _resolve(schema, root)
    if not schema:
        return _json_or_text(text)
    if "const" in schema or "enum" in schema:
        options = [schema["const"]] if "const" in schema else list(schema["enum"])
        for option in options:
            if text == option or (not isinstance(option, str) and _json_or_text(text) == option):
                return option
    types = _types_of(schema, root)
    if not types:
        return _json_or_text(text)
    for kind in ("integer", "number", "boolean", "null", "array", "object"):
        if kind not in types:
            continue
        converted, ok = _convert(kind, text, schema, root)
        if ok:
            return converted
    if "string" in types:
        return text
    return _json_or_text(text)


def check(arguments: Mapping[str, Any], schema: Mapping[str, Any], *, name: str | None = None) -> None:
    """Validate against a JSON Schema; every problem is reported at once."""
    cls = validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        logger.warning("not validating arguments: the tool's input schema is itself invalid (%s)", exc.message)
        return
    validator = cls(schema)
    errors = sorted(validator.iter_errors(dict(arguments)), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise InvalidArgumentsError([_describe(error, schema) for error in errors], name=name)


def describe_type(schema: Mapping[str, Any] | None, root: Mapping[str, Any] | None = None) -> str:
    """A short human name for a property's type: ``integer``, ``string | null``, ``one of a, b``."""
    root = root or schema or {}
    schema = _resolve(schema, root)
    if not schema:
        return "any"
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) if not isinstance(v, str) else v for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    types = sorted(_types_of(schema, root))
    if types == ["array"]:
        items = schema.get("items")
        return f"array of {describe_type(items, root)}" if isinstance(items, Mapping) else "array"
    return " | ".join(types) if types else "any"


# -- internals ---------------------------------------------------------------


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _resolve(schema: Mapping[str, Any] | None, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local ``$ref`` pointers (``#/$defs/Point``), as pydantic writes them."""
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 16:
        ref: str = schema["$ref"]
        if not ref.startswith("#/"):
            return schema
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
        if not isinstance(target, Mapping):
            return schema
        schema = target
        seen += 1
    return schema if isinstance(schema, Mapping) else {}


def _types_of(schema: Mapping[str, Any] | None, root: Mapping[str, Any]) -> set[str]:
    """Every JSON type a schema admits, looking through ``anyOf`` / ``oneOf`` (e.g. ``Optional[int]``)."""
    schema = _resolve(schema, root)
    declared = schema.get("type")
    types: set[str] = set()
    if isinstance(declared, str):
        types.add(declared)
    elif isinstance(declared, list):
        types.update(t for t in declared if isinstance(t, str))
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key) or []:
            types |= _types_of(option, root)
    if not types and "properties" in schema:
        types.add("object")
    return types


def _convert(kind: str, text: str, schema: Mapping[str, Any], root: Mapping[str, Any]) -> tuple[Any, bool]:
    stripped = text.strip()
    if kind == "integer":
        try:
            return int(stripped), True
        except ValueError:
            return None, False
    if kind == "number":
        try:
            return int(stripped), True
        except ValueError:
            pass
        try:
            number = float(stripped)
        except ValueError:
            return None, False
        return number, number == number and number not in (float("inf"), float("-inf"))
    if kind == "boolean":
        lowered = stripped.lower()
        if lowered in _TRUE:
            return True, True
        if lowered in _FALSE:
            return False, True
        return None, False
    if kind == "null":
        return None, stripped.lower() in {"null", "none"}
    if kind == "array":
        if stripped.startswith("["):
            loaded = _json_or_text(stripped)
            return loaded, isinstance(loaded, list)
        items = _item_schema(schema, root)
        parts = [part.strip() for part in text.split(",")] if text else []
        return [coerce(part, items, root=root) for part in parts], True
    if kind == "object":
        loaded = _json_or_text(stripped)
        return loaded, isinstance(loaded, dict)
    return None, False


def _item_schema(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    items = schema.get("items")
    if isinstance(items, Mapping):
        return items
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or []:
            resolved = _resolve(option, root)
            if isinstance(resolved.get("items"), Mapping):
                return resolved["items"]
    return None


def _describe(error: jsonschema.ValidationError, schema: Mapping[str, Any]) -> str:
    if error.context:  # anyOf / oneOf: say what was wrong, not just "not valid under any of the given schemas"
        kinds = [sub.validator_value for sub in error.context if sub.validator == "type" and not sub.relative_path]
        if len(kinds) == len(error.context):
            path = ".".join(str(part) for part in error.absolute_path)
            expected = " or ".join(repr(kind) for kind in kinds)
            return f"argument {path!r}: {error.instance!r} is not of type {expected}"
        # the branch that got furthest into the value is the one the user meant
        return _describe(max(error.context, key=lambda sub: len(sub.absolute_path)), schema)
    path = [str(part) for part in error.absolute_path]
    where = f"argument {'.'.join(path)!r}" if path else "arguments"
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing and not path:
            properties = schema.get("properties") or {}
            return "; ".join(
                f"missing required argument {m!r} ({describe_type(properties.get(m), schema)})" for m in missing
            )
    if error.validator == "additionalProperties" and not path:
        return error.message.replace("Additional properties are not allowed", "unknown argument(s)")
    return f"{where}: {error.message}"
