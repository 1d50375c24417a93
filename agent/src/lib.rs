//! The Floe agent: a stateless, Kafka-compatible broker that keeps the log in
//! object storage and orders it through a metadata store.
//!
//! The modules follow the data: [`kafka`] speaks the protocol, [`produce`]
//! and [`segment`] write, [`fetch`] reads, [`groups`] coordinates consumer
//! groups, [`cluster`] describes topics.

pub mod archive;
pub mod authz;
pub mod cluster;
pub mod config;
pub mod configs;
pub mod context;
pub mod error;
pub mod faults;
pub mod fetch;
pub mod groups;
pub mod http;
pub mod jobs;
pub mod kafka;
pub mod metrics;
pub mod produce;
pub mod quotas;
pub mod sasl;
pub mod segment;
pub mod server;
pub mod storage;
pub mod tls;
pub mod txn;
pub mod users;
pub mod wall_clock;

#[cfg(test)]
mod test_support;
