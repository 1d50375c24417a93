//! Authorization of requests: what each API checks, as Kafka's `KafkaApis`
//! does, against the agent's [`Authorizer`] (`--authorizer acl`).
//!
//! Every handler asks through an [`Access`], made once per request at
//! admission. With no authorizer configured an `Access` is empty and every
//! check is `true` without a lookup, so a cluster without ACLs pays one
//! branch per check. With one, each check is one lookup per resource named
//! in the request (a topic, a group, a transactional id), never per record
//! or per partition.
//!
//! The checks, per API (Kafka's table; `docs/security.md` has it for users):
//!
//! | API | Operation on resource | Refused with |
//! |---|---|---|
//! | Produce | WRITE topic; WRITE transactional id for transactional batches | TOPIC_ / TRANSACTIONAL_ID_AUTHORIZATION_FAILED |
//! | Fetch (consumer) | READ topic | TOPIC_AUTHORIZATION_FAILED per partition |
//! | ListOffsets, OffsetForLeaderEpoch | DESCRIBE topic | TOPIC_AUTHORIZATION_FAILED per partition |
//! | Metadata, DescribeTopicPartitions | DESCRIBE topic (hidden when listing all); CREATE cluster or topic to auto-create | TOPIC_AUTHORIZATION_FAILED |
//! | JoinGroup, SyncGroup, Heartbeat, LeaveGroup | READ group | GROUP_AUTHORIZATION_FAILED |
//! | OffsetCommit | READ group, READ topic | GROUP_ / TOPIC_AUTHORIZATION_FAILED per partition |
//! | OffsetFetch | DESCRIBE group, DESCRIBE topic (unreadable topics left out of "all") | GROUP_ / TOPIC_AUTHORIZATION_FAILED |
//! | OffsetDelete | DELETE group, READ topic | GROUP_ / TOPIC_AUTHORIZATION_FAILED |
//! | DescribeGroups | DESCRIBE group | GROUP_AUTHORIZATION_FAILED per group |
//! | ListGroups | DESCRIBE cluster, else only groups it may DESCRIBE | (filtered) |
//! | DeleteGroups | DELETE group | GROUP_AUTHORIZATION_FAILED per group |
//! | FindCoordinator | DESCRIBE group / transactional id | GROUP_ / TRANSACTIONAL_ID_AUTHORIZATION_FAILED |
//! | CreateTopics | CREATE cluster or topic (DESCRIBE_CONFIGS to see configs) | TOPIC_AUTHORIZATION_FAILED |
//! | DeleteTopics, DeleteRecords | DELETE topic | TOPIC_AUTHORIZATION_FAILED |
//! | CreatePartitions | ALTER topic | TOPIC_AUTHORIZATION_FAILED |
//! | DescribeConfigs / AlterConfigs / IncrementalAlterConfigs | DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, the cluster for brokers | TOPIC_ / CLUSTER_AUTHORIZATION_FAILED per resource |
//! | DescribeCluster, DescribeLogDirs, DescribeUserScramCredentials, ListConfigResources | DESCRIBE cluster | CLUSTER_AUTHORIZATION_FAILED |
//! | ElectLeaders, AlterPartitionReassignments, AlterReplicaLogDirs, AlterUserScramCredentials | ALTER cluster | CLUSTER_AUTHORIZATION_FAILED |
//! | ListPartitionReassignments, DescribeQuorum | DESCRIBE cluster | CLUSTER_AUTHORIZATION_FAILED |
//! | DescribeClientQuotas / AlterClientQuotas | DESCRIBE_CONFIGS / ALTER_CONFIGS cluster | CLUSTER_AUTHORIZATION_FAILED |
//! | DescribeProducers | READ topic | TOPIC_AUTHORIZATION_FAILED per partition |
//! | InitProducerId | WRITE transactional id; without one IDEMPOTENT_WRITE cluster or WRITE on some topic | TRANSACTIONAL_ID_ / CLUSTER_AUTHORIZATION_FAILED |
//! | AddPartitionsToTxn | WRITE transactional id, WRITE topic | TRANSACTIONAL_ID_ / TOPIC_AUTHORIZATION_FAILED |
//! | AddOffsetsToTxn | WRITE transactional id, READ group | TRANSACTIONAL_ID_ / GROUP_AUTHORIZATION_FAILED |
//! | TxnOffsetCommit | WRITE transactional id, READ group, READ topic | per partition |
//! | EndTxn | WRITE transactional id | TRANSACTIONAL_ID_AUTHORIZATION_FAILED |
//! | DescribeTransactions | DESCRIBE transactional id | TRANSACTIONAL_ID_AUTHORIZATION_FAILED per id |
//! | ListTransactions | only the ids it may DESCRIBE | (filtered) |
//! | ApiVersions, SaslHandshake, SaslAuthenticate | nothing | |

use std::sync::Arc;

use kafka_protocol::ResponseError;

use super::authorized_operations;
use super::session::Session;
use crate::authz::{AclOperation, Authorizer, CLUSTER_RESOURCE, ResourceType};
use crate::configs::resource_type as config_type;
use crate::context::AgentContext;
use floe_metadata::Topic;

pub use crate::authz::AclOperation as Op;

pub mod cluster;

/// TOPIC_AUTHORIZATION_FAILED.
pub const TOPIC_DENIED: i16 = ResponseError::TopicAuthorizationFailed.code();
/// GROUP_AUTHORIZATION_FAILED.
pub const GROUP_DENIED: i16 = ResponseError::GroupAuthorizationFailed.code();
/// CLUSTER_AUTHORIZATION_FAILED.
pub const CLUSTER_DENIED: i16 = ResponseError::ClusterAuthorizationFailed.code();
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
pub const TXN_DENIED: i16 = ResponseError::TransactionalIdAuthorizationFailed.code();

/// Kafka's message with an authorization error code (its `Errors`
/// default message), for the answers that carry one.
pub fn denied_message(code: i16) -> &'static str {
    match code {
        TOPIC_DENIED => "Topic authorization failed.",
        GROUP_DENIED => "Group authorization failed.",
        TXN_DENIED => "Transactional Id authorization failed.",
        _ => "Cluster authorization failed.",
    }
}

/// What one request may do: the authorizer and who asks, or nothing to
/// check. Cheap to clone, and owned, so a completion that decides later
/// (a Fetch of a session's partitions) can carry it.
#[derive(Clone, Default)]
pub struct Access {
    inner: Option<Arc<Requester>>,
}

/// The authorizer and the requester it judges.
struct Requester {
    authorizer: Authorizer,
    /// The requester's principal and host; only those two matter to the
    /// authorizer, so this is a copy of the connection's, not the session.
    session: Session,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            None => f.write_str("Access(unchecked)"),
            Some(r) => write!(f, "Access({})", r.session.principal()),
        }
    }
}

impl Access {
    /// The access of a request on `session`: empty when no authorizer is
    /// configured.
    pub fn of(ctx: &AgentContext, session: &Session) -> Self {
        Self::new(&ctx.authorizer, session)
    }

    /// The access `authorizer` gives the requester of `session`.
    fn new(authorizer: &Authorizer, session: &Session) -> Self {
        if !authorizer.is_enabled() {
            return Self::default();
        }
        let copy = Session::new(session.peer, session.protocol, session.principal().clone());
        Self {
            inner: Some(Arc::new(Requester {
                authorizer: authorizer.clone(),
                session: copy,
            })),
        }
    }

    /// Whether anything is checked at all.
    pub fn is_checked(&self) -> bool {
        self.inner.is_some()
    }

    /// May the requester do `op` on the resource?
    pub fn allows(&self, op: AclOperation, resource: ResourceType, name: &str) -> bool {
        match &self.inner {
            None => true,
            Some(r) => r.authorizer.authorize(&r.session, op, resource, name),
        }
    }

    /// Whether a listing shows the resource: `op` on it, checked without
    /// counting a denial, as Kafka filters listings without logging them
    /// (Metadata for all topics, ListGroups, ListTransactions).
    pub fn shows(&self, op: AclOperation, resource: ResourceType, name: &str) -> bool {
        match &self.inner {
            None => true,
            Some(r) => r.authorizer.check(
                r.session.principal(),
                r.session.peer.map(|p| p.ip()),
                op,
                resource,
                name,
            ),
        }
    }

    /// `op` on a topic.
    pub fn topic(&self, op: AclOperation, name: &str) -> bool {
        self.allows(op, ResourceType::Topic, name)
    }

    /// `op` on a consumer group.
    pub fn group(&self, op: AclOperation, name: &str) -> bool {
        self.allows(op, ResourceType::Group, name)
    }

    /// `op` on a transactional id.
    pub fn transactional_id(&self, op: AclOperation, name: &str) -> bool {
        self.allows(op, ResourceType::TransactionalId, name)
    }

    /// `op` on the cluster.
    pub fn cluster(&self, op: AclOperation) -> bool {
        self.allows(op, ResourceType::Cluster, CLUSTER_RESOURCE)
    }

    /// May the requester do `op` on at least one resource of the type?
    pub fn any(&self, op: AclOperation, resource: ResourceType) -> bool {
        match &self.inner {
            None => true,
            Some(r) => r.authorizer.authorize_any(&r.session, op, resource),
        }
    }

    /// May the requester create the topic `name` (CREATE on the cluster,
    /// or on the topic)? As Kafka, lacking CREATE on the cluster is not
    /// counted as a denial (the topic's decides).
    pub fn may_create_topic(&self, name: &str) -> bool {
        self.shows(Op::Create, ResourceType::Cluster, CLUSTER_RESOURCE)
            || self.topic(Op::Create, name)
    }

    /// The `authorized_operations` field of a topic.
    pub fn topic_operations(&self, name: &str) -> i32 {
        self.operations(ResourceType::Topic, name, authorized_operations::TOPIC)
    }

    /// The `authorized_operations` field of a group.
    pub fn group_operations(&self, name: &str) -> i32 {
        self.operations(ResourceType::Group, name, authorized_operations::GROUP)
    }

    /// The `authorized_operations` field of the cluster.
    pub fn cluster_operations(&self) -> i32 {
        self.operations(
            ResourceType::Cluster,
            CLUSTER_RESOURCE,
            authorized_operations::CLUSTER,
        )
    }

    fn operations(&self, resource: ResourceType, name: &str, all: i32) -> i32 {
        match &self.inner {
            None => all,
            Some(r) => r
                .authorizer
                .authorized_operations(&r.session, resource, name),
        }
    }

    /// The refusal of `op` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on a config
    /// resource, as Kafka maps config resources to ACL resources: a topic
    /// to itself, a group to itself, brokers, broker loggers and
    /// client-metrics subscriptions to the cluster. `None` when allowed.
    pub fn config_refusal(&self, op: AclOperation, resource_type: i8, name: &str) -> Option<i16> {
        let (allowed, code) = match resource_type {
            config_type::TOPIC => (self.topic(op, name), TOPIC_DENIED),
            config_type::GROUP => (self.group(op, name), GROUP_DENIED),
            _ => (self.cluster(op), CLUSTER_DENIED),
        };
        (!allowed).then_some(code)
    }
}

/// Looks the topic `name` up, creating it when it is missing, `wanted`
/// (the client asked for auto-creation) and the requester may create it
/// (CREATE on the cluster or the topic, checked only for a missing topic,
/// as Kafka checks it). The second value says creation was refused for
/// want of CREATE: Kafka answers that TOPIC_AUTHORIZATION_FAILED.
pub async fn get_or_create_topic(
    ctx: &AgentContext,
    access: &Access,
    name: &str,
    wanted: bool,
) -> (crate::error::Result<Option<Arc<Topic>>>, bool) {
    if !access.is_checked() || !wanted {
        return (ctx.topics.get_or_create(name, wanted).await, false);
    }
    match ctx.topics.get(name).await {
        Ok(None) if ctx.topics.auto_creates() => {
            if access.may_create_topic(name) {
                (ctx.topics.get_or_create(name, true).await, false)
            } else {
                (Ok(None), true)
            }
        }
        other => (other, false),
    }
}

#[cfg(test)]
mod tests {
    use floe_metadata::AclBinding;
    use prometheus::{IntCounterVec, IntGauge, Opts};

    use super::*;
    use crate::authz::{AclPermission, AuthorizerSettings, PatternType};
    use crate::config::listeners::SecurityProtocol;
    use crate::kafka::principal::Principal;

    #[test]
    fn an_empty_access_allows_everything_and_reports_every_operation() {
        let access = Access::default();
        assert!(!access.is_checked());
        assert!(access.topic(Op::Write, "t"));
        assert!(access.group(Op::Read, "g"));
        assert!(access.cluster(Op::Alter));
        assert!(access.any(Op::Write, ResourceType::Topic));
        assert_eq!(access.topic_operations("t"), authorized_operations::TOPIC);
        assert_eq!(access.cluster_operations(), authorized_operations::CLUSTER);
        assert_eq!(access.config_refusal(Op::AlterConfigs, 4, "1"), None);
    }

    fn alice_reading(topic: &str) -> (Access, IntCounterVec) {
        let denied =
            IntCounterVec::new(Opts::new("denied", "test"), &["operation", "resource_type"])
                .expect("counter");
        let authorizer = Authorizer::new(
            AuthorizerSettings::default(),
            denied.clone(),
            IntGauge::new("acls", "test").expect("gauge"),
        );
        authorizer.install(
            1,
            vec![AclBinding {
                resource_type: ResourceType::Topic,
                resource_name: topic.to_string(),
                pattern_type: PatternType::Literal,
                principal: "User:alice".to_string(),
                host: "*".to_string(),
                operation: AclOperation::Read,
                permission: AclPermission::Allow,
            }],
        );
        let session = Session::new(
            Some("127.0.0.1:5000".parse().expect("address")),
            SecurityProtocol::SaslPlaintext,
            Principal::user("alice"),
        );
        (Access::new(&authorizer, &session), denied)
    }

    #[test]
    fn checks_are_the_authorizers_and_config_resources_map_to_kafkas_errors() {
        let (access, _) = alice_reading("orders");
        assert!(access.is_checked());
        assert!(access.topic(Op::Read, "orders"));
        assert!(
            access.topic(Op::Describe, "orders"),
            "READ implies DESCRIBE"
        );
        assert!(!access.topic(Op::Write, "orders"));
        assert!(!access.topic(Op::Read, "payments"));
        assert!(!access.may_create_topic("orders"));
        let bits = access.topic_operations("orders");
        assert_eq!(bits, 1 << 3 | 1 << 8, "READ and DESCRIBE");
        assert_eq!(
            access.config_refusal(Op::DescribeConfigs, 2, "orders"),
            Some(TOPIC_DENIED)
        );
        assert_eq!(
            access.config_refusal(Op::DescribeConfigs, 32, "g"),
            Some(GROUP_DENIED)
        );
        for broker_like in [4, 8, 16] {
            assert_eq!(
                access.config_refusal(Op::AlterConfigs, broker_like, "1"),
                Some(CLUSTER_DENIED)
            );
        }
    }

    #[test]
    fn listings_filter_without_counting_denials() {
        let (access, denied) = alice_reading("orders");
        let count = || denied.with_label_values(&["DESCRIBE", "TOPIC"]).get();
        assert!(!access.shows(Op::Describe, ResourceType::Topic, "payments"));
        assert_eq!(count(), 0, "a filtered listing is not a denial");
        assert!(!access.topic(Op::Describe, "payments"));
        assert_eq!(count(), 1);
    }
}
