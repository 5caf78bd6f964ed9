"""The consumer's Kinesis client leaves record timestamps unparsed; everything else reads the same."""
from __future__ import annotations

from datetime import datetime

from ingestion.aws.ingest import Silo


def test_reader_skips_timestamp_parsing_only(silo: Silo) -> None:
    stream = silo.resources.stream_name
    silo.kinesis.put_record(StreamName=stream, Data=b'{"x":1}', PartitionKey="k")
    got = {}
    for name, kinesis in (("default", silo.kinesis), ("reader", silo.reader)):
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            got.setdefault(name, []).extend(kinesis.get_records(ShardIterator=iterator)["Records"])
    (plain,), (raw,) = got["default"], got["reader"]
    assert isinstance(plain["ApproximateArrivalTimestamp"], datetime)
    assert not isinstance(raw["ApproximateArrivalTimestamp"], datetime)
    assert (raw["Data"], raw["SequenceNumber"]) == (plain["Data"], plain["SequenceNumber"]) == (
        b'{"x":1}', plain["SequenceNumber"])
