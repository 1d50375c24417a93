//! ACL bindings: created (idempotently, refused when not concrete),
//! described and deleted with Kafka's filter rules, and the version that
//! tells agents to read them again.

use floe_metadata::acls::{AclOperation, AclPermission, PatternType, ResourceType};
use floe_metadata::{AclBinding, AclBindingFilter, MetadataError};

use crate::backends::Backend;

fn acl(name: &str, pattern: PatternType, principal: &str, op: AclOperation) -> AclBinding {
    AclBinding {
        resource_type: ResourceType::Topic,
        resource_name: name.to_string(),
        pattern_type: pattern,
        principal: principal.to_string(),
        host: "*".to_string(),
        operation: op,
        permission: AclPermission::Allow,
    }
}

fn topic_filter(name: Option<&str>, pattern: PatternType) -> AclBindingFilter {
    AclBindingFilter {
        resource_type: ResourceType::Topic,
        resource_name: name.map(str::to_string),
        pattern_type: pattern,
        ..AclBindingFilter::any()
    }
}

pub async fn acls_are_created_described_and_deleted(backend: &dyn Backend) -> anyhow::Result<()> {
    use AclOperation::{Read, Write};
    use PatternType::{Literal, Prefixed};
    let store = backend.open().await?;
    let (v0, none) = store.acls().await?;
    assert!(none.is_empty());
    assert_eq!(store.acl_version().await?, v0);

    let literal = acl("orders", Literal, "User:alice", Read);
    let prefixed = acl("ord", Prefixed, "User:bob", Write);
    let wildcard = acl("*", Literal, "User:*", Read);
    let other = acl("payments", Literal, "User:alice", Read);
    let mut group = acl("orders", Literal, "User:alice", Read);
    group.resource_type = ResourceType::Group;
    let mut deny = literal.clone();
    deny.permission = AclPermission::Deny;
    store
        .create_acls(&[
            literal.clone(),
            prefixed.clone(),
            wildcard.clone(),
            other.clone(),
            group.clone(),
            deny.clone(),
        ])
        .await?;
    let v1 = store.acl_version().await?;
    assert!(v1 > v0, "a change moves the version");
    let (at, all) = store.acls().await?;
    assert_eq!(at, v1);
    assert_eq!(all.len(), 6);

    // Creating an existing binding succeeds and changes nothing.
    store.create_acls(std::slice::from_ref(&literal)).await?;
    assert_eq!(store.acl_version().await?, v1, "nothing new: same version");
    assert_eq!(store.acls().await?.1.len(), 6);

    // MATCH: the literal name, the wildcard, the prefix; not other names
    // or types.
    let mut matched = store
        .describe_acls(&topic_filter(Some("orders"), PatternType::Match))
        .await?;
    matched.sort();
    let mut want = vec![
        literal.clone(),
        deny.clone(),
        prefixed.clone(),
        wildcard.clone(),
    ];
    want.sort();
    assert_eq!(matched, want);
    // ANY with a name: that exact name, any pattern type.
    let exact = store
        .describe_acls(&topic_filter(Some("ord"), PatternType::Any))
        .await?;
    assert_eq!(exact, vec![prefixed.clone()]);
    // Pattern type only.
    let prefixes = store.describe_acls(&topic_filter(None, Prefixed)).await?;
    assert_eq!(prefixes, vec![prefixed.clone()]);
    // Entry filters.
    let mut by_principal = AclBindingFilter::any();
    by_principal.principal = Some("User:alice".into());
    by_principal.permission = AclPermission::Allow;
    assert_eq!(store.describe_acls(&by_principal).await?.len(), 3);

    // Delete: per filter what it matched, a binding under every filter
    // that matched it; a filter matching nothing answers nothing.
    let mut alice_orders = topic_filter(Some("orders"), Literal);
    alice_orders.principal = Some("User:alice".into());
    let results = store
        .delete_acls(&[
            alice_orders,
            topic_filter(Some("orders"), PatternType::Match),
            topic_filter(Some("nothing-here"), Literal),
        ])
        .await?;
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].len(), 2, "{:?}", results[0]);
    assert_eq!(results[1].len(), 4, "{:?}", results[1]);
    assert!(results[2].is_empty());
    let v2 = store.acl_version().await?;
    assert!(v2 > v1);
    let mut left = store.acls().await?.1;
    left.sort();
    let mut want = vec![other, group];
    want.sort();
    assert_eq!(left, want);

    // Deleting nothing leaves the version alone.
    store
        .delete_acls(&[topic_filter(Some("orders"), Literal)])
        .await?;
    assert_eq!(store.acl_version().await?, v2);
    Ok(())
}

pub async fn malformed_acls_are_refused(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let good = acl("t", PatternType::Literal, "User:a", AclOperation::Read);
    let mut bads = Vec::new();
    let mut bad = good.clone();
    bad.pattern_type = PatternType::Match;
    bads.push(bad);
    let mut bad = good.clone();
    bad.resource_type = ResourceType::Any;
    bads.push(bad);
    let mut bad = good.clone();
    bad.operation = AclOperation::Any;
    bads.push(bad);
    let mut bad = good.clone();
    bad.permission = AclPermission::Any;
    bads.push(bad);
    let mut bad = good.clone();
    bad.resource_name = String::new();
    bads.push(bad);
    let mut bad = good.clone();
    bad.principal = "nocolon".into();
    bads.push(bad);
    for bad in bads {
        let err = store
            .create_acls(&[good.clone(), bad.clone()])
            .await
            .expect_err("refused");
        assert!(matches!(err, MetadataError::Invalid(_)), "{bad:?}: {err}");
    }
    assert!(
        store.acls().await?.1.is_empty(),
        "a refused batch adds nothing"
    );
    Ok(())
}

/// A second store on the same database sees the ACLs and the version
/// another wrote (how agents share them).
pub async fn acls_are_shared_between_stores(backend: &dyn Backend) -> anyhow::Result<()> {
    let first = backend.open().await?;
    let second = backend.open().await?;
    let before = second.acl_version().await?;
    first
        .create_acls(&[acl(
            "t",
            PatternType::Prefixed,
            "User:a",
            AclOperation::Write,
        )])
        .await?;
    assert!(second.acl_version().await? > before);
    assert_eq!(second.acls().await?.1.len(), 1);
    Ok(())
}
