//! The transaction coordinator's store operations, written once for both
//! backends: the queries of `queries/transactions/` read alike in both
//! dialects, so [`txn_ops!`] expands the same code over a Postgres and a
//! SQLite connection. Each function runs inside the caller's database
//! transaction, which on Postgres first locks the transactional id's row
//! (SQLite has one writer at a time).

/// A transactional id's row as selected by `get.sql` and `list.sql`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TxnRow {
    pub(crate) transactional_id: String,
    pub(crate) producer_id: i64,
    pub(crate) epoch: i64,
    pub(crate) state: String,
    pub(crate) timeout_ms: i32,
    pub(crate) started_ms: i64,
    pub(crate) updated_ms: i64,
    pub(crate) last_epoch: i64,
}

impl TxnRow {
    /// The record, without its partitions and groups.
    pub(crate) fn into_record(self) -> crate::Result<crate::TxnRecord> {
        Ok(crate::TxnRecord {
            transactional_id: self.transactional_id,
            producer_id: self.producer_id,
            epoch: crate::convert::stored_epoch(self.epoch)?,
            state: crate::TxnState::parse(&self.state)?,
            timeout_ms: self.timeout_ms,
            started_ms: self.started_ms,
            updated_ms: self.updated_ms,
            last_epoch: i16::try_from(self.last_epoch).unwrap_or(-1),
            partitions: Vec::new(),
            groups: Vec::new(),
        })
    }
}

pub(crate) const GET: &str = include_str!("../../queries/transactions/get.sql");
pub(crate) const LIST: &str = include_str!("../../queries/transactions/list.sql");
pub(crate) const PARTITIONS_OF: &str = include_str!("../../queries/transactions/partitions_of.sql");
pub(crate) const GROUPS_OF: &str = include_str!("../../queries/transactions/groups_of.sql");
pub(crate) const UPSERT_EMPTY: &str = include_str!("../../queries/transactions/upsert_empty.sql");
pub(crate) const ADD_PARTITION: &str = include_str!("../../queries/transactions/add_partition.sql");
pub(crate) const OPEN_ON_PARTITION: &str =
    include_str!("../../queries/transactions/open_on_partition.sql");
pub(crate) const ADD_GROUP: &str = include_str!("../../queries/transactions/add_group.sql");
pub(crate) const SET_ONGOING: &str = include_str!("../../queries/transactions/set_ongoing.sql");
pub(crate) const HAS_GROUP: &str = include_str!("../../queries/transactions/has_group.sql");
pub(crate) const OFFSET_UPSERT: &str = include_str!("../../queries/transactions/offset_upsert.sql");
pub(crate) const TRANSITION: &str = include_str!("../../queries/transactions/transition.sql");
pub(crate) const APPLY_OFFSETS: &str = include_str!("../../queries/transactions/apply_offsets.sql");
pub(crate) const CLEAR_OFFSETS: &str = include_str!("../../queries/transactions/clear_offsets.sql");
pub(crate) const CLEAR_GROUPS: &str = include_str!("../../queries/transactions/clear_groups.sql");
pub(crate) const CLEAR_PARTITIONS: &str =
    include_str!("../../queries/transactions/clear_partitions.sql");
pub(crate) const ABORTED_OVERLAPPING: &str =
    include_str!("../../queries/transactions/aborted_overlapping.sql");
pub(crate) const OPEN_OF_PARTITION: &str =
    include_str!("../../queries/transactions/open_of_partition.sql");
pub(crate) const PENDING_OF_GROUP: &str =
    include_str!("../../queries/transactions/pending_of_group.sql");
pub(crate) const EXPIRE: &str = include_str!("../../queries/transactions/expire.sql");
pub(crate) const TOPIC_DELETE_ONGOING: &str =
    include_str!("../../queries/transactions/topic_delete_ongoing.sql");
pub(crate) const TOPIC_DELETE_ABORTED: &str =
    include_str!("../../queries/transactions/topic_delete_aborted.sql");
pub(crate) const TOPIC_DELETE_PARTITIONS: &str =
    include_str!("../../queries/transactions/topic_delete_partitions.sql");

/// Expands the operations over connection type `$conn` (`PgConnection` or
/// `SqliteConnection`), in the invoking module.
macro_rules! txn_ops {
    ($conn:ty, $allocate:path) => {
        use $crate::transactions::ops as q;
        use $crate::transactions::{TxnRefusal, check_member};
        use $crate::{
            AbortedTxn, CommittedOffset, OpenTxn, Result, TopicId, TxnRecord, TxnState, TxnVersion,
        };

        /// The record of a transactional id, with its partitions and groups.
        pub(super) async fn load(conn: &mut $conn, id: &str) -> Result<Option<TxnRecord>> {
            let row: Option<q::TxnRow> = sqlx::query_as(q::GET)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let mut record = row.into_record()?;
            record.partitions = sqlx::query_as(q::PARTITIONS_OF)
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
            record.groups = sqlx::query_scalar(q::GROUPS_OF)
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
            Ok(Some(record))
        }

        /// Transactional ids after `after`, without partitions and groups.
        pub(super) async fn list(
            conn: &mut $conn,
            after: &str,
            limit: u32,
        ) -> Result<Vec<TxnRecord>> {
            let rows: Vec<q::TxnRow> = sqlx::query_as(q::LIST)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?;
            rows.into_iter().map(q::TxnRow::into_record).collect()
        }

        /// Sets the id's producer and epoch, state Empty.
        pub(super) async fn set_empty(
            conn: &mut $conn,
            id: &str,
            identity: $crate::ProducerIdentity,
            timeout_ms: i32,
            now_ms: i64,
        ) -> Result<()> {
            sqlx::query(q::UPSERT_EMPTY)
                .bind(id)
                .bind(identity.producer_id)
                .bind(i64::from(identity.epoch))
                .bind(timeout_ms)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
            for clear in [q::CLEAR_OFFSETS, q::CLEAR_GROUPS, q::CLEAR_PARTITIONS] {
                sqlx::query(clear).bind(id).execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// InitProducerId of a transactional id: bumps its epoch (a fresh
        /// producer id past [`$crate::transactions::MAX_EPOCH`] or the
        /// first time) unless a transaction is open or half-ended.
        pub(super) async fn init(
            conn: &mut $conn,
            id: &str,
            timeout_ms: i32,
            now_ms: i64,
        ) -> Result<$crate::TxnInit> {
            let record = load(conn, id).await?;
            if let Some(record) = record {
                if matches!(
                    record.state,
                    TxnState::Ongoing | TxnState::PrepareCommit | TxnState::PrepareAbort
                ) {
                    return Ok($crate::TxnInit::Busy(record));
                }
                if record.epoch < $crate::transactions::MAX_EPOCH {
                    let identity = $crate::ProducerIdentity {
                        producer_id: record.producer_id,
                        epoch: record.epoch + 1,
                    };
                    set_empty(conn, id, identity, timeout_ms, now_ms).await?;
                    return Ok($crate::TxnInit::Ready(identity));
                }
            }
            let identity = $crate::ProducerIdentity {
                producer_id: $allocate(&mut *conn).await?,
                epoch: 0,
            };
            set_empty(conn, id, identity, timeout_ms, now_ms).await?;
            Ok($crate::TxnInit::Ready(identity))
        }

        /// Adds partitions and groups to the producer's transaction, which
        /// is open afterwards.
        pub(super) async fn add(
            conn: &mut $conn,
            id: &str,
            producer_id: i64,
            epoch: i16,
            partitions: &[(TopicId, i32)],
            groups: &[String],
            now_ms: i64,
        ) -> Result<std::result::Result<bool, TxnRefusal>> {
            let record = load(conn, id).await?;
            if let Err(refusal) = check_member(record.as_ref(), producer_id, epoch) {
                return Ok(Err(refusal));
            }
            let opened = record.is_none_or(|r| r.state != TxnState::Ongoing);
            for (topic, partition) in partitions {
                sqlx::query(q::ADD_PARTITION)
                    .bind(id)
                    .bind(*topic)
                    .bind(*partition)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(q::OPEN_ON_PARTITION)
                    .bind(*topic)
                    .bind(*partition)
                    .bind(producer_id)
                    .bind(i64::from(epoch))
                    .execute(&mut *conn)
                    .await?;
            }
            for group in groups {
                sqlx::query(q::ADD_GROUP)
                    .bind(id)
                    .bind(group)
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(q::SET_ONGOING)
                .bind(id)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
            Ok(Ok(opened))
        }

        /// Stores offsets of a group added to the open transaction.
        pub(super) async fn commit_offsets(
            conn: &mut $conn,
            id: &str,
            producer_id: i64,
            epoch: i16,
            group_id: &str,
            offsets: &[CommittedOffset],
        ) -> Result<std::result::Result<(), TxnRefusal>> {
            let record = load(conn, id).await?;
            if let Err(refusal) = check_member(record.as_ref(), producer_id, epoch) {
                return Ok(Err(refusal));
            }
            let member: i64 = sqlx::query_scalar(q::HAS_GROUP)
                .bind(id)
                .bind(group_id)
                .fetch_one(&mut *conn)
                .await?;
            if member == 0 || record.is_none_or(|r| r.state != TxnState::Ongoing) {
                return Ok(Err(TxnRefusal::InvalidState));
            }
            for offset in offsets {
                sqlx::query(q::OFFSET_UPSERT)
                    .bind(id)
                    .bind(group_id)
                    .bind(offset.topic_id)
                    .bind(offset.partition)
                    .bind(offset.offset)
                    .bind(offset.leader_epoch)
                    .bind(offset.metadata.as_ref().map(|m| m.as_bytes().to_vec()))
                    .bind(offset.commit_timestamp_ms)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(Ok(()))
        }

        /// The compare-and-set of a state change; whether it applied.
        pub(super) async fn transition(
            conn: &mut $conn,
            id: &str,
            expected: TxnVersion,
            state: TxnState,
            epoch: i16,
            now_ms: i64,
        ) -> Result<bool> {
            let changed = sqlx::query(q::TRANSITION)
                .bind(id)
                .bind(expected.producer_id)
                .bind(i64::from(expected.epoch))
                .bind(expected.state.as_str())
                .bind(state.as_str())
                .bind(i64::from(epoch))
                .bind(now_ms)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            Ok(changed == 1)
        }

        /// Completes a prepared transaction: a commit applies its offsets;
        /// either way its partitions, groups and offsets are forgotten.
        pub(super) async fn complete(
            conn: &mut $conn,
            id: &str,
            expected: TxnVersion,
            now_ms: i64,
        ) -> Result<bool> {
            let done = match expected.state {
                TxnState::PrepareCommit => TxnState::CompleteCommit,
                TxnState::PrepareAbort => TxnState::CompleteAbort,
                _ => return Ok(false),
            };
            if !transition(conn, id, expected, done, expected.epoch, now_ms).await? {
                return Ok(false);
            }
            if done == TxnState::CompleteCommit {
                sqlx::query(q::APPLY_OFFSETS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            for clear in [q::CLEAR_OFFSETS, q::CLEAR_GROUPS, q::CLEAR_PARTITIONS] {
                sqlx::query(clear).bind(id).execute(&mut *conn).await?;
            }
            Ok(true)
        }

        /// Aborted transactions of a partition overlapping `[from, to]`.
        pub(super) async fn aborted(
            conn: &mut $conn,
            topic: TopicId,
            partition: i32,
            from: i64,
            to: i64,
            limit: u32,
        ) -> Result<Vec<AbortedTxn>> {
            let rows: Vec<(i64, i64, i64)> = sqlx::query_as(q::ABORTED_OVERLAPPING)
                .bind(topic)
                .bind(partition)
                .bind(from)
                .bind(to)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(producer_id, first_offset, last_offset)| AbortedTxn {
                    producer_id,
                    first_offset,
                    last_offset,
                })
                .collect())
        }

        /// The open transactions on a partition.
        pub(super) async fn open(
            conn: &mut $conn,
            topic: TopicId,
            partition: i32,
        ) -> Result<Vec<OpenTxn>> {
            let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(q::OPEN_OF_PARTITION)
                .bind(topic)
                .bind(partition)
                .fetch_all(&mut *conn)
                .await?;
            rows.into_iter()
                .map(|(producer_id, epoch, first_offset)| {
                    Ok(OpenTxn {
                        producer_id,
                        epoch: $crate::convert::stored_epoch(epoch)?,
                        first_offset: first_offset.unwrap_or(-1),
                    })
                })
                .collect()
        }

        /// The partitions with offsets of `group_id` pending in open
        /// transactions.
        pub(super) async fn pending(
            conn: &mut $conn,
            group_id: &str,
        ) -> Result<Vec<(TopicId, i32)>> {
            Ok(sqlx::query_as(q::PENDING_OF_GROUP)
                .bind(group_id)
                .fetch_all(&mut *conn)
                .await?)
        }

        /// Forgets idle transactional ids; how many.
        pub(super) async fn expire(
            conn: &mut $conn,
            older_than_ms: i64,
            limit: u32,
        ) -> Result<u64> {
            Ok(sqlx::query(q::EXPIRE)
                .bind(older_than_ms)
                .bind(i64::from(limit))
                .execute(&mut *conn)
                .await?
                .rows_affected())
        }

        /// Drops the transactional rows of a topic being deleted.
        pub(super) async fn delete_topic(conn: &mut $conn, topic: TopicId) -> Result<()> {
            for statement in [
                q::TOPIC_DELETE_ONGOING,
                q::TOPIC_DELETE_ABORTED,
                q::TOPIC_DELETE_PARTITIONS,
            ] {
                sqlx::query(statement)
                    .bind(topic)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }
    };
}

pub(crate) use txn_ops;
