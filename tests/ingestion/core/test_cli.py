"""The shared ingestion flags: clear errors before any work, and the reset default per mode."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingestion import samples
from ingestion.core.cli import add_ingest_arguments, input_lines, wants_reset
from lab.cli import LabError, parser


def parse(*argv: str):  # type: ignore[no-untyped-def]
    p = parser("test", "")
    add_ingest_arguments(p, "aws", batch_default=500, batch_help="batch")
    return p.parse_args(list(argv))


def test_generated_and_file_inputs(tmp_path: Path) -> None:
    lines = input_lines(parse("--records", "5", "--with-invalid", "3"), "aws")
    assert len(lines) == 8
    path = tmp_path / "in.jsonl"
    samples.write_jsonl(path, lines)
    assert input_lines(parse("--source", str(path)), "aws") == lines


@pytest.mark.parametrize(("argv", "message"), [
    (("--dataset", "../etc"), "--dataset"),
    (("--source", "/nonexistent/x.jsonl"), "cannot read"),
])
def test_bad_input_is_one_clear_error(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(LabError, match=message):
        input_lines(parse(*argv), "aws")


@pytest.mark.parametrize("argv", [("--with-invalid", "-1"), ("--seed", "-1"), ("--records", "100001")])
def test_out_of_range_numbers_stop_at_parsing(argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as refused:
        parse(*argv)
    assert refused.value.code == 2


def test_reset_defaults_to_local_only() -> None:
    assert wants_reset(parse(), "aws") is True  # the suite runs in local mode
    assert wants_reset(parse("--keep"), "aws") is False
    assert wants_reset(parse("--reset"), "aws") is True
