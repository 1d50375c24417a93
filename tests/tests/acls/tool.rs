//! Kafka's own `kafka-acls` (`org.apache.kafka.tools.AclCommand`) over
//! SASL_PLAINTEXT with SCRAM-SHA-512 against two agents on one Postgres:
//! a super user adds literal, prefixed and deny ACLs through one agent,
//! lists them (by resource, `--resource-pattern-type match` and
//! `prefixed`) and removes one through the other; a user without CLUSTER
//! DESCRIBE is refused until an ACL granting it, made through the first
//! agent, reaches the second.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use floe_tests::cluster::{shared_postgres, start_agent};
use floe_tests::{Agent, KafkaTools, binary, process, unique_topic};

/// `kafka-acls.sh`.
const ACL_COMMAND: &str = "org.apache.kafka.tools.AclCommand";

/// How long an ACL change may take to reach another agent (it polls the
/// store every second) before the test fails.
const PROPAGATION_BOUND: Duration = Duration::from_secs(30);

fn client_properties(dir: &Path, user: &str, password: &str) -> String {
    let path = dir.join(format!("{user}.properties"));
    let text = format!(
        "security.protocol=SASL_PLAINTEXT\n\
         sasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
         username=\"{user}\" password=\"{password}\";\n"
    );
    std::fs::write(&path, text).expect("write client properties");
    path.display().to_string()
}

fn add_user(metadata: &str, user: &str, password: &str) {
    let mut cmd = Command::new(binary::floe_bin().expect("floe binary"));
    cmd.args([
        "users",
        "set",
        user,
        "--password-stdin",
        "--metadata",
        metadata,
    ]);
    process::run(
        cmd,
        format!("{password}\n").as_bytes(),
        Duration::from_secs(60),
    )
    .expect("floe users set")
    .ensure_success()
    .expect("floe users set succeeds");
}

fn agent(metadata: &str, objects: &str) -> Agent {
    start_agent(
        Agent::builder()
            .listener("SASL_PLAINTEXT")
            .arg("--metadata")
            .arg(metadata)
            .arg("--object-store")
            .arg(objects)
            .arg("--authorizer")
            .arg("acl")
            .arg("--super-users")
            .arg("User:admin;User:CN=ops,O=Acme"),
    )
    .expect("start agent")
}

#[test]
fn kafka_acls_manages_acls_across_agents() {
    let Some(kafka) = KafkaTools::from_env_or_skip("kafka_acls_manages_acls_across_agents") else {
        return;
    };
    let metadata = shared_postgres()
        .expect("postgres")
        .create_database("acls_kafka_acls")
        .expect("database");
    let objects_dir = tempfile::tempdir().expect("tempdir");
    let objects = format!("file://{}", objects_dir.path().display());
    add_user(&metadata, "admin", "admin-secret");
    add_user(&metadata, "alice", "alice-secret");
    let first = agent(&metadata, &objects);
    let second = agent(&metadata, &objects);
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = client_properties(dir.path(), "admin", "admin-secret");
    let alice = client_properties(dir.path(), "alice", "alice-secret");
    let on = |agent: &Agent| agent.listener_addr("SASL_PLAINTEXT").to_string();

    let acls = |agent: &Agent, config: &str, args: &[&str]| {
        let bootstrap = on(agent);
        let mut all = vec!["--bootstrap-server", &bootstrap, "--command-config", config];
        all.extend_from_slice(args);
        kafka.run(ACL_COMMAND, &all, b"").expect("run kafka-acls")
    };
    let ok = |agent: &Agent, config: &str, args: &[&str]| {
        let out = acls(agent, config, args);
        assert!(
            out.status.success(),
            "kafka-acls {args:?} failed: {}\n{}",
            out.stdout,
            out.stderr
        );
        out.stdout
    };

    let orders = unique_topic("orders");
    let logs = format!("{}-", unique_topic("logs"));
    ok(
        &first,
        &admin,
        &[
            "--add",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Read",
            "--topic",
            &orders,
        ],
    );
    ok(
        &first,
        &admin,
        &[
            "--add",
            "--allow-principal",
            "User:bob",
            "--operation",
            "Write",
            "--topic",
            &logs,
            "--resource-pattern-type",
            "prefixed",
        ],
    );
    ok(
        &first,
        &admin,
        &[
            "--add",
            "--deny-principal",
            "User:mallory",
            "--operation",
            "All",
            "--topic",
            "*",
        ],
    );

    let block = |kind: &str, name: &str, pattern: &str, entry: &str| {
        format!(
            "Current ACLs for resource `ResourcePattern(resourceType={kind}, name={name}, \
             patternType={pattern})`:\n \t{entry}"
        )
    };
    let alice_reads = block(
        "TOPIC",
        &orders,
        "LITERAL",
        "(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)",
    );
    let bob_writes = block(
        "TOPIC",
        &logs,
        "PREFIXED",
        "(principal=User:bob, host=*, operation=WRITE, permissionType=ALLOW)",
    );
    let mallory_denied = block(
        "TOPIC",
        "*",
        "LITERAL",
        "(principal=User:mallory, host=*, operation=ALL, permissionType=DENY)",
    );
    let squash = |s: &str| s.replace(" \t", "\t");

    // MATCH on a topic under the prefix: the prefix and the wildcard.
    let app = format!("{logs}app");
    let matched = squash(&ok(
        &first,
        &admin,
        &[
            "--list",
            "--topic",
            &app,
            "--resource-pattern-type",
            "match",
        ],
    ));
    assert!(matched.contains(&squash(&bob_writes)), "{matched}");
    assert!(matched.contains(&squash(&mallory_denied)), "{matched}");
    assert!(!matched.contains(&orders), "{matched}");
    // The prefixed ACLs of one name.
    let prefixed = squash(&ok(
        &first,
        &admin,
        &[
            "--list",
            "--topic",
            &logs,
            "--resource-pattern-type",
            "prefixed",
        ],
    ));
    assert!(
        prefixed.contains(&squash(&bob_writes)) && !prefixed.contains(&orders),
        "{prefixed}"
    );

    // alice may not list ACLs: she lacks CLUSTER DESCRIBE.
    let refused = acls(&second, &alice, &["--list"]);
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(said.contains("Cluster authorization failed"), "{said}");

    // Granted through the first agent, it reaches the second.
    ok(
        &first,
        &admin,
        &[
            "--add",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Describe",
            "--cluster",
        ],
    );
    let deadline = Instant::now() + PROPAGATION_BOUND;
    let listed = loop {
        let out = acls(&second, &alice, &["--list"]);
        let text = format!("{}{}", out.stdout, out.stderr);
        if !text.contains("Cluster authorization failed") {
            assert!(out.status.success(), "{text}");
            break squash(&out.stdout);
        }
        assert!(
            Instant::now() < deadline,
            "the grant did not reach the second agent: {text}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    for expected in [&alice_reads, &bob_writes, &mallory_denied] {
        assert!(
            listed.contains(&squash(expected)),
            "{expected} not in {listed}"
        );
    }
    assert!(
        listed.contains("resourceType=CLUSTER, name=kafka-cluster"),
        "{listed}"
    );

    // Removed through the second agent, gone on the first.
    ok(
        &second,
        &admin,
        &[
            "--remove",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Read",
            "--topic",
            &orders,
            "--force",
        ],
    );
    let left = squash(&ok(&first, &admin, &["--list"]));
    assert!(!left.contains(&orders), "{left}");
    assert!(
        left.contains(&squash(&bob_writes)) && left.contains(&squash(&mallory_denied)),
        "{left}"
    );
}
