//! The matcher against Kafka's `StandardAuthorizer` rules, one rule (and
//! its corner cases) per test.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use floe_metadata::AclBinding;
use prometheus::{IntCounterVec, IntGauge, Opts};

use super::*;
use crate::config::listeners::SecurityProtocol;

const ALICE_HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const OTHER_HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

fn denied_counter() -> IntCounterVec {
    IntCounterVec::new(Opts::new("denied", "test"), &["operation", "resource_type"])
        .expect("a valid counter")
}

fn authorizer(settings: AuthorizerSettings, acls: Vec<AclBinding>) -> Authorizer {
    let gauge = IntGauge::new("acls", "test").expect("a valid gauge");
    let a = Authorizer::new(settings, denied_counter(), gauge);
    a.install(1, acls);
    a
}

fn with_acls(acls: Vec<AclBinding>) -> Authorizer {
    authorizer(AuthorizerSettings::default(), acls)
}

fn acl(
    principal: &str,
    op: AclOperation,
    permission: AclPermission,
    resource: ResourceType,
    name: &str,
    pattern: PatternType,
) -> AclBinding {
    AclBinding {
        resource_type: resource,
        resource_name: name.into(),
        pattern_type: pattern,
        principal: principal.into(),
        host: "*".into(),
        operation: op,
        permission,
    }
}

fn allow_topic(principal: &str, op: AclOperation, name: &str, pattern: PatternType) -> AclBinding {
    acl(
        principal,
        op,
        AclPermission::Allow,
        ResourceType::Topic,
        name,
        pattern,
    )
}

fn deny_topic(principal: &str, op: AclOperation, name: &str, pattern: PatternType) -> AclBinding {
    acl(
        principal,
        op,
        AclPermission::Deny,
        ResourceType::Topic,
        name,
        pattern,
    )
}

fn user(name: &str) -> Principal {
    Principal::user(name)
}

/// Whether `name` may do `op` on topic `topic` from ALICE_HOST.
fn can(a: &Authorizer, name: &str, op: AclOperation, topic: &str) -> bool {
    a.check(
        &user(name),
        Some(ALICE_HOST),
        op,
        ResourceType::Topic,
        topic,
    )
}

use AclOperation::*;
use PatternType::{Literal, Prefixed};

#[test]
fn disabled_allows_everything() {
    let a = Authorizer::disabled();
    assert!(!a.is_enabled());
    assert!(can(&a, "anyone", Write, "t"));
    let s = Session::new(None, SecurityProtocol::Plaintext, Principal::anonymous());
    assert!(a.authorize(&s, Alter, ResourceType::Cluster, CLUSTER_RESOURCE));
    assert_eq!(a.authorized_operations(&s, ResourceType::Topic, "t"), 3576);
    assert_eq!(
        a.authorized_operations(&s, ResourceType::Cluster, CLUSTER_RESOURCE),
        8096
    );
}

#[test]
fn no_acl_denies_unless_allow_everyone() {
    let a = with_acls(vec![]);
    assert!(a.is_enabled());
    assert!(!can(&a, "alice", Read, "t"));
    let open = authorizer(
        AuthorizerSettings {
            allow_everyone_if_no_acl_found: true,
            ..AuthorizerSettings::default()
        },
        vec![allow_topic("User:bob", Read, "bobs", Literal)],
    );
    assert!(can(&open, "alice", Read, "t"), "no ACL names t");
    // ACLs name the resource, none for alice: denied even then.
    assert!(!can(&open, "alice", Read, "bobs"));
    assert!(can(&open, "bob", Read, "bobs"));
}

#[test]
fn literal_matches_its_name_only() {
    let a = with_acls(vec![allow_topic("User:alice", Read, "orders", Literal)]);
    assert!(can(&a, "alice", Read, "orders"));
    assert!(!can(&a, "alice", Read, "orders2"));
    assert!(!can(&a, "alice", Read, "order"));
    assert!(!can(&a, "alice", Write, "orders"));
    assert!(!can(&a, "bob", Read, "orders"));
    assert!(
        !a.check(
            &user("alice"),
            Some(ALICE_HOST),
            Read,
            ResourceType::Group,
            "orders"
        ),
        "another resource type with the same name"
    );
}

#[test]
fn prefixed_matches_names_starting_with_it() {
    let a = with_acls(vec![allow_topic("User:alice", Write, "logs-", Prefixed)]);
    assert!(can(&a, "alice", Write, "logs-"));
    assert!(can(&a, "alice", Write, "logs-app"));
    assert!(!can(&a, "alice", Write, "logs"));
    assert!(!can(&a, "alice", Write, "xlogs-app"));
}

#[test]
fn literal_wildcard_matches_every_name_but_prefixed_star_does_not() {
    let a = with_acls(vec![
        allow_topic("User:alice", Read, "*", Literal),
        allow_topic("User:bob", Read, "*", Prefixed),
    ]);
    assert!(can(&a, "alice", Read, "anything"));
    assert!(can(&a, "alice", Read, "*"));
    assert!(
        !can(&a, "bob", Read, "anything"),
        "a prefixed * is the prefix '*'"
    );
    assert!(can(&a, "bob", Read, "*starred"));
}

#[test]
fn prefixed_and_literal_of_the_same_name_are_different_acls() {
    let a = with_acls(vec![
        allow_topic("User:alice", Read, "app", Literal),
        allow_topic("User:bob", Read, "app", Prefixed),
    ]);
    assert!(can(&a, "alice", Read, "app"));
    assert!(
        !can(&a, "alice", Read, "app-1"),
        "literal app is not a prefix"
    );
    assert!(can(&a, "bob", Read, "app"));
    assert!(can(&a, "bob", Read, "app-1"));
}

#[test]
fn deny_on_prefixed_beats_allow_on_literal() {
    let a = with_acls(vec![
        allow_topic("User:alice", Read, "secret-orders", Literal),
        deny_topic("User:alice", Read, "secret-", Prefixed),
        allow_topic("User:alice", Read, "public", Literal),
    ]);
    assert!(!can(&a, "alice", Read, "secret-orders"));
    assert!(can(&a, "alice", Read, "public"));
}

#[test]
fn deny_on_wildcard_principal_beats_allow_on_the_user() {
    let a = with_acls(vec![
        allow_topic("User:alice", Write, "t", Literal),
        deny_topic("User:*", Write, "t", Literal),
    ]);
    assert!(!can(&a, "alice", Write, "t"));
    let b = with_acls(vec![
        allow_topic("User:*", Write, "*", Literal),
        deny_topic("User:mallory", All, "t", Literal),
    ]);
    assert!(can(&b, "alice", Write, "t"));
    assert!(!can(&b, "mallory", Write, "t"));
    assert!(
        !can(&b, "mallory", Describe, "t"),
        "ALL denies every operation"
    );
    assert!(can(&b, "mallory", Write, "u"));
}

#[test]
fn wildcard_principal_is_user_star_only() {
    let a = with_acls(vec![allow_topic("User:*", Read, "t", Literal)]);
    assert!(can(&a, "alice", Read, "t"));
    assert!(can(&a, "ANONYMOUS", Read, "t"));
    let other_type = Principal {
        kind: "Group".into(),
        name: "ops".into(),
    };
    // Kafka's matching principals are the principal and User:*, whatever
    // the principal's type.
    assert!(a.check(&other_type, None, Read, ResourceType::Topic, "t"));
    let b = with_acls(vec![allow_topic("Group:*", Read, "t", Literal)]);
    assert!(!can(&b, "alice", Read, "t"), "only User:* is a wildcard");
}

#[test]
fn principal_type_must_match() {
    let a = with_acls(vec![allow_topic("Group:alice", Read, "t", Literal)]);
    assert!(!can(&a, "alice", Read, "t"));
}

#[test]
fn host_exact_or_star() {
    let mut pinned = allow_topic("User:alice", Read, "t", Literal);
    pinned.host = "10.0.0.1".into();
    let a = with_acls(vec![pinned.clone()]);
    assert!(a.check(
        &user("alice"),
        Some(ALICE_HOST),
        Read,
        ResourceType::Topic,
        "t"
    ));
    assert!(!a.check(
        &user("alice"),
        Some(OTHER_HOST),
        Read,
        ResourceType::Topic,
        "t"
    ));
    assert!(!a.check(&user("alice"), None, Read, ResourceType::Topic, "t"));
    // An IPv4 client seen over an IPv6 socket is its IPv4 address.
    let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("an address");
    assert!(a.check(&user("alice"), Some(mapped), Read, ResourceType::Topic, "t"));
    // Deny from one host only.
    let mut deny = deny_topic("User:alice", Read, "t", Literal);
    deny.host = "10.0.0.2".into();
    let b = with_acls(vec![allow_topic("User:alice", Read, "t", Literal), deny]);
    assert!(b.check(
        &user("alice"),
        Some(ALICE_HOST),
        Read,
        ResourceType::Topic,
        "t"
    ));
    assert!(!b.check(
        &user("alice"),
        Some(OTHER_HOST),
        Read,
        ResourceType::Topic,
        "t"
    ));
    // A host that is not an address matches nobody.
    let mut named = allow_topic("User:alice", Read, "t", Literal);
    named.host = "client.example".into();
    let c = with_acls(vec![named]);
    assert!(!c.check(
        &user("alice"),
        Some(ALICE_HOST),
        Read,
        ResourceType::Topic,
        "t"
    ));
}

#[test]
fn describe_is_implied_by_read_write_delete_alter() {
    for op in [Read, Write, Delete, Alter, Describe] {
        let a = with_acls(vec![allow_topic("User:alice", op, "t", Literal)]);
        assert!(can(&a, "alice", Describe, "t"), "{op:?} implies DESCRIBE");
    }
    for op in [Create, AlterConfigs, DescribeConfigs] {
        let a = with_acls(vec![allow_topic("User:alice", op, "t", Literal)]);
        assert!(
            !can(&a, "alice", Describe, "t"),
            "{op:?} does not imply DESCRIBE"
        );
    }
    // Implication does not go the other way.
    let a = with_acls(vec![allow_topic("User:alice", Describe, "t", Literal)]);
    assert!(!can(&a, "alice", Read, "t"));
}

#[test]
fn describe_configs_is_implied_by_alter_configs() {
    let a = with_acls(vec![allow_topic("User:alice", AlterConfigs, "t", Literal)]);
    assert!(can(&a, "alice", DescribeConfigs, "t"));
    assert!(!can(&a, "alice", Describe, "t"));
    let b = with_acls(vec![allow_topic("User:alice", Alter, "t", Literal)]);
    assert!(!can(&b, "alice", DescribeConfigs, "t"));
}

#[test]
fn deny_does_not_imply() {
    // A DENY of READ does not deny DESCRIBE (Kafka's findResult).
    let a = with_acls(vec![
        allow_topic("User:alice", Describe, "t", Literal),
        deny_topic("User:alice", Read, "t", Literal),
    ]);
    assert!(can(&a, "alice", Describe, "t"));
    assert!(!can(&a, "alice", Read, "t"));
}

#[test]
fn all_allows_every_operation() {
    let a = with_acls(vec![allow_topic("User:alice", All, "t", Literal)]);
    for op in [
        Read,
        Write,
        Create,
        Delete,
        Alter,
        Describe,
        DescribeConfigs,
        AlterConfigs,
    ] {
        assert!(can(&a, "alice", op, "t"), "{op:?}");
    }
}

#[test]
fn super_users_pass_deny_acls() {
    let settings = AuthorizerSettings {
        super_users: settings::parse_super_users("User:admin; User:CN=ops,O=Acme")
            .expect("valid super users"),
        ..AuthorizerSettings::default()
    };
    let a = authorizer(settings, vec![deny_topic("User:*", All, "*", Literal)]);
    assert!(can(&a, "admin", Write, "t"));
    assert!(can(&a, "CN=ops,O=Acme", Write, "t"));
    assert!(!can(&a, "alice", Write, "t"));
    assert!(!can(&a, "Admin", Write, "t"), "names are case-sensitive");
}

#[test]
fn super_users_parse_as_kafka() {
    let users = settings::parse_super_users(" User:a ;;User:CN=x,OU=y;").expect("valid");
    assert_eq!(
        users.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["User:a", "User:CN=x,OU=y"]
    );
    assert!(settings::parse_super_users("admin").is_err());
    assert!(settings::parse_super_users("User:").is_err());
}

#[test]
fn denials_are_counted() {
    let a = with_acls(vec![allow_topic("User:alice", Read, "t", Literal)]);
    let s = Session::new(
        Some(SocketAddr::new(ALICE_HOST, 5000)),
        SecurityProtocol::Plaintext,
        user("alice"),
    );
    let counter = match &a.inner.enabled {
        Some(e) => e.denied.clone(),
        None => unreachable!("enabled"),
    };
    assert!(a.authorize(&s, Read, ResourceType::Topic, "t"));
    assert!(!a.authorize(&s, Write, ResourceType::Topic, "t"));
    assert!(!a.authorize(&s, Write, ResourceType::Topic, "t"));
    assert_eq!(counter.with_label_values(&["WRITE", "TOPIC"]).get(), 2);
    assert_eq!(counter.with_label_values(&["READ", "TOPIC"]).get(), 0);
}

#[test]
fn authorized_operations_lists_the_allowed_ones() {
    let a = with_acls(vec![
        allow_topic("User:alice", Read, "t", Literal),
        allow_topic("User:alice", AlterConfigs, "t", Literal),
    ]);
    let s = Session::new(
        Some(SocketAddr::new(ALICE_HOST, 1)),
        SecurityProtocol::Plaintext,
        user("alice"),
    );
    let bits = a.authorized_operations(&s, ResourceType::Topic, "t");
    let expect = [Read, Describe, DescribeConfigs, AlterConfigs]
        .iter()
        .fold(0, |b, op| b | 1 << op.code());
    assert_eq!(bits, expect);
}

#[test]
fn authorize_any_follows_kafkas_dominance_rules() {
    let s = |name: &str| {
        Session::new(
            Some(SocketAddr::new(ALICE_HOST, 1)),
            SecurityProtocol::Plaintext,
            user(name),
        )
    };
    let any = |a: &Authorizer, who: &str| a.authorize_any(&s(who), Write, ResourceType::Topic);
    // One literal allow suffices.
    assert!(any(
        &with_acls(vec![allow_topic("User:alice", Write, "t", Literal)]),
        "alice"
    ));
    assert!(!any(
        &with_acls(vec![allow_topic("User:alice", Read, "t", Literal)]),
        "alice"
    ));
    // A literal allow dominated by a deny of the same name or a prefix of it.
    assert!(!any(
        &with_acls(vec![
            allow_topic("User:alice", Write, "t", Literal),
            deny_topic("User:alice", Write, "t", Literal),
        ]),
        "alice"
    ));
    assert!(!any(
        &with_acls(vec![
            allow_topic("User:alice", Write, "app-t", Literal),
            deny_topic("User:alice", Write, "app", Prefixed),
        ]),
        "alice"
    ));
    // A deny elsewhere does not dominate.
    assert!(any(
        &with_acls(vec![
            allow_topic("User:alice", Write, "app-t", Prefixed),
            deny_topic("User:alice", Write, "app-t-x", Prefixed),
        ]),
        "alice"
    ));
    // A literal wildcard deny denies, a wildcard allow allows.
    assert!(!any(
        &with_acls(vec![
            allow_topic("User:alice", Write, "t", Literal),
            deny_topic("User:*", Write, "*", Literal),
        ]),
        "alice"
    ));
    assert!(any(
        &with_acls(vec![allow_topic("User:*", All, "*", Literal)]),
        "bob"
    ));
}

#[test]
fn a_later_version_wins_an_install_race() {
    let a = with_acls(vec![allow_topic("User:alice", Read, "t", Literal)]);
    a.install(0, vec![]);
    assert!(can(&a, "alice", Read, "t"), "version 0 is older than 1");
    a.install(2, vec![]);
    assert!(!can(&a, "alice", Read, "t"));
    assert_eq!(a.version(), Some(2));
}
