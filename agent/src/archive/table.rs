//! A topic's archive as an Iceberg table in the object store: where its
//! files go, and the upload of a pass's manifest and of a snapshot's
//! manifest list, `metadata/v<N>.metadata.json` and `version-hint.text`.

use bytes::Bytes;
use floe_metadata::{ArchiveManifest, TopicId};

use super::iceberg::{self, DataFile, ManifestRef, TableState};
use crate::error::Result;
use crate::storage::{ObjectStorage, SegmentKey, archive_root};

/// One topic's archive table.
#[derive(Debug, Clone)]
pub struct ArchiveTable {
    storage: ObjectStorage,
    topic: String,
    topic_id: TopicId,
    /// The object store's root as an absolute URI (`file:///…`, `s3://…`),
    /// without a trailing slash: Iceberg names files by absolute location.
    root_uri: String,
}

impl ArchiveTable {
    /// The archive table of `topic` in `storage`, whose root is `root_uri`.
    pub fn new(storage: ObjectStorage, root_uri: &str, topic: &str, topic_id: TopicId) -> Self {
        Self {
            storage,
            topic: topic.to_string(),
            topic_id,
            root_uri: root_uri.trim_end_matches('/').to_string(),
        }
    }

    /// The absolute location of an object.
    pub fn uri(&self, key: &SegmentKey) -> String {
        format!("{}/{}", self.root_uri, key.as_str())
    }

    /// The table's location (the folder of `data/` and `metadata/`).
    pub fn location(&self) -> String {
        format!(
            "{}/{}",
            self.root_uri,
            archive_root(&self.topic).trim_end_matches('/')
        )
    }

    /// The key of metadata file `name`.
    pub fn metadata_key(&self, name: &str) -> SegmentKey {
        SegmentKey::for_archive_metadata(&self.topic, name)
    }

    /// The key of the metadata file of snapshot `sequence_number`.
    pub fn version_key(&self, sequence_number: i64) -> SegmentKey {
        self.metadata_key(&format!("v{sequence_number}.metadata.json"))
    }

    /// Uploads a manifest of `files` under a fresh name; returns its key
    /// and length.
    pub async fn write_manifest(&self, files: &[DataFile]) -> Result<(SegmentKey, u64)> {
        let id = uuid::Uuid::new_v4();
        let bytes = iceberg::manifest(files, *id.as_bytes());
        let key = self.metadata_key(&format!("{id}-m0.avro"));
        let len = bytes.len() as u64;
        self.storage.put_segment(&key, Bytes::from(bytes)).await?;
        Ok((key, len))
    }

    /// Whether the metadata file of snapshot `sequence_number` exists.
    pub async fn is_published(&self, sequence_number: i64) -> Result<bool> {
        self.storage
            .exists(&self.version_key(sequence_number))
            .await
    }

    /// Publishes the last of `manifests` (the topic's snapshots, oldest
    /// first) as the table's current snapshot: its manifest list (every
    /// manifest so far), then `v<N>.metadata.json`, then the version hint.
    /// Writing them again gives the same table, so a publish cut short is
    /// simply repeated.
    pub async fn publish(&self, manifests: &[ArchiveManifest]) -> Result<()> {
        let Some(current) = manifests.last() else {
            return Ok(());
        };
        let refs: Vec<ManifestRef> = manifests
            .iter()
            .map(|m| ManifestRef {
                path: self.uri(&SegmentKey::from_stored(m.manifest_key.clone())),
                length: m.manifest_length,
                sequence_number: m.sequence_number,
                snapshot_id: m.snapshot_id,
                added_files: m.added_files,
                added_rows: m.added_rows,
            })
            .collect();
        let parent = manifests
            .len()
            .checked_sub(2)
            .map(|i| manifests[i].snapshot_id);
        let sync = *uuid::Uuid::new_v4().as_bytes();
        let list = iceberg::manifest_list(
            &refs,
            current.snapshot_id,
            parent,
            current.sequence_number,
            sync,
        );
        let list_key = self.metadata_key(&format!(
            "snap-{}-{}.avro",
            current.snapshot_id, current.sequence_number
        ));
        self.storage
            .put_segment(&list_key, Bytes::from(list))
            .await?;
        let state = TableState {
            table_uuid: self.topic_id,
            location: self.location(),
            sequence_number: current.sequence_number,
            snapshot_id: current.snapshot_id,
            parent_snapshot_id: parent,
            timestamp_ms: current.committed_ms,
            manifest_list: self.uri(&list_key),
            added_files: current.added_files,
            added_records: current.added_rows,
            total_files: manifests.iter().map(|m| m.added_files).sum(),
            total_records: manifests.iter().map(|m| m.added_rows).sum(),
        };
        let metadata = serde_json::to_vec_pretty(&iceberg::table_metadata(&state))
            .map_err(|e| crate::error::AgentError::Corrupt(format!("table metadata: {e}")))?;
        self.storage
            .put_segment(
                &self.version_key(current.sequence_number),
                Bytes::from(metadata),
            )
            .await?;
        self.storage
            .put_segment(
                &self.metadata_key("version-hint.text"),
                Bytes::from(current.sequence_number.to_string()),
            )
            .await?;
        Ok(())
    }
}
