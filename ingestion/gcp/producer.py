"""Publish raw record lines to Pub/Sub with ordering keys and provenance attributes.

Lines are published as given (a hostile or broken line stays broken): the
consumer, not the producer, is the trust boundary. Attributes carry provenance
(who published, for which silo, which record id, and the line's sequence
number in its source, so a dead letter can be traced back to its input line).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

MAX_ATTRIBUTE_CHARS = 128


def record_id_hint(line: bytes) -> str:
    """The id a line claims (for tracing only; never trusted), or '' when it has none."""
    try:
        body = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return ""
    value = body.get("id") if isinstance(body, dict) else None
    return str(value)[:MAX_ATTRIBUTE_CHARS] if value is not None else ""


def publish_lines(
    publisher: Any, topic: str, lines: Sequence[bytes], producer: str, silo: str = "gcp",
    start_seq: int = 0, progress: bool = False,
) -> int:
    """Publish every line (ordering key = producer) and wait until Pub/Sub accepted all. Returns the count."""
    futures = []
    for offset, line in enumerate(tqdm(lines, desc="publish", unit="rec", disable=not progress)):
        futures.append(
            publisher.publish(
                topic, bytes(line), ordering_key=producer,
                producer=producer, silo=silo, record_id=record_id_hint(line), seq=str(start_seq + offset),
            )
        )
    for future in futures:
        future.result(timeout=60)  # raises if any publish failed: nothing is reported sent unless accepted
    return len(futures)
