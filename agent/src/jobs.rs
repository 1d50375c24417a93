//! Background work, each job a bounded pass every interval until the agent
//! stops, visible in `/metrics`. The jobs that work on the whole cluster's
//! data run under a lease in the metadata store, one agent at a time, and
//! every write they make is fenced by it (`leased.rs`): the segment
//! collector, the orphan sweep, retention by time and size, the pruning
//! of metadata kept only for a while, and the transactions' timeouts. Each agent runs its own local ones on plain ticks
//! (`periodic.rs`): the consumer-lag metrics of the groups it coordinates
//! and the re-reading of dynamic broker configs.

pub mod acls;
pub mod archive;
pub mod broker_configs;
pub mod client_quotas;
pub mod collector;
pub mod compaction;
pub mod group_lag;
pub mod leased;
pub mod log_cleaner;
pub mod orphan_sweep;
pub mod periodic;
pub mod prune;
pub mod retention;
pub mod transactions;
