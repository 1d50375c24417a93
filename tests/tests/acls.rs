//! ACLs end to end: CreateAcls, DescribeAcls and DeleteAcls in raw frames
//! (every validation error, with Kafka's codes and messages, and the same
//! answers as an Apache Kafka 4.4 broker running `StandardAuthorizer`),
//! who may call them (CLUSTER ALTER / DESCRIBE, SECURITY_DISABLED without
//! an authorizer), Kafka's own `kafka-acls` tool over SASL against two
//! agents on one Postgres, and confluent-kafka's admin calls.
//!
//! The Kafka comparisons and the `kafka-acls` test need
//! `FLOE_KAFKA_CLASSPATH` (set by `scripts/test.sh`); without it they
//! print why and return.

#[path = "acls/tool.rs"]
mod tool;

use std::net::SocketAddr;

use floe_tests::kafka_cli::classpath_or_skip;
use floe_tests::{Agent, KafkaBroker, RawClient, kafka_ref, python, unique_topic};
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DescribeAclsRequest,
};
use kafka_protocol::protocol::StrBytes;

const UNKNOWN_SERVER_ERROR: i16 = -1;
const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
const INVALID_REQUEST: i16 = 42;
const SECURITY_DISABLED: i16 = 54;

/// Wire codes.
const TOPIC: i8 = 2;
const GROUP: i8 = 3;
const CLUSTER: i8 = 4;
const ANY: i8 = 1;
const MATCH: i8 = 2;
const LITERAL: i8 = 3;
const PREFIXED: i8 = 4;
const ALL: i8 = 2;
const READ: i8 = 3;
const WRITE: i8 = 4;
const ALTER: i8 = 7;
const DENY: i8 = 2;
const ALLOW: i8 = 3;

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

/// One creation: (resource type, name, pattern, principal, host, operation, permission).
type Spec<'a> = (i8, &'a str, i8, &'a str, &'a str, i8, i8);

fn creation(spec: Spec<'_>) -> AclCreation {
    let (rt, name, pt, principal, host, op, perm) = spec;
    AclCreation::default()
        .with_resource_type(rt)
        .with_resource_name(s(name))
        .with_resource_pattern_type(pt)
        .with_principal(s(principal))
        .with_host(s(host))
        .with_operation(op)
        .with_permission_type(perm)
}

/// One filter: (resource type, name, pattern, principal, host, operation, permission).
type FilterSpec<'a> = (
    i8,
    Option<&'a str>,
    i8,
    Option<&'a str>,
    Option<&'a str>,
    i8,
    i8,
);

fn describe_request(f: FilterSpec<'_>) -> DescribeAclsRequest {
    let (rt, name, pt, principal, host, op, perm) = f;
    DescribeAclsRequest::default()
        .with_resource_type_filter(rt)
        .with_resource_name_filter(name.map(s))
        .with_pattern_type_filter(pt)
        .with_principal_filter(principal.map(s))
        .with_host_filter(host.map(s))
        .with_operation(op)
        .with_permission_type(perm)
}

fn delete_filter(f: FilterSpec<'_>) -> DeleteAclsFilter {
    let (rt, name, pt, principal, host, op, perm) = f;
    DeleteAclsFilter::default()
        .with_resource_type_filter(rt)
        .with_resource_name_filter(name.map(s))
        .with_pattern_type_filter(pt)
        .with_principal_filter(principal.map(s))
        .with_host_filter(host.map(s))
        .with_operation(op)
        .with_permission_type(perm)
}

fn create(client: &mut RawClient, version: i16, specs: &[Spec<'_>]) -> CreateAclsResponse {
    let req =
        CreateAclsRequest::default().with_creations(specs.iter().copied().map(creation).collect());
    client.request(version, &req).expect("CreateAcls")
}

/// Each creation's (code, message).
fn create_results(
    client: &mut RawClient,
    version: i16,
    specs: &[Spec<'_>],
) -> Vec<(i16, Option<String>)> {
    create(client, version, specs)
        .results
        .iter()
        .map(|r| {
            (
                r.error_code,
                r.error_message.as_ref().map(ToString::to_string),
            )
        })
        .collect()
}

/// A described or deleted binding as text, for comparisons.
fn row(rt: i8, name: &str, pt: i8, principal: &str, host: &str, op: i8, perm: i8) -> String {
    format!("{rt}/{name}/{pt} {principal}@{host} op{op} perm{perm}")
}

/// DescribeAcls: (code, message, bindings sorted).
fn describe(
    client: &mut RawClient,
    version: i16,
    f: FilterSpec<'_>,
) -> (i16, Option<String>, Vec<String>) {
    let resp = client
        .request(version, &describe_request(f))
        .expect("DescribeAcls");
    let mut rows: Vec<String> = resp
        .resources
        .iter()
        .flat_map(|r| {
            r.acls.iter().map(|a| {
                row(
                    r.resource_type,
                    &r.resource_name,
                    r.pattern_type,
                    &a.principal,
                    &a.host,
                    a.operation,
                    a.permission_type,
                )
            })
        })
        .collect();
    rows.sort();
    (
        resp.error_code,
        resp.error_message.as_ref().map(ToString::to_string),
        rows,
    )
}

/// DeleteAcls: per filter (code, message, matched bindings sorted).
fn delete(
    client: &mut RawClient,
    version: i16,
    filters: &[FilterSpec<'_>],
) -> Vec<(i16, Option<String>, Vec<String>)> {
    let req = DeleteAclsRequest::default()
        .with_filters(filters.iter().copied().map(delete_filter).collect());
    let resp = client.request(version, &req).expect("DeleteAcls");
    resp.filter_results
        .iter()
        .map(|f| {
            let mut rows: Vec<String> = f
                .matching_acls
                .iter()
                .map(|m| {
                    assert_eq!(m.error_code, 0);
                    row(
                        m.resource_type,
                        &m.resource_name,
                        m.pattern_type,
                        &m.principal,
                        &m.host,
                        m.operation,
                        m.permission_type,
                    )
                })
                .collect();
            rows.sort();
            (
                f.error_code,
                f.error_message.as_ref().map(ToString::to_string),
                rows,
            )
        })
        .collect()
}

const EVERYTHING: FilterSpec<'static> = (ANY, None, ANY, None, None, ANY, ANY);

/// The scenario both Kafka and Floe run, as a super user (`User:ANONYMOUS`
/// on PLAINTEXT), answering a transcript of everything seen. `prefix` keeps
/// the names apart from anything else on the broker.
fn scenario(addr: SocketAddr, prefix: &str) -> Vec<String> {
    let t = format!("{prefix}-t");
    let p = format!("{prefix}-");
    let g = format!("{prefix}-g");
    let mut client = RawClient::connect(addr).expect("connect");
    let mut transcript = Vec::new();
    let mut log = |what: &str, value: String| transcript.push(format!("{what}: {value}"));

    // Valid ones beside every refusal that is per creation.
    let creations: Vec<Spec<'_>> = vec![
        (TOPIC, &t, LITERAL, "User:alice", "*", READ, ALLOW),
        (TOPIC, &p, PREFIXED, "User:bob", "*", WRITE, DENY),
        (GROUP, &g, LITERAL, "User:*", "10.0.0.1", ALL, ALLOW),
        (
            CLUSTER,
            "kafka-cluster",
            LITERAL,
            "User:alice",
            "*",
            ALTER,
            ALLOW,
        ),
        (99, &t, LITERAL, "User:alice", "*", READ, ALLOW),
        (TOPIC, &t, 99, "User:alice", "*", READ, ALLOW),
        (TOPIC, &t, LITERAL, "User:alice", "*", 99, ALLOW),
        (TOPIC, &t, LITERAL, "User:alice", "*", READ, 99),
        (TOPIC, "", LITERAL, "User:alice", "*", READ, ALLOW),
        (
            CLUSTER,
            "other-cluster",
            LITERAL,
            "User:alice",
            "*",
            ALTER,
            ALLOW,
        ),
        (TOPIC, &t, LITERAL, "alice", "*", READ, ALLOW),
        (TOPIC, &t, LITERAL, "User:alice", "", READ, ALLOW),
        // An unknown operation is reported before the bad principal and host.
        (TOPIC, &t, LITERAL, "alice", "", 99, ALLOW),
    ];
    log(
        "create v3",
        format!("{:?}", create_results(&mut client, 3, &creations)),
    );
    // Creating one again succeeds and keeps one (v1, the oldest served).
    log(
        "create again v1",
        format!("{:?}", create_results(&mut client, 1, &creations[..1])),
    );
    // A filter-only value anywhere fails the whole request.
    for (what, bad) in [
        (
            "resource ANY",
            (ANY, t.as_str(), LITERAL, "User:x", "*", READ, ALLOW),
        ),
        (
            "pattern MATCH",
            (TOPIC, t.as_str(), MATCH, "User:x", "*", READ, ALLOW),
        ),
        (
            "pattern ANY",
            (TOPIC, t.as_str(), ANY, "User:x", "*", READ, ALLOW),
        ),
        (
            "operation ANY",
            (TOPIC, t.as_str(), LITERAL, "User:x", "*", ANY, ALLOW),
        ),
        (
            "permission ANY",
            (TOPIC, t.as_str(), LITERAL, "User:x", "*", READ, ANY),
        ),
    ] {
        let valid = (TOPIC, "never-created", LITERAL, "User:x", "*", READ, ALLOW);
        log(
            what,
            format!("{:?}", create_results(&mut client, 2, &[valid, bad])),
        );
    }

    // Describe: MATCH, ANY by name, by pattern type, entry filters,
    // unknown codes (nothing matches), every version.
    let mine = |rows: Vec<String>| -> Vec<String> {
        rows.into_iter()
            .filter(|r| r.contains(prefix) || r.contains("kafka-cluster"))
            .collect()
    };
    let beyond = format!("{p}zzz");
    for (what, version, f) in [
        ("all v3", 3, EVERYTHING),
        ("all v1", 1, EVERYTHING),
        (
            "match topic",
            2,
            (TOPIC, Some(t.as_str()), MATCH, None, None, ANY, ANY),
        ),
        (
            "match other",
            3,
            (TOPIC, Some(beyond.as_str()), MATCH, None, None, ANY, ANY),
        ),
        (
            "any by name",
            3,
            (TOPIC, Some(p.as_str()), ANY, None, None, ANY, ANY),
        ),
        ("prefixed", 3, (ANY, None, PREFIXED, None, None, ANY, ANY)),
        (
            "literal name",
            3,
            (TOPIC, Some(t.as_str()), LITERAL, None, None, ANY, ANY),
        ),
        (
            "principal",
            3,
            (ANY, None, ANY, Some("User:*"), None, ANY, ANY),
        ),
        (
            "host",
            3,
            (ANY, None, ANY, None, Some("10.0.0.1"), ANY, ANY),
        ),
        ("deny", 3, (ANY, None, ANY, None, None, ANY, DENY)),
        ("op ALL", 3, (ANY, None, ANY, None, None, ALL, ANY)),
        ("unknown type", 3, (99, None, ANY, None, None, ANY, ANY)),
        ("unknown op", 3, (ANY, None, ANY, None, None, 99, ANY)),
    ] {
        let (code, message, rows) = describe(&mut client, version, f);
        log(what, format!("{code} {message:?} {:?}", mine(rows)));
    }

    // Delete: per filter what it matched (a binding under each filter
    // that matched it), refusals per filter.
    let results = delete(
        &mut client,
        3,
        &[
            (
                TOPIC,
                Some(t.as_str()),
                LITERAL,
                Some("User:alice"),
                None,
                ANY,
                ANY,
            ),
            (TOPIC, Some(t.as_str()), MATCH, None, None, ANY, ANY),
            (99, None, ANY, None, None, ANY, ANY),
            (ANY, None, 99, None, None, ANY, ANY),
            (ANY, None, ANY, None, None, 99, ANY),
            (ANY, None, ANY, None, None, ANY, 99),
            (GROUP, Some("no-such-group"), LITERAL, None, None, ANY, ANY),
        ],
    );
    log("delete", format!("{results:?}"));
    let (code, _, rows) = describe(&mut client, 3, EVERYTHING);
    log("after delete", format!("{code} {:?}", mine(rows)));
    let results = delete(&mut client, 1, &[(ANY, None, MATCH, None, None, ANY, ANY)]);
    log(
        "delete the rest v1",
        format!(
            "{:?}",
            results
                .iter()
                .map(|r| (
                    r.0,
                    r.2.iter()
                        .filter(|x| x.contains(prefix) || x.contains("kafka-cluster"))
                        .count()
                ))
                .collect::<Vec<_>>()
        ),
    );
    transcript
}

/// A code 0 (UNKNOWN) in an enum field fails the request's parsing: Kafka
/// closes the connection.
fn unknown_code_closes(addr: SocketAddr) {
    let mut client = RawClient::connect(addr).expect("connect");
    let req = CreateAclsRequest::default().with_creations(vec![creation((
        0, "t", LITERAL, "User:a", "*", READ, ALLOW,
    ))]);
    client.send_request(3, &req).expect("send");
    client
        .expect_closed()
        .expect("closed after a code 0 in CreateAcls");
    let mut client = RawClient::connect(addr).expect("connect");
    client
        .send_request(3, &describe_request((TOPIC, None, 0, None, None, ANY, ANY)))
        .expect("send");
    client
        .expect_closed()
        .expect("closed after a code 0 in DescribeAcls");
    let mut client = RawClient::connect(addr).expect("connect");
    let req = DeleteAclsRequest::default()
        .with_filters(vec![delete_filter((TOPIC, None, ANY, None, None, 0, ANY))]);
    client.send_request(3, &req).expect("send");
    client
        .expect_closed()
        .expect("closed after a code 0 in DeleteAcls");
}

fn acl_agent() -> Agent {
    Agent::builder()
        .arg("--authorizer")
        .arg("acl")
        .arg("--super-users")
        .arg("User:ANONYMOUS")
        .start()
        .expect("agent")
}

/// Floe's answers, asserted outright (this test needs no Kafka).
#[test]
fn acl_apis_validate_as_kafka() {
    let agent = acl_agent();
    let t = scenario(agent.kafka_addr(), "floe");
    let line = |what: &str| {
        t.iter()
            .find(|l| l.starts_with(&format!("{what}: ")))
            .unwrap_or_else(|| panic!("no {what} in {t:#?}"))
            .clone()
    };
    let invalid = |m: &str| format!("({INVALID_REQUEST}, Some({m:?}))");
    let create = line("create v3");
    for expected in [
        invalid("Invalid resourceType UNKNOWN"),
        invalid("Invalid patternType UNKNOWN"),
        invalid("Invalid operation UNKNOWN"),
        invalid("Invalid permissionType UNKNOWN"),
        invalid("Invalid empty resource name"),
        invalid("The only valid name for the CLUSTER resource is kafka-cluster"),
        invalid(
            "Could not parse principal from `alice` (no colon is present separating the \
             principal type from the principal name)",
        ),
        invalid("Host pattern cannot be null or empty"),
    ] {
        assert!(create.contains(&expected), "{expected} not in {create}");
    }
    assert!(
        create.starts_with(
            "create v3: [(0, Some(\"\")), (0, Some(\"\")), (0, Some(\"\")), (0, Some(\"\")), (42,"
        ),
        "{create}"
    );
    assert!(
        create.ends_with(&format!("{}]", invalid("Invalid operation UNKNOWN"))),
        "{create}"
    );
    for what in [
        "resource ANY",
        "pattern MATCH",
        "pattern ANY",
        "operation ANY",
        "permission ANY",
    ] {
        assert_eq!(
            line(what),
            format!("{what}: [({UNKNOWN_SERVER_ERROR}, None), ({UNKNOWN_SERVER_ERROR}, None)]")
        );
    }
    let all = line("all v3");
    assert!(
        !all.contains("never-created"),
        "a failed request created nothing: {all}"
    );
    assert_eq!(all.matches(" op").count(), 4, "four bindings: {all}");
    assert_eq!(
        line("all v1").split_once(": ").map(|x| x.1),
        all.split_once(": ").map(|x| x.1)
    );
    let matched = line("match topic");
    assert!(
        matched.contains("2/floe-t/3 User:alice@* op3 perm3")
            && matched.contains("2/floe-/4 User:bob@* op4 perm2"),
        "{matched}"
    );
    assert_eq!(line("unknown type"), "unknown type: 0 Some(\"\") []");
    assert_eq!(line("unknown op"), "unknown op: 0 Some(\"\") []");
    let delete = line("delete");
    assert!(
        delete.contains(&format!(
            "({INVALID_REQUEST}, Some(\"Unknown patternFilter.\"), [])"
        )),
        "{delete}"
    );
    assert!(
        delete.contains(&format!(
            "({INVALID_REQUEST}, Some(\"Unknown entryFilter.\"), [])"
        )),
        "{delete}"
    );
    assert!(
        delete.starts_with(
            "delete: [(0, None, [\"2/floe-t/3 User:alice@* op3 perm3\"]), (0, None, [\"2/floe-/4"
        ),
        "{delete}"
    );
    let after = line("after delete");
    assert!(
        !after.contains("floe-t/") && !after.contains("floe-/4") && after.contains("floe-g"),
        "{after}"
    );
    unknown_code_closes(agent.kafka_addr());
    // The agent still serves other connections.
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(describe(&mut client, 3, EVERYTHING).0, 0);
}

/// The same raw requests against Apache Kafka 4.4 with StandardAuthorizer:
/// identical codes, messages and bindings.
#[test]
fn acl_apis_answer_as_kafka_does() {
    let Some(classpath) = classpath_or_skip("acl_apis_answer_as_kafka_does") else {
        return;
    };
    let kafka = KafkaBroker::builder()
        .config(
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        )
        .config("super.users", "User:ANONYMOUS")
        .start(&classpath)
        .expect("start Kafka with StandardAuthorizer");
    let agent = acl_agent();
    let reference = scenario(kafka.addr(), "same");
    let floe = scenario(agent.kafka_addr(), "same");
    assert_eq!(floe, reference, "Floe's answers differ from Kafka's");
    unknown_code_closes(kafka.addr());
}

/// Without an authorizer: SECURITY_DISABLED, as a Kafka broker without
/// `authorizer.class.name` answers.
#[test]
fn acl_apis_without_an_authorizer_are_security_disabled() {
    let transcript = |addr: SocketAddr| {
        let mut client = RawClient::connect(addr).expect("connect");
        let spec = (TOPIC, "t", LITERAL, "User:a", "*", READ, ALLOW);
        (
            create_results(&mut client, 3, &[spec, spec]),
            describe(&mut client, 3, EVERYTHING),
            delete(&mut client, 3, &[EVERYTHING]),
        )
    };
    let agent = Agent::start().expect("agent");
    let floe = transcript(agent.kafka_addr());
    let disabled = Some("No Authorizer is configured.".to_string());
    assert_eq!(floe.0, vec![(SECURITY_DISABLED, disabled.clone()); 2]);
    assert_eq!(
        floe.1,
        (
            SECURITY_DISABLED,
            Some("No Authorizer is configured on the broker".into()),
            vec![]
        )
    );
    assert_eq!(floe.2, vec![(SECURITY_DISABLED, disabled, vec![])]);
    if let Some(kafka) = kafka_ref::shared("acl_apis_without_an_authorizer") {
        assert_eq!(transcript(kafka.addr()), floe);
    }
}

/// A caller who is not a super user needs CLUSTER ALTER to create and
/// delete and CLUSTER DESCRIBE to describe; DESCRIBE is implied by ALTER.
#[test]
fn acl_apis_need_cluster_permissions() {
    let agent = Agent::builder()
        .arg("--authorizer")
        .arg("acl")
        .arg("--super-users")
        .arg("User:admin")
        .start()
        .expect("agent");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    let spec = (TOPIC, "t", LITERAL, "User:a", "*", READ, ALLOW);
    let refused = Some("Cluster authorization failed.".to_string());
    assert_eq!(
        create_results(&mut client, 3, &[spec, spec]),
        vec![(CLUSTER_AUTHORIZATION_FAILED, refused.clone()); 2]
    );
    assert_eq!(
        describe(&mut client, 3, EVERYTHING),
        (CLUSTER_AUTHORIZATION_FAILED, refused.clone(), vec![])
    );
    assert_eq!(
        delete(&mut client, 3, &[EVERYTHING, EVERYTHING]),
        vec![(CLUSTER_AUTHORIZATION_FAILED, refused, vec![]); 2]
    );
    // Denials are counted.
    let denied = agent.metrics().expect("metrics");
    assert!(
        denied.contains("floe_authz_denied_total{operation=\"ALTER\",resource_type=\"CLUSTER\"} 2"),
        "{denied}"
    );
    assert!(
        denied.contains(
            "floe_authz_denied_total{operation=\"DESCRIBE\",resource_type=\"CLUSTER\"} 1"
        ),
        "{denied}"
    );
}

/// confluent-kafka's create_acls / describe_acls / delete_acls.
#[test]
fn confluent_kafka_admin_manages_acls() {
    let agent = acl_agent();
    let prefix = unique_topic("acl-py");
    python::run_script("acls.py", &agent.bootstrap(), &[&prefix]).expect("acls.py");
    let mut client = RawClient::connect(agent.kafka_addr()).expect("connect");
    assert_eq!(
        describe(&mut client, 3, EVERYTHING),
        (0, Some(String::new()), vec![]),
        "the script deleted all it made"
    );
}
