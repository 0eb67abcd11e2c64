"""Streamable HTTP + webhook: the SDK's streamable HTTP for fast tools, signed webhooks for slow ones.

- `tools`: which tools answer by webhook (configuration, `webhook_tool`, the ``_meta`` mark);
- `router`: the ASGI app in front of the SDK's session manager that answers their calls 202;
- `capture`: runs such a call through the session manager in the background;
- `client`: feeds webhook results to the SDK's streamable-HTTP client as the answers to its requests;
- `transport`: `HttpWebhookTransport`, its options and URL.

Signing, URL policy, delivery and the receiver are shared with the ``webhook``
transport (`asyncmcp_cli.transports.webhook`).
"""
