import java.time.Duration;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams word count of tests/tests/streams_eos.rs, run with
 * processing.guarantee=exactly_once_v2: lines of INPUT split into words, grouped by
 * word (through a repartition topic), counted in an in-memory state store (backed by a
 * compacted changelog topic), every new count written to OUTPUT (String key, Long
 * value).
 *
 * <p>Usage: {@code java WordCount BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR
 * [GUARANTEE]}; GUARANTEE (default exactly_once_v2) is for trying the rest of Streams'
 * needs by hand, e.g. at_least_once on a broker without transactions.
 * Prints {@code STATE <state>} on every state change (the test waits for
 * {@code STATE RUNNING}); on SIGTERM closes cleanly and exits 0; exits 1 if the
 * application fails. The test SIGKILLs it mid-run to prove that a killed instance
 * neither loses nor double-counts a word.
 */
public final class WordCount {
    private WordCount() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 5 && args.length != 6) {
            System.err.println(
                    "usage: WordCount BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR [GUARANTEE]");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(
                StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
                args.length == 6 ? args[5] : StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        // No record cache: every count update reaches the changelog and the output.
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // A killed instance's tasks move within seconds, not the default 45 s.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
        // The killed instance's open transaction holds read_committed readers of the
        // repartition and changelog topics until the coordinator aborts it.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 5000);
        // Records go to the broker as they are made rather than at the commit, so a
        // kill leaves an open transaction with data in the repartition, changelog and
        // output topics that the broker must abort and read_committed readers skip.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0);

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(args[2], Consumed.with(Serdes.String(), Serdes.String()))
                .flatMapValues(line -> Arrays.asList(line.split(" ")))
                .filter((key, word) -> !word.isEmpty())
                .groupBy((key, word) -> word, Grouped.with("words", Serdes.String(), Serdes.String()))
                .count(Materialized.<String, Long>as(Stores.inMemoryKeyValueStore("counts"))
                        .withKeySerde(Serdes.String())
                        .withValueSerde(Serdes.Long()))
                .toStream()
                .to(args[3], Produced.with(Serdes.String(), Serdes.Long()));

        KafkaStreams streams = new KafkaStreams(builder.build(), props);
        CountDownLatch done = new CountDownLatch(1);
        int[] exitCode = {0};
        streams.setStateListener((now, before) -> {
            System.out.println("STATE " + now);
            if (now == KafkaStreams.State.RUNNING) {
                // The active tasks of this instance, so the test knows the one it
                // kills was working.
                StringBuilder tasks = new StringBuilder("TASKS");
                streams.metadataForLocalThreads().forEach(thread -> thread.activeTasks()
                        .forEach(task -> tasks.append(' ').append(task.taskId())));
                System.out.println(tasks);
            }
            System.out.flush();
            if (now == KafkaStreams.State.ERROR) {
                exitCode[0] = 1;
            }
            if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
                done.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(error -> {
            error.printStackTrace();
            exitCode[0] = 1;
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        // SIGTERM: a clean close, then the exit status of this program rather than
        // the JVM's 143 for a signal.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close(Duration.ofSeconds(20));
            System.out.println("EXIT " + exitCode[0]);
            System.out.flush();
            Runtime.getRuntime().halt(exitCode[0]);
        }));
        streams.start();
        done.await();
        streams.close(Duration.ofSeconds(20));
        System.out.println("EXIT " + exitCode[0]);
        System.out.flush();
        Runtime.getRuntime().halt(exitCode[0]);
    }
}
