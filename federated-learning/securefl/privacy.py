"""Client-level epsilon from a maintained accountant (dp-accounting's RDP accountant).

Flower's DP wrappers report no epsilon on the SecAgg+ path, so the run computes it from
the mechanism it actually ran: each round releases the mean of clipped client updates
plus Gaussian noise with std ``noise_multiplier * clipping_norm / n`` (the
``DifferentialPrivacyClientSideFixedClipping`` wrapper), i.e. a Gaussian mechanism with
noise multiplier ``z`` on the sum, composed over the rounds.
"""
from __future__ import annotations

import math

import dp_accounting
from dp_accounting.rdp import RdpAccountant

ASSUMPTIONS = (
    "client-level DP (neighbouring datasets differ by all records of one client); "
    "updates clipped to clipping-norm in L2 on each client; Gaussian noise of std "
    "noise-multiplier*clipping-norm added once per round to the sum (by the server after "
    "SecAgg+ unmasking, so the server is trusted to add it); every client takes part in every "
    "round (sampling rate 1, no amplification by subsampling); if clients drop, the noise is "
    "scaled for the configured count, so the effective noise multiplier is reported per round; "
    "RDP accountant (dp-accounting), converted to (epsilon, delta)-DP."
)


def epsilon(noise_multiplier: float, rounds: int, delta: float, sampling_rate: float = 1.0) -> float:
    """Epsilon after `rounds` Gaussian releases with this noise multiplier (inf without noise)."""
    # BEGIN SOLUTION ex07
    if noise_multiplier <= 0 or rounds <= 0:
        return math.inf if rounds > 0 else 0.0
    event: dp_accounting.DpEvent = dp_accounting.GaussianDpEvent(noise_multiplier)
    if sampling_rate < 1.0:
        event = dp_accounting.PoissonSampledDpEvent(sampling_rate, event)
    accountant = RdpAccountant()
    accountant.compose(event, rounds)
    return float(accountant.get_epsilon(delta))
    # END SOLUTION ex07


def noise_for_epsilon(target: float, rounds: int, delta: float) -> float:
    """The smallest noise multiplier whose epsilon after `rounds` is <= target (bisection)."""
    low, high = 0.01, 200.0
    if epsilon(high, rounds, delta) > target:
        raise ValueError(f"epsilon {target} is out of reach in {rounds} rounds")
    for _ in range(60):
        mid = (low + high) / 2
        if epsilon(mid, rounds, delta) > target:
            low = mid
        else:
            high = mid
    return high


def epsilon_of(noise_multipliers: list[float], delta: float) -> float:
    """Epsilon after one Gaussian release per entry (each with its own noise multiplier)."""
    # BEGIN SOLUTION ex07
    if not noise_multipliers:
        return 0.0
    if min(noise_multipliers) <= 0:
        return math.inf
    accountant = RdpAccountant()
    for z in noise_multipliers:
        accountant.compose(dp_accounting.GaussianDpEvent(z))
    return float(accountant.get_epsilon(delta))
    # END SOLUTION ex07


RECORD_ASSUMPTIONS = (
    "record-level DP (neighbouring datasets differ by one training record of one client); Opacus DP-SGD in "
    "each client: per-example gradients clipped to record-max-grad-norm, Gaussian noise of std "
    "record-noise-multiplier*record-max-grad-norm per step, Poisson sampling at rate 1/ceil(n/batch-size) "
    "(as Opacus does); "
    "epsilon is each client's own guarantee for its records (the largest over clients is reported), from "
    "Opacus's RDP accountant over every local step of every round so far (a client that missed a round is "
    "counted as if it took part: conservative). It does not hide whether a client took part."
)


def record_epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    """Record-level epsilon after `steps` DP-SGD steps (Opacus's RDP accountant)."""
    from opacus.accountants import RDPAccountant

    if steps <= 0:
        return 0.0
    accountant = RDPAccountant()
    accountant.history = [(noise_multiplier, sample_rate, steps)]
    return float(accountant.get_epsilon(delta))


def dpsgd_steps(n: int, batch_size: int, epochs: int) -> tuple[float, int]:
    """(sample rate, steps per round) of Opacus with Poisson sampling for a client with n records."""
    per_epoch = max(1, -(-n // batch_size))  # Opacus: len(loader) = ceil(n / batch)
    return 1.0 / per_epoch, per_epoch * epochs


def record_noise_for_epsilon(target: float, sample_rate: float, steps: int, delta: float) -> float:
    """The noise multiplier reaching `target` record-level epsilon after `steps` (Opacus's solver)."""
    from opacus.accountants.utils import get_noise_multiplier

    return float(get_noise_multiplier(target_epsilon=target, target_delta=delta, sample_rate=sample_rate,
                                      steps=steps, accountant="rdp"))
