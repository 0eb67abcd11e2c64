"""Requests a client transport could not send, told apart from errors a server answered.

When a send fails (endpoint down past the retry budget, payload over the limit
with no bucket, credentials refused), the transport answers the waiting request
itself with a JSON-RPC error, so the SDK caller is not left hanging. To the
caller that looks like any server error. The error carries, under
``data["io.asyncmcp/notSent"]``, a random token naming the local exception
kept here, so a caller (the CLI) can report "not sent, and why" with the
exit code of the real cause.

A server cannot forge this: the token is random and looked up only in this
process; a copied or invented one finds nothing. Only the most recent
failures are kept, so a long-lived process does not accumulate them.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any

import mcp_types as types

from asyncmcp_cli.errors import AsyncMCPError

KEY = "io.asyncmcp/notSent"
KEPT = 256

_failures: OrderedDict[str, AsyncMCPError] = OrderedDict()


def error_reply(request_id: types.RequestId, cause: AsyncMCPError) -> types.JSONRPCError:
    """The JSON-RPC error that answers a request which never left this process."""
    token = uuid.uuid4().hex
    _failures[token] = cause
    while len(_failures) > KEPT:
        _failures.popitem(last=False)
    text = f"asyncmcp: request not sent: {cause}"
    error = types.ErrorData(code=types.INTERNAL_ERROR, message=text, data={KEY: token})
    return types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)


def cause_of(data: Any) -> AsyncMCPError | None:
    """The local exception behind an error's `data`, if this process made that error; else None."""
    if not isinstance(data, dict):
        return None
    token = data.get(KEY)
    return _failures.get(token) if isinstance(token, str) else None
