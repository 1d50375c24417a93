//! ACLs enforced on every API (`--authorizer acl`), end to end: a SASL
//! agent whose super user (`User:admin`) creates the ACLs with CreateAcls;
//! real clients (confluent-kafka, kafka-python) without ACLs get the
//! authorization errors and no data; prefixed ACLs grant exactly their
//! topics and deny beats allow; a consumer needs READ on its group; a
//! transactional producer needs WRITE on its id; and raw frames show each
//! API answering its authorization error in the field Kafka uses.

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use floe_tests::kafka_cli::tools;
use floe_tests::{Agent, KafkaTools, RawClient, binary, process, python, records, unique_topic};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::{CreateAclsRequest, SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;

#[path = "authorization/apis.rs"]
mod apis;

/// Kafka's error codes.
const TOPIC_DENIED: i16 = 29;
const GROUP_DENIED: i16 = 30;
const CLUSTER_DENIED: i16 = 31;
const TXN_DENIED: i16 = 53;

/// ACL resource types, pattern types, operations and permissions (Kafka's codes).
pub const TOPIC: i8 = 2;
pub const GROUP: i8 = 3;
pub const TRANSACTIONAL_ID: i8 = 5;
pub const LITERAL: i8 = 3;
pub const PREFIXED: i8 = 4;
pub const READ: i8 = 3;
pub const WRITE: i8 = 4;
pub const CREATE: i8 = 5;
pub const DESCRIBE: i8 = 8;
pub const ALL: i8 = 2;
pub const DENY: i8 = 2;
pub const ALLOW: i8 = 3;

const ADMIN: (&str, &str) = ("admin", "admin-secret");

/// Runs `floe users set NAME` against the agent's store.
fn set_user(agent: &Agent, name: &str, password: &str) {
    let mut cmd = Command::new(binary::floe_bin().expect("floe binary"));
    cmd.args([
        "users",
        "set",
        name,
        "--mechanism",
        "SCRAM-SHA-512",
        "--password-stdin",
    ])
    .arg("--data-dir")
    .arg(agent.data_dir());
    process::run(
        cmd,
        format!("{password}\n").as_bytes(),
        Duration::from_secs(60),
    )
    .expect("floe users set")
    .ensure_success()
    .expect("floe users set succeeds");
}

/// An agent enforcing ACLs on a SASL_PLAINTEXT listener (beside the
/// PLAINTEXT one, where clients are `User:ANONYMOUS`), with `User:admin` as
/// super user and `users` created.
fn acl_agent(users: &[(&str, &str)]) -> Agent {
    let agent = Agent::builder()
        .listener("SASL_PLAINTEXT")
        .arg("--authorizer")
        .arg("acl")
        .arg("--super-users")
        .arg("User:admin")
        .start()
        .expect("start agent");
    set_user(&agent, ADMIN.0, ADMIN.1);
    for (user, password) in users {
        set_user(&agent, user, password);
    }
    agent
}

/// A raw connection authenticated as `user` with SASL PLAIN.
pub fn login(agent: &Agent, user: &str, password: &str) -> RawClient {
    let mut raw = RawClient::connect(agent.listener_addr("SASL_PLAINTEXT")).expect("connect");
    let handshake =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
    assert_eq!(
        raw.request(1, &handshake)
            .expect("SaslHandshake")
            .error_code,
        0
    );
    let token = format!("\0{user}\0{password}");
    let auth = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token));
    let resp = raw.request(2, &auth).expect("SaslAuthenticate");
    assert_eq!(resp.error_code, 0, "{user}: {:?}", resp.error_message);
    raw
}

/// One ACL binding to create.
#[derive(Debug, Clone, Copy)]
pub struct Acl<'a> {
    pub resource_type: i8,
    pub name: &'a str,
    pub pattern: i8,
    pub principal: &'a str,
    pub operation: i8,
    pub permission: i8,
}

impl<'a> Acl<'a> {
    /// `principal` may do `operation` on the resource named `name` exactly.
    pub fn allow(principal: &'a str, resource_type: i8, name: &'a str, operation: i8) -> Self {
        Acl {
            resource_type,
            name,
            pattern: LITERAL,
            principal,
            operation,
            permission: ALLOW,
        }
    }

    fn prefixed(self) -> Self {
        Acl {
            pattern: PREFIXED,
            ..self
        }
    }

    fn deny(self) -> Self {
        Acl {
            permission: DENY,
            ..self
        }
    }
}

/// Creates `acls` as the super user, each answered without error.
pub fn create_acls(agent: &Agent, acls: &[Acl<'_>]) {
    let mut admin = login(agent, ADMIN.0, ADMIN.1);
    let creations = acls
        .iter()
        .map(|a| {
            AclCreation::default()
                .with_resource_type(a.resource_type)
                .with_resource_name(StrBytes::from_string(a.name.to_string()))
                .with_resource_pattern_type(a.pattern)
                .with_principal(StrBytes::from_string(a.principal.to_string()))
                .with_host(StrBytes::from_static_str("*"))
                .with_operation(a.operation)
                .with_permission_type(a.permission)
        })
        .collect();
    let resp = admin
        .request(3, &CreateAclsRequest::default().with_creations(creations))
        .expect("CreateAcls");
    for (acl, result) in acls.iter().zip(&resp.results) {
        assert_eq!(result.error_code, 0, "{acl:?}: {:?}", result.error_message);
    }
    assert_eq!(resp.results.len(), acls.len());
}

/// The client config of `user` on the SASL_PLAINTEXT listener.
fn sasl(user: &str, password: &str) -> String {
    serde_json::json!({
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": user,
        "sasl.password": password,
    })
    .to_string()
}

fn scenario(agent: &Agent, name: &str, config: &str, args: &[&str]) {
    let addr = agent.listener_addr("SASL_PLAINTEXT").to_string();
    let mut all = vec![name, config];
    all.extend_from_slice(args);
    let out = python::run_script("authorization.py", &addr, &all)
        .unwrap_or_else(|e| panic!("authorization.py {name} {args:?}: {e:#}"));
    eprint!("{}", out.stdout);
}

/// The high watermark of partition 0 of `topic`, asked by the super user.
fn high_watermark(agent: &Agent, topic: &str) -> i64 {
    let mut admin = login(agent, ADMIN.0, ADMIN.1);
    let resp = admin.list_offsets(topic, 0, -1).expect("ListOffsets");
    assert_eq!(resp.error_code, 0, "ListOffsets of {topic}");
    resp.offset
}

#[test]
fn clients_without_acls_get_authorization_errors_and_no_data() {
    let agent = acl_agent(&[("mallory", "mallory-secret")]);
    let topic = unique_topic("guarded");
    let mut admin = login(&agent, ADMIN.0, ADMIN.1);
    assert_eq!(admin.create_topic(&topic, 1).expect("CreateTopics"), 0);
    let batch = records::simple_batch(&["secret"], 1_700_000_000_000).expect("batch");
    assert_eq!(
        admin
            .produce_one(&topic, 0, batch)
            .expect("produce")
            .error_code,
        0
    );

    let mallory = sasl("mallory", "mallory-secret");
    scenario(
        &agent,
        "denied-confluent",
        &mallory,
        &[&topic, "mallory-group"],
    );
    scenario(
        &agent,
        "denied-kafka-python",
        &mallory,
        &[&topic, "mallory-group-py"],
    );
    assert_eq!(
        high_watermark(&agent, &topic),
        1,
        "a denied producer stored records"
    );

    // Anonymous (the PLAINTEXT listener) is denied the same way.
    let mut anonymous = RawClient::connect(agent.kafka_addr()).expect("connect");
    let batch = records::simple_batch(&["anonymous"], 1_700_000_000_000).expect("batch");
    let resp = anonymous.produce_one(&topic, 0, batch).expect("produce");
    assert_eq!(resp.error_code, TOPIC_DENIED);
    let fetched = anonymous.fetch(&topic, 0, 0, 0).expect("fetch");
    assert_eq!(fetched.error_code, TOPIC_DENIED);
    assert!(
        fetched.records.is_none_or(|r| r.is_empty()),
        "records served"
    );
    assert_eq!(high_watermark(&agent, &topic), 1);
    agent
        .wait_for_metric("floe_authz_denied_total", 1.0, Duration::from_secs(5))
        .expect("denials counted");
}

#[test]
fn a_prefixed_acl_grants_exactly_its_topics_and_deny_beats_allow() {
    let agent = acl_agent(&[("app", "app-secret")]);
    let run = unique_topic("p");
    let (app_x, app_secret, other_x) = (
        format!("app.{run}.x"),
        format!("app.{run}.secret"),
        format!("other.{run}.x"),
    );
    let mut admin = login(&agent, ADMIN.0, ADMIN.1);
    for t in [&app_x, &app_secret, &other_x] {
        assert_eq!(admin.create_topic(t, 1).expect("CreateTopics"), 0);
    }
    let prefix = format!("app.{run}.");
    create_acls(
        &agent,
        &[
            Acl::allow("User:app", TOPIC, &prefix, WRITE).prefixed(),
            Acl::allow("User:app", TOPIC, &app_secret, ALL).deny(),
        ],
    );
    let app = sasl("app", "app-secret");
    scenario(&agent, "produce-ok", &app, &[&app_x, "5"]);
    scenario(&agent, "produce-denied", &app, &[&other_x]);
    scenario(&agent, "produce-denied", &app, &[&app_secret]);
    // WRITE implies DESCRIBE: only the allowed topic is listed.
    let hidden = format!("{app_secret},{other_x}");
    scenario(&agent, "visible", &app, &[&app_x, &hidden]);
    assert_eq!(high_watermark(&agent, &app_x), 5);
    assert_eq!(high_watermark(&agent, &app_secret), 0);
    assert_eq!(high_watermark(&agent, &other_x), 0);

    // Raw Metadata: named, the hidden topics are TOPIC_AUTHORIZATION_FAILED;
    // listing all shows only the describable one.
    let mut raw = login(&agent, "app", "app-secret");
    let named = raw
        .metadata(Some(&[&app_x, &app_secret, &other_x]), false)
        .expect("metadata");
    let codes: Vec<(String, i16)> = named
        .topics
        .iter()
        .map(|t| {
            (
                t.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                t.error_code,
            )
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            (app_x.clone(), 0),
            (app_secret.clone(), TOPIC_DENIED),
            (other_x.clone(), TOPIC_DENIED)
        ]
    );
    let all = raw.metadata(None, false).expect("metadata");
    let listed: Vec<String> = all
        .topics
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.to_string()))
        .collect();
    assert_eq!(listed, vec![app_x.clone()]);
    // Asking to auto-create a topic without CREATE does not create it.
    let missing = format!("app.{run}.missing");
    let created = raw.metadata(Some(&[&missing]), true).expect("metadata");
    assert_eq!(created.topics[0].error_code, TOPIC_DENIED);
    let seen = admin.metadata(Some(&[&missing]), false).expect("metadata");
    assert_ne!(seen.topics[0].error_code, 0, "{missing} was created");
    // Nor does producing to it; with CREATE on the prefix, both do.
    let batch = || records::simple_batch(&["v"], 1_700_000_000_000).expect("batch");
    let resp = raw.produce_one(&missing, 0, batch()).expect("produce");
    assert_eq!(resp.error_code, TOPIC_DENIED);
    let seen = admin.metadata(Some(&[&missing]), false).expect("metadata");
    assert_ne!(seen.topics[0].error_code, 0, "{missing} was created");
    create_acls(
        &agent,
        &[Acl::allow("User:app", TOPIC, &prefix, CREATE).prefixed()],
    );
    assert_eq!(
        raw.produce_one(&missing, 0, batch())
            .expect("produce")
            .error_code,
        0
    );
    let created = format!("app.{run}.created");
    let resp = raw.metadata(Some(&[&created]), true).expect("metadata");
    assert_eq!(
        resp.topics[0].error_code, 0,
        "{created} was not auto-created"
    );
}

#[test]
fn a_consumer_needs_read_on_its_group_and_then_consumes_everything() {
    let agent = acl_agent(&[("reader", "reader-secret")]);
    let topic = unique_topic("orders");
    let group = unique_topic("billing");
    let mut admin = login(&agent, ADMIN.0, ADMIN.1);
    assert_eq!(admin.create_topic(&topic, 3).expect("CreateTopics"), 0);
    let admin_config = sasl(ADMIN.0, ADMIN.1);
    scenario(&agent, "produce-ok", &admin_config, &[&topic, "30"]);

    create_acls(&agent, &[Acl::allow("User:reader", TOPIC, &topic, READ)]);
    let reader = sasl("reader", "reader-secret");
    scenario(&agent, "consume-group-denied", &reader, &[&topic, &group]);

    create_acls(&agent, &[Acl::allow("User:reader", GROUP, &group, READ)]);
    scenario(&agent, "consume", &reader, &[&topic, &group, "30"]);
}

#[test]
fn a_transactional_producer_needs_write_on_its_transactional_id() {
    let agent = acl_agent(&[("txn", "txn-secret")]);
    let topic = unique_topic("txn-acl");
    let txn_id = unique_topic("txn-id");
    let mut admin = login(&agent, ADMIN.0, ADMIN.1);
    assert_eq!(admin.create_topic(&topic, 1).expect("CreateTopics"), 0);
    create_acls(&agent, &[Acl::allow("User:txn", TOPIC, &topic, WRITE)]);
    let config = sasl("txn", "txn-secret");
    scenario(&agent, "txn-denied", &config, &[&txn_id]);
    // The error is the coordinator's too when asked raw.
    let mut raw = login(&agent, "txn", "txn-secret");
    assert_eq!(apis::init_transactional(&mut raw, &txn_id), TXN_DENIED);
    create_acls(
        &agent,
        &[Acl::allow("User:txn", TRANSACTIONAL_ID, &txn_id, WRITE)],
    );
    assert_eq!(apis::init_transactional(&mut raw, &txn_id), 0);
    // With WRITE on the id and the topic, a whole transaction commits: five
    // records and the commit marker.
    scenario(&agent, "txn-ok", &config, &[&txn_id, &topic, "5"]);
    assert_eq!(high_watermark(&agent, &topic), 6);
}

#[test]
fn each_api_answers_its_authorization_error_in_kafkas_field() {
    let agent = acl_agent(&[("mallory", "mallory-secret")]);
    let names = apis::Names::default();
    let mut admin = login(&agent, ADMIN.0, ADMIN.1);
    assert_eq!(
        admin.create_topic(&names.topic, 1).expect("CreateTopics"),
        0
    );
    // A group and a transactional id for the filtered listings.
    assert_eq!(apis::offset_commit(&mut admin, &names), 0);
    assert_eq!(
        apis::init_transactional(&mut admin, &names.transactional_id),
        0
    );
    let mut mallory = login(&agent, "mallory", "mallory-secret");
    let mut failures = Vec::new();
    for case in apis::CASES {
        let code = (case.run)(&mut mallory, &names);
        let expected = match case.denied {
            apis::Denied::Topic => TOPIC_DENIED,
            apis::Denied::Group => GROUP_DENIED,
            apis::Denied::Cluster => CLUSTER_DENIED,
            apis::Denied::TransactionalId => TXN_DENIED,
            apis::Denied::Filtered => 0,
        };
        if code != expected {
            failures.push(format!("{}: got {code}, want {expected}", case.api));
        }
        // The super user is not refused the same request.
        if case.admin_allowed {
            let code = (case.run)(&mut admin, &names);
            if [TOPIC_DENIED, GROUP_DENIED, CLUSTER_DENIED, TXN_DENIED].contains(&code) {
                failures.push(format!("{} as the super user: got {code}", case.api));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The filtered listings hide from mallory what the super user sees.
    assert!(apis::listed_groups(&mut admin).contains(&names.group));
    assert_eq!(apis::listed_groups(&mut mallory), Vec::<String>::new());
    assert!(apis::listed_transactions(&mut admin).contains(&names.transactional_id));
    assert_eq!(
        apis::listed_transactions(&mut mallory),
        Vec::<String>::new()
    );
    assert!(apis::listed_topics(&mut admin) >= 1);
    assert_eq!(apis::listed_topics(&mut mallory), 0);
}

/// A client.properties for SASL_PLAINTEXT with SCRAM-SHA-512 as `user`.
fn java_properties(dir: &std::path::Path, user: &str, password: &str) -> String {
    let path = dir.join(format!("{user}.properties"));
    let text = format!(
        "security.protocol=SASL_PLAINTEXT\n\
         sasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
         username=\"{user}\" password=\"{password}\";\n\
         max.block.ms=15000\n"
    );
    std::fs::write(&path, text).expect("write client properties");
    path.display().to_string()
}

#[test]
fn the_java_client_is_refused_without_acls_and_served_with_them() {
    let Some(kafka) = KafkaTools::from_env_or_skip("java acls") else {
        return;
    };
    let agent = acl_agent(&[("carol", "carol-secret")]);
    let topic = unique_topic("java-acl");
    let group = unique_topic("java-acl-group");
    let mut admin = login(&agent, ADMIN.0, ADMIN.1);
    assert_eq!(admin.create_topic(&topic, 1).expect("CreateTopics"), 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let carol = java_properties(dir.path(), "carol", "carol-secret");
    let bootstrap = agent.listener_addr("SASL_PLAINTEXT").to_string();
    let lines: String = (0..10).map(|i| format!("record-{i}\n")).collect();
    let produce = || {
        let args = [
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            &topic,
            "--producer.config",
            &carol,
        ];
        kafka
            .run(tools::CONSOLE_PRODUCER, &args, lines.as_bytes())
            .expect("console producer")
    };
    let consume = || {
        let args = [
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            &topic,
            "--from-beginning",
            "--max-messages",
            "10",
            "--timeout-ms",
            "20000",
            "--group",
            &group,
            "--consumer.config",
            &carol,
        ];
        kafka
            .run(tools::CONSOLE_CONSUMER, &args, b"")
            .expect("console consumer")
    };

    let refused = produce();
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(said.contains("TopicAuthorizationException"), "{said}");
    assert_eq!(
        high_watermark(&agent, &topic),
        0,
        "a refused producer stored records"
    );
    let refused = consume();
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(!refused.stdout.contains("record-"), "{said}");
    assert!(said.contains("AuthorizationException"), "{said}");

    create_acls(
        &agent,
        &[
            Acl::allow("User:carol", TOPIC, &topic, WRITE),
            Acl::allow("User:carol", TOPIC, &topic, READ),
            Acl::allow("User:carol", GROUP, &group, READ),
        ],
    );
    let served = produce();
    assert!(served.status.success(), "{}", served.stderr);
    assert_eq!(high_watermark(&agent, &topic), 10);
    let served = consume();
    assert!(served.status.success(), "{}", served.stderr);
    let mut read: Vec<&str> = served
        .stdout
        .lines()
        .filter(|l| l.starts_with("record-"))
        .collect();
    read.sort_unstable();
    let mut want: Vec<String> = (0..10).map(|i| format!("record-{i}")).collect();
    want.sort_unstable();
    assert_eq!(read, want);
}
