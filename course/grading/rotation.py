"""``cli:rotation``: the copy's ``python -m encryption`` rotate + rewrap, judged from the bytes (ex05).

The copy seals a file, rotates its key file and re-wraps the folder; the grader parses the
headers itself, checks the body was copied byte for byte, and opens the result with its own
envelope code and the rotated key file. The CLI's own JSON summary is not scored.
"""
from __future__ import annotations

import os

from course.grading.contract import Item, check
from course.grading.runner import Session, why

CTX = {"silo": "aws", "dataset": "grade", "batch": "b0001"}


def _cli(session: Session, *args: str) -> str:
    proc = session.run(["-m", "encryption", *args], timeout=300)
    return "" if proc.returncode == 0 else why(proc)


@check("cli:rotation")
def rotation(session: Session) -> list[Item]:
    """Seal under v1, rotate, re-wrap: the header moves to the new key, the body stays, the data opens."""
    from encryption.envelope import decrypt
    from encryption.format import parse
    from encryption.providers.local import LocalKeyProvider

    d = session.work / "rotation"
    landing = d / "landing" / "raw" / "silo=aws" / "dataset=grade"
    landing.mkdir(parents=True, exist_ok=True)
    key, plain, sealed = d / "kek.json", d / "plain.bin", landing / "batch=b0001.jsonl.env"
    data = os.urandom(2048)
    plain.write_bytes(data)
    ctx = [a for k, v in CTX.items() for a in ("--context", f"{k}={v}")]
    failed = (_cli(session, "keygen", "--out", str(key))
              or _cli(session, "encrypt", "--key-file", str(key), *ctx, "--in", str(plain), "--out", str(sealed)))
    if failed or not sealed.is_file():
        return [Item("sealed, rotated and re-wrapped", False, failed or "no envelope written")]
    before = sealed.read_bytes()
    failed = (_cli(session, "rotate", "--key-file", str(key))
              or _cli(session, "rewrap", "--dir", str(d / "landing"), "--key-file", str(key), "--json",
                      "--checkpoint", str(d / "checkpoint.json")))
    after = sealed.read_bytes()
    try:
        h0, o0 = parse(before)
        h1, o1 = parse(after)
    except Exception as exc:  # noqa: BLE001 - an unparsable envelope counts against the copy
        return [Item("re-wrapped envelope parses", False, f"{type(exc).__name__}: {failed}")]
    provider = LocalKeyProvider(key)
    try:
        opened = bytes(decrypt(after, provider, CTX)) == data
    except Exception as exc:  # noqa: BLE001
        opened, failed = False, failed or f"{type(exc).__name__}"
    return [Item("rotation made a new current key", provider.current_key_id() != h0.key_id,
                 f"{h0.key_id} -> current {provider.current_key_id()}"),
            Item("re-wrap moved the envelope to the new key", h1.key_id == provider.current_key_id() != h0.key_id,
                 f"header key {h1.key_id}" + (f"; {failed}" if failed else "")),
            Item("body copied byte for byte", after[o1:] == before[o0:] and h1.nonce == h0.nonce),
            Item("the grader opens it under the new key", opened, failed or "ok")]
