//! Background work, each job a pass every interval until the agent stops
//! (`periodic.rs`), bounded and visible in `/metrics`: the segment
//! collector, time-based retention, the pruning of metadata that is kept
//! only for a while, and the consumer-lag metrics of the groups this agent
//! coordinates. Any number of agents may run each job at once:
//! collection and pruning are idempotent, and retention handles only the
//! partitions rendezvous hashing gives this agent.

pub mod broker_configs;
pub mod collector;
pub mod compaction;
pub mod group_lag;
pub mod periodic;
pub mod prune;
pub mod retention;
