#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo on the embedded broker in a fresh data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/bin/eddy demo --data-dir "${EDDY_DEMO_DIR:-$(mktemp -d /tmp/eddy-demo.XXXXXX)}"
