"""securefl.inprocess: Flower's Grid contract without Ray (no training here: a toy ClientApp)."""
from __future__ import annotations

from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp

from securefl.inprocess import FIRST_NODE_ID, InProcessGrid

toy = ClientApp()


@toy.train()
def _count(msg: Message, context: Context) -> Message:
    """Counts the messages this node saw (in its Context) and fails on request."""
    if msg.content.config_records["cfg"].get("fail"):
        raise RuntimeError("client asked to fail")
    seen = int(context.state.config_records.get("n", ConfigRecord({"v": 0}))["v"]) + 1
    context.state.config_records["n"] = ConfigRecord({"v": seen})
    msg.content.config_records["cfg"]["touched"] = True  # must not reach the server's copy
    return Message(RecordDict({"out": ConfigRecord({"seen": seen,
                                                     "pid": int(context.node_config["partition-id"])})}), reply_to=msg)


def _send(grid: InProcessGrid, node: int, fail: bool = False) -> tuple[Message, Message]:
    from flwr.supercore.task_identity import TaskIdentity

    TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, grid.run.run_id, 1
    msg = grid.create_message(RecordDict({"cfg": ConfigRecord({"fail": fail})}), "train", node, "1")
    [reply] = grid.send_and_receive([msg])
    return msg, reply


def test_each_node_keeps_its_context_and_gets_a_copy() -> None:
    grid = InProcessGrid(toy, 3)
    assert list(grid.get_node_ids()) == [FIRST_NODE_ID, FIRST_NODE_ID + 1, FIRST_NODE_ID + 2]
    _send(grid, FIRST_NODE_ID + 2)
    msg, reply = _send(grid, FIRST_NODE_ID + 2)
    out = reply.content.config_records["out"]
    assert (out["seen"], out["pid"]) == (2, 2)
    assert reply.metadata.reply_to_message_id == msg.metadata.message_id and reply.metadata.message_id
    assert "touched" not in msg.content.config_records["cfg"]
    assert _send(grid, FIRST_NODE_ID)[1].content.config_records["out"]["seen"] == 1


def test_a_failing_client_is_an_error_reply() -> None:
    grid = InProcessGrid(toy, 2)
    _, reply = _send(grid, FIRST_NODE_ID, fail=True)
    assert reply.has_error() and "client asked to fail" in reply.error.reason
    assert list(grid.pull_messages(["unknown"])) == []
