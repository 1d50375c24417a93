//! Reads a whole segment file back: checks it and returns its footer.
//!
//! The read path does not need this (it reads byte ranges named by the
//! index); it is for tools, background jobs and tests that hold a whole file.

use bytes::Buf;
use uuid::Uuid;

use super::format::{
    END_MAGIC, ENTRY_LEN, FooterEntry, HEADER_LEN, MAGIC, SegmentError, TRAILER_LEN, VERSION,
};

/// Checks a whole segment file (magic, version, both checksums, footer
/// bounds) and returns its footer entries.
pub fn read_footer(file: &[u8]) -> Result<Vec<FooterEntry>, SegmentError> {
    if file.len() < HEADER_LEN + TRAILER_LEN || &file[..MAGIC.len()] != MAGIC {
        return Err(SegmentError::NotASegment);
    }
    let version = u16::from_be_bytes([file[8], file[9]]);
    if version != VERSION {
        return Err(SegmentError::UnsupportedVersion(version));
    }
    let mut trailer = &file[file.len() - TRAILER_LEN..];
    let footer_offset = trailer.get_u64();
    let entry_count = trailer.get_u32() as usize;
    let footer_crc = trailer.get_u32();
    let data_crc = trailer.get_u32();
    if trailer != END_MAGIC {
        return Err(SegmentError::NotASegment);
    }
    let footer_end = file.len() - TRAILER_LEN;
    let footer_offset = usize::try_from(footer_offset)
        .ok()
        .filter(|&o| o >= HEADER_LEN && o <= footer_end)
        .ok_or(SegmentError::BadFooter("footer offset outside the file"))?;
    if entry_count.checked_mul(ENTRY_LEN) != Some(footer_end - footer_offset) {
        return Err(SegmentError::BadFooter(
            "footer length does not match entry count",
        ));
    }
    if crc32c::crc32c(&file[footer_offset..footer_end]) != footer_crc {
        return Err(SegmentError::Checksum("footer"));
    }
    if crc32c::crc32c(&file[..footer_offset]) != data_crc {
        return Err(SegmentError::Checksum("data"));
    }
    let mut footer = &file[footer_offset..footer_end];
    let mut entries = Vec::with_capacity(entry_count);
    for _ in 0..entry_count {
        let mut id = [0u8; 16];
        footer.copy_to_slice(&mut id);
        let entry = FooterEntry {
            topic_id: Uuid::from_bytes(id),
            partition: footer.get_i32(),
            byte_offset: footer.get_u64(),
            byte_len: footer.get_u64(),
            batch_count: footer.get_u32(),
            offset_count: footer.get_i64(),
            max_timestamp: footer.get_i64(),
        };
        let end = entry.byte_offset.checked_add(entry.byte_len);
        if entry.byte_offset < HEADER_LEN as u64 || end.is_none_or(|e| e > footer_offset as u64) {
            return Err(SegmentError::BadFooter("entry range outside the body"));
        }
        entries.push(entry);
    }
    Ok(entries)
}
