//! Shared pieces of the differential tests (`tests/tests/differential.rs`): the same
//! raw requests against Apache Kafka 4.x (one KRaft broker per test binary,
//! [`crate::kafka_ref`]) and a fresh Floe agent, and the helpers that make and
//! summarise them so the answers compare field by field.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::{
    CreateTopicsRequest, DescribeGroupsRequest, GroupId, JoinGroupRequest, JoinGroupResponse,
};
use kafka_protocol::protocol::StrBytes;

use crate::groups::RawGroupClient;
use crate::raw::{self, RawClient, topic_name};
use crate::{Agent, kafka_ref, unique_topic};

/// Kafka error codes the scenarios check on Kafka's side.
pub mod code {
    pub const NONE: i16 = 0;
    pub const OFFSET_OUT_OF_RANGE: i16 = 1;
    pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    pub const INVALID_TOPIC_EXCEPTION: i16 = 17;
    pub const INVALID_REQUIRED_ACKS: i16 = 21;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    pub const TOPIC_ALREADY_EXISTS: i16 = 36;
    pub const INVALID_PARTITIONS: i16 = 37;
    pub const INVALID_REPLICATION_FACTOR: i16 = 38;
    pub const MEMBER_ID_REQUIRED: i16 = 79;
}

/// DescribeGroups v5 (authorized operations, no per-group error for unknown groups).
pub const DESCRIBE_GROUPS: i16 = 5;
/// OffsetFetch v7 (one group, require-stable flag).
pub const OFFSET_FETCH: i16 = 7;

pub fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

/// Runs `scenario` against Apache Kafka and against a fresh Floe agent; returns both
/// answers, `None` when Kafka is not available (the test was skipped).
pub fn both<T>(test: &str, scenario: impl Fn(SocketAddr) -> T) -> Option<(T, T)> {
    let kafka = kafka_ref::shared(test)?;
    let agent = Agent::builder()
        .auto_create(false)
        .partitions(4)
        .start()
        .expect("start agent");
    let reference = scenario(kafka.addr());
    let floe = scenario(agent.kafka_addr());
    Some((reference, floe))
}

/// Creates `topic` with `partitions` and replication factor 1; fails unless it worked.
/// Then waits until Metadata shows a leader for every partition: Kafka answers
/// CreateTopics before its broker has applied the new partitions (a Produce right
/// after it gets NOT_LEADER_OR_FOLLOWER), Floe once they exist.
pub fn create(addr: SocketAddr, topic: &str, partitions: i32) {
    let mut client = RawClient::connect(addr).expect("connect");
    let code = client
        .create_topic(topic, partitions)
        .expect("CreateTopics");
    assert_eq!(code, code::NONE, "creating {topic}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metadata = client.metadata(Some(&[topic]), false).expect("Metadata");
        let ready = metadata.topics.first().is_some_and(|t| {
            t.error_code == code::NONE
                && t.partitions.len() == partitions as usize
                && t.partitions.iter().all(|p| p.leader_id.0 >= 0)
        });
        // Kafka's metadata cache knows the leader a moment before its replica manager
        // leads the partition; ListOffsets answers once it does.
        let led = ready
            && (0..partitions).all(|p| {
                client
                    .list_offsets(topic, p, -1)
                    .is_ok_and(|answer| answer.error_code == code::NONE)
            });
        if led {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{topic} has no leaders: {metadata:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Produces one batch to `partition` and fails unless it was stored.
pub fn produce_ok(client: &mut RawClient, topic: &str, partition: i32, batch: Bytes) -> i64 {
    let response = client
        .produce_one(topic, partition, batch)
        .expect("Produce");
    assert_eq!(
        response.error_code,
        code::NONE,
        "Produce to {topic}/{partition}"
    );
    response.base_offset
}

/// CreateTopics of one topic with `partitions` and `replication`; its error code.
pub fn create_code(client: &mut RawClient, name: &str, partitions: i32, replication: i16) -> i16 {
    let request = CreateTopicsRequest::default()
        .with_topics(vec![
            CreatableTopic::default()
                .with_name(topic_name(name))
                .with_num_partitions(partitions)
                .with_replication_factor(replication),
        ])
        .with_timeout_ms(10_000);
    let response = client
        .request(raw::versions::CREATE_TOPICS, &request)
        .expect("CreateTopics");
    response.topics.first().expect("a topic result").error_code
}

/// What a group answer shows once member ids are reduced to whether there was one.
pub fn join_summary(response: &JoinGroupResponse) -> (i16, i32, String, bool, bool, usize) {
    (
        response.error_code,
        response.generation_id,
        response
            .protocol_name
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        !response.member_id.is_empty(),
        response.leader == response.member_id,
        response.members.len(),
    )
}

/// A JoinGroup of `group` offering `protocols` (each with its name as metadata).
pub fn join_with(group: &str, member_id: &str, protocols: &[&str]) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_session_timeout_ms(30_000)
        .with_rebalance_timeout_ms(30_000)
        .with_member_id(s(member_id))
        .with_protocol_type(s("consumer"))
        .with_protocols(
            protocols
                .iter()
                .map(|name| {
                    JoinGroupRequestProtocol::default()
                        .with_name(s(name))
                        .with_metadata(Bytes::from(format!("meta-{name}")))
                })
                .collect(),
        )
}

/// Two members join one group with overlapping protocol lists; the group picks the one
/// protocol both support, the leader hands out assignments, both get theirs.
pub fn two_member_rebalance(addr: SocketAddr, first: &[&str], second: &[&str]) -> Vec<String> {
    let group = unique_topic("diff-group");
    let mut m1 = RawGroupClient::connect(addr, &group).expect("connect m1");
    let mut m2 = RawGroupClient::connect(addr, &group).expect("connect m2");
    let v = crate::groups::versions::JOIN_GROUP;
    let mut log = Vec::new();

    let request = join_with(&group, "", first);
    let j = m1.client.request(v, &request).expect("join m1");
    log.push(format!("m1 first join: {:?}", join_summary(&j)));
    let m1_id = j.member_id.to_string();
    let request = join_with(&group, &m1_id, first);
    let j1 = m1.client.request(v, &request).expect("join m1 again");
    log.push(format!("m1 join: {:?}", join_summary(&j1)));
    let sync = m1
        .sync(
            j1.generation_id,
            &m1_id,
            vec![(m1_id.clone(), Bytes::from_static(b"all"))],
        )
        .expect("sync m1");
    log.push(format!(
        "m1 sync: {} {:?}",
        sync.error_code, sync.assignment
    ));

    let request = join_with(&group, "", second);
    let j = m2.client.request(v, &request).expect("join m2");
    log.push(format!("m2 first join: {:?}", join_summary(&j)));
    let m2_id = j.member_id.to_string();
    let request = join_with(&group, &m2_id, second);
    let pending = m2.client.send_request(v, &request).expect("send join m2");

    wait_for_state(addr, &group, "PreparingRebalance");
    let code = m1.heartbeat(j1.generation_id, &m1_id).expect("heartbeat");
    log.push(format!("m1 heartbeat during rebalance: {code}"));
    let request = join_with(&group, &m1_id, first);
    let j1 = m1.client.request(v, &request).expect("rejoin m1");
    let j2 = m2
        .client
        .receive_response::<JoinGroupRequest>(pending, v)
        .expect("join m2 answer");
    log.push(format!("m1 rejoin: {:?}", join_summary(&j1)));
    log.push(format!("m2 join: {:?}", join_summary(&j2)));
    let leader_members: Vec<String> = j1
        .members
        .iter()
        .map(|m| format!("{:?}", m.metadata))
        .collect();
    log.push(format!("metadata seen by the leader: {leader_members:?}"));

    let generation = j1.generation_id;
    let pending = m2
        .client
        .send_request(
            crate::groups::versions::SYNC_GROUP,
            &kafka_protocol::messages::SyncGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_generation_id(generation)
                .with_member_id(s(&m2_id)),
        )
        .expect("send sync m2");
    let s1 = m1
        .sync(
            generation,
            &m1_id,
            vec![
                (m1_id.clone(), Bytes::from_static(b"for-m1")),
                (m2_id.clone(), Bytes::from_static(b"for-m2")),
            ],
        )
        .expect("sync m1");
    let s2 = m2
        .client
        .receive_response::<kafka_protocol::messages::SyncGroupRequest>(
            pending,
            crate::groups::versions::SYNC_GROUP,
        )
        .expect("sync m2 answer");
    log.push(format!(
        "syncs: {} {:?} {:?} / {} {:?} {:?}",
        s1.error_code,
        s1.protocol_name,
        s1.assignment,
        s2.error_code,
        s2.protocol_name,
        s2.assignment
    ));

    // Heartbeats: current generation, a stale one, an unknown member.
    log.push(format!(
        "heartbeats: {} {} {}",
        m1.heartbeat(generation, &m1_id).expect("heartbeat"),
        m1.heartbeat(generation - 1, &m1_id).expect("heartbeat"),
        m1.heartbeat(generation, "no-such-member")
            .expect("heartbeat"),
    ));
    log.push(describe_group(addr, &group));
    log
}

/// Waits until DescribeGroups shows `group` in `state`.
pub fn wait_for_state(addr: SocketAddr, group: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut client = RawClient::connect(addr).expect("connect");
    loop {
        let request = DescribeGroupsRequest::default().with_groups(vec![GroupId(s(group))]);
        let response = client
            .request(DESCRIBE_GROUPS, &request)
            .expect("DescribeGroups");
        let now = response
            .groups
            .first()
            .map(|g| g.group_state.to_string())
            .unwrap_or_default();
        if now == state {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "group {group} is {now:?}, never {state:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// DescribeGroups of one group, member ids left out.
pub fn describe_group(addr: SocketAddr, group: &str) -> String {
    let mut client = RawClient::connect(addr).expect("connect");
    let request = DescribeGroupsRequest::default().with_groups(vec![GroupId(s(group))]);
    let response = client
        .request(DESCRIBE_GROUPS, &request)
        .expect("DescribeGroups");
    let g = response.groups.first().expect("a group");
    let mut members: Vec<String> = g
        .members
        .iter()
        .map(|m| {
            format!(
                "{}:{:?}:{:?}",
                m.client_id, m.member_metadata, m.member_assignment
            )
        })
        .collect();
    // Kafka lists members in no particular order.
    members.sort();
    format!(
        "describe: error {} state {:?} protocol type {:?} protocol {:?} members {members:?}",
        g.error_code, g.group_state, g.protocol_type, g.protocol_data
    )
}
