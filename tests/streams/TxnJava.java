import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java client's transactions (tests/tests/transactions_clients.rs): a
 * transactional producer commits, aborts and commits again, then is fenced by a newer
 * instance with the same transactional id; read_committed consumers see exactly the
 * committed records and read_uncommitted consumers see every record.
 *
 * <p>Usage: {@code java TxnJava BOOTSTRAP}. Prints {@code OK ...} lines; on the first
 * difference prints {@code FAIL: ...} and exits 1.
 */
public final class TxnJava {
    private static final int PARTITIONS = 2;

    private TxnJava() {}

    private static void fail(String message) {
        System.err.println("FAIL: " + message);
        System.err.flush();
        Runtime.getRuntime().halt(1);
    }

    private static KafkaProducer<String, String> producer(String bootstrap, String txnId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /** Every value of the topic, per partition, read from the beginning to the end. */
    private static List<List<String>> read(String bootstrap, String topic, String isolation) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<List<String>> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                parts.add(new TopicPartition(topic, p));
                values.add(new ArrayList<>());
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            // At read_committed the end is the last stable offset.
            Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
            while (true) {
                boolean done = true;
                for (TopicPartition tp : parts) {
                    done &= consumer.position(tp) >= ends.get(tp);
                }
                if (done) {
                    return values;
                }
                if (System.nanoTime() > deadline) {
                    fail(isolation + " read of " + topic + " did not reach " + ends + ": " + values);
                }
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.get(record.partition()).add(record.value());
                }
            }
        }
    }

    private static void checkEquals(Object actual, Object expected, String what) {
        if (!actual.equals(expected)) {
            fail(what + ": expected " + expected + ", got " + actual);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            fail("usage: TxnJava BOOTSTRAP");
        }
        String bootstrap = args[0];
        String topic = "txn-java-" + UUID.randomUUID();
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(adminProps)) {
            admin.createTopics(Collections.singletonList(new NewTopic(topic, PARTITIONS, (short) 1)))
                    .all()
                    .get();
        }

        String txnId = "txn-java-" + UUID.randomUUID();
        List<List<String>> committed = new ArrayList<>();
        List<List<String>> written = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            committed.add(new ArrayList<>());
            written.add(new ArrayList<>());
        }
        KafkaProducer<String, String> zombie = producer(bootstrap, txnId);
        zombie.initTransactions();
        String[] outcomes = {"commit", "abort", "commit"};
        for (int txn = 0; txn < outcomes.length; txn++) {
            zombie.beginTransaction();
            for (int i = 0; i < 10; i++) {
                int partition = i % PARTITIONS;
                String value = "java-" + outcomes[txn] + "-" + txn + "-" + i;
                zombie.send(new ProducerRecord<>(topic, partition, null, value)).get();
                written.get(partition).add(value);
                if (outcomes[txn].equals("commit")) {
                    committed.get(partition).add(value);
                }
            }
            if (outcomes[txn].equals("commit")) {
                zombie.commitTransaction();
            } else {
                zombie.abortTransaction();
            }
        }
        checkEquals(read(bootstrap, topic, "read_committed"), committed, "read_committed");
        checkEquals(read(bootstrap, topic, "read_uncommitted"), written, "read_uncommitted");
        System.out.println("OK commit_abort");

        // A zombie with an open transaction, fenced by a newer instance.
        zombie.beginTransaction();
        for (int i = 0; i < 4; i++) {
            String value = "zombie-" + i;
            zombie.send(new ProducerRecord<>(topic, i % PARTITIONS, null, value)).get();
            written.get(i % PARTITIONS).add(value);
        }
        try (KafkaProducer<String, String> newer = producer(bootstrap, txnId)) {
            newer.initTransactions();
            newer.beginTransaction();
            for (int i = 0; i < 4; i++) {
                String value = "newer-" + i;
                newer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, value)).get();
                written.get(i % PARTITIONS).add(value);
                committed.get(i % PARTITIONS).add(value);
            }
            newer.commitTransaction();
        }
        try {
            zombie.commitTransaction();
            fail("the fenced zombie's commitTransaction succeeded");
        } catch (ProducerFencedException expected) {
            System.out.println("OK fenced: " + expected);
        }
        zombie.close(Duration.ZERO);
        checkEquals(read(bootstrap, topic, "read_committed"), committed, "read_committed after fencing");
        checkEquals(read(bootstrap, topic, "read_uncommitted"), written, "read_uncommitted after fencing");
        System.out.println("OK fencing");
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }
}
