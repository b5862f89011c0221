//! Issue 5, item 6: record and replay. A run of the embedded reference gateway is recorded
//! (`run --record DIR`, the core, streaming and errors suites: answers with and without
//! streaming, errors, `matches_nonstream` cases with their companion); then
//!
//! - `check DIR` judges the recording offline with the verdicts of the recorded run, and
//!   `check --strict` reports the documented variants at full severity, like `run --strict`;
//! - `serve --replay DIR` serves it back, and a run against the replay gets the recorded run's
//!   verdicts;
//! - a stream recorded with gaps between its chunks is replayed with the gaps, and a recorded
//!   reset and a recorded stall come back as the same errors;
//! - a cut or corrupted recording is a one-line error naming the file, never a panic.
//!
//! Everything runs on 127.0.0.1.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use gatecheck::gateway::{Gateway, GatewayOptions, Replay};
use gatecheck::record;

/// The suites recorded: a subset of the shipped ones.
const SUITES: [&str; 3] = [
    "suites/core.yaml",
    "suites/streaming.yaml",
    "suites/errors.yaml",
];

fn gatecheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatecheck"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GATECHECK_CONFIG")
        .env("GATECHECK_UPDATE", "no")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory under the build's temporary one.
fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("record-replay-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Per case: the outcome, the status, the reason, and `severity check path` per finding; what
/// a verdict is, timing aside.
fn verdicts(jsonl: &str) -> BTreeMap<String, String> {
    jsonl
        .lines()
        .map(|l| {
            let case: Value = serde_json::from_str(l).expect("JSON Lines");
            let mut v = format!(
                "{} {} {}",
                case["outcome"].as_str().unwrap(),
                case["status"],
                case["reason"]
            );
            for f in case["findings"].as_array().unwrap() {
                v.push_str(&format!(
                    "\n  {} {} {}",
                    f["severity"].as_str().unwrap(),
                    f["check"].as_str().unwrap(),
                    f["path"]
                ));
            }
            (case["name"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

/// The recorded run: its folder, its JSON Lines and its exit code (made once, shared).
struct Recorded {
    dir: PathBuf,
    jsonl: String,
    code: Option<i32>,
}

fn recorded() -> &'static Recorded {
    static RECORDED: OnceLock<Recorded> = OnceLock::new();
    RECORDED.get_or_init(|| {
        let base = temp_dir("embedded");
        let dir = base.join("rec");
        let matrix = base.join("matrix.md");
        let mut args = vec![
            "run",
            "--record",
            s(&dir),
            "--no-discover",
            "--format",
            "json",
            "--matrix",
            s(&matrix),
        ];
        args.extend(SUITES);
        let o = gatecheck(&args, &[]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        Recorded {
            dir,
            jsonl: text(&o.stdout),
            code: o.status.code(),
        }
    })
}

#[test]
fn a_recording_holds_one_file_per_case_and_a_manifest_without_secrets() {
    let rec = recorded();
    let manifest = record::read_manifest(&rec.dir).unwrap();
    assert!(manifest.finished && !manifest.interrupted);
    assert_eq!(manifest.suites, ["core", "streaming", "errors"]);
    let openai = manifest
        .targets
        .iter()
        .find(|t| t.name == "openai")
        .unwrap();
    assert_eq!(openai.base_path, "/openai/v1");
    assert_eq!(openai.profile, "openai");
    let ran = verdicts(&rec.jsonl);
    let not_skipped = ran.values().filter(|v| !v.starts_with("skipped")).count();
    assert_eq!(
        manifest.cases.len(),
        not_skipped,
        "skipped cases are not recorded"
    );
    let text = std::fs::read_to_string(rec.dir.join(record::MANIFEST)).unwrap();
    assert!(
        !text.contains("127.0.0.1") && !text.contains("sk-"),
        "{text}"
    );

    let plain = rec.dir.join("openai/core.plain_text.rec");
    let file = std::fs::read_to_string(&plain).unwrap();
    assert!(file.starts_with("gatecheck recording 1\n"), "{file}");
    assert!(file.contains("case: core::plain_text[openai]\n"));
    assert!(file.contains("POST /chat/completions\n"), "{file}");
    assert!(file.contains("authorization: Bearer [redacted]\n"));
    assert!(
        !file.contains("sk-gc-"),
        "the embedded gateway's key leaked"
    );
    let companion = rec.dir.join("openai/streaming.matches_nonstream_text.rec");
    let r = record::read_file(&companion).unwrap();
    assert!(
        r.exchange.reads.len() > 1,
        "a stream arrives in several reads"
    );
    let c = r
        .companion
        .expect("the non-stream answer is recorded with the stream");
    assert!(!text_of(&c.request.body).contains("\"stream\""));

    // Written, read and written again: the same bytes (format round trip on real exchanges).
    for case in &manifest.cases {
        let path = rec.dir.join(&case.file);
        let bytes = std::fs::read(&path).unwrap();
        let back = record::decode(&bytes).unwrap();
        assert_eq!(back.case, case.name);
        assert!(record::encode(&back) == bytes, "{}", path.display());
    }
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (a) Judged offline, the recording gets the recorded run's verdicts, case by case.
#[test]
fn check_gives_the_recorded_runs_verdicts() {
    let rec = recorded();
    let matrix = temp_dir("check").join("matrix.md");
    let o = gatecheck(
        &[
            "check",
            s(&rec.dir),
            "--format",
            "json",
            "--matrix",
            s(&matrix),
        ],
        &[],
    );
    assert!(matrix.is_file(), "the matrix, as for a run");
    assert_eq!(o.status.code(), rec.code, "{}", text(&o.stderr));
    let ran = verdicts(&rec.jsonl);
    let checked = verdicts(&text(&o.stdout));
    assert_eq!(ran.len(), checked.len());
    for (name, verdict) in &ran {
        let skipped_for_lack_of_recording =
            checked[name].starts_with("skipped") && checked[name].contains("not recorded in");
        assert!(
            !skipped_for_lack_of_recording,
            "{name}: recorded but not judged"
        );
        assert_eq!(verdict, &checked[name], "{name}");
    }
    assert!(
        ran.values()
            .any(|v| v.starts_with("fail") || v.contains("variant"))
    );
    // A filter after `--`, as in run.
    let o = gatecheck(
        &[
            "check",
            s(&rec.dir),
            "--format",
            "json",
            "--matrix",
            s(&matrix),
            "--",
            "streaming::plain",
        ],
        &[],
    );
    let some = verdicts(&text(&o.stdout));
    assert_eq!(some.len(), 6, "{some:?}");
    assert!(some.keys().all(|k| k.starts_with("streaming::plain[")));
}

/// (a) Cases planned but not recorded are skipped with the reason; recordings of cases no longer
/// planned get a note.
#[test]
fn cases_not_recorded_are_skipped_and_stray_recordings_noted() {
    let rec = recorded();
    let dir = temp_dir("partial").join("rec");
    copy_dir(&rec.dir, &dir);
    std::fs::remove_file(dir.join("openai/core.plain_text.rec")).unwrap();
    let stray = dir.join("openai/core.gone.rec");
    let bytes = std::fs::read(dir.join("openai/core.system_prompt.rec")).unwrap();
    let renamed = text_of(&bytes).replace(
        "case: core::system_prompt[openai]",
        "case: core::gone[openai]",
    );
    std::fs::write(&stray, renamed).unwrap();
    let matrix = dir.with_file_name("matrix.md");
    let o = gatecheck(
        &[
            "check",
            s(&dir),
            "--format",
            "json",
            "--matrix",
            s(&matrix),
            "--",
            "core::",
        ],
        &[],
    );
    let checked = verdicts(&text(&o.stdout));
    let plain = &checked["core::plain_text[openai]"];
    assert!(
        plain.starts_with("skipped")
            && plain.contains(&format!("not recorded in {}", dir.display())),
        "{plain}"
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("note: `core::gone[openai]`") && err.contains("no longer planned"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.contains("gone")).count(),
        1,
        "{err}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// (b) `--strict` judges yesterday's answers as the strict judge would have judged them live:
/// meingpt's documented error body, a variant under its profile, is a violation.
#[test]
fn check_strict_reports_the_variants_at_full_severity() {
    let rec = recorded();
    let base = temp_dir("strict");
    let mut args = vec![
        "run",
        "--strict",
        "--no-discover",
        "--format",
        "json",
        "--matrix",
    ];
    let matrix = base.join("matrix.md");
    args.push(s(&matrix));
    args.extend(SUITES);
    args.extend(["--", "[meingpt]"]);
    let live = gatecheck(&args, &[]);
    let checked = gatecheck(
        &[
            "check",
            s(&rec.dir),
            "--strict",
            "--format",
            "json",
            "--",
            "[meingpt]",
        ],
        &[],
    );
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked.stderr));
    assert_eq!(live.status.code(), checked.status.code());
    let live = verdicts(&text(&live.stdout));
    let strict = verdicts(&text(&checked.stdout));
    assert_eq!(live, strict);

    let lenient = gatecheck(
        &["check", s(&rec.dir), "--format", "json", "--", "[meingpt]"],
        &[],
    );
    assert_eq!(lenient.status.code(), Some(0));
    let lenient = verdicts(&text(&lenient.stdout));
    let name = "errors::unknown_model[meingpt]";
    assert!(
        lenient[name].contains("variant err.envelope"),
        "{}",
        lenient[name]
    );
    assert!(strict[name].starts_with("fail"), "{}", strict[name]);
    assert!(
        strict[name].contains("violation err.envelope"),
        "{}",
        strict[name]
    );
    assert!(strict.values().all(|v| !v.contains("variant")));

    // Another profile: every target judged as if it were OpenAI's.
    let other = gatecheck(
        &[
            "check",
            s(&rec.dir),
            "--profile",
            "openai",
            "--",
            "errors::unknown_model[meingpt]",
        ],
        &[],
    );
    assert_eq!(other.status.code(), Some(1), "{}", text(&other.stdout));
}

/// `gatecheck serve --replay DIR`, on a free port; its printed base URL per target.
struct Served {
    child: Child,
    urls: BTreeMap<String, String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_replay(dir: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
        .args(["serve", "--replay", s(dir), "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut urls = BTreeMap::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with("a request is answered") {
            break;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [name, url] = words[..]
            && url.starts_with("http://127.0.0.1:")
        {
            urls.insert(name.to_owned(), url.to_owned());
        }
    }
    assert!(!urls.is_empty(), "serve --replay printed no URL");
    Served { child, urls }
}

/// A config file naming each recorded target at the replay, with its profile and models.
fn replay_config(dir: &Path, served: &Served, at: &Path) {
    let manifest = record::read_manifest(dir).unwrap();
    let mut yaml = String::from("targets:\n");
    for t in &manifest.targets {
        yaml.push_str(&format!(
            "  {}:\n    base_url: {}\n    profile: {}\n    models: {}\n    api_key_env: REPLAY_KEY\n",
            t.name,
            served.urls[&t.name],
            t.profile,
            serde_json::to_string(&t.models).unwrap()
        ));
    }
    std::fs::write(at, yaml).unwrap();
}

/// (c) A run against the replay gets the recorded run's verdicts (cases that need the
/// reference gateway's fault injection aside: a configured target cannot claim it).
#[test]
fn a_run_against_the_replay_gets_the_recorded_verdicts() {
    let rec = recorded();
    let served = serve_replay(&rec.dir);
    assert_eq!(served.urls.len(), 6);
    // The embedded gateway's dialects are recorded at `/<dialect>/...`: replayed at the same
    // paths (the recorded base URLs work with the port changed), not doubled.
    let port = served.urls["openai"]
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.split_once('/'))
        .map(|(port, _)| port.to_owned())
        .unwrap();
    assert_eq!(
        served.urls["openai"],
        format!("http://127.0.0.1:{port}/openai/v1")
    );
    assert_eq!(
        served.urls["meingpt"],
        format!("http://127.0.0.1:{port}/meingpt/api/openai/v1")
    );
    let base = temp_dir("replayed");
    let config = base.join("gatecheck.yaml");
    replay_config(&rec.dir, &served, &config);
    let matrix = base.join("matrix.md");
    let mut args = vec![
        "run",
        "--config",
        s(&config),
        "--no-discover",
        "--jobs",
        "1",
        "--format",
        "json",
        "--matrix",
        s(&matrix),
    ];
    args.extend(SUITES);
    let o = gatecheck(&args, &[("REPLAY_KEY", "sk-replay-test")]);
    let replayed = verdicts(&text(&o.stdout));
    let ran = verdicts(&rec.jsonl);
    let mut compared = 0;
    for (name, verdict) in &ran {
        let again = &replayed[name];
        if again.contains("fault_injection") {
            continue;
        }
        assert_eq!(verdict, again, "{name}");
        compared += 1;
    }
    assert!(compared > ran.len() * 9 / 10, "{compared} of {}", ran.len());
}

/// The request a case sends, for asking the replay directly.
fn ask(url: &str, body: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t =
            gatecheck::transport::Transport::new(gatecheck::transport::Limits::default_for_tests())
                .unwrap();
        let request = gatecheck::plan::PlannedRequest {
            method: gatecheck::suite::Method::Post,
            path: String::new(),
            url: url.to_owned(),
            headers: Vec::new(),
            auth: gatecheck::suite::Auth::None,
            body: Some(body.as_bytes().to_vec()),
            json: None,
        };
        let ex = t.send(&request, &plain_target()).await;
        (ex.status().unwrap_or(0), text_of(&ex.body))
    })
}

fn plain_target() -> gatecheck::config::Target {
    gatecheck::config::Target {
        name: "t".into(),
        base_url: String::new(),
        api_key_env: "NONE".into(),
        api_key: None,
        headers: Vec::new(),
        profile: "openai".into(),
        models: vec!["gatecheck-echo".into()],
        concurrency: None,
        rate_limit: None,
        extra_capabilities: Vec::new(),
    }
}

#[test]
fn an_unmatched_request_gets_a_404_naming_the_nearest_recording() {
    let rec = recorded();
    let served = serve_replay(&rec.dir);
    let url = format!("{}/chat/completions", served.urls["openai"]);
    let (status, body) = ask(
        &url,
        r#"{"model":"gatecheck-echo","messages":[{"role":"user","content":"never recorded"}]}"#,
    );
    assert_eq!(status, 404, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the nearest recorded request is POST /openai/v1/chat/completions")
            && message.contains("whose body differs in `messages`"),
        "{message}"
    );
    assert_eq!(body["error"]["code"], "no_recording");
}

/// The suite of the timing test: a plain stream, one reset mid-stream, one stalled (equal
/// bodies, told apart by their fault header).
const TIMING_SUITE: &str = "suite: timing
cases:
  - name: plain
    request:
      path: /chat/completions
      body: {model: '${model}', stream: true, messages: [{role: user, content: one two three four}]}
  - name: dropped
    request:
      path: /chat/completions
      headers: {x-gatecheck-fault: drop_mid_stream}
      body: {model: '${model}', stream: true, messages: [{role: user, content: one two}]}
  - name: stalled
    request:
      path: /chat/completions
      headers: {x-gatecheck-fault: stall_stream}
      body: {model: '${model}', stream: true, messages: [{role: user, content: one two}]}
";

/// The gap the gateway leaves between chunks.
const CHUNK_DELAY: Duration = Duration::from_millis(120);

/// (c) A stream recorded with gaps is replayed with them (at least 70% of each recorded gap:
/// the replay may be late, never early), and a recorded reset and stall are errors again.
#[test]
fn a_replay_keeps_the_gaps_and_reproduces_failures() {
    let base = temp_dir("timing");
    let suite = base.join("timing.yaml");
    std::fs::write(&suite, TIMING_SUITE).unwrap();
    let dir = base.join("rec");
    let rt = support::runtime();
    let gateway = rt
        .block_on(Gateway::start(
            ([127, 0, 0, 1], 0).into(),
            GatewayOptions {
                chunk_delay: CHUNK_DELAY,
                dialect: Some("openai".into()),
                ..GatewayOptions::default()
            },
        ))
        .unwrap();
    let target = format!("slow={}", gateway.base_url());
    let run = |target: &str, record: Option<&Path>| {
        let mut args = vec![
            "run",
            "--target",
            target,
            "--model",
            "gatecheck-echo",
            "--max-gap",
            "1s",
            "--format",
            "json",
            s(&suite),
        ];
        if let Some(dir) = record {
            args.extend(["--record", s(dir)]);
        }
        let o = gatecheck(&args, &[("OPENAI_API_KEY", "sk-gatecheck")]);
        verdicts(&text(&o.stdout))
    };
    let live = run(&target, Some(&dir));
    rt.block_on(gateway.shutdown());
    assert!(live["timing::plain[slow]"].starts_with("pass"), "{live:?}");
    assert!(
        live["timing::dropped[slow]"].starts_with("error"),
        "{live:?}"
    );
    assert!(
        live["timing::stalled[slow]"].contains("timeout"),
        "{live:?}"
    );

    // `check` judges with the bounds the run had (1 s between events, from the manifest), and
    // with tighter ones when told: 120 ms between chunks is then a stall.
    let check = |extra: &[&str]| {
        let mut args = vec!["check", s(&dir), "--format", "json"];
        args.extend(extra);
        args.push(s(&suite));
        verdicts(&text(&gatecheck(&args, &[]).stdout))
    };
    assert_eq!(check(&[]), live);
    let tight = check(&["--max-gap", "100ms"]);
    assert!(
        tight["timing::plain[slow]"].starts_with("error"),
        "{tight:?}"
    );

    let replay = rt
        .block_on(Replay::start(([127, 0, 0, 1], 0).into(), &dir))
        .unwrap();
    // One target: served at its base path alone too.
    let root = replay.base_url().expect("one target");
    assert_eq!(root, format!("http://{}/v1", replay.addr()));
    let replayed = run(&format!("slow={root}"), None);
    assert_eq!(replayed, live);

    // The gaps: each read of the replayed stream no earlier than 70% of its recorded gap.
    let recording = record::read_file(&dir.join("slow/timing.plain.rec")).unwrap();
    let recorded_gaps = gaps(&recording.exchange.reads);
    assert!(
        recorded_gaps
            .iter()
            .filter(|g| **g >= CHUNK_DELAY * 7 / 10)
            .count()
            >= 4,
        "the recording has the gateway's gaps: {recorded_gaps:?}"
    );
    let t = gatecheck::transport::Transport::new(gatecheck::transport::Limits::default_for_tests())
        .unwrap();
    let mut request = gatecheck::plan::PlannedRequest {
        method: gatecheck::suite::Method::Post,
        path: "/chat/completions".into(),
        url: format!("{root}/chat/completions"),
        headers: Vec::new(),
        auth: gatecheck::suite::Auth::None,
        body: Some(recording.exchange.request.body.clone()),
        json: None,
    };
    let again = rt.block_on(t.send(&request, &plain_target()));
    assert_eq!(again.body, recording.exchange.body);
    let replayed_gaps = gaps(&again.reads);
    let big: Vec<Duration> = recorded_gaps
        .iter()
        .copied()
        .filter(|g| *g >= CHUNK_DELAY / 2)
        .collect();
    let replayed_big: Vec<Duration> = replayed_gaps
        .iter()
        .copied()
        .filter(|g| *g >= CHUNK_DELAY / 2)
        .collect();
    assert_eq!(
        big.len(),
        replayed_big.len(),
        "{recorded_gaps:?} vs {replayed_gaps:?}"
    );
    for (r, p) in big.iter().zip(&replayed_big) {
        assert!(*p >= *r * 7 / 10, "a gap of {r:?} replayed as {p:?}");
        assert!(
            *p < *r + Duration::from_secs(5),
            "a gap of {r:?} replayed as {p:?}"
        );
    }
    let first = again.timing.first_byte.unwrap();
    let recorded_first = recording.exchange.timing.first_byte.unwrap();
    assert!(
        first >= recorded_first * 7 / 10,
        "{first:?} vs {recorded_first:?}"
    );

    // Under `/<target><base path>` as well.
    request.url = format!("{}/chat/completions", replay.base_url_for("slow").unwrap());
    let again = rt.block_on(t.send(&request, &plain_target()));
    assert_eq!(again.status(), Some(200));
    rt.block_on(replay.shutdown());
}

fn gaps(reads: &[gatecheck::exchange::Read]) -> Vec<Duration> {
    reads
        .windows(2)
        .map(|w| w[1].at.saturating_sub(w[0].at))
        .collect()
}

/// (e) A cut or corrupted recording stops `check` and `serve --replay` with one line naming
/// the file and what is wrong (exit code 2), never a panic.
#[test]
fn a_broken_recording_is_one_line_naming_the_file() {
    let rec = recorded();
    /// A way to break a file: its name, what it does, and what the error must say.
    type Corruption = (&'static str, fn(Vec<u8>) -> Vec<u8>, &'static str);
    let cases: [Corruption; 3] = [
        ("cut", |b| b[..b.len() / 2].to_vec(), "(truncated?)"),
        (
            "count",
            |b| {
                text_of(&b)
                    .replacen("--- body 1", "--- body 9", 1)
                    .into_bytes()
            },
            ", line ",
        ),
        (
            "magic",
            |b| [b"gatecheck recording 7\n".as_slice(), &b[22..]].concat(),
            "not a gatecheck recording",
        ),
    ];
    for (name, corrupt, what) in cases {
        let dir = temp_dir(&format!("broken-{name}")).join("rec");
        copy_dir(&rec.dir, &dir);
        let file = dir.join("openai/streaming.plain.rec");
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, corrupt(bytes)).unwrap();
        for args in [
            vec!["check", s(&dir)],
            vec!["serve", "--replay", s(&dir), "--port", "0"],
        ] {
            let o = gatecheck(&args, &[]);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            let lines: Vec<&str> = err.lines().collect();
            assert_eq!(lines.len(), 1, "{name} {args:?}: {err}");
            assert!(
                lines[0].starts_with("error: recording `")
                    && lines[0].contains(s(&file))
                    && lines[0].contains(what),
                "{name} {args:?}: {err}"
            );
        }
    }
    let o = gatecheck(&["check", s(&temp_dir("empty"))], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("manifest.json"),
        "{}",
        text(&o.stderr)
    );
}

/// `--record` takes over an earlier recording (its files go, the names stay) but refuses a
/// folder that holds something else.
#[test]
fn record_refuses_a_folder_that_is_not_a_recording() {
    let dir = temp_dir("not-ours");
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let o = gatecheck(
        &[
            "run",
            "--record",
            s(&dir),
            "--no-discover",
            "--",
            "core::plain_text[openai]",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("not a gatecheck recording"),
        "{}",
        text(&o.stderr)
    );
    assert!(dir.join("notes.txt").exists());

    let again = temp_dir("again").join("rec");
    let matrix = again.with_file_name("matrix.md");
    for filter in ["core::", "core::plain_text[openai]"] {
        let o = gatecheck(
            &[
                "run",
                "--record",
                s(&again),
                "--no-discover",
                "--matrix",
                s(&matrix),
                "suites/core.yaml",
                "--",
                filter,
            ],
            &[],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let left: Vec<String> = std::fs::read_dir(again.join("openai"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["core.plain_text.rec"]);
}

/// A stream longer than `--max-body` is judged whole during the run but kept only in part: the
/// file says so, and `check` judges it as far as it goes and errors rather than pass or fail it
/// on an end the server never sent.
#[test]
fn a_stream_kept_in_part_says_so_and_check_cannot_tell() {
    let dir = temp_dir("kept-in-part").join("rec");
    let o = gatecheck(
        &[
            "run",
            "--record",
            s(&dir),
            "--max-body",
            "300",
            "--no-discover",
            "--format",
            "json",
            "suites/streaming.yaml",
            "--",
            "streaming::plain[openai]",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let file = std::fs::read_to_string(dir.join("openai/streaming.plain.rec")).unwrap();
    assert!(file.contains("--- body 300 bytes of "), "{file}");
    let o = gatecheck(
        &[
            "check",
            s(&dir),
            "--format",
            "json",
            "--",
            "streaming::plain[openai]",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stdout));
    let v = verdicts(&text(&o.stdout));
    let plain = &v["streaming::plain[openai]"];
    assert!(
        plain.starts_with("error") && plain.contains("the recording keeps the first 300 of the"),
        "{plain}"
    );
}

/// The run's stream bounds are kept in the manifest, and `check` judges by them: a manifest
/// that allows no wait between bytes makes the recording a stall, one that allows two events
/// makes it too long, and `--max-gap` overrides the manifest.
#[test]
fn check_judges_by_the_recorded_stream_bounds() {
    let dir = temp_dir("bounds").join("rec");
    let plain = "streaming::plain[openai]";
    let run = gatecheck(
        &[
            "run",
            "--record",
            s(&dir),
            "--max-events",
            "500",
            "--max-gap",
            "7s",
            "--no-discover",
            "--format",
            "json",
            "suites/streaming.yaml",
            "--",
            plain,
        ],
        &[],
    );
    let live = verdicts(&text(&run.stdout));
    assert!(live[plain].starts_with("pass"), "{live:?}");
    let path = dir.join("manifest.json");
    let manifest = std::fs::read_to_string(&path).unwrap();
    let bounds = r#""stream_limits": {
    "max_events": 500,
    "max_gap_ms": 7000
  }"#;
    assert!(manifest.contains(bounds), "{manifest}");
    let check = |extra: &[&str]| {
        let mut args = vec!["check", s(&dir), "--format", "json"];
        args.extend(extra);
        args.extend(["--", plain]);
        verdicts(&text(&gatecheck(&args, &[]).stdout))
    };
    assert_eq!(check(&[]), live);
    // The embedded gateway sends its chunks without delay: the recorded first read comes some
    // hundreds of microseconds after the head. A zero bound leaves no gap acceptable.
    std::fs::write(
        &path,
        manifest.replace("\"max_gap_ms\": 7000", "\"max_gap_ms\": 0"),
    )
    .unwrap();
    let stalled = check(&[]);
    assert!(
        stalled[plain].starts_with("error") && stalled[plain].contains("no byte for 0.0 s"),
        "{stalled:?}"
    );
    assert_eq!(check(&["--max-gap", "5s"]), live);
    std::fs::write(
        &path,
        manifest.replace("\"max_events\": 500", "\"max_events\": 2"),
    )
    .unwrap();
    let over = check(&[]);
    assert!(over[plain].contains("more than 2 events"), "{over:?}");
}
