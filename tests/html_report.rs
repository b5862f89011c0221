//! The HTML report (`--html`, issue 5) end to end: the binary writes it against the reference
//! gateway, then headless Chromium, driven by `tests/browser/report.mjs` (playwright-core, pinned
//! in `tests/browser/package-lock.json`), opens it from `file://` as a person would: the matrix
//! has the rows of the Markdown matrix of the same run and a column per target, cells are
//! coloured, a real mouse click on a cell and then on a case opens the case view (request,
//! response or event timeline, findings explained), a `#case=N` URL opens a streamed case, and
//! no console error and no request to anything but `file:` happen. Screenshots land in
//! `target/tmp/html/`.
//!
//! Without `/usr/bin/chromium` (or `GATECHECK_CHROMIUM`), node, or `tests/browser/node_modules`
//! (`npm ci --prefix tests/browser`), the browser part is skipped with a loud note; with
//! `GATECHECK_REQUIRE_BROWSER=1` (as `.ci/run` sets it) that is a failure instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gatecheck::gateway::{Gateway, GatewayOptions};

/// The six dialects of the embedded gateway, in the run's order.
const DIALECTS: [&str; 6] = [
    "openai",
    "router-by-mp",
    "ml-router",
    "rout-my",
    "meingpt",
    "apigo",
];

/// The suites the browser sees: plain answers, streams, and streams broken on purpose (so that
/// violation, warning and info cells exist).
const SUITES: [&str; 3] = [
    "suites/core.yaml",
    "suites/streaming.yaml",
    "tests/browser/faults.yaml",
];

/// One browser at a time: two Chromiums on a two-core machine only slow each other.
static BROWSER: Mutex<()> = Mutex::new(());

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh `target/tmp/html/NAME` directory.
fn out_dir(name: &str) -> PathBuf {
    let dir = root().join("target/tmp/html").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gatecheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatecheck"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GATECHECK_CONFIG")
        // Snapshots are compared, never written into the repository.
        .env("GATECHECK_UPDATE", "no")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

/// The check rows of the Markdown matrix the same run wrote.
fn markdown_rows(matrix: &Path) -> usize {
    let md = std::fs::read_to_string(matrix).unwrap();
    let table = md.split("## Totals").next().unwrap();
    table.lines().filter(|l| l.starts_with("| `")).count()
}

/// What the browser part needs, or why it cannot run.
struct Browser {
    chromium: PathBuf,
}

fn browser() -> Result<Browser, String> {
    let chromium = std::env::var_os("GATECHECK_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return Err(format!(
            "{} is missing (apt-get install chromium, or set GATECHECK_CHROMIUM)",
            chromium.display()
        ));
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => return Err("node is not on PATH".into()),
    }
    if !root()
        .join("tests/browser/node_modules/playwright-core/package.json")
        .exists()
    {
        return Err(
            "tests/browser/node_modules is missing (run `npm ci --prefix tests/browser`)".into(),
        );
    }
    Ok(Browser { chromium })
}

/// The browser part is skipped, loudly, or fails when CI requires it.
fn skip(why: &str) {
    if std::env::var("GATECHECK_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("GATECHECK_REQUIRE_BROWSER=1 but the browser test cannot run: {why}");
    }
    // Straight to the process's stderr: libtest captures `eprintln!` of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPED the browser part of tests/html_report.rs: {why}\n!!! (set GATECHECK_REQUIRE_BROWSER=1 to make this a failure)\n"
    );
}

/// Runs `tests/browser/report.mjs` over `report`, within two minutes.
fn drive(
    browser: &Browser,
    dir: &Path,
    report: &Path,
    rows: usize,
    targets: &[&str],
    extra: serde_json::Value,
) {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let profile = dir.join("chromium-profile");
    let _ = std::fs::remove_dir_all(&profile);
    let mut spec = serde_json::json!({
        "report": report,
        "rows": rows,
        "targets": targets,
        "screenshot": dir.join("report.png"),
        "case_screenshot": dir.join("case.png"),
        "chromium": browser.chromium,
        "profile": profile,
    });
    if let (Some(spec), serde_json::Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    let mut child = Command::new("node")
        .arg("tests/browser/report.mjs")
        .arg(spec.to_string())
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        o.status.success(),
        "the browser check failed ({}):\n{out}\n{err}",
        o.status
    );
    println!("{out}");
    assert!(dir.join("report.png").exists(), "no screenshot");
}

/// Issue 5, item 5: the six dialects side by side, with streams and broken streams.
#[test]
fn the_report_of_six_targets_works_in_a_real_browser() {
    let dir = root().join("target/tmp/html");
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.html");
    let matrix = dir.join("matrix.md");
    let mut args = vec![
        "run",
        "--html",
        report.to_str().unwrap(),
        "--matrix",
        matrix.to_str().unwrap(),
    ];
    args.extend(SUITES);
    let o = gatecheck(&args, &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    // The broken streams fail their cases.
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(&format!("report written to {}", report.display())),
        "{out}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.len() < 4 << 20, "{} bytes", html.len());
    assert!(!html.contains("127.0.0.1") && !html.contains(root().to_str().unwrap()));
    // The request that says `</script>` stays inside the data.
    assert_eq!(html.matches("</script>").count(), 2);
    let rows = markdown_rows(&matrix);
    assert!(rows > 40, "{rows} rows");

    match browser() {
        Ok(b) => drive(
            &b,
            &dir,
            &report,
            rows,
            &DIALECTS,
            serde_json::json!({
                "streamed": true,
                "cell_kinds": ["c-violation", "c-warning", "c-info", "c-variant", "c-pass"],
            }),
        ),
        Err(why) => skip(&why),
    }
}

/// One target works too, and its key reaches neither the report nor the terminal.
#[test]
fn the_report_of_one_target_works_in_a_real_browser() {
    let key = "sk-html-report-secret-4711";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gw = rt
        .block_on(Gateway::start(
            ([127, 0, 0, 1], 0).into(),
            GatewayOptions {
                api_key: key.into(),
                ..GatewayOptions::default()
            },
        ))
        .unwrap();
    let model = gw.models_for("openai").unwrap()[0].clone();
    let target = format!("solo={}", gw.base_url());
    let dir = out_dir("one");
    let report = dir.join("report.html");
    let matrix = dir.join("matrix.md");
    // A baseline of this very server, where one accepted snapshot says something else: the
    // report shows that case's diff against it.
    let base = dir.join("baseline");
    let o = gatecheck(
        &[
            "run",
            "--target",
            &target,
            "--model",
            &model,
            "--snapshots",
            base.to_str().unwrap(),
            "--update",
            "always",
            "suites/core.yaml",
        ],
        &[("OPENAI_API_KEY", key)],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let edited = base.join("solo/core__plain_text.snap");
    let accepted = std::fs::read_to_string(&edited).unwrap();
    assert!(accepted.contains("finish_reason: stop"), "{accepted}");
    std::fs::write(
        &edited,
        accepted.replace("finish_reason: stop", "finish_reason: length"),
    )
    .unwrap();
    let o = gatecheck(
        &[
            "run",
            "--target",
            &target,
            "--model",
            &model,
            "--html",
            report.to_str().unwrap(),
            "--matrix",
            matrix.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
            "suites/core.yaml",
            "suites/streaming.yaml",
        ],
        &[("OPENAI_API_KEY", key)],
    );
    rt.block_on(gw.shutdown());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.contains(key));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains(key), "the key reached the report");
    assert!(html.contains("Bearer [redacted]"));
    let rows = markdown_rows(&matrix);

    match browser() {
        Ok(b) => drive(
            &b,
            &dir,
            &report,
            rows,
            &["solo"],
            serde_json::json!({
                "streamed": true,
                "cell_kinds": ["c-pass"],
                "baseline_case": "core::plain_text[solo]",
                "baseline_removed": "finish_reason: length",
                "baseline_added": "finish_reason: stop",
            }),
        ),
        Err(why) => skip(&why),
    }
}
