"""A local record of the answers `collect` took off a reply queue, so "already collected" is not "pending".

Collecting deletes the answer from the queue, so a second `collect` of the same
receipt finds nothing, exactly as if the server had not answered yet. SQS
keeps no trace of a deleted message, so the queue cannot tell the two apart;
this process can, for what it (or another run sharing its config directory)
collected itself. One line per answer in ``collected.jsonl`` in the config
directory: when it was collected and a digest of (reply queue, client id,
request id), nothing of the answer itself. The newest `KEPT` lines are kept.

What stays unknowable, and reads as pending: an answer collected on another
machine or with another config directory, taken by a live session of the same
client id, expired with the queue's retention period, or never sent.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from pathlib import Path

from asyncmcp_cli import profiles
from asyncmcp_cli.delivery.receipts import Receipt

logger = logging.getLogger(__name__)

FILE_NAME = "collected.jsonl"
KEPT = 1000


def _path() -> Path:
    return profiles.config_dir() / FILE_NAME


def _key(receipt: Receipt, request_id: object) -> str:
    text = json.dumps([receipt.reply_queue, receipt.client_id, str(request_id)])
    return hashlib.sha256(text.encode()).hexdigest()


def remember(receipt: Receipt, request_ids: list[object]) -> None:
    """Note that the answers to `request_ids` under `receipt`'s client were collected now."""
    at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    lines = [json.dumps({"key": _key(receipt, rid), "at": at}) for rid in request_ids]
    path = _path()
    try:
        kept = path.read_text().splitlines()[-(KEPT - len(lines)) :] if path.exists() else []
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([*kept, *lines]) + "\n")
    except OSError as exc:  # the answer was printed; losing the note only costs the hint later
        logger.warning("could not record the collected answer in %s: %s", path, exc)


def collected_at(receipt: Receipt) -> str | None:
    """When the answer `receipt` names was collected here (ISO 8601 UTC), or None if not known to have been."""
    if receipt.request_id is None:
        return None
    key = _key(receipt, receipt.request_id)
    try:
        lines = _path().read_text().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("key") == key:
            return str(entry.get("at", "earlier"))
    return None
