//! llmock 0.2.2 and the LiteLLM proxy 1.106.2 (both pinned, started from venvs under the build
//! directory on 127.0.0.1) side by side: one `gatecheck run --target llmock=... --target
//! litellm=... --model gpt-4o-mini --matrix PATH --format json`, each server with its own key
//! through its own `api_key_env` (a temporary config file). Its checks x targets matrix must
//! match `tests/snapshots/side_by_side__matrix.snap` (the time to first token is the one value
//! replaced: it varies from run to run), each server's findings in the same run their own
//! snapshot, and neither key may appear in gatecheck's output or in the matrix. The servers are
//! started once for every test here (LiteLLM takes about ten seconds to start on two cores).
//!
//! The notable differences between the columns (each finding is explained per server below, at
//! [`llmock_findings_match_the_committed_snapshot`] and
//! [`litellm_findings_match_the_committed_snapshot`]):
//!
//! - Streams: llmock's are conformant. LiteLLM's chunks omit `finish_reason` until the last one
//!   (`chunk.schema`); with `n: 2` they repeat `role` and never end choice 1
//!   (`chunk.role_only_once`, `chunk.finish_reason_once_at_end`); the `include_usage` usage
//!   comes on a chunk with a choice (`usage.include_usage_trailer` warning) and carries LiteLLM's
//!   `cost` (`usage.details_shape` info; the only column with a total cost).
//! - Tool calls: llmock calls the offered tool, in completions and in stream deltas, so every
//!   tool-call rule passes (`tools.finish_reason_tool_calls` info: `"tool_calls"` for a named
//!   `tool_choice`). LiteLLM's text mock never calls one: the rules about the calls themselves
//!   show `—` (nothing to judge), `tools.tool_choice_modes` warns (`required` or a named tool
//!   without a call) and `assert.tool_args_valid` fails. (Its tool-call mock, `gpt-4o-tools`, is
//!   in its own snapshot only.)
//! - JSON mode: llmock answers JSON; LiteLLM's mock ignores `response_format` (`json.*`
//!   violations, and `assert.content_is_json`, which leaves the defect to them, shows the same).
//! - Errors: llmock's bodies are OpenAI's envelope, at the wrong status (422 for a malformed
//!   body; 200 for an unknown model or key); LiteLLM's FastAPI `{"detail": ...}` for unknown
//!   routes and models (`err.envelope` violation, which `err.schema` shows too) and string codes
//!   (`err.code_and_type_types`). Both accept empty `messages` and `temperature: 5`
//!   (`err.status_mapping` violations).
//! - Completions: both fail `resp.schema`, llmock for `logprobs` and `tool_calls: null`, LiteLLM
//!   for `logprobs` and `refusal`; without a `refusal` LiteLLM leaves `json.refusal_field`
//!   nothing to judge (`skipped`: only skipped cases might have). llmock counts 0 prompt tokens
//!   (`usage.arithmetic`); LiteLLM's mock always 10 + 20.
//! - `req.stop_sequences`: llmock writes past a stop string (warning); LiteLLM's fixed text
//!   never holds one, so its `pass` says only that none appeared. `models.retrieve`: llmock has
//!   no `GET /models/{id}` (warning); `models.list_shape`: LiteLLM lists extra fields (info).
//! - Alike: `max_tokens` and `logprobs` ignored (`req.max_completion_tokens`,
//!   `req.logprobs_params` warnings; no logprobs, so no `ext.logprobs_shape` row), so
//!   `finish_reason` is never `length` (`assert.pointer`); unknown parameters and
//!   `stream_options` without `stream` accepted (info); the same 13 cases skipped under the
//!   `openai` profile (cost, image output, `/responses`, pass-through, fault injection, model
//!   roles), hence the `skipped` rows `err.context_length_message`, `err.retry_headers` and
//!   `ext.images_array`.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use support::{litellm, llmock};

/// The variables the temporary config names as each target's `api_key_env`, and their keys.
/// llmock takes any key; LiteLLM only its master key.
const KEYS: [(&str, &str); 2] = [
    ("GATECHECK_SIDE_BY_SIDE_LLMOCK_KEY", "sk-gatecheck-llmock"),
    ("GATECHECK_SIDE_BY_SIDE_LITELLM_KEY", litellm::MASTER_KEY),
];

/// What the shared run produced.
struct Runs {
    /// `--format json` of the side-by-side run: both targets' cases.
    jsonl: String,
    /// The Markdown matrix it wrote.
    matrix: String,
    /// `suites/tools.yaml` against LiteLLM's tool-call model alone.
    litellm_tools: String,
}

/// Starts both servers, runs gatecheck against them, and stops them, once for every test here;
/// `None` when real servers are skipped. A failure is kept and reported by each test.
fn runs() -> Option<&'static Runs> {
    if support::skip_real_servers() {
        eprintln!("skipped: {} is set", support::SKIP_ENV);
        return None;
    }
    static RUNS: OnceLock<Result<Runs, String>> = OnceLock::new();
    let result = RUNS.get_or_init(|| {
        std::panic::catch_unwind(run_both).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        })
    });
    match result {
        Ok(runs) => Some(runs),
        Err(e) => panic!("the side-by-side run failed: {e}"),
    }
}

fn run_both() -> Runs {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    // LiteLLM's slow start overlaps llmock's; its thread is joined before any panic goes on.
    let litellm = std::thread::spawn(|| litellm::start("side-by-side"));
    let llmock = std::panic::catch_unwind(|| llmock::start("side-by-side"));
    let litellm = litellm
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    let llmock = llmock.unwrap_or_else(|e| std::panic::resume_unwind(e));

    let config = tmp.join("side-by-side.yaml");
    std::fs::write(
        &config,
        format!(
            "# Written by tests/side_by_side.rs: each target's key variable.\ntargets:\n  llmock:\n    api_key_env: {}\n  litellm:\n    api_key_env: {}\n",
            KEYS[0].0, KEYS[1].0
        ),
    )
    .unwrap();
    let matrix_path = tmp.join("side-by-side-matrix.md");
    let _ = std::fs::remove_file(&matrix_path);
    let llmock_target = format!("llmock={}/v1", llmock.base_url);
    let litellm_target = format!("litellm={}/v1", litellm.base_url);

    let jsonl = gatecheck(
        &config,
        &[
            "--target",
            &llmock_target,
            "--target",
            &litellm_target,
            "--model",
            litellm::MODEL,
            "--matrix",
            matrix_path.to_str().unwrap(),
        ],
    );
    let matrix = std::fs::read_to_string(&matrix_path).expect("the matrix is written");
    let litellm_tools = gatecheck(
        &config,
        &[
            "suites/tools.yaml",
            "--target",
            &litellm_target,
            "--model",
            litellm::TOOLS_MODEL,
        ],
    );
    for (_, key) in KEYS {
        assert!(!matrix.contains(key), "a key leaked into the matrix");
    }
    Runs {
        jsonl,
        matrix,
        litellm_tools,
    }
}

/// `gatecheck run --config CONFIG ARGS --format json` from the repository root, with the keys in
/// the config's variables; returns stdout, after checking the exit code and that no key leaked.
fn gatecheck(config: &Path, args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatecheck"));
    cmd.arg("run")
        .arg("--config")
        .arg(config)
        .args(args)
        .args(["--format", "json"])
        .env("GATECHECK_UPDATE", "no")
        .current_dir(root);
    for var in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "GATECHECK_MODEL"] {
        cmd.env_remove(var);
    }
    for (var, key) in KEYS {
        cmd.env(var, key);
    }
    let out = cmd.output().expect("gatecheck runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "unexpected exit {:?}: {stdout}{stderr}",
        out.status.code(),
    );
    for (_, key) in KEYS {
        assert!(
            !stdout.contains(key) && !stderr.contains(key),
            "a key leaked into gatecheck's output"
        );
    }
    stdout
}

/// The JSON Lines of one target's cases.
fn of_target(jsonl: &str, target: &str) -> String {
    jsonl
        .lines()
        .filter(|line| {
            let case: serde_json::Value = serde_json::from_str(line).expect("JSON Lines");
            case["target"] == target
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The matrix with each time to first token replaced by `[ms]`: the one line that varies.
fn normalize(matrix: &str) -> String {
    let mut out = String::new();
    for line in matrix.lines() {
        if line.starts_with("| time to first token, p50 |") {
            let cells: Vec<&str> = line
                .split('|')
                .map(|cell| {
                    let value = cell.trim();
                    if value
                        .strip_suffix(" ms")
                        .is_some_and(|n| n.parse::<f64>().is_ok())
                    {
                        " [ms] "
                    } else {
                        cell
                    }
                })
                .collect();
            out.push_str(&cells.join("|"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_side_by_side_matrix_matches_the_committed_one() {
    let Some(runs) = runs() else { return };
    let matrix = normalize(&runs.matrix);
    assert!(
        matrix.contains("| time to first token, p50 | [ms] | [ms] |"),
        "both targets streamed:\n{matrix}"
    );
    insta::assert_snapshot!("matrix", matrix);
}

/// llmock, a spec-faithful OpenAI mock: its findings are what a careful reader of the OpenAI
/// spec raises (README, "Tested against real software"): completions without `logprobs` and with
/// `tool_calls: null`; 422 for a malformed body, a missing `messages` or `model`; an unknown
/// model, a missing or wrong key, empty `messages` and `temperature: 5` accepted; `stop`,
/// `max_tokens` and `logprobs` ignored; `prompt_tokens: 0`; no `GET /models/{id}`; conformant
/// streams that ignore `max_tokens`.
#[test]
fn llmock_findings_match_the_committed_snapshot() {
    let Some(runs) = runs() else { return };
    let summary = support::findings_summary(&of_target(&runs.jsonl, "llmock"));
    insta::assert_snapshot!("llmock_findings", summary);
}

/// LiteLLM answering from config-level mocks (`tests/litellm/config.yaml`): every shipped suite
/// with its text model, then `suites/tools.yaml` with its tool-call model. Read by hand against
/// LiteLLM's bytes, the findings are:
///
/// - LiteLLM's own shapes, whatever the model behind it: completions omit `choices[].logprobs`
///   and `message.refusal` (both required, nullable: `resp.schema`); stream chunks omit
///   `finish_reason` until the last one (required, nullable: `chunk.schema`); the
///   `include_usage` usage comes on an extra chunk with `choices: [{"index":0,"delta":{}}]`
///   instead of `choices: []` (`usage.include_usage_trailer` warning; the usage itself reaches
///   the reassembled answer, as it reaches the SDKs' stream helpers), and that usage carries
///   LiteLLM's `cost` (`usage.details_shape` info); with `n: 2` a stream repeats `role` on every
///   delta of choice 1 and never ends choice 1 (`chunk.role_only_once`,
///   `chunk.finish_reason_once_at_end`, both SDK-breaking); an unknown model gets 400, not
///   404, and every error has the status as a string `code` (`"400"`, `"401"`); errors use
///   LiteLLM's own `type` values (`auth_error`, `no_db_connection`: `err.code_and_type_types`
///   info) and an unknown (or missing) model's error adds `provider_specific_fields`
///   (`err.envelope` info); the 401 for a missing key has `param: "None"`, Python's `str(None)`
///   (`err.envelope` warning); a key other than the master key gets 400 "No connected db." (no
///   database), not 401; `GET /models/{unknown}` and unknown routes get FastAPI's
///   `{"detail": ...}` (`err.envelope`); listed models carry `mode`, `max_input_tokens` and
///   `max_output_tokens` (`models.list_shape` info; the same fields on `GET /models/{id}` are
///   not reported again); empty `messages`, `temperature: 5`, unknown parameters and
///   `stream_options` without `stream` are accepted.
/// - The mock's, not the proxy's: it ignores `tools`, `tool_choice`, `response_format`,
///   `max_tokens`, `stop` and `logprobs`; the tool-call model's calls end with
///   `finish_reason: "stop"` and whatever function was named. Ignored JSON modes are reported
///   by `json.object_mode_valid` / `json.schema_enforced_or_rejected` alone: the suites'
///   `content_is_json` assertion does not repeat a catalog violation at the same place (the
///   matrix still shows it failed).
#[test]
fn litellm_findings_match_the_committed_snapshot() {
    let Some(runs) = runs() else { return };
    let summary = format!(
        "# every shipped suite, --model {}\n{}\n# suites/tools.yaml, --model {} (mock_tool_calls)\n{}",
        litellm::MODEL,
        support::findings_summary(&of_target(&runs.jsonl, "litellm")),
        litellm::TOOLS_MODEL,
        support::findings_summary(&runs.litellm_tools),
    );
    insta::assert_snapshot!("litellm_findings", summary);
}
