"""The app's run configuration: one validated model, so a bad setting stops before training.

Flower passes the run config as a flat ``key-value`` mapping (``[tool.flwr.app.config]`` in
``federated-learning/pyproject.toml`` plus overrides). Pydantic checks each value and the
cross-field rules that Flower itself does not check: an even SecAgg+ share count makes the
workflow crash silently (the model never changes and the run still exits 0), a SecAgg+
clipping range below the DP clipping norm corrupts quantised updates, and robust
aggregation cannot work on the masked sum that SecAgg+ reveals.
"""
from __future__ import annotations

import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lab.cli import LabError

APP_DIR = Path(__file__).resolve().parent.parent

RobustMethod = Literal["cosine", "krum", "multikrum", "trimmed-mean", "median"]


class FLConfig(BaseModel):
    """Every knob of a run; field names are the run-config keys with '-' as '_'."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              alias_generator=lambda name: name.replace("_", "-"))

    num_clients: int = Field(ge=2, le=100)
    num_server_rounds: int = Field(ge=1, le=200)
    local_epochs: int = Field(ge=1, le=100)
    batch_size: int = Field(ge=1, le=4096)
    learning_rate: float = Field(gt=0, le=10)
    lr_decay: float = Field(ge=0, lt=1)
    model: Literal["mlp", "linear"]
    optimizer: Literal["adam", "sgd"]
    partition: Literal["iid", "dirichlet"]
    dirichlet_alpha: float = Field(gt=0)
    seed: int = Field(ge=0, le=2**32 - 1)  # NumPy/torch seeds are 32-bit
    mode: Literal["fedavg", "robust"]
    secagg: bool
    num_shares: int = Field(ge=3)
    reconstruction_threshold: int = Field(ge=2)
    clipping_range: float = Field(gt=0)
    quantization_range: int = Field(ge=2**10, le=2**30)
    dp: bool
    dp_level: Literal["client", "record"]
    target_epsilon: float = Field(ge=0, le=1e6)
    record_noise_multiplier: float = Field(ge=0)
    record_max_grad_norm: float = Field(gt=0)
    noise_multiplier: float = Field(ge=0)
    clipping_norm: float = Field(gt=0)
    delta: float = Field(gt=0, lt=1)
    allow_weak_privacy: bool
    robust_method: RobustMethod
    cosine_threshold: float = Field(ge=-1, le=1)
    norm_factor: float = Field(gt=1)
    trim_beta: float = Field(gt=0, lt=0.5)
    attack: Literal["none", "sign-flip"]
    attackers: int = Field(ge=0)
    attack_scale: float = Field(gt=0)
    drop_client: int = Field(ge=-1)
    out_dir: str
    data_root: str
    signer: Literal["configured", "azure-keyvault", "aws-kms", "local"]

    @model_validator(mode="after")
    def _cross_checks(self) -> FLConfig:
        # BEGIN SOLUTION ex08
        if self.secagg:
            if self.num_shares % 2 == 0:
                raise ValueError(f"num-shares must be odd for SecAgg+ (got {self.num_shares}); "
                                 "an even count crashes the workflow without failing the run")
            if self.num_shares > self.num_clients:
                raise ValueError(f"num-shares ({self.num_shares}) exceeds num-clients ({self.num_clients})")
            if not (self.num_shares // 2 < self.reconstruction_threshold <= self.num_shares):
                raise ValueError(f"reconstruction-threshold must be in ({self.num_shares // 2}, {self.num_shares}] "
                                 f"for num-shares={self.num_shares} (got {self.reconstruction_threshold})")
            if self.client_dp and self.clipping_range < self.clipping_norm:
                raise ValueError(f"clipping-range ({self.clipping_range}) must be >= clipping-norm "
                                 f"({self.clipping_norm}): SecAgg+ quantisation would clip DP-clipped updates")
            if self.mode == "robust":
                raise ValueError("mode=robust needs secagg=false: under SecAgg+ the server sees only the "
                                 "masked sum, so it cannot inspect individual updates")
        # END SOLUTION ex08
        if self.client_dp and self.noise_multiplier <= 0:
            raise ValueError("dp=true needs noise-multiplier > 0 (epsilon would be infinite); use dp=false")
        if self.record_dp and self.record_noise_multiplier <= 0 and self.target_epsilon <= 0:
            raise ValueError("dp-level=record needs target-epsilon > 0 or record-noise-multiplier > 0 "
                             "(epsilon would be infinite)")
        if self.attack != "none" and not 0 < self.attackers < self.num_clients:
            raise ValueError(f"attackers must be in [1, num-clients) when attack={self.attack}")
        if self.drop_client >= self.num_clients:
            raise ValueError(f"drop-client ({self.drop_client}) is not a client index (0..{self.num_clients - 1})")
        if self.drop_client >= 0 and self.secagg and self.num_clients - 1 < self.reconstruction_threshold:
            raise ValueError("too few clients left after the drop to reach the reconstruction threshold")
        return self

    @property
    def client_dp(self) -> bool:
        """Client-level DP: the server-side wrapper clips (on clients) and noises each round's mean."""
        return self.dp and self.dp_level == "client"

    @property
    def record_dp(self) -> bool:
        """Record-level DP: each client trains with Opacus DP-SGD."""
        return self.dp and self.dp_level == "record"

    def run_config(self) -> dict[str, Any]:
        """The Flower run config (hyphenated keys)."""
        return self.model_dump(by_alias=True)

    def expected_clients(self) -> int:
        """How many client updates every round must aggregate (a dropped client never reports)."""
        return self.num_clients - (1 if self.drop_client >= 0 else 0)


def app_defaults() -> dict[str, Any]:
    """The defaults from the app's pyproject.toml (the single source of defaults)."""
    with (APP_DIR / "pyproject.toml").open("rb") as fh:
        return dict(tomllib.load(fh)["tool"]["flwr"]["app"]["config"])


def _coerce(text: str, default: Any) -> Any:
    """Turn an override string into the type of its default value."""
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise LabError(f"expected true/false, got {text!r}")
        return lowered in ("true", "1", "yes")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise LabError(f"expected an integer, got {text!r}") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise LabError(f"expected a number, got {text!r}") from None
    return text.strip('"')


def parse_overrides(text: str) -> dict[str, Any]:
    """Parse ``'key=value key2=value2'`` (the same syntax as ``flwr run --run-config``)."""
    defaults = app_defaults()
    out: dict[str, Any] = {}
    for item in shlex.split(text or ""):
        key, sep, value = item.partition("=")
        if not sep:
            raise LabError(f"override {item!r} is not key=value")
        if key not in defaults:
            raise LabError(f"unknown setting {key!r}; known: {', '.join(sorted(defaults))}")
        try:
            out[key] = _coerce(value, defaults[key])
        except LabError as exc:
            raise LabError(f"{key}: {exc}") from None
    return out


def load_config(overrides: Mapping[str, Any] | None = None) -> FLConfig:
    """Defaults + overrides, validated. Raises LabError naming the setting at fault."""
    merged = {**app_defaults(), **dict(overrides or {})}
    try:
        return FLConfig.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        prefix = f"{loc}: " if loc else ""
        raise LabError(f"invalid configuration: {prefix}{first['msg'].removeprefix('Value error, ')}") from None
