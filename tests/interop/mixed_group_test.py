"""One consumer group, two client libraries: a kafka-python 2.0.2 member and a confluent-kafka (librdkafka
2.0.2) member against a running `eddy broker`, both with the range assignor (the one protocol both offer).

- both members join the group `mixed` on a topic of 4 partitions, each in its own thread: each comes to hold
  two partitions, disjoint; then 400 records, which they read committing every record synchronously;
- the kafka-python member closes (LeaveGroup): the librdkafka member takes all four partitions;
- 400 more records: the librdkafka member reads them.

Checked: every offset of every partition is read; a record is read twice only if its first reader's commit
failed (the rebalance fenced it); and whenever a member starts on a partition, it starts exactly at the
group's last successful commit of that partition.

Usage: /usr/bin/python3 mixed_group_test.py HOST:PORT   (exit code 0 on success)
"""
import sys
import threading
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.structs import OffsetAndMetadata, TopicPartition

BOOTSTRAP = sys.argv[1]
TOPIC = "mixed"
GROUP = "mixed"
PARTITIONS = 4
PER_PARTITION = 100

lock = threading.Lock()
reads = []          # (member, partition, offset, commit succeeded)
committed = {}      # partition -> next offset, after the group's last successful commit
failures = []       # assertion failures raised in the member threads
assignments = {}    # member -> set of partitions it holds now
stop = {"kafka-python": threading.Event(), "librdkafka": threading.Event()}


def check(condition, message):
    if not condition:
        print(f"mixed_group_test: FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def record_read(member, partition, offset, last_seen):
    """Notes a read; a partition the member was not reading already must start at the last commit."""
    with lock:
        if last_seen.get(partition) is None or offset != last_seen[partition] + 1:
            expected = committed.get(partition, 0)
            if offset != expected:
                failures.append(f"{member} started partition {partition} at offset {offset}, "
                                f"the last commit is {expected}")
        last_seen[partition] = offset


def record_commit(member, partition, offset, ok):
    with lock:
        reads.append((member, partition, offset, ok))
        if ok:
            committed[partition] = offset + 1


def run_kafka_python():
    member = "kafka-python"
    consumer = KafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=GROUP, client_id=member,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             partition_assignment_strategy=[RangePartitionAssignor])
    consumer.subscribe([TOPIC])
    last_seen = {}
    while not stop[member].is_set():
        batch = consumer.poll(timeout_ms=200, max_records=20)
        with lock:
            assignments[member] = {tp.partition for tp in consumer.assignment()}
        for tp, messages in batch.items():
            for m in messages:
                record_read(member, m.partition, m.offset, last_seen)
                try:
                    consumer.commit({TopicPartition(TOPIC, m.partition): OffsetAndMetadata(m.offset + 1, None)})
                    ok = True
                except Exception:  # CommitFailedError: the group rebalanced under us
                    ok = False
                    last_seen.clear()
                record_commit(member, m.partition, m.offset, ok)
        # A rebalance inside poll may have taken partitions away: forget where we were on them.
        for p in list(last_seen):
            if p not in assignments[member]:
                del last_seen[p]
    consumer.close()  # sends LeaveGroup
    with lock:
        assignments[member] = set()


def run_librdkafka():
    member = "librdkafka"
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": GROUP, "client.id": member,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "partition.assignment.strategy": "range"})
    consumer.subscribe([TOPIC])
    last_seen = {}
    while not stop[member].is_set():
        msg = consumer.poll(0.2)
        held = {tp.partition for tp in consumer.assignment()}
        with lock:
            assignments[member] = held
        for p in list(last_seen):
            if p not in held:
                del last_seen[p]
        if msg is None:
            continue
        if msg.error() is not None:
            with lock:
                failures.append(f"librdkafka consume error: {msg.error()}")
            continue
        record_read(member, msg.partition(), msg.offset(), last_seen)
        try:
            consumer.commit(message=msg, asynchronous=False)
            ok = True
        except Exception:  # KafkaException: ILLEGAL_GENERATION / REBALANCE_IN_PROGRESS
            ok = False
            last_seen.clear()
        record_commit(member, msg.partition(), msg.offset(), ok)
    consumer.close()


def produce(start):
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all"})
    for p in range(PARTITIONS):
        for i in range(start, start + PER_PARTITION):
            producer.produce(TOPIC, key=f"k{i}", value=f"p{p}-{i}", partition=p)
    check(producer.flush(30) == 0, "records not delivered after flush")


def wait_for(condition, what, seconds=40):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with lock:
            check(not failures, "; ".join(failures[:5]))
            if condition():
                return
        time.sleep(0.05)
    with lock:
        check(False, f"{what} not within {seconds} s (assignments {assignments}, {len(reads)} reads, "
                     f"committed {committed})")


def all_read(end):
    return all(committed.get(p, 0) == end for p in range(PARTITIONS))


admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
for _, future in admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)]).items():
    future.result(timeout=10)

threads = [threading.Thread(target=run_kafka_python, daemon=True),
           threading.Thread(target=run_librdkafka, daemon=True)]
for t in threads:
    t.start()


def split_two_and_two():
    a, b = assignments.get("kafka-python", set()), assignments.get("librdkafka", set())
    return len(a) == 2 and len(b) == 2 and a | b == set(range(PARTITIONS))


wait_for(split_two_and_two, "each member holding two partitions")
produce(0)  # only now, so that each member reads its own two partitions
wait_for(lambda: all_read(PER_PARTITION), "the first 400 records read and committed")
with lock:
    by_member = {m for m, _, _, _ in reads}
check(by_member == {"kafka-python", "librdkafka"}, f"records were read by {by_member} only")

stop["kafka-python"].set()
threads[0].join(30)
check(not threads[0].is_alive(), "the kafka-python member did not close")
wait_for(lambda: assignments.get("librdkafka") == set(range(PARTITIONS)),
         "the librdkafka member taking all four partitions after the other left")
produce(PER_PARTITION)
wait_for(lambda: all_read(2 * PER_PARTITION), "the next 400 records read by the remaining member")
stop["librdkafka"].set()
threads[1].join(30)

with lock:
    seen = {}
    for member, p, o, ok in reads:
        seen.setdefault((p, o), []).append(ok)
    missing = [(p, o) for p in range(PARTITIONS) for o in range(2 * PER_PARTITION) if (p, o) not in seen]
    check(not missing, f"{len(missing)} records never read, first {missing[:5]}")
    # A second read is allowed only when every read before the last failed to commit.
    twice = [k for k, oks in seen.items() if len(oks) > 1 and any(oks[:-1])]
    check(not twice, f"{len(twice)} records read again after a successful commit, first {twice[:5]}")
    refused = sum(1 for _, _, _, ok in reads if not ok)
    late = sum(1 for m, _, _, _ in reads if m == "librdkafka")
print(f"mixed_group_test: {2 * PARTITIONS * PER_PARTITION} records, 2+2 partitions then 4 after the leave; "
      f"{late} read by librdkafka, {len(reads) - late} by kafka-python, {refused} commits refused by a "
      f"rebalance (their records read again): OK")
