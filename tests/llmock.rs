//! gatecheck against llmock (PyPI, pinned), a spec-faithful OpenAI mock written by others: the
//! shipped suites' findings must match the committed snapshot, and every one of them must be
//! what a careful reader of the OpenAI spec raises (see the comments in the snapshot review in
//! the README: missing `logprobs`, `tool_calls: null`, 422 for a malformed body, ...).

mod support;

use std::path::Path;
use std::process::Command;

#[test]
fn shipped_suites_against_llmock_match_the_committed_findings() {
    if support::skip_real_servers() {
        eprintln!("skipped: {} is set", support::SKIP_ENV);
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = support::venv("llmock", &root.join("tests/python/llmock-requirements.txt"));
    let port = support::free_port();
    let mut cmd = Command::new(venv.join("bin/llmock"));
    cmd.args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()]);
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("llmock.log");
    let server = support::start(cmd, port, "/v1/models", &log);

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
