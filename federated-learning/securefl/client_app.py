"""The ClientApp: one client trains on its share of its own silo's data.

SecAgg+ works only through Flower's older API, so the client is a ``NumPyClient``
behind the mods ``[secaggplus_mod, fixedclipping_mod]`` (clipping last, i.e. nearest
to the training code, so the update is clipped before it is masked). Both mods are
applied only when the server asks for them, so the same app serves plain, DP,
SecAgg+ and robust runs.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from flwr.app import Context, Message
from flwr.client import NumPyClient
from flwr.client.mod import fixedclipping_mod, secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.compat.common import recorddict_compat as compat
from flwr.app.message_type import MessageType
from flwr.supercore.differential_privacy import KEY_CLIPPING_NORM
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS as SECAGG_CONFIGS

from securefl import task
from securefl.config import FLConfig, load_config
from securefl.privacy import client_record_noise, record_epsilon
from securefl.data import DataSource, SiloData, client_data, landed_source, packaged_source, silo_of, source_silos


class SiloClient(NumPyClient):
    """Trains locally; an attacker client (for the robustness lesson) flips its update."""

    def __init__(self, cfg: FLConfig, partition_id: int, source: DataSource, data: SiloData | None = None) -> None:
        self.cfg = cfg
        self.pid = partition_id
        self.silo = silo_of(partition_id, source_silos(source))
        self.data = data if data is not None else client_data(
            partition_id, cfg.num_clients, cfg.partition, cfg.dirichlet_alpha, cfg.seed, source)
        self.model = task.Net(cfg.model)

    def noise_multiplier(self) -> float:
        """This client's DP-SGD noise: solved from its own record count for target-epsilon over the
        whole run, or the configured multiplier when no target is set."""
        cfg = self.cfg
        if cfg.target_epsilon <= 0:
            return cfg.record_noise_multiplier
        return client_record_noise(cfg.target_epsilon, len(self.data), cfg.batch_size, cfg.local_epochs,
                                   cfg.num_server_rounds, cfg.delta)

    def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[list[np.ndarray], int, dict]:
        if self.pid == self.cfg.drop_client:
            raise RuntimeError(f"client {self.pid} drops out (drop-client={self.pid})")
        task.set_weights(self.model, parameters)
        rnd = int(config.get("server-round", 0))
        seed = self.cfg.seed * 1000 + self.pid * 100 + rnd
        metrics: dict[str, Any] = {"partition-id": self.pid, "silo": self.silo}
        lr = task.round_lr(self.cfg.learning_rate, self.cfg.lr_decay, rnd, self.cfg.num_server_rounds)
        if self.cfg.record_dp:
            noise = self.noise_multiplier()
            loss, rate, steps = task.train_dpsgd(
                self.model, self.data.x, self.data.y, self.cfg.local_epochs, self.cfg.batch_size,
                lr, seed, noise, self.cfg.record_max_grad_norm, self.cfg.optimizer)
            # every round runs the same steps, so rounds so far x steps is this client's whole history
            metrics["dp-epsilon"] = record_epsilon(noise, rate, steps * max(rnd, 1), self.cfg.delta)
            metrics["dp-noise"] = noise
        else:
            loss = task.train(self.model, self.data.x, self.data.y, self.cfg.local_epochs, self.cfg.batch_size,
                              lr, seed=seed, optimizer=self.cfg.optimizer)
        metrics["train-loss"] = loss
        weights = task.get_weights(self.model)
        if self.cfg.attack == "sign-flip" and self.pid < self.cfg.attackers:
            weights = [g - self.cfg.attack_scale * (w - g) for w, g in zip(weights, parameters)]
        return weights, len(self.data), metrics


def _secagg_when_asked(msg: Message, ctxt: Context, call_next: Any) -> Message:
    if msg.metadata.message_type == MessageType.TRAIN and SECAGG_CONFIGS in msg.content.config_records:
        return secaggplus_mod(msg, ctxt, call_next)
    return call_next(msg, ctxt)


def _clip_when_asked(msg: Message, ctxt: Context, call_next: Any) -> Message:
    if msg.metadata.message_type == MessageType.TRAIN:
        config = compat.recorddict_to_fitins(msg.content, keep_input=True).config
        if KEY_CLIPPING_NORM in config:
            return fixedclipping_mod(msg, ctxt, call_next)
    return call_next(msg, ctxt)


def make_client_app(cfg: FLConfig | None = None, source: DataSource | None = None) -> ClientApp:
    """A ClientApp; with no cfg it reads the run config Flower gives it (deployment)."""

    shares: dict[int, SiloData] = {}  # a client's share, read once per app (Flower builds a client per message)

    def client_fn(context: Context) -> Any:
        run_cfg = cfg or load_config(dict(context.run_config))
        pid = int(context.node_config["partition-id"])
        src = source or (landed_source(run_cfg.data_root) if run_cfg.data_root else packaged_source)
        client = SiloClient(run_cfg, pid, src, shares.get(pid) if cfg is not None else None)
        shares[pid] = client.data
        return client.to_client()

    return ClientApp(client_fn=client_fn, mods=[_secagg_when_asked, _clip_when_asked])


app = make_client_app()
