"""The model and its training loop (PyTorch), plus loading a signed, encrypted model.

A small MLP (64-128-10) is enough for 8x8 digits and trains in a fraction of a second
per client epoch on a laptop CPU.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

NUM_FEATURES = 64
NUM_CLASSES = 10


class Net(nn.Module):
    """MLP classifier with a numpy-friendly ``predict``."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(NUM_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, NUM_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class per row of x (N x 64 in [0, 1])."""
        self.eval()
        return self(torch.as_tensor(np.asarray(x, dtype=np.float32))).argmax(1).numpy()


def new_model(seed: int) -> Net:
    torch.manual_seed(seed)
    return Net()


def get_weights(model: nn.Module) -> list[np.ndarray]:
    return [v.detach().cpu().numpy().copy() for v in model.state_dict().values()]


def set_weights(model: nn.Module, weights: list[np.ndarray]) -> None:
    keys = list(model.state_dict().keys())
    if len(keys) != len(weights):
        raise ValueError(f"expected {len(keys)} weight arrays, got {len(weights)}")
    model.load_state_dict({k: torch.as_tensor(np.asarray(w)) for k, w in zip(keys, weights)}, strict=True)


def train(model: Net, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, lr: float, seed: int) -> float:
    """Local training (Adam); returns the mean loss of the last epoch."""
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    last = 0.0
    for _ in range(epochs):
        order = torch.randperm(len(yt), generator=gen)
        total = 0.0
        for start in range(0, len(yt), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        last = total / max(len(yt), 1)
    return last


@torch.no_grad()
def evaluate(model: Net, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(loss, accuracy) on a labelled set."""
    model.eval()
    logits = model(torch.as_tensor(x))
    loss = float(nn.functional.cross_entropy(logits, torch.as_tensor(y)))
    return loss, float((logits.argmax(1).numpy() == y).mean())


def load_model(path: Path | str, signer: object | None = None) -> Net:
    """Load a trained model: verify its signature first, then decrypt (see securefl.artifact)."""
    from securefl.artifact import read_model

    model = Net()
    set_weights(model, read_model(Path(path), signer))
    return model


def train_dpsgd(model: Net, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, lr: float, seed: int,
                noise_multiplier: float, max_grad_norm: float) -> tuple[float, float, int]:
    """Local training with Opacus DP-SGD (record-level DP); returns (loss, sample rate, steps).

    Opacus wraps a copy of the model (its hooks never touch ``model``); the trained weights
    come back with the wrapper's ``_module.`` prefix stripped.
    """
    import copy
    import warnings

    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader, TensorDataset

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=batch_size,
                        generator=torch.Generator().manual_seed(seed))
    work = copy.deepcopy(model)
    opt = torch.optim.Adam(work.parameters(), lr=lr)
    warnings.filterwarnings("ignore", message=".*secure_mode.*")  # the lab accepts a non-cryptographic RNG
    warnings.filterwarnings("ignore", message="Full backward hook is firing")  # Opacus hooks, inputs need no grad
    private, opt, loader = PrivacyEngine(accountant="rdp").make_private(
        module=work, optimizer=opt, data_loader=loader, noise_multiplier=noise_multiplier,
        max_grad_norm=max_grad_norm, poisson_sampling=True)
    loss_fn = nn.CrossEntropyLoss()
    private.train()
    steps, last = 0, 0.0
    for _ in range(epochs):
        total, seen = 0.0, 0
        for xb, yb in loader:
            opt.zero_grad()
            if len(yb):
                loss = loss_fn(private(xb), yb)
                loss.backward()
                total += float(loss.detach()) * len(yb)
                seen += len(yb)
            opt.step()
            steps += 1
        last = total / max(seen, 1)
    state = {k.removeprefix("_module."): v for k, v in private.state_dict().items()}
    model.load_state_dict(state, strict=True)
    return last, 1.0 / len(loader), steps
