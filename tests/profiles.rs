//! Profiles both ways, over real sockets against the reference gateway speaking every dialect at
//! once: each profile's emulation passes the shipped suites under its own profile with no
//! warning or violation, and judged under the strict `openai` profile (`--strict`) shows exactly
//! the deviations its profile documents, now at their full severity.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gatecheck::catalog::Severity;
use gatecheck::check::{Judging, Outcome};
use gatecheck::config::{Secret, Target};
use gatecheck::gateway::{Gateway, GatewayOptions};
use gatecheck::run::{CaseReport, RunOptions};
use gatecheck::suite::Capability;
use gatecheck::transport::{Limits, Transport};
use gatecheck::{plan, profile, suite};

mod support;

/// One target per profile, each at its dialect's base URL with its first model; the embedded
/// gateway injects faults on request, so the documented errors can be provoked.
fn targets(gw: &Gateway) -> Vec<Arc<Target>> {
    profile::names()
        .into_iter()
        .map(|name| {
            Arc::new(Target {
                name: name.into(),
                base_url: gw.base_url_for(name).expect("every profile has a dialect"),
                api_key_env: "TEST_KEY".into(),
                api_key: Some(Secret::new("sk-gatecheck")),
                headers: vec![],
                profile: name.into(),
                models: vec![gw.models_for(name).unwrap()[0].clone()],
                concurrency: None,
                rate_limit: None,
                extra_capabilities: vec![Capability::FaultInjection],
            })
        })
        .collect()
}

async fn run_all(strict: bool) -> Vec<CaseReport> {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let gw = Gateway::start(addr, GatewayOptions::default())
        .await
        .unwrap();
    let suites = suite::load_shipped().unwrap_or_else(|e| panic!("{e}"));
    let plan = plan::build(&suites, &targets(&gw));
    let transport = Transport::new(Limits {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(20),
        max_gap: Duration::from_secs(10),
        max_body_bytes: 4 << 20,
        max_stream_bytes: 8 << 20,
    })
    .unwrap();
    let options = RunOptions {
        jobs: 8,
        judging: Judging {
            strict,
            ..Judging::default()
        },
        stream_limits: Default::default(),
    };
    support::runs::execute(&plan, &transport, &options).await
}

/// `case check path` for every finding at the given severities, sorted.
fn findings(reports: &[CaseReport], keep: impl Fn(Severity) -> bool) -> Vec<String> {
    let mut out: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            r.verdict
                .findings
                .iter()
                .filter(|f| keep(f.severity))
                .map(|f| {
                    format!(
                        "{} {} {}",
                        r.case.name,
                        f.check,
                        f.path.as_deref().unwrap_or("")
                    )
                })
        })
        .collect();
    out.sort();
    out
}

fn by_target(reports: Vec<CaseReport>) -> BTreeMap<String, Vec<CaseReport>> {
    let mut out: BTreeMap<String, Vec<CaseReport>> = BTreeMap::new();
    for r in reports {
        out.entry(r.case.target.name.clone()).or_default().push(r);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_emulation_passes_its_profile_and_shows_exactly_its_documented_deviations_under_openai()
 {
    let own = by_target(run_all(false).await);
    let strict = by_target(run_all(true).await);
    assert_eq!(own.len(), 6, "one target per profile");
    for (name, reports) in &own {
        // Under its own profile: every case passes or is skipped, nothing worse than a variant.
        let bad: Vec<String> = reports
            .iter()
            .filter(|r| !matches!(r.verdict.outcome, Outcome::Pass | Outcome::Skipped))
            .map(|r| {
                let f: Vec<String> = r
                    .verdict
                    .findings
                    .iter()
                    .map(|f| format!("{} {} {:?}: {}", f.check, f.severity, f.path, f.message))
                    .collect();
                format!(
                    "{} {:?} {:?} {f:#?}",
                    r.case.name, r.verdict.outcome, r.verdict.reason
                )
            })
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:#?}");
        let worse = findings(reports, |s| s > Severity::Variant);
        assert!(worse.is_empty(), "{name} under its own profile: {worse:#?}");

        // Under openai: the documented variants, at full severity, and nothing else new.
        let documented = findings(reports, |s| s == Severity::Variant);
        // `profile.*` checks exist only under a profile.
        let info: Vec<String> = findings(reports, |s| s == Severity::Info)
            .into_iter()
            .filter(|f| !f.contains(" profile."))
            .collect();
        let strict_reports = &strict[name];
        let mut expected: Vec<String> = documented.iter().chain(&info).cloned().collect();
        expected.sort();
        assert_eq!(
            findings(strict_reports, |_| true),
            expected,
            "{name}: judged under openai, the findings are the documented variants"
        );
        assert!(
            findings(strict_reports, |s| s == Severity::Variant).is_empty(),
            "{name}: nothing is documented away under openai"
        );
        if name == "openai" {
            assert!(documented.is_empty() && info.is_empty(), "{info:#?}");
        } else if name == "router-by-mp" {
            // Router by MP documents "OpenAI-identical" answers: nothing to document away.
            assert!(documented.is_empty(), "{name}: {documented:#?}");
        } else {
            assert!(
                !documented.is_empty(),
                "{name}: its emulation shows none of its documented deviations"
            );
        }
    }
}
