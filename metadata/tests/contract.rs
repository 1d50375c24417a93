//! The `MetadataStore` contract: one suite, written once, run against every
//! implementation. Each test is a generic async function over a `Backend`
//! (a database the harness starts and tears down); the `contract_suite!`
//! macro instantiates every test for one backend. Adding an implementation is
//! one line at the bottom of this file (and its `Backend` in
//! `contract/backends.rs`).
//!
//! Every test runs on SQLite (a file and in memory) and on a real Postgres
//! server, which the harness starts once per test binary (`initdb` in a
//! temporary directory; see `floe_tests::TestPostgres`), with a fresh
//! database per test.

#[path = "contract/acls.rs"]
mod acls;
#[path = "contract/admin.rs"]
mod admin;
#[path = "contract/agents.rs"]
mod agents;
#[path = "contract/archive.rs"]
mod archive;
#[path = "contract/backends.rs"]
mod backends;
#[path = "contract/cleaner.rs"]
mod cleaner;
#[path = "contract/commit.rs"]
mod commit;
#[path = "contract/compaction.rs"]
mod compaction;
#[path = "contract/concurrency.rs"]
mod concurrency;
#[path = "contract/groups.rs"]
mod groups;
#[path = "contract/idempotence.rs"]
mod idempotence;
#[path = "contract/index.rs"]
mod index;
#[path = "contract/leases.rs"]
mod leases;
#[path = "contract/lifetimes.rs"]
mod lifetimes;
#[path = "contract/notifications.rs"]
mod notifications;
#[path = "contract/persistence.rs"]
mod persistence;
#[path = "contract/producers.rs"]
mod producers;
#[path = "contract/retention.rs"]
mod retention;
#[path = "contract/scram.rs"]
mod scram;
#[path = "contract/segments.rs"]
mod segments;
#[path = "contract/support.rs"]
mod support;
#[path = "contract/topics.rs"]
mod topics;
#[path = "contract/transactions.rs"]
mod transactions;

/// Instantiates every contract test for one backend, as `#[tokio::test]`s in
/// a module named after it: `contract_suite!(sqlite_file: crate::backends::SqliteFile);`.
macro_rules! contract_suite {
    ($name:ident : $backend:ty) => {
        mod $name {
            contract_suite!(@tests $backend;
                topics::create_topic_then_find_it,
                admin::create_partitions_grows_a_topic,
                admin::create_partitions_notifies_other_stores,
                admin::delete_records_advances_the_log_start,
                admin::partition_sizes_and_producers,
                topics::create_duplicate_topic_fails,
                topics::create_invalid_topic_fails,
                topics::list_topics_is_ordered_by_name,
                topics::delete_topic_removes_partitions_and_index,
                topics::recreated_topic_gets_new_id_and_empty_partitions,
                topics::set_topic_config_replaces_the_whole_set,
                topics::broker_configs_are_replaced_as_a_set,
                scram::scram_credentials_are_stored_replaced_and_deleted,
                scram::malformed_scram_credentials_are_refused,
                acls::acls_are_created_described_and_deleted,
                acls::malformed_acls_are_refused,
                acls::acls_are_shared_between_stores,
                topics::client_quotas_are_set_altered_and_removed,
                commit::offsets_are_contiguous_from_zero,
                commit::multi_partition_commit_assigns_each_partition,
                commit::recommit_of_same_segment_is_idempotent,
                commit::commit_to_deleted_topic_skips_only_that_entry,
                commit::invalid_commit_changes_nothing,
                commit::bad_batch_is_refused_alone,
                commit::empty_commit_is_recorded,
                commit::commit_reports_each_log_start,
                idempotence::duplicate_keeps_its_first_offset,
                idempotence::last_five_batches_are_remembered,
                idempotence::sequence_gap_is_out_of_order,
                idempotence::epochs_fence_and_reset,
                idempotence::unknown_producer_starts_anywhere,
                idempotence::sequences_wrap_around,
                idempotence::batches_of_one_commit_see_each_other,
                idempotence::adjacent_batches_share_an_index_row,
                idempotence::recommit_repeats_refusals_and_duplicates,
                index::index_rows_from_offset,
                index::index_rows_respect_limit_and_partition,
                index::timestamp_lookups,
                index::many_partitions_offsets_in_the_order_asked,
                producers::producer_ids_are_unique,
                producers::transactional_id_bumps_epoch,
                persistence::data_survives_reopen,
                persistence::producer_ids_survive_reopen,
                concurrency::concurrent_commits_are_gapless,
                concurrency::concurrent_idempotent_producers_never_duplicate,
                concurrency::concurrent_producer_ids_are_unique,
                concurrency::delete_during_commits,
                agents::registered_agents_are_live,
                agents::silent_agent_expires,
                agents::deregistered_agent_is_gone,
                agents::node_ids_are_never_reused,
                agents::invalid_registrations_fail,
                notifications::commits_notify_other_stores,
                groups::group_state_round_trips,
                groups::a_takeover_fences_the_previous_coordinator,
                groups::store_group_is_compare_and_set,
                groups::concurrent_store_group_has_one_winner,
                groups::offsets_round_trip,
                groups::generation_checked_commit,
                groups::offsets_of_deleted_topics_disappear,
                groups::delete_group_removes_state_and_offsets,
                groups::list_groups_is_ordered_union,
                groups::delete_offsets_of_some_partitions,
                groups::expire_groups_removes_only_empty_idle_groups,
                groups::groups_survive_reopen,
                groups::offset_commits_during_topic_delete,
                groups::group_lag_joins_offsets_with_high_watermarks,
                segments::unreferenced_segments_are_found_and_forgotten,
                segments::retention_expires_rows_from_the_start_only,
                segments::sweep_finds_unknown_segments_and_unreferenced_commits,
                lifetimes::prune_forgets_old_outcomes_and_quiet_producers,
                archive::archive_passes_swap_rows_and_record_snapshots,
                leases::leases_are_exclusive_renewed_and_taken_over,
                leases::a_lapsed_lease_fences_its_old_holder,
                retention::size_retention_keeps_at_least_the_limit,
                retention::retention_deletes_at_most_max_rows_per_call,
                cleaner::cleaner_swap_keeps_offsets_and_records_progress,
                cleaner::cleaner_swap_without_the_lease_writes_nothing,
                compaction::compaction_swaps_rows_and_retires_inputs,
                compaction::compaction_swap_skips_partitions_whose_rows_changed,
                compaction::compaction_swap_that_loses_offsets_is_invalid,
                compaction::compaction_swap_without_the_lease_writes_nothing,
                transactions::transactional_batches_need_an_open_transaction,
                transactions::archive_swaps_forget_aborted_ranges_they_archive,
                transactions::a_clean_that_drops_abort_markers_prunes_their_ranges,
                transactions::transaction_state_changes_are_compare_and_set,
                transactions::transactional_offsets_apply_only_on_commit,
            );
        }
    };
    (@tests $backend:ty; $($module:ident :: $test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() -> anyhow::Result<()> {
                use crate::backends::Backend as _;
                let backend = <$backend>::start(stringify!($test)).await?;
                crate::$module::$test(&backend).await
            }
        )*
    };
}

contract_suite!(sqlite_file: crate::backends::SqliteFile);
contract_suite!(sqlite_memory: crate::backends::SqliteMemory);
contract_suite!(postgres: crate::backends::Postgres);
