//! The report on stdout: a table per kind of case with the medians of the
//! runs, the round trips, the targets, and last one JSON line with the same
//! numbers for scripts.

use std::fmt::Write as _;

use serde_json::Value;

use crate::cases::producer_name;
use crate::committers::THROUGHPUT_WARMUP;
use crate::options::Options;
use crate::results::Results;
use crate::round_trips::{ROUND_TRIP_COMMITS, RoundTrips};
use crate::stats::{median_of, round3};
use crate::targets;
use crate::throughput::{SPREAD_TOPIC_PARTITIONS, THROUGHPUT_PARTITIONS};
use crate::workload::OFFSETS_PER_BATCH;

/// Prints the tables, the targets and the JSON line.
pub fn print(results: &Results, round_trips: Option<RoundTrips>, options: &Options) {
    let mut table = String::new();
    let latency_json = latency(&mut table, results);
    let throughput_json = throughput(&mut table, results, options);
    let round_trips_json = round_trips.as_ref().map_or(Value::Null, |round_trips| {
        round_trips_section(&mut table, round_trips)
    });
    let targets_json = targets::check(&mut table, results);
    println!("{table}");
    let json = serde_json::json!({
        "bench": "metadata_commit",
        "runs": options.runs,
        "latency": latency_json,
        "throughput": throughput_json,
        "round_trips": round_trips_json,
        "targets": targets_json,
    });
    println!("{json}");
}

/// Writes the latency table; returns its rows for the JSON line.
fn latency(table: &mut String, results: &Results) -> Vec<Value> {
    let _ = writeln!(
        table,
        "\nLatency of sequential commits, one batch of {OFFSETS_PER_BATCH} records per partition"
    );
    let _ = writeln!(
        table,
        "{:<9} {:>10} {:<11} {:>8} {:>9} {:>9} {:>9}",
        "backend", "partitions", "producer", "commits", "p50 ms", "p99 ms", "max ms"
    );
    let mut rows = Vec::new();
    for ((backend, partitions, idempotent), runs) in &results.latency {
        let p50 = median_of(runs, |run| run.p50);
        let p99 = median_of(runs, |run| run.p99);
        let max = median_of(runs, |run| run.max);
        let commits = runs.first().map_or(0, |run| run.commits);
        let _ = writeln!(
            table,
            "{:<9} {:>10} {:<11} {:>8} {:>9.3} {:>9.3} {:>9.3}",
            backend.name(),
            partitions,
            producer_name(*idempotent),
            commits,
            p50,
            p99,
            max
        );
        rows.push(serde_json::json!({
            "backend": backend.name(),
            "partitions": partitions,
            "producer": producer_name(*idempotent),
            "commits": commits,
            "p50_ms": round3(p50),
            "p99_ms": round3(p99),
            "max_ms": round3(max),
        }));
    }
    rows
}

/// Writes the throughput table (the hot-row reference included); returns
/// its rows for the JSON line.
fn throughput(table: &mut String, results: &Results, options: &Options) -> Vec<Value> {
    let _ = writeln!(
        table,
        "\nThroughput of {THROUGHPUT_PARTITIONS}-partition segments ({} s per case after {} ms of \
         warm-up; hot: the same {THROUGHPUT_PARTITIONS} partitions, spread: \
         {THROUGHPUT_PARTITIONS} random of {SPREAD_TOPIC_PARTITIONS})",
        options.seconds,
        THROUGHPUT_WARMUP.as_millis()
    );
    let _ = writeln!(
        table,
        "{:<9} {:<8} {:>10} {:>6} {:>10} {:>9} {:>9}",
        "backend", "scenario", "committers", "stores", "commits/s", "p50 ms", "p99 ms"
    );
    let mut rows = Vec::new();
    for ((backend, scenario, committers), runs) in &results.throughput {
        let per_second = median_of(runs, |run| run.per_second);
        let p50 = median_of(runs, |run| run.p50);
        let p99 = median_of(runs, |run| run.p99);
        let stores = runs.first().map_or(0, |run| run.stores);
        let _ = writeln!(
            table,
            "{:<9} {:<8} {:>10} {:>6} {:>10.0} {:>9.3} {:>9.3}",
            backend.name(),
            scenario.name(),
            committers,
            stores,
            per_second,
            p50,
            p99
        );
        rows.push(serde_json::json!({
            "backend": backend.name(),
            "scenario": scenario.name(),
            "committers": committers,
            "stores": stores,
            "commits_per_s": per_second.round(),
            "p50_ms": round3(p50),
            "p99_ms": round3(p99),
        }));
    }
    rows
}

/// Writes the round trips and the statements counted; returns them for the
/// JSON line.
fn round_trips_section(table: &mut String, round_trips: &RoundTrips) -> Value {
    let _ = writeln!(
        table,
        "\nRound trips (Postgres, {ROUND_TRIP_COMMITS} sequential commits of \
         {THROUGHPUT_PARTITIONS} partitions after warm-up): {:.2} statements per commit: \
         {:.2} call of floe_commit_segment (the commit's one round trip) and {:.2} NOTIFY \
         (sent after the commit, in the background, merged when commits come faster); \
         {:.2} transaction ids per commit",
        round_trips.statements_per_commit,
        round_trips.commit_calls_per_commit,
        round_trips.notifies_per_commit,
        round_trips.transactions_per_commit
    );
    for (query, calls) in &round_trips.statements {
        let _ = writeln!(table, "  {calls:>6} × {query}");
    }
    serde_json::json!({
        "statements_per_commit": round3(round_trips.statements_per_commit),
        "commit_calls_per_commit": round3(round_trips.commit_calls_per_commit),
        "notifies_per_commit": round3(round_trips.notifies_per_commit),
        "xids_per_commit": round3(round_trips.transactions_per_commit),
    })
}
