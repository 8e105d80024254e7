#!/usr/bin/env bash
# Restart over the protocol, with librdkafka (tests/interop/rdkafka_interop.cc):
#   restart_test.sh BIN_DIR clean     produce 30,000 keyed records with acks=all, a group consumes them and
#                                     commits, SIGTERM, restart: every record and the exact committed
#                                     offsets are there (and the restart ran no recovery).
#   restart_test.sh BIN_DIR sigkill   a producer (acks=all) and a committing group consumer run against the
#                                     broker; it is killed with SIGKILL mid-stream; after a restart every
#                                     acknowledged record is at its offset and every acknowledged commit is
#                                     there.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BIN_DIR=${1:?usage: restart_test.sh BIN_DIR clean|sigkill}
MODE=${2:?usage: restart_test.sh BIN_DIR clean|sigkill}
interop_init "restart_test_$MODE" "$BIN_DIR"
PROGRAM="$BIN_DIR/rdkafka_interop"
[[ -x "$PROGRAM" ]] || fail "no $PROGRAM (built when pkg-config finds librdkafka-dev)"
TOPIC=restart-topic
GROUP=restart-group

start_broker --config num.partitions=3
case "$MODE" in
  clean)
    step "produce 30,000 records with acks=all"
    timeout 60 "$PROGRAM" produce-log "$BOOTSTRAP" $TOPIC 30000 >"$TMP/acked.txt" || fail "produce-log exited with $?"
    [[ $(wc -l <"$TMP/acked.txt") -eq 30000 ]] || fail "only $(wc -l <"$TMP/acked.txt") of 30,000 records acknowledged"
    step "a group consumes 20,000 of them and commits"
    timeout 60 "$PROGRAM" commit-log "$BOOTSTRAP" $TOPIC $GROUP 20000 >"$TMP/committed.txt" ||
      fail "commit-log exited with $?"
    step "SIGTERM, restart"
    stop_broker
    start_broker --config num.partitions=3
    grep -qi "recover" "$TMP/broker.err" && fail "the restart after a clean shutdown ran recovery"
    step "verify records and committed offsets"
    timeout 60 "$PROGRAM" verify "$BOOTSTRAP" $TOPIC $GROUP "$TMP/acked.txt" "$TMP/committed.txt" exact ||
      fail "verify exited with $?"
    ;;
  sigkill)
    step "produce and commit, then SIGKILL the broker mid-stream"
    timeout 60 "$PROGRAM" produce-log "$BOOTSTRAP" $TOPIC 2000000 >"$TMP/acked.txt" 2>"$TMP/producer.err" &
    PRODUCER=$!
    # The consumer starts once records exist, so that the topic is there for it to subscribe to.
    for _ in $(seq 1 100); do [[ $(wc -l <"$TMP/acked.txt") -ge 100 ]] && break; sleep 0.1; done
    timeout 60 "$PROGRAM" commit-log "$BOOTSTRAP" $TOPIC $GROUP 2000000 >"$TMP/committed.txt" 2>"$TMP/consumer.err" &
    CONSUMER=$!
    # Kill once the consumer has committed on all three partitions (it reads them a fetch at a time).
    committed_partitions() { cut -f1 "$TMP/committed.txt" | sort -u | wc -l; }
    for _ in $(seq 1 200); do [[ $(committed_partitions) -ge 3 ]] && break; sleep 0.1; done
    [[ $(committed_partitions) -ge 3 ]] ||
      fail "the consumer did not commit on all 3 partitions within 20 s: $(cat "$TMP/consumer.err")"
    kill -0 $PRODUCER 2>/dev/null || fail "the producer finished before the kill: not mid-stream"
    kill_broker
    wait $PRODUCER || fail "the producer exited with $? (see $TMP/producer.err)"
    wait $CONSUMER || fail "the consumer exited with $?"
    echo "$INTEROP_NAME: $(wc -l <"$TMP/acked.txt") records and $(wc -l <"$TMP/committed.txt") partition commits acknowledged before the kill"
    step "restart after SIGKILL"
    start_broker --config num.partitions=3
    step "verify every acknowledged record and commit"
    timeout 60 "$PROGRAM" verify "$BOOTSTRAP" $TOPIC $GROUP "$TMP/acked.txt" "$TMP/committed.txt" at-least ||
      fail "verify exited with $?"
    ;;
  *) fail "unknown mode $MODE" ;;
esac
stop_broker
echo "$INTEROP_NAME: PASS"
