#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Keep Abseil's mutex deadlock detector on in the tests (Eddy turns it off in release builds; core/abseil_mode.h).
export EDDY_ABSL_DEADLOCK_DETECTION=1
cd build && ctest --output-on-failure -j "$(nproc)" "$@"
