//! Transaction markers: the control batches the coordinator appends to
//! every partition of a transaction when it ends (Kafka's
//! `EndTransactionMarker`). A marker is a v2 batch with the control and
//! transactional flags set, the producer's id and epoch, no sequence, and
//! one record whose key says commit or abort and whose value carries the
//! coordinator epoch. Consumers never see it as a record; read_committed
//! consumers use it to close the producer's transaction.

use bytes::{BufMut, Bytes, BytesMut};

use super::batch::{HEADER_LEN, LOG_OVERHEAD};

/// `attributes` of a marker: transactional (0x10) and control (0x20).
const MARKER_ATTRIBUTES: i16 = 0x10 | 0x20;
/// Control record type of an abort marker (its key's second field).
const ABORT: i16 = 0;
/// Control record type of a commit marker.
const COMMIT: i16 = 1;

/// Which end of a transaction a marker records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// The producer whose transaction it ends.
    pub producer_id: i64,
    /// The epoch the coordinator writes it with (the producer's, or one
    /// bumped past it to fence a zombie).
    pub producer_epoch: i16,
    /// Commit or abort.
    pub commit: bool,
    /// The coordinator epoch (Floe's coordinators are fenced by the store,
    /// so 0).
    pub coordinator_epoch: i32,
}

/// The marker as a batch at base offset 0, timestamped `now_ms`.
pub fn marker_batch(marker: &Marker, now_ms: i64) -> Bytes {
    // The record: attributes, timestamp delta, offset delta, a 4-byte key
    // (version 0, type), a 6-byte value (version 0, coordinator epoch), no
    // header. Every varint here fits one byte (zigzag of 0, 4, 6).
    let mut record = Vec::with_capacity(16);
    record.push(0); // attributes
    record.push(0); // timestamp delta
    record.push(0); // offset delta
    record.push(zigzag(4));
    record.put_i16(0);
    record.put_i16(if marker.commit { COMMIT } else { ABORT });
    record.push(zigzag(6));
    record.put_i16(0);
    record.put_i32(marker.coordinator_epoch);
    record.push(0); // header count
    let record_len = u8::try_from(record.len()).unwrap_or(u8::MAX);

    let total = HEADER_LEN + 1 + record.len();
    let mut b = BytesMut::with_capacity(total);
    b.put_i64(0); // base offset
    b.put_i32((total - LOG_OVERHEAD) as i32); // batch length
    b.put_i32(0); // partition leader epoch
    b.put_i8(2); // magic
    b.put_u32(0); // crc, set below
    b.put_i16(MARKER_ATTRIBUTES);
    b.put_i32(0); // last offset delta
    b.put_i64(now_ms); // base timestamp
    b.put_i64(now_ms); // max timestamp
    b.put_i64(marker.producer_id);
    b.put_i16(marker.producer_epoch);
    b.put_i32(-1); // base sequence: markers have none
    b.put_i32(1); // record count
    b.put_u8(zigzag(i64::from(record_len)));
    b.put_slice(&record);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b.freeze()
}

/// A small non-negative number as a one-byte zigzag varint.
fn zigzag(v: i64) -> u8 {
    u8::try_from(v << 1).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::batch::{BatchHeader, verify_crc};

    #[test]
    fn markers_are_sound_control_batches() {
        for commit in [false, true] {
            let marker = Marker {
                producer_id: 4242,
                producer_epoch: 7,
                commit,
                coordinator_epoch: 3,
            };
            let batch = marker_batch(&marker, 1_700_000_000_000);
            let header = BatchHeader::parse(&batch).expect("header");
            verify_crc(&batch, &header).expect("crc");
            assert_eq!(header.total_len, batch.len());
            assert!(header.is_control() && header.is_transactional());
            assert_eq!(header.producer_id, 4242);
            assert_eq!(header.producer_epoch, 7);
            assert_eq!(header.base_sequence, -1);
            assert_eq!(header.record_count, 1);
            assert_eq!(header.offset_count(), 1);
            // The record: length 16, then the key's type and the value's
            // coordinator epoch where Kafka's ControlRecordType and
            // EndTransactionMarker put them.
            let record = &batch[HEADER_LEN..];
            assert_eq!(record[0], 32, "zigzag of 16");
            assert_eq!(record[4], 8, "key length 4");
            assert_eq!(&record[5..9], &[0, 0, 0, u8::from(commit)]);
            assert_eq!(record[9], 12, "value length 6");
            assert_eq!(&record[10..16], &[0, 0, 0, 0, 0, 3]);
        }
    }
}
