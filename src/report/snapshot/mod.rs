//! Snapshots: per target and case, the exchange as gatecheck judged it, normalized so that two
//! runs against the same server give the same file and a changed answer gives a readable diff.
//!
//! Each is written to `DIR/<target>/<suite>__<case>.snap` (`@model` added when the target is
//! tested with several models) in insta's format, a YAML header between `---` lines and the
//! document below, so `cargo insta review --workspace-root DIR` and plain `git diff` work:
//!
//! ```text
//! ---
//! source: "suites/core.yaml"
//! description: "A plain chat completion."
//! expression: "core::plain_text[openai]"
//! ---
//! outcome: pass
//! request:
//!   method: POST
//!   path: /chat/completions
//!   headers:
//!     authorization: Bearer [redacted]
//!     content-type: application/json
//!   body:
//!     messages:
//!       - content: Say hello.
//!         role: user
//!     model: gpt-4o-mini
//! response:
//!   status: 200
//!   headers:
//!     content-type: application/json
//!   body:
//!     choices:
//!       - finish_reason: stop
//! ...
//! timing:
//!   total: under 1 s
//! findings: []
//! ```
//!
//! A streamed answer shows its events instead of a body, one JSON line each, consecutive equal
//! events folded into one with `"repeated"` (a count class: exact up to 3, then `4-9`,
//! `10-99`...). What is replaced and how is in [`normalize`]. The target's name is only in the
//! header and the folder, so the same case's snapshots of two targets diff to their real
//! differences.
//!
//! Update modes work like insta's: `no` writes nothing, `new` writes a changed or new snapshot
//! beside the old one as `.snap.new`, `always` overwrites the `.snap`; `auto` (the default) is
//! `no` on CI (the `CI` variable is set) and `new` elsewhere. An unchanged snapshot removes a
//! stale `.snap.new`.

pub mod baseline;
pub mod emit;
pub mod normalize;
pub mod waivers;

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::config::Secret;
use crate::exchange::Exchange;
use crate::plan::PlannedCase;
use crate::run::{CaseReport, Event, Reporter};

use normalize::Placeholders;

/// Response headers a snapshot keeps: those a client's behaviour depends on. Values that change
/// on every call are replaced (request ids) or reduced to their presence (rate-limit counters).
const KEPT_HEADERS: &[&str] = &[
    "cache-control",
    "content-encoding",
    "content-type",
    "location",
    "retry-after",
    "retry-after-ms",
    "www-authenticate",
    "x-accel-buffering",
];
const ID_HEADERS: &[&str] = &["x-request-id", "request-id", "openai-request-id"];

/// Raw (non-JSON) bodies and event data are kept up to this many characters.
const RAW_TEXT: usize = 2048;

/// How snapshots are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// `no` on CI, `new` elsewhere.
    Auto,
    No,
    New,
    Always,
}

impl Update {
    pub const NAMES: [&'static str; 4] = ["auto", "no", "new", "always"];

    pub fn parse(s: &str) -> Option<Update> {
        match s {
            "auto" => Some(Update::Auto),
            "no" => Some(Update::No),
            "new" => Some(Update::New),
            "always" => Some(Update::Always),
            _ => None,
        }
    }

    /// `Auto` resolved against the environment (`CI` set and not `false` or `0`).
    pub fn resolve(self, env: &BTreeMap<String, String>) -> Update {
        match self {
            Update::Auto => {
                let ci = env
                    .get("CI")
                    .is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
                if ci { Update::No } else { Update::New }
            }
            other => other,
        }
    }
}

/// What becomes of the snapshots in the folder that no case of a complete run wrote (a case
/// renamed or removed): only the folders of the targets run, only files of the suites run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Unreferenced {
    /// Left alone, unmentioned.
    Ignore,
    /// Left alone, listed in the summary.
    Warn,
    /// Deleted (with their pending `.snap.new`).
    Delete,
    /// Listed, and the run fails.
    Reject,
}

/// One case's snapshot: where it goes (relative to the snapshot folder) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub path: PathBuf,
    /// The insta header's lines, without the `---` around them.
    pub header: String,
    /// The document below the header, ending in a newline.
    pub body: String,
}

impl Snapshot {
    /// The whole file.
    pub fn file(&self) -> String {
        format!("---\n{}---\n{}", self.header, self.body)
    }
}

/// The snapshot of one finished case.
pub fn of(r: &CaseReport) -> Snapshot {
    let case = &r.case;
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut header = format!("source: {}\n", quote(&case.case.location.file.path));
    if !case.case.description.trim().is_empty() {
        header.push_str(&format!(
            "description: {}\n",
            quote(case.case.description.trim())
        ));
    }
    header.push_str(&format!("expression: {}\n", quote(&case.name)));
    Snapshot {
        path: relative_path(case),
        header,
        body: emit::document(&document(r)),
    }
}

/// `<target>/<suite>__<case>[@model].snap`, with anything a file system might mind replaced.
pub fn relative_path(case: &PlannedCase) -> PathBuf {
    let (base, bracket) = match case.name.rsplit_once('[') {
        Some((base, rest)) => (base, rest.trim_end_matches(']')),
        None => (case.name.as_str(), ""),
    };
    let mut name = base.replacen("::", "__", 1);
    if let Some((_, model)) = bracket.split_once(',') {
        name.push('@');
        name.push_str(model);
    }
    let mut file = sanitize(&name);
    if file.len() > 180 {
        // Keep names within what file systems allow; the hash keeps them distinct.
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        name.hash(&mut h);
        let cut = (0..=180)
            .rev()
            .find(|&i| file.is_char_boundary(i))
            .unwrap_or(0);
        file = format!("{}-{:016x}", &file[..cut], h.finish());
    }
    Path::new(&sanitize(&case.target.name)).join(format!("{file}.snap"))
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._=,()@+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The document: the case's outcome, the request, the answer, timing buckets and findings.
pub fn document(r: &CaseReport) -> Vec<(&'static str, Value)> {
    let mut ph = Placeholders::default();
    let mut doc: Vec<(&'static str, Value)> = vec![("outcome", json!(r.verdict.outcome))];
    let base_url = r.case.target.base_url.as_str();
    let request = request_value(&r.case, r.exchange.as_ref());
    let response = r.exchange.as_ref().and_then(|ex| {
        response_value(
            ex,
            r.case.request.stream() && r.verdict.stream.is_some(),
            &mut ph,
        )
    });
    // The companion is another answer, numbered on its own: whether its `created` is the
    // stream's depends on which second each was made in (a flaky `#1` or `#2` otherwise).
    let mut companion_ph = Placeholders::default();
    let companion = r
        .companion
        .as_ref()
        .and_then(|ex| response_value(ex, false, &mut companion_ph));
    ph.replaced.append(&mut companion_ph.replaced);
    if let Some(reason) = &r.verdict.reason {
        doc.push(("reason", json!(scrub(reason, &ph, base_url))));
    }
    doc.push(("request", request));
    if let Some(response) = response {
        doc.push(("response", response));
    }
    if let Some(s) = &r.verdict.stream {
        doc.push((
            "sdk",
            json!({"openai-node": s.sdk.node, "openai-python": s.sdk.python}),
        ));
    }
    if let Some(c) = companion {
        doc.push(("companion", c));
    }
    if let Some(t) = timing(r) {
        doc.push(("timing", t));
    }
    let findings: Vec<Value> = r
        .verdict
        .findings
        .iter()
        .map(|f| {
            let mut m = Map::new();
            m.insert("check".into(), json!(f.check));
            m.insert("severity".into(), json!(f.severity));
            if let Some(p) = &f.path {
                m.insert("path".into(), json!(p));
            }
            m.insert("message".into(), json!(scrub(&f.message, &ph, base_url)));
            if let Some(e) = &f.expected {
                m.insert("expected".into(), json!(scrub(e, &ph, base_url)));
            }
            if let Some(a) = &f.actual {
                m.insert("actual".into(), json!(scrub(a, &ph, base_url)));
            }
            Value::Object(m)
        })
        .collect();
    doc.push(("findings", Value::Array(findings)));
    doc
}

/// Text from the judge (messages, reasons) with what varies between runs taken out: the ids the
/// document replaced, the target's address, measured durations.
fn scrub(text: &str, ph: &Placeholders, base_url: &str) -> String {
    static DURATION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b\d+(\.\d+)? ms\b").expect("a valid pattern")
    });
    let mut out = ph.scrub(text);
    if !base_url.is_empty() {
        out = out.replace(base_url, "[base_url]");
        if let Ok(url) = url::Url::parse(base_url)
            && let (Some(host), Some(port)) = (url.host_str(), url.port())
        {
            out = out.replace(&format!("{host}:{port}"), "[host]");
        }
    }
    DURATION.replace_all(&out, "[duration]").into_owned()
}

fn request_value(case: &PlannedCase, sent: Option<&Exchange>) -> Value {
    let r = &case.request;
    let mut m = Map::new();
    m.insert("method".into(), json!(r.method.as_str()));
    m.insert("path".into(), json!(r.path));
    // The headers as the transport sent them (the key only ever as `[redacted]`); for a case
    // that sent nothing, the suite's and the target's.
    let mut headers = Map::new();
    match sent {
        Some(ex) => {
            for (k, v) in &ex.request.headers {
                headers.insert(k.to_ascii_lowercase(), json!(v));
            }
        }
        None => {
            for (k, v) in &r.headers {
                headers.insert(k.to_ascii_lowercase(), json!(v));
            }
        }
    }
    m.insert("headers".into(), Value::Object(headers));
    match (&r.json, &r.body) {
        (Some(j), _) => {
            m.insert("body".into(), normalize::request(j));
        }
        (None, Some(bytes)) => {
            m.insert("body_text".into(), json!(raw_text(bytes)));
        }
        (None, None) => {}
    }
    Value::Object(m)
}

/// Status, kept headers and the answer (a normalized body, or the events of a stream).
fn response_value(ex: &Exchange, streamed: bool, ph: &mut Placeholders) -> Option<Value> {
    let head = ex.response.as_ref()?;
    let mut m = Map::new();
    m.insert("status".into(), json!(head.status));
    let mut headers = Map::new();
    for (k, v) in &head.headers {
        let k = k.to_ascii_lowercase();
        let value = if KEPT_HEADERS.contains(&k.as_str()) {
            json!(v)
        } else if ID_HEADERS.contains(&k.as_str()) {
            json!("[string request id]")
        } else if k.starts_with("x-ratelimit-") {
            json!("[string present]")
        } else {
            continue;
        };
        // A repeated header keeps its first value.
        headers.entry(k).or_insert(value);
    }
    m.insert("headers".into(), Value::Object(headers));
    if streamed {
        m.insert("events".into(), Value::Array(events(ex, ph)));
    } else if !ex.body.iter().all(u8::is_ascii_whitespace) {
        match serde_json::from_slice::<Value>(&ex.body) {
            Ok(v) => {
                m.insert("body".into(), normalize::answer(&v, ph));
            }
            Err(_) => {
                m.insert("body_text".into(), json!(raw_text(&ex.body)));
            }
        }
    }
    if ex.received > ex.body.len() as u64 {
        m.insert(
            "not_kept".into(),
            json!(format!(
                "{} bytes beyond the first {} (judged, not kept)",
                ex.received - ex.body.len() as u64,
                ex.body.len()
            )),
        );
    }
    Some(Value::Object(m))
}

fn raw_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let count = text.chars().count();
    if count <= RAW_TEXT {
        text.into_owned()
    } else {
        let kept: String = text.chars().take(RAW_TEXT).collect();
        format!("{kept}[... {} more characters]", count - RAW_TEXT)
    }
}

/// At most this many (folded) events are written; the rest are counted.
const MAX_EVENTS: usize = 1000;

/// The events of a streamed answer, normalized, consecutive equal ones folded, decoded one at a
/// time (a kept body of 16 MiB is some hundred thousand events: they are never all in memory).
fn events(ex: &Exchange, ph: &mut Placeholders) -> Vec<Value> {
    let mut decoder = crate::sse::Decoder::new(crate::sse::Limits::default());
    let mut out: Vec<(Value, usize)> = Vec::new();
    let mut more = 0usize;
    let mut sink = |e: crate::sse::Event| {
        if out.len() >= MAX_EVENTS {
            more += 1;
            return;
        }
        let value = event_value(&e, ph);
        match out.last_mut() {
            Some((last, n)) if *last == value => *n += 1,
            _ => out.push((value, 1)),
        }
    };
    let mut last = Duration::ZERO;
    for r in &ex.reads {
        let end = (r.offset + r.len).min(ex.body.len());
        decoder.feed(&ex.body[r.offset.min(end)..end], r.at, &mut sink);
        last = r.at;
    }
    decoder.finish(last, &mut sink);
    let mut events: Vec<Value> = out
        .into_iter()
        .map(|(mut v, n)| {
            if n > 1
                && let Value::Object(m) = &mut v
            {
                m.insert("repeated".into(), json!(normalize::repeat_class(n)));
            }
            v
        })
        .collect();
    if more > 0 {
        events.push(json!({"not_shown": format!("{} more events", normalize::repeat_class(more))}));
    }
    events
}

/// One event, normalized.
fn event_value(e: &crate::sse::Event, ph: &mut Placeholders) -> Value {
    let mut m = Map::new();
    if let Some(data) = &e.data {
        let value = match serde_json::from_str::<Value>(data) {
            Ok(v) => normalize::answer(&v, ph),
            Err(_) => json!(raw_text(data.as_bytes())),
        };
        m.insert("data".into(), value);
    }
    if let Some(name) = &e.event {
        m.insert("event".into(), json!(name));
    }
    if !e.comments.is_empty() {
        m.insert("comments".into(), json!(e.comments));
    }
    if e.id.is_some() {
        m.insert("id".into(), json!("[string event id]"));
    }
    if let Some(retry) = &e.retry {
        m.insert("retry".into(), json!(retry));
    }
    if !e.unknown.is_empty() {
        let names: Vec<&str> = e.unknown.iter().map(|f| f.name.as_str()).collect();
        m.insert("unknown_fields".into(), json!(names));
    }
    if !e.terminated {
        m.insert("unterminated".into(), json!(true));
    }
    Value::Object(m)
}

/// A streamed answer's sequence of event kinds (see [`baseline`]), consecutive repeats folded.
pub fn event_kinds(ex: &Exchange) -> Vec<String> {
    baseline::kinds(&Value::Array(events(ex, &mut Placeholders::default())))
}

fn timing(r: &CaseReport) -> Option<Value> {
    let ex = r.exchange.as_ref()?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut m = Map::new();
    if let Some(h) = ex.timing.headers {
        m.insert("headers".into(), json!(normalize::bucket(ms(h))));
    }
    if let Some(s) = &r.verdict.stream {
        if let Some(t) = s.metrics.first_token_ms {
            m.insert("first_token".into(), json!(normalize::bucket(t)));
        }
        if let Some(g) = s.metrics.gap_max_ms {
            m.insert("longest_gap".into(), json!(normalize::bucket(g)));
        }
    }
    m.insert(
        "total".into(),
        json!(normalize::bucket(ms(ex.timing.total))),
    );
    Some(Value::Object(m))
}

/// Reads a snapshot file: its header and its document, or `None` when there is none.
pub fn read(path: &Path) -> io::Result<Option<(String, String)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(split(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "`{}` is not a snapshot (it must start with a `---` header)",
                path.display()
            ),
        )
    })?))
}

/// A snapshot file's header and document.
fn split(text: &str) -> Option<(String, String)> {
    let text = text.replace("\r\n", "\n");
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n").map(|i| i + 1).or_else(|| {
        // An empty header.
        rest.starts_with("---\n").then_some(0)
    })?;
    Some((rest[..end].to_owned(), rest[end + 4..].to_owned()))
}

/// Two documents are the same snapshot when they differ at most in trailing whitespace (as
/// insta compares them).
fn same(a: &str, b: &str) -> bool {
    a.trim_end() == b.trim_end()
}

/// A unified diff as hunks with three lines of context, bounded in time so a huge snapshot
/// cannot hang a report.
pub fn diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::configure()
        .timeout(Duration::from_millis(500))
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

/// The diff of a case's snapshot against the accepted one in `dir`; `None` when they are the
/// same or `dir` has none for the case.
pub fn baseline_diff(dir: &Path, r: &CaseReport) -> Option<String> {
    let snapshot = of(r);
    let path = dir.join(&snapshot.path);
    let (_, old) = read(&path).ok()??;
    (!same(&old, &snapshot.body)).then(|| diff(&old, &snapshot.body, "baseline", "this run"))
}

/// What happened to one case's snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Changed,
    New,
}

/// What the snapshots of a run came to, for the summary and the exit code.
#[derive(Debug, Default)]
pub struct Results {
    pub unchanged: usize,
    pub changed: usize,
    pub new: usize,
    /// Files written (`.snap` or `.snap.new`).
    pub written: usize,
    pub errors: Vec<String>,
    pub gate: Option<baseline::Gate>,
    /// Snapshots no case of the run wrote (relative to the folder), when the run covered every
    /// planned case; deleted ones are not kept here.
    pub unreferenced: Vec<PathBuf>,
    /// `--unreferenced reject` found some: the run fails.
    pub rejected: bool,
}

/// What the snapshot reporter found, shared with the caller (the CLI decides the exit code).
pub type Shared = Arc<Mutex<Results>>;

/// Writes (or compares) each case's snapshot as it finishes, shows changed ones as diffs, and,
/// with a baseline, holds every case to it (see [`baseline`]).
pub struct SnapshotReporter {
    dir: PathBuf,
    update: Update,
    out: Box<dyn Write + Send>,
    color: bool,
    secrets: Vec<Secret>,
    written: HashSet<PathBuf>,
    baseline: Option<baseline::Gate>,
    /// `None` when the run selected only some planned cases (nothing can be called unreferenced).
    unreferenced: Option<Unreferenced>,
    /// `<target>` folder and `<suite>__` file prefix of each case run.
    scopes: HashSet<(String, String)>,
    shared: Shared,
}

impl SnapshotReporter {
    /// `update` must be resolved (not `Auto`). With `gate`, cases are compared with the accepted
    /// snapshots in `dir` and the gate decides what fails.
    pub fn new(
        dir: PathBuf,
        update: Update,
        out: Box<dyn Write + Send>,
        color: bool,
        secrets: &[Secret],
        gate: Option<baseline::Gate>,
    ) -> (Self, Shared) {
        let shared = Shared::default();
        (
            SnapshotReporter {
                dir,
                update,
                out,
                color,
                secrets: secrets.to_vec(),
                written: HashSet::new(),
                baseline: gate,
                unreferenced: None,
                scopes: HashSet::new(),
                shared: shared.clone(),
            },
            shared,
        )
    }

    /// Handles snapshots that no case wrote as `mode` says, at the end of a run that selected
    /// every planned case (`complete`) and was not interrupted.
    pub fn unreferenced(mut self, mode: Unreferenced, complete: bool) -> Self {
        self.unreferenced = complete.then_some(mode);
        self
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn case(&mut self, r: &CaseReport) -> io::Result<()> {
        let mut snapshot = of(r);
        if let (Some(folder), Some(file)) = (
            snapshot.path.parent().and_then(|p| p.to_str()),
            snapshot.path.file_name().and_then(|f| f.to_str()),
        ) && let Some((suite, _)) = file.split_once("__")
        {
            self.scopes
                .insert((folder.to_owned(), format!("{suite}__")));
        }
        // Two cases whose names sanitize alike get distinct files.
        if !self.written.insert(snapshot.path.clone()) {
            let stem = snapshot.path.with_extension("");
            let mut n = 2;
            while !self
                .written
                .insert(stem.with_extension(format!("{n}.snap")))
            {
                n += 1;
            }
            snapshot.path = stem.with_extension(format!("{n}.snap"));
        }
        let path = self.dir.join(&snapshot.path);
        let pending = path.with_extension("snap.new");
        let old = match read(&path) {
            Ok(old) => old,
            Err(e) => {
                self.note_error(format!("{e}"));
                None
            }
        };
        let change = match &old {
            Some((_, body)) if same(body, &snapshot.body) => Change::Unchanged,
            Some(_) => Change::Changed,
            None => Change::New,
        };
        if let Some(gate) = &mut self.baseline {
            let lines = gate.add(r, old.as_ref().map(|(_, b)| b.as_str()), &snapshot.body);
            for line in lines {
                let painted = match line.regression {
                    true if line.waived.is_none() => self.paint("1;31", "REGRESSION"),
                    true => self.paint("33", "waived    "),
                    false => self.paint("32", "improved  "),
                };
                writeln!(self.out, "      {painted} {}", line.text)?;
                if let Some(w) = &line.waived {
                    writeln!(self.out, "                 {w}")?;
                }
            }
        }
        let write = match (change, self.update) {
            (Change::Unchanged, _) => {
                if pending.exists() {
                    let _ = std::fs::remove_file(&pending);
                }
                None
            }
            (_, Update::Always) => Some(path.clone()),
            (_, Update::New) => Some(pending.clone()),
            _ => None,
        };
        if change == Change::Changed
            && let Some((_, old_body)) = &old
        {
            let shown = self.dir.join(&snapshot.path).display().to_string();
            writeln!(
                self.out,
                "      {} {shown}",
                self.paint("1;33", "snapshot changed:")
            )?;
            let text = diff(old_body, &snapshot.body, "old", "new");
            for line in text.lines().skip(2) {
                let painted = match line.chars().next() {
                    Some('+') => self.paint("32", line),
                    Some('-') => self.paint("31", line),
                    Some('@') => self.paint("36", line),
                    _ => line.to_owned(),
                };
                writeln!(self.out, "        {painted}")?;
            }
            let how = match self.update {
                Update::New => format!(
                    "accept it with `gatecheck snapshots accept {}`",
                    pending.display()
                ),
                Update::Always => "written over the old one (--update always)".to_owned(),
                _ => "not written; `--update new` writes it as .snap.new to accept".to_owned(),
            };
            writeln!(self.out, "        {}", self.paint("2", &how))?;
        }
        if let Some(target) = write {
            if target == path && pending.exists() {
                let _ = std::fs::remove_file(&pending);
            }
            match super::write_atomically(&target, &snapshot.file(), &self.secrets) {
                Ok(()) => self.shared.lock().expect("not poisoned").written += 1,
                Err(e) => self.note_error(format!(
                    "failed to write the snapshot `{}`: {e}",
                    target.display()
                )),
            }
        }
        let mut s = self.shared.lock().expect("not poisoned");
        match change {
            Change::Unchanged => s.unchanged += 1,
            Change::Changed => s.changed += 1,
            Change::New => s.new += 1,
        }
        Ok(())
    }

    fn note_error(&self, message: String) {
        self.shared
            .lock()
            .expect("not poisoned")
            .errors
            .push(message);
    }

    /// The `.snap` and `.snap.new` files in the folders and of the suites of this run that no
    /// case wrote, sorted.
    fn find_unreferenced(&self) -> Vec<PathBuf> {
        let folders: std::collections::BTreeSet<&str> =
            self.scopes.iter().map(|(f, _)| f.as_str()).collect();
        let mut found = Vec::new();
        for folder in folders {
            let Ok(entries) = std::fs::read_dir(self.dir.join(folder)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let snap = match name.strip_suffix(".new") {
                    Some(snap) => snap.to_owned(),
                    None => name.clone(),
                };
                let ours = snap.ends_with(".snap")
                    && self
                        .scopes
                        .iter()
                        .any(|(f, prefix)| f == folder && snap.starts_with(prefix.as_str()));
                let relative = Path::new(folder).join(&snap);
                if ours && !self.written.contains(&relative) {
                    found.push(Path::new(folder).join(&name));
                }
            }
        }
        found.sort();
        found
    }

    /// At the end of a complete run: lists, deletes or rejects what no case wrote.
    fn settle_unreferenced(&mut self, interrupted: bool) -> io::Result<()> {
        let Some(mode) = self.unreferenced.filter(|_| !interrupted) else {
            return Ok(());
        };
        if mode == Unreferenced::Ignore {
            return Ok(());
        }
        let found = self.find_unreferenced();
        if found.is_empty() {
            return Ok(());
        }
        let dir = self.dir.display().to_string();
        if mode == Unreferenced::Delete {
            let mut removed = 0;
            for f in &found {
                match std::fs::remove_file(self.dir.join(f)) {
                    Ok(()) => removed += 1,
                    Err(e) => self.note_error(format!(
                        "failed to delete the unreferenced snapshot `{}`: {e}",
                        self.dir.join(f).display()
                    )),
                }
            }
            writeln!(
                self.out,
                "snapshots: deleted {removed} under {dir} that no case of this run wrote (--unreferenced delete)"
            )?;
            return Ok(());
        }
        const SHOWN: usize = 5;
        let mut names: Vec<String> = found
            .iter()
            .take(SHOWN)
            .map(|f| f.to_string_lossy().replace('\\', "/"))
            .collect();
        if found.len() > SHOWN {
            names.push(format!("and {} more", found.len() - SHOWN));
        }
        let (label, then) = match mode {
            Unreferenced::Reject => (
                self.paint("1;31", "snapshots rejected:"),
                "the run fails (--unreferenced reject); delete them with --unreferenced delete",
            ),
            _ => (
                "snapshots:".to_owned(),
                "a case was renamed or removed? `--unreferenced delete` deletes them",
            ),
        };
        writeln!(
            self.out,
            "{label} {} under {dir} belong to no case of this run ({}); {then}",
            found.len(),
            names.join(", ")
        )?;
        let mut s = self.shared.lock().expect("not poisoned");
        s.rejected = mode == Unreferenced::Reject;
        s.unreferenced = found;
        Ok(())
    }

    fn finish(&mut self, interrupted: bool) -> io::Result<()> {
        self.settle_unreferenced(interrupted)?;
        let dir = self.dir.display().to_string();
        let (changed, new, written, errors) = {
            let s = self.shared.lock().expect("not poisoned");
            (s.changed, s.new, s.written, s.errors.clone())
        };
        for e in &errors {
            writeln!(self.out, "{} {e}", self.paint("1;31", "error:"))?;
        }
        if changed + new > 0 {
            let what = match (changed, new) {
                (0, n) => format!("{n} new"),
                (c, 0) => format!("{c} changed"),
                (c, n) => format!("{c} changed, {n} new"),
            };
            let line = match self.update {
                Update::New => format!(
                    "snapshots: {what}, written as .snap.new under {dir}; accept them with `gatecheck snapshots accept {dir}` (or review them with `cargo insta review --workspace-root {dir}`)"
                ),
                Update::Always => format!("snapshots: {what}, written to {dir}"),
                _ => format!(
                    "snapshots: {what}, not written (--update no); `--update new` writes them as .snap.new, `--update always` over the old ones"
                ),
            };
            writeln!(self.out, "{line}")?;
        } else if written == 0 && errors.is_empty() {
            writeln!(self.out, "snapshots: all unchanged ({dir})")?;
        }
        if let Some(gate) = &self.baseline {
            for line in gate.summary() {
                writeln!(self.out, "{line}")?;
            }
        }
        self.shared.lock().expect("not poisoned").gate = self.baseline.take();
        self.out.flush()
    }
}

impl Reporter for SnapshotReporter {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started { .. } => Ok(()),
            Event::CaseFinished(r) => self.case(r),
            Event::Finished(summary) => self.finish(summary.interrupted),
        }
    }
}

/// Moves every `.snap.new` under `path` (a folder, or one file) over its `.snap`; with
/// `reject`, deletes them instead. Returns the files handled.
pub fn accept(path: &Path, reject: bool) -> io::Result<Vec<PathBuf>> {
    let mut pending = Vec::new();
    if path.is_file() {
        pending.push(path.to_path_buf());
    } else {
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir)? {
                let p = e?.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.to_string_lossy().ends_with(".snap.new") {
                    pending.push(p);
                }
            }
        }
    }
    pending.sort();
    for p in &pending {
        if !p.to_string_lossy().ends_with(".snap.new") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` is not a pending snapshot (.snap.new)", p.display()),
            ));
        }
        if reject {
            std::fs::remove_file(p)?;
        } else {
            std::fs::rename(p, p.with_extension(""))?;
        }
    }
    Ok(pending)
}
