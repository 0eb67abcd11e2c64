"""Typed tool arguments from KEY=VALUE words: coercion by schema, validation, "did you mean"."""

from __future__ import annotations

import pytest

from asyncmcp_cli.errors import UsageError
from asyncmcp_cli.protocol.arguments import (
    InvalidArgumentsError,
    UnknownNameError,
    build_arguments,
    coerce,
    describe_type,
    split_pairs,
    suggest,
)

# The shape pydantic (and so MCPServer) writes for a tool's input schema.
SCHEMA = {
    "type": "object",
    "properties": {
        "count": {"type": "integer"},
        "ratio": {"type": "number", "default": 1.0},
        "flag": {"type": "boolean", "default": False},
        "text": {"type": "string"},
        "tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}], "default": None},
        "numbers": {"type": "array", "items": {"type": "integer"}},
        "point": {"anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}], "default": None},
        "mode": {"enum": ["fast", "slow"], "type": "string", "default": "fast"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    },
    "required": ["count"],
    "$defs": {
        "Point": {
            "type": "object",
            "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
            "required": ["x", "y"],
        }
    },
}


def test_values_take_the_types_the_schema_declares() -> None:
    arguments = build_arguments(
        ["count=3", "ratio=0.5", "flag=yes", "text=42", "tags=a,b", 'point={"x": 1, "y": 2}', "mode=slow"],
        schema=SCHEMA,
    )
    assert arguments == {
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "text": "42",  # a string property keeps digits as text
        "tags": ["a", "b"],
        "point": {"x": 1, "y": 2},
        "mode": "slow",
    }


@pytest.mark.parametrize(
    ("word", "expected"),
    [("flag=true", True), ("flag=No", False), ("flag=on", True), ("flag=0", False)],
)
def test_booleans_accept_the_usual_spellings(word: str, expected: bool) -> None:
    assert build_arguments(["count=1", word], schema=SCHEMA)["flag"] is expected


def test_a_repeated_key_collects_into_an_array_with_typed_items() -> None:
    arguments = build_arguments(["count=1", "numbers=1", "numbers=2,3"], schema=SCHEMA)
    assert arguments["numbers"] == [1, 2, 3]


def test_a_json_array_is_taken_whole() -> None:
    assert build_arguments(["count=1", 'tags=["x,y", "z"]'], schema=SCHEMA)["tags"] == ["x,y", "z"]


def test_null_for_an_optional_value() -> None:
    arguments = build_arguments(["count=1", "note=null", "point=null"], schema=SCHEMA)
    assert arguments["note"] is None
    assert arguments["point"] is None


def test_key_value_words_override_args_json() -> None:
    arguments = build_arguments(["count=5"], args_json='{"count": 1, "text": "kept"}', schema=SCHEMA)
    assert arguments == {"count": 5, "text": "kept"}


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidArgumentsError) as caught:
        build_arguments(["count=many", "mode=medium", "flag=perhaps"], schema=SCHEMA, name="inspect")
    problems = "\n".join(caught.value.problems)
    assert "'many' is not of type 'integer'" in problems
    assert "'medium' is not one of ['fast', 'slow']" in problems
    assert "'perhaps' is not of type 'boolean'" in problems
    assert "'inspect'" in str(caught.value)


def test_a_missing_required_argument_is_named_with_its_type() -> None:
    with pytest.raises(InvalidArgumentsError, match=r"missing required argument 'count' \(integer\)"):
        build_arguments([], schema=SCHEMA)


def test_nested_object_values_are_validated_too() -> None:
    with pytest.raises(InvalidArgumentsError, match=r"argument 'point\.y': 'up' is not of type 'integer'"):
        build_arguments(["count=1", 'point={"x": 1, "y": "up"}'], schema=SCHEMA)


def test_a_closed_schema_refuses_unknown_names_with_a_suggestion() -> None:
    closed = SCHEMA | {"additionalProperties": False}
    with pytest.raises(InvalidArgumentsError, match="unknown argument 'cuont'; did you mean 'count'"):
        build_arguments(["cuont=1"], schema=closed)


ADD = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}
"""The demo's `add`, as MCPServer writes it: no `additionalProperties` either way."""


def test_a_name_the_schema_does_not_declare_is_refused_with_the_missing_name_suggested() -> None:
    with pytest.raises(InvalidArgumentsError) as raised:
        build_arguments(["a=1", "c=2"], schema=ADD, name="add")
    assert raised.value.problems == ["unknown argument 'c'; did you mean 'b'?"]


def test_an_extra_name_is_refused_even_when_everything_required_is_there() -> None:
    with pytest.raises(InvalidArgumentsError) as raised:
        build_arguments(["a=1", "b=2", "c=3"], schema=ADD)
    assert raised.value.problems == ["unknown argument 'c' (it takes: a, b)"]
    with pytest.raises(InvalidArgumentsError, match="unknown argument 'c'"):
        build_arguments([], args_json='{"a": 1, "b": 2, "c": 3}', schema=ADD)


def test_a_schema_that_admits_more_names_lets_them_through_as_json_or_text() -> None:
    open_schema = SCHEMA | {"additionalProperties": True}
    assert build_arguments(["count=1", "extra=7", "other=word"], schema=open_schema) == {
        "count": 1,
        "extra": 7,
        "other": "word",
    }
    assert build_arguments(["x=1"], schema={"type": "object", "additionalProperties": {"type": "integer"}}) == {"x": 1}
    assert build_arguments(["x=1"], schema={}) == {"x": 1}  # a schema that says nothing refuses nothing


def test_without_a_schema_values_are_json_where_they_parse() -> None:
    assert build_arguments(["a=2", "b=[1, 2]", "c=hello", "d=true"]) == {"a": 2, "b": [1, 2], "c": "hello", "d": True}


@pytest.mark.parametrize("word", ["novalue", "=x", ""])
def test_words_without_a_key_are_usage_errors(word: str) -> None:
    with pytest.raises(UsageError, match="is not KEY=VALUE"):
        split_pairs([word])


def test_values_may_contain_equals_signs() -> None:
    assert split_pairs(["q=a=b"]) == [("q", "a=b")]


@pytest.mark.parametrize("text", ["[1, 2", "3", '"just a string"'])
def test_args_json_must_be_an_object(text: str) -> None:
    with pytest.raises(InvalidArgumentsError, match="--args-json"):
        build_arguments([], args_json=text)


def test_an_invalid_schema_does_not_block_the_call(caplog: pytest.LogCaptureFixture) -> None:
    broken = {"type": "object", "properties": {"n": {"type": "no-such-type"}}}
    assert build_arguments(["n=1"], schema=broken) == {"n": 1}
    assert "input schema is itself invalid" in caplog.text


def test_an_optional_value_of_the_wrong_type_names_both_types() -> None:
    with pytest.raises(InvalidArgumentsError, match="argument 'note': 5 is not of type 'string' or 'null'"):
        build_arguments(["count=1"], args_json='{"note": 5}', schema=SCHEMA)


def test_coerce_keeps_text_it_cannot_convert_for_validation_to_report() -> None:
    assert coerce("abc", {"type": "integer"}) == "abc"
    assert coerce("1e3", {"type": "number"}) == 1000.0
    assert coerce("nan", {"type": "number"}) == "nan"


def test_describe_type_reads_through_optionals_refs_and_enums() -> None:
    properties = SCHEMA["properties"]
    assert describe_type(properties["count"], SCHEMA) == "integer"
    assert describe_type(properties["note"], SCHEMA) == "null | string"
    assert describe_type(properties["mode"], SCHEMA) == "one of fast, slow"
    assert describe_type(properties["numbers"], SCHEMA) == "array of integer"
    assert describe_type(properties["point"], SCHEMA) == "null | object"


def test_did_you_mean() -> None:
    assert suggest("ad", ["add", "echo"]) == "add"
    assert suggest("ECHO", ["add", "echo"]) == "echo"
    assert suggest("zzz", ["add", "echo"]) is None
    error = UnknownNameError("tool", "slep", ["sleep", "echo"])
    assert "did you mean 'sleep'?" in str(error)
    assert isinstance(error, UsageError)
