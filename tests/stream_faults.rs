//! Every stream fault the reference gateway can inject, over a real socket on 127.0.0.1, gets
//! the verdict and the findings it deserves, and what the official SDKs would do is said; none
//! hangs the run or crashes the judge.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatecheck::check::stream::StreamLimits;
use gatecheck::check::{Judging, Outcome};
use gatecheck::config::{Secret, Target};
use gatecheck::diag::SourceFile;
use gatecheck::gateway::{Gateway, GatewayOptions};
use gatecheck::run::{self, RunOptions};
use gatecheck::transport::{Limits, Transport};
use gatecheck::{plan, suite};

mod support;
use support::runs::Collect;

/// (fault, outcome, the checks of its findings in order)
const EXPECTED: &[(&str, Outcome, &[&str])] = &[
    ("no_done", Outcome::Pass, &["sse.done_sentinel"]),
    ("drop_mid_stream", Outcome::Error, &[]),
    ("stall_stream", Outcome::Error, &[]),
    ("drip", Outcome::Error, &[]),
    (
        "malformed_chunk",
        Outcome::Fail,
        &["sse.one_json_per_event"],
    ),
    ("glued_chunks", Outcome::Fail, &["sse.one_json_per_event"]),
    ("repeat_role", Outcome::Fail, &["chunk.role_only_once"]),
    (
        "no_tool_index",
        Outcome::Fail,
        &[
            "tools.delta_index_present",
            "tools.delta_index_present",
            "tools.delta_index_present",
        ],
    ),
    (
        "tool_identity_repeated",
        Outcome::Fail,
        &["tools.identity_on_first_delta_only"],
    ),
    (
        "usage_every_chunk",
        Outcome::Pass,
        &["chunk.usage_field_discipline"],
    ),
    ("crlf", Outcome::Pass, &["sse.line_endings"]),
    (
        "keepalive_comments",
        Outcome::Pass,
        &["sse.comments_ignored"],
    ),
    (
        "data_keepalive",
        Outcome::Fail,
        &[
            "sse.no_data_keepalive",
            "sse.no_data_keepalive",
            "sse.no_data_keepalive",
        ],
    ),
    (
        "unterminated_last",
        Outcome::Pass,
        &["sse.event_terminated"],
    ),
    ("error_mid_stream", Outcome::Fail, &["assert.status"]),
    (
        "error_flat_mid_stream",
        Outcome::Fail,
        &["err.in_band_stream_error_shape", "assert.status"],
    ),
    (
        "named_events",
        Outcome::Fail,
        &[
            "sse.no_named_events",
            "sse.no_named_events",
            "sse.no_named_events",
        ],
    ),
    (
        "error_field",
        Outcome::Fail,
        &["sse.no_custom_fields", "assert.status"],
    ),
    ("no_space", Outcome::Pass, &["sse.data_field_space"]),
    (
        "no_finish_reason",
        Outcome::Fail,
        &["chunk.finish_reason_once_at_end"],
    ),
    (
        "finish_reason_every_chunk",
        Outcome::Fail,
        &[
            "chunk.finish_reason_once_at_end",
            "chunk.finish_reason_once_at_end",
        ],
    ),
    ("no_role", Outcome::Fail, &["chunk.first_delta_has_role"]),
    (
        "cumulative_content",
        Outcome::Pass,
        &["chunk.delta_is_incremental"],
    ),
    ("invalid_utf8", Outcome::Fail, &["sse.byte_fragmentation"]),
    ("huge_line", Outcome::Pass, &["sse.one_json_per_event"]),
    (
        "json_for_stream",
        Outcome::Fail,
        &["sse.content_type", "sse.stream_flag_honored"],
    ),
    (
        "error_before_stream",
        Outcome::Fail,
        &["sse.pre_stream_errors_use_http_status", "assert.status"],
    ),
];

fn suite_text() -> String {
    let mut out = String::from(
        "vars:\n  tool: {type: function, function: {name: get_weather, parameters: {type: object, properties: {city: {type: string}}, required: [city]}}}\ncases:\n",
    );
    for (fault, _, _) in EXPECTED {
        let tools = if fault.contains("tool") {
            ", tools: ['${tool}']"
        } else {
            ""
        };
        out.push_str(&format!(
            "  - name: {fault}\n    request:\n      path: /chat/completions\n      headers: {{x-gatecheck-fault: {fault}}}\n      body: {{model: '${{model}}', stream: true, messages: [{{role: user, content: 'Use get_weather for Paris'}}]{tools}}}\n"
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stream_fault_gets_its_verdict_over_a_real_socket() {
    let gw = Gateway::start(
        ([127, 0, 0, 1], 0).into(),
        GatewayOptions {
            api_key: "sk-faults".into(),
            ..GatewayOptions::default()
        },
    )
    .await
    .unwrap();
    let target = Arc::new(Target {
        name: "reference".into(),
        base_url: gw.base_url(),
        api_key_env: "TEST".into(),
        api_key: Some(Secret::new("sk-faults")),
        headers: vec![],
        profile: "openai".into(),
        models: vec!["gatecheck-echo".into()],
        concurrency: None,
        rate_limit: None,
        extra_capabilities: Vec::new(),
    });
    let suite = suite::load_one(SourceFile::new("suites/faults.yaml", suite_text()))
        .unwrap_or_else(|d| panic!("{}", d[0]))
        .0;
    let plan = plan::build(&[suite], &[target]);
    let transport = Transport::new(Limits {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(20),
        // Longer than the drip's one byte a second, so the judge's event gap fires first.
        max_gap: Duration::from_millis(1500),
        max_body_bytes: 1 << 20,
        max_stream_bytes: 256 << 20,
    })
    .unwrap();
    let options = RunOptions {
        jobs: 8,
        judging: Judging::default(),
        stream_limits: StreamLimits {
            max_event_gap: Duration::from_millis(800),
            ..StreamLimits::default()
        },
    };
    let collect = Collect::default();
    let mut reporter = collect.clone();
    let started = Instant::now();
    let selected: Vec<usize> = (0..plan.cases.len()).collect();
    run::execute(
        &plan,
        &selected,
        &transport,
        &options,
        &mut reporter,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let reports = collect.0.lock().unwrap().clone();
    let mut wrong = Vec::new();
    for ((fault, outcome, checks), r) in EXPECTED.iter().zip(&reports) {
        let got: Vec<&str> = r.verdict.findings.iter().map(|f| f.check).collect();
        if r.verdict.outcome != *outcome || got != *checks {
            wrong.push(format!(
                "{fault}: expected {outcome} {checks:?}, got {} {got:?} ({:?})",
                r.verdict.outcome, r.verdict.reason
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // What the SDKs do is said, per SDK (tests/official_sdks.rs holds these statements to what
    // the SDKs themselves do).
    let sdk = |fault: &str| {
        let r = reports.iter().find(|r| r.case.case.name == fault).unwrap();
        r.verdict.stream.clone().unwrap().sdk
    };
    assert!(sdk("repeat_role").python.contains("assistantassistant"));
    assert_eq!(sdk("repeat_role").node, "ok");
    assert_eq!(sdk("named_events").node, "ok");
    assert!(
        sdk("no_finish_reason")
            .node
            .contains("missing finish_reason for choice 0")
    );
    assert!(
        sdk("data_keepalive")
            .python
            .starts_with("raises json.JSONDecodeError")
    );
    assert!(sdk("no_tool_index").python.contains("TypeError"));
    assert!(
        sdk("unterminated_last")
            .python
            .contains("silently drops the unterminated last event")
    );
    assert_eq!(sdk("crlf").python, "ok");
    let drip = reports.iter().find(|r| r.case.case.name == "drip").unwrap();
    assert!(
        drip.verdict
            .reason
            .as_deref()
            .unwrap()
            .contains("no complete event"),
        "{:?}",
        drip.verdict.reason
    );
    gw.shutdown().await;
}
