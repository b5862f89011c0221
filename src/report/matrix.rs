//! The checks x targets matrix: for each check (rows, catalog order, then the suite assertions)
//! and each target (columns, in the order of the run), the worst finding of that check over the
//! target's cases, or whether the check looked at all; below it, each target's totals, median
//! time to first token and reported cost.
//!
//! A cell is the worst severity the check found (`violation`, `warning`, `variant`, `info`; a
//! check left out because another reported the same defect at the same place, as a schema error
//! beside a specific finding, counts with that finding's: [`Verdict::restated`]); else `pass`
//! when it looked at an exchange of a case that passed or failed (the server was judged) and
//! found nothing; else `skipped` when only skipped cases would have exercised it; else `—`. Cases that errored or were inconclusive count for their findings only: the server
//! could not be judged, so they make no `pass`. Which checks looked at an exchange is
//! [`Verdict::checked`] (see `check::applicable`).
//!
//! The reporter accumulates as cases finish (it keeps no exchange) and, at the end, prints the
//! matrix to the terminal and writes it as Markdown: no timestamp, no absolute path, a
//! deterministic order, so two runs diff line by line. The file is written through the
//! redacting writer, to a temporary file renamed into place.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::catalog::{self, Severity};
use crate::check::{Outcome, Verdict};
use crate::config::Secret;
use crate::run::{Counts, Event, Reporter};

/// The widest the terminal matrix aims to be.
const TERMINAL_WIDTH: usize = 120;
/// Header lines a long target name may wrap over in the terminal before it is abbreviated.
const NAME_LINES: usize = 3;
/// Severities, worst first, as the totals list them.
const SEVERITIES: [Severity; 4] = [
    Severity::Violation,
    Severity::Warning,
    Severity::Variant,
    Severity::Info,
];

/// One cell: what a check came to for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// No case of the target exercised the check.
    NotExercised,
    /// Only skipped cases would have exercised it.
    Skipped,
    /// It looked at a judged exchange and found nothing.
    Pass,
    /// The worst finding it reported.
    Worst(Severity),
}

impl Cell {
    /// The whole word, as the Markdown and HTML matrices show it.
    pub fn word(self) -> &'static str {
        match self {
            Cell::NotExercised => "—",
            Cell::Skipped => "skipped",
            Cell::Pass => "pass",
            Cell::Worst(s) => s.as_str(),
        }
    }

    /// At most four characters, for the terminal.
    fn short(self) -> &'static str {
        match self {
            Cell::NotExercised => "—",
            Cell::Skipped => "skip",
            Cell::Pass => "pass",
            Cell::Worst(Severity::Violation) => "VIOL",
            Cell::Worst(Severity::Warning) => "warn",
            Cell::Worst(Severity::Variant) => "var",
            Cell::Worst(Severity::Info) => "info",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Cell::NotExercised | Cell::Skipped => "2",
            Cell::Pass => "32",
            Cell::Worst(Severity::Violation) => "1;31",
            Cell::Worst(Severity::Warning) => "33",
            Cell::Worst(Severity::Variant) => "36",
            Cell::Worst(Severity::Info) => "2",
        }
    }
}

/// One check across the targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub check: &'static str,
    pub cells: Vec<Cell>,
}

/// One target's totals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Column {
    pub name: String,
    pub counts: Counts,
    /// Findings by severity, indexed by `Severity as usize`.
    pub findings: [usize; 4],
    /// Median (nearest rank) time to first token over the target's streamed cases.
    pub ttft_p50_ms: Option<f64>,
    /// Sum of the `usage.cost` the target reported; `None` when it reported none.
    pub cost: Option<f64>,
}

/// The whole matrix.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matrix {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// What one check came to for one target so far.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    worst: Option<Severity>,
    looked: bool,
    skipped: bool,
}

impl Seen {
    fn cell(self) -> Cell {
        match self.worst {
            Some(s) => Cell::Worst(s),
            None if self.looked => Cell::Pass,
            None if self.skipped => Cell::Skipped,
            None => Cell::NotExercised,
        }
    }
}

/// One target's cases, accumulated.
#[derive(Debug, Default)]
struct Tally {
    counts: Counts,
    findings: [usize; 4],
    ttfts: Vec<f64>,
    cost: Option<f64>,
    checks: BTreeMap<&'static str, Seen>,
}

/// Builds a [`Matrix`] from verdicts as they come.
#[derive(Debug, Default)]
pub struct Builder {
    /// In order of first appearance.
    targets: Vec<(String, Tally)>,
}

impl Builder {
    /// Declares the targets up front, so that a target with no finished case still gets a
    /// column, in the run's order.
    pub fn with_targets(names: &[String]) -> Self {
        let mut b = Builder::default();
        for n in names {
            b.tally(n);
        }
        b
    }

    fn tally(&mut self, target: &str) -> &mut Tally {
        let i = match self.targets.iter().position(|(n, _)| n == target) {
            Some(i) => i,
            None => {
                self.targets.push((target.to_owned(), Tally::default()));
                self.targets.len() - 1
            }
        };
        &mut self.targets[i].1
    }

    /// Adds one case's verdict (and the cost its answers reported) to its target's column.
    pub fn add(&mut self, target: &str, verdict: &Verdict, cost: Option<f64>) {
        let t = self.tally(target);
        t.counts.add(verdict.outcome);
        for f in &verdict.findings {
            t.findings[f.severity as usize] += 1;
            let seen = t.checks.entry(f.check).or_default();
            seen.worst = seen.worst.max(Some(f.severity));
        }
        // A check left out for another's finding on the same defect did not pass: its row shows
        // that finding's severity (the totals count the finding once).
        for &(id, severity) in &verdict.restated {
            let seen = t.checks.entry(id).or_default();
            seen.worst = seen.worst.max(Some(severity));
        }
        for &id in &verdict.checked {
            let seen = t.checks.entry(id).or_default();
            match verdict.outcome {
                Outcome::Pass | Outcome::Fail => seen.looked = true,
                Outcome::Skipped => seen.skipped = true,
                Outcome::Error | Outcome::Inconclusive => {}
            }
        }
        if let Some(ms) = verdict
            .stream
            .as_ref()
            .and_then(|s| s.metrics.first_token_ms)
        {
            t.ttfts.push(ms);
        }
        if let Some(c) = cost {
            t.cost = Some(t.cost.unwrap_or(0.0) + c);
        }
    }

    pub fn finish(self) -> Matrix {
        // Rows: catalog order, then any id the catalog does not know, by name.
        let mut ids: Vec<&'static str> = Vec::new();
        for (_, t) in &self.targets {
            for (&id, seen) in &t.checks {
                if seen.cell() != Cell::NotExercised && !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        let rank = |id: &str| catalog::ids().position(|c| c == id).unwrap_or(usize::MAX);
        ids.sort_by_key(|id| (rank(id), *id));
        let rows = ids
            .into_iter()
            .map(|id| Row {
                check: id,
                cells: self
                    .targets
                    .iter()
                    .map(|(_, t)| t.checks.get(id).copied().unwrap_or_default().cell())
                    .collect(),
            })
            .collect();
        let columns = self
            .targets
            .into_iter()
            .map(|(name, t)| Column {
                name,
                counts: t.counts,
                findings: t.findings,
                ttft_p50_ms: median(t.ttfts),
                cost: t.cost,
            })
            .collect();
        Matrix { columns, rows }
    }
}

/// The nearest-rank median (the lower of the two middle values).
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[(values.len() - 1) / 2])
}

/// A cost with three significant digits, or two decimals for larger sums, without trailing
/// zeros: `0.000312`, `1.25`, `12.5`, `1234.5`.
fn cost(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(2, 12) as usize;
    let text = format!("{value:.decimals$}");
    let text = text.trim_end_matches('0');
    text.trim_end_matches('.').to_owned()
}

fn ttft(ms: Option<f64>) -> String {
    ms.map_or_else(|| "—".to_owned(), |ms| format!("{ms:.1} ms"))
}

/// The totals rows: a label and one value per column (the terminal, Markdown and HTML matrices
/// show the same).
pub(crate) fn totals(m: &Matrix) -> Vec<(String, Vec<String>)> {
    let per = |f: &dyn Fn(&Column) -> String| m.columns.iter().map(f).collect::<Vec<_>>();
    let mut rows: Vec<(String, Vec<String>)> = vec![
        ("cases passed".into(), per(&|c| c.counts.pass.to_string())),
        ("cases failed".into(), per(&|c| c.counts.fail.to_string())),
        ("cases errored".into(), per(&|c| c.counts.error.to_string())),
        (
            "cases inconclusive".into(),
            per(&|c| c.counts.inconclusive.to_string()),
        ),
        (
            "cases skipped".into(),
            per(&|c| c.counts.skipped.to_string()),
        ),
    ];
    for s in SEVERITIES {
        rows.push((
            format!("{s} findings"),
            per(&|c| c.findings[s as usize].to_string()),
        ));
    }
    rows.push((
        "time to first token, p50".into(),
        per(&|c| ttft(c.ttft_p50_ms)),
    ));
    rows.push((
        "total cost (usage.cost)".into(),
        per(&|c| c.cost.map_or_else(|| "—".to_owned(), cost)),
    ));
    rows
}

impl Matrix {
    /// The Markdown document: the matrix, then the totals.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let header = |first: &str| {
            let mut line = format!("| {first} |");
            let mut rule = String::from("| --- |");
            for c in &self.columns {
                let _ = write!(line, " {} |", c.name);
                rule.push_str(" --- |");
            }
            format!("{line}\n{rule}\n")
        };
        out.push_str("# Checks by target\n\n");
        out.push_str(
            "Each cell is the worst finding of the check over the target's cases (`violation`, \
             `warning`, `variant`, `info`); `pass`: it looked at a judged answer and found \
             nothing; `skipped`: only skipped cases would have exercised it; `—`: no case \
             exercised it.\n\n",
        );
        out.push_str(&header("check"));
        for row in &self.rows {
            let _ = write!(out, "| `{}` |", row.check);
            for cell in &row.cells {
                match cell {
                    Cell::Worst(Severity::Violation) => out.push_str(" **violation** |"),
                    c => {
                        let _ = write!(out, " {} |", c.word());
                    }
                }
            }
            out.push('\n');
        }
        out.push_str("\n## Totals\n\n");
        out.push_str(&header("total"));
        for (label, values) in totals(self) {
            let _ = write!(out, "| {label} |");
            for v in values {
                let _ = write!(out, " {v} |");
            }
            out.push('\n');
        }
        out
    }

    /// The terminal rendering: aligned columns within about 120 characters, cells abbreviated
    /// (`VIOL`, `warn`, `var`, `info`, `pass`, `skip`, `—`), long target names wrapped over up
    /// to three header lines, then abbreviated with `…`.
    pub fn terminal(&self, color: bool) -> String {
        let totals = totals(self);
        let label_width = self
            .rows
            .iter()
            .map(|r| r.check.len())
            .chain(totals.iter().map(|(l, _)| l.len()))
            .max()
            .unwrap_or(0);
        // What each column must hold besides its name: the cells and the totals.
        let need: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                totals
                    .iter()
                    .map(|(_, v)| width(&v[i]))
                    .max()
                    .unwrap_or(0)
                    .max(4)
            })
            .collect();
        let natural: usize = self
            .columns
            .iter()
            .zip(&need)
            .map(|(c, n)| 2 + width(&c.name).max(*n))
            .sum();
        let widths: Vec<usize> = if label_width + natural <= TERMINAL_WIDTH {
            self.columns
                .iter()
                .zip(&need)
                .map(|(c, n)| width(&c.name).max(*n))
                .collect()
        } else {
            let share = TERMINAL_WIDTH.saturating_sub(label_width) / self.columns.len().max(1);
            let cap = share.saturating_sub(2);
            self.columns
                .iter()
                .zip(&need)
                .map(|(c, n)| width(&c.name).min(cap).max(*n))
                .collect()
        };
        let names: Vec<Vec<String>> = self
            .columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| wrap(&c.name, *w))
            .collect();
        let header_lines = names.iter().map(Vec::len).max().unwrap_or(1);

        let mut out = String::new();
        let line = |out: &mut String, label: &str, cells: &[(String, Option<&str>)]| {
            let mut text = format!("{label:<label_width$}");
            for ((value, code), w) in cells.iter().zip(&widths) {
                let pad = w.saturating_sub(width(value));
                text.push_str("  ");
                match code {
                    Some(code) if color => {
                        let _ = write!(text, "\x1b[{code}m{value}\x1b[0m");
                    }
                    _ => text.push_str(value),
                }
                text.push_str(&" ".repeat(pad));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        out.push_str("checks x targets: the worst finding per check; pass: looked, found nothing; skip: only skipped cases; —: not exercised\n");
        for i in 0..header_lines {
            let label = if i + 1 == header_lines { "check" } else { "" };
            let cells: Vec<(String, Option<&str>)> = names
                .iter()
                .map(|lines| {
                    // Names sit on the last header lines, aligned at the bottom.
                    let skip = header_lines - lines.len();
                    let text = i.checked_sub(skip).map_or("", |j| lines[j].as_str());
                    (text.to_owned(), Some("1"))
                })
                .collect();
            line(&mut out, label, &cells);
        }
        for row in &self.rows {
            let cells: Vec<(String, Option<&str>)> = row
                .cells
                .iter()
                .map(|c| (c.short().to_owned(), Some(c.color())))
                .collect();
            line(&mut out, row.check, &cells);
        }
        out.push('\n');
        for (label, values) in totals {
            let cells: Vec<(String, Option<&str>)> =
                values.into_iter().map(|v| (v, None)).collect();
            line(&mut out, &label, &cells);
        }
        out
    }
}

/// Display width: characters (every character gatecheck puts in a matrix is one column wide).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// Wraps a target name to `max` columns: after `-` or `_` where possible, else anywhere; past
/// [`NAME_LINES`] lines the last one ends in `…`.
fn wrap(name: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    // Pieces that end at a separator: `router-`, `by-`, `mp`.
    let mut pieces: Vec<String> = Vec::new();
    let mut piece = String::new();
    for ch in name.chars() {
        piece.push(ch);
        if ch == '-' || ch == '_' {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    for piece in pieces {
        if width(&current) + width(&piece) <= max {
            current.push_str(&piece);
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        let mut chars: Vec<char> = piece.chars().collect();
        while chars.len() > max {
            lines.push(chars.drain(..max).collect());
        }
        current = chars.into_iter().collect();
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > NAME_LINES {
        lines.truncate(NAME_LINES);
        let last = &mut lines[NAME_LINES - 1];
        let mut kept: Vec<char> = last.chars().collect();
        kept.truncate(max.saturating_sub(1));
        *last = kept.into_iter().chain(['…']).collect();
    }
    lines
}

pub use super::write_atomically;

/// The matrix as a reporter: prints it (when `out` is given) and writes the Markdown (when
/// `path` is given) at the end of the run.
pub struct MatrixReporter<W: Write> {
    out: Option<W>,
    color: bool,
    path: Option<PathBuf>,
    secrets: Vec<Secret>,
    builder: Builder,
}

impl<W: Write> MatrixReporter<W> {
    /// `out` should already redact; the file is written through a redacting writer with
    /// `secrets`.
    pub fn new(out: Option<W>, color: bool, path: Option<PathBuf>, secrets: &[Secret]) -> Self {
        MatrixReporter {
            out,
            color,
            path,
            secrets: secrets.to_vec(),
            builder: Builder::default(),
        }
    }
}

impl<W: Write> Reporter for MatrixReporter<W> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started { targets, .. } => {
                self.builder = Builder::with_targets(targets);
                Ok(())
            }
            Event::CaseFinished(r) => {
                self.builder.add(&r.case.target.name, &r.verdict, r.cost);
                Ok(())
            }
            Event::Finished(_) => {
                let matrix = std::mem::take(&mut self.builder).finish();
                if let Some(out) = &mut self.out {
                    writeln!(out)?;
                    out.write_all(matrix.terminal(self.color).as_bytes())?;
                }
                if let Some(path) = &self.path {
                    write_atomically(path, &matrix.markdown(), &self.secrets).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!(
                                "matrix `{}`: {e}\n(hint: pass --matrix PATH to write it elsewhere)",
                                path.display()
                            ),
                        )
                    })?;
                    if let Some(out) = &mut self.out {
                        writeln!(out, "\nmatrix written to {}", path.display())?;
                    }
                }
                if let Some(out) = &mut self.out {
                    out.flush()?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Finding, StreamInfo};

    fn verdict(
        outcome: Outcome,
        findings: &[(&'static str, Severity)],
        checked: &[&'static str],
    ) -> Verdict {
        Verdict {
            outcome,
            reason: None,
            findings: findings
                .iter()
                .map(|(id, s)| Finding::new(id, *s, "m"))
                .collect(),
            stream: None,
            checked: checked.to_vec(),
            restated: Vec::new(),
        }
    }

    fn streamed(mut v: Verdict, ttft_ms: f64) -> Verdict {
        let metrics = crate::check::stream::StreamMetrics {
            first_token_ms: Some(ttft_ms),
            ..Default::default()
        };
        v.stream = Some(StreamInfo {
            metrics,
            sdk: Default::default(),
        });
        v
    }

    /// Three targets: `strict` conformant, `loose` with findings, and a long-named one that
    /// skips the streaming case and errs on another.
    fn synthetic() -> Matrix {
        use Outcome::*;
        use Severity::*;
        let plain = [
            "sse.content_type",
            "resp.schema",
            "err.no_error_with_2xx_nonstream",
            "assert.status",
        ];
        let stream = [
            "sse.content_type",
            "sse.done_sentinel",
            "chunk.first_delta_has_role",
            "assert.status",
        ];
        let error = ["err.envelope", "err.status_mapping", "assert.status"];
        let mut b = Builder::with_targets(&[
            "strict".into(),
            "loose".into(),
            "a-very-long-gateway-name".into(),
        ]);
        b.add("strict", &verdict(Pass, &[], &plain), None);
        b.add("strict", &streamed(verdict(Pass, &[], &stream), 12.0), None);
        b.add("strict", &verdict(Pass, &[], &error), None);
        b.add(
            "loose",
            &verdict(
                Fail,
                &[("resp.schema", Violation), ("ext.images_array", Info)],
                &plain,
            ),
            Some(0.000125),
        );
        b.add(
            "loose",
            &streamed(
                verdict(Pass, &[("sse.done_sentinel", Warning)], &stream),
                30.5,
            ),
            Some(0.0002),
        );
        b.add("loose", &streamed(verdict(Pass, &[], &stream), 10.0), None);
        b.add(
            "loose",
            &verdict(Pass, &[("err.envelope", Variant)], &error),
            None,
        );
        b.add(
            "a-very-long-gateway-name",
            &verdict(Pass, &[], &plain),
            None,
        );
        b.add(
            "a-very-long-gateway-name",
            &verdict(Skipped, &[], &stream),
            None,
        );
        b.add("a-very-long-gateway-name", &verdict(Error, &[], &[]), None);
        b.finish()
    }

    #[test]
    fn cells_hold_the_worst_finding_else_pass_skipped_or_nothing() {
        let m = synthetic();
        let row = |id: &str| {
            m.rows
                .iter()
                .find(|r| r.check == id)
                .unwrap_or_else(|| panic!("no row {id}"))
                .cells
                .clone()
        };
        use Cell::*;
        assert_eq!(row("resp.schema"), [Pass, Worst(Severity::Violation), Pass]);
        assert_eq!(
            row("sse.done_sentinel"),
            [Pass, Worst(Severity::Warning), Skipped]
        );
        assert_eq!(
            row("ext.images_array"),
            [NotExercised, Worst(Severity::Info), NotExercised]
        );
        assert_eq!(
            row("err.envelope"),
            [Pass, Worst(Severity::Variant), NotExercised]
        );
        // Catalog order, assertions last.
        let ids: Vec<&str> = m.rows.iter().map(|r| r.check).collect();
        assert_eq!(
            ids,
            [
                "sse.content_type",
                "sse.done_sentinel",
                "chunk.first_delta_has_role",
                "ext.images_array",
                "resp.schema",
                "err.envelope",
                "err.status_mapping",
                "err.no_error_with_2xx_nonstream",
                "assert.status"
            ]
        );
    }

    /// Issue 4, item 6: an assertion left out for a catalog finding on the same defect showed
    /// `pass` (so did a schema check beside a specific finding); it shows that finding's
    /// severity, and the finding is counted once.
    #[test]
    fn an_assertion_restated_by_a_catalog_finding_is_not_a_pass() {
        let mut v = verdict(
            Outcome::Fail,
            &[("json.object_mode_valid", Severity::Violation)],
            &["json.object_mode_valid", "assert.content_is_json"],
        );
        v.restated = vec![("assert.content_is_json", Severity::Violation)];
        let mut b = Builder::with_targets(&["t".into()]);
        b.add("t", &v, None);
        let m = b.finish();
        let cells: Vec<(&str, Cell)> = m.rows.iter().map(|r| (r.check, r.cells[0])).collect();
        assert_eq!(
            cells,
            [
                ("json.object_mode_valid", Cell::Worst(Severity::Violation)),
                ("assert.content_is_json", Cell::Worst(Severity::Violation)),
            ]
        );
        assert_eq!(m.columns[0].findings[Severity::Violation as usize], 1);
    }

    #[test]
    fn totals_count_cases_findings_ttft_and_cost() {
        let m = synthetic();
        let loose = &m.columns[1];
        assert_eq!((loose.counts.pass, loose.counts.fail), (3, 1));
        assert_eq!(loose.findings[Severity::Violation as usize], 1);
        assert_eq!(loose.ttft_p50_ms, Some(10.0), "lower median of 10 and 30.5");
        assert_eq!(loose.cost.map(cost).as_deref(), Some("0.000325"));
        let long = &m.columns[2];
        assert_eq!((long.counts.skipped, long.counts.error), (1, 1));
        assert_eq!((long.ttft_p50_ms, long.cost), (None, None));
    }

    #[test]
    fn the_markdown_is_stable() {
        insta::assert_snapshot!(synthetic().markdown());
    }

    #[test]
    fn the_terminal_matrix_is_aligned_and_fits_120_columns() {
        let text = synthetic().terminal(false);
        insta::assert_snapshot!(text);
        // Many long names: wrapped and abbreviated, still within the width.
        let names: Vec<String> = (0..8)
            .map(|i| format!("gateway-number-{i}-with-a-rather-long-name"))
            .collect();
        let mut b = Builder::with_targets(&names);
        for n in &names {
            b.add(
                n,
                &verdict(
                    Outcome::Pass,
                    &[],
                    &["chunk.empty_choices_only_when_allowed"],
                ),
                Some(1234.5),
            );
        }
        let text = b.finish().terminal(false);
        for line in text.lines().skip(1) {
            assert!(
                width(line) <= TERMINAL_WIDTH,
                "{} columns: {line}",
                width(line)
            );
        }
        assert!(text.contains('…'), "{text}");
    }

    #[test]
    fn names_wrap_at_separators_then_anywhere() {
        assert_eq!(wrap("router-by-mp", 12), ["router-by-mp"]);
        assert_eq!(wrap("router-by-mp", 8), ["router-", "by-mp"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("abcdefghijklmnop", 4), ["abcd", "efgh", "ijk…"]);
    }

    #[test]
    fn costs_keep_three_significant_digits() {
        assert_eq!(cost(0.000312345), "0.000312");
        assert_eq!(cost(1.25), "1.25");
        assert_eq!(cost(12.5), "12.5");
        assert_eq!(cost(1234.5), "1234.5");
        assert_eq!(cost(0.0), "0");
    }

    #[test]
    fn the_file_is_written_whole_redacted_and_in_a_new_directory() {
        let dir = std::env::temp_dir().join(format!("gatecheck-matrix-{}", std::process::id()));
        let path = dir.join("nested/matrix.md");
        let key = Secret::new("sk-matrix-secret-123");
        write_atomically(&path, "| sk-matrix-secret-123 |\n", &[key]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "| [redacted] |\n");
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            [std::ffi::OsString::from("matrix.md")],
            "no temporary file left"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
