//! Golden diagnostics: every file in `tests/bad_suites/` is a suite with one mistake, and its
//! rendered diagnostic (file:line:col, the source line, a caret under the culprit, a hint) is
//! pinned as a snapshot in `tests/snapshots/`. Accept changes with
//! `INSTA_UPDATE=always cargo test --test diagnostics` and read every changed snapshot.
//!
//! Below the goldens, the binary end to end: a broken suite, target or config stops the run
//! with exit code 2 before any request is sent.

use std::path::Path;
use std::process::{Command, Output};

use gatecheck::suite;

/// Loads one bad suite as the command line would (path shown relative to the crate) and renders
/// its diagnostics without colour.
fn render(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("UTF-8 file name");
    let shown = format!("tests/bad_suites/{name}");
    match suite::load_sources([(shown.clone(), text)]) {
        Ok(_) => panic!("{shown} loaded without a diagnostic"),
        Err(e) => {
            let diags = e.diagnostics();
            assert!(!diags.is_empty(), "{shown}: {e}");
            diags
                .iter()
                .map(|d| d.render(false))
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

#[test]
fn bad_suites_render_golden_diagnostics() {
    insta::glob!("bad_suites/*.yaml", |path| {
        insta::assert_snapshot!(render(path));
    });
}

#[test]
fn each_bad_suite_gets_one_diagnostic_with_a_way_out() {
    // Each file holds one mistake: a second diagnostic would be noise that follows from the
    // first, and a diagnostic must say how to fix it (a hint, or a suggestion under the caret).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_suites");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/bad_suites exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 21, "only {} bad suites", paths.len());
    let mut poor = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("readable");
        let shown = path.display().to_string();
        let err = suite::load_sources([(shown.clone(), text)]).expect_err("a bad suite");
        match err.diagnostics() {
            [d] if d.hint.is_some() || d.label.starts_with("did you mean") => {}
            [d] => poor.push(format!("{shown}: no hint: {}", d.message)),
            diags => poor.push(format!("{shown}: {} diagnostics", diags.len())),
        }
    }
    assert!(poor.is_empty(), "{}", poor.join("\n"));
}

// ---- the binary, end to end -------------------------------------------------------------

fn gatecheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GATECHECK_CONFIG")
        .env_remove("GATECHECK_JOBS")
        .env_remove("GATECHECK_TIMEOUT")
        .env_remove("GATECHECK_MODEL")
        .env_remove("OPENAI_BASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("the gatecheck binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A setup error is one `error:` line, optionally followed by one `(hint: ...)` line.
fn assert_one_line_setup_error(out: &Output) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    let lines: Vec<&str> = err.lines().collect();
    match lines.as_slice() {
        [first] | [first, _] if first.starts_with("error: ") => {}
        _ => panic!("expected one `error:` line and an optional hint, got:\n{err}"),
    }
    if let [_, hint] = lines.as_slice() {
        assert!(hint.starts_with("(hint: ") && hint.ends_with(')'), "{err}");
    }
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn a_bad_suite_exits_2_before_any_request() {
    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let target = format!("t={}/v1", server.uri());
    let out = tokio::task::spawn_blocking(move || {
        gatecheck(&[
            "run",
            "tests/bad_suites/unknown_check.yaml",
            "--target",
            &target,
            "--model",
            "m",
        ])
    })
    .await
    .expect("the command finishes");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    assert!(err.contains("error: unknown check `resp.envelop`"), "{err}");
    assert!(
        err.contains("--> tests/bad_suites/unknown_check.yaml:10:14"),
        "{err}"
    );
    assert!(err.contains("did you mean `resp.envelope`?"), "{err}");
    assert!(err.contains("no request was sent"), "{err}");
    let received = server.received_requests().await.expect("recording is on");
    assert!(
        received.is_empty(),
        "the server got {} requests",
        received.len()
    );
}

#[test]
fn a_bad_target_is_one_line_and_exit_2() {
    let out = gatecheck(&["run", "--target", "prod", "--model", "m"]);
    assert_one_line_setup_error(&out);
    assert!(stderr(&out).contains("--target `prod`"), "{}", stderr(&out));
}

#[test]
fn a_bad_config_file_is_one_line_and_exit_2() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("diagnostics");
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    let config = dir.join("bad-config.yaml");
    std::fs::write(
        &config,
        "targets:\n  prod:\n    base_ur: https://gw.example/v1\n",
    )
    .expect("the temp dir is writable");
    let out = gatecheck(&[
        "run",
        "--config",
        config.to_str().expect("UTF-8 path"),
        "--model",
        "m",
    ]);
    assert_one_line_setup_error(&out);
    assert!(stderr(&out).contains("base_ur"), "{}", stderr(&out));
}

#[test]
fn explain_suggests_the_check_meant() {
    let out = gatecheck(&["explain", "resp.envelop"]);
    assert_one_line_setup_error(&out);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: unknown check `resp.envelop`"),
        "{err}"
    );
    assert!(err.contains("did you mean `resp.envelope`?"), "{err}");
}
