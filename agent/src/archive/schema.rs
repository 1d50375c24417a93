//! The archive's one schema: a row per record, each column with a fixed
//! Iceberg field id (stored in Parquet as `PARQUET:field_id`), so readers
//! that resolve columns by id (Iceberg, pyiceberg, Spark) keep working
//! whatever the files hold. A new header key is data, not a column: the
//! schema never changes with what producers send.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};

/// The Parquet metadata key that carries a column's Iceberg field id.
const FIELD_ID_KEY: &str = "PARQUET:field_id";

/// Field ids, stable forever: a reader of an old file and of a new one
/// resolves the same ids.
pub mod ids {
    /// `partition` (int, required).
    pub const PARTITION: i32 = 1;
    /// `offset` (long, required).
    pub const OFFSET: i32 = 2;
    /// `timestamp` (long, ms since the epoch, required).
    pub const TIMESTAMP: i32 = 3;
    /// `timestamp_type` (int, 0 CreateTime, 1 LogAppendTime, required).
    pub const TIMESTAMP_TYPE: i32 = 4;
    /// `key` (binary, optional).
    pub const KEY: i32 = 5;
    /// `value` (binary, optional).
    pub const VALUE: i32 = 6;
    /// `headers` (list, required).
    pub const HEADERS: i32 = 7;
    /// The element of `headers` (struct, required).
    pub const HEADER: i32 = 8;
    /// `headers.element.key` (binary, required).
    pub const HEADER_KEY: i32 = 9;
    /// `headers.element.value` (binary, optional).
    pub const HEADER_VALUE: i32 = 10;
    /// The largest id in use: Iceberg's `last-column-id`.
    pub const LAST: i32 = 10;
}

fn field(name: &str, data_type: DataType, nullable: bool, id: i32) -> Field {
    Field::new(name, data_type, nullable)
        .with_metadata(HashMap::from([(FIELD_ID_KEY.to_string(), id.to_string())]))
}

/// The fields of one header: `key` and `value`.
pub fn header_fields() -> Fields {
    Fields::from(vec![
        field("key", DataType::Binary, false, ids::HEADER_KEY),
        field("value", DataType::Binary, true, ids::HEADER_VALUE),
    ])
}

/// The list element of `headers`.
pub fn header_element() -> Arc<Field> {
    Arc::new(field(
        "element",
        DataType::Struct(header_fields()),
        false,
        ids::HEADER,
    ))
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        field("partition", DataType::Int32, false, ids::PARTITION),
        field("offset", DataType::Int64, false, ids::OFFSET),
        field("timestamp", DataType::Int64, false, ids::TIMESTAMP),
        field(
            "timestamp_type",
            DataType::Int32,
            false,
            ids::TIMESTAMP_TYPE,
        ),
        field("key", DataType::Binary, true, ids::KEY),
        field("value", DataType::Binary, true, ids::VALUE),
        field(
            "headers",
            DataType::List(header_element()),
            false,
            ids::HEADERS,
        ),
    ]))
});

/// The Arrow schema of every archive file, field ids included.
pub fn arrow_schema() -> SchemaRef {
    Arc::clone(&SCHEMA)
}

/// The same schema as Iceberg table metadata writes it (schema id 0).
pub fn iceberg_schema() -> serde_json::Value {
    let column = |id: i32, name: &str, required: bool, ty: serde_json::Value| serde_json::json!({"id": id, "name": name, "required": required, "type": ty});
    serde_json::json!({
        "type": "struct",
        "schema-id": 0,
        "fields": [
            column(ids::PARTITION, "partition", true, "int".into()),
            column(ids::OFFSET, "offset", true, "long".into()),
            column(ids::TIMESTAMP, "timestamp", true, "long".into()),
            column(ids::TIMESTAMP_TYPE, "timestamp_type", true, "int".into()),
            column(ids::KEY, "key", false, "binary".into()),
            column(ids::VALUE, "value", false, "binary".into()),
            column(ids::HEADERS, "headers", true, serde_json::json!({
                "type": "list",
                "element-id": ids::HEADER,
                "element-required": true,
                "element": {
                    "type": "struct",
                    "fields": [
                        column(ids::HEADER_KEY, "key", true, "binary".into()),
                        column(ids::HEADER_VALUE, "value", false, "binary".into()),
                    ],
                },
            })),
        ],
    })
}
