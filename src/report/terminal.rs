//! The human reporter: a line per case, and for each finding its severity, check id, message,
//! expected vs actual, and the suite line that asked for it. A summary closes the run.

use std::io::{self, Write};

use crate::catalog::Severity;
use crate::check::{Finding, Outcome};
use crate::run::{CaseReport, Event, Reporter, Summary};

/// Writes human output to `out`.
pub struct Terminal<W: Write> {
    out: W,
    color: bool,
    width: usize,
    findings: [usize; 4],
    sdk_breaking: usize,
    /// Also print `variant` findings (documented deviations; counted either way).
    verbose: bool,
    hidden: usize,
}

impl<W: Write> Terminal<W> {
    pub fn new(out: W, color: bool) -> Self {
        Terminal {
            out,
            color,
            width: 40,
            findings: [0; 4],
            sdk_breaking: 0,
            verbose: false,
            hidden: 0,
        }
    }

    /// Prints `variant` findings too (by default they are only counted: the profile documents
    /// them, so they are not news).
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn outcome_label(&self, outcome: Outcome) -> String {
        let (text, code) = match outcome {
            Outcome::Pass => ("PASS ", "32"),
            Outcome::Fail => ("FAIL ", "1;31"),
            Outcome::Error => ("ERROR", "1;35"),
            Outcome::Inconclusive => ("INCON", "33"),
            Outcome::Skipped => ("SKIP ", "2"),
        };
        self.paint(code, text)
    }

    fn severity_label(&self, s: Severity) -> String {
        let code = match s {
            Severity::Violation => "31",
            Severity::Warning => "33",
            Severity::Variant => "36",
            Severity::Info => "2",
        };
        self.paint(code, &format!("{:<9}", s.as_str()))
    }

    fn case(&mut self, r: &CaseReport) -> io::Result<()> {
        let label = self.outcome_label(r.verdict.outcome);
        let time = match r.verdict.outcome {
            Outcome::Skipped => String::new(),
            _ => super::millis(r.elapsed),
        };
        let ttft = r
            .verdict
            .stream
            .as_ref()
            .and_then(|s| s.metrics.first_token_ms)
            .map(|t| format!("  ttft {t:.1} ms"))
            .unwrap_or_default();
        writeln!(
            self.out,
            "{label} {:<width$} {time:>8}{ttft}",
            r.case.name,
            width = self.width
        )?;
        if let Some(reason) = &r.verdict.reason {
            writeln!(self.out, "      {reason}")?;
        }
        if r.verdict.outcome == Outcome::Fail {
            let loc = r.case.case.location.display();
            writeln!(
                self.out,
                "      {}",
                self.paint("2", &format!("case defined at {loc}"))
            )?;
        }
        for f in &r.verdict.findings {
            self.finding(f)?;
        }
        if let Some(s) = r.verdict.stream.as_ref().filter(|s| s.sdk.breaks()) {
            let what = self.paint("1", "with the official SDKs:");
            writeln!(
                self.out,
                "      {what} openai-python {}; openai-node {}",
                s.sdk.python, s.sdk.node
            )?;
        }
        Ok(())
    }

    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.findings[f.severity as usize] += 1;
        if f.severity == Severity::Variant && !self.verbose {
            self.hidden += 1;
            return Ok(());
        }
        if f.sdk.is_some() && f.severity == Severity::Violation {
            self.sdk_breaking += 1;
        }
        let sev = self.severity_label(f.severity);
        let path = match f.path.as_deref() {
            Some("") => " at the body".to_owned(),
            Some(p) => format!(" at {p}"),
            None => String::new(),
        };
        writeln!(self.out, "      {sev} {}{path}: {}", f.check, f.message)?;
        let pad = "                ";
        if let Some(e) = &f.expected {
            writeln!(self.out, "{pad}expected: {e}")?;
        }
        if let Some(a) = &f.actual {
            writeln!(self.out, "{pad}actual:   {a}")?;
        }
        if let Some(sdk) = &f.sdk {
            writeln!(self.out, "{pad}{} {sdk}", self.paint("1", "sdk-breaking:"))?;
        }
        if let Some(src) = &f.source {
            let (line, _) = src.file.line_col(src.span.start);
            let (_, col) = src.file.line_col(src.span.start);
            let text = src.line_text();
            let gutter = line.to_string().len();
            let caret_len = src
                .file
                .text
                .get(src.span.clone())
                .map_or(1, |s| s.lines().next().unwrap_or("").chars().count().max(1));
            writeln!(self.out, "{pad}--> {}", src.display())?;
            writeln!(self.out, "{pad}{:gutter$} |", "")?;
            writeln!(self.out, "{pad}{line} | {text}")?;
            writeln!(
                self.out,
                "{pad}{:gutter$} | {}{}",
                "",
                " ".repeat(col - 1),
                self.paint("31", &"^".repeat(caret_len))
            )?;
        }
        Ok(())
    }

    fn summary(&mut self, s: &Summary) -> io::Result<()> {
        let c = s.counts;
        writeln!(self.out)?;
        let status = if c.fail > 0 {
            self.paint("1;31", "FAILED")
        } else if c.error > 0 || c.inconclusive > 0 {
            self.paint("1;33", "NOT JUDGED")
        } else {
            self.paint("1;32", "ok")
        };
        writeln!(
            self.out,
            "summary: {status}. {} passed, {} failed, {} errored, {} inconclusive, {} skipped in {:.2} s",
            c.pass,
            c.fail,
            c.error,
            c.inconclusive,
            c.skipped,
            s.elapsed.as_secs_f64()
        )?;
        let [info, variant, warning, violation] = self.findings;
        writeln!(
            self.out,
            "findings: {violation} violations ({} sdk-breaking), {warning} warnings, {variant} variants, {info} info{}",
            self.sdk_breaking,
            if self.hidden > 0 {
                " (--verbose lists the variants)"
            } else {
                ""
            }
        )?;
        if s.interrupted {
            writeln!(
                self.out,
                "interrupted: the report holds the cases that finished"
            )?;
        }
        Ok(())
    }
}

impl<W: Write> Reporter for Terminal<W> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started { cases, targets } => {
                self.width = cases
                    .iter()
                    .map(|c| c.name.len())
                    .max()
                    .unwrap_or(20)
                    .min(72);
                writeln!(
                    self.out,
                    "running {} case{} against {}",
                    cases.len(),
                    if cases.len() == 1 { "" } else { "s" },
                    targets.join(", ")
                )?;
                writeln!(self.out)
            }
            Event::CaseFinished(r) => self.case(r),
            Event::Finished(s) => {
                self.summary(s)?;
                self.out.flush()
            }
        }
    }
}
