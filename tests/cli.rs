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

#[test]
fn with_no_target_the_shipped_suites_pass_against_the_embedded_gateway() {
    let o = gatecheck(&["run"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("PASS  core::plain_text[reference]"), "{out}");
    assert!(out.contains("0 failed"), "{out}");
    assert!(out.contains("findings: 0 violations"), "{out}");
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
    assert!(stdout(&o).contains("core::plain_text[reference]: test"));
}

#[test]
fn list_prints_libtest_names_without_sending_anything() {
    let o = gatecheck(&["run", "--list"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.lines().all(|l| l.ends_with(": test")), "{out}");
    assert!(out.contains("tools::named[reference]: test"), "{out}");
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
        "tools::named[reference]",
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
    let o = gatecheck(&["run", "--format", "json", "--", "errors::"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    assert_eq!(lines.len(), 9);
    for l in &lines {
        for field in [
            "target",
            "suite",
            "case",
            "outcome",
            "findings",
            "timing_ms",
        ] {
            assert!(l.get(field).is_some(), "{field} missing in {l}");
        }
        assert_eq!(l["target"], "reference");
        assert_eq!(l["suite"], "errors");
        assert_eq!(l["outcome"], "pass");
    }
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
