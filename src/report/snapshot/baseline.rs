//! Baselines for CI: `--baseline DIR` holds every case to the snapshot accepted in DIR and
//! fails the run only on what changed for the worse:
//!
//! - a new finding at or above the failing severity (`--fail-on`), at a place (check and JSON
//!   pointer, stream event numbers aside) where the baseline had none;
//! - a finding that got worse and now fails (a warning become a violation);
//! - a changed shape: another status, a field added or gone, a JSON type changed, or another
//!   sequence of stream events (role, content, tool calls, finish, usage, `[DONE]`; how many
//!   content chunks does not count).
//!
//! Known findings the baseline already holds do not fail; findings gone or milder are listed as
//! improvements. A case the baseline does not have is new: its failing findings count as new.
//! Cases that errored or were inconclusive cannot be compared (the exit code says so, as always).
//! Waivers ([`super::waivers`]) accept a regression until their date; an expired waiver fails
//! the run. Without a baseline, waivers apply to the failing findings of the run itself.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::catalog::Severity;
use crate::check::Outcome;
use crate::run::CaseReport;

use super::normalize::type_of;
use super::waivers::{Date, Waiver};

/// One line about a case, for the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Fails the run unless waived.
    pub regression: bool,
    pub text: String,
    /// Which waiver accepts it, and why.
    pub waived: Option<String>,
}

/// A thing that may fail the run: a check (or `shape`) at a place.
#[derive(Debug, Clone)]
struct Item {
    check: String,
    path: Option<String>,
    text: String,
}

/// Holds a run to its baseline (or its waivers) and decides whether it fails.
#[derive(Debug)]
pub struct Gate {
    /// Whether cases are compared with a baseline (else only waivers apply).
    baseline: bool,
    dir: String,
    fail_on: Severity,
    waivers: Vec<Waiver>,
    used: Vec<bool>,
    today: Date,
    pub compared: usize,
    pub new_cases: usize,
    pub regressions: usize,
    pub waived: usize,
    pub improved: usize,
}

impl Gate {
    /// `dir` names the baseline in messages; `None` applies the waivers to the run's own
    /// failing findings.
    pub fn new(dir: Option<&str>, fail_on: Severity, waivers: Vec<Waiver>, today: Date) -> Gate {
        Gate {
            baseline: dir.is_some(),
            dir: dir.unwrap_or_default().to_owned(),
            fail_on,
            used: vec![false; waivers.len()],
            waivers,
            today,
            compared: 0,
            new_cases: 0,
            regressions: 0,
            waived: 0,
            improved: 0,
        }
    }

    /// Waivers past their date.
    pub fn expired(&self) -> impl Iterator<Item = &Waiver> {
        self.waivers.iter().filter(|w| w.expired(self.today))
    }

    /// Whether the run fails: a regression no waiver accepts, or an expired waiver.
    pub fn failed(&self) -> bool {
        self.regressions > self.waived || self.expired().next().is_some()
    }

    /// Judges one case: `old` is the accepted snapshot's document (`None`: the baseline has
    /// none), `new` this run's.
    pub fn add(&mut self, r: &CaseReport, old: Option<&str>, new: &str) -> Vec<Line> {
        let outcome = r.verdict.outcome;
        if matches!(
            outcome,
            Outcome::Error | Outcome::Inconclusive | Outcome::Skipped
        ) {
            return Vec::new();
        }
        let Some(new) = parse(new) else {
            return Vec::new();
        };
        let (items, improvements) = if !self.baseline {
            let items = findings(&new)
                .into_iter()
                .filter(|(_, sev, _)| *sev >= self.fail_on)
                .map(|((check, path), sev, message)| Item {
                    text: describe(sev, &check, path.as_deref(), &message),
                    check,
                    path,
                })
                .collect();
            (items, Vec::new())
        } else {
            match old.and_then(parse) {
                Some(old) => {
                    self.compared += 1;
                    compare(&old, &new, self.fail_on)
                }
                None => {
                    self.new_cases += 1;
                    let items = findings(&new)
                        .into_iter()
                        .filter(|(_, sev, _)| *sev >= self.fail_on)
                        .map(|((check, path), sev, message)| Item {
                            text: format!(
                                "new case (not in the baseline): {}",
                                describe(sev, &check, path.as_deref(), &message)
                            ),
                            check,
                            path,
                        })
                        .collect();
                    (items, Vec::new())
                }
            }
        };
        let target = r.case.target.name.as_str();
        let case = r
            .case
            .name
            .rsplit_once('[')
            .map_or(r.case.name.as_str(), |(n, _)| n);
        let mut lines = Vec::new();
        for item in items {
            self.regressions += 1;
            let waiver = self.waivers.iter().position(|w| {
                !w.expired(self.today) && w.covers(target, case, &item.check, item.path.as_deref())
            });
            let waived = waiver.map(|i| {
                self.used[i] = true;
                self.waived += 1;
                let w = &self.waivers[i];
                format!(
                    "accepted by the waiver at {} until {}: {}",
                    w.at, w.expires, w.reason
                )
            });
            // Without a baseline the terminal already showed the finding; only a waiver is news.
            if self.baseline || waived.is_some() {
                lines.push(Line {
                    regression: true,
                    text: item.text,
                    waived,
                });
            }
        }
        for text in improvements {
            self.improved += 1;
            lines.push(Line {
                regression: false,
                text,
                waived: None,
            });
        }
        lines
    }

    /// The closing lines: what the comparison came to, expired and unused waivers.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.baseline {
            let unwaived = self.regressions - self.waived;
            out.push(format!(
                "baseline {}: {} cases compared, {} new; {} regression{}{}, {} improvement{}",
                self.dir,
                self.compared,
                self.new_cases,
                self.regressions,
                if self.regressions == 1 { "" } else { "s" },
                if self.waived > 0 {
                    format!(" ({} waived)", self.waived)
                } else {
                    String::new()
                },
                self.improved,
                if self.improved == 1 { "" } else { "s" },
            ));
            if unwaived > 0 {
                out.push(format!(
                    "the run fails on {unwaived} regression{} against the baseline (REGRESSION above); accept a deliberate change with `gatecheck snapshots accept {}` after `--update new`, or waive it",
                    if unwaived == 1 { "" } else { "s" },
                    self.dir
                ));
            }
        } else if self.waived > 0 {
            out.push(format!(
                "waivers: {} failing finding{} accepted",
                self.waived,
                if self.waived == 1 { "" } else { "s" }
            ));
        }
        for w in self.expired() {
            out.push(format!(
                "error: the waiver at {} ({} on {}) expired on {}: fix the deviation, or renew the waiver with a later `expires` (it said: {})",
                w.at, w.check, w.target, w.expires, w.reason
            ));
        }
        for (w, used) in self.waivers.iter().zip(&self.used) {
            if !used && !w.expired(self.today) {
                out.push(format!(
                    "note: the waiver at {} ({} on {}) matched nothing in this run",
                    w.at, w.check, w.target
                ));
            }
        }
        out
    }
}

fn parse(doc: &str) -> Option<Value> {
    crate::yaml::parse(doc).ok()??.to_json().ok()
}

fn describe(sev: Severity, check: &str, path: Option<&str>, message: &str) -> String {
    match path {
        Some(p) => format!("{sev} {check} at {p}: {message}"),
        None => format!("{sev} {check}: {message}"),
    }
}

/// A finding's place, with stream event numbers taken out (how many chunks came before a
/// finding changes from one answer to the next).
fn place(path: &str) -> String {
    static EVENT: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^/events/\d+").expect("a valid pattern"));
    EVENT.replace(path, "/events/*").into_owned()
}

type Key = (String, Option<String>);

/// The findings of a document: place, severity and message.
fn findings(doc: &Value) -> Vec<(Key, Severity, String)> {
    doc.get("findings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let check = f.get("check")?.as_str()?.to_owned();
            let severity = Severity::parse(f.get("severity")?.as_str()?)?;
            let path = f.get("path").and_then(Value::as_str).map(place);
            let message = f
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Some(((check, path), severity, message))
        })
        .collect()
}

/// What got worse (items) and what got better (lines) from `old` to `new`.
fn compare(old: &Value, new: &Value, fail_on: Severity) -> (Vec<Item>, Vec<String>) {
    let worst = |doc: &Value| {
        let mut m: BTreeMap<Key, (Severity, String)> = BTreeMap::new();
        for (k, sev, msg) in findings(doc) {
            let e = m.entry(k).or_insert((sev, msg.clone()));
            if sev > e.0 {
                *e = (sev, msg);
            }
        }
        m
    };
    let (before, after) = (worst(old), worst(new));
    let mut items = Vec::new();
    let mut better = Vec::new();
    for ((check, path), (sev, message)) in &after {
        if *sev < fail_on {
            continue;
        }
        let text = match before.get(&(check.clone(), path.clone())) {
            None => format!("new {}", describe(*sev, check, path.as_deref(), message)),
            Some((was, _)) if was < sev => format!(
                "{check}{} got worse: {was} -> {sev}: {message}",
                path.as_deref()
                    .map(|p| format!(" at {p}"))
                    .unwrap_or_default()
            ),
            Some(_) => continue,
        };
        items.push(Item {
            check: check.clone(),
            path: path.clone(),
            text,
        });
    }
    for ((check, path), (sev, _)) in &before {
        if *sev < fail_on {
            continue;
        }
        let at = path
            .as_deref()
            .map(|p| format!(" at {p}"))
            .unwrap_or_default();
        match after.get(&(check.clone(), path.clone())) {
            None => better.push(format!("{check}{at} no longer raised (was {sev})")),
            Some((now, _)) if now < sev => {
                better.push(format!("{check}{at} milder: {sev} -> {now}"));
            }
            Some(_) => {}
        }
    }
    for (path, text) in shape_changes(old, new) {
        items.push(Item {
            check: "shape".into(),
            path,
            text: format!("shape changed: {text}"),
        });
    }
    (items, better)
}

/// The differences in shape between two documents' answers: status, fields and types of the
/// body (or of the events), and the sequence of event kinds.
fn shape_changes(old: &Value, new: &Value) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let status = |d: &Value| d.pointer("/response/status").cloned();
    if status(old) != status(new) {
        let show = |v: Option<Value>| v.map_or("no response".to_owned(), |v| v.to_string());
        out.push((
            None,
            format!("status {} -> {}", show(status(old)), show(status(new))),
        ));
        // Another status is another answer: its fields say nothing more.
        return out;
    }
    let answer = |d: &Value| -> Option<(bool, Value)> {
        let r = d.get("response")?;
        if let Some(e) = r.get("events") {
            return Some((true, e.clone()));
        }
        r.get("body").map(|b| (false, b.clone()))
    };
    let (a, b) = (answer(old), answer(new));
    match (&a, &b) {
        (Some((true, _)), Some((false, _))) => {
            out.push((
                None,
                "the answer was a stream and is now a JSON body".into(),
            ));
            return out;
        }
        (Some((false, _)), Some((true, _))) => {
            out.push((
                None,
                "the answer was a JSON body and is now a stream".into(),
            ));
            return out;
        }
        _ => {}
    }
    let shape = |x: &Option<(bool, Value)>| {
        let mut s: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
        if let Some((streamed, v)) = x {
            if *streamed {
                // `[DONE]` is in the sequence of kinds below, not a field.
                for e in v.as_array().into_iter().flatten() {
                    if let Some(d) = e.get("data").filter(|d| *d != "[DONE]") {
                        fields(d, "/events/[]/data", &mut s);
                    }
                }
            } else {
                fields(v, "", &mut s);
            }
        }
        s
    };
    let (sa, sb) = (shape(&a), shape(&b));
    for (field, types) in &sb {
        match sa.get(field) {
            None => out.push((
                Some(field.clone()),
                format!("{field} added ({})", join(types)),
            )),
            Some(was) if was != types => out.push((
                Some(field.clone()),
                format!("{field}: {} -> {}", join(was), join(types)),
            )),
            Some(_) => {}
        }
    }
    for (field, types) in &sa {
        if !sb.contains_key(field) {
            out.push((
                Some(field.clone()),
                format!("{field} gone (was {})", join(types)),
            ));
        }
    }
    if let (Some((true, ea)), Some((true, eb))) = (&a, &b) {
        let (ka, kb) = (kinds(ea), kinds(eb));
        if ka != kb {
            out.push((
                Some("/events".into()),
                format!("events {} -> {}", ka.join(", "), kb.join(", ")),
            ));
        }
    }
    out
}

fn join(types: &BTreeSet<&'static str>) -> String {
    types.iter().copied().collect::<Vec<_>>().join(" | ")
}

/// Field pointer (array items as `[]`) -> the JSON types there, placeholders by their type.
fn fields(value: &Value, at: &str, out: &mut BTreeMap<String, BTreeSet<&'static str>>) {
    let key = if at.is_empty() { "/" } else { at };
    out.entry(key.to_owned())
        .or_default()
        .insert(type_of(value));
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                fields(v, &format!("{at}/{}", crate::check::ptr(k)), out);
            }
        }
        Value::Array(items) => {
            for v in items {
                fields(v, &format!("{at}/[]"), out);
            }
        }
        _ => {}
    }
}

/// The sequence of event kinds, consecutive repeats folded.
pub(crate) fn kinds(events: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events.as_array().into_iter().flatten() {
        let k = kind(e);
        if out.last() != Some(&k) {
            out.push(k);
        }
    }
    out
}

fn kind(e: &Value) -> String {
    let Some(data) = e.get("data") else {
        return if e.get("comments").is_some() {
            "comment".into()
        } else {
            "empty".into()
        };
    };
    if let Some(name) = e.get("event").and_then(Value::as_str) {
        return format!("event {name}");
    }
    if data == "[DONE]" {
        return "[DONE]".into();
    }
    if data.get("error").is_some() {
        return "error".into();
    }
    let mut parts: Vec<&str> = Vec::new();
    let choices = data.get("choices").and_then(Value::as_array);
    for c in choices.into_iter().flatten() {
        let delta = c.get("delta");
        let has = |k: &str| delta.and_then(|d| d.get(k)).is_some_and(|v| !v.is_null());
        if has("role") && !parts.contains(&"role") {
            parts.push("role");
        }
        let text = ["content", "refusal", "reasoning_content", "reasoning"]
            .iter()
            .any(|k| {
                delta
                    .and_then(|d| d.get(*k))
                    .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            });
        if text && !parts.contains(&"content") {
            parts.push("content");
        }
        if has("tool_calls") && !parts.contains(&"tool_calls") {
            parts.push("tool_calls");
        }
        if c.get("finish_reason").is_some_and(|v| !v.is_null()) && !parts.contains(&"finish") {
            parts.push("finish");
        }
    }
    if data.get("usage").is_some_and(|u| !u.is_null()) {
        parts.push("usage");
    }
    if parts.is_empty() {
        if choices.is_some_and(Vec::is_empty) {
            "no choices".into()
        } else if data.is_object() {
            "chunk".into()
        } else {
            "not JSON".into()
        }
    } else {
        parts.join("+")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(findings: Value, response: Value) -> Value {
        json!({"outcome": "fail", "findings": findings, "response": response})
    }

    fn f(check: &str, sev: &str, path: &str) -> Value {
        json!({"check": check, "severity": sev, "path": path, "message": "m"})
    }

    #[test]
    fn only_new_or_worse_failing_findings_and_shape_changes_are_regressions() {
        let body = json!({"status": 200, "body": {"id": "[string id x #1]", "usage": {"total_tokens": "[integer count]"}}});
        let old = doc(
            json!([
                f("resp.schema", "violation", "/a"),
                f("err.status_mapping", "warning", "/b"),
                f("resp.finish_reason", "violation", "/c")
            ]),
            body.clone(),
        );
        let new = doc(
            json!([
                f("resp.schema", "violation", "/a"),
                f("err.status_mapping", "violation", "/b"),
                f("json.refusal_field", "violation", "/d"),
                f("ext.reasoning_field", "info", "/e")
            ]),
            json!({"status": 200, "body": {"id": 7, "usage": {"total_tokens": "[integer count]", "cost": "[number cost]"}}}),
        );
        let (items, better) = compare(&old, &new, Severity::Violation);
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "err.status_mapping at /b got worse: warning -> violation: m",
                "new violation json.refusal_field at /d: m",
                "shape changed: /id: string -> integer",
                "shape changed: /usage/cost added (number)",
            ]
        );
        assert_eq!(
            better,
            ["resp.finish_reason at /c no longer raised (was violation)"]
        );
        // The same document raises nothing.
        let (items, better) = compare(&new, &new, Severity::Violation);
        assert!(items.is_empty() && better.is_empty());
    }

    #[test]
    fn stream_event_numbers_and_chunk_counts_do_not_count() {
        let events = |n: usize, at: &str| {
            let mut e = vec![
                json!({"data": {"choices": [{"delta": {"role": "assistant", "content": ""}, "finish_reason": null}]}}),
            ];
            e.push(json!({"data": {"choices": [{"delta": {"content": "[string text short]"}, "finish_reason": null}]}, "repeated": n.to_string()}));
            e.push(json!({"data": {"choices": [{"delta": {}, "finish_reason": "stop"}]}}));
            e.push(json!({"data": "[DONE]"}));
            doc(
                json!([f("chunk.schema", "violation", at)]),
                json!({"status": 200, "events": e}),
            )
        };
        let (items, _) = compare(
            &events(3, "/events/4/x"),
            &events(2, "/events/3/x"),
            Severity::Violation,
        );
        assert!(items.is_empty(), "{items:?}");
        let mut no_done = events(3, "/events/4/x");
        no_done["response"]["events"].as_array_mut().unwrap().pop();
        let (items, _) = compare(&events(3, "/events/4/x"), &no_done, Severity::Violation);
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(
            texts,
            ["shape changed: events role, content, finish, [DONE] -> role, content, finish"]
        );
    }

    #[test]
    fn a_changed_status_is_one_change() {
        let old = doc(json!([]), json!({"status": 200, "body": {"a": 1}}));
        let new = doc(json!([]), json!({"status": 500, "body": {"error": {}}}));
        let changes = shape_changes(&old, &new);
        assert_eq!(changes, [(None, "status 200 -> 500".to_owned())]);
    }
}
