//! The summary: a human report on stdout, and with `--json` one JSON object
//! on the last line.

use std::io::Write;

use serde::Serialize;

use crate::VerifyError;
use crate::check::Verdict;

/// Everything the run reports.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The topic checked.
    pub topic: String,
    /// This run's id (in every value it wrote, and in the group name).
    pub run: String,
    /// Partitions of the topic.
    pub partitions: usize,
    /// Producer clients.
    pub producers: usize,
    /// Consumer clients.
    pub consumers: usize,
    /// Wall time of the whole run, drain included.
    pub duration_secs: f64,
    /// `--rate`.
    pub rate: f64,
    /// `--stuck-after`.
    pub stuck_after_secs: f64,
    /// Whether consumers reached every high watermark before the drain timeout.
    pub drained: bool,
    /// Poll and commit errors consumers saw (expected while agents restart).
    pub consumer_errors: u64,
    /// The first delivery error a producer saw.
    pub first_delivery_error: Option<String>,
    /// Whether no check failed.
    pub passed: bool,
    /// What the checks found.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Writes the summary to stdout.
pub fn print(summary: &Summary, json: bool) -> Result<(), VerifyError> {
    let mut out = std::io::stdout().lock();
    out.write_all(human(summary).as_bytes())
        .map_err(VerifyError::Output)?;
    if json {
        let line = serde_json::to_string(summary)
            .map_err(|e| VerifyError::Output(std::io::Error::other(e)))?;
        writeln!(out, "{line}").map_err(VerifyError::Output)?;
    }
    out.flush().map_err(VerifyError::Output)
}

/// The human report.
fn human(s: &Summary) -> String {
    let v = &s.verdict;
    let mut text = format!(
        "floe verify run {} on topic {} ({} partitions, {} producers, {} consumers, {:.1} s)\n\
         records checked (acknowledged): {}\n\
         definite send failures: {}, unknown outcomes: {} (stored: {})\n\
         offsets read: {} (redelivered {}, foreign {}), commits: {}, consumer errors: {}\n\
         drained to the high watermarks: {}, longest stall: {:.1} s (bound {:.1} s)\n\
         lost: {}, duplicates: {}\n",
        s.run,
        s.topic,
        s.partitions,
        s.producers,
        s.consumers,
        s.duration_secs,
        v.records_checked,
        v.failed_definite,
        v.unknown_outcome,
        v.unknown_stored,
        v.offsets_read,
        v.redelivered,
        v.foreign,
        v.commits,
        s.consumer_errors,
        if s.drained { "yes" } else { "no" },
        v.longest_stall_secs,
        s.stuck_after_secs,
        v.lost,
        v.duplicates,
    );
    if let Some(error) = &s.first_delivery_error {
        text.push_str(&format!("first delivery error: {error}\n"));
    }
    if s.passed {
        text.push_str("PASSED: no violations\n");
    } else {
        text.push_str(&format!("FAILED: {} violations\n", v.violation_count()));
        for (kind, count) in &v.violations {
            text.push_str(&format!("  {kind:?}: {count}\n"));
        }
        for example in &v.examples {
            text.push_str(&format!("  - {:?}: {}\n", example.kind, example.detail));
        }
    }
    text
}
