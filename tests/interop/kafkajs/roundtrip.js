// kafkajs 2.2.4 against a running `eddy broker`: admin createTopics/listTopics, a producer (acks=-1) sending
// keyed records uncompressed and gzip-compressed, and a consumer group (kafkajs's default RoundRobinAssigner)
// that reads every record once, in order per partition; a second consumer of the group after more sends
// reads only the new records (offsets committed by the first).
//
// Usage: node roundtrip.js HOST:PORT   (exit code 0 on success)
'use strict';
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const bootstrap = process.argv[2];
const topic = 'kafkajs-topic';
const groupId = 'kafkajs-group';
const kafka = new Kafka({ clientId: 'eddy-interop', brokers: [bootstrap], logLevel: logLevel.ERROR });

function fail(message) {
  console.error(`kafkajs_test: FAIL: ${message}`);
  process.exit(1);
}
setTimeout(() => fail('not done within 60 s'), 60000).unref();

const record = (i) => ({ key: `key-${i}`, value: JSON.stringify({ n: i, pad: 'x'.repeat(i % 50) }) });

async function send(producer, from, to, compression) {
  const messages = [];
  for (let i = from; i < to; i++) messages.push(record(i));
  const result = await producer.send({ topic, acks: -1, compression, messages });
  for (const r of result) if (r.errorCode !== 0) fail(`produce error ${r.errorCode} on partition ${r.partition}`);
}

// Consumes with a new member of the group until `count` records arrived; checks order per partition.
async function consume(count) {
  const consumer = kafka.consumer({ groupId, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  const last = new Map();
  await new Promise((resolve) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        const n = JSON.parse(message.value.toString()).n;
        if (message.key.toString() !== `key-${n}`) fail(`key ${message.key} holds record ${n}`);
        if (last.has(partition) && last.get(partition) >= n) fail(`partition ${partition}: ${n} after ${last.get(partition)}`);
        last.set(partition, n);
        got.push(n);
        if (got.length === count) resolve();
      },
    }).catch((e) => fail(`consumer.run: ${e}`));
  });
  await consumer.disconnect();  // commits what eachMessage resolved
  return got.sort((a, b) => a - b);
}

const range = (from, to) => Array.from({ length: to - from }, (_, k) => from + k);
const same = (a, b) => a.length === b.length && a.every((x, k) => x === b[k]);

(async () => {
  const admin = kafka.admin();
  await admin.connect();
  if (!(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }))) {
    fail('createTopics returned false');
  }
  if (!(await admin.listTopics()).includes(topic)) fail('listTopics does not show the new topic');
  await admin.disconnect();

  const producer = kafka.producer();
  await producer.connect();
  await send(producer, 0, 100, CompressionTypes.None);
  await send(producer, 100, 150, CompressionTypes.GZIP);

  const first = await consume(150);
  if (!same(first, range(0, 150))) fail(`the group read ${first.length} records, not 0..149 once each`);

  await send(producer, 150, 170, CompressionTypes.None);
  await producer.disconnect();
  const second = await consume(20);
  if (!same(second, range(150, 170))) fail(`the resumed group read [${second}], expected 150..169`);
  console.log('kafkajs_test: admin, producer (none, gzip), consumer group round-trip and resume: OK');
  process.exit(0);
})().catch((e) => fail(e.stack || String(e)));
