// The client-matrix scenario with KafkaJS 2.2 (its own JavaScript codec).
// Usage: node kafkajs_scenario.js BOOTSTRAP TOPIC (with NODE_PATH at tests/js/node_modules);
// prints one JSON line per step. Keep the constants identical to
// tests/clients/python/scenario.py.
//
// KafkaJS quirks the scenario works around: it compresses only with gzip unless codec
// packages are registered (the snappy, lz4 and zstd batches go uncompressed and the
// produce step reports the codecs it really used); it has no manual partition
// assignment (the plain read uses a throwaway group); and it alters configs with the
// whole-set AlterConfigs.

'use strict';

const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes } = require('kafkajs');

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const USED = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP };
const PER_CODEC = 5;
const TOTAL = CODECS.length * PER_CODEC;
const PARTITIONS = 3;
const MORE_PARTITIONS = 5;
const CREATE_CONFIGS = { 'retention.ms': '86400000', 'cleanup.policy': 'delete' };
const ALTERED_RETENTION = '7200000';
const DELETE_BEFORE = 10;
const FIND_INDEX = 15;
const STEP_TIMEOUT_MS = 30000;

const [bootstrap, topic] = process.argv.slice(2);
const base = (Math.floor(Date.now() / 1000) - 600) * 1000;
const kafka = new Kafka({ clientId: 'floe-matrix', brokers: [bootstrap], logLevel: logLevel.NOTHING });
const admin = kafka.admin();

const codecOf = (i) => CODECS[Math.floor(i / PER_CODEC)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function partitionCount() {
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return md.topics[0].partitions.length;
  } catch (e) {
    return 0;
  }
}

// Retries fn while it fails with a retriable error: KafkaJS's metadata lags behind
// partitions just added, and it lists offsets of every partition at once.
function retrying(what, fn) {
  return waitFor(what, async () => {
    try {
      return { value: await fn() };
    } catch (e) {
      if (e.retriable) return null;
      throw e;
    }
  }).then((r) => r.value);
}

function check(got) {
  if (got.length !== TOTAL) return `read ${got.length} records, want ${TOTAL}`;
  for (let i = 0; i < TOTAL; i++) {
    const r = got[i];
    const want = {
      partition: 0, offset: i, key: `key-${i}`, value: `value-${codecOf(i)}-${i}`,
      headers: [['codec', codecOf(i)], ['index', String(i)]], timestamp: base + i * 1000,
    };
    if (JSON.stringify(r) !== JSON.stringify(want)) {
      return `record ${i}: got ${JSON.stringify(r)}, want ${JSON.stringify(want)}`;
    }
  }
  return null;
}

// Reads every record of the topic in a consumer group; returns them in offset order.
async function readAll(groupId, commit) {
  const consumer = kafka.consumer({ groupId, retry: { retries: 2 } });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const got = [];
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        got.push({
          partition,
          offset: Number(message.offset),
          key: message.key.toString(),
          value: message.value.toString(),
          headers: Object.entries(message.headers).map(([k, v]) => [k, v.toString()]),
          timestamp: Number(message.timestamp),
        });
      },
    });
    await waitFor(`${TOTAL} records`, () => got.length >= TOTAL);
    if (commit) await consumer.commitOffsets([{ topic, partition: 0, offset: String(TOTAL) }]);
    got.sort((a, b) => a.offset - b.offset);
    return got;
  } finally {
    await consumer.disconnect();
  }
}

async function topicConfigs() {
  const res = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    includeSynonyms: false,
  });
  const out = {};
  for (const e of res.resources[0].configEntries) out[e.configName] = e.configValue;
  return out;
}

const steps = [
  ['create_topic', async () => {
    await admin.createTopics({
      topics: [{
        topic, numPartitions: PARTITIONS, replicationFactor: 1,
        configEntries: Object.entries(CREATE_CONFIGS).map(([name, value]) => ({ name, value })),
      }],
    });
    return { partitions: await waitFor('the topic', partitionCount) };
  }],
  ['produce', async () => {
    const offsets = [];
    const used = [];
    for (let c = 0; c < CODECS.length; c++) {
      const codec = CODECS[c] in USED ? CODECS[c] : 'none';
      used.push(codec);
      const producer = kafka.producer();
      await producer.connect();
      const messages = [];
      for (let i = c * PER_CODEC; i < (c + 1) * PER_CODEC; i++) {
        messages.push({
          partition: 0, key: `key-${i}`, value: `value-${codecOf(i)}-${i}`,
          headers: { codec: codecOf(i), index: String(i) }, timestamp: String(base + i * 1000),
        });
      }
      const [meta] = await producer.send({ topic, acks: -1, compression: USED[codec], messages });
      await producer.disconnect();
      for (let k = 0; k < messages.length; k++) offsets.push(Number(meta.baseOffset) + k);
    }
    offsets.forEach((o, i) => {
      if (o !== i) throw new Error(`delivered at offsets ${offsets}`);
    });
    return { records: offsets.length, codecs: used };
  }],
  ['consume', async () => {
    const got = await readAll(`${topic}-read`, false);
    const diff = check(got);
    if (diff) throw new Error(diff);
    return { records: got.length };
  }],
  ['group_consume', async () => {
    const groupId = `${topic}-group`;
    const got = await readAll(groupId, true);
    const diff = check(got);
    if (diff) throw new Error(diff);
    const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const p0 = fetched.partitions.find((p) => p.partition === 0);
    return { records: got.length, committed: Number(p0.offset) };
  }],
  ['describe_configs', async () => {
    const configs = await topicConfigs();
    return { 'cleanup.policy': configs['cleanup.policy'], 'retention.ms': configs['retention.ms'] };
  }],
  ['alter_configs', async () => {
    const configs = { ...CREATE_CONFIGS, 'retention.ms': ALTERED_RETENTION };
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{
        type: ConfigResourceTypes.TOPIC, name: topic,
        configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
      }],
    });
    return { 'retention.ms': (await topicConfigs())['retention.ms'] };
  }],
  ['create_partitions', async () => {
    await admin.createPartitions({ topicPartitions: [{ topic, count: MORE_PARTITIONS }] });
    return { partitions: await waitFor('the new partitions', async () => (await partitionCount()) === MORE_PARTITIONS && MORE_PARTITIONS) };
  }],
  ['delete_records', async () => {
    // deleteTopicRecords lists the offsets of every partition first, so it retries too.
    await retrying('the deletion', () =>
      admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(DELETE_BEFORE) }] }));
    const offsets = await retrying('the offsets', () => admin.fetchTopicOffsets(topic));
    return { low_watermark: Number(offsets.find((p) => p.partition === 0).low) };
  }],
  ['list_offsets_by_time', async () => {
    const found = await retrying('the offsets', () => admin.fetchTopicOffsetsByTimestamp(topic, base + FIND_INDEX * 1000));
    return { offset: Number(found.find((p) => p.partition === 0).offset) };
  }],
  ['delete_topic', async () => {
    await admin.deleteTopics({ topics: [topic] });
    await waitFor('the topic to go', async () => !(await admin.listTopics()).includes(topic));
    return { deleted: true };
  }],
];

(async () => {
  await admin.connect();
  for (const [step, run] of steps) {
    try {
      console.log(JSON.stringify({ step, ok: true, detail: await run() }));
    } catch (e) {
      console.log(JSON.stringify({ step, ok: false, detail: `${e.name}: ${e.message}` }));
      console.error(e);
    }
  }
  await admin.disconnect();
})();
