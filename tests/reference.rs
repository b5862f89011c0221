//! The shipped suites against the embedded reference gateway, every dialect a target of its own
//! as `gatecheck run` with no target makes them, as a libtest harness: one trial per planned
//! case, named `suite::case[dialect]`, so `cargo test --test reference -- FILTER`, `--exact`,
//! `--skip`, `--list` and nextest work.
//!
//! The `openai` dialect must be conformant to the letter: a trial fails on any finding at all.
//! Every other dialect, judged under its own profile, must pass with nothing worse than a
//! `variant` or `info` finding: what its gateway does differently, its profile documents
//! (`tests/profiles.rs` shows the same exchanges under the strict profile). Every trial also
//! holds `Verdict::checked` to the findings: a check that fired looked at the exchange.

use std::sync::Arc;

use gatecheck::catalog::Severity;
use gatecheck::check::{self, Judging, Outcome, Verdict};
use gatecheck::config::Secret;
use gatecheck::gateway::{Gateway, GatewayOptions};
use gatecheck::transport::{Limits, Transport};
use gatecheck::{cli, plan, suite};
use libtest_mimic::{Arguments, Failed, Trial};

/// What is wrong with a verdict, if anything.
fn judge(dialect: &str, verdict: &Verdict) -> Result<(), String> {
    let stray: Vec<&str> = verdict
        .findings
        .iter()
        .map(|f| f.check)
        .filter(|id| !verdict.checked.contains(id))
        .collect();
    if !stray.is_empty() {
        return Err(format!("fired but not listed as checked: {stray:?}"));
    }
    let worse: Vec<String> = verdict
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Variant)
        .map(|f| format!("{} {}", f.check, f.severity))
        .collect();
    match verdict.outcome {
        Outcome::Pass if dialect == "openai" && !verdict.findings.is_empty() => {
            Err("the openai dialect must raise no finding".to_owned())
        }
        Outcome::Pass if worse.is_empty() => Ok(()),
        Outcome::Pass => Err(format!("more than documented deviations: {worse:?}")),
        _ => Err(format!(
            "the {dialect} dialect must pass under its own profile"
        )),
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
                let Err(why) = judge(dialect, &verdict) else {
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
