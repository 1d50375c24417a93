// The Java admin client (kafka-clients 4.4) creating topics under a
// controller_mutation_rate quota (KIP-599). Usage:
//   java -cp KAFKA_CLASSPATH MutationQuota.java BOOTSTRAP CLIENT_ID RETRY TOPIC:PARTITIONS...
// RETRY is the admin's retryOnQuotaViolation (true by default in Kafka). Prints one
// line per topic, in the order given: "created" or the simple name of the exception
// the topic's future failed with.

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;

public final class MutationQuota {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, args[1]);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        boolean retry = Boolean.parseBoolean(args[2]);
        List<NewTopic> topics = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            String[] spec = args[i].split(":");
            topics.add(new NewTopic(spec[0], Integer.parseInt(spec[1]), (short) 1));
        }
        try (Admin admin = Admin.create(props)) {
            CreateTopicsResult result = admin.createTopics(
                topics, new CreateTopicsOptions().retryOnQuotaViolation(retry));
            for (NewTopic topic : topics) {
                try {
                    result.values().get(topic.name()).get();
                    System.out.println("created");
                } catch (ExecutionException e) {
                    System.out.println(e.getCause().getClass().getSimpleName());
                }
            }
        }
    }
}
