"""Parse, verify and deduplicate raw records: each one is Accepted or a DeadLetter.

This is the consumer's trust boundary. The stream is not trusted: every record
is parsed against the contract, its producer signature checked against the
TrustStore (an unknown or revoked producer, or a record of another silo than the
stream's, is refused), and its id checked against the ids already accepted (so a replayed
or resent record is not landed twice). Nothing is dropped silently: a rejected
record becomes a DeadLetter carrying the reason, the field at fault, where it
came from and its raw bytes (base64, so even non-UTF-8 input survives).
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from ingestion.records import Record, RecordError, TrustStore, parse_record

DUPLICATE_REASON = "duplicate id: already accepted"


@dataclass(frozen=True)
class Accepted:
    """A record that passed every check; ``line`` is its canonical JSON, the bytes that land;
    ``raw`` the bytes as read (a duplicate's dead letter keeps those)."""

    record: Record
    position: str
    line: bytes
    raw: bytes


@dataclass(frozen=True)
class DeadLetter:
    """A rejected record: why, which field, where it was read, and its raw bytes."""

    reason: str
    field: str
    position: str
    raw_b64: str

    @property
    def is_duplicate(self) -> bool:
        return self.reason == DUPLICATE_REASON

    def to_json(self) -> str:
        return json.dumps(
            {"reason": self.reason, "field": self.field, "position": self.position, "raw_b64": self.raw_b64},
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, line: str | bytes) -> DeadLetter:
        body = json.loads(line)
        return cls(str(body["reason"]), str(body["field"]), str(body["position"]), str(body["raw_b64"]))

    @classmethod
    def of(cls, raw: bytes, position: str, error: RecordError) -> DeadLetter:
        return cls(error.reason, error.field, position, base64.b64encode(raw).decode())


Outcome = Accepted | DeadLetter


@dataclass
class Validator:
    """Checks records one by one, remembering accepted ids (pass a persisted set to dedupe across runs).

    ``silo`` is the silo whose stream is being read: a record claiming another silo is refused.
    The check is two steps: :meth:`screen` (parse and signature: no state, so a consumer may
    screen the next batch in another thread while this one lands) and :meth:`admit` (dedupe, in
    stream order, on the landing thread)."""

    trust: TrustStore
    seen_ids: set[str] = field(default_factory=set)
    silo: str | None = None

    def check(self, raw: bytes, position: str) -> Outcome:
        """Accept the record or say exactly why not. Accepting it records its id."""
        return self.admit(self.screen(raw, position))

    def screen(self, raw: bytes, position: str) -> Outcome:
        """Parse the record against the contract and check its producer's signature."""
        # BEGIN SOLUTION ex02
        try:
            record = parse_record(raw)
            line = self.trust.verify(record, self.silo)
        except RecordError as exc:
            return DeadLetter.of(raw, position, exc)
        return Accepted(record, position, line, raw)
        # END SOLUTION ex02

    def admit(self, outcome: Outcome) -> Outcome:
        """Refuse an id already accepted; accepting a record records its id."""
        # BEGIN SOLUTION ex02
        if isinstance(outcome, DeadLetter):
            return outcome
        if outcome.record.id in self.seen_ids:
            return DeadLetter(DUPLICATE_REASON, "id", outcome.position, base64.b64encode(outcome.raw).decode())
        self.seen_ids.add(outcome.record.id)
        return outcome
        # END SOLUTION ex02

    def check_all(self, items: Iterable[tuple[bytes, str]]) -> tuple[list[Accepted], list[DeadLetter]]:
        """Split (raw, position) pairs into accepted records and dead letters, keeping order."""
        return self.admit_all(self.screen_all(items))

    def screen_all(self, items: Iterable[tuple[bytes, str]]) -> list[Outcome]:
        """Screen (raw, position) pairs, keeping order (no state: safe in any thread)."""
        return [self.screen(raw, position) for raw, position in items]

    def admit_all(self, screened: Iterable[Outcome]) -> tuple[list[Accepted], list[DeadLetter]]:
        """Admit screened outcomes in order: accepted records and dead letters."""
        accepted: list[Accepted] = []
        dead: list[DeadLetter] = []
        for outcome in screened:
            admitted = self.admit(outcome)
            (accepted if isinstance(admitted, Accepted) else dead).append(admitted)  # type: ignore[arg-type]
        return accepted, dead
