// The client-matrix scenario with the Java client (kafka-clients 4.4, the reference
// client). Usage: java -cp KAFKA_CLASSPATH:CLASSES Scenario BOOTSTRAP TOPIC; prints one
// JSON line per step. Keep the constants identical to tests/clients/python/scenario.py.

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class Scenario {
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};
    static final int PER_CODEC = 5;
    static final int TOTAL = CODECS.length * PER_CODEC;
    static final int PARTITIONS = 3;
    static final int MORE_PARTITIONS = 5;
    static final String RETENTION = "86400000";
    static final String ALTERED_RETENTION = "7200000";
    static final long DELETE_BEFORE = 10;
    static final int FIND_INDEX = 15;
    static final long TIMEOUT_MS = 30_000;

    interface StepBody {
        String run() throws Exception;
    }

    static String bootstrap;
    static String topic;
    static long base;
    static Admin admin;
    static TopicPartition tp0;

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        topic = args[1];
        base = (System.currentTimeMillis() / 1000 - 600) * 1000;
        tp0 = new TopicPartition(topic, 0);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        admin = Admin.create(props);
        step("create_topic", Scenario::createTopic);
        step("produce", Scenario::produce);
        step("consume", Scenario::consume);
        step("group_consume", Scenario::groupConsume);
        step("describe_configs", Scenario::describeConfigs);
        step("alter_configs", Scenario::alterConfigs);
        step("create_partitions", Scenario::createPartitions);
        step("delete_records", Scenario::deleteRecords);
        step("list_offsets_by_time", Scenario::listOffsetsByTime);
        step("delete_topic", Scenario::deleteTopic);
        admin.close(Duration.ofSeconds(5));
    }

    static void step(String name, StepBody body) {
        String line;
        try {
            line = "{\"step\":\"" + name + "\",\"ok\":true,\"detail\":" + body.run() + "}";
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            line = "{\"step\":\"" + name + "\",\"ok\":false,\"detail\":" + quote(cause.toString()) + "}";
            e.printStackTrace();
        }
        System.out.println(line);
        System.out.flush();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static void waitFor(String what, BooleanSupplier done) throws Exception {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new Exception("timed out waiting for " + what);
            }
            Thread.sleep(200);
        }
    }

    static String codec(int i) {
        return CODECS[i / PER_CODEC];
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static int partitionCount() {
        try {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .get(topic).partitions().size();
        } catch (Exception e) {
            return 0;
        }
    }

    static String createTopic() throws Exception {
        NewTopic nt = new NewTopic(topic, PARTITIONS, (short) 1)
                .configs(Map.of("retention.ms", RETENTION, "cleanup.policy", "delete"));
        admin.createTopics(List.of(nt)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        waitFor("the topic", () -> partitionCount() == PARTITIONS);
        return "{\"partitions\":" + partitionCount() + "}";
    }

    static String produce() throws Exception {
        List<Long> offsets = new ArrayList<>();
        for (int c = 0; c < CODECS.length; c++) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, CODECS[c]);
            p.put(ProducerConfig.LINGER_MS_CONFIG, "50");
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                List<Future<RecordMetadata>> futures = new ArrayList<>();
                for (int i = c * PER_CODEC; i < (c + 1) * PER_CODEC; i++) {
                    List<Header> headers = List.of(
                            new RecordHeader("codec", bytes(codec(i))),
                            new RecordHeader("index", bytes(Integer.toString(i))));
                    futures.add(producer.send(new ProducerRecord<>(topic, 0, base + i * 1000L,
                            bytes("key-" + i), bytes("value-" + codec(i) + "-" + i), headers)));
                }
                for (Future<RecordMetadata> f : futures) {
                    offsets.add(f.get(TIMEOUT_MS, TimeUnit.MILLISECONDS).offset());
                }
            }
        }
        for (int i = 0; i < TOTAL; i++) {
            if (offsets.get(i) != i) {
                throw new Exception("delivered at offsets " + offsets);
            }
        }
        return "{\"records\":" + offsets.size()
                + ",\"codecs\":[\"none\",\"gzip\",\"snappy\",\"lz4\",\"zstd\"]}";
    }

    static KafkaConsumer<byte[], byte[]> consumer(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static List<ConsumerRecord<byte[], byte[]>> read(KafkaConsumer<byte[], byte[]> c) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (got.size() < TOTAL) {
            if (System.currentTimeMillis() > deadline) {
                throw new Exception("timed out with " + got.size() + " records read");
            }
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                got.add(r);
            }
        }
        got.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        return got;
    }

    /** The first difference from the expected records, or null. */
    static String check(List<ConsumerRecord<byte[], byte[]>> got) {
        if (got.size() != TOTAL) {
            return "read " + got.size() + " records, want " + TOTAL;
        }
        for (int i = 0; i < TOTAL; i++) {
            ConsumerRecord<byte[], byte[]> r = got.get(i);
            Header[] h = r.headers().toArray();
            boolean same = r.partition() == 0 && r.offset() == i && r.timestamp() == base + i * 1000L
                    && new String(r.key(), StandardCharsets.UTF_8).equals("key-" + i)
                    && new String(r.value(), StandardCharsets.UTF_8).equals("value-" + codec(i) + "-" + i)
                    && h.length == 2
                    && h[0].key().equals("codec") && new String(h[0].value(), StandardCharsets.UTF_8).equals(codec(i))
                    && h[1].key().equals("index") && new String(h[1].value(), StandardCharsets.UTF_8).equals(Integer.toString(i));
            if (!same) {
                return "record " + i + " differs: " + r;
            }
        }
        return null;
    }

    static String consume() throws Exception {
        try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
            c.assign(List.of(tp0));
            c.seekToBeginning(List.of(tp0));
            String diff = check(read(c));
            if (diff != null) {
                throw new Exception(diff);
            }
        }
        return "{\"records\":" + TOTAL + "}";
    }

    static String groupConsume() throws Exception {
        long committed;
        try (KafkaConsumer<byte[], byte[]> c = consumer(topic + "-group")) {
            c.subscribe(List.of(topic));
            String diff = check(read(c));
            if (diff != null) {
                throw new Exception(diff);
            }
            c.commitSync();
            committed = c.committed(Set.of(tp0)).get(tp0).offset();
        }
        return "{\"records\":" + TOTAL + ",\"committed\":" + committed + "}";
    }

    static Config topicConfig() throws Exception {
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(res)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS).get(res);
    }

    static String describeConfigs() throws Exception {
        Config config = topicConfig();
        return "{\"cleanup.policy\":" + quote(config.get("cleanup.policy").value())
                + ",\"retention.ms\":" + quote(config.get("retention.ms").value()) + "}";
    }

    static String alterConfigs() throws Exception {
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Collection<AlterConfigOp> ops = List.of(new AlterConfigOp(
                new ConfigEntry("retention.ms", ALTERED_RETENTION), AlterConfigOp.OpType.SET));
        admin.incrementalAlterConfigs(Map.of(res, ops)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return "{\"retention.ms\":" + quote(topicConfig().get("retention.ms").value()) + "}";
    }

    static String createPartitions() throws Exception {
        admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(MORE_PARTITIONS)))
                .all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        waitFor("the new partitions", () -> partitionCount() == MORE_PARTITIONS);
        return "{\"partitions\":" + partitionCount() + "}";
    }

    static String deleteRecords() throws Exception {
        admin.deleteRecords(Map.of(tp0, RecordsToDelete.beforeOffset(DELETE_BEFORE)))
                .all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        long low;
        try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
            low = c.beginningOffsets(List.of(tp0)).get(tp0);
        }
        return "{\"low_watermark\":" + low + "}";
    }

    static String listOffsetsByTime() throws Exception {
        try (KafkaConsumer<byte[], byte[]> c = consumer(null)) {
            OffsetAndTimestamp found = c.offsetsForTimes(Map.of(tp0, base + FIND_INDEX * 1000L)).get(tp0);
            if (found == null) {
                throw new Exception("no offset found for the timestamp");
            }
            return "{\"offset\":" + found.offset() + "}";
        }
    }

    static String deleteTopic() throws Exception {
        admin.deleteTopics(List.of(topic)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        waitFor("the topic to go", () -> {
            try {
                return !admin.listTopics().names().get(TIMEOUT_MS, TimeUnit.MILLISECONDS).contains(topic);
            } catch (Exception e) {
                return false;
            }
        });
        return "{\"deleted\":true}";
    }
}
