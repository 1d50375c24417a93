//! A segment file, as read back whole (its footer checked), then each
//! partition's byte range as the read path reads it from an index row:
//! patched, walked, searched by timestamp. The input is tried as it is and
//! with both checksums made right, so that mutations reach the footer
//! checks behind them.

#![no_main]

use floe_fuzz::check_run;
use floe_fuzz::segment::reader::read_footer;
use libfuzzer_sys::fuzz_target;

const HEADER_LEN: usize = 12;
const TRAILER_LEN: usize = 24;

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut fixed = data.to_vec();
    if fix_crcs(&mut fixed) {
        check(&fixed);
    }
});

fn check(file: &[u8]) {
    let Ok(entries) = read_footer(file) else {
        return;
    };
    for entry in entries {
        let start = usize::try_from(entry.byte_offset).expect("checked by read_footer");
        let len = usize::try_from(entry.byte_len).expect("checked by read_footer");
        let range = file.get(start..start + len).expect("entry inside the file");
        check_run(range, 0);
    }
}

/// Rewrites the footer and data checksums of a file whose trailer points
/// inside it; `false` when it does not.
fn fix_crcs(file: &mut [u8]) -> bool {
    if file.len() < HEADER_LEN + TRAILER_LEN {
        return false;
    }
    let t = file.len() - TRAILER_LEN;
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&file[t..t + 8]);
    let Ok(offset) = usize::try_from(u64::from_be_bytes(offset)) else {
        return false;
    };
    if offset < HEADER_LEN || offset > t {
        return false;
    }
    let footer_crc = crc32c::crc32c(&file[offset..t]);
    let data_crc = crc32c::crc32c(&file[..offset]);
    file[t + 12..t + 16].copy_from_slice(&footer_crc.to_be_bytes());
    file[t + 16..t + 20].copy_from_slice(&data_crc.to_be_bytes());
    true
}
