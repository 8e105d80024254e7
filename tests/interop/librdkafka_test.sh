#!/usr/bin/env bash
# librdkafka 2.0.2 (tests/interop/rdkafka_interop.cc) against a real `eddy broker`:
#   librdkafka_test.sh BIN_DIR idempotent          idempotent producer, acks=all, 20,000 keyed records:
#                                                  each delivered once and read back once, in order
#   librdkafka_test.sh BIN_DIR group STRATEGY      three group members on six partitions, one leaves
#                                                  (see rdkafka_group.cc for every check)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${1:?usage: librdkafka_test.sh BIN_DIR idempotent|group STRATEGY}
MODE=${2:?usage: librdkafka_test.sh BIN_DIR idempotent|group STRATEGY}
interop_init "librdkafka_test_$MODE${3:+_$3}" "$BIN_DIR"
PROGRAM="$BIN_DIR/rdkafka_interop"
[[ -x "$PROGRAM" ]] || fail "no $PROGRAM (built when pkg-config finds librdkafka-dev)"

start_broker
case "$MODE" in
  idempotent)
    step "idempotent producer, acks=all"
    timeout 90 "$PROGRAM" idempotent "$BOOTSTRAP" idempotent-topic 20000 || fail "rdkafka_interop exited with $?"
    ;;
  group)
    STRATEGY=${3:?group needs a STRATEGY}
    step "consumer group, $STRATEGY"
    timeout 90 "$PROGRAM" group "$BOOTSTRAP" "group-$STRATEGY" "$STRATEGY" || fail "rdkafka_interop exited with $?"
    ;;
  *) fail "unknown mode $MODE" ;;
esac
stop_broker
echo "$INTEROP_NAME: PASS"
