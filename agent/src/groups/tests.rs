//! The group state machine, driven deterministically: time is an injected
//! `Instant`, member ids come from a counter, and store writes are
//! reported by hand.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use floe_metadata::{GroupMember, GroupState};
use kafka_protocol::messages::ConsumerProtocolSubscription;
use kafka_protocol::protocol::{Encodable, StrBytes};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::group::{Group, Persist, PersistOutcome};
use super::types::*;
use super::{GroupError, GroupSettings, MemberIds};

const SESSION: Duration = Duration::from_secs(10);
const REBALANCE: Duration = Duration::from_secs(30);
const DELAY: Duration = Duration::from_secs(3);

fn settings() -> GroupSettings {
    GroupSettings {
        initial_rebalance_delay: DELAY,
        member_ids: MemberIds::Sequential(Arc::new(AtomicU64::new(0))),
        ..GroupSettings::default()
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn subscription(topics: &[&str]) -> Bytes {
    let sub = ConsumerProtocolSubscription::default().with_topics(
        topics
            .iter()
            .map(|t| StrBytes::from_string(t.to_string()))
            .collect(),
    );
    let mut buf = BytesMut::new();
    buf.put_i16(1);
    sub.encode(&mut buf, 1).expect("encode subscription");
    buf.freeze()
}

fn args(member_id: &str, client: &str, protocols: &[&str]) -> JoinArgs {
    JoinArgs {
        member_id: member_id.to_string(),
        group_instance_id: None,
        client_id: client.to_string(),
        client_host: "/127.0.0.1".to_string(),
        session_timeout_ms: SESSION.as_millis() as i32,
        rebalance_timeout_ms: REBALANCE.as_millis() as i32,
        protocol_type: "consumer".to_string(),
        protocols: protocols
            .iter()
            .map(|p| Protocol {
                name: p.to_string(),
                metadata: subscription(&["t1"]),
            })
            .collect(),
        require_known_member_id: true,
        supports_skip_assignment: false,
    }
}

fn static_args(member_id: &str, instance: &str) -> JoinArgs {
    JoinArgs {
        group_instance_id: Some(instance.to_string()),
        ..args(member_id, instance, &["range"])
    }
}

fn join(g: &mut Group, now: Instant, a: JoinArgs) -> oneshot::Receiver<JoinResult> {
    let (tx, rx) = oneshot::channel();
    g.join(now, a, tx);
    rx
}

fn sync(
    g: &mut Group,
    now: Instant,
    member: &str,
    generation: i32,
    assignments: &[(&str, &str)],
) -> oneshot::Receiver<SyncResult> {
    let (tx, rx) = oneshot::channel();
    let a = SyncArgs {
        member_id: member.to_string(),
        group_instance_id: None,
        generation,
        protocol_type: Some("consumer".into()),
        protocol_name: None,
        assignments: assignments
            .iter()
            .map(|(m, a)| (m.to_string(), Bytes::from(a.to_string())))
            .collect(),
    };
    g.sync(now, a, tx);
    rx
}

fn hb(g: &mut Group, now: Instant, member: &str, generation: i32) -> Result<(), GroupError> {
    g.heartbeat(
        now,
        &HeartbeatArgs {
            member_id: member.to_string(),
            group_instance_id: None,
            generation,
        },
    )
}

/// Stores every queued write with `outcome`; returns how many there were.
fn persist(g: &mut Group, now: Instant, outcome: PersistOutcome) -> usize {
    let mut n = 0;
    while let Some(p) = g.next_persist() {
        let _ = g.snapshot(&p);
        g.persisted(now, p, outcome);
        n += 1;
    }
    n
}

fn done<T>(rx: &mut oneshot::Receiver<T>) -> T {
    rx.try_recv().expect("answered")
}

fn waiting<T>(rx: &mut oneshot::Receiver<T>) -> bool {
    matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty))
}

/// Joins `clients` (dynamic members) in one initial rebalance and returns
/// their member ids, leader first, and when the rebalance completed (each
/// member after the first extends the initial delay once).
fn form(g: &mut Group, t0: Instant, clients: &[&str]) -> (Vec<String>, Instant) {
    let mut ids = Vec::new();
    let mut waits = Vec::new();
    for c in clients {
        let mut first = join(g, t0, args("", c, &["range"]));
        let r = done(&mut first);
        assert_eq!(r.error, Some(GroupError::MemberIdRequired));
        ids.push(r.member_id.clone());
        waits.push(join(g, t0, args(&r.member_id, c, &["range"])));
    }
    let mut now = t0 + DELAY;
    g.tick(now);
    if clients.len() > 1 {
        now += DELAY;
        g.tick(now);
    }
    for w in &mut waits {
        let r = done(w);
        assert_eq!(r.error, None);
        assert_eq!(r.generation, g.generation);
    }
    (ids, now)
}

/// A stable group of `clients` with assignments `a0`, `a1`, ..., formed
/// from `t0`; returns the member ids and when it became stable.
fn stable(g: &mut Group, t0: Instant, clients: &[&str]) -> (Vec<String>, Instant) {
    let (ids, now) = form(g, t0, clients);
    let assignments: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), format!("a{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = assignments
        .iter()
        .map(|(m, a)| (m.as_str(), a.as_str()))
        .collect();
    let mut followers: Vec<_> = ids[1..]
        .iter()
        .map(|id| sync(g, now, id, g.generation, &[]))
        .collect();
    let mut leader = sync(g, now, &ids[0], g.generation, &refs);
    assert_eq!(persist(g, now, PersistOutcome::Stored), 1);
    assert_eq!(done(&mut leader).assignment, Bytes::from("a0"));
    for (i, f) in followers.iter_mut().enumerate() {
        assert_eq!(done(f).assignment, Bytes::from(format!("a{}", i + 1)));
    }
    assert_eq!(g.status(), GroupStatus::Stable);
    (ids, now)
}

#[test]
fn first_join_asks_for_a_member_id_then_waits_out_the_initial_delay() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let mut first = join(&mut g, t0, args("", "c1", &["range"]));
    let r = done(&mut first);
    assert_eq!(r.error, Some(GroupError::MemberIdRequired));
    assert_eq!(r.member_id, "c1-0");
    assert_eq!(g.status(), GroupStatus::Empty);

    let mut second = join(&mut g, t0, args("c1-0", "c1", &["range"]));
    assert_eq!(g.status(), GroupStatus::PreparingRebalance);
    g.tick(t0 + secs(2.9));
    assert!(waiting(&mut second), "the initial delay is not over");
    g.tick(t0 + DELAY);
    let r = done(&mut second);
    assert_eq!(r.error, None);
    assert_eq!(r.generation, 1);
    assert_eq!(r.leader, "c1-0");
    assert_eq!(r.protocol_name.as_deref(), Some("range"));
    assert_eq!(r.members.len(), 1);
    assert_eq!(g.status(), GroupStatus::CompletingRebalance);
}

#[test]
fn members_joining_during_the_initial_delay_extend_it_and_join_one_generation() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let mut a = join(&mut g, t0, args("", "a", &["range"]));
    let a_id = done(&mut a).member_id;
    let mut a = join(&mut g, t0, args(&a_id, "a", &["range"]));
    // Two more arrive 2 s in: the delay is extended by another 3 s.
    let mut b = join(&mut g, t0 + secs(2.0), args("", "b", &["range"]));
    let b_id = done(&mut b).member_id;
    let mut b = join(&mut g, t0 + secs(2.0), args(&b_id, "b", &["range"]));
    let mut c = join(&mut g, t0 + secs(2.5), args("", "c", &["range"]));
    let c_id = done(&mut c).member_id;
    let mut c = join(&mut g, t0 + secs(2.5), args(&c_id, "c", &["range"]));
    g.tick(t0 + DELAY);
    assert!(waiting(&mut a), "extended by the new members");
    g.tick(t0 + DELAY + DELAY);
    let (ra, rb, rc) = (done(&mut a), done(&mut b), done(&mut c));
    assert_eq!(ra.generation, 1);
    assert_eq!((rb.generation, rc.generation), (1, 1));
    assert_eq!(ra.leader, a_id);
    assert_eq!(ra.members.len(), 3, "the leader gets every member");
    assert!(rb.members.is_empty() && rc.members.is_empty());
}

#[test]
fn followers_wait_for_the_leaders_assignment_until_it_is_stored() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, now) = form(&mut g, t0, &["a", "b"]);
    let mut follower = sync(&mut g, now, &ids[1], 1, &[]);
    assert!(waiting(&mut follower));
    let mut leader = sync(&mut g, now, &ids[0], 1, &[(&ids[0], "x"), (&ids[1], "y")]);
    assert!(waiting(&mut leader), "answered once stored");
    let p = g.next_persist().expect("assignment to store");
    let state = g.snapshot(&p);
    assert_eq!(state.generation, 1);
    assert_eq!(state.protocol.as_deref(), Some("range"));
    assert_eq!(state.members[1].assignment, b"y".to_vec());
    g.persisted(now, p, PersistOutcome::Stored);
    assert_eq!(done(&mut leader).assignment, Bytes::from("x"));
    assert_eq!(done(&mut follower).assignment, Bytes::from("y"));
    assert_eq!(g.status(), GroupStatus::Stable);
    assert_eq!(g.persisted_generation(), Some(1));
    // A late sync in a stable group gets the current assignment.
    let mut again = sync(&mut g, now, &ids[1], 1, &[]);
    assert_eq!(done(&mut again).assignment, Bytes::from("y"));
}

#[test]
fn heartbeats_report_unknown_members_old_generations_and_rebalances() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, t0) = stable(&mut g, t0, &["a", "b"]);
    let now = t0 + secs(5.0);
    assert_eq!(hb(&mut g, now, &ids[1], 1), Ok(()));
    assert_eq!(
        hb(&mut g, now, "nobody", 1),
        Err(GroupError::UnknownMemberId)
    );
    assert_eq!(
        hb(&mut g, now, &ids[1], 0),
        Err(GroupError::IllegalGeneration)
    );
    // The leader rejoins: a rebalance starts.
    let _rejoin = join(&mut g, now, args(&ids[0], "a", &["range"]));
    assert_eq!(g.status(), GroupStatus::PreparingRebalance);
    assert_eq!(
        hb(&mut g, now, &ids[1], 1),
        Err(GroupError::RebalanceInProgress)
    );
}

#[test]
fn a_member_whose_session_expires_is_removed_and_the_rest_rebalance() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, t0) = stable(&mut g, t0, &["a", "b"]);
    // b keeps heartbeating, a goes silent.
    let mut now = t0 + DELAY;
    for _ in 0..3 {
        now += secs(4.0);
        let _ = hb(&mut g, now, &ids[1], 1);
        g.tick(now);
    }
    assert_eq!(g.status(), GroupStatus::PreparingRebalance);
    assert_eq!(
        hb(&mut g, now, &ids[1], 1),
        Err(GroupError::RebalanceInProgress)
    );
    assert_eq!(
        hb(&mut g, now, &ids[0], 1),
        Err(GroupError::UnknownMemberId)
    );
    // b rejoins: every remaining member has, so it completes at once.
    let mut b = join(&mut g, now, args(&ids[1], "b", &["range"]));
    let r = done(&mut b);
    assert_eq!(r.generation, 2);
    assert_eq!(r.leader, ids[1], "b took over leadership");
    assert_eq!(r.members.len(), 1);
}

#[test]
fn members_that_do_not_rejoin_within_the_rebalance_timeout_are_removed() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, t0) = stable(&mut g, t0, &["a", "b"]);
    let start = t0 + secs(4.0);
    let mut a = join(&mut g, start, args(&ids[0], "a", &["range"]));
    // b heartbeats (and hears of the rebalance) but never rejoins.
    let mut now = start;
    while now + secs(3.0) < start + REBALANCE {
        now += secs(3.0);
        let _ = hb(&mut g, now, &ids[1], 1);
        g.tick(now);
    }
    assert!(waiting(&mut a));
    g.tick(start + REBALANCE);
    let r = done(&mut a);
    assert_eq!(r.generation, 2);
    assert_eq!(r.members.len(), 1);
    assert_eq!(
        hb(&mut g, start + REBALANCE, &ids[1], 2),
        Err(GroupError::UnknownMemberId)
    );
}

#[test]
fn leaving_rebalances_and_the_last_one_out_empties_the_group() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, t0) = stable(&mut g, t0, &["a", "b"]);
    let now = t0 + secs(5.0);
    let leaving = |id: &str| LeavingMember {
        member_id: id.to_string(),
        group_instance_id: None,
    };
    let r = g.leave(now, &[leaving(&ids[0]), leaving("ghost")]);
    assert_eq!(r, Ok(vec![Ok(()), Err(GroupError::UnknownMemberId)]));
    assert_eq!(g.status(), GroupStatus::PreparingRebalance);
    let mut b = join(&mut g, now, args(&ids[1], "b", &["range"]));
    assert_eq!(done(&mut b).generation, 2);
    assert_eq!(g.leave(now, &[leaving(&ids[1])]), Ok(vec![Ok(())]));
    assert_eq!(g.status(), GroupStatus::Empty);
    assert_eq!(g.generation, 3);
    assert!(matches!(g.next_persist(), Some(Persist::Empty)));
}

#[test]
fn the_protocol_is_the_one_most_members_prefer_among_those_all_support() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let mut waits = Vec::new();
    for (c, protos) in [
        ("a", vec!["range", "roundrobin"]),
        ("b", vec!["roundrobin", "range"]),
        ("c", vec!["roundrobin", "range", "sticky"]),
    ] {
        let id = done(&mut join(&mut g, t0, args("", c, &protos))).member_id;
        waits.push(join(&mut g, t0, args(&id, c, &protos)));
    }
    // A member sharing no protocol with the group is refused.
    let mut odd = join(&mut g, t0, args("", "d", &["sticky"]));
    assert_eq!(
        done(&mut odd).error,
        Some(GroupError::InconsistentGroupProtocol)
    );
    g.tick(t0 + DELAY);
    g.tick(t0 + DELAY + DELAY);
    assert_eq!(
        done(&mut waits[0]).protocol_name.as_deref(),
        Some("roundrobin")
    );
}

#[test]
fn a_session_timeout_out_of_bounds_is_refused() {
    let mut g = Group::new("g", false, settings());
    let mut a = args("", "a", &["range"]);
    a.session_timeout_ms = 1000;
    let mut r = join(&mut g, Instant::now(), a);
    assert_eq!(done(&mut r).error, Some(GroupError::InvalidSessionTimeout));
}

#[test]
fn a_session_timeout_within_configured_bounds_is_accepted() {
    let bounds = GroupSettings {
        min_session_timeout: Duration::from_millis(500),
        max_session_timeout: Duration::from_secs(4),
        ..settings()
    };
    let mut g = Group::new("g", false, bounds);
    let mut a = args("", "a", &["range"]);
    a.require_known_member_id = false;
    a.session_timeout_ms = 3000;
    let mut r = join(&mut g, Instant::now(), a.clone());
    assert!(
        waiting(&mut r),
        "3 s is within 0.5 to 4 s: the member waits for the rebalance"
    );
    a.session_timeout_ms = 5000;
    let mut r = join(&mut g, Instant::now(), a);
    assert_eq!(done(&mut r).error, Some(GroupError::InvalidSessionTimeout));
}

#[test]
fn a_full_group_refuses_new_members() {
    let t0 = Instant::now();
    let mut g = Group::new(
        "g",
        false,
        GroupSettings {
            max_size: 2,
            ..settings()
        },
    );
    let (ids, t0) = stable(&mut g, t0, &["a", "b"]);
    let mut c = join(&mut g, t0, args("", "c", &["range"]));
    let refused = done(&mut c);
    assert_eq!(refused.error, Some(GroupError::GroupMaxSizeReached));
    assert_eq!(refused.member_id, "");
    // Members already in it still rejoin.
    let mut a = join(&mut g, t0, args(&ids[0], "a", &["range"]));
    match a.try_recv() {
        Ok(answer) => assert_eq!(answer.error, None),
        Err(e) => assert_eq!(e, oneshot::error::TryRecvError::Empty),
    }
}

#[test]
fn a_member_id_that_is_never_used_stops_blocking_rebalances() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, t0) = stable(&mut g, t0, &["a"]);
    let now = t0 + secs(4.0);
    // A newcomer gets an id, then vanishes; the leader rejoins.
    let mut ghost = join(&mut g, now, args("", "ghost", &["range"]));
    assert_eq!(done(&mut ghost).error, Some(GroupError::MemberIdRequired));
    let mut a = join(&mut g, now, args(&ids[0], "a", &["range"]));
    g.tick(now + secs(9.0));
    assert!(waiting(&mut a), "the pending member may still come");
    let _ = hb(&mut g, now + secs(9.0), &ids[0], 1);
    g.tick(now + SESSION);
    assert_eq!(done(&mut a).generation, 2);
}

#[test]
fn members_that_never_sync_are_removed_after_the_rebalance_timeout() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, now) = form(&mut g, t0, &["a", "b"]);
    let mut leader = sync(&mut g, now, &ids[0], 1, &[(&ids[0], "x")]);
    persist(&mut g, now, PersistOutcome::Stored);
    assert_eq!(done(&mut leader).assignment, Bytes::from("x"));
    // b keeps its session alive but never syncs.
    let mut t = now;
    while t + secs(3.0) < now + REBALANCE {
        t += secs(3.0);
        assert_eq!(hb(&mut g, t, &ids[0], 1), Ok(()));
        let _ = hb(&mut g, t, &ids[1], 1);
        g.tick(t);
    }
    assert_eq!(g.status(), GroupStatus::Stable);
    g.tick(now + REBALANCE);
    assert_eq!(g.status(), GroupStatus::PreparingRebalance);
    assert_eq!(
        hb(&mut g, now + REBALANCE, &ids[1], 1),
        Err(GroupError::UnknownMemberId)
    );
}

#[test]
fn a_restarted_static_member_gets_its_assignment_back_without_a_rebalance() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let mut a = join(&mut g, t0, static_args("", "ia"));
    let mut b = join(&mut g, t0, static_args("", "ib"));
    let now = t0 + DELAY + DELAY;
    g.tick(t0 + DELAY);
    g.tick(now);
    let (ra, rb) = (done(&mut a), done(&mut b));
    assert_eq!(
        (ra.member_id.as_str(), rb.member_id.as_str()),
        ("ia-0", "ib-1")
    );
    let _sb = sync(&mut g, now, "ib-1", 1, &[]);
    let _sa = sync(&mut g, now, "ia-0", 1, &[("ia-0", "x"), ("ib-1", "y")]);
    persist(&mut g, now, PersistOutcome::Stored);
    assert_eq!(g.status(), GroupStatus::Stable);

    // b restarts: it joins with no member id and its instance id.
    let later = now + secs(2.0);
    let mut b2 = join(&mut g, later, static_args("", "ib"));
    assert_eq!(g.status(), GroupStatus::Stable, "no rebalance");
    assert!(
        waiting(&mut b2),
        "answered once the new member id is stored"
    );
    let p = g.next_persist().expect("static rejoin to store");
    let state = g.snapshot(&p);
    assert!(state.members.iter().any(|m| m.member_id == "ib-2"));
    g.persisted(later, p, PersistOutcome::Stored);
    let r = done(&mut b2);
    assert_eq!(r.error, None);
    assert_eq!(r.member_id, "ib-2");
    assert_eq!(r.generation, 1);
    assert_eq!(r.leader, "ia-0");
    assert!(r.members.is_empty());
    let mut s = sync(&mut g, later, "ib-2", 1, &[]);
    assert_eq!(done(&mut s).assignment, Bytes::from("y"));
    // The old incarnation is fenced.
    let fenced = g.heartbeat(
        later,
        &HeartbeatArgs {
            member_id: "ib-1".into(),
            group_instance_id: Some("ib".into()),
            generation: 1,
        },
    );
    assert_eq!(fenced, Err(GroupError::FencedInstanceId));
}

#[test]
fn a_restarted_static_leader_skips_assignment_from_v9() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let mut a = join(&mut g, t0, static_args("", "ia"));
    g.tick(t0 + DELAY);
    assert_eq!(done(&mut a).leader, "ia-0");
    let now = t0 + DELAY;
    let _s = sync(&mut g, now, "ia-0", 1, &[("ia-0", "x")]);
    persist(&mut g, now, PersistOutcome::Stored);

    let mut v9 = static_args("", "ia");
    v9.supports_skip_assignment = true;
    let mut again = join(&mut g, now, v9);
    persist(&mut g, now, PersistOutcome::Stored);
    let r = done(&mut again);
    assert!(r.skip_assignment);
    assert_eq!(r.leader, "ia-1");
    assert_eq!(r.members.len(), 1);
    assert_eq!(g.status(), GroupStatus::Stable);
}

#[test]
fn a_lost_compare_and_set_ends_the_group_here() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, now) = form(&mut g, t0, &["a", "b"]);
    let mut follower = sync(&mut g, now, &ids[1], 1, &[]);
    let _leader = sync(&mut g, now, &ids[0], 1, &[]);
    persist(&mut g, now, PersistOutcome::Conflict);
    assert_eq!(done(&mut follower).error, Some(GroupError::NotCoordinator));
    assert_eq!(g.status(), GroupStatus::Dead);
}

#[test]
fn a_failed_store_write_sends_members_back_to_rejoin() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    let (ids, now) = form(&mut g, t0, &["a"]);
    let mut s = sync(&mut g, now, &ids[0], 1, &[(&ids[0], "x")]);
    persist(&mut g, now, PersistOutcome::Failed);
    assert_eq!(
        done(&mut s).error,
        Some(GroupError::CoordinatorNotAvailable)
    );
    assert_eq!(g.status(), GroupStatus::PreparingRebalance);
}

#[test]
fn commits_are_checked_against_membership_and_generation() {
    let t0 = Instant::now();
    let mut fresh = Group::new("simple", false, settings());
    assert_eq!(fresh.validate_commit(t0, "", None, -1), Ok(false));
    assert_eq!(
        fresh.validate_commit(t0, "m", None, 3),
        Err(GroupError::IllegalGeneration)
    );

    let mut g = Group::new("g", false, settings());
    let (ids, now) = form(&mut g, t0, &["a"]);
    assert_eq!(
        g.validate_commit(now, &ids[0], None, 1),
        Err(GroupError::RebalanceInProgress),
        "not before the assignment"
    );
    let _s = sync(&mut g, now, &ids[0], 1, &[]);
    persist(&mut g, now, PersistOutcome::Stored);
    assert_eq!(g.validate_commit(now, &ids[0], None, 1), Ok(true));
    assert_eq!(
        g.validate_commit(now, &ids[0], None, 0),
        Err(GroupError::IllegalGeneration)
    );
    assert_eq!(
        g.validate_commit(now, "x", None, 1),
        Err(GroupError::UnknownMemberId)
    );
    assert_eq!(
        g.validate_commit(now, "", None, -1),
        Err(GroupError::UnknownMemberId),
        "only members commit for a group with members"
    );
}

#[test]
fn a_stored_group_resumes_with_its_generation_and_members() {
    let t0 = Instant::now();
    let member = |id: &str, assignment: &[u8]| GroupMember {
        member_id: id.to_string(),
        group_instance_id: None,
        client_id: "c".into(),
        client_host: "/10.0.0.1".into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 30_000,
        metadata: subscription(&["t1", "t2"]).to_vec(),
        assignment: assignment.to_vec(),
    };
    let state = GroupState {
        group_id: "g".into(),
        generation: 7,
        protocol_type: Some("consumer".into()),
        protocol: Some("range".into()),
        leader: Some("m1".into()),
        members: vec![member("m1", b"x"), member("m2", b"y")],
    };
    let mut g = Group::from_stored(state.clone(), settings(), t0);
    assert_eq!(g.status(), GroupStatus::Stable);
    assert_eq!(g.persisted_generation(), Some(7));
    assert_eq!(g.snapshot(&Persist::Empty).members, state.members);
    // m1 carries on; m2 never shows up again.
    for s in 1..=4 {
        let now = t0 + secs(3.0 * s as f64);
        assert_eq!(hb(&mut g, now, "m1", 7), Ok(()));
        g.tick(now);
    }
    assert_eq!(g.status(), GroupStatus::PreparingRebalance);
    let d = g.describe();
    assert_eq!(d.members.len(), 1);
    assert_eq!(
        g.check_offset_delete(&["t1".into(), "t9".into()]),
        Ok(vec![true, false])
    );
}

#[test]
fn describe_shows_metadata_and_assignments_only_when_stable() {
    let t0 = Instant::now();
    let mut g = Group::new("g", false, settings());
    assert_eq!(g.describe().status, GroupStatus::Dead, "never existed");
    let (ids, _) = stable(&mut g, t0, &["a"]);
    let d = g.describe();
    assert_eq!(d.status, GroupStatus::Stable);
    assert_eq!(d.protocol, "range");
    assert_eq!(d.members[0].member_id, ids[0]);
    assert_eq!(d.members[0].assignment, Bytes::from("a0"));
    assert_eq!(d.members[0].metadata, subscription(&["t1"]));
    assert_eq!(g.check_delete(), Err(GroupError::NonEmptyGroup));
    assert_eq!(
        g.check_offset_delete(&["t1".into(), "t2".into()]),
        Ok(vec![true, false])
    );
}
