#!/usr/bin/env bash
# End-to-end test of the eddy command-line tool: topics, produce/consume round trips with every
# compression codec, kcat formats, consumer groups that continue where they stopped, the data directory
# lock, the demo and the benchmarks. Runs the binary in a fresh temporary directory.
#
# Usage: tests/cli_test.sh BIN_DIR   (the directory holding the eddy binary, e.g. build/bin)
set -euo pipefail

BIN_DIR=${1:?usage: cli_test.sh BIN_DIR}
EDDY="$BIN_DIR/eddy"
[[ -x "$EDDY" ]] || { echo "cli_test: FAIL: no eddy binary at $EDDY" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-cli-test.XXXXXX")
BG_PID=""
cleanup() {
  if [[ -n "$BG_PID" ]] && kill -0 "$BG_PID" 2>/dev/null; then kill "$BG_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
DATA="$TMP/data"
STEP="start"

fail() {
  echo "cli_test: FAIL in '$STEP': $*" >&2
  exit 1
}
step() {
  STEP=$1
  echo "cli_test: $STEP"
}
# e runs eddy on the test's data directory.
e() { "$EDDY" "$@" --data-dir "$DATA"; }

# expect_fail PATTERN CMD...: CMD must exit non-zero with one line "eddy: ..." on stderr matching PATTERN.
expect_fail() {
  local pattern=$1
  shift
  local err
  if err=$("$@" 2>&1 >/dev/null); then fail "expected '$*' to fail, it succeeded"; fi
  grep -q '^eddy: ' <<<"$err" || fail "'$*': no 'eddy: ' error line, stderr was: $err"
  grep -qiE -- "$pattern" <<<"$err" || fail "'$*': error does not match /$pattern/: $err"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  [[ "$2" == "$3" ]] || fail "$1: expected '$2', got '$3'"
}

# --- help -------------------------------------------------------------------------------------------
step "help"
"$EDDY" help | grep -q "topics create" || fail "'eddy help' does not list 'topics create'"
"$EDDY" topics create --help | grep -q -- "--partitions" || fail "'topics create --help' lacks --partitions"
"$EDDY" consume --help | grep -q -- "--format" || fail "'consume --help' lacks --format"
expect_fail "unknown command" "$EDDY" frobnicate
expect_fail "unknown flag '--bogus'" e topics list --bogus
expect_fail "missing NAME" e topics create

# --- topics -----------------------------------------------------------------------------------------
step "topics create/list/describe/alter/delete"
out=$(e topics create t1 --partitions 3 --config retention.ms=86400000)
expect_eq "create output" "Created topic t1." "$out"
e topics create t2 --partitions 1 >/dev/null
expect_eq "topics list" $'t1\nt2' "$(e topics list)"
desc=$(e topics describe t1)
grep -q "PartitionCount: 3" <<<"$desc" || fail "describe: no 'PartitionCount: 3': $desc"
grep -q "retention.ms=86400000" <<<"$desc" || fail "describe: config not shown: $desc"
expect_eq "partition lines" 3 "$(grep -c $'\tPartition: ' <<<"$desc")"
grep -q $'Partition: 2\tStartOffset: 0\tEndOffset: 0' <<<"$desc" || fail "describe: offsets of an empty partition: $desc"
e topics alter t1 --partitions 5 >/dev/null
grep -q "PartitionCount: 5" <<<"$(e topics describe t1)" || fail "alter did not raise the partition count"
out=$(e topics delete t2)
expect_eq "delete output" "Deleted topic t2." "$out"
expect_eq "topics list after delete" "t1" "$(e topics list)"

step "topic errors"
expect_fail "cannot create topic 'bad/name': .*illegal" e topics create bad/name --partitions 1
expect_fail "partitions" e topics create zero --partitions 0
expect_fail "already exists" e topics create t1 --partitions 1
expect_fail "cannot alter topic 't1': ." e topics alter t1 --partitions 2
grep -q "PartitionCount: 5" <<<"$(e topics describe t1)" || fail "a refused decrease changed the topic"
expect_fail "topic 'nope' does not exist" e topics describe nope
expect_fail "topic 'nope' does not exist" e topics delete nope
expect_fail "topic 'nope' does not exist" e topics alter nope --partitions 4
expect_fail "--config takes key=value" e topics create withbadconfig --config retention.ms
expect_fail "cannot create topic 'badcfg': ." e topics create badcfg --config no.such.config=1
if e topics list | grep -qx zero; then fail "a topic with 0 partitions was created"; fi

# --- produce / consume round trips ------------------------------------------------------------------
INPUT="$TMP/input.txt"
awk 'BEGIN { for (i = 1; i <= 1000; i++) printf "key-%d:value-%d-%s\n", i % 37, i, "payload" }' >"$INPUT"
sort "$INPUT" >"$TMP/input.sorted"

for codec in none gzip snappy lz4 zstd; do
  step "produce/consume with compression $codec"
  topic="rt-$codec"
  e topics create "$topic" --partitions 3 >/dev/null
  err=$(e produce "$topic" --key-separator : --compression "$codec" --acks all <"$INPUT" 2>&1 >/dev/null)
  grep -q "^1000 records acknowledged$" <<<"$err" || fail "produce summary: $err"
  e consume "$topic" --from-beginning --format '%k:%s\n' --max-messages 1000 --timeout-ms 5000 \
    2>/dev/null | sort >"$TMP/out.sorted"
  diff -q "$TMP/input.sorted" "$TMP/out.sorted" >/dev/null ||
    fail "records read back differ from those written: $(diff "$TMP/input.sorted" "$TMP/out.sorted" | head -5)"
  e consume "$topic" --from-beginning --format '%p %o %k %s\n' --max-messages 1000 --timeout-ms 5000 \
    2>/dev/null >"$TMP/placed.txt"
  # Each key always maps to the same partition, and the keys are spread over more than one partition.
  split_keys=$(awk '{print $3, $1}' "$TMP/placed.txt" | sort -u | awk '{print $1}' | uniq -d)
  [[ -z "$split_keys" ]] || fail "keys found in several partitions: $split_keys"
  used=$(awk '{print $1}' "$TMP/placed.txt" | sort -u | wc -l)
  [[ "$used" -gt 1 ]] || fail "all keys landed in one partition"
  # Per partition, offsets are 0,1,2,... and the records keep the order they were written in.
  awk '{ split($4, v, "-"); n = v[2] + 0
         if ($2 != next_off[$1] + 0) { print "partition " $1 ": offset " $2 ", expected " next_off[$1] + 0; exit 1 }
         if (n <= last[$1]) { print "partition " $1 ": record " n " after " last[$1]; exit 1 }
         next_off[$1] = $2 + 1; last[$1] = n }' "$TMP/placed.txt" >"$TMP/order.err" ||
    fail "order within a partition: $(cat "$TMP/order.err")"
done

step "consume formats, --partition/--offset, null keys"
line=$(e consume rt-none --from-beginning --format '%t|%p|%K|%S|%T|%h|100%%\t\\\n' --max-messages 1 \
  --timeout-ms 5000 2>/dev/null)
IFS='|' read -r f_topic f_part f_klen f_vlen f_ts f_headers f_rest <<<"$line"
expect_eq "%t" "rt-none" "$f_topic"
[[ "$f_part" =~ ^[0-2]$ ]] || fail "%p: '$f_part'"
[[ "$f_klen" =~ ^[0-9]+$ && "$f_klen" -ge 5 ]] || fail "%K: '$f_klen'"
[[ "$f_vlen" =~ ^[0-9]+$ && "$f_vlen" -ge 15 ]] || fail "%S: '$f_vlen'"
now_ms=$(($(date +%s) * 1000))
[[ "$f_ts" =~ ^[0-9]+$ && "$f_ts" -gt $((now_ms - 3600000)) && "$f_ts" -le $((now_ms + 60000)) ]] ||
  fail "%T is not the send time in ms: '$f_ts'"
expect_eq "%h of a record without headers" "" "$f_headers"
expect_eq "%% and escapes" $'100%\t\\' "$f_rest"
end0=$(e topics describe rt-none | awk -F'\t' '$3 == "Partition: 0" { sub("EndOffset: ", "", $5); print $5 }')
n=$(e consume rt-none --partition 0 --offset 0 --timeout-ms 3000 2>/dev/null | wc -l)
expect_eq "records of partition 0 from offset 0" "$end0" "$n"
expect_eq "--offset -5" 5 "$(e consume rt-none --partition 0 --offset -5 --timeout-ms 3000 2>/dev/null | wc -l)"
expect_eq "--offset 2: first offset" 2 \
  "$(e consume rt-none --partition 0 --offset 2 --max-messages 1 --timeout-ms 3000 --format '%o' 2>/dev/null)"
expect_eq "latest: no old records" 0 "$(e consume rt-none --timeout-ms 1000 2>/dev/null | wc -l)"
e topics create nulls --partitions 1 >/dev/null
printf 'k1=v1\nno-separator\n=empty-key\nlast-line-without-newline' | e produce nulls --key-separator = 2>/dev/null
expect_eq "null and empty keys" $'2:v1\n-1:no-separator\n0:empty-key\n-1:last-line-without-newline' \
  "$(e consume nulls --from-beginning --format '%K:%s\n' --timeout-ms 3000 2>/dev/null)"
expect_fail "unknown directive '%x'" e consume rt-none --format '%x'
expect_fail "topic 'nope' does not exist" e consume nope --timeout-ms 100
expect_fail "topic 'nope' does not exist" e produce nope </dev/null
expect_fail "no partition 7" e produce nulls --partition 7 </dev/null
expect_fail "cannot be used with --group" e consume nulls --group g --partition 0

# --- consumer groups --------------------------------------------------------------------------------
step "group: 600 then the remaining 400"
e topics create grouped --partitions 3 >/dev/null
e produce grouped --key-separator : <"$INPUT" 2>/dev/null
e consume grouped --group grp --from-beginning --max-messages 600 --timeout-ms 5000 \
  --format '%k:%s\n' 2>/dev/null >"$TMP/first.txt"
expect_eq "first run" 600 "$(wc -l <"$TMP/first.txt")"
e consume grouped --group grp --from-beginning --timeout-ms 2000 --format '%k:%s\n' 2>/dev/null >"$TMP/second.txt"
expect_eq "second run" 400 "$(wc -l <"$TMP/second.txt")"
sort "$TMP/first.txt" "$TMP/second.txt" >"$TMP/both.sorted"
diff -q "$TMP/input.sorted" "$TMP/both.sorted" >/dev/null || fail "the two runs together are not the input exactly once"
expect_eq "third run" 0 "$(e consume grouped --group grp --timeout-ms 1000 2>/dev/null | wc -l)"
grep -qx grp <<<"$(e groups list)" || fail "groups list lacks grp: $(e groups list)"
gdesc=$(e groups describe grp)
head -n 3 <<<"$gdesc" | grep -q "GROUP *TOPIC *PARTITION *CURRENT-OFFSET *LOG-END-OFFSET *LAG *CONSUMER-ID" ||
  fail "groups describe header: $gdesc"
awk '$1 == "grp" { rows++; if ($4 != $5 || $6 != 0) bad = 1; total += $4 }
     END { if (rows != 3 || bad || total != 1000) exit 1 }' <<<"$gdesc" ||
  fail "expected 3 partitions with lag 0 and 1000 records committed: $gdesc"
expect_eq "a new group starts at the end" 0 "$(e consume grouped --group late --timeout-ms 1000 2>/dev/null | wc -l)"
expect_fail "consumer group 'nope' does not exist" e groups describe nope

# --- the data directory lock ------------------------------------------------------------------------
step "a second process on the same data directory"
# The background consumer prints records as soon as it has opened (and locked) the data directory, then
# waits for more; the second process starts only after that output appeared, so nothing depends on timing.
# (The binary itself, not the function e, runs in the background: BG_PID must be eddy's pid for kill.)
"$EDDY" consume grouped --from-beginning --timeout-ms 600000 --data-dir "$DATA" >"$TMP/bg.out" 2>"$TMP/bg.err" &
BG_PID=$!
for _ in $(seq 1 600); do
  [[ -s "$TMP/bg.out" ]] && break
  kill -0 "$BG_PID" 2>/dev/null || fail "the background consumer exited early: $(cat "$TMP/bg.err")"
  sleep 0.1
done
[[ -s "$TMP/bg.out" ]] || fail "the background consumer printed nothing"
expect_fail "^eddy: cannot open data directory '$DATA': .*locked by another process" e topics list
expect_fail "^eddy: cannot open data directory" e produce grouped </dev/null
kill -TERM "$BG_PID"
wait "$BG_PID" || fail "the consumer did not exit cleanly on SIGTERM: $(cat "$TMP/bg.err")"
BG_PID=""
e topics list >/dev/null || fail "the data directory stayed locked after the holder exited"

# --- demo and benchmarks ----------------------------------------------------------------------------
step "demo"
"$EDDY" demo --data-dir "$TMP/demo1" >"$TMP/demo1.txt" || fail "demo failed"
"$EDDY" demo --data-dir "$TMP/demo2" >"$TMP/demo2.txt" || fail "demo failed on a second directory"
grep -q "demo-group" "$TMP/demo1.txt" || fail "demo output lacks the group"
grep -q '"order_id":"order-' "$TMP/demo1.txt" || fail "demo output lacks orders"
diff <(sed "s|$TMP/demo1|DIR|g" "$TMP/demo1.txt") <(sed "s|$TMP/demo2|DIR|g" "$TMP/demo2.txt") >/dev/null ||
  fail "demo output is not deterministic"
lag=$(awk '$1 == "demo-group" { sum += $6 } END { print sum }' "$TMP/demo1.txt")
expect_eq "demo: lag after consuming 12 of 20" 8 "$lag"

step "bench"
out=$(e bench produce --topic bench --records 20000 --record-size 100 --partitions 2 2>/dev/null)
grep -qE "^produced 20000 records in [0-9.]+ s: [0-9.]+ records/s, [0-9.]+ MB/s$" <<<"$out" ||
  fail "bench produce: $out"
out=$(e bench consume --topic bench 2>/dev/null)
grep -qE "^consumed 20000 records in [0-9.]+ s: [0-9.]+ records/s, [0-9.]+ MB/s$" <<<"$out" ||
  fail "bench consume: $out"

echo "cli_test: PASS"
