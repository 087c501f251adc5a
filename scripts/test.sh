#!/usr/bin/env bash
# Sets up .venv (first run installs everything) and runs the test suite.
#   bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv test
exec .venv/bin/python -m pytest "$@"
