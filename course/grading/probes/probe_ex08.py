"""ex08 against the copy's securefl.config: SecAgg+ settings that break a round silently are refused."""
from __future__ import annotations

import pytest

from lab.cli import LabError
from securefl.config import load_config

BASE = {"num-clients": 5, "secagg": True, "num-shares": 3, "reconstruction-threshold": 2, "dp": True,
        "dp-level": "client", "clipping-norm": 4.0, "clipping-range": 8.0, "mode": "fedavg"}


@pytest.mark.parametrize("change", [{}, {"num-shares": 5, "reconstruction-threshold": 3},
                                    {"num-shares": 5, "reconstruction-threshold": 5},
                                    {"clipping-range": 4.0}, {"secagg": False, "mode": "robust"},
                                    {"secagg": False, "num-shares": 4}])
def test_ex08_sound_configurations_load(change) -> None:
    cfg = load_config({**BASE, **change})
    assert cfg.num_shares == {**BASE, **change}["num-shares"]


@pytest.mark.parametrize(("change", "names"), [
    ({"num-shares": 4, "reconstruction-threshold": 3}, "num-shares"),
    ({"num-clients": 4, "num-shares": 5, "reconstruction-threshold": 3}, "num-shares"),
    ({"num-shares": 5, "reconstruction-threshold": 2}, "reconstruction-threshold"),
    ({"num-shares": 3, "reconstruction-threshold": 4}, "reconstruction-threshold"),
    ({"clipping-range": 2.0}, "clipping-range"),
    ({"mode": "robust"}, "robust"),
])
def test_ex08_broken_secagg_settings_are_refused_by_name(change, names) -> None:
    with pytest.raises(LabError) as err:
        load_config({**BASE, **change})
    assert names in str(err.value)
