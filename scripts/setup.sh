#!/usr/bin/env bash
# Idempotent set-up: venv, pinned Python packages (uv pip sync of requirements.txt),
# the project (editable), npm tools, and one-time local preparation (certificates,
# offline DuckDB extension). npm runs alongside the Python install: they are independent.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
UV_VERSION="0.13.9"   # the same pin as in requirements.txt
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; install Python 3.11 (or run: make PYTHON=python3.12 ...)" >&2
  exit 1
fi
if [ -f package.json ] && ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found; install Node.js 20 with npm" >&2
  exit 1
fi

npm_pid=""
if [ -f package.json ]; then
  # node_modules/.lab-lock.sha256 records the lock that the last successful npm ci installed.
  lock_sha="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ -x node_modules/.bin/azurite ] && [ "$(cat node_modules/.lab-lock.sha256 2>/dev/null)" = "$lock_sha" ]; then
    echo "==> npm tools up to date (package-lock.json)"
  else
    echo "==> installing npm tools (package-lock.json), alongside the Python packages"
    mkdir -p .lab
    { npm ci --silent --no-audit --no-fund --prefer-offline && echo "$lock_sha" >node_modules/.lab-lock.sha256; } \
      >.lab/npm-ci.log 2>&1 &
    npm_pid=$!
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -m uv --version 2>/dev/null | grep -q "$UV_VERSION"; then
  echo "==> installing uv $UV_VERSION (the installer for the lock file)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" 2>&1 | grep -v "^WARNING: Location" || true
fi
# torch is pinned to its CPU build (+cpu). On the course machines that wheel lies in a local
# folder (PIP_FIND_LINKS, /opt/wheels); elsewhere set LAB_TORCH_FIND_LINKS to the PyTorch CPU index.
find_links=()
for dir in ${LAB_TORCH_FIND_LINKS:-} ${PIP_FIND_LINKS:-} /opt/wheels; do
  if [ -n "$dir" ] && { [ -d "$dir" ] || [[ "$dir" == http* ]]; }; then find_links+=(--find-links "$dir"); break; fi
done
echo "==> installing pinned Python packages (uv pip sync requirements.txt)"
VIRTUAL_ENV="$PWD/.venv" .venv/bin/python -m uv pip sync --quiet --compile-bytecode --python .venv/bin/python \
  "${find_links[@]}" requirements.txt
# checkov (static scan of infra/ in the test suite) pins packages that conflict with the lab's
# lock, so it lives in its own venv with its own lock; tests find it at .venv/tools/checkov.
echo "==> installing checkov into its own venv (infra/requirements-checkov.txt)"
if [ ! -x .venv/tools/checkov/bin/python ]; then
  .venv/bin/python -m uv venv --quiet --python "$PYTHON" .venv/tools/checkov
fi
VIRTUAL_ENV="$PWD/.venv/tools/checkov" .venv/bin/python -m uv pip sync --quiet \
  --python .venv/tools/checkov/bin/python infra/requirements-checkov.txt
echo "==> installing the lab and the Flower app (editable)"
VIRTUAL_ENV="$PWD/.venv" .venv/bin/python -m uv pip install --quiet --python .venv/bin/python --no-deps \
  -e . -e federated-learning

if [ -n "$npm_pid" ]; then
  if ! wait "$npm_pid"; then
    echo "error: npm ci failed; its log is .lab/npm-ci.log:" >&2
    tail -20 .lab/npm-ci.log >&2
    exit 1
  fi
  echo "==> npm tools installed"
fi
echo "==> preparing local state (.lab/)"
.venv/bin/python -m lab.setup
echo "==> set-up complete"
