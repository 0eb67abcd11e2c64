"""Tasks as S3 objects, one per task, changed only by conditional writes.

Creating uses ``If-None-Match: *`` (a second creator of the same id loses) and
every change ``If-Match: <ETag of what was loaded>`` (a writer who did not see
the latest state loses and re-reads). S3 is strongly consistent for reads
after writes, so a task is readable by every process once `create` returns,
which the spec asks before the ``CreateTaskResult`` goes out.

Expired objects are ignored on read and deleted when seen; the bucket's
lifecycle rule (``asyncmcp provision --bucket``) removes the ones nobody reads.
"""

from __future__ import annotations

from typing import Any

from asyncmcp_cli import aws
from asyncmcp_cli.errors import TransportError
from asyncmcp_cli.tasks.record import TaskRecord

_LOST_RACE = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_MISSING = frozenset({"NoSuchKey", "404"})


class S3TaskStore:
    def __init__(self, settings: aws.AwsSettings, bucket: str, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._s3 = aws.client("s3", settings)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    async def create(self, record: TaskRecord) -> bool:
        return await self._put(record, IfNoneMatch="*")

    async def load(self, task_id: str) -> tuple[TaskRecord, Any] | None:
        try:
            etag, body = await aws.call(self._fetch, key=self.prefix + task_id)
        except TransportError as exc:
            if aws.error_code(exc) in _MISSING:
                return None
            raise
        return TaskRecord.from_json(body), etag

    async def swap(self, record: TaskRecord, token: Any) -> bool:
        return await self._put(record, IfMatch=token)

    async def delete(self, task_id: str) -> None:
        await aws.call(self._s3.delete_object, Bucket=self.bucket, Key=self.prefix + task_id)

    def _fetch(self, key: str) -> tuple[str, bytes]:
        response = self._s3.get_object(Bucket=self.bucket, Key=key)
        return response["ETag"], response["Body"].read()

    async def _put(self, record: TaskRecord, **condition: str) -> bool:
        try:
            await aws.call(
                self._s3.put_object,
                Bucket=self.bucket,
                Key=self.prefix + record.task_id,
                Body=record.to_json().encode(),
                ContentType="application/json",
                **condition,
            )
        except TransportError as exc:
            code = aws.error_code(exc)
            if code in _LOST_RACE or ("IfMatch" in condition and code in _MISSING):
                return False
            raise
        return True
