"""The model and its training loop (PyTorch), plus loading a signed, encrypted model.

A small MLP (64-128-10, ``model=mlp``) is enough for 8x8 digits and trains in a fraction
of a second per client epoch on a laptop CPU. ``model=linear`` (multinomial logistic
regression, 650 parameters instead of 9,610) is the choice for record-level DP-SGD: the
noise is added to every parameter's gradient, so fewer parameters means less noise for
the same useful signal (measured in ``federated-learning/README.md``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

NUM_FEATURES = 64
NUM_CLASSES = 10
HIDDEN = 128
MOMENTUM = 0.9  # optimizer=sgd: heavy-ball momentum, the usual companion of DP-SGD

ModelKind = Literal["mlp", "linear"]
OptimizerKind = Literal["adam", "sgd"]


class Centre(nn.Module):
    """Maps pixels from [0, 1] to [-1, 1]: a fixed, data-independent step (no parameters, no privacy cost)
    that conditions the linear model better under DP-SGD (measured in the README)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2.0 - 1.0


class Net(nn.Module):
    """MLP (or, with kind="linear", logistic-regression) classifier with a numpy-friendly ``predict``."""

    def __init__(self, kind: ModelKind = "mlp") -> None:
        super().__init__()
        if kind == "mlp":
            self.layers = nn.Sequential(nn.Linear(NUM_FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, NUM_CLASSES))
        elif kind == "linear":
            self.layers = nn.Sequential(Centre(), nn.Linear(NUM_FEATURES, NUM_CLASSES))
        else:
            raise ValueError(f"unknown model kind {kind!r}")
        self.kind = kind

    @classmethod
    def for_weights(cls, weights: list[np.ndarray]) -> Net:
        """The architecture these weight arrays belong to (2 arrays: linear; 4: the MLP)."""
        return cls("linear" if len(weights) == 2 else "mlp")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    @torch.no_grad()
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class per row of x (N x 64 in [0, 1])."""
        self.eval()
        return self(torch.as_tensor(np.asarray(x, dtype=np.float32))).argmax(1).numpy()


def new_model(seed: int, kind: ModelKind = "mlp") -> Net:
    torch.manual_seed(seed)
    return Net(kind)


def round_lr(lr: float, decay: float, server_round: int, rounds: int) -> float:
    """Learning rate of a round: falls linearly from lr (round 1) to lr*(1-decay) (last round).

    Smaller late steps leave less DP noise in the final model; the schedule depends only on
    the round number, so it costs no privacy.
    """
    progress = (max(server_round, 1) - 1) / max(rounds - 1, 1)
    return lr * (1.0 - decay * min(progress, 1.0))


def make_optimizer(model: nn.Module, kind: OptimizerKind, lr: float) -> torch.optim.Optimizer:
    """Adam (the default for plain training) or SGD with momentum (steadier under DP-SGD noise)."""
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    return torch.optim.Adam(model.parameters(), lr=lr)


def get_weights(model: nn.Module) -> list[np.ndarray]:
    return [v.detach().cpu().numpy().copy() for v in model.state_dict().values()]


def set_weights(model: nn.Module, weights: list[np.ndarray]) -> None:
    keys = list(model.state_dict().keys())
    if len(keys) != len(weights):
        raise ValueError(f"expected {len(keys)} weight arrays, got {len(weights)}")
    model.load_state_dict({k: torch.as_tensor(np.asarray(w)) for k, w in zip(keys, weights)}, strict=True)


def train(model: Net, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, lr: float, seed: int,
          optimizer: OptimizerKind = "adam") -> float:
    """Local training; returns the mean loss of the last epoch."""
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    opt = make_optimizer(model, optimizer, lr)
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

    weights = read_model(Path(path), signer)
    model = Net.for_weights(weights)
    set_weights(model, weights)
    return model


def train_dpsgd(model: Net, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, lr: float, seed: int,
                noise_multiplier: float, max_grad_norm: float,
                optimizer: OptimizerKind = "adam") -> tuple[float, float, int]:
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
    opt = make_optimizer(work, optimizer, lr)
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
