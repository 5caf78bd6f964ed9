"""Client data: each client sees only its silo's records; partitions are deterministic."""
from __future__ import annotations

import numpy as np
import pytest

from lab.cli import LabError
from securefl.data import SILOS, SiloData, client_data, clients_of, packaged_source, partition, silo_of
from securefl import data as fl_data


def test_silos_are_disjoint_and_exclude_the_test_split() -> None:
    ids = [set(packaged_source(s).ids) for s in SILOS]
    assert all(a.isdisjoint(b) for i, a in enumerate(ids) for b in ids[i + 1:])
    assert set(fl_data.test_set().ids).isdisjoint(set().union(*ids))


@pytest.mark.parametrize("how", ["iid", "dirichlet"])
def test_clients_read_only_their_silo_and_cover_it(how: str) -> None:
    for silo in SILOS:
        mine = [client_data(c, 10, how, 0.5, 7) for c in clients_of(silo, 10)]
        silo_ids = set(packaged_source(silo).ids)
        got = [i for part in mine for i in part.ids]
        assert set(got) == silo_ids and len(got) == len(silo_ids)  # a partition: no overlap, nothing lost
        assert all(len(p) > 0 for p in mine)


def test_partitions_are_deterministic_by_seed() -> None:
    a = client_data(4, 10, "dirichlet", 0.3, 1).ids
    assert np.array_equal(a, client_data(4, 10, "dirichlet", 0.3, 1).ids)
    assert not np.array_equal(a, client_data(4, 10, "dirichlet", 0.3, 2).ids)


def test_dirichlet_skews_labels_more_than_iid() -> None:
    data = packaged_source("aws")

    def skew(parts: list[np.ndarray]) -> float:
        hist = np.stack([np.bincount(data.y[p], minlength=10) / len(p) for p in parts])
        return float(np.abs(hist - hist.mean(0)).sum())

    assert skew(partition(data, 4, "dirichlet", 0.1, 0)) > 2 * skew(partition(data, 4, "iid", 0.1, 0))


def test_swapped_source_is_asked_only_for_the_clients_silo() -> None:
    asked: list[str] = []

    def source(silo: str) -> SiloData:
        asked.append(silo)
        return packaged_source(silo)

    client_data(5, 10, "iid", 0.5, 0, source)
    assert asked == [silo_of(5)] == ["gcp"]


def test_unknown_silo_is_refused() -> None:
    with pytest.raises(LabError, match="unknown silo"):
        packaged_source("ibm")
