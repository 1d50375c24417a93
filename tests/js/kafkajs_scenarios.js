// KafkaJS against Floe: KafkaJS speaks the protocol with its own JavaScript
// codec (no librdkafka), so it checks Floe's answers from another side.
//
// usage: node kafkajs_scenarios.js BOOTSTRAP TOPIC
//
// Asserts what it sees and exits non-zero with a message at the first
// difference: admin create, produce (keys, headers, gzip and none), a
// consumer group reading everything exactly once in order, committed
// offsets, topic offsets, group state, a second member resuming from the
// commits, and delete.

'use strict';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const assert = require('node:assert/strict');
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

const [bootstrap, topic] = process.argv.slice(2);
if (!bootstrap || !topic) {
  console.error('usage: node kafkajs_scenarios.js BOOTSTRAP TOPIC');
  process.exit(2);
}
const PARTITIONS = 3;
const SENDS = 10;
const PER_SEND = 30;
const kafka = new Kafka({ clientId: 'floe-kafkajs', brokers: [bootstrap], logLevel: logLevel.WARN });
const groupId = `${topic}-group`;

/// Sends `count` messages per send, `sends` times, alternating gzip and no
/// compression; returns every message sent as "value" -> {key, header}.
async function produce(producer, sends, tag) {
  const sent = new Map();
  for (let i = 0; i < sends; i++) {
    const messages = Array.from({ length: PER_SEND }, (_, j) => {
      const value = `${tag}-${i}-${j}`;
      const message = { key: `k${j % 7}`, value, headers: { h: `x${j}` } };
      sent.set(value, message);
      return message;
    });
    const compression = i % 2 ? CompressionTypes.GZIP : CompressionTypes.None;
    const results = await producer.send({ topic, compression, messages });
    for (const r of results) {
      assert.equal(r.errorCode, 0, `send ${i}: ${JSON.stringify(r)}`);
    }
  }
  return sent;
}

/// Reads with a fresh member of the group until `expected` messages came,
/// checking each against `sent`; returns them by partition, in order.
async function consume(expected, sent) {
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const byPartition = new Map();
  let count = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${count} of ${expected} messages in 90 s`)), 90_000);
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          const value = message.value.toString();
          const original = sent.get(value);
          if (!original) return reject(new Error(`unexpected message ${value}`));
          try {
            assert.equal(message.key.toString(), original.key, `key of ${value}`);
            assert.equal(message.headers.h.toString(), original.headers.h, `header of ${value}`);
          } catch (e) {
            return reject(e);
          }
          if (!byPartition.has(partition)) byPartition.set(partition, []);
          byPartition.get(partition).push({ offset: Number(message.offset), value });
          count++;
          if (count === expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  // Disconnecting commits what was consumed.
  await consumer.disconnect();
  assert.equal(count, expected, 'messages consumed');
  return byPartition;
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true }), true);
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  assert.equal(metadata.topics[0].partitions.length, PARTITIONS, 'partitions in metadata');

  const producer = kafka.producer();
  await producer.connect();
  const first = await produce(producer, SENDS, 'a');

  const read = await consume(first.size, first);
  const values = new Set();
  const highs = {};
  for (const [partition, messages] of read) {
    messages.forEach((m, i) => assert.equal(m.offset, i, `partition ${partition}: offsets contiguous from 0`));
    messages.forEach((m) => values.add(m.value));
    highs[partition] = messages.length;
  }
  assert.equal(values.size, first.size, 'every message read exactly once');

  const topicOffsets = await admin.fetchTopicOffsets(topic);
  for (const p of topicOffsets) {
    assert.equal(Number(p.low), 0, `low of ${p.partition}`);
    assert.equal(Number(p.high), highs[p.partition] ?? 0, `high of ${p.partition}`);
  }
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  for (const p of committed.partitions) {
    assert.equal(Number(p.offset), highs[p.partition] ?? 0, `committed offset of ${p.partition}`);
  }
  const { groups } = await admin.describeGroups([groupId]);
  assert.equal(groups[0].state, 'Empty', 'group state after the member left');

  // A new member resumes from the commits: only the new messages.
  const second = await produce(producer, 1, 'b');
  await producer.disconnect();
  const resumed = await consume(second.size, second);
  for (const [partition, messages] of resumed) {
    assert.equal(messages[0].offset, highs[partition] ?? 0, `partition ${partition} resumes at its commit`);
  }

  await admin.deleteTopics({ topics: [topic] });
  assert.ok(!(await admin.listTopics()).includes(topic), 'topic deleted');
  await admin.disconnect();
  console.log(`kafkajs: ${first.size + second.size} messages produced and consumed, offsets and group checked`);
}

main().catch((e) => {
  console.error('FAILED:', e);
  process.exit(1);
});
