"""How well a trained model resists the scenario's backdoor: held-out accuracy and attack success.

One measurement for the scenario's trainings and the privacy bench, so their figures compare.
Attack success = share of held-out ``source``-class images with the trigger drawn in that the
model labels ``target``.
"""
from __future__ import annotations

import numpy as np

from ingestion.samples import test_images


def backdoor_metrics(model: object, source: int, target: int) -> tuple[float, float]:
    """(accuracy on the held-out test images, attack success rate of the trigger)."""
    from poisoning_detection.attack import add_trigger

    predict = model.predict  # type: ignore[attr-defined]
    x_test, y_test = test_images()
    triggered = add_trigger(x_test[y_test == source].astype(np.float32), value=1.0)
    asr = float((predict(triggered) == target).mean())
    accuracy = float((predict(x_test.astype(np.float32)) == y_test).mean())
    return accuracy, asr
