//! The names of the cases, which key the results and label every row of the
//! tables and every object of the JSON line.

/// The backends measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Backend {
    Postgres,
    Sqlite,
    /// Not a store: the same Postgres running the smallest durable
    /// transaction on one hot row (see [`crate::reference`]), the ceiling of
    /// the `hot` case on the machine as it is during the run.
    Reference,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
            Backend::Reference => "hot-row",
        }
    }
}

/// Which partitions the throughput commits touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    /// The same 10 partitions every time.
    Hot,
    /// 10 random partitions of 1,000.
    Spread,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Hot => "hot",
            Scenario::Spread => "spread",
        }
    }
}

/// The producer of a latency or profile case: plain, or idempotent (its
/// batches checked against and trimming the producer's history).
pub fn producer_name(idempotent: bool) -> &'static str {
    if idempotent { "idempotent" } else { "plain" }
}
