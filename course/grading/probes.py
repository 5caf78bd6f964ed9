"""``probe:exNN``: the grader's own tests, run against the copy's modules (never the copy's tests).

The probe files (``course/grading/probes/probe_exNN.py``) are copied into the run's scratch
folder and run once, in one pytest process whose ``PYTHONPATH`` is the copy's, with this
folder as rootdir, so neither the copy's ``conftest.py`` nor its pytest settings take part.
Each test is one item of its exercise; a test the copy makes crash or hang fails.
"""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET  # nosec B405 - parses the junit file our own pytest run just wrote
from pathlib import Path

from course.grading.contract import Item, check
from course.grading.runner import Session, why

PROBES = Path(__file__).with_name("probes")
EXERCISES = tuple(sorted(p.stem.removeprefix("probe_") for p in PROBES.glob("probe_ex*.py")))


def _run_all(session: Session) -> dict[str, list[Item]]:
    folder = session.work / "probes"
    shutil.copytree(PROBES, folder, dirs_exist_ok=True)
    report = session.work / "probes.xml"
    proc = session.run(["-m", "pytest", str(folder), "-c", str(folder / "pytest.ini"), "--rootdir", str(folder),
                        "-q", f"--junitxml={report}"], timeout=900)
    if not report.is_file():
        raise RuntimeError(f"the probe tests did not run: {why(proc)}")
    found: dict[str, list[Item]] = {ex: [] for ex in EXERCISES}
    for case in ET.parse(report).getroot().iter("testcase"):  # nosec B314 - our own file
        name = case.get("name", "")
        ex = next((e for e in EXERCISES if f"probe_{e}" in case.get("classname", "")), None)
        if ex is None:
            continue
        fault = case.find("failure")
        if fault is None:
            fault = case.find("error")
        skipped = case.find("skipped") is not None
        detail = (fault.get("message", "") if fault is not None else "skipped" if skipped else "passed")
        found[ex].append(Item(name.removeprefix("test_"), fault is None and not skipped,
                              " ".join(detail.split())[:160]))
    return found


def _probe(ex: str) -> None:
    @check(f"probe:{ex}")
    def run(session: Session) -> list[Item]:
        items = session.memo("probes", lambda: _run_all(session)).get(ex, [])
        return items or [Item(f"{ex} probe tests", False, "no probe test ran (collection failed?)")]
    run.__doc__ = f"The grader's tests of {ex} (course/grading/probes/probe_{ex}.py) on the copy's modules."


for _ex in EXERCISES:
    _probe(_ex)
