//! The whole stream judge (decoder, JSON, chunk schema, sequence rules, reassembly, SDK
//! emulation) on arbitrary bytes: it never panics.
#![no_main]

use std::time::Duration;

use gatecheck::check::stream::{StreamJudge, StreamLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let request: serde_json::Value = serde_json::json!({
        "model": "m", "stream": true, "n": 2, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    });
    let mut judge = StreamJudge::new(Some(&request), StreamLimits::default());
    for (i, piece) in data.chunks(97).enumerate() {
        if !judge.feed(piece, Duration::from_millis(i as u64)) {
            break;
        }
    }
    let _ = judge.finish(Duration::from_secs(1), None);
});
