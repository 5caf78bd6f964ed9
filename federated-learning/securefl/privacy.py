"""Client-level epsilon from a maintained accountant (dp-accounting's RDP accountant).

Flower's DP wrappers report no epsilon on the SecAgg+ path, so the run computes it from
the mechanism it actually ran: each round releases the mean of clipped client updates
plus Gaussian noise with std ``noise_multiplier * clipping_norm / n`` (the
``DifferentialPrivacyClientSideFixedClipping`` wrapper), i.e. a Gaussian mechanism with
noise multiplier ``z`` on the sum, composed over the rounds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

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
    "noise-multiplier*record-max-grad-norm per step added on the client before SecAgg+ masking (the server "
    "adds none and sees only the masked sum), Poisson sampling at rate 1/ceil(n/batch-size) (as Opacus does); "
    "with target-epsilon set, each client solves its own noise multiplier from its record count so that its "
    "epsilon after every step of every configured round is <= target-epsilon (the count it uses is its own); "
    "epsilon is each client's own guarantee for its records (the largest over clients is reported), from "
    "Opacus's RDP accountant over every local step of every round so far (a client that missed a round is "
    "counted as if it took part: conservative). It does not hide whether a client took part."
)


#: RDP orders for record-level accounting: integers and half-integers from 2, where Opacus's analysis is
#: fast. Its default grid adds 1.1-1.9 and tenths, whose series often fail to converge at these sampling rates
#: (1,000 iterations each, ~1 s per epsilon); leaving orders out can only raise epsilon (the minimum is taken
#: over fewer orders), so the figure stays an upper bound: measured 8.24 instead of 8.18 at q=1/4, z=1.3, 40 steps.
RECORD_ORDERS: tuple[float, ...] = tuple(sorted({*range(2, 64), *(k + 0.5 for k in range(2, 11)), 128, 256}))


@lru_cache(maxsize=1024)
def _step_rdp(noise_multiplier: float, sample_rate: float) -> tuple[float, ...]:
    """RDP of one Poisson-subsampled Gaussian step at each of RECORD_ORDERS (Opacus's analysis)."""
    from opacus.accountants.analysis.rdp import compute_rdp

    return tuple(float(v) for v in compute_rdp(q=sample_rate, noise_multiplier=noise_multiplier, steps=1,
                                                orders=list(RECORD_ORDERS)))


def record_epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    """Record-level epsilon after `steps` DP-SGD steps (Opacus's RDP analysis; RDP adds up over steps)."""
    from opacus.accountants.analysis.rdp import get_privacy_spent

    if steps <= 0:
        return 0.0
    rdp = [steps * v for v in _step_rdp(noise_multiplier, sample_rate)]
    eps, _order = get_privacy_spent(orders=list(RECORD_ORDERS), rdp=rdp, delta=delta)
    return float(eps)


def dpsgd_steps(n: int, batch_size: int, epochs: int) -> tuple[float, int]:
    """(sample rate, steps per round) of Opacus with Poisson sampling for a client with n records."""
    per_epoch = max(1, -(-n // batch_size))  # Opacus: len(loader) = ceil(n / batch)
    return 1.0 / per_epoch, per_epoch * epochs


@lru_cache(maxsize=256)
def record_noise_for_epsilon(target: float, sample_rate: float, steps: int, delta: float,
                             tolerance: float = 0.01) -> float:
    """The smallest noise multiplier (to `tolerance` in epsilon) whose record-level epsilon after `steps` is
    <= target: bisection as Opacus's get_noise_multiplier does, over record_epsilon."""
    low, high = 0.0, 10.0
    while record_epsilon(high, sample_rate, steps, delta) > target:
        low, high = high, 2 * high
        if high > 1e4:
            raise ValueError(f"record-level epsilon {target} is out of reach in {steps} steps")
    for _ in range(200):  # halves the interval each time: converges long before this
        if target - record_epsilon(high, sample_rate, steps, delta) <= tolerance:
            break
        mid = (low + high) / 2
        if record_epsilon(mid, sample_rate, steps, delta) > target:
            low = mid
        else:
            high = mid
    return high


def client_record_noise(target: float, n: int, batch_size: int, epochs: int, rounds: int, delta: float) -> float:
    """The DP-SGD noise multiplier a client with n records needs for record-level epsilon <= target
    after the whole run (every step of every round); it depends on n only through the sampling rate,
    so clients of similar size share one (cached) solve."""
    rate, steps = dpsgd_steps(n, batch_size, epochs)
    return record_noise_for_epsilon(target, rate, steps * rounds, delta)


#: above this epsilon a run is labelled as giving no meaningful privacy guarantee
WEAK_EPSILON = 10.0
#: above this epsilon a configuration is refused before training unless allow-weak-privacy=true
REFUSE_EPSILON = 100.0
WEAK_LABEL = "no meaningful privacy guarantee"


@dataclass(frozen=True)
class Guarantee:
    """What a run's privacy figures mean, in the words the console, fl_run.json and the report use."""

    epsilon: float | None
    delta: float | None
    accountant: str | None
    level: str  # "record", "client" or "none"
    noise_on: str | None  # "client" (DP-SGD before masking), "server" (after unmasking) or None

    @property
    def meaningful(self) -> bool:
        return (self.accountant is not None and self.epsilon is not None and math.isfinite(self.epsilon)
                and self.epsilon <= WEAK_EPSILON)

    @property
    def label(self) -> str:
        if self.meaningful:
            return (f"epsilon = {self.epsilon:.2f} at delta = {self.delta:g} ({self.level}-level, per client, "
                    f"{self.accountant}; noise added on the {self.noise_on})")
        why = ("no DP" if self.level == "none" else
               "no accountant" if self.accountant is None else f"epsilon = {self.epsilon:.3g} > {WEAK_EPSILON:g}")
        return f"{WEAK_LABEL} ({why})"

    def as_dict(self) -> dict[str, object]:
        return {"meaningful": self.meaningful, "label": self.label, "weak_above_epsilon": WEAK_EPSILON}


def client_level_epsilon(noise_multiplier: float, rounds: int, delta: float) -> float:
    """Predicted client-level epsilon of a full run (every client in every round)."""
    return epsilon(noise_multiplier, rounds, delta)


def record_level_epsilon(noise_multiplier: float, target: float, client_sizes: list[int], batch_size: int,
                         epochs: int, rounds: int, delta: float) -> float:
    """Predicted record-level epsilon of a full run: the largest over clients (each client's records are
    disjoint, so a record's guarantee is its own client's epsilon)."""
    if target > 0:
        return target  # each client solves its noise for exactly this budget
    worst = 0.0
    for n in set(client_sizes):
        rate, steps = dpsgd_steps(n, batch_size, epochs)
        worst = max(worst, record_epsilon(noise_multiplier, rate, steps * rounds, delta))
    return worst
