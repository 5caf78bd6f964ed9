#!/usr/bin/env bash
# Idempotent set-up: venv, pinned Python packages, the project (editable), npm
# tools, and one-time local preparation (certificates, offline DuckDB extension).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; install Python 3.11 (or run: make PYTHON=python3.12 ...)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
echo "==> installing pinned Python packages (requirements.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
echo "==> installing the lab and the Flower app (editable)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . 
if [ -f federated-learning/pyproject.toml ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e federated-learning
fi
if [ -f package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found; install Node.js 20 with npm" >&2
    exit 1
  fi
  echo "==> installing npm tools (package-lock.json)"
  npm ci --silent --no-audit --no-fund
fi
echo "==> preparing local state (.lab/)"
.venv/bin/python -m lab.setup
echo "==> set-up complete"
