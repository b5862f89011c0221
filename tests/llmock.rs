//! llmock's own stream fault injection against gatecheck: llmock (PyPI, pinned), a spec-faithful
//! OpenAI mock written by others, queues a fault through its admin API for the next stream, and
//! gatecheck must report it with the verdict it deserves. The faults are queued on the server, so
//! this test has an llmock of its own; the shipped suites' findings against llmock are in
//! `tests/side_by_side.rs`.

mod support;

use std::path::Path;
use std::process::Command;

/// Queues one llmock behaviour through its admin API (`POST /_llmock/scenario`).
fn queue(base_url: &str, behavior: &str) {
    use std::io::{Read, Write};
    let addr = base_url.trim_start_matches("http://");
    let body = format!(r#"{{"behaviors":[{behavior}]}}"#);
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /_llmock/scenario HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "llmock refused the scenario: {answer}"
    );
}

/// llmock's own stream fault injection (disconnect, truncate, stall, malformed): gatecheck
/// reports each fault llmock injects, with the verdict it deserves.
#[test]
fn llmock_stream_faults_are_reported() {
    if support::skip_real_servers() {
        eprintln!("skipped: {} is set", support::SKIP_ENV);
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = support::llmock::start("faults");
    let target = format!("llmock={}/v1", server.base_url);
    let cases = [
        (
            "truncate",
            "fail",
            vec![
                "sse.done_sentinel",
                "chunk.finish_reason_once_at_end",
                "assert.pointer",
            ],
        ),
        ("malformed", "fail", vec!["sse.one_json_per_event"]),
        ("disconnect", "error", vec![]),
        ("stall", "error", vec![]),
    ];
    for (kind, outcome, checks) in cases {
        queue(
            &server.base_url,
            &format!(
                r#"{{"type":"stream_fault","kind":"{kind}","after_chunks":2,"stall_seconds":5}}"#
            ),
        );
        let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
            .env("GATECHECK_UPDATE", "no")
            .args([
                "run",
                "--target",
                &target,
                "--model",
                "gpt-4o-mini",
                "--format",
                "json",
                "--max-gap",
                "2s",
            ])
            .args(["--", "streaming::plain[llmock]", "--exact"])
            .current_dir(root)
            .env_remove("OPENAI_API_KEY")
            .env_remove("GATECHECK_CONFIG")
            .output()
            .expect("gatecheck runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let case: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap_or("{}"))
            .unwrap_or_else(|e| panic!("{kind}: {e}: {stdout}"));
        let got: Vec<&str> = case["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap())
            .collect();
        assert_eq!(
            (case["outcome"].as_str().unwrap(), got),
            (outcome, checks),
            "{kind}: {case}"
        );
        if outcome == "error" {
            let sdk = &case["stream"]["sdk"];
            assert!(
                sdk["python"].as_str().unwrap().starts_with("raises"),
                "{kind}: {sdk}"
            );
        }
    }
}
