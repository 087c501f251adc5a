#!/usr/bin/env bash
# The peers the speed benchmark compares with, in an environment of their
# own (.venv-peers), never dependencies of the package. It sees the
# project's .venv (TensorFlow, which Datumaro's TF OD API exporter imports)
# through a .pth file, and gets Datumaro on top.
#   bash scripts/benchmarks/peers.sh && python -m scripts.benchmarks.speed --peer_python .venv-peers/bin/python
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/venv.sh
ensure_venv test
if [[ ! -x .venv-peers/bin/python ]]; then
  python3 -m venv .venv-peers
fi
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
peer_site=$(.venv-peers/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$site" > "$peer_site/project_venv.pth"
.venv-peers/bin/python -m pip install --quiet 'datumaro==1.13.*'
.venv-peers/bin/python -c 'import datumaro; print("datumaro", datumaro.__version__)'
