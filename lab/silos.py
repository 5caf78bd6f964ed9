"""The three silos of the story, named in one place.

Every part spells a silo the same way because they all import it from here (``lab``
is the bottom layer, so ingestion, federated learning, the detector and the course
can all reach it). One silo per cloud: a silo's name is also its cloud's name.
"""
from __future__ import annotations

import argparse
from typing import Literal, get_args

Silo = Literal["aws", "azure", "gcp"]
SILOS: tuple[str, ...] = get_args(Silo)


def check_silo(silo: str) -> str:
    """``silo`` if it names a silo, else ValueError listing the valid names."""
    if silo not in SILOS:
        raise ValueError(f"unknown silo {silo!r}; choose from {', '.join(SILOS)}")
    return silo


def parse_silos(text: str) -> tuple[str, ...]:
    """argparse type: ``'aws,azure'`` -> ``('aws', 'azure')`` (order kept, no repeats, at least one)."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"name at least one silo of {','.join(SILOS)}")
    unknown = [n for n in names if n not in SILOS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown silo(s) {', '.join(unknown)}; choose from {','.join(SILOS)}")
    return tuple(dict.fromkeys(names))
