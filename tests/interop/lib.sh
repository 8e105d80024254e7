# Shell helpers shared by the interoperability tests (tests/kcat_test.sh, tests/interop/*_test.sh): each test
# runs a real `eddy broker` on a free loopback port (port 0, read back from the ready line) with its own
# temporary data directory, and fails (never skips) when a client it needs is not installed.
#
# Usage, at the top of a test script (set -euo pipefail first):
#   source "$(dirname "$0")/lib.sh"          # or tests/interop/lib.sh from tests/
#   interop_init my_test "$BIN_DIR"          # sets EDDY, TMP (removed on exit), DATA; kills the broker on exit
#   require_command kcat kcat                # command, Debian package
#   require_python_module kafka python3-kafka
#   start_broker --config num.partitions=4   # sets BROKER_PID and BOOTSTRAP (HOST:PORT)
#   step "what happens next"; ...; fail "why"
#   stop_broker                              # SIGTERM: exit code 0 and a clean-shutdown marker
#   kill_broker                              # SIGKILL

INTEROP_NAME=interop
BROKER_PID=""
STEP="start"

# interop_init NAME BIN_DIR: checks the eddy binary and creates the test's temporary directory.
interop_init() {
  INTEROP_NAME=$1
  EDDY="$2/eddy"
  [[ -x "$EDDY" ]] || { echo "$INTEROP_NAME: FAIL: no eddy binary at $EDDY" >&2; exit 1; }
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-$INTEROP_NAME.XXXXXX")
  DATA="$TMP/data"
  trap interop_cleanup EXIT
}

interop_cleanup() {
  if [[ -n "$BROKER_PID" ]] && kill -0 "$BROKER_PID" 2>/dev/null; then kill -9 "$BROKER_PID" 2>/dev/null || true; fi
  if [[ -n "${INTEROP_KEEP_TMP:-}" ]]; then echo "$INTEROP_NAME: kept $TMP" >&2; else rm -rf "$TMP"; fi
}

fail() {
  echo "$INTEROP_NAME: FAIL in '$STEP': $*" >&2
  if [[ -f "$TMP/broker.err" ]]; then
    echo "--- broker stderr (last 20 lines):" >&2
    tail -20 "$TMP/broker.err" >&2
  fi
  exit 1
}

step() {
  STEP=$1
  echo "$INTEROP_NAME: $STEP"
}

# require_command COMMAND PACKAGE: fails the test (not a skip) when COMMAND is not on PATH.
require_command() {
  command -v "$1" >/dev/null ||
    fail "'$1' is not installed: install the Debian package $2 (scripts/setup.sh does)"
}

# require_python_module MODULE PACKAGE: fails the test when /usr/bin/python3 cannot import MODULE.
require_python_module() {
  require_command /usr/bin/python3 python3
  /usr/bin/python3 -c "import $1" 2>/dev/null ||
    fail "/usr/bin/python3 cannot import $1: install the Debian package $2 (scripts/setup.sh does)"
}

# start_broker [ARGS...]: starts `eddy broker` on DATA and a free loopback port with ARGS appended, waits
# for its ready line (30 s at most); sets BROKER_PID and BOOTSTRAP. Stderr goes to $TMP/broker.err.
start_broker() {
  : >"$TMP/broker.out"
  "$EDDY" broker --data-dir "$DATA" --listen 127.0.0.1:0 "$@" >"$TMP/broker.out" 2>"$TMP/broker.err" &
  BROKER_PID=$!
  for _ in $(seq 1 300); do
    if grep -q "^eddy broker listening on " "$TMP/broker.out"; then break; fi
    kill -0 "$BROKER_PID" 2>/dev/null || fail "the broker exited before it was ready"
    sleep 0.1
  done
  local line
  line=$(head -1 "$TMP/broker.out")
  [[ "$line" =~ ^eddy\ broker\ listening\ on\ 127\.0\.0\.1:([0-9]+)\ \(data\ dir\ .*\)$ ]] ||
    fail "unexpected ready line: '$line'"
  BOOTSTRAP="127.0.0.1:${BASH_REMATCH[1]}"
}

# stop_broker: SIGTERM; the broker must exit with code 0 and leave the clean-shutdown marker.
stop_broker() {
  kill -TERM "$BROKER_PID"
  local rc=0
  wait "$BROKER_PID" || rc=$?
  BROKER_PID=""
  [[ $rc -eq 0 ]] || fail "the broker exited with code $rc after SIGTERM"
  [[ -f "$DATA/.eddy_cleanshutdown" ]] || fail "no clean-shutdown marker after SIGTERM"
}

# kill_broker: SIGKILL, as a crash or power loss of the process (the page cache survives).
kill_broker() {
  kill -KILL "$BROKER_PID"
  wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
}
