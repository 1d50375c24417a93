//! The authorizer: Kafka's `StandardAuthorizer` over the ACLs kept in the
//! metadata store. Every request handler asks it whether the connection's
//! principal, from its host, may do an operation on a resource; super users
//! may do everything; without an authorizer configured (`--authorizer`
//! unset) everything is allowed, as on a Kafka broker without
//! `authorizer.class.name`.
//!
//! The ACLs are cluster-wide rows; each agent holds them all, indexed
//! ([`index::AclIndex`]), and replaces the index when the store's ACL
//! version moves (`jobs/acls.rs`), at once on the agent that changed them.

pub mod index;
pub mod settings;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use prometheus::{IntCounterVec, IntGauge};

pub use floe_metadata::acls::{AclOperation, AclPermission, PatternType, ResourceType};
pub use settings::AuthorizerSettings;

use crate::kafka::principal::Principal;
use crate::kafka::session::Session;
use index::{AclIndex, Decision, Requester, canonical};

/// The one cluster resource's name.
pub const CLUSTER_RESOURCE: &str = "kafka-cluster";

/// The operations each resource type supports (Kafka's
/// `AclEntry.supportedOperations`), in code order.
pub fn supported_operations(resource: ResourceType) -> &'static [AclOperation] {
    use AclOperation::*;
    match resource {
        ResourceType::Topic => &[
            Read,
            Write,
            Create,
            Delete,
            Alter,
            Describe,
            DescribeConfigs,
            AlterConfigs,
        ],
        ResourceType::Group => &[Read, Delete, Describe, DescribeConfigs, AlterConfigs],
        ResourceType::Cluster => &[
            Create,
            Alter,
            Describe,
            ClusterAction,
            DescribeConfigs,
            AlterConfigs,
            IdempotentWrite,
        ],
        ResourceType::TransactionalId => &[Write, Describe, TwoPhaseCommit],
        ResourceType::DelegationToken => &[Describe],
        ResourceType::User => &[CreateTokens, DescribeTokens],
        ResourceType::Any | ResourceType::Unknown => &[],
    }
}

/// Decides requests; cheap to clone (an `Arc` inside).
#[derive(Debug, Clone)]
pub struct Authorizer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// `None`: no authorizer configured.
    enabled: Option<Enabled>,
}

#[derive(Debug)]
struct Enabled {
    settings: AuthorizerSettings,
    /// The ACLs in force and the store version they were read at;
    /// replaced whole, so a check holds the lock for a pointer copy.
    acls: RwLock<(i64, Arc<AclIndex>)>,
    denied: IntCounterVec,
    count: IntGauge,
}

impl Authorizer {
    /// No authorizer configured (`--authorizer` unset): everything is allowed.
    pub fn disabled() -> Self {
        Self {
            inner: Arc::new(Inner { enabled: None }),
        }
    }

    /// Kafka's `StandardAuthorizer` with no ACLs yet; denials are counted
    /// in `denied` (by operation and resource type), the ACLs held in
    /// `count`.
    pub fn new(settings: AuthorizerSettings, denied: IntCounterVec, count: IntGauge) -> Self {
        Self {
            inner: Arc::new(Inner {
                enabled: Some(Enabled {
                    settings,
                    acls: RwLock::new((i64::MIN, Arc::new(AclIndex::default()))),
                    denied,
                    count,
                }),
            }),
        }
    }

    /// Whether an authorizer is configured.
    pub fn is_enabled(&self) -> bool {
        self.inner.enabled.is_some()
    }

    /// Puts the ACLs read at store version `version` in force, unless a
    /// later version is already (two refreshes may race).
    pub fn install(&self, version: i64, acls: Vec<floe_metadata::AclBinding>) {
        let Some(enabled) = &self.inner.enabled else {
            return;
        };
        let index = Arc::new(AclIndex::new(acls));
        let mut held = match enabled.acls.write() {
            Ok(held) => held,
            Err(poisoned) => poisoned.into_inner(),
        };
        if version >= held.0 {
            enabled.count.set(index.len() as i64);
            *held = (version, index);
        }
    }

    /// The store version of the ACLs in force (`i64::MIN` before the
    /// first read; `None` without an authorizer).
    pub fn version(&self) -> Option<i64> {
        let enabled = self.inner.enabled.as_ref()?;
        Some(enabled.snapshot().0)
    }

    /// Every ACL in force (empty without an authorizer).
    pub fn acls(&self) -> Arc<AclIndex> {
        match &self.inner.enabled {
            Some(enabled) => enabled.snapshot().1,
            None => Arc::new(AclIndex::default()),
        }
    }

    /// Kafka's `authorize` for one action: super users always; deny beats allow;
    /// literal, prefixed and wildcard (`*`) resource patterns; principal `User:*`
    /// and host `*` wildcards; DESCRIBE implied by READ/WRITE/DELETE/ALTER and
    /// DESCRIBE_CONFIGS by ALTER_CONFIGS; ALL allows/denies every operation.
    /// A denial is counted in `floe_authz_denied_total`.
    pub fn authorize(
        &self,
        session: &Session,
        op: AclOperation,
        resource: ResourceType,
        name: &str,
    ) -> bool {
        let Some(enabled) = &self.inner.enabled else {
            return true;
        };
        let allowed = enabled.check(&requester(session), op, resource, name);
        if !allowed {
            enabled
                .denied
                .with_label_values(&[op.name(), resource.name()])
                .inc();
        }
        allowed
    }

    /// [`Authorizer::authorize`] for a principal and address rather than
    /// a session, without counting a denial (tests, benchmarks, tools).
    pub fn check(
        &self,
        principal: &Principal,
        host: Option<IpAddr>,
        op: AclOperation,
        resource: ResourceType,
        name: &str,
    ) -> bool {
        let who = Requester {
            principal,
            host: host.map(canonical),
        };
        match &self.inner.enabled {
            Some(enabled) => enabled.check(&who, op, resource, name),
            None => true,
        }
    }

    /// Kafka's `authorizeByResourceType`: may the principal do `op` on at least one
    /// resource of this type (used by InitProducerId without a transactional id,
    /// for IDEMPOTENT_WRITE's fallback to topic WRITE).
    pub fn authorize_any(
        &self,
        session: &Session,
        op: AclOperation,
        resource: ResourceType,
    ) -> bool {
        let Some(enabled) = &self.inner.enabled else {
            return true;
        };
        let who = requester(session);
        // Kafka first checks one hard-coded name, so that super users (and
        // allow.everyone.if.no.acl.found) pass whatever DENY ACLs say.
        if enabled.check(&who, op, resource, "hardcode") {
            return true;
        }
        let allowed = enabled.snapshot().1.any_allowed(&who, op, resource);
        if !allowed {
            enabled
                .denied
                .with_label_values(&[op.name(), resource.name()])
                .inc();
        }
        allowed
    }

    /// The `authorized_operations` bitfield (bit n = operation code n) of one resource,
    /// over the operations `resource` supports (see kafka/authorized_operations.rs).
    /// Not counted as denials (Kafka does not log these either).
    pub fn authorized_operations(
        &self,
        session: &Session,
        resource: ResourceType,
        name: &str,
    ) -> i32 {
        let ops = supported_operations(resource);
        let Some(enabled) = &self.inner.enabled else {
            return ops.iter().fold(0, |bits, op| bits | 1 << op.code());
        };
        let who = requester(session);
        ops.iter()
            .filter(|op| enabled.check(&who, **op, resource, name))
            .fold(0, |bits, op| bits | 1 << op.code())
    }
}

impl Enabled {
    fn snapshot(&self) -> (i64, Arc<AclIndex>) {
        match self.acls.read() {
            Ok(held) => (held.0, held.1.clone()),
            Err(poisoned) => {
                let held = poisoned.into_inner();
                (held.0, held.1.clone())
            }
        }
    }

    fn check(
        &self,
        who: &Requester<'_>,
        op: AclOperation,
        resource: ResourceType,
        name: &str,
    ) -> bool {
        if self.settings.is_super_user(who.principal) {
            return true;
        }
        match self.snapshot().1.decide(who, op, resource, name) {
            Decision::Allowed => true,
            Decision::Denied => false,
            Decision::NoAcls => self.settings.allow_everyone_if_no_acl_found,
        }
    }
}

/// The session as the authorizer sees it.
fn requester(session: &Session) -> Requester<'_> {
    Requester {
        principal: session.principal(),
        host: session.peer.map(|p| canonical(p.ip())),
    }
}
