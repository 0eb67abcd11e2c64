"""Serving an MCP server from AWS Lambda, fed by an SQS event source mapping.

Handler: ``asyncmcp_cli.serverless.lambda_handler``. Each record of the event
is judged exactly as the long-polling SQS server judges a message (same
routing, allow-list, session binding, claim checks, result cache and dead
letters: the same `SessionHub`), its request runs against the server named by
``ASYNCMCP_APP``, the reply goes to the client's reply queue, and the records
to retry come back as ``batchItemFailures``. See `batch` for what each outcome
means and `settings` for the environment variables.
"""

from __future__ import annotations

from asyncmcp_cli.serverless.handler import lambda_handler

__all__ = ["lambda_handler"]
