#!/usr/bin/env bash
# Interoperability test with kcat (librdkafka 2.0.2) against a real `eddy broker` on a free loopback port:
#   - kcat -L lists the broker (node 0, the controller, at the listen address) and the topics;
#   - 10,000 keyed messages produced with -X partitioner=murmur2_random into an auto-created 4-partition
#     topic, uncompressed and with each of gzip, snappy, lz4 and zstd, read back with -C -e: byte-identical,
#     in order per partition, and every key in the partition Kafka's Java client would choose (murmur2,
#     recomputed here in Python);
#   - a kcat consumer group (-G) reads them all, and a second run reads only what was produced after the
#     first run's committed offsets;
#   - SIGTERM shuts the broker down with exit code 0 and a clean-shutdown marker; after a restart the
#     records are all still there.
#
# Usage: tests/kcat_test.sh BIN_DIR   (the directory holding the eddy binary, e.g. build/bin)
# Fails, naming the package, when kcat or python3 is not installed (scripts/setup.sh installs both).
set -euo pipefail
source "$(dirname "$0")/interop/lib.sh"

BIN_DIR=${1:?usage: kcat_test.sh BIN_DIR}
interop_init kcat_test "$BIN_DIR"
require_command kcat kcat
require_command python3 python3
PARTITIONS=4
COUNT=10000

# The input: key-N:value-N with a varying payload, one per line.
python3 - "$COUNT" >"$TMP/input.txt" <<'EOF'
import sys
for i in range(int(sys.argv[1])):
    print(f"key-{i}:value-{i}-{'x' * (i % 37)}-{i * 7919 % 100003}")
EOF

# Checks a consumed file ("partition<TAB>offset<TAB>key<TAB>value" lines) against the input.
check_consumed() {
  python3 - "$TMP/input.txt" "$1" "$PARTITIONS" <<'EOF' || fail "consumed records differ (see above)"
import sys

def murmur2(data):
    # Kafka's Utils.murmur2 (the Java client's default partitioner for keyed records).
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = data[4 * i] | data[4 * i + 1] << 8 | data[4 * i + 2] << 16 | data[4 * i + 3] << 24
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length & ~3
    rem = length % 4
    if rem == 3:
        h ^= data[tail + 2] << 16
    if rem >= 2:
        h ^= data[tail + 1] << 8
    if rem >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h

input_path, consumed_path, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
expected = [line.rstrip("\n").split(":", 1) for line in open(input_path, encoding="utf-8")]
per_partition = {}
for key, value in expected:
    p = (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
    per_partition.setdefault(p, []).append((key, value))
got = {}
errors = 0
for line in open(consumed_path, encoding="utf-8"):
    p, offset, key, value = line.rstrip("\n").split("\t", 3)
    got.setdefault(int(p), []).append((int(offset), key, value))
total = sum(len(v) for v in got.values())
if total != len(expected):
    print(f"consumed {total} records, produced {len(expected)}")
    errors += 1
for p in sorted(set(per_partition) | set(got)):
    records = got.get(p, [])
    offsets = [o for o, _, _ in records]
    if offsets != list(range(len(records))):
        print(f"partition {p}: offsets are not 0..{len(records) - 1} in order")
        errors += 1
    if [(k, v) for _, k, v in records] != per_partition.get(p, []):
        print(f"partition {p}: {len(records)} records differ from the {len(per_partition.get(p, []))} "
              f"keys murmur2 places there (or their order)")
        errors += 1
sys.exit(1 if errors else 0)
EOF
}

# Checks that the batches stored for a topic carry the codec in their attributes: records arriving intact do
# not prove the client compressed them (librdkafka silently falls back to none when it believes the broker
# cannot take a codec). librdkafka also sends a batch uncompressed when the codec would make it larger
# (rd_kafka_msgset_writer_compress), which happens to the small last batch of a partition: a batch without the
# codec passes only if it is that small (under 512 bytes), and nine records in ten must be in batches with it.
check_codec() {
  python3 - "$DATA" "$1" "$2" <<'EOF' || fail "topic $1: batches not stored with codec $2 (see above)"
import glob, os, struct, sys
data, topic, codec = sys.argv[1], sys.argv[2], sys.argv[3]
want = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}[codec]
batches, wrong, large_wrong, records, with_codec = 0, 0, 0, 0, 0
for path in glob.glob(os.path.join(data, topic + "-*", "*.log")):
    blob = open(path, "rb").read()
    pos = 0
    while pos + 61 <= len(blob):
        (length,) = struct.unpack_from(">i", blob, pos + 8)
        if length <= 0 or pos + 12 + length > len(blob):
            break
        (attributes,) = struct.unpack_from(">h", blob, pos + 21)
        (count,) = struct.unpack_from(">i", blob, pos + 57)
        batches += 1
        records += count
        if (attributes & 7) == want:
            with_codec += count
        else:
            wrong += 1
            large_wrong += 12 + length >= 512
        pos += 12 + length
if batches == 0 or large_wrong or with_codec * 10 < records * 9:
    print(f"{topic}: {batches} batches, {wrong} without codec {codec} ({large_wrong} of 512 bytes or more); "
          f"{with_codec} of {records} records with it")
    sys.exit(1)
EOF
}

step "start the broker"
start_broker --config num.partitions=$PARTITIONS

step "kcat -L"
timeout 60 kcat -b "$BOOTSTRAP" -L >"$TMP/metadata.txt" || fail "kcat -L failed"
grep -q "broker 0 at $BOOTSTRAP (controller)" "$TMP/metadata.txt" || fail "kcat -L: $(cat "$TMP/metadata.txt")"

for codec in none gzip snappy lz4 zstd; do
  topic="kcat-$codec"
  step "produce $COUNT keyed messages with murmur2_random, compression $codec"
  timeout 120 kcat -b "$BOOTSTRAP" -P -t "$topic" -K: -z "$codec" -X partitioner=murmur2_random \
    -X topic.metadata.refresh.interval.ms=1000 <"$TMP/input.txt" || fail "kcat -P exited with $?"
  step "consume $topic with -C -e"
  timeout 120 kcat -b "$BOOTSTRAP" -C -t "$topic" -o beginning -e -q -f '%p\t%o\t%k\t%s\n' \
    >"$TMP/consumed-$codec.txt" || fail "kcat -C exited with $?"
  check_consumed "$TMP/consumed-$codec.txt"
  check_codec "$topic" "$codec"
done

step "consumer group: kcat -G reads everything, then resumes after its committed offsets"
timeout 120 kcat -b "$BOOTSTRAP" -G kcat-group -X auto.offset.reset=earliest -e -q -f '%p\t%o\t%k\t%s\n' kcat-none \
  >"$TMP/group-1.txt" || fail "kcat -G exited with $?"
check_consumed "$TMP/group-1.txt"
timeout 120 kcat -b "$BOOTSTRAP" -P -t kcat-none -K: -X partitioner=murmur2_random <"$TMP/input.txt" ||
  fail "kcat -P (second round) exited with $?"
timeout 120 kcat -b "$BOOTSTRAP" -G kcat-group -X auto.offset.reset=earliest -e -q -f '%p\t%o\t%k\t%s\n' kcat-none \
  >"$TMP/group-2.txt" || fail "kcat -G (second run) exited with $?"
[[ $(wc -l <"$TMP/group-2.txt") -eq $COUNT ]] ||
  fail "the second group run read $(wc -l <"$TMP/group-2.txt") records, expected the $COUNT new ones"
# Per partition, the second run starts where the first ended.
awk -F'\t' 'NR == FNR { if ($2 + 1 > end[$1]) end[$1] = $2 + 1; next } $2 < end[$1] { bad = 1 } END { exit bad }' \
  "$TMP/group-1.txt" "$TMP/group-2.txt" ||
  fail "the second group run read records from before its committed offsets"

step "kcat -L shows the auto-created topic with $PARTITIONS partitions"
timeout 60 kcat -b "$BOOTSTRAP" -L -t kcat-none >"$TMP/metadata.txt" || fail "kcat -L -t failed"
grep -q "topic \"kcat-none\" with $PARTITIONS partitions" "$TMP/metadata.txt" || fail "$(cat "$TMP/metadata.txt")"

step "SIGTERM: clean shutdown, exit code 0"
stop_broker

step "restart: the records are still there"
start_broker --config num.partitions=$PARTITIONS
grep -q "recover" "$TMP/broker.err" && fail "the restart after a clean shutdown ran recovery: $(cat "$TMP/broker.err")"
timeout 120 kcat -b "$BOOTSTRAP" -C -t kcat-zstd -o beginning -e -q -f '%p\t%o\t%k\t%s\n' \
  >"$TMP/consumed-again.txt" || fail "kcat -C after the restart exited with $?"
check_consumed "$TMP/consumed-again.txt"
stop_broker

echo "kcat_test: PASS"
