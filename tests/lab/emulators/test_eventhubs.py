"""The Event Hubs emulator, with the real azure-eventhub 5.15 producer and consumer clients."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.eventhub import EventData, EventHubConsumerClient, EventHubProducerClient
from azure.eventhub.exceptions import EventHubError

from lab.localcloud.base import free_port, port_open

pytestmark = pytest.mark.emulator
HUB = "hub-test"


class Server:
    def __init__(self, data_dir: Path | None = None, partitions: int = 3) -> None:
        self.port = free_port()
        argv = [sys.executable, "-m", "lab.emulators.eventhubs", "--port", str(self.port), "--hub", f"{HUB}:{partitions}"]
        if data_dir is not None:
            argv += ["--data-dir", str(data_dir)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not port_open(self.port):
            assert self.proc.poll() is None and time.monotonic() < deadline, "emulator did not start"
            time.sleep(0.1)

    def conn(self, key: str = "fake-emulator-key", hub: str = HUB) -> str:
        return (f"Endpoint=sb://127.0.0.1:{self.port};SharedAccessKeyName=FakeEmulatorKeyName;"
                f"SharedAccessKey={key};UseDevelopmentEmulator=true;EntityPath={hub}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.stop()


def send(conn: str, bodies: list[bytes], **batch_args: Any) -> None:
    with EventHubProducerClient.from_connection_string(conn) as producer:
        batch = producer.create_batch(**batch_args)
        for body in bodies:
            batch.add(EventData(body))
        producer.send_batch(batch)


def receive(conn: str, partition: str, start: Any, inclusive: bool = False, expect: int | None = None,
            wait_s: float = 10.0) -> list[Any]:
    """Events from start; returns once `expect` arrived (or, with expect=None, after 2 s)."""
    got: list[Any] = []
    client = EventHubConsumerClient.from_connection_string(conn, "$Default")
    thread = threading.Thread(target=client.receive, daemon=True, kwargs={
        "on_event": lambda _c, e: got.append(e) if e is not None else None, "partition_id": partition,
        "starting_position": start, "starting_position_inclusive": inclusive, "max_wait_time": 0.5})
    thread.start()
    deadline = time.monotonic() + (wait_s if expect is not None else 2.0)
    while time.monotonic() < deadline and (expect is None or len(got) < expect):
        time.sleep(0.05)
    client.close()
    thread.join(timeout=10)
    return got


def test_properties_and_partition_key_routing(server: Server) -> None:
    with EventHubProducerClient.from_connection_string(server.conn()) as producer:
        props = producer.get_eventhub_properties()
        assert props["eventhub_name"] == HUB and props["partition_ids"] == ["0", "1", "2"]
        before = {p: producer.get_partition_properties(p)["last_enqueued_sequence_number"] for p in "012"}
    send(server.conn(), [b"a1", b"a2", b"a3"], partition_key="user-7")
    send(server.conn(), [b"b1", b"b2"], partition_key="user-7")
    with EventHubProducerClient.from_connection_string(server.conn()) as producer:
        after = {p: producer.get_partition_properties(p) for p in "012"}
    grown = [p for p in "012" if after[p]["last_enqueued_sequence_number"] != before[p]]
    assert len(grown) == 1, "one partition key must map to one partition"
    p = grown[0]
    assert after[p]["last_enqueued_sequence_number"] - before[p] == 5 and not after[p]["is_empty"]
    events = receive(server.conn(), p, "-1", expect=after[p]["last_enqueued_sequence_number"] + 1)
    bodies = [e.body_as_str() for e in events]
    assert bodies[-5:] == ["a1", "a2", "a3", "b1", "b2"]
    sequences = [e.sequence_number for e in events]
    offsets = [int(e.offset) for e in events]
    assert sequences == list(range(len(events))) and offsets == sorted(set(offsets))
    assert all(e.partition_key == b"user-7" and e.enqueued_time is not None for e in events)


@pytest.mark.slow
def test_starting_positions(server: Server) -> None:
    send(server.conn(), [f"s{i}".encode() for i in range(6)], partition_id="2")
    with EventHubProducerClient.from_connection_string(server.conn()) as producer:
        total = producer.get_partition_properties("2")["last_enqueued_sequence_number"] + 1
    everything = receive(server.conn(), "2", "-1", expect=total)
    assert len(everything) == total >= 6
    third = everything[2]
    assert receive(server.conn(), "2", third.sequence_number, expect=1)[0].sequence_number == third.sequence_number + 1
    assert receive(server.conn(), "2", third.sequence_number, inclusive=True, expect=1)[0].sequence_number \
        == third.sequence_number
    assert receive(server.conn(), "2", third.offset, expect=1)[0].sequence_number == third.sequence_number + 1
    assert receive(server.conn(), "2", everything[-1].sequence_number) == []

    got: list[Any] = []
    client = EventHubConsumerClient.from_connection_string(server.conn(), "$Default")
    thread = threading.Thread(target=client.receive, daemon=True, kwargs={
        "on_event": lambda _c, e: got.append(e.body_as_str()) if e is not None else None,
        "partition_id": "2", "starting_position": "@latest", "max_wait_time": 0.5})
    thread.start()
    time.sleep(1.0)
    send(server.conn(), [b"new"], partition_id="2")
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    client.close()
    thread.join(timeout=10)
    assert got == ["new"]


def test_bad_key_and_unknown_hub_are_refused(server: Server) -> None:
    with EventHubProducerClient.from_connection_string(server.conn(key="wrong-key"), retry_total=0) as producer:
        with pytest.raises(EventHubError):
            producer.get_eventhub_properties()
        with pytest.raises(EventHubError):
            batch = producer.create_batch(partition_id="0")
            batch.add(EventData(b"x"))
            producer.send_batch(batch)
    with EventHubProducerClient.from_connection_string(server.conn(hub="no-such-hub"), retry_total=0) as producer:
        with pytest.raises(EventHubError):
            producer.get_eventhub_properties()


def test_large_events_span_frames(server: Server) -> None:
    body = bytes(range(256)) * 2000  # 512 KB: several AMQP frames each way
    send(server.conn(), [body], partition_id="1")
    events = receive(server.conn(), "1", "-1", expect=1)
    assert events and b"".join(events[-1].body) == body


def test_partition_logs_survive_a_restart(tmp_path: Path) -> None:
    first = Server(tmp_path, partitions=1)
    try:
        send(first.conn(), [b"kept-1", b"kept-2"])
    finally:
        first.stop()
    second = Server(tmp_path, partitions=1)
    try:
        events = receive(second.conn(), "0", "-1", expect=2)
        assert [e.body_as_str() for e in events] == ["kept-1", "kept-2"]
        assert [e.sequence_number for e in events] == [0, 1]
    finally:
        second.stop()


def test_cli_rejects_bad_hub_specs() -> None:
    for argv in ([], ["--hub", "x:0"], ["--hub", "bad name:2"]):
        proc = subprocess.run([sys.executable, "-m", "lab.emulators.eventhubs", "--port", "1", *argv],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and "hub" in proc.stderr.lower()
