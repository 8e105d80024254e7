#!/usr/bin/env bash
# kafkajs 2.2.4 (npm, installed into tests/interop/kafkajs/node_modules by scripts/setup.sh with npm ci)
# against a real `eddy broker`: tests/interop/kafkajs/roundtrip.js.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${1:?usage: kafkajs_test.sh BIN_DIR}
interop_init kafkajs_test "$BIN_DIR"
JS_DIR="$(cd "$(dirname "$0")" && pwd)/kafkajs"
require_command node nodejs
[[ -f "$JS_DIR/node_modules/kafkajs/package.json" ]] ||
  fail "kafkajs is not installed: run scripts/setup.sh (npm ci in tests/interop/kafkajs)"
version=$(node -p "require('$JS_DIR/node_modules/kafkajs/package.json').version")
[[ "$version" == 2.2.4 ]] || fail "kafkajs $version installed, the test pins 2.2.4: run scripts/setup.sh"
start_broker
step "producer and consumer group round-trip"
(cd "$JS_DIR" && timeout 90 node roundtrip.js "$BOOTSTRAP") || fail "roundtrip.js exited with $?"
step "SIGTERM"
stop_broker
echo "$INTEROP_NAME: PASS"
