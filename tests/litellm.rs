//! gatecheck against the LiteLLM proxy (PyPI `litellm[proxy]` 1.106.2, pinned), a real gateway
//! written by others, answering from config-level mocks (`tests/litellm/config.yaml`): the
//! shipped suites' findings must match the committed snapshot
//! (`tests/snapshots/litellm__litellm_findings.snap`).
//!
//! Read by hand against LiteLLM's bytes, the findings are:
//!
//! - LiteLLM's own shapes, whatever the model behind it: completions omit `choices[].logprobs`
//!   and `message.refusal` (both required, nullable: `resp.schema`); stream chunks omit
//!   `finish_reason` until the last one (required, nullable: `chunk.schema`); the
//!   `include_usage` usage comes on an extra chunk with `choices: [{"index":0,"delta":{}}]`
//!   instead of `choices: []` (`usage.include_usage_trailer` warning; the usage itself reaches
//!   the reassembled answer, as it reaches the SDKs' stream helpers), and that usage carries
//!   LiteLLM's `cost` (`usage.details_shape` info); with `n: 2` a stream repeats `role` on every
//!   delta of choice 1 and never ends choice 1 (`chunk.role_only_once`,
//!   `chunk.finish_reason_once_at_end`, both SDK-breaking); an unknown model gets 400, not
//!   404, and every error has the status as a string `code` (`"400"`, `"401"`); errors use
//!   LiteLLM's own `type` values (`auth_error`, `no_db_connection`: `err.code_and_type_types`
//!   info) and an unknown (or missing) model's error adds `provider_specific_fields`
//!   (`err.envelope` info); the 401 for a missing key has `param: "None"`, Python's `str(None)`
//!   (`err.envelope` warning); a key other than the master key gets 400 "No connected db." (no
//!   database), not 401; `GET /models/{unknown}` and unknown routes get FastAPI's
//!   `{"detail": ...}` (`err.envelope`); listed models carry `mode`, `max_input_tokens` and
//!   `max_output_tokens` (`models.list_shape` info; the same fields on `GET /models/{id}` are
//!   not reported again); empty `messages`, `temperature: 5`,
//!   unknown parameters and `stream_options` without `stream` are accepted.
//! - The mock's, not the proxy's: it ignores `tools`, `tool_choice`, `response_format`,
//!   `max_tokens`, `stop` and `logprobs`; the tool-call model's calls end with
//!   `finish_reason: "stop"` and whatever function was named. Ignored JSON modes are reported
//!   by `json.object_mode_valid` / `json.schema_enforced_or_rejected` alone: the suites'
//!   `content_is_json` assertion does not repeat a catalog violation at the same place.

mod support;

use std::path::Path;
use std::process::Command;
use support::litellm;

/// `gatecheck run [SUITES] --model MODEL --format json` against the proxy, with the master key
/// in `OPENAI_API_KEY`; returns the JSON Lines.
fn run(base_url: &str, model: &str, suites: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = format!("litellm={base_url}/v1");
    let out = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .arg("run")
        .args(suites)
        .args(["--target", &target, "--model", model, "--format", "json"])
        .current_dir(root)
        .env("OPENAI_API_KEY", litellm::MASTER_KEY)
        .env_remove("GATECHECK_CONFIG")
        .env_remove("GATECHECK_MODEL")
        .output()
        .expect("gatecheck runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "unexpected exit {:?}: {stdout}{stderr}",
        out.status.code(),
    );
    assert!(
        !stdout.contains(litellm::MASTER_KEY) && !stderr.contains(litellm::MASTER_KEY),
        "the key leaked into gatecheck's output"
    );
    stdout
}

#[test]
fn shipped_suites_against_litellm_match_the_committed_findings() {
    if support::skip_real_servers() {
        eprintln!("skipped: {} is set", support::SKIP_ENV);
        return;
    }
    let server = litellm::start("suites");
    let every_suite = run(&server.base_url, litellm::MODEL, &[]);
    let tool_calls = run(
        &server.base_url,
        litellm::TOOLS_MODEL,
        &["suites/tools.yaml"],
    );
    let summary = format!(
        "# every shipped suite, --model {}\n{}\n# suites/tools.yaml, --model {} (mock_tool_calls)\n{}",
        litellm::MODEL,
        support::findings_summary(&every_suite),
        litellm::TOOLS_MODEL,
        support::findings_summary(&tool_calls),
    );
    insta::assert_snapshot!("litellm_findings", summary);
}
