//! The Kafka protocol layer: framing and headers (no I/O), dispatch by API
//! key, one handler file per API family, and the connection loop.

pub mod codec;
mod connection;
mod dispatch;
pub mod error_codes;
mod frame_read;
pub mod limits;
pub mod memory_pool;
pub mod mute;
pub mod principal;
pub mod session;
pub mod versions;

mod acls;
mod admin_topics;
mod alter_configs;
mod api_versions;
mod authorize;
mod authorized_operations;
mod bounds;
mod client_quotas;
mod create_partitions;
mod delete_records;
mod describe_cluster;
mod describe_configs;
mod describe_producers;
mod describe_quorum;
mod describe_topic_partitions;
mod describe_transactions;
mod elect_leaders;
mod fetch;
pub mod fetch_frame;
mod find_coordinator;
mod group_admin;
mod groups;
mod incremental_alter_configs;
mod init_producer_id;
mod list_config_resources;
mod list_offsets;
mod log_dirs;
mod metadata;
mod offset_for_leader_epoch;
mod offsets;
mod partition_reassignments;
mod produce;
mod sasl;
mod scram_credentials;
mod throttle;
mod transactions;
mod write_txn_markers;

pub use connection::serve_connection;
