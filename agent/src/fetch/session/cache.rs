//! The bounded session cache and its eviction rule (Kafka's
//! `FetchSessionCacheShard`).
//!
//! A full cache does not simply drop its least recently used session for a
//! newcomer. A session goes when:
//! 1. it is the least recently used and has been idle for more than
//!    [`MIN_EVICTION`], whoever asks; or
//! 2. the newcomer is worth more than the cheapest session it may displace.
//!    Worth is `(privileged, partitions, id)` in that order, the newcomer's
//!    id counting as 0, so a tie keeps the incumbent. A privileged newcomer
//!    may displace any unprivileged session and privileged ones older than
//!    [`MIN_EVICTION`]; an unprivileged newcomer only sessions older than
//!    that. Both classes are decided when a session is last used.
//!
//! The cache holds at most a few thousand sessions, so the choice scans
//! them rather than keeping Kafka's sorted indexes.

use std::collections::HashMap;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::partitions::Partitions;
use super::{INITIAL_EPOCH, MIN_EVICTION, next_epoch};

/// One session and its place in the eviction order.
#[derive(Debug)]
pub(crate) struct Session {
    /// The epoch the next request must carry.
    pub(crate) epoch: i32,
    pub(crate) partitions: Partitions,
    privileged: bool,
    created: Instant,
    last_used: Instant,
    /// Partitions when last used, the size eviction weighs.
    size: usize,
    /// Whether an unprivileged newcomer may displace it.
    by_all: bool,
    /// Whether a privileged newcomer may displace it.
    by_privileged: bool,
}

impl Session {
    fn worth(&self, id: i32) -> (bool, usize, i32) {
        (self.privileged, self.size, id)
    }
}

/// The sessions of one agent.
#[derive(Debug)]
pub(crate) struct SessionCache {
    slots: usize,
    sessions: HashMap<i32, Session>,
    /// Sum of the sessions' `size`.
    partitions: usize,
    ids: StdRng,
}

impl SessionCache {
    pub(crate) fn new(slots: usize, seed: Option<u64>) -> Self {
        Self {
            slots,
            sessions: HashMap::new(),
            partitions: 0,
            ids: match seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::from_os_rng(),
            },
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Partitions held by all sessions, as of their last use.
    pub(crate) fn partitions(&self) -> usize {
        self.partitions
    }

    pub(crate) fn get_mut(&mut self, id: i32) -> Option<&mut Session> {
        self.sessions.get_mut(&id)
    }

    pub(crate) fn remove(&mut self, id: i32) -> Option<Session> {
        let session = self.sessions.remove(&id)?;
        self.partitions -= session.size;
        Some(session)
    }

    /// Marks a session used now, and re-weighs it for eviction.
    pub(crate) fn touch(&mut self, id: i32, now: Instant) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        self.partitions -= s.size;
        s.size = s.partitions.len();
        self.partitions += s.size;
        s.last_used = now;
        let old = now.saturating_duration_since(s.created) > MIN_EVICTION;
        s.by_all = old;
        s.by_privileged = old || !s.privileged;
    }

    /// Keeps `partitions` as a new session if there is room or room can be
    /// made. Returns its id (None: no session) and whether a session was
    /// evicted for it.
    pub(crate) fn create(
        &mut self,
        privileged: bool,
        partitions: Partitions,
        now: Instant,
    ) -> (Option<i32>, bool) {
        let mut evicted = false;
        if self.sessions.len() >= self.slots {
            if !self.try_evict(privileged, partitions.len(), now) {
                return (None, false);
            }
            evicted = true;
        }
        let id = self.new_id();
        self.sessions.insert(
            id,
            Session {
                epoch: next_epoch(INITIAL_EPOCH),
                partitions,
                privileged,
                created: now,
                last_used: now,
                size: 0,
                by_all: false,
                by_privileged: false,
            },
        );
        self.touch(id, now);
        (Some(id), evicted)
    }

    /// Evicts one session for a newcomer of `size` partitions, if the rule
    /// in this module's documentation allows.
    fn try_evict(&mut self, privileged: bool, size: usize, now: Instant) -> bool {
        let Some((&stalest, idle)) = self
            .sessions
            .iter()
            .min_by_key(|(id, s)| (s.last_used, **id))
            .map(|(id, s)| (id, now.saturating_duration_since(s.last_used)))
        else {
            return false;
        };
        if idle > MIN_EVICTION {
            self.remove(stalest);
            return true;
        }
        let cheapest = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                if privileged {
                    s.by_privileged
                } else {
                    s.by_all
                }
            })
            .map(|(id, s)| s.worth(*id))
            .min();
        match cheapest {
            Some(worth) if (privileged, size, 0) >= worth => {
                self.remove(worth.2);
                true
            }
            _ => false,
        }
    }

    /// A random positive id no session has.
    fn new_id(&mut self) -> i32 {
        loop {
            let id = self.ids.random_range(1..=i32::MAX);
            if !self.sessions.contains_key(&id) {
                return id;
            }
        }
    }
}
