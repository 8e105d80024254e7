"""kafka-python 2.0.2 (Debian's python3-kafka) against a running `eddy broker`.

The producer and consumers are written exactly as the project's seed documents write them (a KafkaProducer
with a JSON value_serializer, a KafkaConsumer with group_id and auto_offset_reset='earliest' iterated with
`for message in consumer`), plus KafkaAdminClient create/list/delete topics.

Usage: /usr/bin/python3 kafka_python_test.py HOST:PORT   (exit code 0 on success)
"""
import json
import signal
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

BOOTSTRAP = sys.argv[1]


def check(condition, message):
    if not condition:
        print(f"kafka_python_test: FAIL: {message}", file=sys.stderr)
        sys.exit(1)


def on_timeout(signum, frame):
    print("kafka_python_test: FAIL: no progress for 30 s (a consumer waits for records that never come)",
          file=sys.stderr)
    sys.exit(1)


signal.signal(signal.SIGALRM, on_timeout)

# --- KafkaAdminClient: create, list, delete topics.
admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
admin.create_topics([NewTopic("user-activity", num_partitions=3, replication_factor=1),
                     NewTopic("transactions", num_partitions=3, replication_factor=1),
                     NewTopic("scratch", num_partitions=2, replication_factor=1)])
topics = set(admin.list_topics())
check({"user-activity", "transactions", "scratch"} <= topics, f"list_topics after create: {sorted(topics)}")
try:
    admin.create_topics([NewTopic("scratch", num_partitions=2, replication_factor=1)])
    check(False, "creating an existing topic did not raise TopicAlreadyExistsError")
except TopicAlreadyExistsError:
    pass
admin.delete_topics(["scratch"])
check("scratch" not in set(admin.list_topics()), "list_topics still shows the deleted topic")
admin.close()

# --- The producer of the seed documents: JSON values, no key, then a keyed send.
producer = KafkaProducer(
    bootstrap_servers=BOOTSTRAP,
    # Encode messages as JSON
    value_serializer=lambda v: json.dumps(v).encode("utf-8"),
)
sent = []
for i in range(10):
    message = {"user_id": f"user_{i % 3}", "action": "click", "timestamp": time.time(), "n": i}
    producer.send("user-activity", value=message)
    sent.append(message)
producer.flush()

transaction = {"id": "TX0042", "amount": 1250.00, "customer": "C-1001", "store": "Warsaw"}
keyed = [producer.send("transactions", key=b"C-1001", value=dict(transaction, seq=s)) for s in range(5)]
producer.flush()
keyed_meta = [f.get(timeout=10) for f in keyed]
check(len({m.partition for m in keyed_meta}) == 1, "one key went to several partitions")
offsets = [m.offset for m in keyed_meta]
check(offsets == list(range(offsets[0], offsets[0] + 5)), f"keyed sends got offsets {offsets}")


def consume(expected_count):
    """The consumer of the seed documents (group my-consumer-group); returns what it read, then closes."""
    consumer = KafkaConsumer(
        "user-activity",  # The topic to subscribe to
        bootstrap_servers=BOOTSTRAP,
        auto_offset_reset="earliest",  # Start reading at the earliest message
        group_id="my-consumer-group",  # A unique name for the consumer group
        # Decode messages from JSON
        value_deserializer=lambda m: json.loads(m.decode("utf-8")),
    )
    received = []
    signal.alarm(30)
    for message in consumer:
        received.append(message)
        if len(received) == expected_count:
            break
    signal.alarm(0)
    consumer.close()  # commits the positions (enable_auto_commit defaults to True)
    return received


# Every message once; per partition in send order.
received = consume(10)
check(sorted(m.value["n"] for m in received) == list(range(10)),
      f"received {[m.value['n'] for m in received]}")
check(all(m.value == sent[m.value["n"]] for m in received), "a value changed on the way")
for p in {m.partition for m in received}:
    ns = [m.value["n"] for m in received if m.partition == p]
    check(ns == sorted(ns), f"partition {p} out of order: {ns}")

# The group resumes after its committed offsets: a new consumer reads only what was sent since.
for i in range(10, 15):
    producer.send("user-activity", value={"user_id": f"user_{i % 3}", "action": "view", "n": i})
producer.flush()
producer.close()
again = consume(5)
check(sorted(m.value["n"] for m in again) == list(range(10, 15)),
      f"the second consumer read {[m.value['n'] for m in again]}, expected 10..14")

# The seed's other consumer: no group, reads the keyed transactions from the beginning.
consumer = KafkaConsumer(
    "transactions",
    bootstrap_servers=BOOTSTRAP,
    auto_offset_reset="earliest",
    value_deserializer=lambda x: json.loads(x.decode("utf-8")),
)
signal.alarm(30)
txs = []
for message in consumer:
    txs.append(message.value)
    if len(txs) == 5:
        break
signal.alarm(0)
consumer.close()
check([t["seq"] for t in txs] == list(range(5)) and all(t["amount"] > 1000 for t in txs),
      f"transactions read back: {txs}")
print("kafka_python_test: admin, JSON producer, group consumer with resume, keyed sends: OK")
