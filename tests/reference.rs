//! The shipped suites against the embedded reference gateway, as a libtest harness: one trial
//! per planned case, named `suite::case[reference]`, so `cargo test --test reference -- FILTER`,
//! `--exact`, `--skip`, `--list` and nextest work. A trial fails on any finding at all: the
//! reference gateway must be conformant to the letter.

use std::sync::Arc;

use gatecheck::check::{self, Judging, Outcome};
use gatecheck::config::{Secret, Target};
use gatecheck::gateway::{Gateway, GatewayOptions};
use gatecheck::transport::{Limits, Transport};
use gatecheck::{plan, suite};
use libtest_mimic::{Arguments, Failed, Trial};

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
                ..GatewayOptions::default()
            },
        ))
        .expect("the reference gateway starts");
    let target = Arc::new(Target {
        name: "reference".into(),
        base_url: gateway.base_url(),
        api_key_env: "(test)".into(),
        api_key: Some(Secret::new(key)),
        headers: Vec::new(),
        profile: "openai".into(),
        models: vec![GatewayOptions::default().models[0].clone()],
        concurrency: None,
        rate_limit: None,
        extra_capabilities: Vec::new(),
    });
    let suites = suite::load_shipped().unwrap_or_else(|e| panic!("{e}"));
    let plan = plan::build(&suites, &[target]);
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
                if verdict.outcome == Outcome::Pass && verdict.findings.is_empty() {
                    return Ok(());
                }
                let mut msg = format!(
                    "{} ({})",
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
