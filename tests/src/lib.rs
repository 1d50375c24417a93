//! End-to-end test harness for Floe.
//!
//! Starts real `floe serve` agents on free ports in throwaway directories and drives
//! them with the clients users run: Debian's kcat (librdkafka 2.0.2), confluent-kafka
//! (librdkafka 2.16) and kafka-python through scripts in `tests/python/`, and a raw
//! Kafka client for hand-made (and deliberately broken) frames.
//!
//! Run everything with `scripts/test.sh`, which installs the clients and builds the
//! `floe` binary first; `cargo test -p floe-tests` alone uses whatever `floe` binary
//! is already built (or the one named by `FLOE_BIN`).

pub mod agent;
pub mod background;
pub mod binary;
pub mod certs;
pub mod clients;
pub mod cluster;
pub mod dev_cluster;
pub mod differential;
pub mod fault_proxy;
pub mod groups;
pub mod http;
pub mod kafka_cli;
pub mod kafka_ref;
pub mod kcat;
pub mod load;
pub mod metrics;
pub mod node;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod python;
pub mod quotas;
pub mod raw;
pub mod records;
pub mod requests;
pub mod s3;
pub mod txn_clients;
pub mod verify;

pub use agent::{Agent, AgentBuilder};
pub use cluster::{Cluster, ClusterBuilder};
pub use dev_cluster::DevCluster;
pub use fault_proxy::FaultProxy;
pub use kafka_cli::KafkaTools;
pub use kafka_ref::KafkaBroker;
pub use kcat::Kcat;
pub use postgres::TestPostgres;
pub use raw::RawClient;
pub use s3::TestS3;

/// A topic name unique within this test process, so tests never share a topic by accident.
pub fn unique_topic(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
