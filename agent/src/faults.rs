//! Fault injection, for tests only: wrappers around the object store
//! ([`FaultyObjectStore`]) and the metadata store ([`FaultyMetadataStore`])
//! that fail requests, lose answers, hang or slow down, at rates set by the
//! test-only setting `fault_injection` (off by default) or forced one by one
//! from a unit test. They wrap the real stores, so what does happen is real.
//!
//! The setting is a comma-separated list of `name=value`, e.g.
//! `put_error=0.1,commit_lost=0.05,latency_ms=20,seed=7`; see [`FaultSpec`].

mod metadata;
mod object_store;

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

pub use metadata::FaultyMetadataStore;
pub use object_store::FaultyObjectStore;

/// The faults a wrapper can inject. Each is drawn independently per call
/// of the kind it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// A PUT fails before anything is stored (a 5xx, SlowDown).
    PutError,
    /// A PUT is stored, but its answer is lost: the caller sees an error.
    PutLost,
    /// A GET (ranged or whole) fails.
    GetError,
    /// A segment commit fails before it reaches the store.
    CommitError,
    /// A segment commit is applied, but its answer is lost: the caller
    /// sees an error, as after a dropped connection.
    CommitLost,
    /// A segment commit never answers and is not applied (a stalled
    /// connection): the caller's timeout decides.
    CommitHang,
    /// A metadata read (offsets, index rows, topics) fails.
    ReadError,
}

impl Fault {
    const ALL: [Fault; 7] = [
        Fault::PutError,
        Fault::PutLost,
        Fault::GetError,
        Fault::CommitError,
        Fault::CommitLost,
        Fault::CommitHang,
        Fault::ReadError,
    ];

    /// The name in the `fault_injection` setting.
    pub fn name(self) -> &'static str {
        match self {
            Fault::PutError => "put_error",
            Fault::PutLost => "put_lost",
            Fault::GetError => "get_error",
            Fault::CommitError => "commit_error",
            Fault::CommitLost => "commit_lost",
            Fault::CommitHang => "commit_hang",
            Fault::ReadError => "read_error",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Rates of the faults (0 to 1 each), the latency added to every call, and
/// the seed of the draws.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    rates: [f64; Fault::ALL.len()],
    /// Each call first waits a uniform draw from `0..=latency`.
    pub latency: Duration,
    /// Seed of the random draws, so a failing run can be replayed.
    pub seed: u64,
}

impl Default for FaultSpec {
    fn default() -> Self {
        Self {
            rates: [0.0; Fault::ALL.len()],
            latency: Duration::ZERO,
            seed: 0,
        }
    }
}

/// Why a `fault_injection` setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad fault_injection setting: {0}")]
pub struct FaultSpecError(String);

impl FaultSpec {
    /// Parses `name=value,…`: a rate from 0 to 1 for each [`Fault`] name,
    /// `latency_ms`, and `seed`.
    pub fn parse(text: &str) -> Result<Self, FaultSpecError> {
        let mut spec = FaultSpec::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError(format!("{item:?} is not name=value")))?;
            let bad = |what: &str| FaultSpecError(format!("{name}: {value:?} is not {what}"));
            match name.trim() {
                "latency_ms" => {
                    let ms = value.trim().parse().map_err(|_| bad("a whole number"))?;
                    spec.latency = Duration::from_millis(ms);
                }
                "seed" => spec.seed = value.trim().parse().map_err(|_| bad("a whole number"))?,
                other => {
                    let fault = Fault::ALL
                        .into_iter()
                        .find(|f| f.name() == other)
                        .ok_or_else(|| FaultSpecError(format!("unknown fault {other:?}")))?;
                    let rate: f64 = value.trim().parse().map_err(|_| bad("a number"))?;
                    if !(0.0..=1.0).contains(&rate) {
                        return Err(bad("a rate from 0 to 1"));
                    }
                    spec.rates[fault.index()] = rate;
                }
            }
        }
        Ok(spec)
    }

    /// Sets the rate of one fault.
    pub fn with_rate(mut self, fault: Fault, rate: f64) -> Self {
        self.rates[fault.index()] = rate.clamp(0.0, 1.0);
        self
    }

    /// The rate of one fault.
    pub fn rate(&self, fault: Fault) -> f64 {
        self.rates[fault.index()]
    }
}

/// Decides, call by call, which fault to inject: first the faults forced
/// by a test ([`Faults::force`]), then random draws at the spec's rates.
/// Shared by both wrappers of an agent, so one seed replays a whole run.
#[derive(Debug)]
pub struct Faults {
    spec: FaultSpec,
    state: Mutex<State>,
    /// While true, PUTs wait before doing anything: a test holds uploads
    /// back to line up several sealed segments.
    puts_paused: watch::Sender<bool>,
}

#[derive(Debug)]
struct State {
    rng: StdRng,
    forced: [u32; Fault::ALL.len()],
    injected: [u64; Fault::ALL.len()],
}

impl Faults {
    /// Faults drawn at `spec`'s rates.
    pub fn new(spec: FaultSpec) -> Self {
        let rng = StdRng::seed_from_u64(spec.seed);
        Self {
            spec,
            state: Mutex::new(State {
                rng,
                forced: [0; Fault::ALL.len()],
                injected: [0; Fault::ALL.len()],
            }),
            puts_paused: watch::Sender::new(false),
        }
    }

    /// Holds every PUT back (`true`) until released (`false`).
    pub fn pause_puts(&self, paused: bool) {
        self.puts_paused.send_replace(paused);
    }

    /// Waits while PUTs are paused.
    async fn put_gate(&self) {
        let mut paused = self.puts_paused.subscribe();
        // An error means the sender is gone with `self`: nothing to wait for.
        let _ = paused.wait_for(|p| !*p).await;
    }

    /// Makes the next `times` calls that can suffer `fault` suffer it.
    pub fn force(&self, fault: Fault, times: u32) {
        if let Ok(mut s) = self.state.lock() {
            s.forced[fault.index()] += times;
        }
    }

    /// How many times `fault` was injected so far.
    pub fn injected(&self, fault: Fault) -> u64 {
        self.state
            .lock()
            .map(|s| s.injected[fault.index()])
            .unwrap_or(0)
    }

    /// Whether this call suffers `fault`.
    fn strikes(&self, fault: Fault) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return false;
        };
        let i = fault.index();
        let hit = if s.forced[i] > 0 {
            s.forced[i] -= 1;
            true
        } else {
            let rate = self.spec.rates[i];
            rate > 0.0 && s.rng.random_bool(rate)
        };
        if hit {
            s.injected[i] += 1;
        }
        hit
    }

    /// Waits the latency drawn for this call.
    async fn delay(&self) {
        if self.spec.latency.is_zero() {
            return;
        }
        let wait = match self.state.lock() {
            Ok(mut s) => {
                let max = self.spec.latency.as_micros() as u64;
                Duration::from_micros(s.rng.random_range(0..=max))
            }
            Err(_) => Duration::ZERO,
        };
        tokio::time::sleep(wait).await;
    }
}

/// The error text of an injected fault.
fn injected(fault: Fault) -> String {
    format!("injected fault: {}", fault.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates_latency_and_seed() {
        let spec = FaultSpec::parse("put_error=0.1, commit_lost=1,latency_ms=20,seed=7").unwrap();
        assert_eq!(spec.rate(Fault::PutError), 0.1);
        assert_eq!(spec.rate(Fault::CommitLost), 1.0);
        assert_eq!(spec.rate(Fault::GetError), 0.0);
        assert_eq!(spec.latency, Duration::from_millis(20));
        assert_eq!(spec.seed, 7);
        assert_eq!(FaultSpec::parse("").unwrap(), FaultSpec::default());
        for bad in [
            "put_error",
            "put_error=2",
            "nope=0.1",
            "latency_ms=-1",
            "seed=x",
        ] {
            assert!(FaultSpec::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn forced_faults_come_first_then_rates() {
        let faults = Faults::new(FaultSpec::default().with_rate(Fault::GetError, 1.0));
        faults.force(Fault::PutError, 2);
        assert!(faults.strikes(Fault::PutError));
        assert!(faults.strikes(Fault::PutError));
        assert!(!faults.strikes(Fault::PutError));
        assert!(faults.strikes(Fault::GetError));
        assert!(!faults.strikes(Fault::CommitLost));
        assert_eq!(faults.injected(Fault::PutError), 2);
    }

    #[test]
    fn same_seed_same_draws() {
        let draws = |seed| {
            let mut spec = FaultSpec::default().with_rate(Fault::CommitError, 0.5);
            spec.seed = seed;
            let faults = Faults::new(spec);
            (0..64)
                .map(|_| faults.strikes(Fault::CommitError))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert!(draws(3).contains(&true) && draws(3).contains(&false));
    }
}
