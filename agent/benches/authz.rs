//! The authorizer on the hot path: Produce and Fetch check every partition
//! of a request, so one check must cost a few hash lookups whatever the
//! number of ACLs. 10,000 ACLs: literal topic ACLs for 100 users, prefixed
//! ones, group ACLs, a wildcard deny; checks that a literal ACL allows, that
//! a prefix allows, that nothing names (denied), and of a super user.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use floe_agent::authz::{
    AclOperation, AclPermission, Authorizer, AuthorizerSettings, PatternType, ResourceType,
};
use floe_agent::kafka::principal::Principal;
use floe_metadata::AclBinding;
use prometheus::{IntCounterVec, IntGauge, Opts};

/// ACLs in force.
const ACLS: usize = 10_000;
/// Checks per measured iteration.
const CHECKS: u64 = 1_000;

fn acl(
    rt: ResourceType,
    name: String,
    pt: PatternType,
    principal: String,
    op: AclOperation,
    perm: AclPermission,
) -> AclBinding {
    AclBinding {
        resource_type: rt,
        resource_name: name,
        pattern_type: pt,
        principal,
        host: "*".into(),
        operation: op,
        permission: perm,
    }
}

fn authorizer() -> Authorizer {
    let mut acls = Vec::with_capacity(ACLS);
    for i in 0..6_000 {
        acls.push(acl(
            ResourceType::Topic,
            format!("topic-{i}"),
            PatternType::Literal,
            format!("User:user-{}", i % 100),
            AclOperation::Write,
            AclPermission::Allow,
        ));
    }
    for i in 0..2_000 {
        acls.push(acl(
            ResourceType::Topic,
            format!("team-{i}-"),
            PatternType::Prefixed,
            format!("User:user-{}", i % 100),
            AclOperation::Read,
            AclPermission::Allow,
        ));
    }
    for i in 0..1_999 {
        acls.push(acl(
            ResourceType::Group,
            format!("group-{i}"),
            PatternType::Literal,
            format!("User:user-{}", i % 100),
            AclOperation::Read,
            AclPermission::Allow,
        ));
    }
    acls.push(acl(
        ResourceType::Topic,
        "*".into(),
        PatternType::Literal,
        "User:mallory".into(),
        AclOperation::All,
        AclPermission::Deny,
    ));
    assert_eq!(acls.len(), ACLS);
    let denied = IntCounterVec::new(
        Opts::new("denied", "bench"),
        &["operation", "resource_type"],
    )
    .expect("counter");
    let count = IntGauge::new("acls", "bench").expect("gauge");
    let a = Authorizer::new(
        AuthorizerSettings {
            super_users: vec![Principal::user("admin")],
            allow_everyone_if_no_acl_found: false,
        },
        denied,
        count,
    );
    a.install(1, acls);
    a
}

fn bench(c: &mut Criterion) {
    let a = authorizer();
    let host = Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)));
    let user = Principal::user("user-7");
    let admin = Principal::user("admin");
    let names: Vec<String> = (0..CHECKS)
        .map(|i| format!("topic-{}", 7 + 100 * (i % 60)))
        .collect();
    let prefixed: Vec<String> = (0..CHECKS)
        .map(|i| format!("team-{}-events-{i}", 7 + 100 * (i % 20)))
        .collect();
    let missing: Vec<String> = (0..CHECKS).map(|i| format!("unknown-{i}")).collect();
    assert!(a.check(
        &user,
        host,
        AclOperation::Write,
        ResourceType::Topic,
        &names[0]
    ));
    assert!(a.check(
        &user,
        host,
        AclOperation::Read,
        ResourceType::Topic,
        &prefixed[0]
    ));
    assert!(!a.check(
        &user,
        host,
        AclOperation::Read,
        ResourceType::Topic,
        &missing[0]
    ));

    let mut group = c.benchmark_group("authorize_10k_acls");
    group.throughput(Throughput::Elements(CHECKS));
    let cases: [(&str, &Principal, AclOperation, &[String]); 4] = [
        ("literal_allow", &user, AclOperation::Write, &names),
        ("prefixed_allow", &user, AclOperation::Read, &prefixed),
        ("no_acl_denied", &user, AclOperation::Read, &missing),
        ("super_user", &admin, AclOperation::Write, &names),
    ];
    for (name, principal, op, topics) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut allowed = 0u32;
                for topic in topics {
                    allowed += u32::from(a.check(
                        black_box(principal),
                        host,
                        op,
                        ResourceType::Topic,
                        black_box(topic),
                    ));
                }
                allowed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
