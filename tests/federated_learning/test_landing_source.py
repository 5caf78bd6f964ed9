"""--from-landings: the landing source (picklable arrays, subset of silos, counts for fl_run.json)
and the CLI's client/share arithmetic."""
from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from ingestion.arrays import RecordArrays
from ingestion.landed import LandedSet
from lab.cli import LabError
from securefl.data import (LandingSource, client_data, clients_of, describe_source, packaged_source, silo_of,
                           source_silos)


def _landed(silo: str, n: int) -> LandedSet:
    src = packaged_source(silo).take(np.arange(n))
    arrays = RecordArrays(src.x, src.y, src.ids, np.array([f"{silo}-producer-a"] * n))
    return LandedSet(silo, "digits", arrays, landed=n + 2, untrusted=2, quarantined=0, digest="d")


def test_a_subset_of_silos_gets_every_client() -> None:
    source = LandingSource({"aws": _landed("aws", 60), "gcp": _landed("gcp", 50)})
    assert source_silos(source) == ("aws", "gcp")
    assert [silo_of(c, source.silos) for c in range(4)] == ["aws", "gcp", "aws", "gcp"]
    assert clients_of("gcp", 4, source.silos) == [1, 3]
    parts = [client_data(c, 4, "iid", 0.5, 0, source) for c in range(4)]
    assert sum(len(p) for p in parts) == 110
    assert all(str(i).startswith("gcp") for i in parts[1].ids)
    with pytest.raises(LabError, match="not part of this run"):
        source("azure")


def test_source_pickles_and_describes_itself() -> None:
    source = LandingSource({"aws": _landed("aws", 60)})
    clone = pickle.loads(pickle.dumps(source))  # Flower's workers may get it in another process
    assert np.array_equal(clone("aws").x, source("aws").x)
    described = describe_source(source)
    assert described["data_source"] == "landings"
    assert described["silos"]["aws"] == {"landed": 62, "untrusted_left_out": 2, "quarantined_left_out": 0,
                                         "used": 60}
    fewer = source.without({str(source("aws").ids[0])})
    assert len(fewer("aws")) == 59 and fewer.describe()["silos"]["aws"]["used"] == 59
    assert describe_source(packaged_source)["data_source"] == "packaged"


def test_cli_refuses_landing_flags_without_landings() -> None:
    import runpy

    from lab.paths import REPO_ROOT

    main = runpy.run_path(str(REPO_ROOT / "federated-learning" / "run.py"))["main"]
    with pytest.raises(LabError, match="apply to --from-landings"):
        main(["--silos", "aws"])


def test_cli_fits_clients_and_shares_to_the_landings() -> None:
    import runpy

    from lab.paths import REPO_ROOT

    run = SimpleNamespace(**runpy.run_path(str(REPO_ROOT / "federated-learning" / "run.py")))
    assert run.landing_overrides({}, 3)["num-clients"] == 3
    three = run.landing_overrides({}, 3)
    assert three["num-shares"] == 3 and three["reconstruction-threshold"] == 2  # SecAgg+ needs it < shares
    six = run.landing_overrides({}, 6)
    assert six["num-shares"] == 5 and 2 < six["reconstruction-threshold"] < 5
    with pytest.raises(LabError, match="at least 3 clients.*--clients-per-silo 2"):
        run.landing_overrides({}, 2)
    assert run.landing_overrides({"secagg": False}, 2)["num-clients"] == 2
    with pytest.raises(LabError, match="contradicts --from-landings"):
        run.landing_overrides({"num-clients": 10}, 3)
