//! Recorded exchanges on disk (`gatecheck run --record DIR`): the format, written and read.
//! `gatecheck check DIR` judges them again offline and `gatecheck serve --replay DIR` serves them
//! back with their timing. This module knows bytes and files only: it imports nothing of the
//! judge (no check, SSE decoder, schema or profile), so the replaying gateway can use it too.
//!
//! A folder holds `manifest.json` (gatecheck's version; each target's name, folder, profile,
//! base URL path, models and extra capabilities; the suites; and, once the run has finished,
//! its cases in plan order) and one file per case under `<target>/`:
//!
//! ```text
//! gatecheck recording 1
//! # times are milliseconds since the request was sent; bodies are `--- body N bytes` and then
//! # exactly N bytes and a line break
//! case: streaming::plain[openai]
//! target: openai
//! === request
//! POST /chat/completions
//! authorization: Bearer [redacted]
//! content-type: application/json
//! --- body 87 bytes
//! {"model":"gatecheck-echo","stream":true,"messages":[{"role":"user","content":"Hello"}]}
//! === response
//! status 200
//! content-type: text/event-stream; charset=utf-8
//! --- body 54 bytes
//! data: {"id":"chatcmpl-1","choices":[]}
//!
//! data: [DONE]
//!
//!
//! === reads
//! 0 1.204
//! 40 11.350
//! === timing
//! headers 1.180
//! first_byte 1.204
//! total 11.402
//! === end
//! complete
//! ```
//!
//! - The request's path is relative to the target's base URL; no host, key or base URL is
//!   stored (the manifest keeps the base URL's path). Headers are as the transport recorded
//!   them, the key already redacted.
//! - Bodies are length-prefixed, so any bytes (invalid UTF-8, a line that looks like a section
//!   marker) survive, and a JSON or SSE body still reads as itself in a text editor.
//! - `=== reads` is the fixture syntax (`src/fixture.rs`): one line per network read,
//!   `OFFSET MILLISECONDS`, to the microsecond. A body cut at `--max-body` says
//!   `--- body N bytes of M received`: the run judged all M bytes as they came; N were kept.
//! - `=== end` is `complete`, or the transport failure as `KIND: message` (`reset: connection
//!   reset by peer`; kinds as [`TransportErrorKind::as_str`]).
//! - A case that sent the same request without streaming too (`expect.matches_nonstream`)
//!   continues with `=== companion request` ... `=== companion end`.
//! - Single-line values escape `\`, line breaks and control characters (`\\`, `\n`, `\r`,
//!   `\xHH`); lines starting with `# ` outside bodies are comments.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::exchange::{
    End, Exchange, Read, ResponseHead, SentRequest, Timing, TransportError, TransportErrorKind,
};

/// The first line of every recording.
pub const MAGIC: &str = "gatecheck recording 1";
/// The extension of recording files.
pub const EXTENSION: &str = "rec";
/// The manifest's file name in a recording folder.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format this gatecheck writes and reads.
pub const MANIFEST_FORMAT: u32 = 1;

/// One recorded case: the exchange and, for cases that compare a stream with the same request
/// without streaming, that second exchange. In both, `request.url` is the path relative to the
/// target's base URL (`/chat/completions`), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The planned case's name (`suite::case[target]`).
    pub case: String,
    pub target: String,
    pub exchange: Exchange,
    pub companion: Option<Exchange>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: u32,
    /// The version of gatecheck that recorded.
    pub gatecheck: String,
    pub targets: Vec<ManifestTarget>,
    /// The suites the run loaded, by name.
    pub suites: Vec<String>,
    /// False while the run is going (or when it was killed).
    #[serde(default)]
    pub finished: bool,
    /// Ctrl-C ended the run early.
    #[serde(default)]
    pub interrupted: bool,
    /// The recorded cases in plan order (written when the run finishes).
    #[serde(default)]
    pub cases: Vec<ManifestCase>,
    /// The stream bounds the run judged with, so that `check` judges with the same (absent
    /// from recordings made before they were kept: the defaults then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_limits: Option<RecordedLimits>,
}

/// The judge's stream bounds as a manifest keeps them (`--max-events`, `--max-gap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedLimits {
    pub max_events: usize,
    pub max_gap_ms: u64,
}

/// A target as the manifest keeps it: enough to plan its cases again, no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestTarget {
    pub name: String,
    /// Its folder in the recording ([`dir_name`]).
    pub dir: String,
    pub profile: String,
    /// The path of the base URL (`/v1`, `/api/openai/v1`); no scheme, host or credentials.
    pub base_path: String,
    pub models: Vec<String>,
    /// Capabilities beyond the profile's (`fault_injection` for the embedded gateway).
    #[serde(default)]
    pub capabilities: Vec<String>,
}

/// One recorded case in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestCase {
    pub name: String,
    pub target: String,
    /// Relative to the folder, with `/` (`openai/core.plain_text.rec`).
    pub file: String,
}

/// A recording folder, read: the manifest and every recording in it, in the manifest's order
/// (then files the manifest does not list, by path).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub manifest: Manifest,
    pub recordings: Vec<(PathBuf, Recording)>,
}

/// Something wrong with a recording folder or file: which file, where, and what.
#[derive(Debug, thiserror::Error)]
pub struct RecordError {
    pub path: PathBuf,
    /// The line of the file, when the trouble is at one.
    pub line: Option<usize>,
    pub kind: RecordErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordErrorKind {
    #[error("{0}")]
    Io(io::Error),
    #[error("not a gatecheck recording (its first line is not `{MAGIC}`)")]
    NotARecording,
    #[error("the manifest is not valid: {0}")]
    Manifest(serde_json::Error),
    #[error("manifest format {0} is not one this gatecheck reads (format {MANIFEST_FORMAT})")]
    ManifestFormat(u32),
    #[error("{0}")]
    Malformed(String),
    #[error("two recordings of `{0}` (the other is `{1}`)")]
    Duplicate(String, String),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "recording `{}`", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl RecordError {
    fn io(path: &Path, e: io::Error) -> Self {
        RecordError {
            path: path.to_owned(),
            line: None,
            kind: RecordErrorKind::Io(e),
        }
    }
}

/// A problem at a line of a recording being parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
    /// The first line is not [`MAGIC`].
    pub not_a_recording: bool,
}

// --- file and folder names ----------------------------------------------------------------

/// The file name of a case's recording, stable between runs: `core.plain_text.rec` for
/// `core::plain_text[openai]` (the target is the folder). A name that does not map one to one
/// onto those characters (parameters, a model in the brackets, capitals, `#2`) keeps a readable
/// part and gets the hash of the whole name, so two cases never share a file.
pub fn file_name(case: &str) -> String {
    let (base, model) = match case.rfind('[') {
        Some(i) if case.ends_with(']') => {
            let inside = &case[i + 1..case.len() - 1];
            (&case[..i], inside.split_once(',').map(|(_, m)| m))
        }
        _ => (case, None),
    };
    let plain = |s: &str, extra: &[char]| {
        !s.is_empty()
            && s.chars().all(|c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || "_-".contains(c)
                    || extra.contains(&c)
            })
    };
    let lossless = base
        .split_once("::")
        .is_some_and(|(suite, name)| plain(suite, &[]) && plain(name, &[]))
        && model.is_none_or(|m| plain(m, &['.']))
        && case.ends_with(']');
    let mut readable: String = base.replacen("::", ".", 1);
    if let Some(m) = model {
        readable.push('@');
        readable.push_str(m);
    }
    let mut readable: String = readable
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-@=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if lossless && readable.len() <= 120 {
        return format!("{readable}.{EXTENSION}");
    }
    readable.truncate(100);
    format!(
        "{readable}-{:08x}.{EXTENSION}",
        fnv1a(case.as_bytes()) as u32
    )
}

/// A target's folder name: its name when that is a plain file name, else a sanitized form with
/// a hash.
pub fn dir_name(target: &str) -> String {
    let plain = !target.is_empty()
        && target.len() <= 100
        && !target.starts_with('.')
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if plain {
        return target.to_owned();
    }
    let readable: String = target
        .chars()
        .take(60)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{readable}-{:08x}", fnv1a(target.as_bytes()) as u32)
}

/// FNV-1a: a hash that is the same on every machine and in every run (std's is seeded).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

// --- writing --------------------------------------------------------------------------------

/// The bytes of a recording file. Times are kept to the microsecond.
pub fn encode(rec: &Recording) -> Vec<u8> {
    let mut out = Vec::new();
    let w = &mut out;
    line(w, MAGIC);
    line(
        w,
        "# times are milliseconds since the request was sent; bodies are `--- body N bytes` and then",
    );
    line(w, "# exactly N bytes and a line break");
    line(w, &format!("case: {}", escape(&rec.case)));
    line(w, &format!("target: {}", escape(&rec.target)));
    encode_exchange(w, "", &rec.exchange);
    if let Some(c) = &rec.companion {
        line(
            w,
            "# the same request without streaming (expect.matches_nonstream)",
        );
        encode_exchange(w, "companion ", c);
    }
    out
}

fn line(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

fn encode_exchange(w: &mut Vec<u8>, prefix: &str, ex: &Exchange) {
    line(w, &format!("=== {prefix}request"));
    line(
        w,
        &format!("{} {}", escape(&ex.request.method), escape(&ex.request.url)),
    );
    encode_headers(w, &ex.request.headers);
    encode_body(w, &ex.request.body, ex.request.body.len() as u64);
    if let Some(head) = &ex.response {
        line(w, &format!("=== {prefix}response"));
        line(w, &format!("status {}", head.status));
        encode_headers(w, &head.headers);
        if ex.received > ex.body.len() as u64 {
            line(
                w,
                &format!(
                    "# {} bytes arrived; the first {} were kept (--max-body): the run judged them all as they came, a replay has these",
                    ex.received,
                    ex.body.len()
                ),
            );
        }
        encode_body(w, &ex.body, ex.received);
        line(w, &format!("=== {prefix}reads"));
        for r in &ex.reads {
            line(w, &format!("{} {}", r.offset, millis(r.at)));
        }
    }
    line(w, &format!("=== {prefix}timing"));
    let opt = |d: Option<Duration>| d.map_or_else(|| "-".to_owned(), millis);
    line(w, &format!("headers {}", opt(ex.timing.headers)));
    line(w, &format!("first_byte {}", opt(ex.timing.first_byte)));
    line(w, &format!("total {}", millis(ex.timing.total)));
    line(w, &format!("=== {prefix}end"));
    match &ex.end {
        End::Complete => line(w, "complete"),
        End::Failed(e) => line(w, &format!("{}: {}", e.kind.as_str(), escape(&e.message))),
    }
}

fn encode_headers(w: &mut Vec<u8>, headers: &[(String, String)]) {
    for (k, v) in headers {
        // A colon in a name would end it early when read back.
        line(
            w,
            &format!("{}: {}", escape(k).replace(':', "\\x3a"), escape(v)),
        );
    }
}

fn encode_body(w: &mut Vec<u8>, body: &[u8], received: u64) {
    if received > body.len() as u64 {
        line(
            w,
            &format!("--- body {} bytes of {received} received", body.len()),
        );
    } else {
        line(w, &format!("--- body {} bytes", body.len()));
    }
    w.extend_from_slice(body);
    w.push(b'\n');
}

/// Milliseconds with three decimals (microseconds).
fn millis(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// One line's worth of text: `\`, line breaks and other control characters escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 && c != '\t' || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = u8::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|b| *b < 0x80)
                    .ok_or_else(|| format!("bad escape `\\x{hex}` (write \\xHH, below 80)"))?;
                out.push(char::from(byte));
            }
            other => {
                return Err(format!(
                    "bad escape `\\{}` (the escapes are \\\\, \\n, \\r and \\xHH)",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    Ok(out)
}

// --- reading --------------------------------------------------------------------------------

/// Reads a recording's bytes back.
pub fn decode(bytes: &[u8]) -> Result<Recording, ParseError> {
    let mut p = Parser {
        bytes,
        pos: 0,
        line: 0,
        last: None,
    };
    let first = p.raw_line()?;
    if first.map(str::trim_end) != Some(MAGIC) {
        return Err(ParseError {
            line: 1,
            message: format!("its first line is not `{MAGIC}`"),
            not_a_recording: true,
        });
    }
    let case = p.field("case")?;
    let target = p.field("target")?;
    let exchange = p.exchange("")?;
    let companion = match p.next_line()? {
        None => None,
        Some("=== companion request") => {
            p.unread();
            Some(p.exchange("companion ")?)
        }
        Some(other) => {
            return Err(p.error(format!(
                "unexpected `{}` after `=== end` (only `=== companion request` may follow)",
                short(other)
            )));
        }
    };
    if let Some(other) = p.next_line()? {
        return Err(p.error(format!(
            "unexpected `{}` after `=== companion end`",
            short(other)
        )));
    }
    Ok(Recording {
        case,
        target,
        exchange,
        companion,
    })
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Lines consumed so far (the number of the last line read).
    line: usize,
    /// Where the last line read started, and `line` before it (for [`Parser::unread`]).
    last: Option<(usize, usize)>,
}

impl<'a> Parser<'a> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line.max(1),
            message: message.into(),
            not_a_recording: false,
        }
    }

    /// The next line without its line break; `None` at the end. A last line without a line
    /// break is a cut file.
    fn raw_line(&mut self) -> Result<Option<&'a str>, ParseError> {
        if self.pos >= self.bytes.len() {
            return Ok(None);
        }
        let rest = &self.bytes[self.pos..];
        let Some(end) = memchr::memchr(b'\n', rest) else {
            self.line += 1;
            return Err(self.error("the file ends in the middle of a line (truncated?)"));
        };
        let text = std::str::from_utf8(&rest[..end]).map_err(|_| {
            self.line += 1;
            self.error("a line outside the bodies is not UTF-8")
        })?;
        self.line += 1;
        self.last = Some((self.pos, self.line - 1));
        self.pos += end + 1;
        Ok(Some(text.strip_suffix('\r').unwrap_or(text)))
    }

    /// The next line that is neither blank nor a comment.
    fn next_line(&mut self) -> Result<Option<&'a str>, ParseError> {
        loop {
            match self.raw_line()? {
                Some(l) if l.trim().is_empty() || l == "#" || l.starts_with("# ") => continue,
                other => return Ok(other),
            }
        }
    }

    /// Puts the last line read back.
    fn unread(&mut self) {
        if let Some((pos, line)) = self.last.take() {
            self.pos = pos;
            self.line = line;
        }
    }

    /// A line that must be there.
    fn expect_line(&mut self, what: &str) -> Result<&'a str, ParseError> {
        self.next_line()?
            .ok_or_else(|| self.error(format!("the file ends before {what} (truncated?)")))
    }

    fn field(&mut self, name: &str) -> Result<String, ParseError> {
        let l = self.expect_line(&format!("the `{name}:` line"))?;
        let value = l
            .strip_prefix(name)
            .and_then(|r| r.strip_prefix(": "))
            .ok_or_else(|| self.error(format!("expected `{name}: ...`, found `{}`", short(l))))?;
        unescape(value).map_err(|m| self.error(m))
    }

    fn marker(&mut self, prefix: &str, name: &str) -> Result<(), ParseError> {
        let want = format!("=== {prefix}{name}");
        let l = self.expect_line(&format!("`{want}`"))?;
        if l != want {
            return Err(self.error(format!("expected `{want}`, found `{}`", short(l))));
        }
        Ok(())
    }

    fn exchange(&mut self, prefix: &str) -> Result<Exchange, ParseError> {
        self.marker(prefix, "request")?;
        let l = self.expect_line("the request line (`METHOD PATH`)")?;
        let (method, url) = l.split_once(' ').ok_or_else(|| {
            self.error(format!(
                "a request line is `METHOD PATH`, not `{}`",
                short(l)
            ))
        })?;
        let method = unescape(method).map_err(|m| self.error(m))?;
        let url = unescape(url).map_err(|m| self.error(m))?;
        let headers = self.headers()?;
        let (body, _) = self.body(&format!("the {prefix}request body"))?;
        let request = SentRequest {
            method,
            url,
            headers,
            body,
        };

        let mut response = None;
        let mut body = Vec::new();
        let mut received = 0;
        let mut reads = Vec::new();
        let next = self.expect_line(&format!("`=== {prefix}timing`"))?;
        if next == format!("=== {prefix}response") {
            let l = self.expect_line("the status line")?;
            let status = l
                .strip_prefix("status ")
                .and_then(|s| s.trim().parse::<u16>().ok())
                .filter(|s| (100..=999).contains(s))
                .ok_or_else(|| {
                    self.error(format!("a status line is `status 200`, not `{}`", short(l)))
                })?;
            let headers = self.headers()?;
            let (b, r) = self.body(&format!("the {prefix}response body"))?;
            body = b;
            received = r;
            self.marker(prefix, "reads")?;
            reads = self.reads(body.len())?;
            response = Some(ResponseHead { status, headers });
        } else {
            self.unread();
        }
        self.marker(prefix, "timing")?;
        let timing = self.timing()?;
        self.marker(prefix, "end")?;
        let l = self.expect_line("how the exchange ended")?;
        let end = if l == "complete" {
            End::Complete
        } else {
            let (kind, message) = l.split_once(": ").unwrap_or((l, ""));
            let kind = KINDS
                .into_iter()
                .find(|k| k.as_str() == kind)
                .ok_or_else(|| {
                    self.error(format!(
                        "the end is `complete` or `KIND: message` with KIND one of {}, not `{}`",
                        KINDS.map(TransportErrorKind::as_str).join(", "),
                        short(l)
                    ))
                })?;
            End::Failed(TransportError {
                kind,
                message: unescape(message).map_err(|m| self.error(m))?,
            })
        };
        Ok(Exchange {
            request,
            response,
            body,
            received,
            reads,
            timing,
            end,
        })
    }

    /// `name: value` lines up to the `--- body` line (left unread).
    fn headers(&mut self) -> Result<Vec<(String, String)>, ParseError> {
        let mut out = Vec::new();
        loop {
            let l = self.expect_line("the `--- body N bytes` line")?;
            if l.starts_with("--- ") {
                self.unread();
                return Ok(out);
            }
            let (k, v) = l
                .split_once(": ")
                .or_else(|| l.strip_suffix(':').map(|k| (k, "")))
                .filter(|(k, _)| !k.is_empty() && !k.contains(' '))
                .ok_or_else(|| {
                    self.error(format!(
                        "expected a header `name: value` or `--- body N bytes`, found `{}`",
                        short(l)
                    ))
                })?;
            out.push((
                unescape(k).map_err(|m| self.error(m))?,
                unescape(v).map_err(|m| self.error(m))?,
            ));
        }
    }

    /// `--- body N bytes [of M received]`, N bytes and a line break: the bytes and M.
    fn body(&mut self, what: &str) -> Result<(Vec<u8>, u64), ParseError> {
        let l = self.expect_line(what)?;
        let spec = l.strip_prefix("--- body ").ok_or_else(|| {
            self.error(format!("expected `--- body N bytes`, found `{}`", short(l)))
        })?;
        let parsed = match spec.split_once(" bytes") {
            Some((n, "")) => n.parse::<usize>().ok().map(|n| (n, n as u64)),
            Some((n, rest)) => {
                let m = rest
                    .strip_prefix(" of ")
                    .and_then(|r| r.strip_suffix(" received"))
                    .and_then(|m| m.parse::<u64>().ok());
                n.parse::<usize>().ok().zip(m)
            }
            None => None,
        };
        let (len, received) = parsed.filter(|(n, m)| *m >= *n as u64).ok_or_else(|| {
            self.error(format!(
                "a body line is `--- body N bytes` or `--- body N bytes of M received` (M at least N), not `{}`",
                short(l)
            ))
        })?;
        let rest = self.bytes.len() - self.pos;
        if rest < len {
            return Err(self.error(format!(
                "{what} declares {len} bytes but the file ends after {rest} of them (truncated?)"
            )));
        }
        let bytes = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        self.line += memchr::memchr_iter(b'\n', bytes).count();
        self.last = None;
        if self.bytes.get(self.pos) != Some(&b'\n') {
            return Err(self.error(format!(
                "{what} is not followed by a line break after its {len} bytes (is the byte count right?)"
            )));
        }
        self.pos += 1;
        self.line += 1;
        Ok((bytes.to_vec(), received))
    }

    /// `OFFSET MILLISECONDS` lines, tiling the body, up to the next section.
    fn reads(&mut self, body_len: usize) -> Result<Vec<Read>, ParseError> {
        let mut starts: Vec<(usize, Duration)> = Vec::new();
        while let Some(l) = self.next_line()? {
            if l.starts_with("=== ") {
                self.unread();
                break;
            }
            let (offset, ms) = l.split_once(' ').ok_or_else(|| {
                self.error(format!(
                    "a read is `OFFSET MILLISECONDS`, not `{}`",
                    short(l)
                ))
            })?;
            let offset: usize = offset
                .parse()
                .map_err(|_| self.error(format!("bad offset in the read `{}`", short(l))))?;
            let at = parse_millis(ms).ok_or_else(|| {
                self.error(format!("bad milliseconds in the read `{}`", short(l)))
            })?;
            let increasing = starts.last().is_none_or(|(o, _)| *o < offset);
            if !increasing || offset >= body_len || (starts.is_empty() && offset != 0) {
                return Err(self.error(format!(
                    "read offsets start at 0, increase and stay within the body of {body_len} bytes (`{}`)",
                    short(l)
                )));
            }
            starts.push((offset, at));
        }
        if starts.is_empty() && body_len > 0 {
            return Err(self.error("a body of bytes needs at least one read (`0 MILLISECONDS`)"));
        }
        Ok(starts
            .iter()
            .enumerate()
            .map(|(i, &(offset, at))| Read {
                offset,
                len: starts.get(i + 1).map_or(body_len, |(o, _)| *o) - offset,
                at,
            })
            .collect())
    }

    fn timing(&mut self) -> Result<Timing, ParseError> {
        let mut get = |name: &str, optional: bool| -> Result<Option<Duration>, ParseError> {
            let l = self.expect_line(&format!("the `{name}` time"))?;
            let value = l
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix(' '))
                .ok_or_else(|| {
                    self.error(format!(
                        "expected `{name} MILLISECONDS`, found `{}`",
                        short(l)
                    ))
                })?;
            if optional && value == "-" {
                return Ok(None);
            }
            parse_millis(value)
                .map(Some)
                .ok_or_else(|| self.error(format!("bad milliseconds in `{}`", short(l))))
        };
        let headers = get("headers", true)?;
        let first_byte = get("first_byte", true)?;
        let total = get("total", false)?.unwrap_or_default();
        Ok(Timing {
            headers,
            first_byte,
            total,
        })
    }
}

/// Every transport failure kind, for reading `=== end`.
const KINDS: [TransportErrorKind; 6] = [
    TransportErrorKind::Connect,
    TransportErrorKind::Timeout,
    TransportErrorKind::Reset,
    TransportErrorKind::BodyTooLarge,
    TransportErrorKind::Limit,
    TransportErrorKind::Other,
];

/// `12`, `12.5`, `12.345678` milliseconds, exactly (no float rounding).
fn parse_millis(s: &str) -> Option<Duration> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 6 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: u64 = int.parse().ok()?;
    let nanos_frac: u64 = format!("{frac:0<6}").parse().ok()?;
    Some(Duration::from_millis(ms) + Duration::from_nanos(nanos_frac))
}

/// A line shortened for a message.
fn short(line: &str) -> String {
    let mut s: String = line.chars().take(60).collect();
    if s.len() < line.len() {
        s.push_str("...");
    }
    s
}

// --- files and folders --------------------------------------------------------------------

/// Reads one recording file.
pub fn read_file(path: &Path) -> Result<Recording, RecordError> {
    let bytes = std::fs::read(path).map_err(|e| RecordError::io(path, e))?;
    decode(&bytes).map_err(|e| RecordError {
        path: path.to_owned(),
        line: (!e.not_a_recording).then_some(e.line),
        kind: if e.not_a_recording {
            RecordErrorKind::NotARecording
        } else {
            RecordErrorKind::Malformed(e.message)
        },
    })
}

/// Writes `manifest.json` into `dir` (atomically).
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(manifest).map_err(io::Error::other)?;
    text.push('\n');
    crate::atomic::write(&dir.join(MANIFEST), text.as_bytes())
}

/// Reads `dir/manifest.json`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, RecordError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read(&path).map_err(|e| RecordError::io(&path, e))?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| RecordError {
        path: path.clone(),
        line: None,
        kind: RecordErrorKind::Manifest(e),
    })?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(RecordError {
            path,
            line: None,
            kind: RecordErrorKind::ManifestFormat(manifest.format),
        });
    }
    Ok(manifest)
}

/// Reads a recording folder: the manifest, then every `*.rec` file in its targets' folders.
/// The first broken file stops it.
pub fn read_dir(dir: &Path) -> Result<Recorded, RecordError> {
    let manifest = read_manifest(dir)?;
    let mut files: Vec<PathBuf> = Vec::new();
    for target in &manifest.targets {
        let folder = dir.join(&target.dir);
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            // A target whose every case was skipped has no folder.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(RecordError::io(&folder, e)),
        };
        for entry in entries {
            let path = entry.map_err(|e| RecordError::io(&folder, e))?.path();
            if path.extension().is_some_and(|x| x == EXTENSION) {
                files.push(path);
            }
        }
    }
    // The manifest's order (plan order) first, then the rest by path.
    let position = |p: &Path| {
        manifest
            .cases
            .iter()
            .position(|c| dir.join(&c.file) == p)
            .unwrap_or(usize::MAX)
    };
    files.sort_by(|a, b| position(a).cmp(&position(b)).then_with(|| a.cmp(b)));
    let mut recordings: Vec<(PathBuf, Recording)> = Vec::with_capacity(files.len());
    for path in files {
        let rec = read_file(&path)?;
        if let Some((other, _)) = recordings.iter().find(|(_, r)| r.case == rec.case) {
            return Err(RecordError {
                kind: RecordErrorKind::Duplicate(rec.case, other.display().to_string()),
                path,
                line: None,
            });
        }
        recordings.push((path, rec));
    }
    Ok(Recorded {
        manifest,
        recordings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(body: &[u8], reads: &[(usize, u64)]) -> Exchange {
        let reads: Vec<Read> = reads
            .iter()
            .enumerate()
            .map(|(i, &(offset, us))| Read {
                offset,
                len: reads.get(i + 1).map_or(body.len(), |(o, _)| *o) - offset,
                at: Duration::from_micros(us),
            })
            .collect();
        Exchange {
            request: SentRequest {
                method: "POST".into(),
                url: "/chat/completions?x=1".into(),
                headers: vec![
                    ("authorization".into(), "Bearer [redacted]".into()),
                    ("x-odd".into(), "a\\b\r\nc\u{1}".into()),
                ],
                body: br#"{"model":"m","stream":true}"#.to_vec(),
            },
            response: Some(ResponseHead {
                status: 200,
                headers: vec![
                    ("content-type".into(), "text/event-stream".into()),
                    ("empty".into(), String::new()),
                ],
            }),
            received: body.len() as u64,
            body: body.to_vec(),
            reads,
            timing: Timing {
                headers: Some(Duration::from_micros(1_180)),
                first_byte: Some(Duration::from_micros(1_204)),
                total: Duration::from_micros(11_402),
            },
            end: End::Complete,
        }
    }

    fn recording(ex: Exchange) -> Recording {
        Recording {
            case: "streaming::plain[openai]".into(),
            target: "openai".into(),
            exchange: ex,
            companion: None,
        }
    }

    fn round_trip(rec: &Recording) {
        let bytes = encode(rec);
        let back = decode(&bytes).unwrap_or_else(|e| {
            panic!(
                "line {}: {}\n{}",
                e.line,
                e.message,
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(&back, rec, "{}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn a_stream_round_trips_and_reads_as_text() {
        let body = b"data: {\"a\":1}\n\ndata: [DONE]\n\n";
        let rec = recording(exchange(body, &[(0, 1_204), (15, 11_350)]));
        round_trip(&rec);
        let text = String::from_utf8(encode(&rec)).unwrap();
        assert!(text.starts_with("gatecheck recording 1\n"), "{text}");
        assert!(
            text.contains("--- body 29 bytes\ndata: {\"a\":1}\n\ndata: [DONE]\n\n\n=== reads\n0 1.204\n15 11.350\n"),
            "{text}"
        );
        assert!(text.contains("x-odd: a\\\\b\\r\\nc\\x01\n"), "{text}");
        assert!(text.contains("headers 1.180\nfirst_byte 1.204\ntotal 11.402\n"));
    }

    /// Regression guard (issue 5, item 6): bodies are length-prefixed, so invalid UTF-8 and
    /// bodies holding the format's own markers round-trip byte for byte.
    #[test]
    fn any_bytes_survive_markers_and_invalid_utf8_included() {
        let nasty: &[u8] =
            b"\xff\xfe=== end\ncomplete\n=== reads\n--- body 3 bytes\n\n# not a comment\n\xc3";
        let mut ex = exchange(nasty, &[(0, 10), (1, 20), (30, 30)]);
        ex.request.body = b"\n=== response\nstatus 200\n".to_vec();
        let mut rec = recording(ex.clone());
        rec.companion = Some(exchange(b"", &[]));
        round_trip(&rec);
        // No trailing line break, a lone CR, an empty body.
        for body in [&b"{}"[..], b"x\r", b""] {
            let reads: &[(usize, u64)] = if body.is_empty() { &[] } else { &[(0, 5)] };
            round_trip(&recording(exchange(body, reads)));
        }
    }

    #[test]
    fn failures_truncation_and_missing_heads_round_trip() {
        let mut ex = exchange(b"data: {}\n\nda", &[(0, 1_000)]);
        ex.received = 1 << 20;
        ex.end = End::Failed(TransportError {
            kind: TransportErrorKind::BodyTooLarge,
            message: "the stream exceeded\nthe cap".into(),
        });
        let rec = recording(ex);
        round_trip(&rec);
        let text = String::from_utf8(encode(&rec)).unwrap();
        assert!(
            text.contains("--- body 12 bytes of 1048576 received\n"),
            "{text}"
        );
        assert!(
            text.contains("body too large: the stream exceeded\\nthe cap\n"),
            "{text}"
        );

        let mut refused = exchange(b"", &[]);
        refused.response = None;
        refused.received = 0;
        refused.timing = Timing {
            headers: None,
            first_byte: None,
            total: Duration::from_micros(300),
        };
        refused.end = End::Failed(TransportError {
            kind: TransportErrorKind::Connect,
            message: "connection refused".into(),
        });
        round_trip(&recording(refused));
    }

    fn error_of(text: &[u8]) -> ParseError {
        decode(text).expect_err("must not parse")
    }

    #[test]
    fn every_cut_of_a_recording_is_an_error_never_a_panic() {
        let mut rec = recording(exchange(b"data: {}\n\n", &[(0, 5)]));
        rec.companion = Some(exchange(b"{\"x\":1}", &[(0, 3)]));
        let bytes = encode(&rec);
        for cut in 0..bytes.len() {
            // Cutting after a final blank line or a comment can still leave a whole file.
            if let Err(e) = decode(&bytes[..cut]) {
                assert!(e.line >= 1 && !e.message.is_empty());
            }
        }
        let e = error_of(&bytes[..bytes.len() - 40]);
        assert!(
            e.message.contains("truncated") || e.message.contains("ends"),
            "{e:?}"
        );
    }

    #[test]
    fn corruption_names_the_line_and_what_is_wrong() {
        let bytes = encode(&recording(exchange(b"{\"a\":1}", &[(0, 5)])));
        let text = String::from_utf8(bytes).unwrap();
        let e = error_of(
            text.replace("--- body 7 bytes", "--- body 9 bytes")
                .as_bytes(),
        );
        assert!(e.message.contains("the response body"), "{e:?}");
        let e = error_of(
            text.replace("--- body 7 bytes", "--- body 7000 bytes")
                .as_bytes(),
        );
        assert!(e.message.contains("declares 7000 bytes"), "{e:?}");
        let e = error_of(text.replace("status 200", "status two").as_bytes());
        assert!(e.message.contains("status line"), "{e:?}");
        assert_eq!(e.line, 13);
        let e = error_of(text.replace("complete", "exploded: boom").as_bytes());
        assert!(e.message.contains("KIND one of connect, timeout"), "{e:?}");
        let e = error_of(text.replace("0 0.005", "3 0.005").as_bytes());
        assert!(e.message.contains("start at 0"), "{e:?}");
        let e = error_of(b"GIF89a\n");
        assert!(e.not_a_recording);
        let e = error_of(text.replace("=== timing", "=== timeing").as_bytes());
        assert!(e.message.contains("expected `=== timing`"), "{e:?}");
    }

    #[test]
    fn file_names_are_stable_readable_and_distinct() {
        assert_eq!(file_name("core::plain_text[openai]"), "core.plain_text.rec");
        assert_eq!(
            file_name("core::plain_text[openai,gpt-4o-mini]"),
            "core.plain_text@gpt-4o-mini.rec"
        );
        let names = [
            "params::temperature(temperature=0)[t]",
            "params::temperature(temperature=1)[t]",
            "params::temperature(temperature=0)[t]#2",
            "core::Plain[t]",
            "core::plain[t,openai/gpt-4o]",
            "core::plain[t,openai_gpt-4o]",
        ];
        let files: Vec<String> = names.iter().map(|n| file_name(n)).collect();
        for (i, f) in files.iter().enumerate() {
            assert!(
                f.ends_with(".rec") && !f.contains('/') && f.len() < 140,
                "{f}"
            );
            assert!(
                !files[..i].contains(f),
                "{f} is shared by {} and another",
                names[i]
            );
            assert_eq!(file_name(names[i]), *f, "stable");
        }
        assert!(
            files[0].starts_with("params.temperature_temperature=0_-"),
            "{}",
            files[0]
        );
        let long = format!("s::{}[t]", "x".repeat(300));
        assert!(file_name(&long).len() < 120);
        assert_eq!(dir_name("ml-router"), "ml-router");
        assert_ne!(dir_name("../etc"), "../etc");
        assert!(!dir_name("../etc").contains('/'));
    }

    /// The example in this module's documentation is a recording this reader accepts.
    #[test]
    fn the_documented_example_parses() {
        let doc: String = include_str!("record.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .skip_while(|l| *l != "```text")
            .skip(1)
            .take_while(|l| *l != "```")
            .map(|l| format!("{l}\n"))
            .collect();
        let rec =
            decode(doc.as_bytes()).unwrap_or_else(|e| panic!("line {}: {}", e.line, e.message));
        assert_eq!(rec.case, "streaming::plain[openai]");
        assert_eq!(rec.exchange.reads.len(), 2);
        assert!(rec.exchange.body.ends_with(b"data: [DONE]\n\n"));
        assert_eq!(
            encode(&rec),
            doc.as_bytes(),
            "the example is what the writer writes"
        );
    }

    #[test]
    fn milliseconds_parse_exactly() {
        assert_eq!(parse_millis("5.5"), Some(Duration::from_micros(5_500)));
        assert_eq!(parse_millis("0.001"), Some(Duration::from_micros(1)));
        assert_eq!(parse_millis("12"), Some(Duration::from_millis(12)));
        for bad in ["", ".5", "1.2.3", "-1", "1e3", "1.1234567"] {
            assert_eq!(parse_millis(bad), None, "{bad}");
        }
        assert_eq!(millis(Duration::from_nanos(1_234_567)), "1.234");
    }
}
