//! The SSE decoder on arbitrary bytes: it never panics, and splitting the input anywhere (the
//! first byte picks where) gives exactly the events of the whole input.
#![no_main]

use std::time::Duration;

use gatecheck::sse::{self, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let limits = Limits { max_line_bytes: 64 };
    let (whole, whole_facts) = sse::decode_all([(input, Duration::ZERO)], limits);
    let cut = if input.is_empty() { 0 } else { pick as usize % (input.len() + 1) };
    let (a, b) = input.split_at(cut);
    let (split, split_facts) = sse::decode_all([(a, Duration::ZERO), (b, Duration::ZERO)], limits);
    assert_eq!(whole, split, "split at {cut}");
    assert_eq!(whole_facts, split_facts);
    let bytes: Vec<(&[u8], Duration)> = input.chunks(1).map(|c| (c, Duration::ZERO)).collect();
    assert_eq!(sse::decode_all(bytes, limits).0, whole);
});
