#!/usr/bin/env bash
# The eddy CLI with --bootstrap against a real `eddy broker` on a free loopback port (so through
# librdkafka and the Kafka protocol): topics create/list/describe/delete, produce keyed lines, consume them
# back (by partition and offset, and as a group that resumes after its commit), groups list/describe; and a
# clear error when nothing listens at the address.
#
# Usage: tests/kafka_client_cli_test.sh BIN_DIR
set -euo pipefail
BIN_DIR=${1:?usage: kafka_client_cli_test.sh BIN_DIR}
EDDY="$BIN_DIR/eddy"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-kc-cli-test.XXXXXX")
BROKER_PID=""
cleanup() {
  if [[ -n "$BROKER_PID" ]] && kill -0 "$BROKER_PID" 2>/dev/null; then kill -9 "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "kafka_client_cli_test: FAIL: $*" >&2; tail -5 "$TMP/broker.err" >&2 || true; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }

"$EDDY" broker --data-dir "$TMP/data" --listen 127.0.0.1:0 >"$TMP/broker.out" 2>"$TMP/broker.err" &
BROKER_PID=$!
for _ in $(seq 1 300); do
  grep -q "^eddy broker listening on " "$TMP/broker.out" && break
  kill -0 "$BROKER_PID" 2>/dev/null || fail "the broker exited before it was ready"
  sleep 0.1
done
B=$(sed -n 's/^eddy broker listening on \([^ ]*\).*/\1/p' "$TMP/broker.out")
[[ -n "$B" ]] || fail "no ready line"
R=(--bootstrap "$B")

"$EDDY" topics create orders --partitions 3 --config retention.ms=86400000 "${R[@]}" >/dev/null
expect_eq "$("$EDDY" topics list "${R[@]}")" "orders" "topics list"
"$EDDY" topics describe orders "${R[@]}" >"$TMP/describe"
grep -q "PartitionCount: 3" "$TMP/describe" || fail "describe: $(cat "$TMP/describe")"
grep -q "retention.ms=86400000" "$TMP/describe" || fail "describe configs: $(cat "$TMP/describe")"
if "$EDDY" topics create orders "${R[@]}" 2>"$TMP/err"; then fail "creating an existing topic succeeded"; fi
grep -q "already exists" "$TMP/err" || fail "create twice: $(cat "$TMP/err")"

for i in $(seq 1 300); do echo "key$i:value$i"; done >"$TMP/in"
"$EDDY" produce orders --key-separator : "${R[@]}" <"$TMP/in" 2>"$TMP/produce.err"
grep -q "^300 records acknowledged" "$TMP/produce.err" || fail "produce: $(cat "$TMP/produce.err")"

# Everything comes back, each key with its value, in order within each partition.
"$EDDY" consume orders --from-beginning --max-messages 300 --format '%p %o %k:%s\n' "${R[@]}" 2>/dev/null >"$TMP/all"
expect_eq "$(wc -l <"$TMP/all")" "300" "records read back"
expect_eq "$(cut -d' ' -f3 "$TMP/all" | sort)" "$(sort "$TMP/in")" "key:value pairs"
awk '{ if ($1 in last && $2 != last[$1] + 1) bad = 1; last[$1] = $2 } END { exit bad }' "$TMP/all" ||
  fail "offsets not consecutive per partition"
# Keys land where Kafka's Java client puts them: the same key always in one partition.
expect_eq "$(awk '{print $3}' "$TMP/all" | sort -u | wc -l)" "300" "distinct keys"

# One partition from an offset.
P0=$(awk '$1 == 0' "$TMP/all" | wc -l)
"$EDDY" consume orders --partition 0 --offset 1 --max-messages $((P0 - 1)) --format '%o\n' "${R[@]}" 2>/dev/null >"$TMP/p0"
expect_eq "$(head -1 "$TMP/p0")" "1" "first offset with --offset 1"

# A group reads 100, commits, and the next run resumes after the commit.
"$EDDY" consume orders --group g --from-beginning --max-messages 100 "${R[@]}" 2>/dev/null >"$TMP/g1"
"$EDDY" consume orders --group g --from-beginning --timeout-ms 3000 "${R[@]}" 2>/dev/null >"$TMP/g2"
expect_eq "$(cat "$TMP/g1" "$TMP/g2" | sort | uniq | wc -l)" "300" "group runs together read everything once"
expect_eq "$(cat "$TMP/g1" "$TMP/g2" | wc -l)" "300" "nothing read twice"
expect_eq "$("$EDDY" groups list "${R[@]}")" "g" "groups list"
"$EDDY" groups describe g "${R[@]}" >"$TMP/gd"
expect_eq "$(awk '$1 == "g" && $2 == "orders" { lag += $6 } END { print lag }' "$TMP/gd")" "0" "lag after reading all"

"$EDDY" topics delete orders "${R[@]}" >/dev/null
expect_eq "$("$EDDY" topics list "${R[@]}")" "" "topics after delete"

# Nothing listening: one clear line.
if "$EDDY" topics list --bootstrap 127.0.0.1:1 2>"$TMP/err"; then fail "listing at a dead address succeeded"; fi
grep -q "^eddy: cannot reach a Kafka broker at 127.0.0.1:1" "$TMP/err" || fail "dead address: $(cat "$TMP/err")"

kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || fail "broker exit code"
BROKER_PID=""
echo "kafka_client_cli_test: OK"
