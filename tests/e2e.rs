//! End to end through the library: load -> plan -> run (real sockets on 127.0.0.1) -> check ->
//! report, against the reference gateway (conformant, then with injected faults) and against
//! wiremock servers that misbehave in ways the gateway does not.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatecheck::check::{Judging, Outcome};
use gatecheck::config::{Secret, Target};
use gatecheck::diag::SourceFile;
use gatecheck::gateway::{Gateway, GatewayOptions};
use gatecheck::run::{self, CaseReport, RunOptions};
use gatecheck::transport::{Limits, Transport};
use gatecheck::{plan, suite};

mod support;
use support::runs::Collect;

fn target(name: &str, base_url: String, key: Option<&str>, model: &str) -> Arc<Target> {
    Arc::new(Target {
        name: name.into(),
        base_url,
        api_key_env: "TEST_KEY".into(),
        api_key: key.map(Secret::new),
        headers: vec![],
        profile: "openai".into(),
        models: vec![model.into()],
        concurrency: None,
        rate_limit: None,
        extra_capabilities: Vec::new(),
    })
}

async fn run(suites: &[suite::Suite], targets: &[Arc<Target>], limits: Limits) -> Vec<CaseReport> {
    let plan = plan::build(suites, targets);
    let selected: Vec<usize> = (0..plan.cases.len()).collect();
    let transport = Transport::new(limits).unwrap();
    let options = RunOptions {
        jobs: 8,
        judging: Judging::default(),
        stream_limits: Default::default(),
    };
    let collect = Collect::default();
    let mut reporter = collect.clone();
    let summary = run::execute(
        &plan,
        &selected,
        &transport,
        &options,
        &mut reporter,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(summary.counts.total(), plan.cases.len());
    let reports = collect.0.lock().unwrap().clone();
    let order: Vec<usize> = reports.iter().map(|r| r.case.index).collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "reports come in plan order"
    );
    reports
}

fn limits() -> Limits {
    Limits {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(10),
        max_gap: Duration::from_secs(5),
        max_body_bytes: 1 << 20,
        max_stream_bytes: 8 << 20,
    }
}

fn describe(reports: &[CaseReport]) -> String {
    reports
        .iter()
        .map(|r| {
            let f: Vec<String> = r
                .verdict
                .findings
                .iter()
                .map(|f| {
                    format!(
                        "\n    {} {} {}: {}",
                        f.check,
                        f.severity,
                        f.path.as_deref().unwrap_or(""),
                        f.message
                    )
                })
                .collect();
            format!(
                "{} {} {:?}{}",
                r.case.name,
                r.verdict.outcome,
                r.verdict.reason,
                f.join("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A base URL with a path prefix (`/api/openai/v1`) is joined, not replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_urls_with_a_path_prefix_work() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let body =
        r#"{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"o"}]}"#;
    Mock::given(method("GET"))
        .and(path("/api/openai/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let s = load("cases:\n  - name: list\n    request: {path: /models}\n");
    let t = target(
        "prefixed",
        format!("{}/api/openai/v1", server.uri()),
        None,
        "m",
    );
    let reports = run(&[s], &[t], limits()).await;
    assert_eq!(
        reports[0].verdict.outcome,
        Outcome::Pass,
        "{}",
        describe(&reports)
    );
}

/// The case ended as `outcome` with exactly these checks' findings, in order.
fn assert_verdict(name: &str, r: &CaseReport, outcome: Outcome, checks: &[&str]) {
    let shown = describe(std::slice::from_ref(r));
    assert_eq!(r.verdict.outcome, outcome, "{name}: {shown}");
    let got: Vec<&str> = r.verdict.findings.iter().map(|f| f.check).collect();
    assert_eq!(got, checks, "{name}: {shown}");
}

fn load(text: &str) -> suite::Suite {
    suite::load_one(SourceFile::new("suites/test.yaml", text))
        .unwrap_or_else(|d| panic!("{}", d[0]))
        .0
}

/// The reference gateway (every dialect; OpenAI's at its base URL), key `sk-e2e`.
async fn start_gateway() -> Gateway {
    Gateway::start(
        ([127, 0, 0, 1], 0).into(),
        GatewayOptions {
            api_key: "sk-e2e".into(),
            ..GatewayOptions::default()
        },
    )
    .await
    .unwrap()
}

/// Each injected fault gets the verdict it deserves, and none hangs the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gateway_fault_gets_a_verdict_never_a_hang() {
    let gw = start_gateway().await;
    let faults = [
        ("rate_limit", Outcome::Inconclusive, vec![]),
        ("overloaded", Outcome::Inconclusive, vec![]),
        ("server_error", Outcome::Fail, vec!["assert.status"]),
        (
            "wrong_content_type",
            Outcome::Fail,
            vec!["sse.content_type"],
        ),
        (
            "sse_for_json",
            Outcome::Fail,
            vec!["sse.stream_flag_honored", "sse.content_type"],
        ),
        ("stall", Outcome::Error, vec![]),
        ("stall_body", Outcome::Error, vec![]),
        ("reset", Outcome::Error, vec![]),
        ("huge_body", Outcome::Error, vec![]),
    ];
    let mut yaml = String::from("cases:\n");
    for (name, _, _) in &faults {
        yaml.push_str(&format!(
            "  - name: {name}\n    request:\n      path: /chat/completions\n      headers: {{x-gatecheck-fault: {name}}}\n      body: {{model: '${{model}}', messages: [{{role: user, content: hi}}]}}\n"
        ));
    }
    let t = target("reference", gw.base_url(), Some("sk-e2e"), "gatecheck-echo");
    let tight = Limits {
        total: Duration::from_millis(1500),
        ..limits()
    };
    let started = std::time::Instant::now();
    let reports = run(&[load(&yaml)], &[t], tight).await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the run took {:?}",
        started.elapsed()
    );
    for ((name, outcome, checks), r) in faults.iter().zip(&reports) {
        assert_verdict(name, r, *outcome, checks);
    }
    let reason = |i: usize| reports[i].verdict.reason.clone().unwrap_or_default();
    assert!(reason(0).starts_with("rate limited (429)"), "{}", reason(0));
    assert!(reason(5).starts_with("timeout"), "{}", reason(5));
    assert!(
        reason(7).starts_with("reset") || reason(7).starts_with("transport"),
        "{}",
        reason(7)
    );
    assert!(reason(8).starts_with("body too large"), "{}", reason(8));
    gw.shutdown().await;
}

/// Answers with the request's headers in the body, as some gateways' error pages do.
struct EchoHeaders;

impl wiremock::Respond for EchoHeaders {
    fn respond(&self, req: &wiremock::Request) -> wiremock::ResponseTemplate {
        let headers: Vec<String> = req
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("")))
            .collect();
        let body = serde_json::json!({"error": {"message": format!("bad request; you sent {}", headers.join("; ")), "type": "invalid_request_error", "param": null, "code": null}});
        wiremock::ResponseTemplate::new(400).set_body_json(body)
    }
}

/// A writer the test can read after the reporters are gone.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A server that echoes the key back: the key still appears in no output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_never_reaches_the_reports_even_when_the_server_echoes_it() {
    use gatecheck::report::{Redacting, json::JsonLines, terminal::Terminal};
    use wiremock::{Mock, MockServer, matchers::any};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(EchoHeaders)
        .mount(&server)
        .await;
    let key = "sk-live-THIS-MUST-NOT-LEAK-0123456789";
    let s = load(
        "cases:\n  - name: plain\n    request:\n      path: /chat/completions\n      body: {model: m, messages: [{role: user, content: hi}]}\n",
    );
    let t = target("echo", format!("{}/v1", server.uri()), Some(key), "m");
    let plan = plan::build(&[s], &[t]);
    let transport = Transport::new(limits()).unwrap();
    let options = RunOptions {
        jobs: 1,
        judging: Judging::default(),
        stream_limits: Default::default(),
    };
    let human = SharedBuf::default();
    let jsonl = SharedBuf::default();
    let secrets = [Secret::new(key)];
    let mut fan = run::FanOut(vec![
        Box::new(Terminal::new(
            Redacting::new(human.clone(), &secrets),
            false,
        )),
        Box::new(JsonLines::new(Redacting::new(jsonl.clone(), &secrets))),
    ]);
    let summary = run::execute(
        &plan,
        &[0],
        &transport,
        &options,
        &mut fan,
        std::future::pending(),
    )
    .await
    .unwrap();
    drop(fan);
    assert_eq!(summary.counts.fail, 1);
    let human = String::from_utf8(human.0.lock().unwrap().clone()).unwrap();
    let jsonl = String::from_utf8(jsonl.0.lock().unwrap().clone()).unwrap();
    assert!(human.contains("assert.status"), "{human}");
    assert!(
        human.contains("[redacted]"),
        "the echo did reach the report, redacted: {human}"
    );
    for out in [&human, &jsonl] {
        assert!(!out.contains("THIS-MUST-NOT-LEAK"), "{out}");
    }
}

/// Servers that answer in ways no OpenAI client can use: each is a failure with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_answers_fail_with_the_right_check() {
    use wiremock::matchers::{header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let cases: [(&str, ResponseTemplate, &[&str]); 5] = [
        ("html_502", ResponseTemplate::new(502).set_body_raw("<html><body>Bad Gateway</body></html>", "text/html"), &["err.envelope", "assert.status"]),
        ("empty_200", ResponseTemplate::new(200).set_body_raw("", "application/json"), &["resp.envelope"]),
        ("error_in_200", ResponseTemplate::new(200).set_body_raw(r#"{"error":{"message":"upstream failed","type":"server_error","param":null,"code":null}}"#, "application/json"), &["err.no_error_with_2xx_nonstream"]),
        ("redirect", ResponseTemplate::new(301).insert_header("location", "https://elsewhere.example/v1/chat/completions"), &["err.envelope", "assert.status"]),
        ("bare_array_json", ResponseTemplate::new(200).set_body_raw("[1,2]", "application/json"), &["resp.envelope"]),
    ];
    let mut yaml = String::from("cases:\n");
    for (name, template, _) in &cases {
        Mock::given(method("POST"))
            .and(header("x-case", *name))
            .respond_with(template.clone())
            .mount(&server)
            .await;
        yaml.push_str(&format!(
            "  - name: {name}\n    request:\n      path: /chat/completions\n      headers: {{x-case: {name}}}\n      body: {{model: m, messages: [{{role: user, content: hi}}]}}\n"
        ));
    }
    let t = target("broken", format!("{}/v1", server.uri()), None, "m");
    let reports = run(&[load(&yaml)], &[t], limits()).await;
    for ((name, _, checks), r) in cases.iter().zip(&reports) {
        assert_verdict(name, r, Outcome::Fail, checks);
    }
}

/// A refused connection is an error, not a failure, and does not take long.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_target_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = load("cases:\n  - name: list\n    request: {path: /models}\n");
    let t = target("down", format!("http://127.0.0.1:{port}/v1"), None, "m");
    let reports = run(&[s], &[t], limits()).await;
    assert_eq!(reports[0].verdict.outcome, Outcome::Error);
    assert!(
        reports[0]
            .verdict
            .reason
            .as_deref()
            .unwrap()
            .starts_with("connect:"),
        "{}",
        describe(&reports)
    );
}

/// Issue 4, side by side: two targets in one run, one paced by `rate_limit`. Every request to
/// the paced one waits for its slot, the non-stream companion of a `matches_nonstream` case
/// included: three requests at 10 a second cannot all have left before 200 ms. Only a lower
/// bound is asserted, so a slow machine cannot make it flaky (the exact spacing is proven with
/// paused time in `run::tests`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_target_paces_every_request_companions_included() {
    let gw = start_gateway().await;
    let s = load(
        "cases:\n  - name: plain\n    request:\n      path: /chat/completions\n      body: {model: '${model}', messages: [{role: user, content: hi}]}\n  - name: compared\n    request:\n      path: /chat/completions\n      body: {model: '${model}', stream: true, temperature: 0, seed: 42, messages: [{role: user, content: hi}]}\n    expect: {matches_nonstream: true}\n",
    );
    let mut paced = (*target("paced", gw.base_url(), Some("sk-e2e"), "gatecheck-echo")).clone();
    paced.rate_limit = Some(10.0);
    let free = target("free", gw.base_url(), Some("sk-e2e"), "gatecheck-echo");
    let started = std::time::Instant::now();
    let reports = run(&[s], &[Arc::new(paced), free], limits()).await;
    let elapsed = started.elapsed();
    let names: Vec<&str> = reports.iter().map(|r| r.case.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "test::plain[paced]",
            "test::plain[free]",
            "test::compared[paced]",
            "test::compared[free]"
        ],
        "targets interleave in the plan"
    );
    for r in &reports {
        assert_verdict(&r.case.name, r, Outcome::Pass, &[]);
    }
    assert!(
        elapsed >= Duration::from_millis(200),
        "three paced requests left within {elapsed:?}"
    );
    gw.shutdown().await;
}
