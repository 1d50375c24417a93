//! The coordinator over a real (in-memory SQLite) metadata store: routing
//! by ownership, loading, persistence and the compare-and-set that stops a
//! stale coordinator. Timeouts are short; no assertion depends on timing.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bytes::Bytes;
use floe_metadata::{CommittedOffset, MetadataStore, NewTopic};

use super::Coordinator;
use crate::cluster::registry::{Membership, RegistrySettings};
use crate::cluster::routing::{AgentAddress, pick};
use crate::config::listeners::{Advertised, SecurityProtocol};
use crate::groups::types::*;
use crate::groups::{GroupError, GroupSettings, MemberIds};

fn settings() -> GroupSettings {
    GroupSettings {
        initial_rebalance_delay: Duration::from_millis(20),
        member_ids: MemberIds::Sequential(Arc::new(AtomicU64::new(0))),
        ..GroupSettings::default()
    }
}

async fn store() -> Arc<dyn MetadataStore> {
    floe_metadata::open("sqlite::memory:")
        .await
        .expect("open store")
}

async fn agent(store: &Arc<dyn MetadataStore>, port: i32) -> (Membership, Coordinator) {
    let membership = Membership::join(
        store.clone(),
        vec![Advertised {
            protocol: SecurityProtocol::Plaintext,
            host: "127.0.0.1".into(),
            port,
        }],
        None,
        RegistrySettings {
            heartbeat_interval: Duration::from_millis(20),
            agent_timeout: Duration::from_secs(30),
        },
    )
    .await
    .expect("join cluster");
    let coordinator = Coordinator::start(store.clone(), membership.registry(), settings());
    (membership, coordinator)
}

fn join_args(member_id: &str, client: &str) -> JoinArgs {
    JoinArgs {
        member_id: member_id.into(),
        group_instance_id: None,
        client_id: client.into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: 30_000,
        rebalance_timeout_ms: 60_000,
        protocol_type: "consumer".into(),
        protocols: vec![Protocol {
            name: "range".into(),
            metadata: Bytes::from_static(b"sub"),
        }],
        require_known_member_id: true,
        supports_skip_assignment: false,
    }
}

fn sync_args(member_id: &str, generation: i32, assignments: &[(&str, &str)]) -> SyncArgs {
    SyncArgs {
        member_id: member_id.into(),
        group_instance_id: None,
        generation,
        protocol_type: None,
        protocol_name: None,
        assignments: assignments
            .iter()
            .map(|(m, a)| (m.to_string(), Bytes::from(a.to_string())))
            .collect(),
    }
}

fn hb(member_id: &str, generation: i32) -> HeartbeatArgs {
    HeartbeatArgs {
        member_id: member_id.into(),
        group_instance_id: None,
        generation,
    }
}

/// One member joins `group` (two JoinGroups) and gets the assignment
/// "a"; returns its id and generation.
async fn solo_member(c: &Coordinator, group: &str) -> (String, i32) {
    let first = c.join(group, join_args("", "c")).await.wait().await;
    assert_eq!(first.error, Some(GroupError::MemberIdRequired));
    let joined = c
        .join(group, join_args(&first.member_id, "c"))
        .await
        .wait()
        .await;
    assert_eq!(joined.error, None);
    let id = joined.member_id;
    let synced = c
        .sync(group, sync_args(&id, joined.generation, &[(&id, "a")]))
        .await
        .wait()
        .await;
    assert_eq!(synced.error, None);
    assert_eq!(synced.assignment, Bytes::from("a"));
    (id, joined.generation)
}

fn offset(
    topic: uuid::Uuid,
    partition: i32,
    offset: i64,
    metadata: Option<&str>,
) -> CommittedOffset {
    CommittedOffset {
        topic_id: topic,
        partition,
        offset,
        leader_epoch: -1,
        metadata: metadata.map(str::to_string),
        commit_timestamp_ms: 1,
    }
}

#[tokio::test]
async fn a_group_rebalances_commits_and_is_deleted_through_the_store() {
    let store = store().await;
    let topic = store
        .create_topic(NewTopic {
            name: "t".into(),
            partitions: 2,
            config: Default::default(),
        })
        .await
        .expect("topic");
    let (membership, c) = agent(&store, 9092).await;

    // Two members join one generation; the leader sees both.
    let a0 = c.join("g", join_args("", "a")).await.wait().await;
    let b0 = c.join("g", join_args("", "b")).await.wait().await;
    let a = c.join("g", join_args(&a0.member_id, "a")).await;
    let b = c.join("g", join_args(&b0.member_id, "b")).await;
    let (a, b) = tokio::join!(a.wait(), b.wait());
    assert_eq!((a.generation, b.generation), (1, 1));
    let (leader, follower) = if a.leader == a.member_id {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(leader.members.len(), 2);

    let follower_sync = c.sync("g", sync_args(&follower.member_id, 1, &[])).await;
    let leader_sync = c
        .sync(
            "g",
            sync_args(
                &leader.member_id,
                1,
                &[(&leader.member_id, "x"), (&follower.member_id, "y")],
            ),
        )
        .await;
    let (fs, ls) = tokio::join!(follower_sync.wait(), leader_sync.wait());
    assert_eq!(
        (ls.assignment, fs.assignment),
        (Bytes::from("x"), Bytes::from("y"))
    );
    let stored = store.load_group("g").await.expect("load").expect("stored");
    assert_eq!(stored.generation, 1);
    assert_eq!(stored.members.len(), 2);

    // Commits by a member round-trip, metadata included (null stays null).
    let commit = CommitArgs {
        member_id: leader.member_id.clone(),
        group_instance_id: None,
        generation: 1,
        offsets: vec![
            offset(topic.id, 0, 42, Some("meta")),
            offset(topic.id, 1, 7, None),
        ],
    };
    assert_eq!(c.commit("g", commit).await.wait().await, Ok(()));
    let fetched = c
        .fetch_offsets("g", None)
        .await
        .wait()
        .await
        .expect("fetch");
    assert_eq!(
        fetched
            .iter()
            .map(|o| (o.partition, o.offset, o.metadata.clone()))
            .collect::<Vec<_>>(),
        vec![(0, 42, Some("meta".to_string())), (1, 7, None)]
    );
    let stale = CommitArgs {
        member_id: leader.member_id.clone(),
        group_instance_id: None,
        generation: 0,
        offsets: vec![offset(topic.id, 0, 1, None)],
    };
    assert_eq!(
        c.commit("g", stale).await.wait().await,
        Err(GroupError::IllegalGeneration)
    );

    let listed = c.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, GroupStatus::Stable);
    let described = c.describe("g").await.wait().await.expect("describe");
    assert_eq!(described.members.len(), 2);
    assert_eq!(
        c.delete("g").await.wait().await,
        Err(GroupError::NonEmptyGroup)
    );

    // Both leave: the group is empty and stored so, then deleted.
    let leaving = [&leader.member_id, &follower.member_id].map(|id| LeavingMember {
        member_id: id.clone(),
        group_instance_id: None,
    });
    let left = c.leave("g", leaving.to_vec()).await.wait().await;
    assert_eq!(left, Ok(vec![Ok(()), Ok(())]));
    let stored = store.load_group("g").await.expect("load").expect("stored");
    assert!(stored.members.is_empty());
    assert_eq!(stored.generation, 2);
    assert_eq!(c.delete("g").await.wait().await, Ok(()));
    assert_eq!(store.load_group("g").await.expect("load"), None);
    assert_eq!(c.fetch_offsets("g", None).await.wait().await, Ok(vec![]));
    assert_eq!(
        c.describe("g").await.wait().await.map(|d| d.status),
        Ok(GroupStatus::Dead)
    );
    assert_eq!(
        c.delete("g").await.wait().await,
        Err(GroupError::GroupIdNotFound)
    );

    c.shutdown().await;
    membership.leave().await;
}

#[tokio::test]
async fn only_the_owning_agent_serves_a_group_and_a_stale_one_steps_down() {
    let store = store().await;
    let (m1, c1) = agent(&store, 9092).await;
    let (m2, c2) = agent(&store, 9093).await;
    let (r1, r2) = (m1.registry(), m2.registry());
    for _ in 0..500 {
        if r1.live().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(r1.live().len(), 2, "agent 1 sees agent 2");
    let agents: Vec<AgentAddress> = r1.live();
    let all: Vec<&AgentAddress> = agents.iter().collect();
    let me = r1.me().node_id;
    let group = (0..100)
        .map(|i| format!("g{i}"))
        .find(|g| pick(&all, g.as_bytes()).is_some_and(|a| a.node_id == me))
        .expect("some group hashes to agent 1");
    let _ = r2;

    // Agent 2 sends the client to the coordinator.
    let elsewhere = c2.join(&group, join_args("", "c")).await.wait().await;
    assert_eq!(elsewhere.error, Some(GroupError::NotCoordinator));

    let (member, generation) = solo_member(&c1, &group).await;
    assert_eq!(
        c1.heartbeat(&group, hb(&member, generation))
            .await
            .wait()
            .await,
        Ok(())
    );

    // Another agent takes the group over behind agent 1's back (both
    // believe they coordinate it) and moves it on. Agent 1's writes at the
    // generation it knows are refused from the takeover on, before the new
    // coordinator writes anything.
    let epoch = store.claim_group(&group).await.expect("claim");
    assert_eq!(epoch, 2, "agent 1 claimed epoch 1 when it loaded the group");
    let mut moved = store
        .load_group(&group)
        .await
        .expect("load")
        .expect("stored");
    let same_generation = moved.clone();
    assert!(
        !store
            .store_group(&same_generation, Some(generation), 1)
            .await
            .expect("store"),
        "a write under the old coordinator epoch is fenced"
    );
    moved.generation += 1;
    assert!(
        store
            .store_group(&moved, Some(generation), epoch)
            .await
            .expect("store")
    );
    // Agent 1 finds out at its next write and lets go of the group...
    let commit = CommitArgs {
        member_id: member.clone(),
        group_instance_id: None,
        generation,
        offsets: vec![offset(uuid::Uuid::nil(), 0, 1, None)],
    };
    assert_eq!(
        c1.commit(&group, commit).await.wait().await,
        Err(GroupError::NotCoordinator)
    );
    // ...and serves the stored state when asked again.
    assert_eq!(
        c1.heartbeat(&group, hb(&member, generation))
            .await
            .wait()
            .await,
        Err(GroupError::IllegalGeneration)
    );
    assert_eq!(
        c1.heartbeat(&group, hb(&member, generation + 1))
            .await
            .wait()
            .await,
        Ok(())
    );

    c1.shutdown().await;
    c2.shutdown().await;
    m1.leave().await;
    m2.leave().await;
}

#[tokio::test]
async fn waiting_joins_are_answered_at_shutdown() {
    let store = store().await;
    let (membership, c) = agent(&store, 9092).await;
    let (member, generation) = solo_member(&c, "g").await;
    // A newcomer's join waits for the rebalance it starts...
    let newcomer = c.join("g", join_args("", "n")).await.wait().await;
    let waiting = c.join("g", join_args(&newcomer.member_id, "n")).await;
    assert_eq!(
        c.heartbeat("g", hb(&member, generation)).await.wait().await,
        Err(GroupError::RebalanceInProgress)
    );
    // ...until the agent stops.
    c.shutdown().await;
    assert_eq!(waiting.wait().await.error, Some(GroupError::NotCoordinator));
    assert_eq!(
        c.heartbeat("g", hb(&member, generation)).await.wait().await,
        Err(GroupError::NotCoordinator)
    );
    membership.leave().await;
}
