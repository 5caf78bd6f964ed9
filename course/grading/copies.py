"""Copies that prove the grader: the reference, the starter, a faker, and one planted bug per exercise.

Each planted bug is *silent*: everything still runs and exits as before, only the exercise's
security property breaks (a signature never checked, a nonce reused, a limit ignored ...).
Those are the bugs a grader must catch, and they show attribution: the copy must lose points
in that exercise and in no other deliverable. A bug whose snippet is no longer in the source
raises, so the proof cannot pass silently after the code moves on.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from course.release import release, source_files
from lab.paths import REPO_ROOT

#: exercise -> (file, reference snippet, planted replacement)
PLANTED: dict[str, tuple[str, str, str]] = {
    "ex01": ("ingestion/records.py", "crypto_sign_open(signature + signed, self._raw_key(record.producer, key))",
             "self._raw_key(record.producer, key)  # planted: the signature is never checked"),
    "ex02": ("ingestion/core/validate.py", "return DeadLetter.of(raw, position, exc)",
             'return DeadLetter("rejected", "", position, base64.b64encode(raw).decode())  # planted: no reason'),
    "ex03": ("encryption/envelope.py", "nonce=os.urandom(NONCE_BYTES),",
             "nonce=bytes(NONCE_BYTES),  # planted: the same nonce every time"),
    "ex04": ("encryption/cache.py", "or entry.messages + 1 > self.max_messages\n", ""),
    "ex05": ("encryption/rotation.py", "digest = hashlib.sha256(decrypt_body(blob, header, body_offset, data_key)).digest()",
             "digest = hashlib.sha256(bytes(memoryview(blob)[body_offset:])).digest()  # planted: body never checked"),
    "ex06": ("docs/case_studies/kinesis_poisoning.md", "AML.T0020", "the poisoning technique"),
    "ex07": ("federated-learning/securefl/privacy.py",
             "    for z in noise_multipliers:\n        accountant.compose(dp_accounting.GaussianDpEvent(z))",
             "    accountant.compose(dp_accounting.GaussianDpEvent(noise_multipliers[-1]))  # planted: last round only"),
    "ex08": ("federated-learning/securefl/config.py", "if self.num_shares % 2 == 0:", "if False:  # planted"),
    "ex09": ("poisoning-detection/detectors/activation_clustering.py",
             "return source, float((votes == source).mean())", "return source, float((other == source).mean())"),
    "ex10": ("docs/training_environment_security_playbook.md", "NIST SP 800-38D", "NIST"),
}

FAKE_INGEST = '''"""Faker: prints the summary a good run prints, without sending anything."""
import argparse, json
p = argparse.ArgumentParser()
p.add_argument("--source"); p.add_argument("--dataset"); p.add_argument("--json", action="store_true")
p.add_argument("--no-vpc", action="store_true"); p.add_argument("--records", type=int, default=60)
p.add_argument("--with-invalid", type=int, default=0)
a, _ = p.parse_known_args()
n = sum(1 for _ in open(a.source, "rb")) if a.source else a.records + a.with_invalid
print(json.dumps({"sent": n, "landed": n - 13, "dead_lettered": 13, "verified": True}))
'''
FAKE_FL = '''"""Faker: writes the report a good run writes, without training."""
import argparse, json, pathlib, shlex
p = argparse.ArgumentParser(); p.add_argument("--config", default=""); p.add_argument("--json", action="store_true")
a, _ = p.parse_known_args()
cfg = dict(item.split("=", 1) for item in shlex.split(a.config))
out = pathlib.Path(cfg.get("out-dir") or "models"); out.mkdir(parents=True, exist_ok=True)
report = {"ok": True, "initial_accuracy": 0.1, "final_accuracy": 0.93, "epsilon": 7.5, "delta": 1e-5,
          "secagg": True, "dp": True}
(out / "fl_run.json").write_text(json.dumps(report))
(out / "fl_global.model").write_bytes(b"secure-ai-lab/fl-model/v1\\n{}\\n")
print(json.dumps(report))
'''
FAKE_DETECT = '''"""Faker: writes a confident report, without looking at the data."""
import argparse, json
import numpy as np
p = argparse.ArgumentParser(); p.add_argument("--data"); p.add_argument("--out"); p.add_argument("--quiet", action="store_true")
a, _ = p.parse_known_args()
ids = [str(i) for i in np.load(a.data)["ids"]]
json.dump({"risk_score": 0.9, "flagged": ids[: len(ids) // 10], "mitigations": ["quarantine"]}, open(a.out, "w"))
'''
FAKE_ENCRYPTION = '''"""Faker: every envelope command claims success."""
import json, sys
print(json.dumps({"rewrapped": 1, "verified": True, "previous_key_id": "k/v1", "current_key_id": "k/v2"}))
'''
FAKES = {"ingestion/aws/kinesis_ingest.py": FAKE_INGEST, "ingestion/azure/eventhub_ingest.py": FAKE_INGEST,
         "ingestion/gcp/pubsub_ingest.py": FAKE_INGEST, "federated-learning/run.py": FAKE_FL,
         "poisoning-detection/detect.py": FAKE_DETECT, "encryption/__main__.py": FAKE_ENCRYPTION}
#: Deliverables the faker's scripts pretend to do.
FAKED = ("ingest-aws", "ingest-azure", "ingest-gcp", "fl", "ex05", "ex09")


def reference(dest: Path) -> Path:
    """A plain copy of this checkout's sources (what a student who solved everything hands in)."""
    for rel in source_files(REPO_ROOT):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, dest / rel)
    return dest


def starter(dest: Path) -> Path:
    release(dest)
    return dest


def faker(dest: Path) -> Path:
    """The starter with its entry points replaced by scripts that print what a good run prints."""
    starter(dest)
    for rel, text in FAKES.items():
        (dest / rel).write_text(text)
    return dest


def planted(dest: Path, exercise: str) -> Path:
    """The reference with the one silent bug of ``exercise``."""
    reference(dest)
    rel, old, new = PLANTED[exercise]
    path = dest / rel
    text = path.read_text()
    if old not in text:
        raise ValueError(f"planted bug for {exercise}: {old!r} is no longer in {rel}; update course/grading/copies.py")
    path.write_text(text.replace(old, new, 1))
    return dest
