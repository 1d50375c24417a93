//! Iceberg v2 table metadata for a topic's archive, written to the spec
//! (the `iceberg` crate needs a newer arrow than ours): a manifest (Avro)
//! per archive pass listing the Parquet files it added, a manifest list
//! (Avro) per snapshot listing every manifest so far, and
//! `metadata/v<N>.metadata.json` naming the current snapshot, with
//! `version-hint.text` for readers that find tables by folder.
//!
//! The table is unpartitioned and append-only; each archive pass is one
//! `append` snapshot whose sequence number is the pass's number. The
//! metadata keeps the current snapshot only (older ones are expired at
//! once), so it does not grow with the number of passes.

use serde_json::json;

use super::avro::{Value, container};
use super::schema::{iceberg_schema, ids};

/// Iceberg's status of a manifest entry that its snapshot added.
const STATUS_ADDED: i32 = 1;
/// Content type of data files (as opposed to delete files).
const CONTENT_DATA: i32 = 0;

const MANIFEST_ENTRY_SCHEMA: &str = r#"{"type":"record","name":"manifest_entry","fields":[
{"name":"status","type":"int","field-id":0},
{"name":"snapshot_id","type":["null","long"],"default":null,"field-id":1},
{"name":"sequence_number","type":["null","long"],"default":null,"field-id":3},
{"name":"file_sequence_number","type":["null","long"],"default":null,"field-id":4},
{"name":"data_file","type":{"type":"record","name":"r2","fields":[
{"name":"content","type":"int","doc":"Contents of the file: 0=data, 1=position deletes, 2=equality deletes","field-id":134},
{"name":"file_path","type":"string","doc":"Location URI with FS scheme","field-id":100},
{"name":"file_format","type":"string","doc":"File format name: avro, orc, or parquet","field-id":101},
{"name":"partition","type":{"type":"record","name":"r102","fields":[]},"doc":"Partition data tuple, schema based on the partition spec","field-id":102},
{"name":"record_count","type":"long","doc":"Number of records in the file","field-id":103},
{"name":"file_size_in_bytes","type":"long","doc":"Total file size in bytes","field-id":104},
{"name":"sort_order_id","type":["null","int"],"default":null,"doc":"Sort order ID","field-id":140}
]},"field-id":2}
]}"#;

const MANIFEST_FILE_SCHEMA: &str = r#"{"type":"record","name":"manifest_file","fields":[
{"name":"manifest_path","type":"string","doc":"Location URI with FS scheme","field-id":500},
{"name":"manifest_length","type":"long","doc":"Total file size in bytes","field-id":501},
{"name":"partition_spec_id","type":"int","doc":"Spec ID used to write","field-id":502},
{"name":"content","type":"int","doc":"Contents of the manifest: 0=data, 1=deletes","field-id":517},
{"name":"sequence_number","type":"long","doc":"Sequence number when the manifest was added","field-id":515},
{"name":"min_sequence_number","type":"long","doc":"Lowest sequence number in the manifest","field-id":516},
{"name":"added_snapshot_id","type":"long","doc":"Snapshot ID that added the manifest","field-id":503},
{"name":"added_files_count","type":"int","doc":"Added entry count","field-id":504},
{"name":"existing_files_count","type":"int","doc":"Existing entry count","field-id":505},
{"name":"deleted_files_count","type":"int","doc":"Deleted entry count","field-id":506},
{"name":"added_rows_count","type":"long","doc":"Added rows count","field-id":512},
{"name":"existing_rows_count","type":"long","doc":"Existing rows count","field-id":513},
{"name":"deleted_rows_count","type":"long","doc":"Deleted rows count","field-id":514}
]}"#;

/// One Parquet file a snapshot adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// Its absolute location (`file:///…`, `s3://…`).
    pub path: String,
    /// Records in it.
    pub records: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// One manifest as a manifest list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRef {
    /// Its absolute location.
    pub path: String,
    /// Its size in bytes.
    pub length: u64,
    /// The sequence number of the snapshot that added it.
    pub sequence_number: i64,
    /// That snapshot's id.
    pub snapshot_id: i64,
    /// Data files it adds.
    pub added_files: u64,
    /// Records in them.
    pub added_rows: u64,
}

/// The current state of a topic's archive table, for its metadata file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableState {
    /// The table's uuid (the topic's id: a topic created again under the
    /// same name is another table).
    pub table_uuid: uuid::Uuid,
    /// The table's location: the folder of `data/` and `metadata/`.
    pub location: String,
    /// The current snapshot's sequence number (the number of passes).
    pub sequence_number: i64,
    /// The current snapshot's id.
    pub snapshot_id: i64,
    /// The previous snapshot's id, if any.
    pub parent_snapshot_id: Option<i64>,
    /// When the current snapshot was made, ms since the epoch.
    pub timestamp_ms: i64,
    /// Location of the current snapshot's manifest list.
    pub manifest_list: String,
    /// Data files and records the current snapshot added.
    pub added_files: u64,
    /// Records the current snapshot added.
    pub added_records: u64,
    /// Data files and records in the table.
    pub total_files: u64,
    /// Records in the table.
    pub total_records: u64,
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A manifest listing `files`, all added by the snapshot that will name
/// it (snapshot id and sequence numbers are inherited from the manifest
/// list, as the v2 spec allows for added entries).
pub fn manifest(files: &[DataFile], sync: [u8; 16]) -> Vec<u8> {
    let entries: Vec<Value> = files
        .iter()
        .map(|f| {
            Value::Record(vec![
                Value::Int(STATUS_ADDED),
                Value::optional(None),
                Value::optional(None),
                Value::optional(None),
                Value::Record(vec![
                    Value::Int(CONTENT_DATA),
                    Value::String(f.path.clone()),
                    Value::String("PARQUET".into()),
                    Value::Record(Vec::new()),
                    Value::Long(int(f.records)),
                    Value::Long(int(f.size)),
                    Value::optional(None),
                ]),
            ])
        })
        .collect();
    let metadata = [
        ("schema", iceberg_schema().to_string()),
        ("schema-id", "0".to_string()),
        ("partition-spec", "[]".to_string()),
        ("partition-spec-id", "0".to_string()),
        ("format-version", "2".to_string()),
        ("content", "data".to_string()),
    ];
    container(MANIFEST_ENTRY_SCHEMA, &metadata, &entries, sync)
}

/// The manifest list of snapshot `snapshot_id`: every manifest so far.
pub fn manifest_list(
    manifests: &[ManifestRef],
    snapshot_id: i64,
    parent_snapshot_id: Option<i64>,
    sequence_number: i64,
    sync: [u8; 16],
) -> Vec<u8> {
    let entries: Vec<Value> = manifests
        .iter()
        .map(|m| {
            Value::Record(vec![
                Value::String(m.path.clone()),
                Value::Long(int(m.length)),
                Value::Int(0),
                Value::Int(CONTENT_DATA),
                Value::Long(m.sequence_number),
                Value::Long(m.sequence_number),
                Value::Long(m.snapshot_id),
                Value::Int(i32::try_from(m.added_files).unwrap_or(i32::MAX)),
                Value::Int(0),
                Value::Int(0),
                Value::Long(int(m.added_rows)),
                Value::Long(0),
                Value::Long(0),
            ])
        })
        .collect();
    let metadata = [
        ("snapshot-id", snapshot_id.to_string()),
        (
            "parent-snapshot-id",
            parent_snapshot_id.map_or_else(|| "null".to_string(), |p| p.to_string()),
        ),
        ("sequence-number", sequence_number.to_string()),
        ("format-version", "2".to_string()),
    ];
    container(MANIFEST_FILE_SCHEMA, &metadata, &entries, sync)
}

/// The table metadata file (`v<N>.metadata.json`) for `state`.
pub fn table_metadata(state: &TableState) -> serde_json::Value {
    let mut snapshot = json!({
        "snapshot-id": state.snapshot_id,
        "sequence-number": state.sequence_number,
        "timestamp-ms": state.timestamp_ms,
        "manifest-list": state.manifest_list,
        "schema-id": 0,
        "summary": {
            "operation": "append",
            "added-data-files": state.added_files.to_string(),
            "added-records": state.added_records.to_string(),
            "total-data-files": state.total_files.to_string(),
            "total-records": state.total_records.to_string(),
            "total-delete-files": "0",
            "total-position-deletes": "0",
            "total-equality-deletes": "0",
        },
    });
    if let Some(parent) = state.parent_snapshot_id {
        snapshot["parent-snapshot-id"] = json!(parent);
    }
    json!({
        "format-version": 2,
        "table-uuid": state.table_uuid.to_string(),
        "location": state.location,
        "last-sequence-number": state.sequence_number,
        "last-updated-ms": state.timestamp_ms,
        "last-column-id": ids::LAST,
        "current-schema-id": 0,
        "schemas": [iceberg_schema()],
        "default-spec-id": 0,
        "partition-specs": [{"spec-id": 0, "fields": []}],
        "last-partition-id": 999,
        "default-sort-order-id": 0,
        "sort-orders": [{"order-id": 0, "fields": []}],
        "properties": {
            "write.format.default": "parquet",
            "write.parquet.compression-codec": "zstd",
            "floe.managed": "true",
        },
        "current-snapshot-id": state.snapshot_id,
        "refs": {"main": {"snapshot-id": state.snapshot_id, "type": "branch"}},
        "snapshots": [snapshot],
        "snapshot-log": [{"timestamp-ms": state.timestamp_ms, "snapshot-id": state.snapshot_id}],
        "metadata-log": [],
    })
}
