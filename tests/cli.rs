//! The binary as users run it: listing and filtering (libtest semantics), output formats, exit
//! codes, `explain`, `schemas extract --check`, and no key in any output.

use std::process::{Command, Output};

fn gatecheck(args: &[&str]) -> Output {
    gatecheck_env(args, &[])
}

fn gatecheck_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatecheck"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GATECHECK_CONFIG")
        // Snapshots are compared, never written into the repository (tests/reports.rs tests them).
        .env("GATECHECK_UPDATE", "no")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The six dialects of the embedded gateway, in the order the run and the matrix show them.
const DIALECTS: [&str; 6] = [
    "openai",
    "router-by-mp",
    "ml-router",
    "rout-my",
    "meingpt",
    "apigo",
];

/// A fresh directory under the system's temporary one.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gatecheck-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Issue 4, side by side: with no target, every dialect of the embedded gateway is a target
/// named after its profile, and the matrix compares them. Each passes under its own profile
/// (OpenAI's with no finding at all); `--compare` writes how their answers differ in shape.
#[test]
fn with_no_target_the_six_dialects_run_side_by_side() {
    let dir = temp_dir("side-by-side");
    let matrix = dir.join("matrix.md");
    let answers = dir.join("answers.md");
    let o = gatecheck(&[
        "run",
        "--matrix",
        matrix.to_str().unwrap(),
        "--compare",
        answers.to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert!(
        out.contains(&format!("cases against {}\n", DIALECTS.join(", "))),
        "{out}"
    );
    let cases: Vec<&str> = out
        .lines()
        .filter(|l| {
            ["PASS ", "FAIL ", "ERROR", "INCON", "SKIP "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    for name in DIALECTS {
        assert!(
            cases.iter().any(|l| l.contains(&format!("[{name}]"))),
            "{name}: {out}"
        );
    }
    for l in cases.iter().filter(|l| l.contains("[openai]")) {
        assert!(l.starts_with("PASS ") || l.starts_with("SKIP "), "{l}");
    }
    let failed = cases.iter().any(|l| l.starts_with("FAIL "));
    let unjudged = cases
        .iter()
        .any(|l| l.starts_with("ERROR") || l.starts_with("INCON"));
    let expected = if failed {
        1
    } else if unjudged {
        3
    } else {
        0
    };
    assert_eq!(o.status.code(), Some(expected), "{out}{}", stderr(&o));

    // The matrix: in the terminal before the summary, and as Markdown.
    let header = out
        .lines()
        .find(|l| l.starts_with("check "))
        .unwrap_or_else(|| panic!("no matrix: {out}"));
    assert_eq!(header.split_whitespace().collect::<Vec<_>>()[1..], DIALECTS);
    assert!(out.find("checks x targets") < out.find("summary:"), "{out}");
    assert!(
        out.contains(&format!("matrix written to {}", matrix.display())),
        "{out}"
    );
    let block = &out[out.find("checks x targets").unwrap()..out.find("matrix written").unwrap()];
    for l in block.lines() {
        assert!(l.chars().count() <= 120, "wider than 120 columns: {l}");
    }
    let md = std::fs::read_to_string(&matrix).unwrap();
    assert!(
        md.contains(&format!("| check | {} |", DIALECTS.join(" | "))),
        "{md}"
    );
    assert!(md.contains("| `resp.schema` | pass |"), "{md}");
    assert!(
        !md.contains("127.0.0.1") && !md.contains(dir.to_str().unwrap()),
        "{md}"
    );

    // Stable: a second run differs at most in the time to first token.
    let again = dir.join("again.md");
    let answers_again = dir.join("answers-again.md");
    gatecheck(&[
        "run",
        "--matrix",
        again.to_str().unwrap(),
        "--compare",
        answers_again.to_str().unwrap(),
    ]);
    // The answers compared: ML Router's documented `usage.cost`, apigo's missing `created`;
    // shapes only, so the file is the same every run.
    let compared = std::fs::read_to_string(&answers).unwrap();
    assert!(
        compared.contains("| `/usage/cost` | — | — | number | — | — | — |"),
        "{compared}"
    );
    assert!(
        compared.contains("| `/created` | integer | integer | integer | integer | integer | — |"),
        "{compared}"
    );
    assert_eq!(compared, std::fs::read_to_string(&answers_again).unwrap());
    let stable = |text: &str| -> String {
        text.lines()
            .filter(|l| !l.starts_with("| time to first token"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        stable(&md),
        stable(&std::fs::read_to_string(&again).unwrap())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_rate_limit_is_a_setup_error_with_the_fix() {
    let o = gatecheck(&["run", "--rate-limit", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: --rate-limit 0 is not a positive number of requests per second (hint: pass e.g. --rate-limit 5, or --rate-limit 0.5 for one request every 2 s)\n"
    );
}

/// The shipped suites are embedded: an installed binary finds them from any directory.
#[test]
fn the_shipped_suites_are_found_from_another_directory() {
    let dir = std::env::temp_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["run", "--list"])
        .current_dir(&dir)
        .env_remove("GATECHECK_CONFIG")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("core::plain_text[openai]: test"));
}

#[test]
fn list_prints_libtest_names_without_sending_anything() {
    let o = gatecheck(&["run", "--list"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.lines().all(|l| l.ends_with(": test")), "{out}");
    for name in DIALECTS {
        assert!(
            out.contains(&format!("tools::named[{name}]: test")),
            "{out}"
        );
    }
    let o = gatecheck(&["run", "--", "tools::", "--list"]);
    assert!(
        stdout(&o).lines().all(|l| l.starts_with("tools::")),
        "{}",
        stdout(&o)
    );
}

#[test]
fn filters_exact_and_skip_follow_libtest() {
    let o = gatecheck(&[
        "run",
        "--format",
        "json",
        "--",
        "tools::named[openai]",
        "--exact",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1);
    let o = gatecheck(&[
        "run", "--list", "--", "--skip", "tools::", "--skip", "errors::",
    ]);
    let out = stdout(&o);
    assert!(
        !out.contains("tools::") && !out.contains("errors::") && out.contains("core::"),
        "{out}"
    );
}

#[test]
fn selecting_nothing_is_an_error() {
    let o = gatecheck(&["run", "--", "no_such_case"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(
        stderr(&o).contains("the filter `no_such_case` selects none"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn json_lines_have_stable_fields() {
    let dir = temp_dir("json");
    let matrix = dir.join("matrix.md");
    let o = gatecheck(&[
        "run",
        "--format",
        "json",
        "--matrix",
        matrix.to_str().unwrap(),
        "--",
        "errors::",
    ]);
    // Notes go to stderr, so stdout stays JSON Lines: here only the snapshots' summary.
    assert!(
        stderr(&o).lines().all(|l| l.starts_with("snapshots: ")),
        "{}",
        stderr(&o)
    );
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    assert_eq!(lines.len() % DIALECTS.len(), 0);
    for l in &lines {
        for field in [
            "target",
            "suite",
            "case",
            "outcome",
            "findings",
            "timing_ms",
            "cost",
        ] {
            assert!(l.get(field).is_some(), "{field} missing in {l}");
        }
        assert!(DIALECTS.contains(&l["target"].as_str().unwrap()), "{l}");
        assert_eq!(l["suite"], "errors");
        if l["target"] == "openai" {
            // What the strict profile lacks (a model without tools, a context window) is skipped.
            assert!(
                ["pass", "skipped"].contains(&l["outcome"].as_str().unwrap()),
                "{l}"
            );
        }
    }
    assert!(
        matrix.is_file(),
        "several targets: the matrix is written too"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failures_exit_1_and_show_expected_actual_and_the_suite_line() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
        let server = MockServer::start().await;
        let body = r#"{"detail":"Not Found"}"#;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
        server
    });
    let target = format!("broken={}/v1", server.uri());
    let o = gatecheck(&[
        "run",
        "--target",
        &target,
        "--model",
        "m",
        "--",
        "models::retrieve[broken]",
        "--exact",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("FAIL  models::retrieve[broken]"), "{out}");
    assert!(out.contains("assert.pointer at /id"), "{out}");
    assert!(out.contains("expected: \"m\""), "{out}");
    assert!(out.contains("actual:   missing"), "{out}");
    assert!(out.contains("--> suites/models.yaml:"), "{out}");
    drop(server);
}

#[test]
fn transport_errors_only_exit_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("down=http://127.0.0.1:{port}/v1");
    let o = gatecheck(&["run", "--target", &target, "--model", "m", "--", "models::"]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("ERROR models::list[down]"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn the_key_from_the_environment_is_sent_but_never_printed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = "sk-cli-secret-KEY-0987654321";
    let server = rt.block_on(async {
        use wiremock::matchers::header;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        // Answers 401 echoing the key, as OpenAI's "Incorrect API key provided" does.
        let body = format!(r#"{{"error":{{"message":"Incorrect API key provided: {key}","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}}}"#);
        Mock::given(header("authorization", format!("Bearer {key}").as_str()))
            .respond_with(ResponseTemplate::new(401).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
        server
    });
    let target = format!("echo={}/v1", server.uri());
    for format in ["human", "json"] {
        let o = gatecheck_env(
            &[
                "run",
                "--target",
                &target,
                "--model",
                "m",
                "--format",
                format,
                "--",
                "core::plain_text",
            ],
            &[("OPENAI_API_KEY", key)],
        );
        assert_eq!(o.status.code(), Some(3), "inconclusive: {}", stdout(&o));
        let all = stdout(&o) + &stderr(&o);
        assert!(all.contains("rejected the credentials"), "{all}");
        assert!(!all.contains("KEY-0987654321"), "{all}");
    }
    drop(server);
}

#[test]
fn explain_prints_severity_and_provenance() {
    let o = gatecheck(&["explain", "err.envelope"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("severity:   violation"), "{out}");
    assert!(out.contains("provenance: compat-checks.md #59"), "{out}");
    let o = gatecheck(&["explain", "--list"]);
    assert!(stdout(&o).lines().count() >= 40);
}

#[test]
fn schemas_extract_check_reports_current() {
    let o = gatecheck(&["schemas", "extract", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("are current"));
}
