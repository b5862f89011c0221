//! Throughput of the SSE decoder alone and of the whole stream judge (decode, JSON parse, chunk
//! schema, sequence rules, reassembly, SDK emulation) on typical OpenAI chunk traffic, with the
//! popular `eventsource-stream` crate (used by async-openai) decoding the same bytes for
//! comparison. Run with `cargo bench --bench sse`; one core (divan runs benches serially).

use std::time::Duration;

use bytes::Bytes;
use divan::counter::BytesCount;
use futures_util::StreamExt;
use gatecheck::check::stream::{StreamJudge, StreamLimits};
use gatecheck::sse;

fn main() {
    divan::main();
}

/// About 16 MiB of chunks as OpenAI sends them (one word of content each), in 16 KiB reads.
fn traffic() -> (Vec<Bytes>, usize) {
    let mut body = String::new();
    body.push_str(r#"data: {"id":"chatcmpl-BENCH0123456789abcdefghij","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}"#);
    body.push_str("\n\n");
    let words = [
        "Hello", " there", ",", " how", " can", " I", " help", " you", " today", "?",
    ];
    let mut i = 0;
    while body.len() < 16 << 20 {
        body.push_str(r#"data: {"id":"chatcmpl-BENCH0123456789abcdefghij","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":""#);
        body.push_str(words[i % words.len()]);
        body.push_str(r#""},"logprobs":null,"finish_reason":null}]}"#);
        body.push_str("\n\n");
        i += 1;
    }
    body.push_str(r#"data: {"id":"chatcmpl-BENCH0123456789abcdefghij","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#);
    body.push_str("\n\ndata: [DONE]\n\n");
    let len = body.len();
    let bytes = Bytes::from(body);
    let reads = (0..len)
        .step_by(16 << 10)
        .map(|at| bytes.slice(at..(at + (16 << 10)).min(len)))
        .collect();
    (reads, len)
}

#[divan::bench]
fn decode_gatecheck(bencher: divan::Bencher) {
    let (reads, len) = traffic();
    bencher.counter(BytesCount::new(len)).bench(|| {
        let mut decoder = sse::Decoder::default();
        let mut events = 0usize;
        for r in &reads {
            decoder.feed(r, Duration::ZERO, &mut |_| events += 1);
        }
        decoder.finish(Duration::ZERO, &mut |_| events += 1);
        events
    });
}

#[divan::bench]
fn decode_eventsource_stream(bencher: divan::Bencher) {
    use eventsource_stream::Eventsource;
    let (reads, len) = traffic();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    bencher.counter(BytesCount::new(len)).bench(|| {
        rt.block_on(async {
            let stream = futures_util::stream::iter(
                reads.iter().cloned().map(Ok::<_, std::convert::Infallible>),
            );
            stream
                .eventsource()
                .fold(0usize, |n, _| async move { n + 1 })
                .await
        })
    });
}

#[divan::bench]
fn judge_stream(bencher: divan::Bencher) {
    let (reads, len) = traffic();
    let request: serde_json::Value = serde_json::from_str(
        r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .unwrap();
    gatecheck::schema::warm_up();
    bencher.counter(BytesCount::new(len)).bench(|| {
        let mut judge = StreamJudge::new(Some(&request), StreamLimits::default());
        for r in &reads {
            judge.feed(r, Duration::ZERO);
        }
        let report = judge.finish(Duration::ZERO, None);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        report.metrics.chunks
    });
}
