"""Publish raw record lines to Pub/Sub with ordering keys and provenance attributes.

Lines are published as given (a hostile or broken line stays broken): the
consumer, not the producer, is the trust boundary. Attributes carry provenance
(who published, for which silo, which record id, and the line's sequence
number in its source, so a dead letter can be traced back to its input line).

Size limits (``ingestion.core.limits.PUBSUB``: 10 MB per message and per publish
request): a message over the limit (data + attributes + ordering key) is not
published but returned in ``PublishStats.rejected`` for the run to dead-letter;
the client library cuts requests at 10 MB and refuses a message that cannot fit
one (``MessageTooLargeError``): rejected too. A failed publish request fails every
message in it and pauses the ordering key, so the failed messages are re-sent one
by one after ``resume_publish``; one the service still refuses for what it carries
is rejected with the reason, an outage is fatal (nothing is reported sent that was not).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.api_core import exceptions as gexc
from tqdm import tqdm

from ingestion.core.limits import PUBSUB, Rejected
from lab.cli import LabError

MAX_ATTRIBUTE_CHARS = 128
PUBLISH_TIMEOUT_S = 60
#: Errors that say the service is away (fatal after the client's own retries), not that a message is bad
OUTAGE = (gexc.ServiceUnavailable, gexc.DeadlineExceeded, TimeoutError)


@dataclass
class PublishStats:
    sent: int = 0
    resent: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def record_id_hint(line: bytes) -> str:
    """The id a line claims (for tracing only; never trusted), or '' when it has none."""
    try:
        body = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return ""
    value = body.get("id") if isinstance(body, dict) else None
    return str(value)[:MAX_ATTRIBUTE_CHARS] if value is not None else ""


def _attributes(line: bytes, producer: str, silo: str, seq: int) -> dict[str, str]:
    return {"producer": producer, "silo": silo, "record_id": record_id_hint(line), "seq": str(seq)}


def message_size(line: bytes, producer: str, silo: str, seq: int) -> int:
    """What Pub/Sub counts for one message: data, attribute keys and values, ordering key."""
    attrs = _attributes(line, producer, silo, seq)
    return len(line) + len(producer) + sum(len(k) + len(v.encode()) for k, v in attrs.items())


class _Publisher:
    """One publish run: first everything at once, then the failed ones one by one."""

    def __init__(self, publisher: Any, topic: str, producer: str, silo: str, start_seq: int) -> None:
        from google.cloud.pubsub_v1.publisher.exceptions import MessageTooLargeError

        self.publisher, self.topic, self.producer, self.silo, self.start_seq = publisher, topic, producer, silo, start_seq
        self.too_large = MessageTooLargeError
        self.stats = PublishStats()

    def publish(self, index: int, line: bytes) -> Any:
        """The future of one publish, or None when the client refused the message outright."""
        try:
            return self.publisher.publish(self.topic, bytes(line), ordering_key=self.producer,
                                          **_attributes(line, self.producer, self.silo, self.start_seq + index))
        except self.too_large as exc:
            self.stats.rejected.append(Rejected(index, line, f"Pub/Sub client refused the message: {exc}"))
            return None

    def resend(self, failed: Sequence[tuple[int, bytes]]) -> None:
        """Re-publish failed messages one at a time; reject those the service refuses for their content."""
        for index, line in failed:
            self.publisher.resume_publish(self.topic, self.producer)
            future = self.publish(index, line)
            if future is None:
                continue
            try:
                future.result(timeout=PUBLISH_TIMEOUT_S)
            except OUTAGE as exc:
                raise LabError(f"Pub/Sub publish failed: {type(exc).__name__}") from None
            except Exception as exc:  # noqa: BLE001 - the service refused this one message
                self.stats.rejected.append(Rejected(index, line, f"Pub/Sub refused the message: {type(exc).__name__}"))
                continue
            self.stats.sent += 1
            self.stats.resent += 1


def publish_lines(
    publisher: Any, topic: str, lines: Sequence[bytes], producer: str, silo: str = "gcp",
    start_seq: int = 0, progress: bool = False,
) -> PublishStats:
    """Publish every line that fits (ordering key = producer) and wait until Pub/Sub accepted each.

    Returns the counts; lines Pub/Sub cannot take are in ``rejected`` (with their input index)."""
    run = _Publisher(publisher, topic, producer, silo, start_seq)
    futures: list[tuple[int, bytes, Any]] = []
    for index, line in enumerate(tqdm(lines, desc="publish", unit="rec", disable=not progress)):
        reason = PUBSUB.too_large(message_size(line, producer, silo, start_seq + index))
        if reason is not None:
            run.stats.rejected.append(Rejected(index, line, reason))
        elif (future := run.publish(index, line)) is not None:
            futures.append((index, line, future))
    failed: list[tuple[int, bytes]] = []
    for index, line, future in futures:
        try:
            future.result(timeout=PUBLISH_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - decided per message in resend()
            failed.append((index, line))
            continue
        run.stats.sent += 1
    run.resend(failed)
    run.stats.rejected.sort(key=lambda r: r.index)
    return run.stats
