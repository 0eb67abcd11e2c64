"""Signed webhooks: the pieces shared by the ``webhook`` and ``http+webhook`` transports.

One concept per module:

- `signing`: Standard Webhooks v1 signatures (several secrets for rotation) and the replay cache;
- `urlpolicy`: which webhook URLs a server may POST to;
- `delivery`: POSTs retried with backoff, jitter and ``Retry-After``;
- `deadletter`: where undeliverable responses are kept;
- `asgi`: bounded request bodies and JSON-RPC error responses;
- `serving`: uvicorn embedded in a task group;
- `receiver`: the client's endpoint that verifies incoming webhooks;
- `server` / `client` / `transport`: the ``webhook`` transport itself.

Nothing is imported here, so using one piece does not load the others.
"""
