//! Round trips of the archive: records → Parquet → record batches, and the
//! Iceberg files' shape.

use bytes::Bytes;
use parquet::file::metadata::ParquetMetaDataReader;

use super::avro::{Value, put_long};
use super::reader::encode_row_group;
use super::schema::{arrow_schema, ids};
use super::writer::ArchiveWriter;
use super::{ArchivedRecord, TimestampType};
use crate::segment::batch::{BatchHeader, BatchIter, verify_crc};
use crate::segment::records::Records;

fn sample(n: i64) -> Vec<ArchivedRecord> {
    (0..n)
        .map(|i| ArchivedRecord {
            partition: 3,
            offset: 100 + i,
            timestamp: if i % 7 == 6 {
                5_000
            } else {
                1_000 + i * 3 - (i % 4)
            },
            timestamp_type: if i % 7 == 6 {
                TimestampType::LogAppendTime
            } else {
                TimestampType::CreateTime
            },
            key: (i % 3 != 0).then(|| format!("key-{i}").into_bytes()),
            value: (i % 5 != 0).then(|| vec![i as u8; (i as usize * 37) % 300]),
            headers: (0..i % 3)
                .map(|h| {
                    (
                        format!("h{}", h % 2).into_bytes(),
                        (h != 1).then(|| vec![h as u8, 0xff]),
                    )
                })
                .collect(),
        })
        .collect()
}

/// Decodes batches as a consumer does: each record's offset, timestamp
/// (the batch's max timestamp under LogAppendTime), key, value, headers.
fn consume(data: Bytes, partition: i32) -> Vec<ArchivedRecord> {
    let mut out = Vec::new();
    for item in BatchIter::new(data) {
        let (header, batch) = item.expect("batch parses");
        verify_crc(&batch, &header).expect("crc is right");
        let mut records = Records::open(&batch, &header, u64::MAX).expect("records open");
        for _ in 0..header.record_count {
            let r = records.next_record().expect("record decodes");
            let log_append = header.is_log_append_time();
            out.push(ArchivedRecord {
                partition,
                offset: header.base_offset + i64::from(r.offset_delta),
                timestamp: if log_append {
                    header.max_timestamp
                } else {
                    header.base_timestamp + r.timestamp_delta
                },
                timestamp_type: if log_append {
                    TimestampType::LogAppendTime
                } else {
                    TimestampType::CreateTime
                },
                key: r.key,
                value: r.value,
                headers: r.headers,
            });
        }
        records.finish().expect("nothing after the last record");
        assert_eq!(
            header.offset_count(),
            i64::from(header.record_count),
            "contiguous offsets"
        );
    }
    out
}

#[test]
fn records_round_trip_through_parquet_row_groups() {
    let records = sample(500);
    let mut writer = ArchiveWriter::with_row_group_bytes(8 << 10).expect("writer");
    for r in records.clone() {
        writer.push(r).expect("push");
    }
    let file = writer.finish().expect("finish");
    assert!(
        file.row_groups.len() > 3,
        "small row groups: {}",
        file.row_groups.len()
    );
    assert_eq!(file.records(), 500);
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&file.bytes)
        .expect("footer");
    let mut back = Vec::new();
    let mut expected_base = 100;
    for (i, group) in file.row_groups.iter().enumerate() {
        assert_eq!(
            group.base_offset, expected_base,
            "row groups are contiguous"
        );
        expected_base = group.last_offset + 1;
        let start = group.byte_offset as usize;
        let data = file.bytes.slice(start..start + group.byte_len as usize);
        let batches = encode_row_group(
            metadata.clone(),
            i,
            group.byte_offset,
            data,
            group.base_offset..=group.last_offset,
        )
        .expect("encode");
        let decoded = consume(batches, 3);
        assert_eq!(decoded.len() as u64, group.records);
        assert_eq!(
            decoded.iter().map(|r| r.timestamp).max(),
            Some(group.max_timestamp)
        );
        back.extend(decoded);
    }
    assert_eq!(back, records);
}

#[test]
fn log_append_time_batches_carry_the_append_time() {
    let records = sample(14);
    let mut encoder = super::encode::BatchEncoder::new();
    let batch = super::writer::to_record_batch(&records).expect("arrow batch");
    encoder.push_rows(&batch).expect("encode");
    let data = encoder.finish();
    let headers: Vec<BatchHeader> = BatchIter::new(data.clone())
        .map(|b| b.expect("batch").0)
        .collect();
    // Records 6 and 13 are LogAppendTime: each splits the run of
    // CreateTime records around it.
    assert_eq!(headers.len(), 4);
    assert!(headers[1].is_log_append_time());
    assert_eq!(headers[1].max_timestamp, 5_000);
    assert!(!headers[2].is_log_append_time());
    assert_eq!(consume(data, 3), records);
}

#[test]
fn schema_field_ids_are_stable() {
    let schema = arrow_schema();
    let id = |i: usize| {
        schema.field(i).metadata()["PARQUET:field_id"]
            .parse::<i32>()
            .expect("numeric id")
    };
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "partition",
            "offset",
            "timestamp",
            "timestamp_type",
            "key",
            "value",
            "headers"
        ]
    );
    assert_eq!(
        (0..7).map(id).collect::<Vec<_>>(),
        [
            ids::PARTITION,
            ids::OFFSET,
            ids::TIMESTAMP,
            ids::TIMESTAMP_TYPE,
            ids::KEY,
            ids::VALUE,
            ids::HEADERS
        ]
    );
    assert_eq!([ids::PARTITION, ids::HEADERS, ids::LAST], [1, 7, 10]);
    let json = super::schema::iceberg_schema();
    assert_eq!(json["fields"][6]["type"]["element"]["fields"][1]["id"], 10);
}

#[test]
fn avro_values_use_zigzag_varints_and_blocked_arrays() {
    let mut out = Vec::new();
    for v in [0i64, -1, 1, -64, 64, i64::MAX] {
        put_long(&mut out, v);
    }
    assert_eq!(
        out,
        [
            0x00, 0x01, 0x02, 0x7f, 0x80, 0x01, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0x01
        ]
    );
    let mut out = Vec::new();
    Value::Array(vec![Value::Int(1), Value::optional(Some(Value::Long(2)))]).encode(&mut out);
    assert_eq!(out, [0x04, 0x02, 0x02, 0x04, 0x00]);
    let file = super::avro::container("\"int\"", &[("k", "v".into())], &[Value::Int(3)], [7; 16]);
    assert!(file.starts_with(b"Obj\x01"));
    assert!(file.ends_with(&[7; 16]));
}

/// One uncompressed batch of `values` at `base`, with `attributes`
/// (0x10 transactional, 0x20 control) and producer `pid`.
fn stored_batch(out: &mut bytes::BytesMut, base: i64, attributes: i16, pid: i64, values: &[&str]) {
    use super::encode::{BatchFields, put_batch, put_record};
    let mut records = Vec::new();
    let mut scratch = Vec::new();
    for (i, v) in values.iter().enumerate() {
        put_record(
            &mut records,
            &mut scratch,
            i as i64,
            i as i32,
            Some(b"k"),
            Some(v.as_bytes()),
            std::iter::empty(),
        );
    }
    let fields = BatchFields {
        base_offset: base,
        attributes,
        last_offset_delta: values.len() as i32 - 1,
        base_timestamp: 1_000 + base,
        max_timestamp: 1_000 + base + values.len() as i64 - 1,
        producer_id: pid,
        producer_epoch: 0,
        base_sequence: 0,
        count: values.len() as i32,
    };
    put_batch(out, &fields, &records);
}

/// A partition's log as the job reads it: plain records, a committed
/// transaction of producer 7 and an aborted one of producer 8 interleaved
/// with them, their markers, then a second (committed) transaction of
/// producer 8.
fn transactional_log() -> Bytes {
    let mut out = bytes::BytesMut::new();
    stored_batch(&mut out, 0, 0, -1, &["plain-0", "plain-1"]);
    stored_batch(&mut out, 2, 0x10, 7, &["c7-0", "c7-1"]);
    stored_batch(&mut out, 4, 0x10, 8, &["a8-0", "a8-1", "a8-2"]);
    stored_batch(&mut out, 7, 0, -1, &["plain-7"]);
    stored_batch(&mut out, 8, 0x10, 8, &["a8-3"]);
    stored_batch(&mut out, 9, 0x30, 7, &["marker"]); // commit of 7
    stored_batch(&mut out, 10, 0x30, 8, &["marker"]); // abort of 8
    stored_batch(&mut out, 11, 0x10, 8, &["c8-0"]);
    stored_batch(&mut out, 12, 0x30, 8, &["marker"]); // commit of 8
    out.freeze()
}

#[test]
fn archiving_leaves_out_aborted_transactions_and_markers() {
    use super::decode::{AbortedRanges, Added, add_batches};
    let aborted = AbortedRanges::new([floe_metadata::AbortedTxn {
        producer_id: 8,
        first_offset: 4,
        last_offset: 10,
    }]);
    let mut writer = ArchiveWriter::with_row_group_bytes(1 << 20).expect("writer");
    let added = add_batches(transactional_log(), 0, 0, &aborted, &mut writer).expect("add");
    assert_eq!(
        added,
        Added {
            records: 6,
            aborted: 4,
            markers: 3
        }
    );
    let file = writer.finish().expect("finish");
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&file.bytes)
        .expect("footer");
    let group = &file.row_groups[0];
    let data = file
        .bytes
        .slice(group.byte_offset as usize..(group.byte_offset + group.byte_len) as usize);
    // The row group as an index row covers the whole range, 0..=12.
    let batches = encode_row_group(metadata, 0, group.byte_offset, data, 0..=12).expect("encode");
    let headers: Vec<BatchHeader> = BatchIter::new(batches.clone())
        .map(|b| b.expect("batch").0)
        .collect();
    // Served batches carry no producer and no transactional flag: no
    // consumer's aborted-transaction bookkeeping can act on them.
    assert!(
        headers
            .iter()
            .all(|h| h.producer_id == -1 && !h.is_transactional() && !h.is_control())
    );
    // The offsets after the last record (the commit marker's) end in an
    // empty batch, so a consumer's position reaches the range's end.
    let last = headers.last().expect("batches");
    assert_eq!(
        (last.base_offset, last.record_count, last.offset_count()),
        (12, 0, 1)
    );
    let read: Vec<(i64, Vec<u8>)> = BatchIter::new(batches)
        .flat_map(|b| {
            let (header, batch) = b.expect("batch");
            verify_crc(&batch, &header).expect("crc");
            let mut records = Records::open(&batch, &header, u64::MAX).expect("open");
            (0..header.record_count)
                .map(|_| {
                    let r = records.next_record().expect("record");
                    (
                        header.base_offset + i64::from(r.offset_delta),
                        r.value.expect("value"),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: Vec<(i64, Vec<u8>)> = [
        (0, "plain-0"),
        (1, "plain-1"),
        (2, "c7-0"),
        (3, "c7-1"),
        (7, "plain-7"),
        (11, "c8-0"),
    ]
    .into_iter()
    .map(|(o, v)| (o, v.as_bytes().to_vec()))
    .collect();
    assert_eq!(read, expected);
}

#[test]
fn aborted_ranges_match_their_producer_only() {
    use super::decode::AbortedRanges;
    let aborted = AbortedRanges::new([
        floe_metadata::AbortedTxn {
            producer_id: 8,
            first_offset: 4,
            last_offset: 10,
        },
        floe_metadata::AbortedTxn {
            producer_id: 8,
            first_offset: 20,
            last_offset: 25,
        },
    ]);
    assert!(aborted.contains(8, 4) && aborted.contains(8, 10) && aborted.contains(8, 22));
    assert!(!aborted.contains(8, 11) && !aborted.contains(8, 3) && !aborted.contains(8, 26));
    assert!(
        !aborted.contains(7, 5),
        "another producer's batch inside the range"
    );
}

#[test]
fn a_range_of_no_records_is_served_as_one_empty_batch() {
    let data = super::encode::BatchEncoder::new().finish_through(10, 20);
    let batches: Vec<_> = BatchIter::new(data).map(|b| b.expect("batch")).collect();
    assert_eq!(batches.len(), 1);
    let (header, batch) = &batches[0];
    verify_crc(batch, header).expect("crc");
    assert_eq!(
        (
            header.base_offset,
            header.offset_count(),
            header.record_count
        ),
        (10, 11, 0)
    );
    assert_eq!((header.producer_id, header.is_transactional()), (-1, false));
}
