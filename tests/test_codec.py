from __future__ import annotations

import mcp_types as types
import pytest

from asyncmcp_cli.protocol import codec


def test_round_trip_keeps_the_message() -> None:
    request = types.JSONRPCRequest(jsonrpc="2.0", id=4, method="tools/list", params={"cursor": "x"})
    decoded = codec.decode(codec.encode(request))
    assert decoded == request
    assert codec.is_request(decoded) and codec.request_id_of(decoded) == 4
    assert codec.method_of(decoded) == "tools/list"


@pytest.mark.parametrize("body", ["", "not json", "[]", '{"jsonrpc": "2.0"}', '{"id": 1, "method": 5}'])
def test_decode_refuses_what_is_not_json_rpc(body: str) -> None:
    with pytest.raises(codec.DecodeError, match="not a JSON-RPC message"):
        codec.decode(body)


def test_routing_prefers_attributes_and_falls_back_to_meta() -> None:
    message = codec.decode(
        '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":'
        '{"io.asyncmcp/clientId":"from-meta","io.asyncmcp/replyTo":"q-meta"}}}'
    )
    assert codec.routing_from({}, message) == codec.Routing("from-meta", "q-meta")
    assert codec.routing_from({codec.CLIENT_ID: "attr"}, message) == codec.Routing("attr", "q-meta")
    assert codec.routing_from({}, None) == codec.Routing(None, None)


def test_sniffs_the_id_of_an_invalid_message() -> None:
    assert codec.sniff_request_id('{"id": 9, "bad": true}') == 9
    assert codec.sniff_request_id('{"id": true}') is None
    assert codec.sniff_request_id("{broken") is None


def test_error_reply_is_addressed() -> None:
    error = codec.error_reply(3, types.PARSE_ERROR, "nope")
    assert codec.is_reply(error)
    assert '"code":-32700' in codec.encode(error)
