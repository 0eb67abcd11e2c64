"""What the Lambda handler serves and how, from the function's environment variables.

- ``ASYNCMCP_APP`` (required): the MCP server, ``module:attr`` or ``file.py:attr`` as for
  ``asyncmcp serve`` (an `MCPServer`, a low-level `Server`, or a callable returning one);
- ``ASYNCMCP_TRANSPORT`` (optional): an ``sqs://`` URL whose query holds the SQS transport's
  server options, e.g. ``sqs://?allow_reply=asyncmcp-*&result_cache=s3://BUCKET/results``
  (``allow_reply``, ``result_cache``, ``result_ttl``, ``dead_letter_queue``,
  ``max_receive_count``, ``payload_bucket``, ``payload_threshold``, ``max_reply_ttl``,
  ``tap``, ``endpoint_url``, ``region``). The request queue is the event's source queue;
  a queue named in the URL is ignored;
- ``ASYNCMCP_ALLOW_REPLY`` (optional): the reply allow-list, comma-separated, as for ``serve``
  (wins over ``allow_reply`` in the URL);
- ``ASYNCMCP_STOP_MARGIN`` (s, default 5): how long before the function's timeout the handler
  stops waiting; requests still running then are reported as failed, so SQS redelivers them;
- ``AWS_ENDPOINT_URL`` / ``AWS_REGION``: the AWS endpoint, as everywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from asyncmcp_cli.errors import ConfigurationError
from asyncmcp_cli.options import options_from, query_options
from asyncmcp_cli.transports.sqs import SqsOptions

APP = "ASYNCMCP_APP"
TRANSPORT = "ASYNCMCP_TRANSPORT"
ALLOW_REPLY = "ASYNCMCP_ALLOW_REPLY"
STOP_MARGIN = "ASYNCMCP_STOP_MARGIN"
DEFAULT_STOP_MARGIN = 5.0


@dataclass(frozen=True)
class LambdaSettings:
    app: str
    options: SqsOptions
    stop_margin: float = DEFAULT_STOP_MARGIN

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> LambdaSettings:
        app = environ.get(APP, "").strip()
        if not app:
            raise ConfigurationError(f"set {APP} to the MCP server to serve, e.g. 'my_package.server:app'")
        url = environ.get(TRANSPORT, "").strip() or "sqs://"
        if not url.startswith("sqs://"):
            raise ConfigurationError(f"{TRANSPORT} must be an sqs:// URL (the Lambda handler serves SQS), got {url!r}")
        values = query_options(url, target="request_queue", overrides={"allow_reply": environ.get(ALLOW_REPLY)})
        values.pop("request_queue", None)
        options = options_from(SqsOptions, values)
        try:
            margin = float(environ.get(STOP_MARGIN, DEFAULT_STOP_MARGIN))
        except ValueError:
            raise ConfigurationError(f"{STOP_MARGIN} must be a number of seconds") from None
        return cls(app, options, max(0.0, margin))
