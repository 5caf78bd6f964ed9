"""A small Event Hubs emulator: an asyncio AMQP 1.0 server for the azure-eventhub SDK.

Why our own: the official Event Hubs emulator needs Docker (not on these
machines) and generic AMQP brokers fail with the SDK, which needs ``$cbs``
put-token, ``$management`` READ and Event Hubs' message annotations. The AMQP
type codec is ``python-qpid-proton``'s ``proton.Data`` (maintained, on PyPI);
this module only does framing, the connection/session/link state machine and
the Event Hubs semantics. It never imports the SDK's private modules.

What it serves (client: ``EventHubProducerClient`` / ``EventHubConsumerClient``
with ``Endpoint=sb://127.0.0.1:PORT;...;UseDevelopmentEmulator=true;EntityPath=HUB``):

- SASL ANONYMOUS / PLAIN, then plain AMQP (no TLS, as the SDK's emulator mode expects).
- ``$cbs`` put-token: SAS tokens are checked (HMAC-SHA256 with the namespace's
  key, expiry, key name; the policy has all rights) and JWTs from a credential
  are checked like the service does: RS256 signature against the identity
  emulator's JWKS, issuer, audience and lifetime (``alg: none`` or HS256 -> 401).
  202 on success, 401 otherwise. Links to a hub need a valid token for it first
  (else the attach is refused with ``amqp:unauthorized-access``), as in the
  service; with a JWT, a sender link also needs the principal to hold
  ``Microsoft.EventHub/namespaces/messages/send/action`` and a receiver link
  ``.../receive/action`` (the AMQP form of a 403), from the operator's assignment
  file and the role documents in ``ingestion/azure/roles``. Without ``--jwks``
  only SAS tokens are accepted.
- ``$management`` READ of hub properties and partition properties.
- Partitions with sequence numbers, byte offsets and enqueued times; batches
  (message format 0x80013700) are split into events; a partition key picks a
  partition by a stable hash (same key -> same partition; the service's hash
  function differs); no key and no partition -> round robin.
- Consumers start at the position in the ``apache.org:selector-filter:string``
  filter (offset, sequence number or enqueued time, inclusive or not, ``-1`` and
  ``@latest``) and are served under AMQP link credit.
- Optional persistence (``--data-dir``): each partition's log is appended to a
  file and reloaded on start, so a restart loses nothing (retention is forever).

Not emulated (the fidelity table says so): TLS, consumer groups other than as
names, epochs/exclusive receivers, throttling, quotas, retention, geo-replication.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import socket
import struct
import sys
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proton import UNDESCRIBED, Array, Data, Described, symbol, timestamp, ubyte, uint, ulong, ushort

from lab.emulators import FAKE_EVENTHUBS_KEY, FAKE_EVENTHUBS_KEY_NAME, LOOPBACK, emulator_parser
from lab.emulators.identity import ISSUER
from lab.emulators.tokens import Grants, TokenRejected, Verifier

# -- AMQP 1.0 constants -------------------------------------------------------------
OPEN, BEGIN, ATTACH, FLOW, TRANSFER, DISPOSITION, DETACH, END, CLOSE = range(0x10, 0x19)
SASL_MECHANISMS, SASL_INIT, SASL_OUTCOME = 0x40, 0x41, 0x44
SOURCE, TARGET, ACCEPTED, REJECTED, ERROR = 0x28, 0x29, 0x24, 0x25, 0x1D
MESSAGE_ANNOTATIONS, PROPERTIES, APP_PROPERTIES, DATA_SECTION, AMQP_VALUE = 0x72, 0x73, 0x74, 0x75, 0x77
BATCH_FORMAT = 0x80013700
SASL_HEADER = b"AMQP\x03\x01\x00\x00"
AMQP_HEADER = b"AMQP\x00\x01\x00\x00"
MAX_FRAME = 1024 * 1024
MAX_MESSAGE = 1024 * 1024
SELECTOR = "apache.org:selector-filter:string"
SELECTOR_RE = re.compile(r"amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time)\s*(>=|>)\s*'([^']*)'")
JWT_AUDIENCES = ("https://eventhubs.azure.net", "https://eventhubs.azure.net/")
SEND_ACTION = "Microsoft.EventHub/namespaces/messages/send/action"
RECEIVE_ACTION = "Microsoft.EventHub/namespaces/messages/receive/action"
#: What a put-token grants: the hub, and the principal whose roles apply (None: the SAS policy, all rights).
Grant = tuple[str, str | None]

FAKE_KEY_NAME, FAKE_KEY = FAKE_EVENTHUBS_KEY_NAME, FAKE_EVENTHUBS_KEY


def encode(value: Any) -> bytes:
    data = Data()
    data.put_object(value)
    return bytes(data.encode())


def decode_one(buf: bytes) -> tuple[Any, int]:
    """Decode the first AMQP value in buf; return it and the bytes it used."""
    data = Data()
    used = data.decode(buf)
    data.rewind()
    data.next()
    return _owned(data.get_object()), used


def _owned(value: Any) -> Any:
    """Copy proton's binary views into bytes: they point into the Data's buffer, freed with it."""
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, Described):
        return Described(value.descriptor, _owned(value.value))
    if isinstance(value, list):
        return [_owned(v) for v in value]
    if isinstance(value, dict):
        return {_owned(k): _owned(v) for k, v in value.items()}
    return value


#: Field counts: the SDK indexes performatives without length checks, so send every field.
FIELD_COUNTS = {OPEN: 10, BEGIN: 8, ATTACH: 14, FLOW: 11, TRANSFER: 11, DISPOSITION: 6, DETACH: 3, END: 1,
                CLOSE: 1, SASL_MECHANISMS: 1, SASL_OUTCOME: 2}


def performative(code: int, *fields: Any) -> bytes:
    padded = list(fields) + [None] * (FIELD_COUNTS[code] - len(fields))
    return encode(Described(ulong(code), padded))


def frame(body: bytes, channel: int = 0, kind: int = 0) -> bytes:
    return struct.pack(">IBBH", 8 + len(body), 2, kind, channel) + body


def field_at(fields: Sequence[Any], index: int, default: Any = None) -> Any:
    return fields[index] if index < len(fields) and fields[index] is not None else default


def amqp_error(condition: str, description: str) -> Described:
    return Described(ulong(ERROR), [symbol(condition), description])


def text(value: Any) -> str:
    return value.decode() if isinstance(value, (bytes, bytearray)) else str(value)


# -- messages -----------------------------------------------------------------------------


def split_sections(raw: bytes) -> list[tuple[int, bytes]]:
    """A message's sections as (descriptor code, raw bytes), byte-preserving."""
    sections: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(raw):
        value, used = decode_one(raw[pos:])
        code = int(value.descriptor) if isinstance(value, Described) else -1
        sections.append((code, raw[pos : pos + used]))
        pos += used
    return sections


def section_value(section: bytes) -> Any:
    return decode_one(section)[0].value


def annotate(raw: bytes, extra: dict[str, Any]) -> bytes:
    """raw with `extra` merged into its message-annotations section (other sections untouched)."""
    sections = split_sections(raw)
    annotations: dict[Any, Any] = {}
    for code, body in sections:
        if code == MESSAGE_ANNOTATIONS:
            annotations = dict(section_value(body) or {})
    annotations.update({symbol(k): v for k, v in extra.items()})
    new = encode(Described(ulong(MESSAGE_ANNOTATIONS), annotations))
    before = b"".join(b for c, b in sections if c < MESSAGE_ANNOTATIONS)
    after = b"".join(b for c, b in sections if c > MESSAGE_ANNOTATIONS)
    return before + new + after


def annotation(raw: bytes, key: str) -> Any:
    for code, body in split_sections(raw):
        if code == MESSAGE_ANNOTATIONS:
            return (section_value(body) or {}).get(symbol(key))
    return None


def make_message(app_properties: dict[str, Any], body: Any, correlation_id: Any = None) -> bytes:
    props = encode(Described(ulong(PROPERTIES), [None, None, None, None, None, correlation_id]))
    app = encode(Described(ulong(APP_PROPERTIES), app_properties))
    return props + app + encode(Described(ulong(AMQP_VALUE), body))


def parse_request(raw: bytes) -> tuple[Any, dict[str, Any], Any]:
    """(message-id, application properties with str keys, body value) of a request message."""
    message_id, app, body = None, {}, None
    for code, section in split_sections(raw):
        if code == PROPERTIES:
            message_id = field_at(section_value(section), 0)
        elif code == APP_PROPERTIES:
            app = {text(k): v for k, v in (section_value(section) or {}).items()}
        elif code in (AMQP_VALUE, DATA_SECTION):
            body = section_value(section)
    return message_id, app, body


# -- the event store ---------------------------------------------------------------------------


@dataclass
class Event:
    sequence: int
    offset: int
    enqueued_ms: int
    raw: bytes  # the message as delivered (annotations included)


@dataclass
class Partition:
    hub: str
    pid: str
    log_path: Path | None = None
    events: list[Event] = field(default_factory=list)
    next_offset: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def load(self) -> None:
        if self.log_path is None or not self.log_path.exists():
            return
        blob = self.log_path.read_bytes()
        pos = 0
        while pos + 12 <= len(blob):
            size, enqueued = struct.unpack_from(">IQ", blob, pos)
            if pos + 12 + size > len(blob):
                break  # a torn tail write: drop it
            self._add(blob[pos + 12 : pos + 12 + size], enqueued)
            pos += 12 + size

    def _add(self, raw: bytes, enqueued_ms: int) -> Event:
        event = Event(len(self.events), self.next_offset, enqueued_ms, raw)
        self.events.append(event)
        self.next_offset += len(raw)
        return event

    def append(self, message: bytes, partition_key: str | None) -> None:
        enqueued_ms = int(time.time() * 1000)
        extra: dict[str, Any] = {
            "x-opt-sequence-number": len(self.events),
            "x-opt-offset": str(self.next_offset),
            "x-opt-enqueued-time": timestamp(enqueued_ms),
        }
        if partition_key is not None:
            extra["x-opt-partition-key"] = partition_key
        raw = annotate(message, extra)
        self._add(raw, enqueued_ms)
        if self.log_path is not None:
            with open(self.log_path, "ab") as log:
                log.write(struct.pack(">IQ", len(raw), enqueued_ms) + raw)
        self.changed.set()
        self.changed = asyncio.Event()

    def start_index(self, selector: str | None) -> int:
        """Index of the first event a consumer with this selector receives."""
        if not selector:
            return len(self.events)
        match = SELECTOR_RE.search(selector)
        if match is None:
            raise ValueError(f"unsupported selector {selector!r}")
        kind, op, value = match.groups()
        if value == "@latest":
            return len(self.events)
        bound = int(value)
        for event in self.events:
            key = {"offset": event.offset, "sequence-number": event.sequence, "enqueued-time": event.enqueued_ms}[kind]
            if key > bound or (op == ">=" and key == bound):
                return event.sequence
        return len(self.events)

    def properties(self) -> dict[str, Any]:
        last = self.events[-1] if self.events else None
        return {
            "name": self.hub,
            "type": "com.microsoft:partition",
            "partition": self.pid,
            "begin_sequence_number": 0,
            "last_enqueued_sequence_number": last.sequence if last else -1,
            "last_enqueued_offset": str(last.offset) if last else "-1",
            "last_enqueued_time_utc": timestamp(last.enqueued_ms if last else 0),
            "is_partition_empty": last is None,
        }


class Hub:
    def __init__(self, name: str, partitions: int, data_dir: Path | None) -> None:
        self.name = name
        self.created_ms = int(time.time() * 1000)
        folder = data_dir / name if data_dir else None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            meta = folder / "hub.json"
            if meta.exists():
                saved = json.loads(meta.read_text())
                self.created_ms, partitions = saved["created_ms"], saved["partitions"]
            else:
                meta.write_text(json.dumps({"created_ms": self.created_ms, "partitions": partitions}))
        self.partitions = [
            Partition(name, str(i), folder / f"partition-{i}.log" if folder else None) for i in range(partitions)
        ]
        for partition in self.partitions:
            partition.load()
        self._round_robin = itertools.cycle(range(partitions))

    def route(self, partition_key: str | None) -> Partition:
        if partition_key is None:
            return self.partitions[next(self._round_robin)]
        digest = hashlib.sha256(partition_key.encode()).digest()
        return self.partitions[int.from_bytes(digest[:8], "big") % len(self.partitions)]

    def properties(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": "com.microsoft:eventhub",
            "created_at": timestamp(self.created_ms),
            "partition_count": len(self.partitions),
            "partition_ids": Array(UNDESCRIBED, Data.STRING, *[p.pid for p in self.partitions]),
        }


class Namespace:
    """The hubs of one emulated namespace, the key that signs its SAS tokens, and who may use JWTs."""

    def __init__(self, hubs: dict[str, int], key_name: str, key: str, data_dir: Path | None,
                 verifier: Verifier | None = None, grants: Grants | None = None) -> None:
        self.hubs = {name: Hub(name, count, data_dir) for name, count in hubs.items()}
        self.key_name, self.key = key_name, key
        self.verifier, self.grants = verifier, grants

    def check_token(self, token_type: str, token: str, audience: str) -> Grant | None:
        """Return what this token grants (hub, principal), or None if it is invalid."""
        if token_type == "servicebus.windows.net:sastoken":
            fields = dict(urllib.parse.parse_qsl(token.removeprefix("SharedAccessSignature ")))
            resource, expiry, signature = fields.get("sr", ""), fields.get("se", "0"), fields.get("sig", "")
            to_sign = f"{urllib.parse.quote_plus(resource)}\n{expiry}".encode()
            expected = base64.b64encode(hmac.new(self.key.encode(), to_sign, hashlib.sha256).digest()).decode()
            if fields.get("skn") != self.key_name or not hmac.compare_digest(expected, signature):
                return None
            if not expiry.isdigit() or int(expiry) < time.time():
                return None
            return hub_of(resource), None
        if token_type == "jwt" and self.verifier is not None:
            try:
                claims = self.verifier.verify(token)
            except TokenRejected:
                return None
            return hub_of(audience), str(claims["sub"])
        return None

    def may(self, principal: str | None, action: str) -> bool:
        """SAS (principal None) may do anything; a JWT principal what its roles grant."""
        return principal is None or (self.grants is not None and self.grants.allows(principal, action))


def hub_of(address: str) -> str:
    """The hub name in an address like sb://host/hub/ConsumerGroups/$Default/Partitions/0."""
    path = urllib.parse.urlparse(address).path if "://" in address else address
    return path.strip("/").split("/")[0]


# -- one client connection ------------------------------------------------------------------


@dataclass
class Link:
    name: str
    handle: int
    remote_handle: int
    role_receiver: bool  # True when *we* receive (client sends)
    address: str
    session: Session
    partition: Partition | None = None
    hub: Hub | None = None
    next_index: int = 0
    delivery_count: int = 0
    credit: int = 0
    outbox: list[bytes] = field(default_factory=list)  # management replies
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    pump: asyncio.Task[None] | None = None
    pending: bytearray = field(default_factory=bytearray)
    pending_delivery: tuple[int, bool] | None = None  # (delivery id, settled)


@dataclass
class Session:
    channel: int
    remote_channel: int
    next_outgoing_id: int = 0
    next_incoming_id: int = 0
    links: dict[int, Link] = field(default_factory=dict)  # by remote handle


class Connection:
    def __init__(self, ns: Namespace, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.ns, self.reader, self.writer = ns, reader, writer
        self.sessions: dict[int, Session] = {}
        self.authorized: dict[str, str | None] = {}  # hub -> principal (None: SAS)
        self.remote_max_frame = 512
        self.delivery_ids = itertools.count()
        self.channels = itertools.count()
        self.closed = False

    def send(self, channel: int, body: bytes, kind: int = 0) -> None:
        if not self.closed:
            self.writer.write(frame(body, channel, kind))

    async def run(self) -> None:
        try:
            await self.handshake()
            while not self.closed:
                header = await self.reader.readexactly(8)
                size, doff, _kind, channel = struct.unpack(">IBBH", header)
                rest = await self.reader.readexactly(size - 8)
                body = rest[doff * 4 - 8 :]
                if body:
                    await self.dispatch(channel, body)
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed = True
            for session in self.sessions.values():
                for link in session.links.values():
                    if link.pump:
                        link.pump.cancel()
            self.writer.close()

    async def read_frame_body(self) -> bytes:
        size, doff, _kind, _channel = struct.unpack(">IBBH", await self.reader.readexactly(8))
        rest = await self.reader.readexactly(size - 8)
        return rest[doff * 4 - 8 :]

    async def handshake(self) -> None:
        header = await self.reader.readexactly(8)
        if header == SASL_HEADER:
            self.writer.write(SASL_HEADER)
            mechanisms = Array(UNDESCRIBED, Data.SYMBOL, symbol("ANONYMOUS"), symbol("PLAIN"))
            self.send(0, performative(SASL_MECHANISMS, mechanisms), kind=1)
            init, _ = decode_one(await self.read_frame_body())
            mechanism = text(field_at(init.value, 0, ""))
            self.send(0, performative(SASL_OUTCOME, ubyte(0 if mechanism in ("ANONYMOUS", "PLAIN") else 1)), kind=1)
            await self.writer.drain()
            if mechanism not in ("ANONYMOUS", "PLAIN"):
                raise ConnectionError("unsupported SASL mechanism")
            header = await self.reader.readexactly(8)
        if header != AMQP_HEADER:
            self.writer.write(AMQP_HEADER)
            raise ConnectionError("not AMQP 1.0")
        self.writer.write(AMQP_HEADER)

    async def dispatch(self, channel: int, body: bytes) -> None:
        value, used = decode_one(body)
        code, fields = int(value.descriptor), list(value.value or [])
        if code not in (OPEN, BEGIN, CLOSE) and channel not in self.sessions:
            return  # a frame for a session that already ended
        if code == OPEN:
            self.remote_max_frame = int(field_at(fields, 2, 512))
            idle = field_at(fields, 4)
            self.send(0, performative(OPEN, "lab-eventhubs-emulator", None, uint(MAX_FRAME), None, None))
            if idle:
                asyncio.get_running_loop().create_task(self.heartbeat(int(idle) / 2000))
        elif code == BEGIN:
            ours = next(self.channels)
            self.sessions[channel] = Session(ours, channel, next_incoming_id=int(field_at(fields, 1, 0)))
            self.send(ours, performative(BEGIN, ushort(channel), uint(0), uint(65536), uint(65536), uint(1023)))
        elif code == ATTACH:
            self.attach(self.sessions[channel], fields)
        elif code == FLOW:
            self.flow(self.sessions[channel], fields)
        elif code == TRANSFER:
            self.transfer(self.sessions[channel], fields, body[used:])
        elif code == DETACH:
            self.detach(self.sessions[channel], fields)
        elif code == END:
            session = self.sessions.pop(channel)
            for link in session.links.values():
                if link.pump:
                    link.pump.cancel()
            self.send(session.channel, performative(END))
        elif code == CLOSE:
            self.send(0, performative(CLOSE))
            await self.writer.drain()
            self.closed = True
        # DISPOSITION from the client (settling our pre-settled deliveries) needs no answer

    async def heartbeat(self, interval: float) -> None:
        while not self.closed:
            await asyncio.sleep(max(interval, 0.5))
            self.writer.write(struct.pack(">IBBH", 8, 2, 0, 0))

    # -- links --------------------------------------------------------------------------

    def attach(self, session: Session, fields: list[Any]) -> None:
        name, remote_handle, client_is_receiver = field_at(fields, 0), int(field_at(fields, 1)), bool(field_at(fields, 2))
        source, target = field_at(fields, 5), field_at(fields, 6)
        node = source if client_is_receiver else target
        address = text(field_at(node.value, 0, "")) if isinstance(node, Described) else ""
        link = Link(name, len(session.links), remote_handle, not client_is_receiver, address, session)
        session.links[remote_handle] = link
        error = self.resolve(link, source)
        reply = performative(
            ATTACH, name, uint(link.handle), not client_is_receiver, field_at(fields, 3), field_at(fields, 4),
            source if error is None or client_is_receiver is False else None,
            target if error is None or client_is_receiver else None,
            None, None, uint(0) if client_is_receiver else None, ulong(MAX_MESSAGE),
        )
        self.send(session.channel, reply)
        if error is not None:
            self.send(session.channel, performative(DETACH, uint(link.handle), True, error))
            return
        if link.role_receiver:
            link.credit = 1000
            self.send_flow(link)
        else:
            link.pump = asyncio.get_running_loop().create_task(self.pump(link))

    def resolve(self, link: Link, source: Any) -> Described | None:
        """Bind a link to what it addresses; return an AMQP error when it may not attach."""
        if link.address in ("$cbs", "$management"):
            return None
        hub_name = hub_of(link.address)
        hub = self.ns.hubs.get(hub_name)
        if hub is None:
            return amqp_error("amqp:not-found", f"The messaging entity '{hub_name}' could not be found.")
        if hub_name not in self.authorized:
            return amqp_error("amqp:unauthorized-access", f"Unauthorized access to '{hub_name}': put a token first.")
        action, claim = (SEND_ACTION, "Send") if link.role_receiver else (RECEIVE_ACTION, "Listen")
        if not self.ns.may(self.authorized[hub_name], action):
            return amqp_error("amqp:unauthorized-access",
                              f"Unauthorized access. '{claim}' claim(s) are required to perform this operation "
                              f"(the caller's roles lack {action}).")
        link.hub = hub
        match = re.search(r"/Partitions/([^/]+)$", link.address)
        if match:
            pid = match.group(1)
            if not pid.isdigit() or int(pid) >= len(hub.partitions):
                return amqp_error("amqp:not-found", f"Partition '{pid}' does not exist in '{hub_name}'.")
            link.partition = hub.partitions[int(pid)]
        if not link.role_receiver:
            if link.partition is None:
                return amqp_error("amqp:not-allowed", "A consumer must address one partition.")
            filters = field_at(source.value, 7, {}) if isinstance(source, Described) else {}
            selector = None
            for key, val in (filters or {}).items():
                if text(key) == SELECTOR:
                    selector = text(val.value if isinstance(val, Described) else val)
            try:
                link.next_index = link.partition.start_index(selector)
            except ValueError as exc:
                return amqp_error("amqp:invalid-field", str(exc))
        return None

    def send_flow(self, link: Link) -> None:
        s = link.session
        self.send(s.channel, performative(
            FLOW, uint(s.next_incoming_id), uint(65536), uint(s.next_outgoing_id), uint(65536),
            uint(link.handle), uint(link.delivery_count), uint(link.credit),
        ))

    def flow(self, session: Session, fields: list[Any]) -> None:
        handle = field_at(fields, 4)
        if handle is None or int(handle) not in session.links:
            return
        link = session.links[int(handle)]
        if not link.role_receiver:
            remote_count = int(field_at(fields, 5, link.delivery_count))
            link.credit = max(0, remote_count + int(field_at(fields, 6, 0)) - link.delivery_count)
            link.wake.set()

    def detach(self, session: Session, fields: list[Any]) -> None:
        link = session.links.pop(int(field_at(fields, 0)), None)
        if link is None:
            return
        if link.pump:
            link.pump.cancel()
        self.send(session.channel, performative(DETACH, uint(link.handle), True))

    def transfer(self, session: Session, fields: list[Any], payload: bytes) -> None:
        session.next_incoming_id += 1
        link = session.links.get(int(field_at(fields, 0)))
        if link is None:
            return
        if link.pending_delivery is None:
            link.pending_delivery = (int(field_at(fields, 1, 0)), bool(field_at(fields, 4, False)))
        link.pending.extend(payload)
        if field_at(fields, 5, False):  # more frames follow
            return
        delivery_id, settled = link.pending_delivery
        message, link.pending, link.pending_delivery = bytes(link.pending), bytearray(), None
        format_code = int(field_at(fields, 3, 0) or 0)
        outcome = self.handle_message(link, message, format_code)
        if not settled:
            self.send(session.channel, performative(
                DISPOSITION, True, uint(delivery_id), uint(delivery_id), True, outcome,
            ))
        link.credit -= 1
        link.delivery_count += 1
        if link.credit < 500:
            link.credit = 1000
            self.send_flow(link)

    def handle_message(self, link: Link, message: bytes, format_code: int) -> Described:
        accepted = Described(ulong(ACCEPTED), [])
        if link.address == "$cbs":
            self.reply(link, self.put_token(message))
            return accepted
        if link.address == "$management":
            self.reply(link, self.management(message))
            return accepted
        if link.hub is None:
            return Described(ulong(REJECTED), [amqp_error("amqp:not-allowed", "not an event hub link")])
        events = [message]
        if format_code == BATCH_FORMAT:
            events = [section_value(body) for code, body in split_sections(message) if code == DATA_SECTION]
        envelope_key = annotation(message, "x-opt-partition-key")
        for event in events:
            key = envelope_key if envelope_key is not None else annotation(event, "x-opt-partition-key")
            partition = link.partition or link.hub.route(text(key) if key is not None else None)
            partition.append(bytes(event), text(key) if key is not None else None)
        return accepted

    def reply(self, request_link: Link, message: bytes) -> None:
        """Queue a management reply on the client's receiver link of the same node."""
        for link in request_link.session.links.values():
            if not link.role_receiver and link.address == request_link.address:
                link.outbox.append(message)
                link.wake.set()
                return

    def put_token(self, message: bytes) -> bytes:
        message_id, app, body = parse_request(message)
        audience, token_type = text(app.get("name", "")), text(app.get("type", ""))
        grant = self.ns.check_token(token_type, text(body or ""), audience)
        if grant is None or grant[0] != hub_of(audience):
            return make_message({"status-code": 401, "status-description": "InvalidSignature: the token is not valid."},
                                None, message_id)
        self.authorized[grant[0]] = grant[1]
        return make_message({"status-code": 202, "status-description": "Accepted"}, None, message_id)

    def management(self, message: bytes) -> bytes:
        message_id, app, _ = parse_request(message)
        name, kind = text(app.get("name", "")), text(app.get("type", ""))
        hub = self.ns.hubs.get(name)
        if text(app.get("operation", "")) != "READ":
            return make_message({"status-code": 400, "status-description": "Only READ is supported."}, None, message_id)
        if hub is None:
            return make_message({"status-code": 404, "status-description": f"Entity '{name}' not found."}, None, message_id)
        if name not in self.authorized:
            return make_message({"status-code": 401, "status-description": "Unauthorized."}, None, message_id)
        if kind == "com.microsoft:eventhub":
            return make_message({"status-code": 200, "status-description": "OK"}, hub.properties(), message_id)
        pid = text(app.get("partition", ""))
        if kind == "com.microsoft:partition" and pid.isdigit() and int(pid) < len(hub.partitions):
            return make_message({"status-code": 200, "status-description": "OK"},
                                hub.partitions[int(pid)].properties(), message_id)
        return make_message({"status-code": 404, "status-description": f"Partition '{pid}' not found."}, None, message_id)

    async def pump(self, link: Link) -> None:
        """Send what the link's source has, as far as the client's credit allows."""
        while not self.closed:
            sent = False
            while link.credit > 0:
                if link.outbox:
                    raw = link.outbox.pop(0)
                elif link.partition is not None and link.next_index < len(link.partition.events):
                    raw = link.partition.events[link.next_index].raw
                    link.next_index += 1
                else:
                    break
                self.deliver(link, raw)
                sent = True
            if sent:
                await self.writer.drain()
                continue
            waits = [asyncio.ensure_future(link.wake.wait())]
            if link.partition is not None:
                waits.append(asyncio.ensure_future(link.partition.changed.wait()))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            link.wake.clear()

    def deliver(self, link: Link, raw: bytes) -> None:
        s = link.session
        delivery_id = next(self.delivery_ids)
        chunk = max(512, self.remote_max_frame - 256)
        pieces = [raw[i : i + chunk] for i in range(0, len(raw), chunk)] or [b""]
        for index, piece in enumerate(pieces):
            more = index < len(pieces) - 1
            head = (
                performative(TRANSFER, uint(link.handle), uint(delivery_id), struct.pack(">Q", delivery_id),
                             uint(0), True, more)
                if index == 0 else performative(TRANSFER, uint(link.handle), None, None, None, None, more)
            )
            self.send(s.channel, head + piece)
            s.next_outgoing_id += 1
        link.delivery_count += 1
        link.credit -= 1


# -- entry point --------------------------------------------------------------------------------


def parse_hubs(specs: Sequence[str]) -> dict[str, int]:
    hubs: dict[str, int] = {}
    for spec in specs:
        name, _, count = spec.partition(":")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,255}", name) or not count.isdigit() or not 1 <= int(count) <= 32:
            raise SystemExit(f"--hub {spec!r}: expected NAME:PARTITIONS with 1..32 partitions")
        hubs[name] = int(count)
    return hubs


async def serve(port: int, ns: Namespace) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:  # small frames, request/response: Nagle + delayed ACK would add ~40 ms a step
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await Connection(ns, reader, writer).run()

    server = await asyncio.start_server(handle, LOOPBACK, port)
    print(f"eventhubs emulator on {LOOPBACK}:{port}, hubs {sorted(ns.hubs)}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    parser = emulator_parser("python -m lab.emulators.eventhubs", "Event Hubs (AMQP 1.0) emulator for azure-eventhub.")
    parser.add_argument("--hub", action="append", default=[], metavar="NAME:PARTITIONS",
                        help="an event hub to serve (repeatable), e.g. records:4")
    parser.add_argument("--data-dir", type=Path, help="persist partition logs here (default: memory only)")
    parser.add_argument("--key-name", default=FAKE_KEY_NAME, help="SAS policy name tokens must use")
    parser.add_argument("--jwks", type=Path, help="the identity emulator's JWKS file (JWTs refused without it)")
    parser.add_argument("--assignments", type=Path, help="operator's role assignments (JSON), with --jwks")
    parser.add_argument("--roles-dir", type=Path, help="role documents (ingestion/azure/roles), with --jwks")
    args = parser.parse_args(argv)
    if not args.hub:
        parser.error("give at least one --hub NAME:PARTITIONS")
    if args.jwks and not (args.assignments and args.roles_dir):
        parser.error("--jwks needs --assignments and --roles-dir (who may send or receive)")
    key = os.environ.get("LAB_EVENTHUBS_SAS_KEY", FAKE_KEY)
    verifier = Verifier(args.jwks, ISSUER, JWT_AUDIENCES) if args.jwks else None
    grants = Grants(args.assignments, args.roles_dir, "azure") if args.jwks else None
    ns = Namespace(parse_hubs(args.hub), args.key_name, key, args.data_dir, verifier, grants)
    try:
        asyncio.run(serve(args.port, ns))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
