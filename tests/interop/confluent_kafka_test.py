"""confluent-kafka for Python 1.7.0 (Debian's python3-confluent-kafka, on librdkafka 2.0.2) against a running
`eddy broker`.

- AdminClient creates the topic (2 partitions);
- Producer.produce with a delivery callback, poll, flush: every record reported delivered once, no error;
- a Consumer with enable.auto.commit=False commits each message synchronously, is closed midway, and a new
  consumer of the same group resumes right after the last commit on each partition: every record is read
  exactly once across the two, in order per partition.

Usage: /usr/bin/python3 confluent_kafka_test.py HOST:PORT   (exit code 0 on success)
"""
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

BOOTSTRAP = sys.argv[1]
TOPIC = "orders"
COUNT = 200
FIRST_RUN = 80


def check(condition, message):
    if not condition:
        print(f"confluent_kafka_test: FAIL: {message}", file=sys.stderr)
        sys.exit(1)


admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
for topic, future in admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1)]).items():
    future.result(timeout=10)  # raises on failure
check(TOPIC in admin.list_topics(timeout=10).topics, "the created topic is not in the metadata")

delivered = {}
errors = []


def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
        return
    key = msg.key().decode()
    check(key not in delivered, f"{key} was reported delivered twice")
    delivered[key] = (msg.partition(), msg.offset())


producer = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all"})
for i in range(COUNT):
    producer.produce(TOPIC, key=f"order-{i}", value=f'{{"n": {i}}}', callback=on_delivery)
    producer.poll(0)
remaining = producer.flush(30)
check(remaining == 0, f"{remaining} records not delivered after flush")
check(not errors, f"delivery errors: {errors[:5]}")
check(len(delivered) == COUNT, f"{len(delivered)} delivery reports for {COUNT} records")


def new_consumer():
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "billing", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    c.subscribe([TOPIC])
    return c


def consume(consumer, limit, read, committed):
    """Reads up to `limit` records, committing each synchronously; checks each starts at the right offset."""
    deadline = time.monotonic() + 30
    n = 0
    while n < limit:
        check(time.monotonic() < deadline, f"only {n} of {limit} records within 30 s")
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        check(msg.error() is None, f"consume error: {msg.error()}")
        p, offset, key = msg.partition(), msg.offset(), msg.key().decode()
        expected = committed.get(p, 0)
        check(offset == expected, f"partition {p}: read offset {offset}, expected {expected} (the last commit)")
        check(delivered[key] == (p, offset), f"{key} read at {(p, offset)}, delivered at {delivered[key]}")
        read.append(key)
        consumer.commit(message=msg, asynchronous=False)
        committed[p] = offset + 1
        n += 1


read, committed = [], {}
first = new_consumer()
consume(first, FIRST_RUN, read, committed)
first.close()

second = new_consumer()
consume(second, COUNT - FIRST_RUN, read, committed)
extra = second.poll(1.0)
check(extra is None or extra.error() is not None, f"read more than {COUNT} records: {extra and extra.key()}")
second.close()

check(sorted(read) == sorted(delivered), "some records were read twice or not at all")
print(f"confluent_kafka_test: {COUNT} delivered, {FIRST_RUN} read before the restart, the rest after it, "
      f"each once: OK")
