"""What each silo's producers send: clean signed records, a few broken ones, and, in the
compromised silo, backdoored records signed with a stolen (registered) producer key."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ingestion.records import SILOS, Record, producer_signing_key, sign_record
from ingestion.samples import default_producer, generate_records, invalid_examples, mixed_lines, silo_share
from course.scenario.config import ScenarioConfig


def compromised_producer(silo: str) -> str:
    """The producer whose credentials the attacker stole (registered, so its signatures verify)."""
    return f"{silo}-producer-b"


@dataclass
class Traffic:
    """One silo's stream input and the ground truth the report compares against."""

    silo: str
    lines: list[bytes]
    clean_ids: list[str]
    injected_ids: list[str] = field(default_factory=list)
    invalid: int = 0


def backdoor_records(silo: str, clean: list[Record], count: int, source: int, target: int,
                     seed: int) -> list[Record]:
    """``count`` copies of the silo's ``source``-class images with the trigger drawn in, labelled
    ``target`` and validly signed by the compromised producer (the first case study's attack)."""
    from poisoning_detection.attack import add_trigger

    images = [r for r in clean if r.label == source]
    if not images:
        raise ValueError(f"silo {silo} has no records of class {source} to poison")
    producer = compromised_producer(silo)
    key = producer_signing_key(producer)
    rng = np.random.default_rng([seed, 7])
    out: list[Record] = []
    for i in range(count):
        base = images[i % len(images)]
        features = np.asarray(base.features, dtype=np.float32)[None, :]
        if i >= len(images):  # reuse with a little pixel noise so copies are not identical
            features = np.clip(features + rng.normal(0, 0.05, features.shape), 0, 1).astype(np.float32)
        poisoned = add_trigger(features, value=1.0)[0]
        record = Record(id=f"{silo}-digits-inj-{i:04d}", silo=silo, producer=producer,  # type: ignore[arg-type]
                        timestamp=base.timestamp, features=[round(float(v), 4) for v in poisoned], label=target)
        out.append(sign_record(record, key))
    return out


def make_traffic(cfg: ScenarioConfig) -> dict[str, Traffic]:
    """Every silo's input lines (clean + invalid, plus the injection in the compromised silo)."""
    plan: dict[str, Traffic] = {}
    for silo in SILOS:
        count = cfg.records or len(silo_share(silo))
        clean = generate_records(silo, count, seed=cfg.seed, producer=default_producer(silo))
        records = list(clean)
        injected: list[Record] = []
        if silo == cfg.compromised:
            injected = backdoor_records(silo, clean, max(1, round(cfg.poison_rate * count)),
                                        cfg.source, cfg.target, cfg.seed)
            records += injected
        bad = invalid_examples(clean, cfg.invalid, seed=cfg.seed) if cfg.invalid else []
        lines = mixed_lines(records, bad, seed=cfg.seed)
        plan[silo] = Traffic(silo, lines, [r.id for r in clean], [r.id for r in injected], len(bad))
    return plan
