//! The checks: from a [`History`] to a [`Verdict`].
//!
//! Pure code over plain data, so every kind of violation is shown to be
//! detected on synthetic histories (`check/tests.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde::Serialize;

use crate::history::{History, RecordId, Value};

/// How many violations the verdict spells out; the rest are only counted,
/// so a badly broken run still prints a readable summary.
pub const EXAMPLES: usize = 20;

/// The kinds of violation the checker knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An acknowledged record was never read.
    Lost,
    /// One value was read at two different offsets.
    Duplicate,
    /// One offset was read with two different values.
    OffsetConflict,
    /// Two acknowledgements named the same offset.
    AckedOffsetReused,
    /// An acknowledged record was read, but not at the acknowledged offset.
    AckMismatch,
    /// A producer's records landed in a partition out of send order.
    OrderBroken,
    /// Offsets between the log start and the high watermark were never read.
    Gap,
    /// A partition's committed offset went backwards.
    CommitBackwards,
    /// A partition had unread acknowledged records and no reader for longer
    /// than the bound.
    Stuck,
    /// A record whose send failed definitely was stored after all.
    FailedButStored,
    /// A producer hit a fatal error (its idempotence guarantees broke).
    ProducerFatal,
}

impl Kind {
    /// Whether a violation of this kind is a duplicate record.
    fn is_duplicate(self) -> bool {
        matches!(
            self,
            Kind::Duplicate | Kind::OffsetConflict | Kind::AckedOffsetReused
        )
    }
}

/// One violation found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Its kind.
    pub kind: Kind,
    /// What exactly was seen, for a human.
    pub detail: String,
}

/// The outcome of the checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verdict {
    /// Acknowledged records checked (each must be read exactly where acked).
    pub records_checked: u64,
    /// Of those, acknowledged without an offset (a retry the broker answered
    /// DUPLICATE_SEQUENCE_NUMBER): each must be read once in its partition.
    pub acked_without_offset: u64,
    /// Sent records whose send failed definitely (must never be read).
    pub failed_definite: u64,
    /// Sent records whose outcome stayed unknown (may be read once).
    pub unknown_outcome: u64,
    /// Of those, how many were read (stored after all).
    pub unknown_stored: u64,
    /// Distinct offsets read.
    pub offsets_read: u64,
    /// Reads of an offset already read (redelivery after a rebalance).
    pub redelivered: u64,
    /// Reads of values this run did not write.
    pub foreign: u64,
    /// Offset commits accepted.
    pub commits: u64,
    /// Longest stall of any partition, in seconds.
    pub longest_stall_secs: f64,
    /// Acknowledged records never read.
    pub lost: u64,
    /// Records stored twice (a value at two offsets, two values at one offset,
    /// two acks naming one offset).
    pub duplicates: u64,
    /// Violations by kind.
    pub violations: BTreeMap<Kind, u64>,
    /// The first [`EXAMPLES`] violations.
    pub examples: Vec<Violation>,
}

impl Verdict {
    /// Whether the run showed no violation at all.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Number of violations of every kind.
    pub fn violation_count(&self) -> u64 {
        self.violations.values().sum()
    }

    fn violate(&mut self, kind: Kind, detail: impl FnOnce() -> String) {
        *self.violations.entry(kind).or_default() += 1;
        if kind == Kind::Lost {
            self.lost += 1;
        }
        if kind.is_duplicate() {
            self.duplicates += 1;
        }
        if self.examples.len() < EXAMPLES {
            self.examples.push(Violation {
                kind,
                detail: detail(),
            });
        }
    }
}

/// Checks `history`; `stuck_after` bounds how long a partition may have
/// unread acknowledged records while nothing is read from it.
pub fn check(history: &History, stuck_after: Duration) -> Verdict {
    let mut v = Verdict {
        records_checked: history.acks.len() as u64,
        commits: history.commits.len() as u64,
        ..Verdict::default()
    };
    let stored = stored_values(history, &mut v);
    let acked: HashMap<RecordId, (i32, i64)> = history
        .acks
        .iter()
        .map(|a| (a.id, (a.partition, a.offset)))
        .collect();
    let positions = positions_of(&stored, &acked, &mut v);
    check_acks(history, &stored, &positions, &mut v);
    check_order(history, &positions, &mut v);
    check_failures(history, &positions, &mut v);
    check_gaps(history, &stored, &mut v);
    check_commits(history, &mut v);
    for (partition, stall) in &history.longest_stall {
        v.longest_stall_secs = v.longest_stall_secs.max(stall.as_secs_f64());
        if *stall > stuck_after {
            v.violate(Kind::Stuck, || {
                format!(
                    "partition {partition}: no record read for {:.1} s while acknowledged \
                     records were unread (bound {:.1} s)",
                    stall.as_secs_f64(),
                    stuck_after.as_secs_f64()
                )
            });
        }
    }
    for error in &history.producer_fatal {
        v.violate(Kind::ProducerFatal, || {
            format!("producer fatal error: {error}")
        });
    }
    v
}

/// What each read offset holds: (partition, offset) to value. Flags offsets
/// read with two values; counts redeliveries and foreign values.
fn stored_values(history: &History, v: &mut Verdict) -> BTreeMap<(i32, i64), Value> {
    let mut stored: BTreeMap<(i32, i64), Value> = BTreeMap::new();
    let mut conflicting: BTreeSet<(i32, i64)> = BTreeSet::new();
    for read in &history.reads {
        if read.value == Value::Foreign {
            v.foreign += 1;
        }
        match stored.get(&(read.partition, read.offset)) {
            None => {
                stored.insert((read.partition, read.offset), read.value.clone());
            }
            Some(seen) => {
                v.redelivered += 1;
                if *seen != read.value && conflicting.insert((read.partition, read.offset)) {
                    v.violate(Kind::OffsetConflict, || {
                        format!(
                            "partition {} offset {} read as {seen:?} and as {:?}",
                            read.partition, read.offset, read.value
                        )
                    });
                }
            }
        }
    }
    v.offsets_read = stored.len() as u64;
    stored
}

/// Where each of this run's values was read; flags values at two offsets
/// (naming the acknowledged one, which tells the original from the copy).
fn positions_of(
    stored: &BTreeMap<(i32, i64), Value>,
    acked: &HashMap<RecordId, (i32, i64)>,
    v: &mut Verdict,
) -> HashMap<RecordId, Vec<(i32, i64)>> {
    let mut positions: HashMap<RecordId, Vec<(i32, i64)>> = HashMap::new();
    for (at, value) in stored {
        if let Value::Ours(id) = value {
            positions.entry(*id).or_default().push(*at);
        }
    }
    let mut twice: Vec<(&RecordId, &Vec<(i32, i64)>)> =
        positions.iter().filter(|(_, at)| at.len() > 1).collect();
    twice.sort();
    for (id, at) in twice {
        v.violate(Kind::Duplicate, || {
            format!(
                "producer {} record {} stored at {} (partition, offset) pairs: {at:?}; \
                 acknowledged at {:?}",
                id.producer,
                id.seq,
                at.len(),
                acked.get(id)
            )
        });
    }
    positions
}

/// Every acknowledged record is read, at the offset acknowledged; no two
/// acknowledgements name one offset.
fn check_acks(
    history: &History,
    stored: &BTreeMap<(i32, i64), Value>,
    positions: &HashMap<RecordId, Vec<(i32, i64)>>,
    v: &mut Verdict,
) {
    let mut acked_at: HashMap<(i32, i64), RecordId> = HashMap::new();
    for ack in &history.acks {
        if ack.offset < 0 {
            v.acked_without_offset += 1;
            let read_at = positions.get(&ack.id);
            if !read_at.is_some_and(|at| at.iter().any(|(p, _)| *p == ack.partition)) {
                v.violate(Kind::Lost, || {
                    format!(
                        "producer {} record {} acknowledged (without offset) in partition {} \
                         was never read there (read at {read_at:?})",
                        ack.id.producer, ack.id.seq, ack.partition
                    )
                });
            }
            continue;
        }
        let at = (ack.partition, ack.offset);
        if let Some(other) = acked_at.insert(at, ack.id)
            && other != ack.id
        {
            v.violate(Kind::AckedOffsetReused, || {
                format!(
                    "partition {} offset {} acknowledged for {other:?} and for {:?}",
                    ack.partition, ack.offset, ack.id
                )
            });
        }
        if stored.get(&at) == Some(&Value::Ours(ack.id)) {
            continue;
        }
        match positions.get(&ack.id) {
            None => v.violate(Kind::Lost, || {
                format!(
                    "producer {} record {} acknowledged at partition {} offset {} was never read",
                    ack.id.producer, ack.id.seq, ack.partition, ack.offset
                )
            }),
            Some(read_at) => v.violate(Kind::AckMismatch, || {
                format!(
                    "producer {} record {} acknowledged at partition {} offset {} but read at \
                     {read_at:?}",
                    ack.id.producer, ack.id.seq, ack.partition, ack.offset
                )
            }),
        }
    }
}

/// Within a partition, each producer's acknowledged records sit in send order
/// (a record acknowledged without an offset is placed where it was read).
fn check_order(history: &History, positions: &HashMap<RecordId, Vec<(i32, i64)>>, v: &mut Verdict) {
    let mut by_stream: BTreeMap<(u32, i32), Vec<(u64, i64)>> = BTreeMap::new();
    for ack in &history.acks {
        let offset = if ack.offset >= 0 {
            Some(ack.offset)
        } else {
            positions.get(&ack.id).and_then(|at| {
                at.iter()
                    .find(|(p, _)| *p == ack.partition)
                    .map(|(_, o)| *o)
            })
        };
        if let Some(offset) = offset {
            by_stream
                .entry((ack.id.producer, ack.partition))
                .or_default()
                .push((ack.id.seq, offset));
        }
    }
    for ((producer, partition), mut stream) in by_stream {
        stream.sort_unstable();
        for pair in stream.windows(2) {
            let ((seq_a, off_a), (seq_b, off_b)) = (pair[0], pair[1]);
            if off_b <= off_a {
                v.violate(Kind::OrderBroken, || {
                    format!(
                        "producer {producer} partition {partition}: record {seq_a} at offset \
                         {off_a} but the later record {seq_b} at offset {off_b}"
                    )
                });
            }
        }
    }
}

/// Definite failures were not stored; counts unknown outcomes and how many
/// of them were stored (once: twice is a duplicate, flagged above).
fn check_failures(
    history: &History,
    positions: &HashMap<RecordId, Vec<(i32, i64)>>,
    v: &mut Verdict,
) {
    for failure in &history.failures {
        let read_at = positions.get(&failure.id);
        if failure.definite {
            v.failed_definite += 1;
            if let Some(at) = read_at {
                v.violate(Kind::FailedButStored, || {
                    format!(
                        "producer {} record {} failed definitely but was read at {at:?}",
                        failure.id.producer, failure.id.seq
                    )
                });
            }
        } else {
            v.unknown_outcome += 1;
            if read_at.is_some() {
                v.unknown_stored += 1;
            }
        }
    }
}

/// Every offset from the log start to the high watermark was read.
fn check_gaps(history: &History, stored: &BTreeMap<(i32, i64), Value>, v: &mut Verdict) {
    for &partition in &history.partitions {
        let read: Vec<i64> = stored
            .range((partition, i64::MIN)..=(partition, i64::MAX))
            .map(|((_, offset), _)| *offset)
            .collect();
        let marks = history.watermarks.get(&partition);
        let start = marks.map_or_else(|| read.first().copied().unwrap_or(0), |m| m.low);
        let end = marks.map_or_else(|| read.last().map_or(0, |o| o + 1), |m| m.high);
        let mut next = start;
        for &offset in read.iter().filter(|o| **o >= start && **o < end) {
            if offset > next {
                report_gap(v, partition, next, offset);
            }
            next = offset + 1;
        }
        if next < end {
            report_gap(v, partition, next, end);
        }
    }
}

fn report_gap(v: &mut Verdict, partition: i32, from: i64, to: i64) {
    v.violate(Kind::Gap, || {
        format!(
            "partition {partition}: offsets {from}..{to} ({} records) were never read",
            to - from
        )
    });
}

/// Each partition's committed offset never decreases.
fn check_commits(history: &History, v: &mut Verdict) {
    let mut last: BTreeMap<i32, (i64, u32)> = BTreeMap::new();
    for commit in &history.commits {
        if let Some(&(before, by)) = last.get(&commit.partition)
            && commit.offset < before
        {
            v.violate(Kind::CommitBackwards, || {
                format!(
                    "partition {}: consumer {} committed {} after consumer {by} committed {before}",
                    commit.partition, commit.consumer, commit.offset
                )
            });
        }
        last.insert(commit.partition, (commit.offset, commit.consumer));
    }
}

#[cfg(test)]
mod tests;
