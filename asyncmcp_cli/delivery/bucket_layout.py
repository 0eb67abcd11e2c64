"""Where asyncmcp keeps things in a shared bucket: one key prefix per kind of object.

The prefixes are shared by the code that writes the objects (claim-checked
payloads, cached results, tasks), by profiles (the default stores they name) and
by ``asyncmcp provision`` (one lifecycle rule per prefix). They live here, in a
module that imports nothing, so provisioning and profiles learn them without
loading boto3 or the MCP SDK along with the writers.
"""

from __future__ import annotations

PAYLOADS_PREFIX = "asyncmcp/payloads/"
"""Message bodies over the queue size limit (claim checks): ``<prefix><32 hex digits>``."""

RESULTS_PREFIX = "asyncmcp/results/"
"""Sent responses kept for redelivered requests (``serve --result-cache s3://BUCKET``)."""

TASKS_PREFIX = "asyncmcp/tasks/"
"""One object per task (``serve --task-store s3://BUCKET``)."""
