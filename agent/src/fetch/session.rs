//! Incremental fetch sessions (KIP-227), as Kafka's broker keeps them.
//!
//! A consumer of thousands of partitions would otherwise send every
//! partition in every Fetch, and be answered for every partition, even when
//! nothing moved. With a session the agent remembers the partitions and
//! their fetch offsets; the client sends only what changed (new partitions,
//! new offsets, forgotten topics), and the agent answers only the partitions
//! that have something new: records, a moved high watermark or log start
//! offset, or an error.
//!
//! The metadata of a request (`session_id`, `session_epoch`) decides:
//! - epoch -1 ([`FINAL_EPOCH`]) closes the session named (if any) and
//!   answers the request alone: session id 0 plus epoch -1 is a client that
//!   wants no session;
//! - epoch 0 ([`INITIAL_EPOCH`]) closes the session named (if any), answers
//!   every partition, and creates a session if the cache has (or can make)
//!   room;
//! - any other epoch is an incremental request of an existing session: an
//!   unknown id is `FETCH_SESSION_ID_NOT_FOUND`, an epoch other than the
//!   one expected is `INVALID_FETCH_SESSION_EPOCH`.
//!
//! Sessions live in the memory of one agent: a client reconnected to
//! another agent gets `FETCH_SESSION_ID_NOT_FOUND` and starts over with a
//! full request, which is what clients do after a broker restart.
//! The protocol plumbing is in `kafka/fetch.rs`; this module does no I/O and
//! takes the time as an argument, so tests drive it step by step.

mod cache;
#[cfg(test)]
mod model;
mod partitions;
#[cfg(test)]
mod tests;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge};

use cache::SessionCache;
use partitions::Partitions;
pub use partitions::{Found, PartitionKey, Wanted};

/// The session id of "no session".
pub const NO_SESSION: i32 = 0;
/// The epoch of a full request that asks for a new session.
pub const INITIAL_EPOCH: i32 = 0;
/// The epoch of a request that closes its session, or wants none.
pub const FINAL_EPOCH: i32 = -1;
/// A session used within this time is not evicted for being idle, and one
/// created within it is not displaced by a larger newcomer (Kafka's
/// `MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS`).
pub const MIN_EVICTION: Duration = Duration::from_secs(120);
/// The fewest bytes one partition takes in a Fetch request of a version
/// with sessions (v7+: partition, fetch offset, log start offset, partition
/// max bytes). A session holds at most as many partitions as one request of
/// the largest frame could carry.
pub const MIN_PARTITION_WIRE_BYTES: usize = 24;

/// The session part of a Fetch request.
#[derive(Debug, Clone, Default)]
pub struct SessionRequest {
    /// `session_id` of the request.
    pub session_id: i32,
    /// `session_epoch` of the request.
    pub epoch: i32,
    /// Whether the fetcher is a replica (Kafka's followers), whose sessions
    /// may displace consumers'. Floe has no followers, and a client cannot
    /// claim to be one: `kafka/fetch.rs` always sets false. Kept so the
    /// eviction rule is Kafka's whole.
    pub privileged: bool,
    /// The partitions of the request, in request order.
    pub partitions: Vec<(PartitionKey, Wanted)>,
    /// Partitions the client no longer wants (incremental requests only).
    pub forgotten: Vec<PartitionKey>,
}

/// Why a request cannot be served in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The session does not exist (never did, evicted, closed, grown too
    /// large, or held by another agent).
    #[error("fetch session {0} not found")]
    NotFound(i32),
    /// The request's epoch is not the one the session expects: a request
    /// was lost, repeated, or raced another one of the same session.
    #[error("fetch session {id} expects epoch {expected}, got {got}")]
    InvalidEpoch {
        /// Session id.
        id: i32,
        /// Epoch the session expects.
        expected: i32,
        /// Epoch of the request.
        got: i32,
    },
}

/// How one request is served, decided before reading.
#[derive(Debug, Clone)]
pub enum FetchContext {
    /// No session: answer every partition of the request, session id 0.
    Sessionless {
        /// The partitions to read.
        partitions: Vec<(PartitionKey, Wanted)>,
    },
    /// A full request that asked for a session: answer every partition,
    /// then try to keep them as a new session.
    Full {
        /// The partitions to read.
        partitions: Vec<(PartitionKey, Wanted)>,
        /// See [`SessionRequest::privileged`].
        privileged: bool,
    },
    /// An incremental request of a live session: read every partition of
    /// the session, answer those with news.
    Incremental {
        /// Session id.
        id: i32,
        /// The session's epoch once this request is applied; the answer
        /// is refused if another request moved it meanwhile.
        epoch: i32,
        /// The session's partitions, in the order to read them.
        partitions: Vec<(PartitionKey, Wanted)>,
    },
}

impl FetchContext {
    /// `sessionless`, `full` or `incremental`, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sessionless { .. } => "sessionless",
            Self::Full { .. } => "full",
            Self::Incremental { .. } => "incremental",
        }
    }

    /// The partitions to read, in order.
    pub fn partitions(&self) -> &[(PartitionKey, Wanted)] {
        match self {
            Self::Sessionless { partitions }
            | Self::Full { partitions, .. }
            | Self::Incremental { partitions, .. } => partitions,
        }
    }
}

/// The session part of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Session id to send: the session's, or 0.
    pub session_id: i32,
    /// For each partition of [`FetchContext::partitions`], whether the
    /// answer includes it.
    pub keep: Vec<bool>,
}

/// Metric handles of the session cache.
#[derive(Debug, Clone)]
pub struct SessionMetrics {
    /// Sessions open.
    pub open: IntGauge,
    /// Partitions held by all sessions.
    pub partitions: IntGauge,
    /// Sessions evicted to make room for another.
    pub evictions: IntCounter,
}

/// The fetch sessions of one agent: a bounded cache, each session bounded.
#[derive(Debug)]
pub struct FetchSessions {
    cache: Mutex<SessionCache>,
    max_partitions: usize,
    metrics: SessionMetrics,
}

/// The epoch after `epoch`, wrapping to 1 (0 and -1 are reserved).
pub fn next_epoch(epoch: i32) -> i32 {
    if (INITIAL_EPOCH..i32::MAX).contains(&epoch) {
        epoch + 1
    } else {
        1
    }
}

impl FetchSessions {
    /// A cache of at most `slots` sessions (0: none is ever created), each
    /// of at most `max_partitions` partitions. `seed` fixes the session ids
    /// (tests); `None` draws them from the OS.
    pub fn new(
        slots: usize,
        max_partitions: usize,
        seed: Option<u64>,
        metrics: SessionMetrics,
    ) -> Self {
        Self {
            cache: Mutex::new(SessionCache::new(slots, seed)),
            max_partitions,
            metrics,
        }
    }

    /// Sessions open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, SessionCache> {
        // Plain data with no invariant a panic could break half-way: a
        // poisoned lock must not take the fetch path down with it.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decides how a request is served, and applies an incremental
    /// request's changes to its session (Kafka's `FetchManager.newContext`).
    pub fn open(&self, req: SessionRequest, now: Instant) -> Result<FetchContext, SessionError> {
        let mut cache = self.lock();
        if req.epoch == INITIAL_EPOCH || req.epoch == FINAL_EPOCH {
            if req.session_id != NO_SESSION {
                cache.remove(req.session_id);
                self.publish(&cache);
            }
            return Ok(if req.epoch == FINAL_EPOCH {
                FetchContext::Sessionless {
                    partitions: req.partitions,
                }
            } else {
                FetchContext::Full {
                    partitions: req.partitions,
                    privileged: req.privileged,
                }
            });
        }
        let id = req.session_id;
        let Some(session) = cache.get_mut(id) else {
            return Err(SessionError::NotFound(id));
        };
        if session.epoch != req.epoch {
            return Err(SessionError::InvalidEpoch {
                id,
                expected: session.epoch,
                got: req.epoch,
            });
        }
        for (key, wanted) in req.partitions {
            session.partitions.upsert(key, wanted);
        }
        for key in &req.forgotten {
            session.partitions.remove(key);
        }
        let context = if session.partitions.len() > self.max_partitions {
            // Grown past what one request could carry: the client starts
            // over with a full request, which gets no session.
            cache.remove(id);
            Err(SessionError::NotFound(id))
        } else if session.partitions.is_empty() {
            // Everything forgotten: the session ends, as in Kafka.
            cache.remove(id);
            Ok(FetchContext::Sessionless {
                partitions: Vec::new(),
            })
        } else {
            session.epoch = next_epoch(session.epoch);
            let context = FetchContext::Incremental {
                id,
                epoch: session.epoch,
                partitions: session.partitions.snapshot(),
            };
            cache.touch(id, now);
            Ok(context)
        };
        self.publish(&cache);
        context
    }

    /// The session part of the answer, once every partition of `context`
    /// was read (`found`, in the same order): creates the session of a
    /// full request, or picks the partitions an incremental answer
    /// includes and remembers what it told the client.
    pub fn answer(
        &self,
        context: &FetchContext,
        found: &[Found],
        now: Instant,
    ) -> Result<Answer, SessionError> {
        let everything = Answer {
            session_id: NO_SESSION,
            keep: vec![true; found.len()],
        };
        match context {
            FetchContext::Sessionless { .. } => Ok(everything),
            FetchContext::Full {
                partitions,
                privileged,
            } => {
                if partitions.is_empty() || partitions.len() > self.max_partitions {
                    return Ok(everything);
                }
                let mut kept = Partitions::default();
                for ((key, wanted), found) in partitions.iter().zip(found) {
                    kept.upsert(key.clone(), *wanted);
                    kept.note(key, found);
                }
                let mut cache = self.lock();
                let (id, evicted) = cache.create(*privileged, kept, now);
                if evicted {
                    self.metrics.evictions.inc();
                }
                self.publish(&cache);
                Ok(Answer {
                    session_id: id.unwrap_or(NO_SESSION),
                    ..everything
                })
            }
            FetchContext::Incremental {
                id,
                epoch,
                partitions,
            } => {
                let mut cache = self.lock();
                // While this request long-polled, the session may have been
                // closed or evicted (a client closing its consumer sends
                // epoch -1 with a poll still open), or moved on by a newer
                // request of the same session.
                let Some(session) = cache.get_mut(*id) else {
                    return Err(SessionError::NotFound(*id));
                };
                if session.epoch != *epoch {
                    return Err(SessionError::InvalidEpoch {
                        id: *id,
                        expected: session.epoch,
                        got: *epoch,
                    });
                }
                let keep: Vec<bool> = partitions
                    .iter()
                    .zip(found)
                    .map(|((key, _), found)| session.partitions.note(key, found))
                    .collect();
                for ((key, _), found) in partitions.iter().zip(found) {
                    if found.has_records {
                        session.partitions.move_to_back(key);
                    }
                }
                Ok(Answer {
                    session_id: *id,
                    keep,
                })
            }
        }
    }

    fn publish(&self, cache: &SessionCache) {
        self.metrics
            .open
            .set(i64::try_from(cache.len()).unwrap_or(i64::MAX));
        self.metrics
            .partitions
            .set(i64::try_from(cache.partitions()).unwrap_or(i64::MAX));
    }
}
