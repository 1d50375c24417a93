//! Consumer groups: states stored with compare-and-set on the generation,
//! committed offsets, deletion, listing, expiry.

use std::sync::Arc;

use floe_metadata::{
    CommittedOffset, GroupListing, GroupMember, GroupState, MetadataError, MetadataStore,
    PartitionLag, TopicId,
};

use crate::backends::Backend;
use crate::support::{create, entry, segment};

/// A member with the given subscription and assignment bytes.
fn member(member_id: &str, metadata: &[u8], assignment: &[u8]) -> GroupMember {
    GroupMember {
        member_id: member_id.to_string(),
        group_instance_id: None,
        client_id: "rdkafka".to_string(),
        client_host: "/10.0.0.7".to_string(),
        session_timeout_ms: 45_000,
        rebalance_timeout_ms: 300_000,
        metadata: metadata.to_vec(),
        assignment: assignment.to_vec(),
    }
}

/// A consumer group at `generation` with `members`, led by the first.
fn state(group_id: &str, generation: i32, members: Vec<GroupMember>) -> GroupState {
    GroupState {
        group_id: group_id.to_string(),
        generation,
        protocol_type: Some("consumer".to_string()),
        protocol: Some("range".to_string()),
        leader: members.first().map(|m| m.member_id.clone()),
        members,
    }
}

/// A group state with every kind of value: binary and empty bytes, a static
/// member, text beyond ASCII, members in no particular order.
fn full_state(group_id: &str, generation: i32) -> GroupState {
    let mut static_member = member(
        "zeta-7c9f",
        &[0x00, 0x01, 0xff, 0xfe, 0x80, 0x00],
        &[0xc3, 0x28, 0x00],
    );
    static_member.group_instance_id = Some("pod-0".to_string());
    static_member.client_id = "καφές-client ☕".to_string();
    static_member.session_timeout_ms = 6_000;
    static_member.rebalance_timeout_ms = i32::MAX;
    let empty = member("alpha-01", &[], &[]);
    let mut big = member("mid-42", &vec![0xab; 70_000], &[0; 1]);
    big.group_instance_id = Some(String::new());
    GroupState {
        group_id: group_id.to_string(),
        generation,
        protocol_type: Some("consumer".to_string()),
        protocol: Some("cooperative-sticky".to_string()),
        leader: Some("zeta-7c9f".to_string()),
        members: vec![static_member, empty, big],
    }
}

/// An offset committed at `timestamp`.
fn offset(topic_id: TopicId, partition: i32, offset: i64, timestamp: i64) -> CommittedOffset {
    CommittedOffset {
        topic_id,
        partition,
        offset,
        leader_epoch: -1,
        metadata: None,
        commit_timestamp_ms: timestamp,
    }
}

/// Sorted as `fetch_offsets` answers.
fn sorted(mut offsets: Vec<CommittedOffset>) -> Vec<CommittedOffset> {
    offsets.sort_by_key(|o| (o.topic_id, o.partition));
    offsets
}

/// The ids of the listed groups.
async fn listed(store: &dyn MetadataStore) -> anyhow::Result<Vec<String>> {
    Ok(store
        .list_groups()
        .await?
        .into_iter()
        .map(|group| group.group_id)
        .collect())
}

pub async fn group_state_round_trips(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    assert_eq!(store.load_group("orders-app").await?, None);

    let first = full_state("orders-app", 0);
    assert!(store.store_group(&first, None, 0).await?);
    assert_eq!(store.load_group("orders-app").await?, Some(first.clone()));

    // Fewer members, then more, then none: every replacement is exact.
    let mut fewer = first.clone();
    fewer.generation = 1;
    fewer.members.truncate(1);
    fewer.members[0].assignment = vec![0xff; 3];
    assert!(store.store_group(&fewer, Some(0), 0).await?);
    assert_eq!(store.load_group("orders-app").await?, Some(fewer));

    let mut more = full_state("orders-app", 2);
    more.members.reverse();
    more.members.push(member("omega", b"\x00", b"\x00\x00"));
    assert!(store.store_group(&more, Some(1), 0).await?);
    assert_eq!(store.load_group("orders-app").await?, Some(more));

    let empty = GroupState {
        group_id: "orders-app".to_string(),
        generation: 3,
        protocol_type: Some("consumer".to_string()),
        protocol: None,
        leader: None,
        members: vec![],
    };
    assert!(store.store_group(&empty, Some(2), 0).await?);
    assert_eq!(store.load_group("orders-app").await?, Some(empty));

    // A group that never had a protocol type, and one with empty strings.
    let bare = GroupState {
        group_id: "bare".to_string(),
        generation: 0,
        protocol_type: None,
        protocol: None,
        leader: None,
        members: vec![],
    };
    assert!(store.store_group(&bare, None, 0).await?);
    assert_eq!(store.load_group("bare").await?, Some(bare));
    let mut blank = state("", 5, vec![member("", b"", b"")]);
    blank.protocol_type = Some(String::new());
    blank.protocol = Some(String::new());
    assert!(store.store_group(&blank, None, 0).await?);
    assert_eq!(store.load_group("").await?, Some(blank));
    Ok(())
}

pub async fn store_group_is_compare_and_set(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let one = state("g", 1, vec![member("m1", b"sub", b"a1")]);

    // Only stored if absent, for an expected generation of None.
    assert!(store.store_group(&one, None, 0).await?);
    let other = state("g", 7, vec![member("m9", b"x", b"y")]);
    assert!(!store.store_group(&other, None, 0).await?);
    assert_eq!(store.load_group("g").await?, Some(one.clone()));

    // A stale or future generation writes nothing.
    let two = state(
        "g",
        2,
        vec![member("m1", b"sub", b"a2"), member("m2", b"", b"")],
    );
    for stale in [0, 2, 7, -1] {
        assert!(!store.store_group(&two, Some(stale), 0).await?);
        assert_eq!(store.load_group("g").await?, Some(one.clone()));
    }

    // The expected generation moves the group on, once.
    assert!(store.store_group(&two, Some(1), 0).await?);
    assert!(!store.store_group(&two, Some(1), 0).await?);
    assert_eq!(store.load_group("g").await?, Some(two.clone()));

    // The same generation again (a SyncGroup's assignments after a join).
    let mut synced = two.clone();
    synced.members[1].assignment = b"a2'".to_vec();
    assert!(store.store_group(&synced, Some(2), 0).await?);
    assert_eq!(store.load_group("g").await?, Some(synced));

    // Expecting a generation of a group never stored creates nothing.
    assert!(
        !store
            .store_group(&state("new", 1, vec![]), Some(0), 0)
            .await?
    );
    assert_eq!(store.load_group("new").await?, None);
    assert_eq!(listed(&*store).await?, vec!["g".to_string()]);

    // Invalid states are refused before anything is written.
    let mut negative = state("neg", -1, vec![]);
    let result = store.store_group(&negative, None, 0).await;
    assert!(
        matches!(result, Err(MetadataError::Invalid(_))),
        "{result:?}"
    );
    negative.generation = 0;
    negative.members = vec![member("nul\0member", b"", b"")];
    let result = store.store_group(&negative, None, 0).await;
    assert!(
        matches!(result, Err(MetadataError::Invalid(_))),
        "{result:?}"
    );
    assert_eq!(store.load_group("neg").await?, None);
    Ok(())
}

/// Coordinators racing to store the next generation of one group: exactly
/// one wins, and the stored state is the winner's.
pub async fn concurrent_store_group_has_one_winner(backend: &dyn Backend) -> anyhow::Result<()> {
    const RIVALS: usize = 6;
    let store = backend.open().await?;
    for round in 0..5 {
        let group_id = format!("race-{round}");
        let mut tasks = Vec::new();
        for rival in 0..RIVALS {
            // Half on a store of their own (another agent), half shared.
            let store = if rival % 2 == 0 {
                Arc::clone(&store)
            } else {
                backend.open().await?
            };
            let group_id = group_id.clone();
            tasks.push(tokio::spawn(async move {
                let created = state(&group_id, 0, vec![member(&format!("c{rival}"), b"", b"")]);
                let created = store.store_group(&created, None, 0).await?;
                let moved = state(
                    &group_id,
                    1,
                    (0..=rival)
                        .map(|m| member(&format!("r{rival}-m{m}"), &[rival as u8; 3], b"a"))
                        .collect(),
                );
                let won = store.store_group(&moved, Some(0), 0).await?;
                anyhow::Ok((created, won.then_some(moved)))
            }));
        }
        let mut creators = 0;
        let mut winners = Vec::new();
        for task in tasks {
            let (created, won) = task.await??;
            creators += usize::from(created);
            winners.extend(won);
        }
        assert_eq!(creators, 1, "round {round}: one insert wins");
        assert_eq!(winners.len(), 1, "round {round}: one generation bump wins");
        assert_eq!(store.load_group(&group_id).await?, winners.pop());
    }
    Ok(())
}

pub async fn offsets_round_trip(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let orders = create(&*store, "orders", 3).await?;
    let clicks = create(&*store, "clicks", 2).await?;
    assert_eq!(store.fetch_offsets("app", None).await?, vec![]);

    let mut none = offset(orders.id, 0, 42, 1_700_000_000_000);
    none.leader_epoch = 3;
    let mut empty = offset(orders.id, 2, 0, 1);
    empty.metadata = Some(String::new());
    let mut unicode = offset(clicks.id, 1, i64::MAX, i64::MAX);
    unicode.metadata = Some("ñ 🚀 \u{202e} \"quoted\" \\ 'x'\n\t".to_string());
    unicode.leader_epoch = i32::MAX;
    let mut extremes = offset(clicks.id, 0, -1, i64::MIN);
    extremes.leader_epoch = i32::MIN;
    let committed = vec![
        unicode.clone(),
        none.clone(),
        extremes.clone(),
        empty.clone(),
    ];
    assert!(store.commit_offsets("app", None, &committed, 0).await?);
    let all = sorted(committed);
    assert_eq!(store.fetch_offsets("app", None).await?, all);

    // Some partitions: absent ones are missing, a repeated one comes once.
    let some = [
        (orders.id, 2),
        (orders.id, 1),
        (clicks.id, 1),
        (orders.id, 2),
        (TopicId::new_v4(), 0),
    ];
    assert_eq!(
        store.fetch_offsets("app", Some(&some)).await?,
        sorted(vec![empty.clone(), unicode.clone()])
    );
    assert_eq!(store.fetch_offsets("app", Some(&[])).await?, vec![]);
    assert_eq!(store.fetch_offsets("other", None).await?, vec![]);

    // A commit overwrites, metadata included (back to None).
    let mut moved = offset(orders.id, 2, 50, 2);
    moved.leader_epoch = 4;
    let mut renamed = none.clone();
    renamed.metadata = Some("after".to_string());
    renamed.offset = 43;
    let mut cleared = unicode.clone();
    cleared.metadata = None;
    assert!(
        store
            .commit_offsets(
                "app",
                None,
                &[moved.clone(), renamed.clone(), cleared.clone()],
                0
            )
            .await?
    );
    assert_eq!(
        store.fetch_offsets("app", None).await?,
        sorted(vec![moved.clone(), renamed, cleared, extremes])
    );

    // A partition given twice is committed once, with its last offset.
    let first = offset(orders.id, 1, 10, 3);
    let last = offset(orders.id, 1, 11, 4);
    assert!(
        store
            .commit_offsets("app", None, &[first, last.clone()], 0)
            .await?
    );
    assert_eq!(
        store.fetch_offsets("app", Some(&[(orders.id, 1)])).await?,
        vec![last]
    );

    // An invalid offset is refused and nothing of its commit is written.
    let before = store.fetch_offsets("app", None).await?;
    assert_eq!(before.len(), 5);
    let negative = offset(orders.id, -1, 99, 5);
    let fine = offset(clicks.id, 0, 99, 5);
    let result = store
        .commit_offsets("app", None, &[fine, negative], 0)
        .await;
    assert!(
        matches!(result, Err(MetadataError::Invalid(_))),
        "{result:?}"
    );
    assert_eq!(store.fetch_offsets("app", None).await?, before);

    // Metadata is any string, NUL characters included (librdkafka appends
    // one), and comes back exactly.
    let mut nul = offset(orders.id, 0, 7, 6);
    nul.metadata = Some("m-0\0".to_string());
    assert!(store.commit_offsets("app", None, &[nul.clone()], 0).await?);
    assert_eq!(
        store.fetch_offsets("app", Some(&[(orders.id, 0)])).await?,
        vec![nul]
    );
    Ok(())
}

pub async fn generation_checked_commit(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    assert!(
        store
            .store_group(&state("g", 3, vec![member("m", b"", b"")]), None, 0)
            .await?
    );

    let first = vec![offset(topic.id, 0, 10, 100), offset(topic.id, 1, 20, 100)];
    assert!(store.commit_offsets("g", Some(3), &first, 0).await?);
    assert_eq!(store.fetch_offsets("g", None).await?, first);

    // A member of another generation commits nothing, not even a new
    // partition or the partitions whose offsets are unchanged.
    let stale = vec![offset(topic.id, 0, 11, 200), offset(topic.id, 1, 20, 200)];
    for generation in [2, 4, -1, 0] {
        assert!(
            !store
                .commit_offsets("g", Some(generation), &stale, 0)
                .await?
        );
        assert_eq!(store.fetch_offsets("g", None).await?, first);
    }
    // With a generation, a group without a stored state commits nothing.
    assert!(!store.commit_offsets("no-state", Some(0), &stale, 0).await?);
    assert_eq!(store.fetch_offsets("no-state", None).await?, vec![]);
    assert_eq!(listed(&*store).await?, vec!["g".to_string()]);

    // Without a generation the commit always applies (a simple consumer).
    assert!(store.commit_offsets("g", None, &stale, 0).await?);
    assert_eq!(store.fetch_offsets("g", None).await?, stale);
    assert!(store.commit_offsets("no-state", None, &stale, 0).await?);
    assert_eq!(store.fetch_offsets("no-state", None).await?, stale);

    // Once the group moves on, the old generation is fenced.
    assert!(
        store
            .store_group(&state("g", 4, vec![]), Some(3), 0)
            .await?
    );
    assert!(!store.commit_offsets("g", Some(3), &first, 0).await?);
    assert!(store.commit_offsets("g", Some(4), &first, 0).await?);
    assert_eq!(store.fetch_offsets("g", None).await?, first);
    // A check alone (no offsets) answers the same way.
    assert!(store.commit_offsets("g", Some(4), &[], 0).await?);
    assert!(!store.commit_offsets("g", Some(3), &[], 0).await?);
    Ok(())
}

pub async fn offsets_of_deleted_topics_disappear(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let doomed = create(&*store, "doomed", 2).await?;
    let kept = create(&*store, "kept", 1).await?;
    let both = vec![
        offset(doomed.id, 0, 5, 1),
        offset(doomed.id, 1, 6, 1),
        offset(kept.id, 0, 7, 1),
    ];
    assert!(store.commit_offsets("a", None, &both, 0).await?);
    assert!(store.commit_offsets("b", None, &both[..1], 0).await?);
    store.delete_topic(doomed.id).await?;

    let kept_only = vec![offset(kept.id, 0, 7, 1)];
    assert_eq!(store.fetch_offsets("a", None).await?, kept_only);
    assert_eq!(store.fetch_offsets("b", None).await?, vec![]);
    // "b" had offsets of the deleted topic only: nothing is left of it.
    assert_eq!(listed(&*store).await?, vec!["a".to_string()]);

    // Commits to the deleted topic (or one that never existed) are skipped;
    // the rest of the commit applies.
    let retry = vec![
        offset(doomed.id, 0, 8, 2),
        offset(kept.id, 0, 9, 2),
        offset(TopicId::new_v4(), 0, 1, 2),
    ];
    assert!(store.commit_offsets("a", None, &retry, 0).await?);
    assert_eq!(
        store.fetch_offsets("a", None).await?,
        vec![retry[1].clone()]
    );
    assert!(store.commit_offsets("c", None, &retry[..1], 0).await?);
    assert_eq!(store.fetch_offsets("c", None).await?, vec![]);

    // A topic created again under the name is another topic, with no offsets.
    let again = create(&*store, "doomed", 2).await?;
    assert_eq!(
        store
            .fetch_offsets("a", Some(&[(again.id, 0), (doomed.id, 0)]))
            .await?,
        vec![]
    );
    Ok(())
}

pub async fn delete_group_removes_state_and_offsets(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 1).await?;
    let offsets = [offset(topic.id, 0, 1, 1)];
    assert!(store.store_group(&full_state("both", 2), None, 0).await?);
    assert!(store.commit_offsets("both", Some(2), &offsets, 0).await?);
    assert!(
        store
            .store_group(&full_state("state-only", 0), None, 0)
            .await?
    );
    assert!(
        store
            .commit_offsets("offsets-only", None, &offsets, 0)
            .await?
    );
    assert!(store.commit_offsets("kept", None, &offsets, 0).await?);

    for group in ["both", "state-only", "offsets-only"] {
        assert!(store.delete_group(group).await?, "{group}");
        assert_eq!(store.load_group(group).await?, None);
        assert_eq!(store.fetch_offsets(group, None).await?, vec![]);
        assert!(!store.delete_group(group).await?, "{group} again");
    }
    assert!(!store.delete_group("never").await?);
    assert_eq!(listed(&*store).await?, vec!["kept".to_string()]);

    // A deleted group starts over: its state can be inserted again.
    assert!(
        store
            .store_group(&state("both", 0, vec![]), None, 0)
            .await?
    );
    assert_eq!(
        store.load_group("both").await?,
        Some(state("both", 0, vec![]))
    );
    Ok(())
}

pub async fn list_groups_is_ordered_union(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    assert_eq!(store.list_groups().await?, vec![]);
    let topic = create(&*store, "orders", 1).await?;
    let offsets = [offset(topic.id, 0, 1, 1)];
    assert!(
        store
            .store_group(&full_state("b-members", 1), None, 0)
            .await?
    );
    let mut empty = state("a-empty", 2, vec![]);
    empty.protocol_type = Some("connect".to_string());
    assert!(store.store_group(&empty, None, 0).await?);
    assert!(
        store
            .commit_offsets("a-empty", Some(2), &offsets, 0)
            .await?
    );
    assert!(store.commit_offsets("C-offsets", None, &offsets, 0).await?);
    assert!(store.commit_offsets("é-offsets", None, &offsets, 0).await?);
    assert!(
        store
            .commit_offsets("b-members", Some(1), &offsets, 0)
            .await?
    );

    let listing = |group_id: &str, protocol_type: Option<&str>, has_members| GroupListing {
        group_id: group_id.to_string(),
        protocol_type: protocol_type.map(str::to_string),
        has_members,
    };
    // By group id, bytewise: upper case before lower case before non-ASCII.
    assert_eq!(
        store.list_groups().await?,
        vec![
            listing("C-offsets", None, false),
            listing("a-empty", Some("connect"), false),
            listing("b-members", Some("consumer"), true),
            listing("é-offsets", None, false),
        ]
    );
    Ok(())
}

pub async fn delete_offsets_of_some_partitions(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let orders = create(&*store, "orders", 3).await?;
    let clicks = create(&*store, "clicks", 1).await?;
    let all = sorted(vec![
        offset(orders.id, 0, 1, 1),
        offset(orders.id, 1, 2, 1),
        offset(orders.id, 2, 3, 1),
        offset(clicks.id, 0, 4, 1),
    ]);
    assert!(store.commit_offsets("app", None, &all, 0).await?);
    assert!(store.commit_offsets("other", None, &all, 0).await?);

    store
        .delete_offsets(
            "app",
            &[
                (orders.id, 1),
                (clicks.id, 0),
                (clicks.id, 7),
                (TopicId::new_v4(), 0),
            ],
        )
        .await?;
    assert_eq!(
        store.fetch_offsets("app", None).await?,
        sorted(vec![offset(orders.id, 0, 1, 1), offset(orders.id, 2, 3, 1)])
    );
    assert_eq!(store.fetch_offsets("other", None).await?, all);
    store.delete_offsets("app", &[]).await?;
    store.delete_offsets("never", &[(orders.id, 0)]).await?;

    // Without offsets and without a state, a group is gone.
    store
        .delete_offsets("app", &[(orders.id, 0), (orders.id, 2)])
        .await?;
    assert_eq!(store.fetch_offsets("app", None).await?, vec![]);
    assert_eq!(listed(&*store).await?, vec!["other".to_string()]);
    Ok(())
}

pub async fn expire_groups_removes_only_empty_idle_groups(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    const NOW: i64 = 1_700_000_000_000;
    const CUTOFF: i64 = NOW - 7 * 24 * 3600 * 1000;
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    let old = [
        offset(topic.id, 0, 1, CUTOFF - 1),
        offset(topic.id, 1, 2, 5),
    ];
    let mut fresh = old.to_vec();
    fresh[1].commit_timestamp_ms = CUTOFF;

    // Expired: no members and only old offsets, or no offsets at all.
    assert!(
        store
            .store_group(&state("empty-old", 3, vec![]), None, 0)
            .await?
    );
    assert!(store.commit_offsets("empty-old", Some(3), &old, 0).await?);
    assert!(store.commit_offsets("offsets-old", None, &old, 0).await?);
    assert!(
        store
            .store_group(&state("empty-none", 1, vec![]), None, 0)
            .await?
    );
    // Kept: members, or one offset committed at or after the cutoff.
    assert!(
        store
            .store_group(&full_state("members-old", 2), None, 0)
            .await?
    );
    assert!(
        store
            .commit_offsets("members-old", Some(2), &old, 0)
            .await?
    );
    assert!(
        store
            .store_group(&state("empty-fresh", 1, vec![]), None, 0)
            .await?
    );
    assert!(
        store
            .commit_offsets("empty-fresh", Some(1), &fresh, 0)
            .await?
    );
    assert!(
        store
            .commit_offsets("offsets-fresh", None, &fresh, 0)
            .await?
    );

    assert_eq!(store.expire_groups(CUTOFF).await?, 3);
    assert_eq!(
        listed(&*store).await?,
        vec!["empty-fresh", "members-old", "offsets-fresh"]
    );
    for gone in ["empty-old", "offsets-old", "empty-none"] {
        assert_eq!(store.load_group(gone).await?, None, "{gone}");
        assert_eq!(store.fetch_offsets(gone, None).await?, vec![], "{gone}");
    }
    // What is kept is kept whole, old offsets included.
    assert_eq!(
        store.fetch_offsets("members-old", None).await?,
        old.to_vec()
    );
    assert_eq!(store.fetch_offsets("empty-fresh", None).await?, fresh);
    assert_eq!(store.fetch_offsets("offsets-fresh", None).await?, fresh);
    assert_eq!(
        store.load_group("members-old").await?,
        Some(full_state("members-old", 2))
    );

    // Nothing more to expire at the same cutoff; later, the fresh ones go.
    assert_eq!(store.expire_groups(CUTOFF).await?, 0);
    assert_eq!(store.expire_groups(NOW).await?, 2);
    assert_eq!(listed(&*store).await?, vec!["members-old"]);
    Ok(())
}

pub async fn groups_survive_reopen(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "orders", 2).await?;
    let group = full_state("app", 7);
    let mut offsets = vec![offset(topic.id, 0, 10, 1), offset(topic.id, 1, 20, 2)];
    offsets[0].metadata = Some(String::new());
    offsets[1].metadata = Some("ünïcode".to_string());
    assert!(store.store_group(&group, None, 0).await?);
    assert!(store.commit_offsets("app", Some(7), &offsets, 0).await?);
    assert!(
        store
            .commit_offsets("simple", None, &offsets[..1], 0)
            .await?
    );
    let listing = store.list_groups().await?;
    drop(store);

    let store = backend.open().await?;
    assert_eq!(store.load_group("app").await?, Some(group.clone()));
    assert_eq!(store.fetch_offsets("app", None).await?, offsets);
    assert_eq!(store.fetch_offsets("simple", None).await?, offsets[..1]);
    assert_eq!(store.list_groups().await?, listing);
    // The compare-and-set goes on from the stored generation.
    assert!(!store.store_group(&group, None, 0).await?);
    assert!(store.store_group(&full_state("app", 8), Some(7), 0).await?);
    Ok(())
}

/// Offsets committed while their topic is deleted: no commit fails, and no
/// offset of the deleted topic is left behind.
pub async fn offset_commits_during_topic_delete(backend: &dyn Backend) -> anyhow::Result<()> {
    const WRITERS: usize = 4;
    const COMMITS: i64 = 40;
    let store = backend.open().await?;
    let doomed = create(&*store, "doomed", 4).await?;
    let kept = create(&*store, "kept", 1).await?;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = if writer % 2 == 0 {
            Arc::clone(&store)
        } else {
            backend.open().await?
        };
        tasks.push(tokio::spawn(async move {
            let group_id = format!("g{writer}");
            for i in 0..COMMITS {
                let partition = i32::try_from(i % 4)?;
                let offsets = [
                    offset(doomed.id, partition, i, i),
                    offset(kept.id, 0, i, i),
                    offset(doomed.id, (partition + 1) % 4, i, i),
                ];
                anyhow::ensure!(store.commit_offsets(&group_id, None, &offsets, 0).await?);
            }
            anyhow::Ok(())
        }));
    }
    // Delete once the writers are under way.
    while store.fetch_offsets("g0", None).await?.len() < 3
        && !tasks.iter().all(|task| task.is_finished())
    {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    store.delete_topic(doomed.id).await?;
    for task in tasks {
        task.await??;
    }
    for writer in 0..WRITERS {
        let group_id = format!("g{writer}");
        assert_eq!(
            store.fetch_offsets(&group_id, None).await?,
            vec![offset(kept.id, 0, COMMITS - 1, COMMITS - 1)],
            "{group_id}"
        );
    }
    Ok(())
}

pub async fn group_lag_joins_offsets_with_high_watermarks(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let beta = create(&*store, "beta", 2).await?;
    let alpha = create(&*store, "alpha", 1).await?;
    store
        .commit_segment(&segment(vec![
            entry(beta.id, 0, 10, 1),
            entry(beta.id, 1, 4, 1),
            entry(alpha.id, 0, 7, 1),
        ]))
        .await?;
    let offsets = vec![
        offset(beta.id, 1, 4, 1),
        offset(beta.id, 0, 3, 1),
        offset(alpha.id, 0, 0, 1),
    ];
    assert!(store.commit_offsets("g", None, &offsets, 0).await?);
    let lag = |topic: &str, partition, committed_offset, high_watermark| PartitionLag {
        topic: topic.to_string(),
        partition,
        committed_offset,
        high_watermark,
    };
    // By topic name, then partition; partitions without a commit are absent.
    assert_eq!(
        store.group_lag("g").await?,
        vec![
            lag("alpha", 0, 0, 7),
            lag("beta", 0, 3, 10),
            lag("beta", 1, 4, 4)
        ]
    );
    assert_eq!(store.group_lag("nobody").await?, vec![]);
    store.delete_topic(alpha.id).await?;
    assert_eq!(
        store.group_lag("g").await?,
        vec![lag("beta", 0, 3, 10), lag("beta", 1, 4, 4)]
    );
    Ok(())
}

pub async fn a_takeover_fences_the_previous_coordinator(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let topic = create(&*store, "fenced", 1).await?;
    let one = [offset(topic.id, 0, 10, 1)];
    // Agent A claims the group and writes it.
    let a = store.claim_group("g").await?;
    assert_eq!(a, 1);
    let state = full_state("g", 1);
    assert!(store.store_group(&state, None, a).await?);
    assert!(store.commit_offsets("g", Some(1), &one, a).await?);
    // Agent B takes it over; A still believes it coordinates the group and
    // writes at the same generation: refused, state and offsets alike.
    let b = store.claim_group("g").await?;
    assert_eq!(b, 2);
    assert!(!store.store_group(&state, Some(1), a).await?);
    assert!(
        !store
            .commit_offsets("g", Some(1), &[offset(topic.id, 0, 99, 1)], a)
            .await?
    );
    assert!(
        !store
            .commit_offsets("g", None, &[offset(topic.id, 0, 99, 1)], a)
            .await?
    );
    assert_eq!(store.fetch_offsets("g", None).await?[0].offset, 10);
    // B writes under its epoch.
    assert!(
        store
            .commit_offsets("g", Some(1), &[offset(topic.id, 0, 20, 1)], b)
            .await?
    );
    assert!(store.store_group(&state, Some(1), b).await?);
    // Epochs never go back, even across a deletion of the group.
    assert!(store.delete_group("g").await?);
    assert_eq!(store.claim_group("g").await?, 3);
    assert!(!store.store_group(&state, None, b).await?);
    Ok(())
}
