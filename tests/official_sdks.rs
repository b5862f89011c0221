//! The SDK judge against the SDKs themselves. gatecheck says, for every stream, what
//! openai-python and openai-node make of it (`src/check/sdk.rs` emulates them): "raises
//! json.JSONDecodeError at event 3", "role becomes \"assistantassistant...\"", "ok". This test
//! runs the official SDKs (openai-python 2.54.0 from PyPI, openai-node 6.49.0 from npm, both
//! pinned) as clients of the reference gateway, once per stream fault it can inject, and holds
//! every one of gatecheck's statements to what the real SDK did:
//!
//! - "ok": the SDK returned a final completion, role `assistant`, nothing doubled;
//! - "raises X" / "throws X": the SDK raised, an X (the class's last name), with the quoted
//!   message when gatecheck quotes one;
//! - "role becomes R", "id becomes I": no exception, and the final message says so;
//! - anything else it says (a dropped event, lost deltas): at least no exception;
//!
//! and the other way round: when an SDK raises, gatecheck must have said it would.
//!
//! Python comes from a venv under the build directory (`tests/python/openai-requirements.txt`,
//! skipped with `GATECHECK_SKIP_REAL_SERVERS=1`); the node module from `npm ci --prefix
//! tests/sdk` (run here when missing; `.ci/run` runs it first). Without node or npm the test is
//! skipped with a loud note, unless `GATECHECK_REQUIRE_SDKS=1` (as `.ci/run` sets it).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use gatecheck::gateway::{Gateway, GatewayOptions};

/// The stream faults put to the SDKs (those that only take time, a stall or a drip, are left
/// to tests/stream_faults.rs), and whether the request asks for a tool call.
const FAULTS: &[(&str, bool)] = &[
    ("none", false),
    ("none", true),
    ("no_done", false),
    ("drop_mid_stream", false),
    ("malformed_chunk", false),
    ("glued_chunks", false),
    ("repeat_role", false),
    ("no_tool_index", true),
    ("tool_identity_repeated", true),
    ("usage_every_chunk", false),
    ("crlf", false),
    ("keepalive_comments", false),
    ("data_keepalive", false),
    ("unterminated_last", false),
    ("error_mid_stream", false),
    ("error_flat_mid_stream", false),
    ("named_events", false),
    ("error_field", false),
    ("no_space", false),
    ("no_finish_reason", false),
    ("finish_reason_every_chunk", false),
    ("no_role", false),
    ("cumulative_content", false),
    ("invalid_utf8", false),
    ("json_for_stream", false),
    ("error_before_stream", false),
];

fn case_name(fault: &str, tools: bool) -> String {
    if tools {
        format!("{fault}_tools")
    } else {
        fault.to_owned()
    }
}

fn body(tools: bool) -> Value {
    let mut body = json!({
        "model": "gatecheck-echo",
        "stream": true,
        "messages": [{"role": "user", "content": "Say hello and goodbye, please."}],
    });
    if tools {
        body["messages"][0]["content"] = json!("What is the weather in Paris? Use get_weather.");
        body["tools"] = json!([{"type": "function", "function": {
            "name": "get_weather",
            "description": "The current weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]}}}]);
        body["tool_choice"] = json!("required");
    }
    body
}

fn headers(fault: &str) -> Value {
    if fault == "none" {
        json!({})
    } else {
        json!({"x-gatecheck-fault": fault})
    }
}

/// The suite gatecheck runs: one case per fault, the same requests the clients send.
fn suite() -> String {
    let mut yaml = String::from("suite: sdk\ncases:\n");
    for &(fault, tools) in FAULTS {
        yaml.push_str(&format!(
            "  - name: {}\n    request:\n      path: /chat/completions\n      headers: {}\n      body: {}\n",
            case_name(fault, tools),
            headers(fault),
            body(tools)
        ));
    }
    yaml
}

fn temp_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("official-sdks");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The node module, installed from the lock file when missing; `None` (with why) without npm.
fn node_modules() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk");
    if !dir.join("node_modules/openai/package.json").exists() {
        let o = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("npm is not available ({e})"))?;
        if !o.status.success() {
            return Err(format!(
                "npm ci --prefix tests/sdk failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    Ok(dir)
}

/// One JSON line per case from a client, by case name.
fn client_outcomes(mut cmd: Command) -> BTreeMap<String, Value> {
    let o = cmd.output().expect("the client runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            (v["name"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

/// The last name of a class: `json.decoder.JSONDecodeError` -> `JSONDecodeError`.
fn last_name(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// The class a statement of gatecheck's names after "raises" or "throws", if any.
fn named_class(note: &str) -> Option<&str> {
    let at = note
        .find("raises ")
        .map(|i| i + 7)
        .or_else(|| note.find("throws ").map(|i| i + 7))?;
    let word: &str = note[at..]
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
        .next()?;
    let class = last_name(word);
    class
        .chars()
        .next()
        .is_some_and(char::is_uppercase)
        .then_some(class)
}

/// The text gatecheck quotes between `'...'` (`'missing finish_reason for choice 0'`).
fn quoted(note: &str) -> Option<&str> {
    let start = note.find('\'')? + 1;
    let end = start + note[start..].find('\'')?;
    Some(&note[start..end])
}

/// Whether gatecheck's statement about one SDK holds for what that SDK did; `Err` says why not.
fn agrees(said: &str, real: &Value) -> Result<(), String> {
    let raised = real["raised"].as_str();
    if said.contains("cannot be told") {
        return Ok(());
    }
    let notes: Vec<&str> = said.split("; ").collect();
    let says_raise = notes
        .iter()
        .any(|n| n.contains("raises ") || n.contains("throws "));
    match (says_raise, raised) {
        (false, Some(class)) => {
            return Err(format!(
                "the SDK raised {class} ({}), gatecheck did not say so",
                real["message"]
            ));
        }
        (true, None) => return Err("gatecheck says it raises; the SDK did not".into()),
        _ => {}
    }
    if let Some(class) = raised {
        let note = notes
            .iter()
            .find(|n| n.contains("raises ") || n.contains("throws "))
            .unwrap();
        if let Some(expected) = named_class(note)
            && last_name(class) != expected
        {
            return Err(format!(
                "the SDK raised {class} ({}), not {expected}",
                real["message"]
            ));
        }
        if let Some(text) = quoted(note)
            && !real["message"].as_str().unwrap_or("").contains(text)
        {
            return Err(format!(
                "the SDK's message is {}, without '{text}'",
                real["message"]
            ));
        }
        return Ok(());
    }
    let choices = real["choices"].as_array().cloned().unwrap_or_default();
    for note in notes {
        if note == "ok" {
            for c in &choices {
                if c["role"] != "assistant" {
                    return Err(format!("gatecheck says ok; the role is {}", c["role"]));
                }
                for t in c["tool_calls"].as_array().into_iter().flatten() {
                    let id = t["id"].as_str().unwrap_or("");
                    let n = id.len();
                    if n >= 2 && n % 2 == 0 && id[..n / 2] == id[n / 2..] {
                        return Err(format!("gatecheck says ok; the tool call id is {id}"));
                    }
                }
            }
        } else if let Some((head, field)) = note
            .strip_suffix(" stays None")
            .and_then(|n| n.split_once(": "))
        {
            let index = choice_index(head);
            let choice = choices
                .iter()
                .find(|c| c["index"] == index)
                .ok_or_else(|| format!("no choice {index} in the final completion"))?;
            if !choice[field].is_null() {
                return Err(format!(
                    "gatecheck says {note}; the SDK has {}",
                    choice[field]
                ));
            }
        } else if let Some((head, rest)) = note.split_once(" becomes ") {
            let value: String = serde_json::from_str::<String>(rest)
                .unwrap_or_else(|_| rest.trim_matches('"').to_owned());
            let prefix = value.trim_end_matches("...");
            let index = choice_index(head);
            let choice = choices
                .iter()
                .find(|c| c["index"] == index)
                .ok_or_else(|| format!("no choice {index} in the final completion"))?;
            let actual = if head.ends_with("role") {
                choice["role"].as_str().map(str::to_owned)
            } else {
                let field = if head.ends_with(": id") { "id" } else { "name" };
                choice["tool_calls"][0][field].as_str().map(str::to_owned)
            };
            // Ids differ from request to request: a doubled id is held to being doubled.
            let holds = match actual.as_deref() {
                Some(a) if head.ends_with(": id") => repeated(a),
                Some(a) => a.starts_with(prefix),
                None => false,
            };
            if !holds {
                return Err(format!("gatecheck says {note}; the SDK has {actual:?}"));
            }
        }
    }
    Ok(())
}

/// `choice 2` or `choice 2, tool call 0` -> 2.
fn choice_index(head: &str) -> usize {
    head.strip_prefix("choice ")
        .and_then(|r| r.split([',', ':']).next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Whether a string is a shorter one two or more times over (`call_1call_1`).
fn repeated(s: &str) -> bool {
    let n = s.len();
    (1..=n / 2).any(|unit| {
        n % unit == 0
            && s.as_bytes()
                .chunks(unit)
                .all(|c| c == &s.as_bytes()[..unit])
    })
}

#[test]
fn the_sdk_judge_says_what_the_official_sdks_do() {
    if support::skip_real_servers() {
        eprintln!("skipped: {} is set", support::SKIP_ENV);
        return;
    }
    let sdk_dir = match node_modules() {
        Ok(dir) => dir,
        Err(why) => {
            assert!(
                std::env::var_os("GATECHECK_REQUIRE_SDKS").is_none(),
                "GATECHECK_REQUIRE_SDKS is set, but openai-node cannot run: {why}"
            );
            eprintln!("\n!!! SKIPPED tests/official_sdks.rs: {why}\n");
            return;
        }
    };
    let python = support::venv(
        "openai",
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/openai-requirements.txt"),
    );
    let dir = temp_dir();
    let rt = support::runtime();
    let gateway = rt
        .block_on(Gateway::start(
            ([127, 0, 0, 1], 0).into(),
            GatewayOptions {
                dialect: Some("openai".into()),
                ..GatewayOptions::default()
            },
        ))
        .unwrap();
    let base_url = gateway.base_url();

    // What gatecheck says each SDK does.
    let suite_path = dir.join("sdk.yaml");
    std::fs::write(&suite_path, suite()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["run", "--target"])
        .arg(format!("gw={base_url}"))
        .args([
            "--model",
            "gatecheck-echo",
            "--no-discover",
            "--format",
            "json",
        ])
        .args(["--update", "no", "--html"])
        .arg(dir.join("report.html"))
        .arg(&suite_path)
        .env("OPENAI_API_KEY", "sk-gatecheck")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("GATECHECK_CONFIG")
        .output()
        .unwrap();
    let mut said: BTreeMap<String, Value> = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        said.insert(
            v["case"].as_str().unwrap().to_owned(),
            v["stream"]["sdk"].clone(),
        );
    }
    assert_eq!(
        said.len(),
        FAULTS.len(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // What the SDKs do.
    let requests: Vec<Value> = FAULTS
        .iter()
        .map(|&(fault, tools)| {
            json!({"name": case_name(fault, tools), "base_url": base_url, "key": "sk-gatecheck",
                "headers": headers(fault), "body": body(tools)})
        })
        .collect();
    let requests_path = dir.join("requests.json");
    std::fs::write(&requests_path, serde_json::to_string(&requests).unwrap()).unwrap();
    let mut py = Command::new(python.join("bin/python"));
    py.arg(sdk_dir.join("client.py")).arg(&requests_path);
    let mut node = Command::new("node");
    node.arg(sdk_dir.join("client.mjs")).arg(&requests_path);
    let (python_did, node_did) = (client_outcomes(py), client_outcomes(node));
    rt.block_on(gateway.shutdown());

    let mut table = String::new();
    let mut wrong = Vec::new();
    for &(fault, tools) in FAULTS {
        let name = case_name(fault, tools);
        for (sdk, key, did) in [
            ("openai-python", "python", &python_did),
            ("openai-node", "node", &node_did),
        ] {
            let real = &did[&name];
            let statement = said[&name][key]
                .as_str()
                .unwrap_or("(nothing: not judged as a stream)");
            let what = real["raised"]
                .as_str()
                .map(|c| format!("raised {c}: {}", real["message"].as_str().unwrap_or("")))
                .unwrap_or_else(|| format!("ok: {}", real["choices"]));
            table.push_str(&format!(
                "{name:28} {sdk:14} gatecheck: {statement}\n{:43} real: {what}\n",
                ""
            ));
            if let Err(why) = agrees(statement, real) {
                wrong.push(format!("{name} / {sdk}: {why}\n    gatecheck: {statement}"));
            }
        }
    }
    std::fs::write(dir.join("outcomes.txt"), &table).unwrap();
    assert!(
        wrong.is_empty(),
        "gatecheck's SDK judge disagrees with the SDKs:\n{}\n\nall outcomes:\n{table}",
        wrong.join("\n")
    );
}
