"""Where things live on disk. One place, so scripts run by path and tests agree."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
DATA_DIR: Path = REPO_ROOT / "data"
MODELS_DIR: Path = REPO_ROOT / "models"
REPORTS_DIR: Path = REPO_ROOT / "reports"
VENV_BIN: Path = REPO_ROOT / ".venv" / "bin"
