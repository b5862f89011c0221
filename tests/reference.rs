//! The shipped suites against the embedded reference gateway, every dialect a target of its own
//! as `gatecheck run` with no target makes them, as a libtest harness: one trial per planned
//! case, named `suite::case[dialect]`, so `cargo test --test reference -- FILTER`, `--exact`,
//! `--skip`, `--list` and nextest work.
//!
//! The `openai` dialect must be conformant to the letter: a trial fails on any finding at all.
//! Every other dialect must pass (findings that do not fail a case, such as the warnings and
//! info its documented deviations raise, are allowed), except the cases in [`KNOWN_FAILURES`],
//! which must fail exactly as listed: when a profile comes to document what its gateway does,
//! the trial says so, and the entry goes. Every trial also holds `Verdict::checked` to the
//! findings: a check that fired looked at the exchange.

use std::sync::Arc;

use gatecheck::catalog::Severity;
use gatecheck::check::{self, Judging, Outcome, Verdict};
use gatecheck::config::Secret;
use gatecheck::gateway::{Gateway, GatewayOptions};
use gatecheck::transport::{Limits, Transport};
use gatecheck::{cli, plan, suite};
use libtest_mimic::{Arguments, Failed, Trial};

/// Cases that fail under a dialect because its gateway does what its profile does not document
/// (yet): dialect, the cases (`suite::case`), and the checks whose violations fail them.
const KNOWN_FAILURES: &[(&str, &[&str], &[&str])] = &[
    // apigo's completions carry no `created` and no `model` (its documented answer example);
    // the apigo profile does not list them as omitted fields yet.
    (
        "apigo",
        &[
            "core::plain_text",
            "core::system_prompt",
            "core::multi_turn",
            "core::developer_role",
            "core::content_parts_user",
            "core::content_parts_every_role",
            "core::message_name",
            "json::json_object",
            "json::json_schema_strict",
            "params::temperature_zero_and_seed",
            "params::n_two",
            "params::stop_string",
            "params::stop_list",
            "params::max_tokens",
            "params::max_completion_tokens",
            "params::logprobs",
            "tools::auto_calls_the_tool",
            "tools::required",
            "tools::named",
            "tools::none",
            "tools::parallel",
            "tools::parallel_disabled",
            "tools::tool_result_turn",
        ],
        &["resp.schema"],
    ),
    // meingpt answers every error as `{"status": "error", "message": ...}`; its profile does not
    // declare that error shape yet.
    (
        "meingpt",
        &[
            "errors::unknown_model",
            "errors::malformed_json",
            "errors::missing_messages",
            "errors::empty_messages",
            "errors::missing_model",
            "errors::invalid_temperature",
            "errors::missing_key",
            "errors::wrong_key",
            "errors::unknown_route",
            "models::retrieve_unknown",
        ],
        &["err.envelope"],
    ),
    // meingpt ignores `max_tokens` and `stream_options` (it honours seven parameters and drops
    // the rest), so the suites' assertions on `finish_reason: length` and on the usage trailer
    // fail; the profile does not mark those parameters as ignored yet.
    (
        "meingpt",
        &[
            "params::max_tokens",
            "streaming::include_usage",
            "streaming::max_tokens",
        ],
        &["assert.pointer"],
    ),
];

/// The checks whose violations a known failure lists, if the case is one.
fn known_failure(dialect: &str, case: &str) -> Option<&'static [&'static str]> {
    KNOWN_FAILURES
        .iter()
        .find(|(d, cases, _)| *d == dialect && cases.contains(&case))
        .map(|(_, _, checks)| *checks)
}

/// What is wrong with a verdict, if anything.
fn judge(dialect: &str, case: &str, verdict: &Verdict) -> Result<(), String> {
    let stray: Vec<&str> = verdict
        .findings
        .iter()
        .map(|f| f.check)
        .filter(|id| !verdict.checked.contains(id))
        .collect();
    if !stray.is_empty() {
        return Err(format!("fired but not listed as checked: {stray:?}"));
    }
    let mut violations: Vec<&str> = verdict
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Violation)
        .map(|f| f.check)
        .collect();
    violations.sort_unstable();
    violations.dedup();
    match known_failure(dialect, case) {
        Some(expected) if verdict.outcome == Outcome::Fail && violations == expected => Ok(()),
        Some(expected) if verdict.outcome == Outcome::Pass => Err(format!(
            "now passes: remove `{case}` for {dialect} from KNOWN_FAILURES (it failed with {expected:?})"
        )),
        Some(expected) => Err(format!("a known failure with {expected:?} changed")),
        None if dialect == "openai" && verdict.findings.is_empty() => Ok(()),
        None if dialect != "openai" && verdict.outcome == Outcome::Pass => Ok(()),
        None => Err("the dialect must pass".to_owned()),
    }
}

fn main() {
    let args = Arguments::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio starts");
    let key = "sk-reference-harness";
    let gateway = runtime
        .block_on(Gateway::start(
            ([127, 0, 0, 1], 0).into(),
            GatewayOptions {
                api_key: key.into(),
                dialect: None,
                ..GatewayOptions::default()
            },
        ))
        .expect("the reference gateway starts");
    let targets: Vec<_> = cli::embedded_targets(Some(Secret::new(key)), None, |name| {
        Some((gateway.base_url_for(name)?, gateway.models_for(name)?))
    })
    .into_iter()
    .map(Arc::new)
    .collect();
    assert_eq!(targets.len(), 6, "a target per dialect");
    let suites = suite::load_shipped().unwrap_or_else(|e| panic!("{e}"));
    let plan = plan::build(&suites, &targets);
    let transport = Transport::new(Limits::default_for_tests()).expect("the HTTP client builds");

    let trials = plan
        .cases
        .into_iter()
        .map(|case| {
            let skipped = case.skip.is_some();
            let handle = runtime.handle().clone();
            let transport = transport.clone();
            Trial::test(case.name.clone(), move || {
                let exchange = handle.block_on(transport.send(&case.request, &case.target));
                let verdict = check::check(&case, &exchange, Judging::default());
                let dialect = case.target.name.as_str();
                let name = format!("{}::{}", case.suite, case.case.name);
                let Err(why) = judge(dialect, &name, &verdict) else {
                    return Ok(());
                };
                let mut msg = format!(
                    "{why}\n{} ({})",
                    verdict.outcome,
                    verdict.reason.unwrap_or_default()
                );
                for f in &verdict.findings {
                    msg.push_str(&format!(
                        "\n  {} {} {}: {}",
                        f.severity,
                        f.check,
                        f.path.as_deref().unwrap_or(""),
                        f.message
                    ));
                }
                msg.push_str(&format!(
                    "\nbody: {}",
                    String::from_utf8_lossy(&exchange.body)
                ));
                Err(Failed::from(msg))
            })
            .with_ignored_flag(skipped)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    runtime.block_on(gateway.shutdown());
    conclusion.exit();
}
