"""Open a trained model file with the grader's own code: signature, envelope, accuracy.

The verifying key is the one the grader created before the run (``signing_key``), never a
key named by the file. Signature, hash and envelope are checked by this checkout's artifact
and envelope code, and the accuracy is measured here on the held-out digits no producer
ever sends.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives import serialization

MODEL_NAME = "fl_global.model"


def signing_key() -> dict[str, Any]:
    """Create (or load) the local model-signing key in the run's state; return its public half."""
    from securefl.signing import LocalSigner

    signer = LocalSigner()
    raw = signer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"public_key": raw.hex(), "key_id": signer.key_id}


def open_model(folder: Path, public_hex: str) -> dict[str, Any]:
    """Facts about ``folder/fl_global.model``: signed by our key, sealed, and how well it predicts.

    Uses this checkout's artifact code (``securefl.artifact``); the verifier is the key made
    before the run, and a key file swapped during the run is caught by its public half."""
    from securefl.artifact import read_model
    from securefl.signing import LocalSigner

    facts: dict[str, Any] = {"exists": False, "signed": False, "sealed": False, "accuracy": None, "problem": ""}
    path = folder / MODEL_NAME
    if not path.is_file():
        facts["problem"] = "no model file"
        return facts
    facts["exists"] = True
    signer = LocalSigner()
    raw_pub = signer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if raw_pub.hex() != public_hex:
        facts["problem"] = "the model-signing key was replaced during the run"
        return facts
    try:
        weights = read_model(path, signer=signer)
    except Exception as exc:  # noqa: BLE001 - any refusal counts against the copy
        facts["problem"] = f"{type(exc).__name__}: {exc}"[:160]
        return facts
    facts["signed"] = True
    facts["sealed"] = b"PK\x03\x04" not in path.read_bytes()  # the weights (a zip) are nowhere in clear
    from ingestion.samples import test_images
    from securefl import task

    x, y = test_images()
    model = task.Net.for_weights(weights)
    task.set_weights(model, weights)
    facts["accuracy"] = round(float(task.evaluate(model, x.astype(np.float32), y.astype(np.int64))[1]), 4)
    return facts
