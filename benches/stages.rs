//! What gatecheck costs before and after the network: loading and planning the shipped
//! suites, compiling the OpenAI schemas, and judging one exchange. Run with
//! `cargo bench --bench stages`; the whole-process figures come from `benches/harness.py`.

use std::sync::Arc;

use gatecheck::check::{self, Judging};
use gatecheck::exchange::{Exchange, SentRequest};
use gatecheck::{fixture, plan, schema, suite};

fn main() {
    divan::main();
}

#[divan::bench]
fn load_shipped_suites() -> Vec<suite::Suite> {
    suite::load_shipped().unwrap()
}

#[divan::bench]
fn plan_shipped_suites(bencher: divan::Bencher) {
    let suites = suite::load_shipped().unwrap();
    let targets = [Arc::new(fixture::fixture_target(fixture::DEFAULT_PROFILE))];
    bencher.bench(|| plan::build(&suites, &targets));
}

#[divan::bench(args = schema::names().collect::<Vec<_>>())]
fn compile_schema(name: &str) -> jsonschema::Validator {
    schema::compile(schema::document(name).unwrap()).unwrap()
}

/// The shipped `core::plain_text` case, planned for a target with `profile`.
fn plain_text(profile: &str) -> plan::PlannedCase {
    let suites = suite::load_shipped().unwrap();
    let targets = [Arc::new(fixture::fixture_target(profile))];
    let plan = plan::build(&suites, &targets);
    plan.cases
        .into_iter()
        .find(|c| c.name.starts_with("core::plain_text"))
        .unwrap()
}

/// A 200 answer to `case` with a JSON `body`.
fn completion(case: &plan::PlannedCase, body: String) -> Exchange {
    Exchange::from_parts(
        SentRequest {
            method: "POST".into(),
            url: case.request.url.clone(),
            headers: vec![],
            body: case.request.body.clone().unwrap(),
        },
        200,
        vec![("content-type".into(), "application/json".into())],
        body.into_bytes(),
    )
}

const COMPLETION: &str = r#"{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":10,"total_tokens":19,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_06737a9306"}"#;

/// Judging one typical completion (JSON parse, every catalog check, schema, assertions), under
/// the strict profile and under ML Router's (its `usage.cost` and `gen-` id checked, its
/// documented deviations turned into variants).
#[divan::bench(args = ["openai", "ml-router"])]
fn judge_completion(bencher: divan::Bencher, profile: &str) {
    let case = plain_text(profile);
    schema::warm_up();
    let body = match profile {
        "ml-router" => COMPLETION.replace("chatcmpl-", "gen-1700000001-").replace(
            r#""total_tokens":19,"#,
            r#""total_tokens":19,"cost":0.0000075,"#,
        ),
        _ => COMPLETION.to_owned(),
    };
    let exchange = completion(&case, body);
    bencher.bench(|| check::check(&case, &exchange, Judging::default()));
}

/// Building one case's snapshot from the judged exchange: normalizing the request and the
/// completion (placeholders, sorted keys) and writing the YAML document (no file I/O).
#[divan::bench]
fn snapshot_completion(bencher: divan::Bencher) {
    let case = plain_text("openai");
    let exchange = completion(&case, COMPLETION.to_owned());
    let report = gatecheck::run::CaseReport {
        verdict: check::check(&case, &exchange, Judging::default()),
        case,
        exchange: Some(exchange),
        companion: None,
        elapsed: std::time::Duration::from_millis(3),
        cost: None,
    };
    bencher.bench(|| gatecheck::report::snapshot::of(&report));
}
