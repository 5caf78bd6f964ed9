"""An in-process Flower runtime: the ServerApp's Grid hands each message straight to the ClientApp.

Why: Flower 1.42's simulation engine has exactly one backend. ``start_vce`` ignores its
``backend_name`` argument and always builds a ``RayBackend`` (``flwr/server/superlink/fleet/
vce/vce_api.py``), and ``RayBackend.terminate`` shuts Ray down after every run. On a 2-core
laptop Ray's start-up was most of a run (round 1 23-40 s, later rounds 1.3-1.5 s), once per
training. This Grid implements Flower's public ``flwr.serverapp.Grid`` contract instead and
calls the real ``ClientApp`` (with its mods: SecAgg+, clipping) the way a SuperNode would:
one ``Context`` per node that persists across rounds, a copy of every message (as if it
had crossed the wire, so no object is shared between server and client), an error reply
when the ClientApp raises. Clients run one after another, which also keeps every client's
seeded training reproducible (Opacus draws its noise from the process's torch RNG).

What it does not simulate: process isolation between clients and message TTL expiry. The
``ray`` runtime (``securefl.run.RUNTIMES``) keeps Flower's own engine for comparison.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from uuid import uuid4

from flwr.app import Context, Message, RecordDict
from flwr.app.error import Error
from flwr.clientapp import ClientApp
from flwr.common.constant import SUPERLINK_NODE_ID, ErrorCode
from flwr.serverapp import Grid
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

FIRST_NODE_ID = 1001  # distinct from the SuperLink's id; node ids only need to be distinct and stable


class InProcessGrid(Grid):
    """A Grid over ``num_nodes`` virtual SuperNodes whose ClientApp runs in this process."""

    def __init__(self, client_app: ClientApp, num_nodes: int, run_id: int = 1) -> None:
        self._client_app = client_app
        self._run = Run.create_empty(run_id)
        self._contexts = {
            FIRST_NODE_ID + pid: Context(run_id=run_id, node_id=FIRST_NODE_ID + pid,
                                         node_config={"partition-id": pid, "num-partitions": num_nodes},
                                         state=RecordDict(), run_config={})
            for pid in range(num_nodes)}
        self._replies: dict[str, Message] = {}

    def set_run(self, run: Run) -> None:
        self._run = run

    @property
    def run(self) -> Run:
        return self._run

    def create_message(self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        return list(self._contexts)

    def _deliver(self, message: Message) -> Message:
        """What a SuperNode returns for this message: the ClientApp's reply, or an error reply."""
        context = self._contexts[message.metadata.dst_node_id]
        try:
            reply = self._client_app(message=copy.deepcopy(message), context=context)
        except Exception as exc:  # a failing client is a reply, as in Flower's engine, not a crashed server
            reply = Message(Error(code=ErrorCode.CLIENT_APP_RAISED_EXCEPTION, reason=f"{type(exc).__name__}: {exc}"),
                            reply_to=message)
        reply = copy.deepcopy(reply)
        reply.metadata.__dict__["_message_id"] = str(uuid4())
        return reply

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Deliver every message now; replies wait to be pulled under the message's id."""
        ids = []
        for message in messages:
            message.metadata.__dict__["_message_id"] = str(uuid4())
            message.metadata.__dict__["_run_id"] = self._run.run_id
            if message.metadata.dst_node_id not in self._contexts:
                raise ValueError(f"no node {message.metadata.dst_node_id} in this run")
            self._replies[message.metadata.message_id] = self._deliver(message)
            ids.append(message.metadata.message_id)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        return [self._replies.pop(i) for i in message_ids if i in self._replies]

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        return list(self.pull_messages(list(self.push_messages(messages))))


def run_inprocess(server_app: object, client_app: ClientApp, num_nodes: int) -> float:
    """Run a ServerApp against ``num_nodes`` in-process nodes; returns the seconds it took."""
    started = time.perf_counter()
    grid = InProcessGrid(client_app, num_nodes)
    # the server's identity on its messages: the same dummy identity flwr.simulation sets for this API
    TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, grid.run.run_id, SUPERLINK_NODE_ID
    context = Context(run_id=grid.run.run_id, node_id=0, node_config={}, state=RecordDict(), run_config={})
    server_app(grid, context)  # type: ignore[operator]
    return time.perf_counter() - started
