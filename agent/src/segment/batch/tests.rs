use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{Compression, RecordBatchDecoder};

use super::*;
use crate::test_support::batch;

#[test]
fn parses_a_client_batch() {
    let b = batch(&["a", "b", "c"], 1_000, Compression::None);
    let h = BatchHeader::parse(&b).unwrap();
    assert_eq!(h.base_offset, 0);
    assert_eq!(h.total_len, b.len());
    assert_eq!(h.last_offset_delta, 2);
    assert_eq!(h.record_count, 3);
    assert_eq!(h.base_timestamp, 1_000);
    assert_eq!(h.max_timestamp, 1_002);
    assert_eq!(h.producer_id, -1);
    verify_crc(&b, &h).unwrap();
}

#[test]
fn validates_every_codec() {
    for c in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let h = validate_produced(&batch(&["x", "y"], 5, c)).unwrap();
        assert_eq!((h.record_count, h.max_timestamp), (2, 6), "{c:?}");
    }
}

#[test]
fn refuses_two_batches_in_one_partition() {
    let mut two = BytesMut::new();
    two.extend_from_slice(&batch(&["a"], 1, Compression::None));
    two.extend_from_slice(&batch(&["b"], 2, Compression::None));
    assert_eq!(
        validate_produced(&two),
        Err(BatchError::Invalid(
            "exactly one record batch per partition is allowed"
        ))
    );
}

#[test]
fn rejects_a_flipped_bit() {
    let b = batch(&["hello"], 1, Compression::None);
    for pos in [21, 30, b.len() - 1] {
        let mut bad = b.to_vec();
        bad[pos] ^= 0x01;
        assert_eq!(
            validate_produced(&bad),
            Err(BatchError::CorruptCrc),
            "bit at {pos}"
        );
    }
}

#[test]
fn rejects_truncation_and_bad_lengths() {
    let b = batch(&["hello", "world"], 1, Compression::None);
    assert_eq!(
        validate_produced(&b[..b.len() - 1]),
        Err(BatchError::Truncated)
    );
    assert_eq!(validate_produced(&b[..40]), Err(BatchError::Truncated));
    assert_eq!(
        validate_produced(&[]),
        Err(BatchError::Invalid("no record batch"))
    );
    let mut negative = b.to_vec();
    negative[8..12].copy_from_slice(&(-5i32).to_be_bytes());
    assert_eq!(validate_produced(&negative), Err(BatchError::Truncated));
    let mut trailing = b.to_vec();
    trailing.extend_from_slice(&[0, 0, 0]);
    assert_eq!(
        validate_produced(&trailing),
        Err(BatchError::Invalid(
            "exactly one record batch per partition is allowed"
        ))
    );
}

#[test]
fn rejects_old_magic() {
    let mut b = batch(&["a"], 1, Compression::None).to_vec();
    b[16] = 1;
    assert_eq!(validate_produced(&b), Err(BatchError::UnsupportedMagic(1)));
}

#[test]
fn patching_the_base_offset_keeps_the_crc_valid() {
    let b = batch(&["a", "b"], 7, Compression::Lz4);
    let mut patched = b.to_vec();
    patch_offsets(&mut patched, 1_234, 0);
    let h = BatchHeader::parse(&patched).unwrap();
    assert_eq!(h.base_offset, 1_234);
    verify_crc(&patched, &h).unwrap();
    let mut bytes = Bytes::from(patched);
    let set = RecordBatchDecoder::decode(&mut bytes).unwrap();
    let offsets: Vec<i64> = set.records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, vec![1_234, 1_235]);
}

#[test]
fn iterates_batches_end_to_end() {
    let mut all = BytesMut::new();
    all.extend_from_slice(&batch(&["a"], 1, Compression::None));
    all.extend_from_slice(&batch(&["b", "c"], 2, Compression::None));
    let headers: Vec<i32> = BatchIter::new(all.freeze())
        .map(|r| r.unwrap().0.record_count)
        .collect();
    assert_eq!(headers, vec![1, 2]);
}

#[test]
fn patching_a_run_numbers_its_batches_one_after_another() {
    let mut run = BytesMut::new();
    run.extend_from_slice(&batch(&["a"], 1, Compression::None));
    run.extend_from_slice(&batch(&["b", "c"], 2, Compression::Gzip));
    run.extend_from_slice(&batch(&["d"], 3, Compression::None));
    patch_run(&mut run, 40, 0).unwrap();
    let bases: Vec<i64> = BatchIter::new(run.clone().freeze())
        .map(|r| r.unwrap().0.base_offset)
        .collect();
    assert_eq!(bases, vec![40, 41, 43]);
    let mut truncated = run[..run.len() - 1].to_vec();
    assert_eq!(patch_run(&mut truncated, 0, 0), Err(BatchError::Truncated));
}

/// `b` with its header changed by `edit` and its CRC made right again, so
/// that only the checks under test can refuse it.
fn edited(b: &Bytes, edit: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut out = b.to_vec();
    edit(&mut out);
    let crc = crc32c::crc32c(&out[ATTRIBUTES_OFFSET..]);
    out[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    out
}

/// `b` with the given producer id, epoch and base sequence.
fn with_producer(b: &Bytes, id: i64, epoch: i16, sequence: i32) -> Vec<u8> {
    edited(b, |h| {
        h[43..51].copy_from_slice(&id.to_be_bytes());
        h[51..53].copy_from_slice(&epoch.to_be_bytes());
        h[53..57].copy_from_slice(&sequence.to_be_bytes());
    })
}

#[test]
fn refuses_producer_fields_kafka_refuses() {
    let b = batch(&["a", "b"], 1_000, Compression::None);
    for (id, epoch, sequence) in [(0, 0, 0), (7, 3, 41), (-1, -1, -1), (-1, 5, 9)] {
        assert!(
            validate_produced(&with_producer(&b, id, epoch, sequence)).is_ok(),
            "({id}, {epoch}, {sequence}) should pass"
        );
    }
    assert_eq!(
        validate_produced(&with_producer(&b, 7, 0, -1)),
        Err(BatchError::Invalid(
            "idempotent batch with a negative base sequence"
        ))
    );
    assert_eq!(
        validate_produced(&with_producer(&b, -2, 0, 0)),
        Err(BatchError::Invalid("producer id below -1"))
    );
    for epoch in [-1, i16::MIN] {
        assert_eq!(
            validate_produced(&with_producer(&b, 7, epoch, 0)),
            Err(BatchError::InvalidProducerEpoch {
                producer_id: 7,
                epoch
            })
        );
    }
}

#[test]
fn transactional_batches_need_a_producer() {
    let b = batch(&["a"], 1_000, Compression::None);
    let flag = |h: &mut [u8]| {
        let attributes = i16::from_be_bytes([h[21], h[22]]) | TRANSACTIONAL_FLAG;
        h[21..23].copy_from_slice(&attributes.to_be_bytes());
    };
    let transactional = edited(&with_producer(&b, 7, 0, 0).into(), flag);
    let header = validate_produced(&transactional).expect("a producer's transactional batch");
    assert!(header.is_transactional());
    let anonymous = edited(&b, flag);
    assert_eq!(
        validate_produced(&anonymous),
        Err(BatchError::Transactional)
    );
}

/// `b` with the given `baseTimestamp` and `maxTimestamp`.
fn with_timestamps(b: &Bytes, base: i64, max: i64) -> BatchHeader {
    let out = edited(b, |h| {
        h[27..35].copy_from_slice(&base.to_be_bytes());
        h[35..43].copy_from_slice(&max.to_be_bytes());
    });
    validate_produced(&out).unwrap()
}

#[test]
fn checks_create_time_against_the_window() {
    let b = batch(&["a", "b"], 1_000, Compression::None);
    let now = 1_000_000;
    let limits = TimestampLimits {
        before_max_ms: 1_000,
        after_max_ms: 500,
    };
    for (base, max) in [(now, now), (now - 1_000, now + 500), (-1, -1), (-1, now)] {
        assert_eq!(
            check_timestamps(&with_timestamps(&b, base, max), now, limits),
            Ok(()),
            "{base}..{max}"
        );
    }
    let out = |timestamp, first_record| {
        Err(BatchError::TimestampOutOfRange {
            timestamp,
            first_record,
            low: now - 1_000,
            high: now + 500,
        })
    };
    let h = with_timestamps(&b, now - 1_001, now);
    assert_eq!(check_timestamps(&h, now, limits), out(now - 1_001, true));
    let h = with_timestamps(&b, now, now + 501);
    assert_eq!(check_timestamps(&h, now, limits), out(now + 501, false));
    // Kafka 4.x's defaults: no lower bound, an hour ahead at most.
    let h = with_timestamps(&b, 0, 0);
    assert_eq!(
        check_timestamps(&h, now, TimestampLimits::default()),
        Ok(())
    );
    let h = with_timestamps(&b, 1, now + 3_600_001);
    assert!(check_timestamps(&h, now, TimestampLimits::default()).is_err());
}

#[test]
fn refuses_log_append_time_from_producers() {
    let b = batch(&["a"], 1_000, Compression::None);
    let out = edited(&b, |h| {
        let attributes = i16::from_be_bytes([h[21], h[22]]) | TIMESTAMP_TYPE_FLAG;
        h[21..23].copy_from_slice(&attributes.to_be_bytes());
    });
    let h = validate_produced(&out).unwrap();
    assert_eq!(
        check_timestamps(&h, 1_000, TimestampLimits::default()),
        Err(BatchError::LogAppendTime)
    );
}

#[test]
fn log_append_time_rewrites_max_timestamp_type_and_crc() {
    for c in [Compression::None, Compression::Lz4] {
        let b = batch(&["a", "b"], 1_000, c);
        let header = validate_produced(&b).unwrap();
        let mut data = b.to_vec();
        set_log_append_time(&mut data, &header, 77_000);
        let patched = validate_produced(&data).expect("CRC valid after the rewrite");
        assert!(patched.is_log_append_time());
        assert_eq!(patched.max_timestamp, 77_000);
        assert_eq!(
            patched.base_timestamp, 1_000,
            "baseTimestamp is kept, as Kafka"
        );
        assert_eq!(patched.attributes & 0x07, header.attributes & 0x07);
        // A client decodes every record as LogAppendTime (and takes the
        // batch's maxTimestamp for it: librdkafka and the Java client do,
        // as `tests/tests/configs.rs` checks; this decoder keeps deltas).
        let mut bytes = Bytes::from(data);
        let records = RecordBatchDecoder::decode(&mut bytes).unwrap();
        assert_eq!(records.records.len(), 2);
        assert!(
            records
                .records
                .iter()
                .all(|r| r.timestamp_type == kafka_protocol::records::TimestampType::LogAppend),
            "{c:?}"
        );
    }
}
