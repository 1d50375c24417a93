//! The coordinator's rules, in Kafka's order (`TransactionCoordinator`),
//! over the store's compare-and-set state.

use std::sync::Arc;

use floe_metadata::{
    CommittedOffset, MetadataStore, ProducerIdentity, TopicId, TxnInit, TxnRecord, TxnRefusal,
    TxnState,
};

use super::{TxnError, markers};
use crate::metrics::Metrics;
use crate::produce::Producer;
use crate::wall_clock;

/// A prepared transaction whose state has not changed for this long is
/// taken to be left by a dead agent: any agent finishes it. Younger, its
/// markers may still be on their way, and a request finding it is answered
/// CONCURRENT_TRANSACTIONS (the client retries).
const PREPARED_STALE_MS: i64 = 5_000;

/// Compare-and-set attempts before a request gives up with
/// CONCURRENT_TRANSACTIONS: another agent kept changing the state.
const MAX_ROUNDS: usize = 4;

/// Transactional ids the timeout job reads per store call.
const LIST_PAGE: u32 = 500;

/// The coordinator's settings.
#[derive(Debug, Clone, Copy)]
pub struct TxnSettings {
    /// Largest `transaction.timeout.ms` a producer may ask
    /// (`transaction_max_timeout_ms`, Kafka's `transaction.max.timeout.ms`).
    pub max_timeout_ms: i32,
    /// How long an idle transactional id is remembered
    /// (`transactional.id.expiration.ms`).
    pub id_expiration_ms: i64,
}

impl Default for TxnSettings {
    fn default() -> Self {
        Self {
            max_timeout_ms: 900_000,
            id_expiration_ms: 604_800_000,
        }
    }
}

/// What one pass of the timeout job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeoutPass {
    /// Transactions aborted for outliving their timeout.
    pub timed_out: u64,
    /// Prepared transactions left by a dead agent and finished.
    pub finished: u64,
    /// Transactions still open after the pass.
    pub ongoing: u64,
    /// Idle transactional ids forgotten.
    pub expired: u64,
}

/// The transaction coordinator every agent runs.
#[derive(Debug, Clone)]
pub struct TxnCoordinator {
    store: Arc<dyn MetadataStore>,
    producer: Producer,
    metrics: Arc<Metrics>,
    settings: TxnSettings,
}

impl TxnCoordinator {
    /// A coordinator over `store`, writing markers through `producer`.
    pub fn new(
        store: Arc<dyn MetadataStore>,
        producer: Producer,
        metrics: Arc<Metrics>,
        settings: TxnSettings,
    ) -> Self {
        Self {
            store,
            producer,
            metrics,
            settings,
        }
    }

    /// The coordinator's settings.
    pub fn settings(&self) -> TxnSettings {
        self.settings
    }

    /// InitProducerId of transactional id `id`: checks the timeout, and
    /// with KIP-360's `expected` (the producer's current id and epoch, v3+)
    /// that the caller is the current incarnation; ends an open
    /// transaction (an Ongoing one is aborted with a bumped epoch, which
    /// fences its producer; a prepared one is finished), then bumps the
    /// epoch.
    pub async fn init(
        &self,
        id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
    ) -> Result<ProducerIdentity, TxnError> {
        if id.is_empty() {
            return Err(TxnError::InvalidRequest);
        }
        if timeout_ms <= 0 || timeout_ms > self.settings.max_timeout_ms {
            return Err(TxnError::InvalidTransactionTimeout);
        }
        // The current incarnation, or the one the coordinator's own abort
        // bumped past (it may recover instead of being fenced).
        if let Some((producer_id, epoch)) = expected
            && let Some(record) = self.store.transaction(id).await?
            && (record.producer_id != producer_id
                || (record.epoch != epoch && record.last_epoch != epoch))
        {
            return Err(TxnError::ProducerFenced);
        }
        for _ in 0..MAX_ROUNDS {
            let now = wall_clock::now_ms();
            match self.store.init_transaction(id, timeout_ms, now).await? {
                TxnInit::Ready(identity) => return Ok(identity),
                TxnInit::Busy(record) if record.state == TxnState::Ongoing => {
                    self.abort_fencing(&record, false).await?;
                }
                TxnInit::Busy(record) => self.finish_if_stale(&record).await?,
            }
        }
        Err(TxnError::ConcurrentTransactions)
    }

    /// AddPartitionsToTxn: the partitions join the producer's transaction.
    /// `verify_only` (KIP-890, v4+ from brokers) only checks they already
    /// did.
    pub async fn add_partitions(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[(TopicId, i32)],
        verify_only: bool,
    ) -> Result<(), TxnError> {
        if verify_only {
            let record = self.store.transaction(id).await?;
            check(record.as_ref(), producer_id, epoch)?;
            let joined = record.is_some_and(|r| {
                r.state == TxnState::Ongoing
                    && partitions
                        .iter()
                        .all(|p| r.partitions.binary_search(p).is_ok())
            });
            return if joined {
                Ok(())
            } else {
                Err(TxnError::InvalidTxnState)
            };
        }
        self.add(id, producer_id, epoch, partitions, &[]).await
    }

    /// AddOffsetsToTxn: the group joins the producer's transaction.
    pub async fn add_group(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        group: &str,
    ) -> Result<(), TxnError> {
        self.add(id, producer_id, epoch, &[], &[group.to_string()])
            .await
    }

    async fn add(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[(TopicId, i32)],
        groups: &[String],
    ) -> Result<(), TxnError> {
        let now = wall_clock::now_ms();
        match self
            .store
            .add_to_transaction(id, producer_id, epoch, partitions, groups, now)
            .await?
        {
            Ok(opened) => {
                if opened {
                    self.metrics.txn.started.inc();
                }
                Ok(())
            }
            Err(refusal) => Err(refused(refusal)),
        }
    }

    /// TxnOffsetCommit: offsets of a group of the transaction, pending
    /// until it commits.
    pub async fn commit_offsets(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        group: &str,
        offsets: &[CommittedOffset],
    ) -> Result<(), TxnError> {
        self.store
            .txn_commit_offsets(id, producer_id, epoch, group, offsets)
            .await?
            .map_err(refused)
    }

    /// EndTxn: commits or aborts the producer's transaction, answering
    /// once its markers are committed. A retry of an ended transaction is
    /// answered as the first call was.
    pub async fn end(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        commit: bool,
    ) -> Result<(), TxnError> {
        for _ in 0..MAX_ROUNDS {
            let record = self.store.transaction(id).await?;
            check(record.as_ref(), producer_id, epoch)?;
            let Some(record) = record else {
                return Err(TxnError::InvalidProducerIdMapping);
            };
            let same = |wanted: TxnState| (record.state == wanted) == commit;
            match record.state {
                TxnState::Ongoing => {
                    let now = wall_clock::now_ms();
                    let prepared = self
                        .store
                        .prepare_transaction(id, record.version(), commit, epoch, now)
                        .await?;
                    if let Some(prepared) = prepared {
                        return self.finish(&prepared).await;
                    }
                }
                TxnState::CompleteCommit | TxnState::CompleteAbort => {
                    return if same(TxnState::CompleteCommit) {
                        Ok(())
                    } else {
                        Err(TxnError::InvalidTxnState)
                    };
                }
                TxnState::PrepareCommit | TxnState::PrepareAbort => {
                    if !same(TxnState::PrepareCommit) {
                        return Err(TxnError::InvalidTxnState);
                    }
                    if !is_stale(&record) {
                        return Err(TxnError::ConcurrentTransactions);
                    }
                    return self.finish(&record).await;
                }
                TxnState::Empty => return Err(TxnError::InvalidTxnState),
            }
        }
        Err(TxnError::ConcurrentTransactions)
    }

    /// Aborts an Ongoing transaction on the coordinator's own initiative
    /// (InitProducerId of a new incarnation, or a timeout): the epoch is
    /// bumped first, so the old producer's later requests are fenced and
    /// the markers carry the new epoch.
    async fn abort_fencing(&self, record: &TxnRecord, timed_out: bool) -> Result<(), TxnError> {
        let epoch = record.epoch.saturating_add(1);
        let now = wall_clock::now_ms();
        let Some(prepared) = self
            .store
            .prepare_transaction(
                &record.transactional_id,
                record.version(),
                false,
                epoch,
                now,
            )
            .await?
        else {
            // Changed meanwhile: the caller looks again.
            return Ok(());
        };
        if timed_out {
            self.metrics.txn.timed_out.inc();
        }
        self.finish(&prepared).await
    }

    /// Finishes a prepared transaction left alone long enough; answers
    /// CONCURRENT_TRANSACTIONS for one whose markers may be on their way.
    async fn finish_if_stale(&self, record: &TxnRecord) -> Result<(), TxnError> {
        if is_stale(record) {
            self.finish(record).await
        } else {
            Err(TxnError::ConcurrentTransactions)
        }
    }

    /// Writes the markers of a prepared transaction, then completes it.
    /// Finishing twice (two agents, a retry) writes markers twice: the
    /// second set ends nothing on any partition, and consumers skip
    /// markers of no open transaction, as Kafka's do.
    async fn finish(&self, record: &TxnRecord) -> Result<(), TxnError> {
        let commit = match record.state {
            TxnState::PrepareCommit => true,
            TxnState::PrepareAbort => false,
            _ => return Err(TxnError::InvalidTxnState),
        };
        let now = wall_clock::now_ms();
        markers::write(&self.producer, &self.metrics, record, commit, now).await?;
        let done = self
            .store
            .complete_transaction(&record.transactional_id, record.version(), now)
            .await?;
        if done {
            if commit {
                self.metrics.txn.committed.inc();
            } else {
                self.metrics.txn.aborted.inc();
            }
            tracing::debug!(
                transactional_id = record.transactional_id,
                producer_id = record.producer_id,
                epoch = record.epoch,
                commit,
                "transaction ended"
            );
        }
        Ok(())
    }

    /// One pass of the `transactions` job over every transactional id:
    /// aborts open transactions older than their timeout (bumping the
    /// epoch, so their producer is fenced), finishes prepared ones left by
    /// a dead agent, and forgets ids idle longer than
    /// `transactional_id_expiration_ms`. At most `max_ids` ids are looked
    /// at.
    pub async fn timeout_pass(&self, max_ids: u32) -> Result<TimeoutPass, TxnError> {
        let mut pass = TimeoutPass::default();
        let mut after = String::new();
        let mut seen = 0u32;
        while seen < max_ids {
            let page = self
                .store
                .list_transactions(&after, LIST_PAGE.min(max_ids - seen))
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            after = last.transactional_id.clone();
            seen += page.len() as u32;
            let now = wall_clock::now_ms();
            for summary in &page {
                let open = summary.state == TxnState::Ongoing || summary.state.is_preparing();
                let expired = summary.state == TxnState::Ongoing
                    && summary.started_ms >= 0
                    && summary.started_ms + i64::from(summary.timeout_ms) < now;
                let abandoned = summary.state.is_preparing() && is_stale(summary);
                if !(expired || abandoned) {
                    pass.ongoing += u64::from(open);
                    continue;
                }
                // The listing holds no partitions: read the record itself.
                let Some(record) = self.store.transaction(&summary.transactional_id).await? else {
                    continue;
                };
                if record.version() != summary.version() {
                    continue;
                }
                if expired {
                    tracing::info!(
                        transactional_id = record.transactional_id,
                        timeout_ms = record.timeout_ms,
                        "aborting a transaction past its timeout"
                    );
                    self.abort_fencing(&record, true).await?;
                    pass.timed_out += 1;
                } else {
                    self.finish(&record).await?;
                    pass.finished += 1;
                }
            }
        }
        let horizon = wall_clock::now_ms().saturating_sub(self.settings.id_expiration_ms);
        pass.expired = self
            .store
            .expire_transactional_ids(horizon, max_ids)
            .await?;
        self.metrics
            .txn
            .ongoing
            .set(i64::try_from(pass.ongoing).unwrap_or(i64::MAX));
        Ok(pass)
    }
}

/// Whether a prepared transaction has waited long enough to be finished
/// by anyone.
fn is_stale(record: &TxnRecord) -> bool {
    record.updated_ms + PREPARED_STALE_MS < wall_clock::now_ms()
}

/// Kafka's checks of the producer, in its order.
fn check(record: Option<&TxnRecord>, producer_id: i64, epoch: i16) -> Result<(), TxnError> {
    match record {
        Some(r) if r.producer_id != producer_id => Err(TxnError::InvalidProducerIdMapping),
        None => Err(TxnError::InvalidProducerIdMapping),
        Some(r) if r.epoch != epoch => Err(TxnError::ProducerFenced),
        Some(_) => Ok(()),
    }
}

/// The error of a refusal by the store.
fn refused(refusal: TxnRefusal) -> TxnError {
    match refusal {
        TxnRefusal::UnknownProducer => TxnError::InvalidProducerIdMapping,
        TxnRefusal::Fenced => TxnError::ProducerFenced,
        TxnRefusal::Concurrent => TxnError::ConcurrentTransactions,
        TxnRefusal::InvalidState => TxnError::InvalidTxnState,
    }
}
