//! Every recorded exchange in `fixtures/exchanges/` is judged and must raise exactly the findings
//! (and the outcome) it lists; every catalog check must be proven to fire by at least one.

use std::collections::BTreeSet;
use std::path::Path;

use gatecheck::catalog;
use gatecheck::check::{self, Judging};
use gatecheck::fixture;

fn fixtures() -> Vec<fixture::Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exchanges");
    let paths = fixture::discover(&dir);
    assert!(!paths.is_empty(), "no fixtures under {}", dir.display());
    paths
        .iter()
        .map(|p| fixture::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn every_fixture_raises_exactly_its_findings() {
    let mut failures = Vec::new();
    for f in fixtures() {
        let verdict = f.judge(Judging::default());
        let got: Vec<(String, catalog::Severity)> = verdict
            .findings
            .iter()
            .map(|x| (x.check.to_owned(), x.severity))
            .collect();
        if got != f.findings || verdict.outcome != f.outcome {
            let show = |v: &[(String, catalog::Severity)]| {
                v.iter()
                    .map(|(c, s)| format!("{c} {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let messages: Vec<String> = verdict
                .findings
                .iter()
                .map(|x| {
                    format!(
                        "    {} {} {}: {}",
                        x.check,
                        x.severity,
                        x.path.as_deref().unwrap_or(""),
                        x.message
                    )
                })
                .collect();
            failures.push(format!(
                "{}\n  expected: outcome {}; {}\n  actual:   outcome {}; {}\n{}",
                f.path,
                f.outcome,
                show(&f.findings),
                verdict.outcome,
                show(&got),
                messages.join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_check_is_proven_to_fire_by_a_fixture() {
    let fired: BTreeSet<String> = fixtures()
        .into_iter()
        .flat_map(|f| f.findings.into_iter().map(|(c, _)| c))
        .collect();
    let missing: Vec<&str> = catalog::CHECKS
        .iter()
        .chain(catalog::ASSERTIONS)
        .map(|c| c.id)
        .filter(|id| !fired.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "no fixture fires: {}",
        missing.join(", ")
    );
}

#[test]
fn conformant_baselines_raise_no_finding() {
    let baselines: Vec<_> = fixtures()
        .into_iter()
        .filter(|f| f.path.contains("/baseline/"))
        .collect();
    assert!(
        baselines.len() >= 5,
        "expected baseline fixtures under fixtures/exchanges/baseline/"
    );
    for f in baselines {
        assert!(
            f.findings.is_empty(),
            "{} is a baseline but lists findings",
            f.path
        );
        assert_eq!(f.outcome, check::Outcome::Pass, "{}", f.path);
    }
}

/// A server can send anything: every prefix of every recorded body, and the body with bytes
/// flipped, is judged without a panic (and never as a pass when the body is cut short of JSON).
#[test]
fn the_judge_never_panics_on_cut_or_corrupted_bodies() {
    for f in fixtures() {
        let body = f.exchange.body.clone();
        let step = (body.len() / 150).max(1);
        for cut in (0..body.len()).step_by(step) {
            let mut ex = f.exchange.clone();
            ex.body.truncate(cut);
            let v = check::check(&f.case, &ex, Judging::default());
            let is_json = serde_json::from_slice::<serde_json::Value>(&ex.body).is_ok();
            let success = (200..300).contains(&ex.status().unwrap_or(0));
            // A stream cut at an event boundary may be a complete, valid (if [DONE]-less)
            // stream: only non-stream bodies must fail when cut short of JSON.
            let stream = f.case.request.stream();
            if success && !stream && !is_json && !ex.body.iter().all(u8::is_ascii_whitespace) {
                assert_ne!(
                    v.outcome,
                    check::Outcome::Pass,
                    "{} cut at {cut} passed",
                    f.path
                );
            }
        }
        for (i, b) in [0x00u8, b'"', b'{', b']', 0xff].into_iter().enumerate() {
            let mut ex = f.exchange.clone();
            if !ex.body.is_empty() {
                let at = (i * 7919) % ex.body.len();
                ex.body[at] = b;
                let _ = check::check(&f.case, &ex, Judging::default());
            }
        }
    }
}

/// The matrix says `pass` only where a check looked: every check that fires on a recorded
/// exchange is among those `check::applicable` says looked at it (the fixtures make every check
/// fire at least once, so this holds the mapping to the truth for each of them).
#[test]
fn every_finding_is_among_the_checks_that_looked() {
    let mut stray = Vec::new();
    let mut seen = BTreeSet::new();
    for f in fixtures() {
        let verdict = f.judge(Judging::default());
        for x in &verdict.findings {
            seen.insert(x.check);
            if !verdict.checked.contains(&x.check) {
                stray.push(format!("{}: {} fired but is not listed", f.path, x.check));
            }
        }
    }
    assert!(stray.is_empty(), "{}", stray.join("\n"));
    assert!(seen.len() > 60, "only {} checks fired", seen.len());
}
