//! The Java client (Apache Kafka 4.x's own tools) over SASL_SSL with
//! SCRAM-SHA-512: `kafka-configs.sh` manages SCRAM users on Floe (KIP-554),
//! and the console producer and consumer authenticate as the user it made.
//! Over SSL and over SASL_PLAINTEXT with PLAIN, the Java admin, producer and
//! a consumer in a group do their work.
//!
//! Without `FLOE_KAFKA_CLASSPATH` (set by `scripts/test.sh`) the test prints
//! why and returns.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use floe_tests::certs::TestCa;
use floe_tests::kafka_cli::tools;
use floe_tests::{Agent, KafkaTools, RawClient, binary, process, unique_topic};
use kafka_protocol::messages::DescribeUserScramCredentialsRequest;

/// A client.properties for SASL_SSL with SCRAM-SHA-512 as `user`.
fn client_properties(dir: &Path, ca: &TestCa, user: &str, password: &str) -> String {
    let path = dir.join(format!("{user}.properties"));
    let text = format!(
        "security.protocol=SASL_SSL\n\
         sasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
         username=\"{user}\" password=\"{password}\";\n\
         ssl.truststore.type=PEM\n\
         ssl.truststore.location={}\n",
        ca.ca_pem().display()
    );
    std::fs::write(&path, text).expect("write client properties");
    path.display().to_string()
}

/// Every user's (mechanism, iterations), by DescribeUserScramCredentials
/// over the PLAINTEXT listener.
fn described(agent: &Agent) -> Vec<(String, Vec<(i8, i32)>)> {
    let mut raw = RawClient::connect(agent.kafka_addr()).expect("connect");
    let resp = raw
        .request(
            0,
            &DescribeUserScramCredentialsRequest::default().with_users(None),
        )
        .expect("DescribeUserScramCredentials");
    assert_eq!(resp.error_code, 0);
    resp.results
        .iter()
        .map(|r| {
            let infos = r
                .credential_infos
                .iter()
                .map(|c| (c.mechanism, c.iterations))
                .collect();
            (r.user.to_string(), infos)
        })
        .collect()
}

/// An agent with `listeners` (TLS ones with a certificate of a new CA) and
/// one SCRAM user made with `floe users set`, as an operator makes the first.
fn agent_with_user(listeners: &[&str], user: &str, password: &str) -> (TestCa, Agent) {
    let mut ca = TestCa::new().expect("ca");
    let server = ca.issue("server", "/CN=floe-agent").expect("server cert");
    let mut builder = Agent::builder();
    for listener in listeners {
        builder = builder.listener(*listener);
    }
    let agent = builder
        .arg("--tls-cert")
        .arg(server.cert.display().to_string())
        .arg("--tls-key")
        .arg(server.key.display().to_string())
        .start()
        .expect("start agent");
    let mut cmd = Command::new(binary::floe_bin().expect("floe binary"));
    cmd.args(["users", "set", user, "--password-stdin", "--data-dir"])
        .arg(agent.data_dir());
    process::run(
        cmd,
        format!("{password}\n").as_bytes(),
        Duration::from_secs(60),
    )
    .expect("floe users set")
    .ensure_success()
    .expect("floe users set succeeds");
    (ca, agent)
}

fn run(kafka: &KafkaTools, class: &str, args: &[&str], stdin: &[u8]) -> String {
    match kafka.run_ok(class, args, stdin) {
        Ok(output) => output.stdout,
        Err(error) => panic!("{error:#}"),
    }
}

#[test]
fn kafka_configs_manages_scram_users_and_the_console_clients_use_them() {
    let Some(kafka) = KafkaTools::from_env_or_skip("java scram") else {
        return;
    };
    // The first user comes from the CLI, before any client can connect.
    let (ca, agent) = agent_with_user(&["SASL_SSL"], "admin", "admin-secret");
    let bootstrap = agent.listener_addr("SASL_SSL").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = client_properties(dir.path(), &ca, "admin", "admin-secret");

    // kafka-configs.sh --alter --add-config 'SCRAM-SHA-512=[…]' --entity-type users
    let configs = |args: &[&str]| {
        let mut all = vec!["--bootstrap-server", &bootstrap, "--command-config", &admin];
        all.extend_from_slice(args);
        run(&kafka, tools::CONFIGS, &all, b"")
    };
    let out = configs(&[
        "--alter",
        "--add-config",
        "SCRAM-SHA-512=[iterations=8192,password=alice-secret]",
        "--entity-type",
        "users",
        "--entity-name",
        "alice",
    ]);
    assert!(
        out.contains("Completed updating config for user alice"),
        "{out}"
    );
    // `kafka-configs.sh --describe --entity-type users` also asks for client
    // quotas (DescribeClientQuotas, not served yet): ask with the raw API.
    assert_eq!(
        described(&agent),
        vec![
            ("admin".to_string(), vec![(2, 4096)]),
            ("alice".to_string(), vec![(2, 8192)]),
        ]
    );

    // alice produces and consumes with the credential Kafka's tool made.
    let alice = client_properties(dir.path(), &ca, "alice", "alice-secret");
    let topic = unique_topic("java-scram");
    let lines: String = (0..20).map(|i| format!("record-{i}\n")).collect();
    run(
        &kafka,
        tools::CONSOLE_PRODUCER,
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            &topic,
            "--producer.config",
            &alice,
        ],
        lines.as_bytes(),
    );
    let out = run(
        &kafka,
        tools::CONSOLE_CONSUMER,
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            &topic,
            "--from-beginning",
            "--max-messages",
            "20",
            "--group",
            &unique_topic("java-scram-group"),
            "--consumer.config",
            &alice,
            "--timeout-ms",
            "60000",
        ],
        b"",
    );
    let got: Vec<&str> = out.lines().filter(|l| l.starts_with("record-")).collect();
    let want: Vec<String> = (0..20).map(|i| format!("record-{i}")).collect();
    assert_eq!(got, want, "consumed:\n{out}");

    // Deleting the credential locks alice out.
    configs(&[
        "--alter",
        "--delete-config",
        "SCRAM-SHA-512",
        "--entity-type",
        "users",
        "--entity-name",
        "alice",
    ]);
    assert_eq!(
        described(&agent),
        vec![("admin".to_string(), vec![(2, 4096)])]
    );
    let refused = kafka
        .run(
            tools::TOPICS,
            &[
                "--bootstrap-server",
                &bootstrap,
                "--list",
                "--command-config",
                &alice,
            ],
            b"",
        )
        .expect("run kafka-topics");
    assert!(
        !refused.status.success(),
        "alice still served:\n{}",
        refused.describe()
    );
    assert!(
        refused.describe().contains("Authentication failed"),
        "{}",
        refused.describe()
    );
}

/// Creates a topic, produces 20 records and consumes them in a group with
/// Kafka's own tools, all with the client settings in `properties`.
fn admin_produce_consume(kafka: &KafkaTools, bootstrap: &str, properties: &str, label: &str) {
    let topic = unique_topic(label);
    let group = unique_topic(&format!("{label}-group"));
    run(
        kafka,
        tools::TOPICS,
        &[
            "--bootstrap-server",
            bootstrap,
            "--command-config",
            properties,
            "--create",
            "--topic",
            &topic,
            "--partitions",
            "3",
        ],
        b"",
    );
    let described = run(
        kafka,
        tools::TOPICS,
        &[
            "--bootstrap-server",
            bootstrap,
            "--command-config",
            properties,
            "--describe",
            "--topic",
            &topic,
        ],
        b"",
    );
    assert!(described.contains("PartitionCount: 3"), "{described}");
    let lines: String = (0..20).map(|i| format!("{label}-{i}\n")).collect();
    run(
        kafka,
        tools::CONSOLE_PRODUCER,
        &[
            "--bootstrap-server",
            bootstrap,
            "--topic",
            &topic,
            "--producer.config",
            properties,
        ],
        lines.as_bytes(),
    );
    let out = run(
        kafka,
        tools::CONSOLE_CONSUMER,
        &[
            "--bootstrap-server",
            bootstrap,
            "--topic",
            &topic,
            "--from-beginning",
            "--max-messages",
            "20",
            "--group",
            &group,
            "--consumer.config",
            properties,
            "--timeout-ms",
            "60000",
        ],
        b"",
    );
    let prefix = format!("{label}-");
    let mut got: Vec<&str> = out.lines().filter(|l| l.starts_with(&prefix)).collect();
    got.sort_unstable();
    let mut want: Vec<String> = (0..20).map(|i| format!("{label}-{i}")).collect();
    want.sort_unstable();
    assert_eq!(got, want, "consumed:\n{out}");
    let groups = run(
        kafka,
        tools::CONSUMER_GROUPS,
        &[
            "--bootstrap-server",
            bootstrap,
            "--command-config",
            properties,
            "--describe",
            "--group",
            &group,
        ],
        b"",
    );
    // The group committed the end of every partition: 20 records in all.
    let committed: i64 = groups
        .lines()
        .filter(|l| l.contains(&topic))
        .filter_map(|l| l.split_whitespace().nth(3)?.parse::<i64>().ok())
        .sum();
    assert_eq!(committed, 20, "{groups}");
}

#[test]
fn the_java_clients_work_over_ssl_and_over_sasl_plaintext_with_plain() {
    let Some(kafka) = KafkaTools::from_env_or_skip("java ssl and plain") else {
        return;
    };
    let (ca, agent) = agent_with_user(&["SSL", "SASL_PLAINTEXT"], "bob", "bob-secret");
    let dir = tempfile::tempdir().expect("tempdir");

    let ssl = dir.path().join("ssl.properties");
    std::fs::write(
        &ssl,
        format!(
            "security.protocol=SSL\n\
             ssl.truststore.type=PEM\n\
             ssl.truststore.location={}\n",
            ca.ca_pem().display()
        ),
    )
    .expect("write ssl properties");
    admin_produce_consume(
        &kafka,
        &agent.listener_addr("SSL").to_string(),
        &ssl.display().to_string(),
        "java-ssl",
    );

    let plain = dir.path().join("plain.properties");
    std::fs::write(
        &plain,
        "security.protocol=SASL_PLAINTEXT\n\
         sasl.mechanism=PLAIN\n\
         sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
         username=\"bob\" password=\"bob-secret\";\n",
    )
    .expect("write plain properties");
    let plain_bootstrap = agent.listener_addr("SASL_PLAINTEXT").to_string();
    admin_produce_consume(
        &kafka,
        &plain_bootstrap,
        &plain.display().to_string(),
        "java-plain",
    );

    // A wrong PLAIN password is refused by the admin client.
    let wrong = dir.path().join("wrong.properties");
    std::fs::write(
        &wrong,
        "security.protocol=SASL_PLAINTEXT\n\
         sasl.mechanism=PLAIN\n\
         sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
         username=\"bob\" password=\"not-bob\";\n",
    )
    .expect("write wrong properties");
    let refused = kafka
        .run(
            tools::TOPICS,
            &[
                "--bootstrap-server",
                &plain_bootstrap,
                "--list",
                "--command-config",
                &wrong.display().to_string(),
            ],
            b"",
        )
        .expect("run kafka-topics");
    assert!(!refused.status.success(), "{}", refused.describe());
    assert!(
        refused.describe().contains("Authentication failed"),
        "{}",
        refused.describe()
    );
}
