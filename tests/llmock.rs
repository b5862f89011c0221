//! gatecheck against llmock (PyPI, pinned), a spec-faithful OpenAI mock written by others: the
//! shipped suites' findings must match the committed snapshot, and every one of them must be
//! what a careful reader of the OpenAI spec raises (see the comments in the snapshot review in
//! the README: missing `logprobs`, `tool_calls: null`, 422 for a malformed body, ...).

mod support;

use std::path::Path;
use std::process::Command;

fn start_llmock(name: &str) -> support::Server {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = support::venv("llmock", &root.join("tests/python/llmock-requirements.txt"));
    let port = support::free_port();
    let mut cmd = Command::new(venv.join("bin/llmock"));
    cmd.args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()]);
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("llmock-{name}.log"));
    support::start(cmd, port, "/v1/models", &log)
}

#[test]
fn shipped_suites_against_llmock_match_the_committed_findings() {
    if support::skip_real_servers() {
        eprintln!("skipped: {} is set", support::SKIP_ENV);
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let server = start_llmock("suites");

    let target = format!("llmock={}/v1", server.base_url);
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args([
            "run",
            "--target",
            &target,
            "--model",
            "gpt-4o-mini",
            "--format",
            "json",
        ])
        .current_dir(root)
        .env_remove("OPENAI_API_KEY")
        .env_remove("GATECHECK_CONFIG")
        .output()
        .expect("gatecheck runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "unexpected exit {:?}: {}{}",
        out.status.code(),
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!("llmock_findings", summarize(&stdout));
}

/// One block per case: name and outcome, then `severity check path` per finding. Messages are
/// left out: they quote llmock's random ids.
fn summarize(jsonl: &str) -> String {
    let mut out = String::new();
    for line in jsonl.lines() {
        let case: serde_json::Value = serde_json::from_str(line).expect("JSON Lines");
        out.push_str(&format!(
            "{} {}\n",
            case["name"].as_str().unwrap(),
            case["outcome"].as_str().unwrap()
        ));
        for f in case["findings"].as_array().unwrap() {
            out.push_str(&format!(
                "  {} {} {}\n",
                f["severity"].as_str().unwrap(),
                f["check"].as_str().unwrap(),
                f["path"].as_str().unwrap_or("-")
            ));
        }
    }
    out
}

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
    let server = start_llmock("faults");
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
