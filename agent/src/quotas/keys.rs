//! The quota keys Kafka accepts on user and client-id entities, what each
//! limits, and the checks Kafka's controller makes on a value.

/// Bytes per second a client may produce.
pub const PRODUCER_BYTE_RATE: &str = "producer_byte_rate";
/// Bytes per second a client may fetch.
pub const CONSUMER_BYTE_RATE: &str = "consumer_byte_rate";
/// Percentage of one request-handling thread a client may use.
pub const REQUEST_PERCENTAGE: &str = "request_percentage";
/// Partition mutations per second (CreateTopics, CreatePartitions,
/// DeleteTopics), KIP-599.
pub const CONTROLLER_MUTATION_RATE: &str = "controller_mutation_rate";

/// Every key accepted, with whether its value must be integral (Kafka's
/// `LONG` quota configs).
const KEYS: &[(&str, bool)] = &[
    (PRODUCER_BYTE_RATE, true),
    (CONSUMER_BYTE_RATE, true),
    (REQUEST_PERCENTAGE, false),
    (CONTROLLER_MUTATION_RATE, false),
];

/// What a quota limits, and so which sensor of a client it is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaKind {
    /// Produce request bytes.
    Produce,
    /// Fetch response bytes.
    Fetch,
    /// Time spent handling requests, in percent of one thread.
    Request,
    /// Partitions created or deleted (a token bucket, not a rate: see
    /// `quotas/mutation.rs`).
    Mutation,
}

/// How many kinds there are (the size of per-kind arrays).
pub(super) const KINDS: usize = 4;

impl QuotaKind {
    /// Every enforced kind.
    pub const ALL: [QuotaKind; KINDS] = [
        QuotaKind::Produce,
        QuotaKind::Fetch,
        QuotaKind::Request,
        QuotaKind::Mutation,
    ];

    /// The quota key that sets this kind's bound.
    pub fn key(self) -> &'static str {
        match self {
            QuotaKind::Produce => PRODUCER_BYTE_RATE,
            QuotaKind::Fetch => CONSUMER_BYTE_RATE,
            QuotaKind::Request => REQUEST_PERCENTAGE,
            QuotaKind::Mutation => CONTROLLER_MUTATION_RATE,
        }
    }

    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            QuotaKind::Produce => "produce",
            QuotaKind::Fetch => "fetch",
            QuotaKind::Request => "request",
            QuotaKind::Mutation => "mutation",
        }
    }

    pub(super) fn index(self) -> usize {
        match self {
            QuotaKind::Produce => 0,
            QuotaKind::Fetch => 1,
            QuotaKind::Request => 2,
            QuotaKind::Mutation => 3,
        }
    }
}

/// Checks `value` for `key` as Kafka's `ClientQuotaControlManager` does,
/// in its order, answering its message: an unknown key, a value not above
/// zero, an integral key given a fraction or a value beyond a long. Also
/// refuses what is not a finite number (the store keeps only those).
pub fn validate_value(key: &str, value: f64) -> Result<(), String> {
    let Some(&(_, integral)) = KEYS.iter().find(|(k, _)| *k == key) else {
        return Err(format!("Invalid configuration key {key}"));
    };
    if value <= 0.0 {
        return Err(format!("Quota {key} must be greater than 0"));
    }
    if !value.is_finite() {
        return Err(format!("Quota {key} must be a finite number"));
    }
    if integral {
        if value > i64::MAX as f64 {
            return Err(format!("Proposed value for {key} is too large for a LONG."));
        }
        if (value % 1.0).abs() > 1e-6 {
            return Err(format!("{key} cannot be a fractional value."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_as_kafka_checks_them() {
        assert_eq!(validate_value(PRODUCER_BYTE_RATE, 1048576.0), Ok(()));
        assert_eq!(validate_value(REQUEST_PERCENTAGE, 12.5), Ok(()));
        assert_eq!(
            validate_value("producer_byte_rat", 1.0),
            Err("Invalid configuration key producer_byte_rat".into())
        );
        assert_eq!(
            validate_value(CONSUMER_BYTE_RATE, -1.0),
            Err("Quota consumer_byte_rate must be greater than 0".into())
        );
        assert_eq!(
            validate_value(PRODUCER_BYTE_RATE, 0.0),
            Err("Quota producer_byte_rate must be greater than 0".into())
        );
        assert_eq!(
            validate_value(PRODUCER_BYTE_RATE, 1.5),
            Err("producer_byte_rate cannot be a fractional value.".into())
        );
        assert!(validate_value(CONTROLLER_MUTATION_RATE, f64::INFINITY).is_err());
    }
}
