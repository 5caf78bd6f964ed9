"""Case studies: each one runs an attack and its defence on the local cloud and reports the evidence.

``python -m course.case_studies NAME`` (``make case-study NAME=...``) runs one; the prose lives in
``docs/case_studies/``. A case study exits non-zero when the defence did not hold: every
figure it prints is measured in that run, and every claim is a :class:`Check` over those figures.
"""
from __future__ import annotations

from course.case_studies.common import CaseResult, Check

#: name -> (module under course.case_studies, one-line summary)
CASES: dict[str, tuple[str, str]] = {
    "kinesis-poisoning": ("kinesis_poisoning",
                          "stolen AWS producer key injects backdoored, validly signed records into Kinesis"),
    "keyvault-rotation": ("keyvault_rotation",
                          "Azure Key Vault rotation retires the old key version too early; re-wrap recovers"),
    "fl-client-poisoning": ("fl_client_poisoning",
                            "one federated client sends sign-flipped, scaled updates (FedAvg, robust, SecAgg+)"),
}

__all__ = ["CASES", "CaseResult", "Check"]
