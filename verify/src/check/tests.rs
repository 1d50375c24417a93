//! Each violation kind is detected on a synthetic history, and a clean
//! history (with redeliveries, foreign records and an unknown outcome stored
//! once) passes.

use std::time::Duration;

use super::*;
use crate::history::{Ack, Commit, Failure, Read, Watermarks};

const BOUND: Duration = Duration::from_secs(30);

fn id(producer: u32, seq: u64) -> RecordId {
    RecordId { producer, seq }
}

fn read(partition: i32, offset: i64, value: Value) -> Read {
    Read {
        partition,
        offset,
        value,
    }
}

/// Two producers on two partitions, 0..4 and 0..3, read once, plus: one
/// redelivered offset, one foreign record at offset 0 of partition 1, an
/// unknown outcome stored once, a definite failure not stored, increasing
/// commits, a short stall.
fn clean() -> History {
    let mut h = History {
        partitions: vec![0, 1],
        ..History::default()
    };
    // Partition 0: p0 seq 0, p1 seq 0, p0 seq 1, p1 seq 1.
    let p0 = [(id(0, 0), 0), (id(1, 0), 1), (id(0, 1), 2), (id(1, 1), 3)];
    // Partition 1: foreign at 0, then p0 seq 2, the unknown p1 seq 2, p0 seq 3.
    let p1 = [(id(0, 2), 1), (id(0, 3), 3)];
    for (rid, offset) in p0 {
        h.acks.push(Ack {
            id: rid,
            partition: 0,
            offset,
        });
        h.reads.push(read(0, offset, Value::Ours(rid)));
    }
    for (rid, offset) in p1 {
        h.acks.push(Ack {
            id: rid,
            partition: 1,
            offset,
        });
    }
    h.reads.push(read(1, 0, Value::Foreign));
    h.reads.push(read(1, 1, Value::Ours(id(0, 2))));
    h.reads.push(read(1, 2, Value::Ours(id(1, 2))));
    h.reads.push(read(1, 3, Value::Ours(id(0, 3))));
    // Redelivery of partition 0 offsets 2..4 to another consumer.
    h.reads.push(read(0, 2, Value::Ours(id(0, 1))));
    h.reads.push(read(0, 3, Value::Ours(id(1, 1))));
    h.failures.push(Failure {
        id: id(1, 2),
        definite: false,
    });
    h.failures.push(Failure {
        id: id(1, 3),
        definite: true,
    });
    h.watermarks.insert(0, Watermarks { low: 0, high: 4 });
    h.watermarks.insert(1, Watermarks { low: 0, high: 4 });
    for (consumer, partition, offset) in [(0, 0, 2), (0, 1, 1), (1, 0, 2), (1, 0, 4), (1, 1, 4)] {
        h.commits.push(Commit {
            consumer,
            partition,
            offset,
        });
    }
    h.longest_stall.insert(0, Duration::from_secs(3));
    h
}

fn only(verdict: &Verdict, kind: Kind) -> u64 {
    assert_eq!(
        verdict.violations.keys().copied().collect::<Vec<_>>(),
        vec![kind],
        "expected only {kind:?}: {verdict:#?}"
    );
    verdict.violations[&kind]
}

#[test]
fn a_clean_history_passes() {
    let v = check(&clean(), BOUND);
    assert!(v.passed(), "{v:#?}");
    assert_eq!(v.records_checked, 6);
    assert_eq!(v.offsets_read, 8);
    assert_eq!(v.redelivered, 2);
    assert_eq!(v.foreign, 1);
    assert_eq!(v.unknown_outcome, 1);
    assert_eq!(v.unknown_stored, 1);
    assert_eq!(v.failed_definite, 1);
    assert_eq!(v.commits, 5);
    assert_eq!((v.lost, v.duplicates), (0, 0));
    assert_eq!(v.longest_stall_secs, 3.0);
}

#[test]
fn an_acknowledged_record_never_read_is_lost() {
    let mut h = clean();
    // Partition 1 offset 3 is acked but the consumers never got there.
    h.reads.retain(|r| (r.partition, r.offset) != (1, 3));
    let v = check(&h, BOUND);
    assert_eq!(v.lost, 1);
    assert_eq!(v.violations[&Kind::Lost], 1);
    // It is also a hole below the high watermark.
    assert_eq!(v.violations[&Kind::Gap], 1);
    assert!(!v.passed());
}

#[test]
fn a_value_at_two_offsets_is_a_duplicate() {
    let mut h = clean();
    // The unknown-outcome record stored twice: a retry written again.
    h.reads.push(read(1, 4, Value::Ours(id(1, 2))));
    h.watermarks.insert(1, Watermarks { low: 0, high: 5 });
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::Duplicate), 1);
    assert_eq!(v.duplicates, 1);
}

#[test]
fn an_acked_value_stored_again_is_a_duplicate() {
    let mut h = clean();
    h.reads.push(read(1, 4, Value::Ours(id(0, 0))));
    h.watermarks.insert(1, Watermarks { low: 0, high: 5 });
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::Duplicate), 1);
}

#[test]
fn an_offset_read_with_two_values_is_a_conflict() {
    let mut h = clean();
    h.reads.push(read(0, 1, Value::Foreign));
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::OffsetConflict), 1);
    assert_eq!(v.duplicates, 1);
}

#[test]
fn two_acks_naming_one_offset_are_flagged() {
    let mut h = clean();
    // The unknown record is acked at the offset of another acked record.
    h.failures.retain(|f| f.id != id(1, 2));
    h.acks.push(Ack {
        id: id(1, 2),
        partition: 1,
        offset: 3,
    });
    let v = check(&h, BOUND);
    assert_eq!(v.violations[&Kind::AckedOffsetReused], 1);
    // It was read at offset 2, not where acked.
    assert_eq!(v.violations[&Kind::AckMismatch], 1);
    assert_eq!(v.duplicates, 1);
}

#[test]
fn a_record_read_elsewhere_than_acked_is_a_mismatch() {
    let mut h = clean();
    for ack in &mut h.acks {
        if ack.id == id(0, 3) {
            ack.offset = 2;
        }
    }
    let v = check(&h, BOUND);
    assert!(v.violations.contains_key(&Kind::AckMismatch), "{v:#?}");
    assert_eq!(v.lost, 0);
}

#[test]
fn records_out_of_send_order_break_order() {
    let mut h = clean();
    // Producer 0's records 0 and 1 swapped in partition 0.
    for ack in &mut h.acks {
        if ack.id == id(0, 0) {
            ack.offset = 2;
        } else if ack.id == id(0, 1) {
            ack.offset = 0;
        }
    }
    for r in &mut h.reads {
        if r.partition == 0 && r.offset == 0 {
            r.value = Value::Ours(id(0, 1));
        } else if r.partition == 0 && r.offset == 2 {
            r.value = Value::Ours(id(0, 0));
        }
    }
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::OrderBroken), 1);
}

#[test]
fn an_unread_offset_below_the_high_watermark_is_a_gap() {
    let mut h = clean();
    // The log says partition 1 holds 6 records; offsets 4 and 5 were never read.
    h.watermarks.insert(1, Watermarks { low: 0, high: 6 });
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::Gap), 1);
    assert!(v.examples[0].detail.contains("4..6"), "{:?}", v.examples);
}

#[test]
fn a_hole_in_the_middle_is_a_gap_even_without_watermarks() {
    let mut h = clean();
    h.watermarks.clear();
    // Foreign offset 1..2 of partition 1 missing: reads 0, 2, 3 and acked 1 lost.
    h.reads.retain(|r| (r.partition, r.offset) != (1, 1));
    let v = check(&h, BOUND);
    assert_eq!(v.violations[&Kind::Gap], 1);
    assert_eq!(v.violations[&Kind::Lost], 1);
}

#[test]
fn a_committed_offset_going_back_is_flagged() {
    let mut h = clean();
    h.commits.push(Commit {
        consumer: 0,
        partition: 0,
        offset: 3,
    });
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::CommitBackwards), 1);
}

#[test]
fn a_stall_beyond_the_bound_is_stuck() {
    let mut h = clean();
    h.longest_stall.insert(1, Duration::from_secs(31));
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::Stuck), 1);
    assert_eq!(v.longest_stall_secs, 31.0);
}

#[test]
fn a_definite_failure_that_was_stored_is_flagged() {
    let mut h = clean();
    for f in &mut h.failures {
        f.definite = true;
    }
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::FailedButStored), 1);
}

#[test]
fn a_fatal_producer_error_fails_the_run() {
    let mut h = clean();
    h.producer_fatal.push("OutOfOrderSequenceNumber".into());
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::ProducerFatal), 1);
}

#[test]
fn examples_are_capped_but_every_violation_is_counted() {
    let mut h = clean();
    h.reads.clear();
    h.watermarks.clear();
    for seq in 0..100 {
        h.acks.push(Ack {
            id: id(5, seq),
            partition: 0,
            offset: 100 + i64::try_from(seq).expect("small"),
        });
    }
    let v = check(&h, BOUND);
    assert_eq!(v.lost, 106);
    assert_eq!(v.examples.len(), EXAMPLES);
}

#[test]
fn an_ack_without_offset_must_be_read_once_in_its_partition() {
    let mut h = clean();
    // The broker answered a retry DUPLICATE_SEQUENCE_NUMBER: acked, offset unknown.
    for ack in &mut h.acks {
        if ack.id == id(0, 3) {
            ack.offset = -1001;
        }
    }
    let v = check(&h, BOUND);
    assert!(v.passed(), "{v:#?}");
    assert_eq!(v.acked_without_offset, 1);
    // Read nowhere: lost.
    h.reads.retain(|r| (r.partition, r.offset) != (1, 3));
    h.watermarks.insert(1, Watermarks { low: 0, high: 3 });
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::Lost), 1);
}

#[test]
fn an_ack_without_offset_read_before_an_earlier_record_breaks_order() {
    let mut h = clean();
    // Producer 0's record 3 (acked without offset) read at offset 0 of
    // partition 1, before its record 2 at offset 1.
    for ack in &mut h.acks {
        if ack.id == id(0, 3) {
            ack.offset = -1001;
        }
    }
    for r in &mut h.reads {
        if (r.partition, r.offset) == (1, 0) {
            r.value = Value::Ours(id(0, 3));
        } else if (r.partition, r.offset) == (1, 3) {
            r.value = Value::Foreign;
        }
    }
    let v = check(&h, BOUND);
    assert_eq!(only(&v, Kind::OrderBroken), 1);
}
