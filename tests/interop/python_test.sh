#!/usr/bin/env bash
# Runs a Python client test (tests/interop/*.py, with /usr/bin/python3) against a real `eddy broker`:
#   python_test.sh BIN_DIR SCRIPT MODULE PACKAGE
# SCRIPT gets the broker's HOST:PORT as its argument; MODULE must be importable (else the test fails, naming
# the Debian PACKAGE to install). The broker must then shut down cleanly.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${1:?usage: python_test.sh BIN_DIR SCRIPT MODULE PACKAGE}
SCRIPT=${2:?}
MODULE=${3:?}
PACKAGE=${4:?}
interop_init "$(basename "$SCRIPT" .py)" "$BIN_DIR"
require_python_module "$MODULE" "$PACKAGE"
start_broker
step "run $SCRIPT"
timeout 90 /usr/bin/python3 "$(dirname "$0")/$SCRIPT" "$BOOTSTRAP" || fail "$SCRIPT exited with $?"
step "SIGTERM"
stop_broker
echo "$INTEROP_NAME: PASS"
