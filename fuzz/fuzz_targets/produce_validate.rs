//! A Produce partition's `records` through the edge's validation (the
//! header, then every record, as the edge reads them), and a batch it
//! accepts through what the read path does with it: base offsets
//! patched (the CRC must still hold), walked, searched by timestamp. The
//! input is tried as it is and with its CRC made right, so that mutations
//! also reach the checks behind the CRC. Any bytes are also walked as a
//! run of stored batches.

#![no_main]

use floe_fuzz::segment::batch::{BatchHeader, patch_run, validate_produced, verify_crc};
use floe_fuzz::segment::records::{RecordChecks, check_records};
use floe_fuzz::{SCAN_LIMIT, check_batch, check_run, fix_batch_crc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = validate_produced(data);
    let mut fixed = data.to_vec();
    fix_batch_crc(&mut fixed);
    if let Ok(header) = validate_produced(&fixed) {
        assert_eq!(header.total_len, fixed.len(), "one whole batch");
        assert!(header.record_count >= 1);
        let checks = RecordChecks {
            timestamps: Some(0..=i64::MAX),
            limit: SCAN_LIMIT,
            require_keys: true,
        };
        let _ = check_records(&fixed, &header, &checks);
        let mut patched = fixed.clone();
        patch_run(&mut patched, 1_000, 0).expect("an accepted batch patches");
        let again = BatchHeader::parse(&patched).expect("a patched batch parses");
        assert_eq!(again.base_offset, 1_000);
        verify_crc(&patched, &again).expect("patching leaves the CRC valid");
        check_batch(&patched, &again, 1_000);
    }
    check_run(&fixed, 0);
});
