//! The self-contained HTML report: the checks x targets matrix (the cells of the terminal and
//! Markdown matrix, from the same [`matrix::Builder`]) with its totals, a chart of time to first
//! token and gaps between events per target, and every case, one click from its cell or from the
//! list of all cases: the request as sent, the response or the stream's event timeline, the
//! findings with the catalog's explanation, what the official SDKs make of a stream, how the
//! other targets' answers to the same case differ in shape, and the diff against a baseline.
//!
//! One file that opens from `file://` on a machine without network: the CSS and JS are inlined
//! from `html/`, and a Content-Security-Policy forbids every fetch. The cases travel as JSON in a
//! `<script type="application/json">` element, escaped so that no body can close the script; the
//! page's JS renders them as text, never as markup. The file depends on the run's events alone
//! (no timestamp, no absolute path, plan order) and is written atomically through the redacting
//! writer. Its size is bounded: each body and each stream's timeline is cut at a cap, with a note
//! of what was left out, and the whole report keeps at most [`BUDGET`] bytes of them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::catalog;
use crate::check::Outcome;
use crate::config::Secret;
use crate::exchange::Exchange;
use crate::run::{CaseReport, Counts, Event, Reporter};

use super::matrix::{self, Builder, Cell, Matrix};
use super::shapes::{self, Shape};

/// The most bytes of one body (request, response, companion) the report shows.
pub const MAX_BODY_BYTES: usize = 64 << 10;
/// The most events of one stream the timeline shows.
pub const MAX_EVENTS: usize = 200;
/// The most bytes of one event's data the timeline shows (a streamed image can be megabytes).
pub const MAX_EVENT_BYTES: usize = 4 << 10;
/// The most bytes of bodies, events and diffs the whole report keeps: past it, bodies are
/// omitted with a note, so a 1,000-case run of big answers stays a file a browser opens.
pub const BUDGET: usize = 16 << 20;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// The diff of one case's normalized snapshot against the one accepted in a baseline folder,
/// as unified hunks; `None` when they are equal or none was accepted
/// ([`super::snapshot::baseline_diff`], unless a test puts another in).
pub type BaselineDiff = fn(&Path, &CaseReport) -> Option<String>;

/// What the report may still keep of bodies, events and diffs.
struct Budget(usize);

impl Budget {
    /// Up to `cap` bytes of `bytes`, as text (invalid UTF-8 replaced), cut at a character
    /// boundary and taken from the budget; with how many bytes were left out.
    fn take(&mut self, bytes: &[u8], cap: usize) -> (String, usize) {
        let mut n = bytes.len().min(cap).min(self.0);
        while n > 0 && n < bytes.len() && (bytes[n] & 0xC0) == 0x80 {
            n -= 1;
        }
        self.0 -= n;
        (
            String::from_utf8_lossy(&bytes[..n]).into_owned(),
            bytes.len() - n,
        )
    }

    fn spent(&self) -> bool {
        self.0 == 0
    }
}

/// Milliseconds with two decimals, as JSON.
fn ms(d: Duration) -> Value {
    json!((d.as_secs_f64() * 100_000.0).round() / 100.0)
}

/// A body as the page shows it: its text (cut at `MAX_BODY_BYTES`), whether it is JSON (the
/// page indents it), its size and what was cut.
fn body(bytes: &[u8], budget: &mut Budget) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if budget.spent() {
        return json!({"bytes": bytes.len(), "omitted": true});
    }
    let is_json = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
    let (text, cut) = budget.take(bytes, MAX_BODY_BYTES);
    json!({"text": text, "json": is_json, "bytes": bytes.len(), "cut": cut})
}

fn headers(list: &[(String, String)]) -> Value {
    Value::Array(list.iter().map(|(k, v)| json!([k, v])).collect())
}

/// The path and query of a URL: the host and port of a target (a fresh port per run of the
/// embedded gateway) say nothing the target's name does not.
fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => url.to_owned(),
    }
}

/// The events of a streamed body, decoded by the judge's own decoder from the reads as they
/// arrived: each with its arrival time and the gap from the one before; the first
/// [`MAX_EVENTS`] (and at most `MAX_BODY_BYTES` of data) shown, the rest counted.
fn timeline(ex: &Exchange, budget: &mut Budget) -> Value {
    let mut decoder = crate::sse::Decoder::new(crate::sse::Limits::default());
    let mut shown: Vec<Value> = Vec::new();
    let mut more = 0usize;
    let mut room = MAX_BODY_BYTES;
    let mut previous: Option<Duration> = None;
    let mut data_events = 0usize;
    let mut sink = |e: crate::sse::Event| {
        let gap = previous.map(|p| e.at.saturating_sub(p));
        previous = Some(e.at);
        if e.data.is_some() {
            data_events += 1;
        }
        if shown.len() >= MAX_EVENTS || room == 0 || budget.spent() {
            more += 1;
            return;
        }
        let mut o = Map::new();
        o.insert("n".into(), json!(e.index));
        o.insert("at".into(), ms(e.at));
        if let Some(g) = gap {
            o.insert("gap".into(), ms(g));
        }
        if let Some(d) = &e.data {
            let (text, cut) = budget.take(d.as_bytes(), MAX_EVENT_BYTES.min(room));
            room -= text.len().min(room);
            o.insert("data".into(), json!(text));
            if cut > 0 {
                o.insert("cut".into(), json!(cut));
            }
        }
        for (key, value) in [("event", &e.event), ("id", &e.id), ("retry", &e.retry)] {
            if let Some(v) = value {
                o.insert(key.into(), json!(v));
            }
        }
        if !e.comments.is_empty() {
            o.insert("comments".into(), json!(e.comments));
        }
        let unknown: Vec<String> = e
            .unknown
            .iter()
            .map(|f| format!("{}: {}", f.name, f.value))
            .collect();
        if !unknown.is_empty() {
            o.insert("fields".into(), json!(unknown));
        }
        let flags: Vec<&str> = [
            (!e.terminated, "unterminated"),
            (e.invalid_utf8, "invalid UTF-8"),
            (e.oversized_line, "line over the limit"),
            (e.data_without_space, "no space after data:"),
            (e.line_endings.crlf, "CRLF"),
            (e.line_endings.cr, "CR"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if !flags.is_empty() {
            o.insert("flags".into(), json!(flags));
        }
        shown.push(Value::Object(o));
    };
    let mut last = Duration::ZERO;
    for r in &ex.reads {
        // Scrubbing a secret out of the body may have moved the last read's end.
        let end = (r.offset + r.len).min(ex.body.len());
        let start = r.offset.min(end);
        decoder.feed(&ex.body[start..end], r.at, &mut sink);
        last = r.at;
    }
    decoder.finish(last, &mut sink);
    json!({"list": shown, "more": more, "data_events": data_events})
}

/// An exchange as the page shows it.
fn exchange(ex: &Exchange, streamed: bool, budget: &mut Budget) -> Value {
    let request = json!({
        "method": ex.request.method,
        "path": path_of(&ex.request.url),
        "headers": headers(&ex.request.headers),
        "body": body(&ex.request.body, budget),
    });
    let events = streamed.then(|| timeline(ex, budget));
    // A stream without a single data event (not SSE after all) shows its body instead.
    let show_body = events
        .as_ref()
        .is_none_or(|t| t["data_events"].as_u64() == Some(0));
    let response = ex.response.as_ref().map(|head| {
        json!({
            "status": head.status,
            "headers": headers(&head.headers),
            "body": if show_body { body(&ex.body, budget) } else { Value::Null },
            "received": ex.received,
            "kept": ex.body.len(),
        })
    });
    json!({
        "request": request,
        "response": response,
        "events": events,
        "error": ex.transport_error().map(|e| format!("{}: {}", e.kind.as_str(), e.message)),
        "timing": {
            "headers_ms": ex.timing.headers.map(ms),
            "first_byte_ms": ex.timing.first_byte.map(ms),
            "total_ms": ms(ex.timing.total),
        },
    })
}

/// `suites/x.yaml:3:5` as written, or the file name alone when the suite was given by an
/// absolute path (the report names no absolute path).
fn location(report: &CaseReport) -> String {
    let text = report.case.case.location.display();
    if Path::new(&text).is_absolute() {
        Path::new(&text)
            .file_name()
            .map_or(text.clone(), |n| n.to_string_lossy().into_owned())
    } else {
        text
    }
}

/// The JSON the page holds for one case.
fn case_object(
    r: &CaseReport,
    group: usize,
    baseline: Option<String>,
    budget: &mut Budget,
) -> Value {
    let v = &r.verdict;
    // As in the JSON Lines (the catalog's explanation is looked up by check id in the page).
    let findings: Vec<Value> = v.findings.iter().map(super::json::finding_object).collect();
    let params: Map<String, Value> = r.case.params.iter().cloned().collect();
    let streamed = r
        .exchange
        .as_ref()
        .is_some_and(|ex| crate::check::streamed_answer(&r.case, ex));
    let baseline = baseline.map(|d| {
        let (text, cut) = budget.take(d.as_bytes(), MAX_BODY_BYTES);
        json!({"text": text, "cut": cut})
    });
    json!({
        "name": r.case.name,
        "suite": &*r.case.suite,
        "case": r.case.case.name,
        "description": r.case.case.description,
        "location": location(r),
        "target": r.case.target.name,
        "model": r.case.model,
        "params": params,
        "outcome": v.outcome,
        "reason": v.reason,
        "elapsed_ms": ms(r.elapsed),
        "cost": r.cost,
        "findings": findings,
        "checked": v.checked,
        "restated": v.restated,
        // `sdk`: python, node, python_breaks, node_breaks.
        "stream": v.stream.as_ref().map(|s| json!({"metrics": s.metrics, "sdk": s.sdk})),
        "exchange": r.exchange.as_ref().map(|ex| exchange(ex, streamed, budget)),
        "companion": r.companion.as_ref().map(|ex| exchange(ex, false, budget)),
        "group": group,
        "baseline": baseline,
    })
}

/// The same case against several targets (or models): the name without its brackets.
struct Group {
    name: String,
    cases: Vec<usize>,
}

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that can sit inside a `<script>` element: `<`, `>` and `&` (so no `</script>` or
/// `<!--` can appear) and the line separators U+2028 and U+2029 written as escapes. They can only
/// occur inside JSON strings, where an escape means the same character.
fn script_json(value: &Value) -> String {
    let text = serde_json::to_string(value).expect("a JSON value serializes");
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Replaces every secret in the strings of `value` with `[redacted]`, before JSON escaping could
/// hide one from the redacting writer (a key holding `"` or `<` is escaped in the file).
fn redact(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => {
            for secret in secrets {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), "[redacted]");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| redact(v, secrets)),
        _ => {}
    }
}

/// The report as a reporter: collects each case as it finishes (bounded, see [`BUDGET`]) and
/// writes the file at the end of the run.
pub struct HtmlReporter {
    path: PathBuf,
    secrets: Vec<Secret>,
    /// Where to say that the file was written (the terminal, already redacting).
    note: Option<Box<dyn Write + Send>>,
    baseline: Option<PathBuf>,
    diff: BaselineDiff,
    targets: Vec<String>,
    /// Target name -> its profile, as the cases name them.
    profiles: BTreeMap<String, String>,
    builder: Builder,
    cases: Vec<Value>,
    /// Each case's answer shape (`None`: no JSON answer), for the differences across targets.
    shapes: Vec<Option<Shape>>,
    groups: Vec<Group>,
    group_of: HashMap<String, usize>,
    budget: Budget,
    counts: Counts,
    interrupted: bool,
}

impl HtmlReporter {
    pub fn new(path: PathBuf, secrets: &[Secret]) -> Self {
        HtmlReporter {
            path,
            secrets: secrets.to_vec(),
            note: None,
            baseline: None,
            diff: super::snapshot::baseline_diff,
            targets: Vec::new(),
            profiles: BTreeMap::new(),
            builder: Builder::default(),
            cases: Vec::new(),
            shapes: Vec::new(),
            groups: Vec::new(),
            group_of: HashMap::new(),
            budget: Budget(BUDGET),
            counts: Counts::default(),
            interrupted: false,
        }
    }

    /// Each case's diff against the snapshot accepted in `dir`; no section when `dir` is `None`.
    pub fn baseline(mut self, dir: Option<PathBuf>) -> Self {
        self.baseline = dir;
        self
    }

    /// Another way to diff against the baseline (tests).
    #[cfg(test)]
    fn diff_with(mut self, diff: BaselineDiff) -> Self {
        self.diff = diff;
        self
    }

    /// Says on `out` where the file was written.
    pub fn note_to(mut self, out: Option<Box<dyn Write + Send>>) -> Self {
        self.note = out;
        self
    }

    fn add(&mut self, r: &CaseReport) {
        self.builder.add(&r.case.target.name, &r.verdict, r.cost);
        self.counts.add(r.verdict.outcome);
        self.profiles
            .entry(r.case.target.name.clone())
            .or_insert_with(|| r.case.target.profile.clone());
        let name = r
            .case
            .name
            .rsplit_once('[')
            .map_or(r.case.name.as_str(), |(n, _)| n)
            .to_owned();
        let index = self.cases.len();
        let group = *self.group_of.entry(name.clone()).or_insert_with(|| {
            self.groups.push(Group {
                name,
                cases: Vec::new(),
            });
            self.groups.len() - 1
        });
        self.groups[group].cases.push(index);
        let diff = self.baseline.as_deref().and_then(|dir| (self.diff)(dir, r));
        self.cases
            .push(case_object(r, group, diff, &mut self.budget));
        self.shapes.push(
            r.exchange
                .as_ref()
                .filter(|e| e.transport_error().is_none())
                .and_then(|e| shapes::shape_of(e, r.verdict.stream.is_some())),
        );
    }

    /// Per group of the same case: its columns (the bracket of each case's name) and the fields
    /// where their answers' shapes differ.
    fn groups_json(&self) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| {
                let shapes: Vec<Option<&Shape>> =
                    g.cases.iter().map(|&i| self.shapes[i].as_ref()).collect();
                let answered = shapes.iter().flatten().count();
                let diffs: Vec<Value> = if answered >= 2 {
                    shapes::differences(&shapes)
                        .into_iter()
                        .map(|d| json!({"field": d.field, "types": d.per_target}))
                        .collect()
                } else {
                    Vec::new()
                };
                json!({
                    "name": g.name,
                    "cases": g.cases,
                    "answered": shapes.iter().map(Option::is_some).collect::<Vec<_>>(),
                    "diffs": diffs,
                })
            })
            .collect();
        Value::Array(groups)
    }

    /// The catalog entries of every check the page names.
    fn checks_json(&self, m: &Matrix) -> Value {
        let mut ids: BTreeSet<&str> = m.rows.iter().map(|r| r.check).collect();
        for c in &self.cases {
            for f in c["findings"].as_array().into_iter().flatten() {
                if let Some(id) = f["check"].as_str() {
                    ids.insert(id);
                }
            }
        }
        let map: Map<String, Value> = ids
            .into_iter()
            .filter_map(catalog::lookup)
            .map(|c| {
                (
                    c.id.to_owned(),
                    json!({
                        "summary": c.summary,
                        "severity": c.severity,
                        "breaks": c.breaks,
                        "provenance": c.provenance,
                    }),
                )
            })
            .collect();
        Value::Object(map)
    }

    /// Each case's `checked` as indices into the returned list of ids (the matrix rows first):
    /// a thousand cases of twenty check ids each are half a megabyte as names.
    fn number_checked(&mut self, m: &Matrix) -> Vec<String> {
        let mut ids: Vec<String> = m.rows.iter().map(|r| r.check.to_owned()).collect();
        let mut index: HashMap<String, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        for case in &mut self.cases {
            let Some(checked) = case.get_mut("checked").and_then(Value::as_array_mut) else {
                continue;
            };
            for id in checked.iter_mut() {
                let Some(name) = id.as_str() else { continue };
                let i = *index.entry(name.to_owned()).or_insert_with(|| {
                    ids.push(name.to_owned());
                    ids.len() - 1
                });
                *id = json!(i);
            }
        }
        ids
    }

    /// The whole document, once, at the end of the run (it takes the matrix builder).
    pub fn render(&mut self) -> String {
        let matrix = std::mem::take(&mut self.builder).finish();
        let ids = self.number_checked(&matrix);
        let mut data = json!({
            "targets": self.targets,
            "profiles": self.profiles,
            "rows": matrix.rows.iter().map(|r| r.check).collect::<Vec<_>>(),
            "ids": ids,
            "checks": self.checks_json(&matrix),
            "cases": self.cases,
            "groups": self.groups_json(),
            "baseline": self.baseline.is_some(),
            "interrupted": self.interrupted,
            "limits": {
                "body_bytes": MAX_BODY_BYTES,
                "events": MAX_EVENTS,
                "event_bytes": MAX_EVENT_BYTES,
                "budget_bytes": BUDGET,
                "budget_spent": self.budget.spent(),
            },
        });
        let secrets: Vec<String> = self
            .secrets
            .iter()
            .map(|s| s.expose().to_owned())
            .filter(|s| s.len() >= 4)
            .collect();
        if !secrets.is_empty() {
            redact(&mut data, &secrets);
        }
        let mut out = String::with_capacity(64 << 10);
        out.push_str(concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            // Nothing is fetched, ever: the report holds everything it shows.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ",
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; ",
            "base-uri 'none'; form-action 'none'\">\n",
            "<link rel=\"icon\" href=\"data:,\">\n",
            "<title>gatecheck report</title>\n<style>\n",
        ));
        out.push_str(CSS);
        out.push_str("</style>\n</head>\n<body>\n");
        self.header(&mut out);
        self.matrix_section(&mut out, &matrix);
        out.push_str(concat!(
            "<section id=\"latency\"><h2>Streaming latency by target</h2>",
            "<p class=\"lead\">Each dot is one streamed case; click it to open the case.</p>",
            "<div id=\"chart\"></div></section>\n",
            "<section id=\"cases\"><h2>All cases</h2><div id=\"case-filters\"></div>",
            "<div id=\"case-list\"></div></section>\n",
            "<noscript><p class=\"note\">The matrix and totals above are plain HTML; the cases, ",
            "the chart and the case views need JavaScript.</p></noscript>\n",
            "<script type=\"application/json\" id=\"data\">",
        ));
        out.push_str(&script_json(&data));
        out.push_str("</script>\n<script>\n");
        out.push_str(JS);
        out.push_str("</script>\n</body>\n</html>\n");
        out
    }

    fn header(&self, out: &mut String) {
        let c = &self.counts;
        let targets = self.targets.len();
        let _ = write!(
            out,
            "<header class=\"top\"><h1>gatecheck report</h1><p class=\"summary\">{} case{} against {} target{}: ",
            c.total(),
            if c.total() == 1 { "" } else { "s" },
            targets,
            if targets == 1 { "" } else { "s" },
        );
        let parts: Vec<String> = [
            (c.pass, Outcome::Pass),
            (c.fail, Outcome::Fail),
            (c.error, Outcome::Error),
            (c.inconclusive, Outcome::Inconclusive),
            (c.skipped, Outcome::Skipped),
        ]
        .into_iter()
        .map(|(n, o)| {
            let word = match o {
                Outcome::Pass => "passed",
                Outcome::Fail => "failed",
                Outcome::Error => "errored",
                Outcome::Inconclusive => "inconclusive",
                Outcome::Skipped => "skipped",
            };
            let zero = if n == 0 { " zero" } else { "" };
            format!("<span class=\"o-{}{zero}\">{n} {word}</span>", o.as_str())
        })
        .collect();
        out.push_str(&parts.join(", "));
        out.push_str("</p>");
        if self.interrupted {
            out.push_str(
                "<p class=\"banner\">The run was interrupted: only the cases that finished are here.</p>",
            );
        }
        if self.budget.spent() {
            let _ = write!(
                out,
                "<p class=\"banner\">The report keeps at most {} MiB of bodies and events: later cases show their findings but omit their bodies.</p>",
                BUDGET >> 20
            );
        }
        out.push_str("</header>\n");
    }

    fn matrix_section(&self, out: &mut String, m: &Matrix) {
        out.push_str(concat!(
            "<section id=\"matrix-section\"><h2>Checks by target</h2>",
            "<p class=\"lead\">Each cell is the worst finding of the check over the target's cases; ",
            "<em>pass</em>: it looked at a judged answer and found nothing; <em>skipped</em>: only ",
            "skipped cases would have exercised it; —: no case exercised it. Click a cell for its cases.</p>\n",
            "<ul class=\"legend\">",
            "<li><span class=\"swatch c-violation\">violation</span> breaks the OpenAI contract</li>",
            "<li><span class=\"swatch c-warning\">warning</span> breaks common clients</li>",
            "<li><span class=\"swatch c-variant\">variant</span> documented by the target's profile</li>",
            "<li><span class=\"swatch c-info\">info</span> worth knowing</li>",
            "<li><span class=\"swatch c-pass\">pass</span> looked, found nothing</li>",
            "<li><span class=\"swatch c-skipped\">skipped</span> only skipped cases</li>",
            "<li><span class=\"swatch c-none\">—</span> not exercised</li></ul>\n",
            "<div class=\"table-wrap matrix-wrap\"><table id=\"matrix\" class=\"matrix\"><thead><tr><th class=\"corner\" scope=\"col\">check</th>",
        ));
        for c in &m.columns {
            let profile = self.profiles.get(&c.name).filter(|p| **p != c.name);
            let _ = write!(out, "<th scope=\"col\" class=\"target\">{}", esc(&c.name));
            if let Some(p) = profile {
                let _ = write!(out, "<span class=\"profile\">@{}</span>", esc(p));
            }
            out.push_str("</th>");
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (ri, row) in m.rows.iter().enumerate() {
            let summary = catalog::lookup(row.check).map_or("", |c| c.summary);
            let _ = write!(
                out,
                "<tr><th scope=\"row\" title=\"{}\"><code>{}</code></th>",
                esc(summary),
                esc(row.check)
            );
            for (ci, cell) in row.cells.iter().enumerate() {
                let class = match cell {
                    Cell::NotExercised => "none",
                    Cell::Skipped => "skipped",
                    Cell::Pass => "pass",
                    Cell::Worst(s) => s.as_str(),
                };
                if *cell == Cell::NotExercised {
                    let _ = write!(out, "<td class=\"cell c-{class}\">—</td>");
                } else {
                    let target = m.columns.get(ci).map_or("", |c| c.name.as_str());
                    let _ = write!(
                        out,
                        "<td class=\"cell c-{class}\"><button type=\"button\" data-row=\"{ri}\" data-col=\"{ci}\" title=\"{} on {}: {}\">{}</button></td>",
                        esc(row.check),
                        esc(target),
                        cell.word(),
                        cell.word()
                    );
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n<tbody class=\"totals\">\n");
        for (label, values) in matrix::totals(m) {
            let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(&label));
            for v in values {
                let _ = write!(out, "<td>{}</td>", esc(&v));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div></section>\n");
    }
}

impl Reporter for HtmlReporter {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started { targets, .. } => {
                self.targets = targets.clone();
                self.builder = Builder::with_targets(targets);
            }
            Event::CaseFinished(r) => self.add(r),
            Event::Finished(summary) => {
                self.interrupted = summary.interrupted;
                let text = self.render();
                matrix::write_atomically(&self.path, &text, &self.secrets).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "HTML report `{}`: {e}\n(hint: pass --html PATH to write it elsewhere)",
                            self.path.display()
                        ),
                    )
                })?;
                if let Some(out) = &mut self.note {
                    writeln!(out, "report written to {}", self.path.display())?;
                    out.flush()?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{OK_BODY, chat_case, exchange, judge};

    fn report(body: &str) -> CaseReport {
        let case = chat_case("{model: m, messages: [{role: user, content: hi}]}", "");
        let ex = exchange(&case, 200, "application/json", body);
        let verdict = judge(&case, 200, "application/json", body);
        CaseReport {
            case,
            verdict,
            exchange: Some(ex),
            companion: None,
            elapsed: Duration::from_millis(3),
            cost: None,
        }
    }

    fn render(reports: &[CaseReport]) -> String {
        let mut r = HtmlReporter::new(PathBuf::from("unused.html"), &[]);
        let cases: Vec<_> = reports.iter().map(|r| r.case.clone()).collect();
        r.event(&Event::Started {
            cases: &cases,
            targets: vec!["t".into()],
        })
        .unwrap();
        for c in reports {
            r.event(&Event::CaseFinished(c)).unwrap();
        }
        r.interrupted = false;
        r.render()
    }

    /// The embedded data, as the page's `JSON.parse` would read it.
    fn data(html: &str) -> Value {
        let start = html
            .find("<script type=\"application/json\" id=\"data\">")
            .unwrap();
        let rest = &html[start..];
        let open = rest.find('>').unwrap() + 1;
        let close = rest.find("</script>").unwrap();
        serde_json::from_str(&rest[open..close]).unwrap()
    }

    #[test]
    fn a_body_that_closes_the_script_stays_inside_the_data() {
        let hostile = "</script><script>alert(1)</script><!-- \u{2028}\u{2029} & >";
        let body = OK_BODY.replace("\"hi\"", &serde_json::to_string(hostile).unwrap());
        let html = render(&[report(&body)]);
        // Only our own two scripts close: the data's and the page's.
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
        assert!(!html.contains("<!-- "));
        assert!(!html.contains('\u{2028}') && !html.contains('\u{2029}'));
        let d = data(&html);
        let shown = d["cases"][0]["exchange"]["response"]["body"]["text"]
            .as_str()
            .unwrap();
        assert!(shown.contains(hostile), "{shown}");
        assert_eq!(d["cases"][0]["exchange"]["response"]["body"]["json"], true);
    }

    fn streamed(sse: &str) -> CaseReport {
        let case = chat_case(
            "{model: m, stream: true, messages: [{role: user, content: hi}]}",
            "",
        );
        let ex = exchange(&case, 200, "text/event-stream", sse);
        let verdict = judge(&case, 200, "text/event-stream", sse);
        CaseReport {
            case,
            verdict,
            exchange: Some(ex),
            companion: None,
            elapsed: Duration::from_millis(5),
            cost: None,
        }
    }

    const CHUNK: &str = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#;

    #[test]
    fn the_same_events_give_the_same_bytes() {
        let reports = [
            report(OK_BODY),
            report(r#"{"choices": []}"#),
            streamed(&format!("data: {CHUNK}\n\n")),
        ];
        let a = render(&reports);
        let b = render(&reports);
        assert_eq!(a, b);
        assert!(!a.contains(env!("CARGO_MANIFEST_DIR")), "no absolute path");
        // The matrix's cells, from the same builder as the Markdown matrix: the broken body's
        // schema violation, the stream's missing [DONE].
        assert!(a.contains("<td class=\"cell c-violation\"><button type=\"button\" data-row="));
        assert!(
            a.contains("title=\"sse.done_sentinel on t: warning\""),
            "{a}"
        );
        let d = data(&a);
        let events = &d["cases"][2]["exchange"]["events"];
        assert_eq!(events["list"][0]["data"], CHUNK);
        assert_eq!(d["cases"][2]["exchange"]["response"]["body"], Value::Null);
        assert!(d["cases"][2]["stream"]["sdk"]["python"].is_string());
    }

    /// A key that JSON would escape (`"`, `<`) is redacted before escaping, where the redacting
    /// writer could no longer see it.
    #[test]
    fn a_key_is_redacted_before_json_escapes_it() {
        let key = "sk-\"<odd>&key";
        let mut c = report(OK_BODY);
        let head = c.exchange.as_mut().unwrap().response.as_mut().unwrap();
        head.headers
            .push(("x-echo".into(), format!("Bearer {key}")));
        let mut r = HtmlReporter::new(PathBuf::from("unused.html"), &[Secret::new(key)]);
        r.event(&Event::CaseFinished(&c)).unwrap();
        let html = r.render();
        assert!(!html.contains("odd"), "{html}");
        let d = data(&html);
        let headers = &d["cases"][0]["exchange"]["response"]["headers"];
        assert_eq!(headers[1], json!(["x-echo", "Bearer [redacted]"]));
    }

    #[test]
    fn markup_in_names_is_escaped_in_the_matrix() {
        assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn bodies_and_streams_are_cut_with_a_note() {
        let big = format!("{{\"text\": \"{}\"}}", "é".repeat(MAX_BODY_BYTES));
        let mut budget = Budget(BUDGET);
        let b = body(big.as_bytes(), &mut budget);
        let text = b["text"].as_str().unwrap();
        assert!(text.len() <= MAX_BODY_BYTES && text.len() > MAX_BODY_BYTES - 4);
        assert_eq!(b["cut"].as_u64().unwrap() as usize, big.len() - text.len());
        assert_eq!(b["json"], true);

        let mut sse = String::new();
        for i in 0..(MAX_EVENTS + 50) {
            sse.push_str(&format!("data: {{\"i\":{i}}}\n\n"));
        }
        let case = chat_case(
            "{model: m, stream: true, messages: [{role: user, content: hi}]}",
            "",
        );
        let mut ex = exchange(&case, 200, "text/event-stream", &sse);
        // Two reads, the second 5 ms later.
        let half = ex.body.len() / 2;
        ex.reads = vec![
            crate::exchange::Read {
                offset: 0,
                len: half,
                at: Duration::from_millis(1),
            },
            crate::exchange::Read {
                offset: half,
                len: ex.body.len() - half,
                at: Duration::from_millis(6),
            },
        ];
        let t = timeline(&ex, &mut budget);
        assert_eq!(t["list"].as_array().unwrap().len(), MAX_EVENTS);
        assert_eq!(t["more"], 50);
        assert_eq!(t["list"][0]["at"], 1.0);
        assert_eq!(t["list"][0]["data"], "{\"i\":0}");
        let gaps: Vec<f64> = t["list"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["gap"].as_f64())
            .collect();
        assert!(
            gaps.contains(&5.0),
            "one event completes with the second read"
        );

        let mut small = Budget(10);
        let b = body(OK_BODY.as_bytes(), &mut small);
        assert_eq!(b["text"].as_str().unwrap().len(), 10);
        assert!(small.spent());
        assert_eq!(body(OK_BODY.as_bytes(), &mut small)["omitted"], true);
    }

    #[test]
    fn the_baseline_diff_is_asked_per_case_when_a_folder_is_given() {
        fn diff(_: &Path, r: &CaseReport) -> Option<String> {
            Some(format!("-old\n+{}\n", r.case.name))
        }
        let mut r = HtmlReporter::new(PathBuf::from("unused.html"), &[])
            .baseline(Some(PathBuf::from("reports/baselines")))
            .diff_with(diff);
        let c = report(OK_BODY);
        r.event(&Event::CaseFinished(&c)).unwrap();
        let d = data(&r.render());
        assert_eq!(d["baseline"], true);
        assert_eq!(
            d["cases"][0]["baseline"]["text"],
            format!("-old\n+{}\n", c.case.name)
        );
    }
}
