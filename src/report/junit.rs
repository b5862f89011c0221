//! JUnit XML (quick-junit) for CI dashboards: one `<testsuite>` per target, in the order of the
//! run, one `<testcase>` per case (`classname` is `target.suite`, the name is the case without
//! its target). A failed case is a `<failure>` whose type is the first failing check and whose
//! text lists every finding; an errored case is an `<error>`; skipped and inconclusive cases are
//! `<skipped>` with the reason (inconclusive: the server could not be judged, which the exit
//! code reports). Findings of passing cases (warnings, variants) go to `<system-out>`. No
//! timestamps, so two runs of a deterministic server differ only in the times.

use std::io;
use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::catalog::Severity;
use crate::check::{Finding, Outcome};
use crate::config::Secret;
use crate::run::{CaseReport, Event, Reporter};

pub struct JunitReporter {
    path: PathBuf,
    secrets: Vec<Secret>,
    fail_on: Severity,
    suites: Vec<TestSuite>,
}

impl JunitReporter {
    pub fn new(path: PathBuf, fail_on: Severity, secrets: &[Secret]) -> Self {
        JunitReporter {
            path,
            secrets: secrets.to_vec(),
            fail_on,
            suites: Vec::new(),
        }
    }

    fn suite(&mut self, target: &str) -> &mut TestSuite {
        let i = match self.suites.iter().position(|s| s.name.as_str() == target) {
            Some(i) => i,
            None => {
                self.suites.push(TestSuite::new(target));
                self.suites.len() - 1
            }
        };
        &mut self.suites[i]
    }

    fn case(&mut self, r: &CaseReport) {
        let findings = r
            .verdict
            .findings
            .iter()
            .map(line)
            .collect::<Vec<_>>()
            .join("\n");
        let status = match r.verdict.outcome {
            Outcome::Pass => TestCaseStatus::success(),
            Outcome::Fail => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                if let Some(f) = r
                    .verdict
                    .findings
                    .iter()
                    .find(|f| f.severity >= self.fail_on)
                {
                    s.set_type(f.check);
                    s.set_message(format!("{} {}: {}", f.severity, f.check, f.message));
                }
                s.set_description(format!(
                    "{findings}\ncase defined at {}",
                    r.case.case.location.display()
                ));
                s
            }
            Outcome::Error => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_type("transport");
                s.set_message(r.verdict.reason.clone().unwrap_or_default());
                if !findings.is_empty() {
                    s.set_description(findings.clone());
                }
                s
            }
            Outcome::Inconclusive | Outcome::Skipped => {
                let mut s = TestCaseStatus::skipped();
                let why = r.verdict.reason.clone().unwrap_or_default();
                s.set_message(if r.verdict.outcome == Outcome::Inconclusive {
                    format!("inconclusive: {why}")
                } else {
                    why
                });
                s
            }
        };
        let (name, _) = r.case.name.rsplit_once('[').unwrap_or((&r.case.name, ""));
        let name = match r.case.target.models.len() {
            0 | 1 => name.to_owned(),
            _ => format!("{name}@{}", r.case.model),
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(format!("{}.{}", r.case.target.name, r.case.suite));
        case.set_time(r.elapsed);
        if r.verdict.outcome == Outcome::Pass && !findings.is_empty() {
            case.set_system_out(findings);
        }
        let suite = self.suite(&r.case.target.name);
        suite.add_test_case(case);
    }

    /// The XML document.
    pub fn xml(&self) -> io::Result<String> {
        let mut report = Report::new("gatecheck");
        report.add_test_suites(self.suites.iter().cloned());
        report
            .to_string()
            .map_err(|e| io::Error::other(format!("failed to write JUnit XML: {e}")))
    }
}

fn line(f: &Finding) -> String {
    let mut s = format!("{} {}", f.severity, f.check);
    if let Some(p) = &f.path {
        s.push_str(&format!(" at {p}"));
    }
    s.push_str(&format!(": {}", f.message));
    if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
        s.push_str(&format!(" (expected {e}, got {a})"));
    }
    if let Some(sdk) = &f.sdk {
        s.push_str(&format!(" [sdk-breaking: {sdk}]"));
    }
    s
}

impl Reporter for JunitReporter {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started { targets, .. } => {
                for t in targets {
                    self.suite(t);
                }
                Ok(())
            }
            Event::CaseFinished(r) => {
                self.case(r);
                Ok(())
            }
            Event::Finished(_) => {
                let xml = self.xml()?;
                super::write_atomically(&self.path, &xml, &self.secrets).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("JUnit XML `{}`: {e}", self.path.display()),
                    )
                })
            }
        }
    }
}
