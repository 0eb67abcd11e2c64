"""The AWS Lambda entry point: ``asyncmcp_cli.serverless.lambda_handler``.

Configured by environment variables (`asyncmcp_cli.serverless.settings`).
What a warm container keeps between invocations: the loaded MCP server, the
settings, the result cache (so a redelivery reaching the same container is
answered, not re-run; set ``result_cache=s3://...`` to share it between
containers) and what it learned about its source queue. Everything bound to
an event loop (queues' batchers, the hub, sessions, the server's lifespan)
is made inside the invocation's own loop and closed with it: each invocation
runs `anyio.run` once, so nothing waits frozen in a loop between invocations.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio

from asyncmcp_cli import tracing
from asyncmcp_cli.apps import load_server
from asyncmcp_cli.aws.sqs_queues import SqsQueues
from asyncmcp_cli.delivery.results import ResultStore, open_result_store
from asyncmcp_cli.serverless.batch import QueueFacts, serve_batch
from asyncmcp_cli.serverless.events import records_of
from asyncmcp_cli.serverless.settings import LambdaSettings

logger = logging.getLogger(__name__)


class _Container:
    """What one Lambda container loads once and reuses while it is warm."""

    def __init__(self, settings: LambdaSettings) -> None:
        self.settings = settings
        tracing.configure_from_environment()
        self.server = load_server(settings.app)
        options = settings.options
        self.results: ResultStore = open_result_store(options.result_cache, options.result_ttl, options.aws)
        self.facts: dict[str, QueueFacts] = {}


_container: _Container | None = None


def lambda_handler(event: dict[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
    """Serve one SQS batch; return the records to retry as ``batchItemFailures``.

    Needs the event source mapping's ``FunctionResponseTypes: [ReportBatchItemFailures]``:
    without it Lambda ignores the answer and retries the whole batch when any record fails.
    """
    container = _warm_container()
    records = records_of(event)
    deadline = time.monotonic() + _seconds_left(context) - container.settings.stop_margin
    try:
        failed = anyio.run(_serve, container, records, deadline)
    finally:
        tracing.flush()  # a frozen container exports nothing: send this invocation's spans now
    if failed:
        logger.info("%d of %d record(s) reported as failed for redelivery", len(failed), len(records))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


async def _serve(container: _Container, records: list[Any], deadline: float) -> list[str]:
    options = container.settings.options
    queues = SqsQueues(options.aws)
    async with queues.running():
        return await serve_batch(
            container.server,
            records,
            options,
            queues=queues,
            facts=container.facts,
            results=container.results,
            deadline=deadline,
        )


def _warm_container() -> _Container:
    global _container
    if _container is None:
        _container = _Container(LambdaSettings.from_environment())
    return _container


def reset() -> None:
    """Forget what the warm container loaded (for tests that change the environment)."""
    global _container
    _container = None


def _seconds_left(context: Any) -> float:
    """Time left in this invocation, from the Lambda context; 15 minutes (Lambda's ceiling) without one."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else 900.0
