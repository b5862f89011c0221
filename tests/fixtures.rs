//! Every recorded exchange in `fixtures/exchanges/` is judged and must raise exactly the findings
//! (and the outcome) it lists, under its profile and, when it says, under the strict `openai`
//! judge; every catalog check must be proven to fire by at least one.

use std::collections::BTreeSet;
use std::path::Path;

use gatecheck::catalog::{self, Severity};
use gatecheck::check::{self, Judging};
use gatecheck::fixture::{self, Expected};
use gatecheck::profile;

fn fixtures() -> Vec<fixture::Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exchanges");
    let paths = fixture::discover(&dir);
    assert!(!paths.is_empty(), "no fixtures under {}", dir.display());
    paths
        .iter()
        .map(|p| fixture::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn show(v: &[(String, Severity)]) -> String {
    v.iter()
        .map(|(c, s)| format!("{c} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn every_fixture_raises_exactly_its_findings() {
    let mut failures = Vec::new();
    let mut both_ways = 0;
    for f in fixtures() {
        for (judging, expected) in f.judgements() {
            let verdict = f.judge(judging);
            let got: Vec<(String, Severity)> = verdict
                .findings
                .iter()
                .map(|x| (x.check.to_owned(), x.severity))
                .collect();
            if got == expected.findings && verdict.outcome == expected.outcome {
                both_ways += usize::from(judging.strict);
                continue;
            }
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
            let under = if judging.strict { "openai" } else { &f.profile };
            failures.push(format!(
                "{} (under {under})\n  expected: outcome {}; {}\n  actual:   outcome {}; {}\n{}",
                f.path,
                expected.outcome,
                show(&expected.findings),
                verdict.outcome,
                show(&got),
                messages.join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} judgement(s) disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        both_ways >= 10,
        "expected fixtures judged both ways (`=== findings under openai`)"
    );
}

#[test]
fn every_check_is_proven_to_fire_by_a_fixture() {
    let fired: BTreeSet<String> = fixtures()
        .into_iter()
        .flat_map(|f| {
            f.expected
                .findings
                .into_iter()
                .chain(f.under_openai.into_iter().flat_map(|e| e.findings))
                .map(|(c, _)| c)
        })
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

/// Conformant baselines pass and raise nothing under `openai`. A baseline recorded from a
/// gateway with documented deviations raises only `variant` and `info` under its own profile, and
/// its `=== findings under openai` lists the same deviations (the `profile.*` checks aside, which
/// only run under a profile) with no variant left.
#[test]
fn conformant_baselines_raise_nothing_but_their_documented_deviations() {
    let baselines: Vec<_> = fixtures()
        .into_iter()
        .filter(|f| f.path.contains("/baseline/"))
        .collect();
    assert!(
        baselines.len() >= 5,
        "expected baseline fixtures under fixtures/exchanges/baseline/"
    );
    let checks = |e: &Expected, keep: &dyn Fn(&str) -> bool| -> Vec<String> {
        e.findings
            .iter()
            .filter(|(c, _)| keep(c))
            .map(|(c, _)| c.clone())
            .collect()
    };
    for f in baselines {
        assert_eq!(f.expected.outcome, check::Outcome::Pass, "{}", f.path);
        if f.profile == fixture::DEFAULT_PROFILE {
            assert!(
                f.expected.findings.is_empty(),
                "{} is a baseline but lists findings",
                f.path
            );
            continue;
        }
        assert!(
            f.expected
                .findings
                .iter()
                .all(|(_, s)| matches!(s, Severity::Variant | Severity::Info)),
            "{}: a baseline under {} raises only variants and info: {}",
            f.path,
            f.profile,
            show(&f.expected.findings)
        );
        let strict = f.under_openai.as_ref().unwrap_or_else(|| {
            panic!(
                "{}: a baseline under {} says what openai makes of it",
                f.path, f.profile
            )
        });
        assert_eq!(
            checks(strict, &|_| true),
            checks(&f.expected, &|c| !c.starts_with("profile.")),
            "{}: under openai, the same deviations",
            f.path
        );
        assert!(
            strict.findings.iter().all(|(_, s)| *s != Severity::Variant),
            "{}: nothing is documented away under openai",
            f.path
        );
    }
}

/// Whether the judge holds a 2xx body of this exchange to a JSON shape: OpenAI's routes, and under
/// a profile the extra endpoints it documents a shape for (elsewhere nothing is promised, so a
/// cut body may pass: ML Router's GET /prices under the strict judge, apigo's /responses).
fn shape_is_judged(f: &fixture::Fixture, judging: Judging) -> bool {
    let path = f.case.request.path.split('?').next().unwrap_or("");
    if path.ends_with("/chat/completions") || path.ends_with("/models") || path.contains("/models/")
    {
        return true;
    }
    !judging.strict
        && profile::get(&f.profile).is_some_and(|p| {
            p.endpoints
                .iter()
                .any(|e| e.path == path && e.schema.is_some())
        })
}

/// A server can send anything: every prefix of every recorded body, and the body with bytes
/// flipped, is judged without a panic (and never as a pass when the body is cut short of JSON
/// the judge expects), under the fixture's profile and under the strict judge.
#[test]
fn the_judge_never_panics_on_cut_or_corrupted_bodies() {
    for f in fixtures() {
        let ways: Vec<Judging> = f.judgements().into_iter().map(|(j, _)| j).collect();
        let body = f.exchange.body.clone();
        let step = (body.len() / 150).max(1);
        for cut in (0..body.len()).step_by(step) {
            let mut ex = f.exchange.clone();
            ex.body.truncate(cut);
            for &judging in &ways {
                let v = check::check(&f.case, &ex, judging);
                let is_json = serde_json::from_slice::<serde_json::Value>(&ex.body).is_ok();
                let success = (200..300).contains(&ex.status().unwrap_or(0));
                // A stream cut at an event boundary may be a complete, valid (if [DONE]-less)
                // stream: only non-stream bodies must fail when cut short of JSON.
                let stream = f.case.request.stream();
                if success
                    && !stream
                    && !is_json
                    && !ex.body.iter().all(u8::is_ascii_whitespace)
                    && shape_is_judged(&f, judging)
                {
                    assert_ne!(
                        v.outcome,
                        check::Outcome::Pass,
                        "{} cut at {cut} passed (strict: {})",
                        f.path,
                        judging.strict
                    );
                }
            }
        }
        for (i, b) in [0x00u8, b'"', b'{', b']', 0xff].into_iter().enumerate() {
            let mut ex = f.exchange.clone();
            if !ex.body.is_empty() {
                let at = (i * 7919) % ex.body.len();
                ex.body[at] = b;
                for &judging in &ways {
                    let _ = check::check(&f.case, &ex, judging);
                }
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
