"""Read a silo's landed training set: the one reader Week 6 uses.

Federated clients (``run.py --from-landings``), the detector (``detect.py --landing``)
and the end-to-end scenario all read a silo's data here, so they see the same
records: the silo's landing opened through that cloud's SDK (S3 / Blob / GCS),
every batch decrypted with the silo's key service (KMS / Key Vault / Cloud KMS),
every signature re-checked against the trust store, records of revoked or unknown
producers left out and counted, and (for training) the quarantine list honoured.

The local cloud must still be running from ``make up``: the emulators keep landed
data in memory, so a restart empties the landings. A missing landing fails in one
line that names the Week 5 command to run again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingestion.arrays import RecordArrays
from ingestion.quarantine import Quarantine, landing_digest, load_quarantine
from ingestion.records import Record, RecordError, TrustStore
from lab.cli import LabError
from lab.silos import check_silo

#: The Week 5 step (README step 2) that lands each silo's data.
INGEST_COMMAND: dict[str, str] = {
    "aws": "python ingestion/aws/kinesis_ingest.py",
    "azure": "python ingestion/azure/eventhub_ingest.py",
    "gcp": "python ingestion/gcp/pubsub_ingest.py",
}


def rerun_hint(silo: str) -> str:
    """The one line that tells a student how to get the silo's landing back."""
    return (f"keep the local cloud up (`make up`) and re-run README step 2 for {silo}: "
            f"`{INGEST_COMMAND[silo]} --records 200`")


@dataclass(frozen=True)
class LandedSet:
    """A silo's landed records as arrays, and how many were read, left out and kept."""

    silo: str
    dataset: str
    arrays: RecordArrays
    landed: int
    untrusted: int
    quarantined: int
    digest: str
    quarantine: Quarantine | None = None

    def counts(self) -> dict[str, Any]:
        return {"landed": self.landed, "untrusted_left_out": self.untrusted,
                "quarantined_left_out": self.quarantined, "used": len(self.arrays)}


def _cloud_running(silo: str) -> bool:
    from lab.localcloud import LocalCloud, SERVICES

    return all(SERVICES[name].running() is not None for name in LocalCloud([silo]).names)


def _records(silo: str, dataset: str, trust: TrustStore, untrusted: list[Record]) -> list[Record]:
    from encryption.errors import EnvelopeError
    from ingestion import silos
    from lab.localcloud import EmulatorError, local_cloud

    if not _cloud_running(silo):
        raise LabError(f"the local cloud for {silo} is not running, so its landing is gone; {rerun_hint(silo)}")
    try:
        with local_cloud(silo):  # attaches to what `make up` started; starts nothing new
            return silos.landing(silo).records(dataset, trust, untrusted)
    except (EnvelopeError, RecordError) as exc:  # missing key, tampered batch, forged signature
        raise LabError(f"cannot read the {silo} landing ({dataset}): {exc}") from None
    except EmulatorError as exc:
        raise LabError(f"{silo}: {exc}") from None


def read_landed(silo: str, dataset: str = "digits", trust: TrustStore | None = None,
                quarantine: bool = True) -> LandedSet:
    """The silo's landed records (verified), minus untrusted producers and, with ``quarantine``,
    minus the ids of its quarantine list. Raises LabError in one line when there is nothing to read."""
    check_silo(silo)
    untrusted: list[Record] = []
    records = _records(silo, dataset, trust or TrustStore.from_dir(), untrusted)
    stray = sorted({r.silo for r in records} - {silo})
    if stray:
        raise LabError(f"the {silo} landing holds records of silo(s) {', '.join(stray)}; refusing to train on them")
    if not records:
        extra = f" ({len(untrusted)} left out: producer revoked or unknown)" if untrusted else ""
        raise LabError(f"no {dataset} records in the {silo} landing{extra}; {rerun_hint(silo)}")
    digest = landing_digest([r.id for r in records] + [r.id for r in untrusted])
    arrays = RecordArrays.of(records)
    listed = load_quarantine(silo, dataset) if quarantine else None
    if listed is not None and listed.landing != digest:
        raise LabError(f"the {silo} quarantine list was made for another landing (re-ingested since); scan it "
                       f"again: python poisoning-detection/detect.py --landing {silo} --out reports/{silo}-scan.json")
    kept = arrays.without(listed.ids) if listed is not None else arrays
    return LandedSet(silo, dataset, kept, landed=len(records) + len(untrusted), untrusted=len(untrusted),
                     quarantined=len(arrays) - len(kept), digest=digest, quarantine=listed)
