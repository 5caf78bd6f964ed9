"""Stock ART defences, called as shipped, for the side-by-side comparison in the harness.

Nothing here is tuned: ART 1.20 ActivationDefence with its defaults (2 clusters, PCA to
10 dims, "smaller" analysis, activations of its default layer) and
SpectralSignatureDefense with its defaults (eps_multiplier 1.5, expected poison 0.33).
"""
from __future__ import annotations

import logging
import time

import numpy as np

from poisoning_detection.model import Trained


def _classifier(trained: Trained) -> object:
    import torch
    from art.estimators.classification import PyTorchClassifier

    net = trained.model
    return PyTorchClassifier(model=net, loss=torch.nn.CrossEntropyLoss(), input_shape=net.input_shape,
                             nb_classes=net.n_classes, clip_values=(0.0, 1.0))


def stock_art(trained: Trained, x: np.ndarray, y: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
    """{name: (flagged mask, seconds)} for ART activation clustering and spectral signatures."""
    from art.defences.detector.poison import ActivationDefence, SpectralSignatureDefense

    logging.getLogger("art").setLevel(logging.ERROR)
    clf = _classifier(trained)
    onehot = np.eye(trained.model.n_classes, dtype=np.float32)[y]
    out: dict[str, tuple[np.ndarray, float]] = {}
    t = time.perf_counter()
    _, clean = ActivationDefence(clf, x, onehot).detect_poison(nb_clusters=2, nb_dims=10, reduce="PCA")
    out["art_activation_clustering"] = (np.asarray(clean) == 0, time.perf_counter() - t)
    t = time.perf_counter()
    _, clean = SpectralSignatureDefense(clf, x, onehot, batch_size=128).detect_poison()
    out["art_spectral_signatures"] = (np.asarray(clean) == 0, time.perf_counter() - t)
    return out
