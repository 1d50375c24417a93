//! The flags and the run's bookkeeping between the threads and the checks.

use clap::Parser;

use super::*;
use crate::history::{Ack, Read, Value};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    verify: VerifyArgs,
}

fn parse(args: &[&str]) -> Result<VerifyArgs, clap::Error> {
    Cli::try_parse_from(std::iter::once("verify").chain(args.iter().copied())).map(|c| c.verify)
}

#[test]
fn parses_the_documented_interface() {
    let a = parse(&[
        "--bootstrap",
        "127.0.0.1:29092",
        "--topic",
        "v1",
        "--partitions",
        "6",
        "--producers",
        "3",
        "--consumers",
        "2",
        "--duration",
        "90",
        "--rate",
        "500",
        "--stuck-after",
        "45",
        "--json",
    ])
    .expect("valid flags");
    assert_eq!(a.partitions, 6);
    assert_eq!(a.producers, 3);
    assert_eq!(a.rate, 500.0);
    assert_eq!(a.stuck_after, 45.0);
    assert!(a.json);
    assert!(a.validate().is_ok());
}

#[test]
fn rejects_values_that_cannot_run() {
    for bad in [
        &["--duration", "0"][..],
        &["--rate=-1"],
        &["--producers", "0"],
        &["--consumers", "0"],
        &["--partitions", "0"],
        &["--keys", "0"],
        &["--stuck-after", "0"],
    ] {
        let a = parse(bad).expect("parses");
        assert!(
            matches!(a.validate(), Err(VerifyError::InvalidArgs(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn records_without_a_report_have_an_unknown_outcome() {
    let mut h = History::default();
    h.acks.push(Ack {
        id: RecordId {
            producer: 0,
            seq: 0,
        },
        partition: 0,
        offset: 0,
    });
    h.failures.push(Failure {
        id: RecordId {
            producer: 0,
            seq: 2,
        },
        definite: true,
    });
    record_unknown_outcomes(&mut h, &BTreeMap::from([(0, 4), (1, 1)]));
    let unknown: Vec<(u32, u64)> = h
        .failures
        .iter()
        .filter(|f| !f.definite)
        .map(|f| (f.id.producer, f.id.seq))
        .collect();
    assert_eq!(unknown, vec![(0, 1), (0, 3), (1, 0)]);
}

#[test]
fn caught_up_needs_every_high_watermark_and_every_ack_read() {
    let mut r = Recorder::default();
    let marks = BTreeMap::from([
        (0, Watermarks { low: 0, high: 2 }),
        (1, Watermarks { low: 0, high: 0 }),
    ]);
    assert!(!caught_up(&r, &[0, 1], &marks));
    for offset in 0..2 {
        r.history.reads.push(Read {
            partition: 0,
            offset,
            value: Value::Foreign,
        });
    }
    assert!(caught_up(&r, &[0, 1], &marks));
    // An ack beyond what the watermark said: not caught up yet.
    r.history.acks.push(Ack {
        id: RecordId {
            producer: 0,
            seq: 0,
        },
        partition: 1,
        offset: 0,
    });
    assert!(!caught_up(&r, &[0, 1], &marks));
    // A partition whose watermarks are unknown: not caught up.
    assert!(!caught_up(&r, &[0, 1, 2], &marks));
}
