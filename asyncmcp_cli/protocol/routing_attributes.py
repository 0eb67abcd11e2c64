"""The names of the routing facts that travel beside a message body (see `asyncmcp_cli.protocol.codec`).

Plain strings in a module that imports nothing, so code that only names them
(``asyncmcp provision``'s subscription filter policies) does not load the MCP
SDK along with the codec.
"""

from __future__ import annotations

CLIENT_ID = "asyncmcp-client-id"
"""Which client session the message belongs to."""
REPLY_TO = "asyncmcp-reply-to"
"""Where the server sends that client's messages (a queue URL, a topic ARN or a webhook URL)."""
METHOD = "asyncmcp-method"
"""The JSON-RPC method, if any, for filtering and inspection."""

META_CLIENT_ID = "io.asyncmcp/clientId"
META_REPLY_TO = "io.asyncmcp/replyTo"
"""The same facts in a request's ``params._meta``, for a client that cannot set attributes."""
