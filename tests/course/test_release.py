"""The starter release: regions blanked with named TODOs, everything else runs, the README lists the exercises."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course.exercises import exercises, find_regions, regions_in
from course.release import INSTRUCTOR_ONLY, release
from lab.cli import LabError
from lab.paths import REPO_ROOT

#: One call per code exercise that reaches its blanked region (run in the starter's import path).
REACH = {
    "ex01": "from ingestion.records import Record, TrustStore\n"
            "TrustStore().verify(Record(id='a', silo='aws', producer='p', timestamp='2026-01-01T00:00:00+00:00',"
            " features=[1.0], label=1, signature='x'))",
    "ex02": "from ingestion.core.validate import Validator\nfrom ingestion.records import TrustStore\n"
            "Validator(TrustStore()).check(b'{}', 'p')",
    "ex03": "import tempfile, pathlib\nfrom encryption.envelope import encrypt\n"
            "from encryption.providers.local import LocalKeyProvider, create_key_file\n"
            "k = pathlib.Path(tempfile.mkdtemp()) / 'k.json'; create_key_file(k)\n"
            "encrypt(b'x', LocalKeyProvider(k), {'silo': 'aws', 'dataset': 'd', 'batch': 'b'})",
    "ex04": "import tempfile, pathlib\nfrom encryption.cache import CachingKeyProvider\n"
            "from encryption.providers.local import LocalKeyProvider, create_key_file\n"
            "k = pathlib.Path(tempfile.mkdtemp()) / 'k.json'; create_key_file(k)\n"
            "CachingKeyProvider(LocalKeyProvider(k)).data_key_for_message({'silo': 'aws', 'dataset': 'd'}, 1)",
    "ex05": "from encryption.rotation import rewrap_blob\nrewrap_blob(b'', {}, None, None)",
    "ex07": "from securefl.privacy import epsilon_of\nepsilon_of([1.0], 1e-5)",
    "ex08": "from securefl.config import load_config\nload_config()",
    "ex09": "import numpy as np\nfrom poisoning_detection.detectors.activation_clustering import looks_like\n"
            "looks_like(np.array([1, 2]), 1)",
}
#: Entry points that must still start in the starter (`--help` imports the script's module).
ENTRY_POINTS = (["-m", "course.scenario", "--help"], ["data/generate.py", "--help"],
                ["ingestion/aws/kinesis_ingest.py", "--help"], ["-m", "encryption", "--help"],
                ["federated-learning/run.py", "--help"], ["poisoning-detection/detect.py", "--help"])


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("starter")
    release(out)
    return out


def _python(starter: Path, *args: str) -> subprocess.CompletedProcess[str]:
    shim = starter / ".shim"
    shim.mkdir(exist_ok=True)
    if not (shim / "poisoning_detection").exists():
        (shim / "poisoning_detection").symlink_to(starter / "poisoning-detection")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(starter), "LAB_STATE_DIR": str(starter / ".lab"),
           "PYTHONPATH": f"{shim}:{starter}:{starter / 'federated-learning'}", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=starter, env=env, text=True, capture_output=True,
                          timeout=600, check=False)


def test_every_code_exercise_stops_with_a_message_that_names_it(starter: Path) -> None:
    code = [e for e in exercises() if e.kind == "code"]
    assert sorted(REACH) == sorted(e.id for e in code)
    script = "import sys\n" + "\n".join(
        f"try:\n    exec({snippet!r})\n    print('{ex} RAN')\nexcept NotImplementedError as e:\n    print('{ex} NIE', e)\n"
        f"except Exception as e:\n    print('{ex} OTHER', type(e).__name__, e)" for ex, snippet in REACH.items())
    proc = _python(starter, "-c", script)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if line[:2] == "ex")
    for ex in code:
        assert lines[ex.id].startswith(f"NIE {ex.id} ({ex.title})"), (ex.id, lines[ex.id])
        assert ex.hint[:40] in lines[ex.id]


def test_everything_else_still_starts(starter: Path) -> None:
    for argv in ENTRY_POINTS:
        proc = _python(starter, *argv)
        assert proc.returncode == 0 and "usage" in proc.stdout.lower(), (argv, proc.stderr[-500:])


def test_no_solution_and_no_grader_ships(starter: Path) -> None:
    for ex in exercises():
        for rel in ex.files:
            text = (starter / rel).read_text()
            assert find_regions(text, rel) == [] and f"TODO {ex.id}" in text, rel
    for rel in INSTRUCTOR_ONLY:
        assert not (starter / rel).exists(), rel
    written = (starter / "docs/case_studies/kinesis_poisoning.md").read_text()
    assert "AML.T0020" not in written and "## Attack vector\nTODO ex06" in written


def test_readme_lists_the_exercises_in_order_with_budgets(starter: Path) -> None:
    readme = (starter / "README.md").read_text()
    positions = [readme.index(f"| {e.id} | {e.week} | {e.title} | {e.budget_min} min |") for e in exercises()]
    assert positions == sorted(positions)
    assert "Total budget:" in readme


def test_the_instructor_copy_keeps_its_solutions() -> None:
    assert {r.exercise for r in regions_in(REPO_ROOT)} == {e.id for e in exercises()}


def test_refuses_a_non_empty_or_inner_folder(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(LabError, match="not empty"):
        release(tmp_path)
    with pytest.raises(LabError, match="inside the instructor's copy"):
        release(REPO_ROOT / "starter-here")


def test_unbalanced_markers_are_refused() -> None:
    with pytest.raises(ValueError, match="never closed"):
        find_regions("# BEGIN SOLUTION ex01\nx = 1\n", "f.py")
    with pytest.raises(ValueError, match="without its BEGIN"):
        find_regions("x = 1\n# END SOLUTION ex02\n", "f.py")
