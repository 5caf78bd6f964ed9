"""The grader's own steps, run as a subprocess on the grading run's state (``LAB_STATE_DIR``).

    python -m course.grading.helper records --silo aws --seed 7 --out lines.jsonl
    python -m course.grading.helper readback --silo aws --dataset d --truth truth.json
    python -m course.grading.helper signing-key
    python -m course.grading.helper model --dir fl-out --public-key HEX
    python -m course.grading.helper poison --seed 7 --kind backdoor --out set.npz

A subprocess, because settings (keys, emulator ports) are read once per process from
``LAB_STATE_DIR``; this checkout's code runs here, never the graded copy's. Each command
prints one JSON object last. Truth (which record or sample is which) goes to stdout, into the
grader's memory, never to a file the copy's processes could read while they run.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lab.cli import parser, run_main


def _records(args: Any) -> dict[str, Any]:
    from course.grading.records import make_records
    from lab.config import settings

    lines, truth = make_records(settings().state_dir, args.silo, args.valid, args.seed)
    args.out.write_bytes(b"".join(line + b"\n" for line in lines))
    return truth


def _readback(args: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    from course.grading.landing import read_back
    from ingestion.records import TrustStore

    truth = json.loads(args.truth.read_text())
    key = serialization.load_pem_public_key(truth["public_key_pem"].encode())
    trust = TrustStore({truth["producer"]: key}, {truth["producer"]: args.silo})  # type: ignore[dict-item]
    ids = truth["valid"] + [h["id"] for h in truth["hostile"]]
    from lab.localcloud import local_cloud

    with local_cloud(args.silo):  # the emulators the grader started: endpoints and test credentials
        return read_back(args.silo, args.dataset, trust, ids)


def _model(args: Any) -> dict[str, Any]:
    from course.grading.model import open_model

    return open_model(args.dir, args.public_key)


def _signing_key(args: Any) -> dict[str, Any]:
    from course.grading.model import signing_key

    return signing_key()


def _poison(args: Any) -> dict[str, Any]:
    from course.grading.poison import make_set

    return make_set(args.out, args.seed, args.kind)


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("python -m course.grading.helper", __doc__ or "")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("records", help="fresh keys and records for one silo, with the truth")
    r.add_argument("--silo", required=True)
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--valid", type=int, default=40)
    r.add_argument("--out", type=Path, required=True)
    b = sub.add_parser("readback", help="read a landing back through the SDK and judge every record")
    b.add_argument("--silo", required=True)
    b.add_argument("--dataset", required=True)
    b.add_argument("--truth", type=Path, required=True)
    m = sub.add_parser("model", help="verify, decrypt and evaluate a trained model file")
    m.add_argument("--dir", type=Path, required=True)
    m.add_argument("--public-key", required=True, help="hex Ed25519 public key the model must be signed with")
    sub.add_parser("signing-key", help="create the run's model-signing key; print its public half")
    s = sub.add_parser("poison", help="a poisoned (or clean) detector input with its truth")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--kind", choices=["backdoor", "clean"], required=True)
    s.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    result = {"records": _records, "readback": _readback, "model": _model, "poison": _poison,
              "signing-key": _signing_key}[args.command](args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    run_main(main)
