//! A request frame (without its length prefix) through what the agent does
//! with it before any handler runs: the header, then the body with the
//! decoder of its API, for every API key and version the agent advertises.
//! A frame naming an API or version the agent refuses unread is pointed at
//! a served one (picked by its first bytes), so no input is wasted.

#![no_main]

use bytes::Bytes;
use floe_fuzz::kafka::{codec, versions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut frame = data.to_vec();
    if frame.len() >= 4 {
        let key = i16::from_be_bytes([frame[0], frame[1]]);
        let version = i16::from_be_bytes([frame[2], frame[3]]);
        let served = versions::all()
            .any(|(api, range)| api as i16 == key && (range.min..=range.max).contains(&version));
        if !served {
            let pairs: Vec<(i16, i16)> = versions::all()
                .flat_map(|(api, r)| (r.min..=r.max).map(move |v| (api as i16, v)))
                .collect();
            let pick = usize::from(frame[0]) << 8 | usize::from(frame[3]);
            let (key, version) = pairs[pick % pairs.len()];
            frame[0..2].copy_from_slice(&key.to_be_bytes());
            frame[2..4].copy_from_slice(&version.to_be_bytes());
        }
    }
    let Ok(req) = codec::parse_request(Bytes::from(frame)) else {
        return;
    };
    let _ = codec::decode_served_body(&req);
});
