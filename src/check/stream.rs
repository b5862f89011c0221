//! Judging a streamed completion as it arrives: from the raw bytes (through [`crate::sse`]),
//! through every event and chunk (`sse.*`, `chunk.*`, streamed `tools.*`, `usage.*` of the
//! trailer, in-band errors), to the reassembled message, with the time each event arrived.
//!
//! [`StreamJudge`] is incremental and pure: the runner feeds it bytes as they come (so a 1 GB
//! stream is judged in bounded memory), fixtures and replay feed it recorded reads. Reassembled
//! text is capped ([`TEXT_CAP`]); counts, timings and findings are not lost past the cap.
//! The SDK emulators of [`super::sdk`] watch the same events.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::chunk::{Arguments, ChoiceFacts, Choices, ChunkFacts, DeltaFacts, Payload, ToolFacts};
use super::request::RequestView;
use super::sdk::{SdkOutcome, Sdks};
use super::{FINISH_REASONS, Finding};
use crate::catalog::Severity::{self, Info, Violation, Warning};
use crate::schema::short;
use crate::sse;

/// Reassembled text kept per choice and field; longer streams are still judged, not kept.
pub const TEXT_CAP: usize = 1 << 20;
/// At most this many findings per check and stream; the rest are counted.
const PER_CHECK: usize = 3;

const CHUNK_KEYS: [&str; 10] = [
    "moderation",
    "id",
    "object",
    "created",
    "model",
    "choices",
    "usage",
    "system_fingerprint",
    "service_tier",
    "obfuscation",
];
const CHOICE_KEYS: [&str; 4] = ["index", "delta", "finish_reason", "logprobs"];
const DELTA_KEYS: [&str; 5] = ["role", "content", "refusal", "tool_calls", "function_call"];

/// Bounds the judge enforces itself while the stream arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// At most this many events (comments included).
    pub max_events: usize,
    /// At most this long between two complete events (bytes trickling in do not count).
    pub max_event_gap: Duration,
    pub sse: sse::Limits,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_events: 1_000_000,
            max_event_gap: Duration::from_secs(30),
            sse: sse::Limits::default(),
        }
    }
}

/// Timing of a streamed exchange, in milliseconds from sending the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct StreamMetrics {
    pub first_byte_ms: Option<f64>,
    /// The first event carrying content, refusal, reasoning or a tool call.
    pub first_token_ms: Option<f64>,
    /// Gaps between consecutive data events.
    pub gap_p50_ms: Option<f64>,
    pub gap_p95_ms: Option<f64>,
    pub gap_max_ms: Option<f64>,
    pub last_event_ms: Option<f64>,
    pub events: usize,
    pub chunks: usize,
    pub comments: usize,
    pub bytes: u64,
}

/// What the judge concluded about a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamReport {
    pub findings: Vec<Finding>,
    /// The stream's equivalent of a non-stream completion, for the message-level checks and the
    /// suite's assertions.
    pub reassembled: Value,
    pub metrics: StreamMetrics,
    pub sdk: SdkOutcome,
    /// The stream carried an error (in band, or `finish_reason: error`): the answer is incomplete.
    pub failure: Option<String>,
    /// The judge stopped reading: a limit was hit.
    pub aborted: Option<String>,
    /// The body did not look like an event stream at all.
    pub not_sse: bool,
}

/// Capped findings: the first few per check, then a count.
#[derive(Debug, Default)]
struct Findings {
    list: Vec<Finding>,
    extra: BTreeMap<&'static str, usize>,
    /// Paths of every finding, kept or counted (so a schema error there is not repeated).
    paths: std::collections::HashSet<String>,
}

impl Findings {
    fn push(&mut self, f: Finding) {
        if let Some(p) = &f.path
            && self.paths.len() < 10_000
        {
            self.paths.insert(p.clone());
        }
        let n = self.list.iter().filter(|x| x.check == f.check).count();
        if n < PER_CHECK {
            self.list.push(f);
        } else {
            *self.extra.entry(f.check).or_default() += 1;
        }
    }

    fn has(&self, check: &str) -> bool {
        self.list.iter().any(|f| f.check == check)
    }

    fn finish(mut self) -> Vec<Finding> {
        for (check, n) in self.extra {
            if let Some(last) = self.list.iter_mut().rev().find(|f| f.check == check) {
                last.message.push_str(&format!(" (and {n} more like it)"));
            }
        }
        self.list
    }
}

/// Text that stops growing at [`TEXT_CAP`] bytes but keeps counting.
#[derive(Debug, Clone, Default)]
struct Capped {
    text: String,
    len: usize,
}

impl Capped {
    fn push(&mut self, s: &str) {
        self.len += s.len();
        if self.text.len() < TEXT_CAP {
            let room = TEXT_CAP - self.text.len();
            let mut cut = room.min(s.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            self.text.push_str(&s[..cut]);
        }
    }
}

#[derive(Debug, Default)]
struct ToolState {
    id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    arguments: Capped,
    deltas: usize,
    fragments: usize,
    repeats: usize,
    id_changed: bool,
}

/// Streamed images kept per choice for the reassembled answer.
const MAX_IMAGES: usize = 64;

#[derive(Debug, Default)]
struct ChoiceState {
    chunks: usize,
    roles: usize,
    role: Option<String>,
    first_role_event: Option<usize>,
    first_payload_event: Option<usize>,
    content: Capped,
    content_deltas: usize,
    /// The previous content delta (its first 4 KiB), to spot cumulative deltas.
    last_content: String,
    cumulative: usize,
    refusal: Capped,
    reasoning: BTreeMap<String, Capped>,
    /// `delta.images`, in order (at most [`MAX_IMAGES`]).
    images: Vec<Value>,
    finish_reason: Option<String>,
    finish_event: Option<usize>,
    finishes: usize,
    payload_after_finish: usize,
    tools: BTreeMap<u64, ToolState>,
    logprobs: Vec<Value>,
    logprobs_seen: bool,
}

/// Log-linear histogram of gaps in microseconds (16 sub-buckets per power of two): p50/p95 to
/// within ~6 %, in constant memory.
#[derive(Debug)]
struct Gaps {
    buckets: Vec<u64>,
    count: u64,
    max: Duration,
}

impl Default for Gaps {
    fn default() -> Self {
        Gaps {
            buckets: vec![0; 64 * 16],
            count: 0,
            max: Duration::ZERO,
        }
    }
}

impl Gaps {
    fn bucket(us: u64) -> usize {
        if us < 16 {
            return us as usize;
        }
        let exp = 63 - us.leading_zeros() as usize; // >= 4
        let mantissa = ((us >> (exp - 4)) & 15) as usize;
        (exp - 3) * 16 + mantissa
    }

    fn lower_bound(bucket: usize) -> u64 {
        if bucket < 16 {
            return bucket as u64;
        }
        let exp = bucket / 16 + 3;
        let mantissa = (bucket % 16) as u64;
        (16 + mantissa) << (exp - 4)
    }

    fn add(&mut self, gap: Duration) {
        let us = gap.as_micros().min(u128::from(u64::MAX >> 1)) as u64;
        let b = Self::bucket(us).min(self.buckets.len() - 1);
        self.buckets[b] += 1;
        self.count += 1;
        self.max = self.max.max(gap);
    }

    fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let low = Self::lower_bound(b) as f64;
                let high = Self::lower_bound(b + 1) as f64;
                let value = ((low + high) / 2.0).min(self.max.as_micros() as f64);
                return Some(value / 1000.0);
            }
        }
        Some(self.max.as_secs_f64() * 1000.0)
    }
}

/// The incremental judge of one streamed exchange.
pub struct StreamJudge<'a> {
    req: RequestView<'a>,
    include_usage: bool,
    limits: StreamLimits,
    decoder: sse::Decoder,
    findings: Findings,
    sdk: Sdks,
    metrics: StreamMetrics,
    gaps: Gaps,
    last_data_at: Option<Duration>,
    last_event_at: Option<Duration>,
    // stream-level facts
    line_endings: sse::LineEndings,
    data_without_space: usize,
    unterminated: Option<sse::Event>,
    done_event: Option<usize>,
    after_done: usize,
    unicode_separators: usize,
    named_events: BTreeMap<String, usize>,
    // chunk-level facts
    first_chunk_event: Option<usize>,
    id: Option<String>,
    created: Option<i64>,
    model: Option<String>,
    envelope_reported: bool,
    vendor_keys: BTreeMap<String, usize>,
    choices: BTreeMap<u64, ChoiceState>,
    /// `choices: []` chunks with usage: how many, and the event of the first.
    usage_trailers: usize,
    first_usage_trailer: Option<usize>,
    usage_on_choice_chunks: usize,
    usage_null_or_absent: usize,
    /// The last non-null usage of any chunk (trailer or not) and its event: what the
    /// reassembled answer reports.
    last_usage: Option<(usize, Value)>,
    /// The event of the last chunk.
    last_chunk_event: Option<usize>,
    failure: Option<String>,
    aborted: Option<String>,
    /// Some event had a known SSE field or a comment: the body is an event stream at all.
    sse_seen: bool,
    /// Shapes of chunks that validated against the chunk schema.
    valid_shapes: std::collections::HashSet<u64>,
    first_byte_at: Option<Duration>,
}

impl<'a> StreamJudge<'a> {
    pub fn new(request: Option<&'a Value>, limits: StreamLimits) -> Self {
        let req = RequestView::new(request);
        let include_usage = request
            .and_then(|r| r.pointer("/stream_options/include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        StreamJudge {
            req,
            include_usage,
            limits,
            decoder: sse::Decoder::new(limits.sse),
            findings: Findings::default(),
            sdk: Sdks::default(),
            metrics: StreamMetrics::default(),
            gaps: Gaps::default(),
            last_data_at: None,
            last_event_at: None,
            line_endings: sse::LineEndings::default(),
            data_without_space: 0,
            unterminated: None,
            done_event: None,
            after_done: 0,
            unicode_separators: 0,
            named_events: BTreeMap::new(),
            first_chunk_event: None,
            id: None,
            created: None,
            model: None,
            envelope_reported: false,
            vendor_keys: BTreeMap::new(),
            choices: BTreeMap::new(),
            usage_trailers: 0,
            first_usage_trailer: None,
            usage_on_choice_chunks: 0,
            usage_null_or_absent: 0,
            last_usage: None,
            last_chunk_event: None,
            failure: None,
            aborted: None,
            sse_seen: false,
            valid_shapes: std::collections::HashSet::new(),
            first_byte_at: None,
        }
    }

    /// Feeds bytes that arrived at `at`. Returns `false` when the judge wants the transport to
    /// stop reading (a limit was hit; the reason is in the report).
    pub fn feed(&mut self, bytes: &[u8], at: Duration) -> bool {
        if self.first_byte_at.is_none() && !bytes.is_empty() {
            self.first_byte_at = Some(at);
            self.metrics.first_byte_ms = Some(ms(at));
        }
        let mut events = Vec::new();
        self.decoder.feed(bytes, at, &mut |e| events.push(e));
        for e in events {
            self.on_event(e);
        }
        if self.aborted.is_none()
            && let Some(last) = self.last_event_at.or(self.first_byte_at)
            && at.saturating_sub(last) > self.limits.max_event_gap
        {
            self.aborted = Some(format!(
                "no complete event for {:.1} s (bytes kept trickling in): over the gap limit",
                at.saturating_sub(last).as_secs_f64()
            ));
        }
        self.aborted.is_none()
    }

    /// Whether the transport should give up now (checked between reads).
    pub fn aborted(&self) -> Option<&str> {
        self.aborted.as_deref()
    }

    fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }

    fn on_event(&mut self, e: sse::Event) {
        self.metrics.events += 1;
        if self.metrics.events > self.limits.max_events && self.aborted.is_none() {
            self.aborted = Some(format!(
                "more than {} events: over the event limit",
                self.limits.max_events
            ));
        }
        // Parse the data once, for the SDK emulators and for the judge.
        let dispatched =
            e.data.is_some() || e.event.is_some() || e.id.is_some() || e.retry.is_some();
        let data = e.data.as_deref().unwrap_or("");
        let payload = (dispatched && !data.starts_with("[DONE]")).then(|| Payload::parse(data));
        self.sdk
            .on_event(&e, payload.as_ref().map(Payload::sdk_input));
        self.line_endings.lf |= e.line_endings.lf;
        self.line_endings.crlf |= e.line_endings.crlf;
        self.line_endings.cr |= e.line_endings.cr;
        if !e.terminated {
            self.unterminated = Some(e.clone());
        }
        if e.invalid_utf8 {
            self.push(
                Finding::new(
                    "sse.byte_fragmentation",
                    Violation,
                    format!("event {} holds bytes that are not valid UTF-8", e.index),
                )
                .at(format!("/events/{}", e.index))
                .sdk("decoders replace or reject the bytes: mojibake, or 'Unexpected end of JSON input'"),
            );
        }
        if e.oversized_line {
            self.push(
                Finding::new(
                    "sse.one_json_per_event",
                    Warning,
                    format!(
                        "event {} has a line over {} bytes: gatecheck cut it, and clients with line limits fail on it",
                        e.index, self.limits.sse.max_line_bytes
                    ),
                )
                .at(format!("/events/{}", e.index)),
            );
        }
        self.metrics.comments += e.comments.len();
        self.sse_seen |= !e.comments.is_empty() || dispatched;
        if e.is_comment_only() {
            return;
        }
        self.last_event_at = Some(e.at);
        if self.done_event.is_some() {
            self.after_done += 1;
            return;
        }
        let unknown: Vec<(String, String)> = e
            .unknown_fields()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        for (name, value) in unknown {
            let what = if name == "error" {
                "an `error:` field: the SDKs drop unknown fields, so the error message is silently lost".to_owned()
            } else if name.starts_with('[') || name.starts_with('{') {
                format!(
                    "a line without `data:` (`{}`): it is read as a field named `{name}` and dropped",
                    short(&Value::String(name.clone()))
                )
            } else {
                format!("an unknown field `{name}`")
            };
            self.push(
                Finding::new(
                    "sse.no_custom_fields",
                    Violation,
                    format!("event {} has {what}", e.index),
                )
                .at(format!("/events/{}", e.index))
                .actual(short(&Value::String(format!("{name}: {value}"))))
                .sdk_breaking(),
            );
            if name == "error" {
                let before_any_chunk = self.first_chunk_event.is_none();
                let message = format!("an `error:` field: {}", short(&Value::String(value)));
                self.stream_error(&e, message, before_any_chunk);
            }
        }
        if let Some(name) = &e.event {
            *self.named_events.entry(name.clone()).or_default() += 1;
        }
        if e.data_without_space {
            self.data_without_space += 1;
        }
        match (e.data.as_deref(), payload) {
            (Some(d), _) if d.starts_with("[DONE]") => {
                self.done_event = Some(e.index);
                if d != "[DONE]" {
                    self.push(
                        Finding::new(
                            "sse.done_sentinel",
                            Warning,
                            format!("the sentinel is written {d:?}"),
                        )
                        .at(format!("/events/{}", e.index)),
                    );
                }
            }
            (Some(d), Some(payload)) => self.on_data(&e, d, payload),
            (_, _) => {
                if e.event.is_some() || e.id.is_some() || e.retry.is_some() {
                    self.push(
                        Finding::new(
                            "sse.no_data_keepalive",
                            Violation,
                            format!("event {} has no data (`event: {}`)", e.index, e.event.as_deref().unwrap_or("")),
                        )
                        .at(format!("/events/{}", e.index))
                        .sdk("openai-python dispatches it and json.loads(\"\") raises JSONDecodeError"),
                    );
                }
            }
        }
    }

    fn on_data(&mut self, e: &sse::Event, data: &str, payload: Payload) {
        if e.oversized_line {
            return; // cut at the line limit: reported as such, its content cannot be judged
        }
        if let Some(prev) = self.last_data_at {
            self.gaps.add(e.at.saturating_sub(prev));
        }
        self.last_data_at = Some(e.at);
        self.metrics.last_event_ms = Some(ms(e.at));
        if data.contains(['\u{2028}', '\u{2029}', '\u{85}']) {
            self.unicode_separators += 1;
        }
        let at = |suffix: &str| format!("/events/{}{suffix}", e.index);
        match payload {
            Payload::Invalid(err) => {
                let trimmed = data.trim();
                if trimmed.is_empty() || !trimmed.contains(['{', '[']) {
                    self.push(
                        Finding::new(
                            "sse.no_data_keepalive",
                            Violation,
                            format!(
                                "event {} is a data keep-alive ({}), not a JSON chunk",
                                e.index,
                                short(&Value::String(data.to_owned()))
                            ),
                        )
                        .at(at(""))
                        .sdk("openai-python raises json.JSONDecodeError and openai-node a SyntaxError ('Could not parse message into JSON')"),
                    );
                } else {
                    let how = if err.contains("trailing characters") {
                        "two JSON values glued together"
                    } else {
                        "not one complete JSON value"
                    };
                    self.push(
                        Finding::new(
                            "sse.one_json_per_event",
                            Violation,
                            format!("event {} data is {how}: {err}", e.index),
                        )
                        .at(at(""))
                        .actual(short(&Value::String(data.chars().take(120).collect())))
                        .sdk_breaking(),
                    );
                }
            }
            Payload::Other(other) => self.push(
                Finding::new(
                    "sse.no_data_keepalive",
                    Violation,
                    format!(
                        "event {} data is a JSON {}, not a chunk object",
                        e.index,
                        crate::schema::type_name(&other)
                    ),
                )
                .at(at(""))
                .actual(short(&other))
                .sdk("the SDKs yield it as a chunk; code reading `chunk.choices` fails"),
            ),
            Payload::Object { facts, raw } => self.on_payload(e, facts, raw),
        }
    }

    fn on_payload(&mut self, e: &sse::Event, facts: ChunkFacts, raw: Option<Map<String, Value>>) {
        let at = |suffix: &str| format!("/events/{}{suffix}", e.index);
        let before_any_chunk = self.first_chunk_event.is_none();
        if let Some(error) = &facts.error {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned);
            match (error, &message) {
                (Value::Object(_), Some(_)) => {}
                (Value::String(s), _) => self.push(
                    Finding::new(
                        "err.in_band_stream_error_shape",
                        Violation,
                        format!(
                            "event {}: `error` is a string ({}), not an object with `message`",
                            e.index,
                            short(&Value::String(s.clone()))
                        ),
                    )
                    .at(at("/error"))
                    .sdk("openai-python raises APIError with the generic 'An error occurred during streaming': the message is lost"),
                ),
                _ => self.push(
                    Finding::new(
                        "err.in_band_stream_error_shape",
                        Violation,
                        format!("event {}: the `error` object has no string `message`", e.index),
                    )
                    .at(at("/error"))
                    .actual(short(error)),
                ),
            }
            let message = message.unwrap_or_else(|| short(error));
            self.stream_error(e, message, before_any_chunk);
            // OpenRouter sends the error beside choices ending in `finish_reason: "error"`: the
            // choices are judged too.
            if matches!(&facts.choices, Choices::List(list) if !list.is_empty()) {
                self.on_chunk(e, facts, raw);
            }
            return;
        }
        let flat_error = raw.as_ref().is_some_and(|obj| {
            let no_choices = !matches!(obj.get("choices"), Some(Value::Array(a)) if !a.is_empty());
            no_choices
                && (obj.get("object").and_then(Value::as_str) == Some("error")
                    || (obj.contains_key("message")
                        && (obj.contains_key("code") || obj.contains_key("type")))
                    || obj.keys().any(|k| k.starts_with("error_")))
        });
        if flat_error || e.event.as_deref() == Some("error") {
            let obj = raw.unwrap_or_default();
            let message = obj
                .get("message")
                .or_else(|| obj.get("error_message"))
                .map(|m| m.as_str().map_or_else(|| short(m), str::to_owned));
            self.push(
                Finding::new(
                    "err.in_band_stream_error_shape",
                    Violation,
                    format!(
                        "event {} is an error without a top-level `error` object{}",
                        e.index,
                        if flat_error { " (fields flat at the top level)" } else { " (`event: error`)" }
                    ),
                )
                .at(at(""))
                .actual(short(&Value::Object(obj)))
                .sdk("openai-python and openai-node do not raise: it passes as a chunk without choices, and the truncated answer looks successful"),
            );
            self.stream_error(
                e,
                message.unwrap_or_else(|| "an error".to_owned()),
                before_any_chunk,
            );
            return;
        }
        if let Some(name) = e.event.as_deref() {
            self.push(
                Finding::new(
                    "sse.no_named_events",
                    Violation,
                    format!("chunk event {} is named `event: {name}`", e.index),
                )
                .at(at(""))
                .sdk("openai-node yields `{event, data}` instead of the chunk (openai-python 1.x before 2025 too): `chunk.choices` is undefined"),
            );
        }
        self.on_chunk(e, facts, raw);
    }

    fn stream_error(&mut self, e: &sse::Event, message: String, before_any_chunk: bool) {
        if before_any_chunk {
            self.push(
                Finding::new(
                    "sse.pre_stream_errors_use_http_status",
                    Warning,
                    "the error came as the first event of a 200 stream; an error known before the first token is a 4xx/5xx JSON answer",
                )
                .at(format!("/events/{}", e.index))
                .expected("a 4xx or 5xx status")
                .actual("200 text/event-stream"),
            );
        }
        if self.failure.is_none() {
            let after = self.first_chunk_event.map_or(0, |_| self.metrics.chunks);
            self.failure = Some(format!(
                "the stream carried an error after {after} chunk(s): {}",
                short(&Value::String(message))
            ));
        }
    }

    fn on_chunk(&mut self, e: &sse::Event, facts: ChunkFacts, raw: Option<Map<String, Value>>) {
        let n = e.index;
        let at = |suffix: &str| format!("/events/{n}{suffix}");
        self.metrics.chunks += 1;
        self.first_chunk_event.get_or_insert(n);
        self.last_chunk_event = Some(n);
        self.envelope(n, &facts);
        if let Some(raw) = &raw {
            self.structure(n, raw);
        }
        match &facts.usage {
            Some(u) => self.last_usage = Some((n, u.clone())),
            None => self.usage_null_or_absent += 1,
        }
        match &facts.choices {
            Choices::List(list) if list.is_empty() => {
                if facts.usage.is_some() {
                    self.usage_trailers += 1;
                    self.first_usage_trailer.get_or_insert(n);
                    if !self.include_usage {
                        self.push(
                            Finding::new(
                                "chunk.empty_choices_only_when_allowed",
                                Warning,
                                format!("chunk {n} is a `choices: []` usage trailer although `include_usage` was not asked for"),
                            )
                            .at(at("/choices"))
                            .sdk("`chunk.choices[0]` raises IndexError in user code that did not ask for the trailer"),
                        );
                    }
                } else if !facts.prompt_filter_results {
                    self.push(
                        Finding::new(
                            "chunk.empty_choices_only_when_allowed",
                            Warning,
                            format!("chunk {n} has `choices: []` without being the usage trailer"),
                        )
                        .at(at("/choices"))
                        .sdk("`chunk.choices[0]` raises IndexError in user code"),
                    );
                }
            }
            Choices::List(list) => {
                if facts.usage.is_some() {
                    self.usage_on_choice_chunks += 1;
                }
                for (j, choice) in list.iter().enumerate() {
                    self.on_choice(n, j, choice, e.at);
                }
            }
            other => {
                if facts.usage.is_some() {
                    self.usage_trailers += 1;
                    self.first_usage_trailer.get_or_insert(n);
                }
                self.push(
                Finding::new(
                    "chunk.choices_is_array",
                    Violation,
                    format!(
                        "chunk {n} has {} `choices`",
                        if matches!(other, Choices::Missing) { "no" } else { "a non-array" }
                    ),
                )
                .at(at("/choices"))
                .sdk("openai-python's stream helper iterates `chunk.choices` and raises TypeError; `chunk.choices[0]` fails in user code"),
            );
            }
        }
        // The chunk schema last, where no specific check already spoke about the same place.
        // A chunk that took the fast path is valid by construction.
        if let Some(raw) = raw {
            self.validate_chunk(n, Value::Object(raw));
        }
    }

    /// Checks only a chunk's raw map can tell: vendor fields, a camelCase `finishReason`, the
    /// types of `system_fingerprint` and `service_tier`.
    fn structure(&mut self, n: usize, chunk: &Map<String, Value>) {
        let at = format!("/events/{n}");
        for k in chunk.keys() {
            if !CHUNK_KEYS.contains(&k.as_str()) {
                *self.vendor_keys.entry(k.clone()).or_default() += 1;
            }
        }
        if let Some(Value::Array(choices)) = chunk.get("choices") {
            for (j, choice) in choices.iter().enumerate() {
                let Some(obj) = choice.as_object() else {
                    continue;
                };
                for k in obj.keys() {
                    if !CHOICE_KEYS.contains(&k.as_str()) && k != "finishReason" {
                        *self
                            .vendor_keys
                            .entry(format!("choices[].{k}"))
                            .or_default() += 1;
                    }
                }
                if obj.contains_key("finishReason") {
                    self.push(
                        Finding::new(
                            "chunk.finish_reason_once_at_end",
                            Violation,
                            format!("chunk {n}: a camelCase `finishReason` beside `finish_reason`"),
                        )
                        .at(format!("{at}/choices/{j}/finishReason")),
                    );
                }
                if let Some(Value::Object(delta)) = obj.get("delta") {
                    for k in delta.keys() {
                        if !DELTA_KEYS.contains(&k.as_str()) && !k.starts_with("reasoning") {
                            *self.vendor_keys.entry(format!("delta.{k}")).or_default() += 1;
                        }
                    }
                }
            }
        }
        for f in super::chat::fingerprint_and_tier(chunk, &at) {
            self.push(f);
        }
    }

    fn validate_chunk(&mut self, n: usize, chunk: Value) {
        let at = format!("/events/{n}");
        // Chunks of one stream mostly differ only in their text: a chunk whose shape (everything
        // but content-like strings) was already validated is valid too.
        let shape = shape_hash(&chunk);
        if self.valid_shapes.contains(&shape) {
            return;
        }
        if crate::schema::is_valid("CreateChatCompletionStreamResponse", &chunk) {
            if self.valid_shapes.len() < 4096 {
                self.valid_shapes.insert(shape);
            }
            return;
        }
        for err in crate::schema::validate("CreateChatCompletionStreamResponse", &chunk) {
            if super::tolerated_spec_gap(&err.instance_path, &chunk) {
                continue;
            }
            let path = format!("{at}{}", err.instance_path);
            let covered = self.findings.paths.iter().any(|p| {
                p == &path
                    || p.starts_with(&format!("{path}/"))
                    || path.starts_with(&format!("{p}/"))
            });
            if !covered {
                self.push(
                    Finding::new(
                        "chunk.schema",
                        Violation,
                        format!("chunk {n}: {}", err.message),
                    )
                    .at(path),
                );
            }
        }
    }

    fn envelope(&mut self, n: usize, facts: &ChunkFacts) {
        let at = format!("/events/{n}");
        if facts.object.as_deref() != Some("chat.completion.chunk") && !self.envelope_reported {
            self.envelope_reported = true;
            self.push(
                Finding::new(
                    "chunk.envelope",
                    Warning,
                    format!("chunk {n}: `object` must be \"chat.completion.chunk\""),
                )
                .at(format!("{at}/object"))
                .expected("\"chat.completion.chunk\"")
                .actual(
                    facts
                        .object
                        .as_deref()
                        .map_or("(missing)".to_owned(), |o| format!("{o:?}")),
                ),
            );
        }
        match facts.id.as_deref() {
            Some("") | None => {
                if !self
                    .findings
                    .list
                    .iter()
                    .any(|f| f.check == "chunk.envelope" && f.message.contains("`id`"))
                {
                    self.push(
                        Finding::new(
                            "chunk.envelope",
                            Warning,
                            format!("chunk {n} has no (or an empty) `id`"),
                        )
                        .at(format!("{at}/id")),
                    );
                }
            }
            Some(id) => match &self.id {
                None => self.id = Some(id.to_owned()),
                Some(first) if first != id => {
                    if !self
                        .findings
                        .list
                        .iter()
                        .any(|f| f.message.contains("changes its `id`"))
                    {
                        let first = first.clone();
                        self.push(
                            Finding::new(
                                "chunk.envelope",
                                Warning,
                                format!("the stream changes its `id` at chunk {n}; every chunk has the same id"),
                            )
                            .at(format!("{at}/id"))
                            .expected(format!("{first:?}"))
                            .actual(format!("{id:?}")),
                        );
                    }
                }
                Some(_) => {}
            },
        }
        if let Some(created) = facts.created {
            match self.created {
                None => self.created = Some(created),
                Some(first) if first != created => {
                    if !self
                        .findings
                        .list
                        .iter()
                        .any(|f| f.message.contains("`created`"))
                    {
                        self.push(
                            Finding::new(
                                "chunk.envelope",
                                Warning,
                                format!("`created` changes at chunk {n}"),
                            )
                            .at(format!("{at}/created"))
                            .expected(first)
                            .actual(created),
                        );
                    }
                }
                Some(_) => {}
            }
        }
        if self.model.is_none() {
            self.model = facts.model.as_deref().map(str::to_owned);
        }
    }

    fn on_choice(&mut self, n: usize, j: usize, choice: &ChoiceFacts, at_time: Duration) {
        let at = |suffix: &str| format!("/events/{n}/choices/{j}{suffix}");
        let index = match choice.index {
            Some(i) => i,
            None => {
                self.push(
                    Finding::new("chunk.delta_present", Violation, format!("chunk {n}: choice {j} has no `index`"))
                        .at(at("/index"))
                        .sdk("openai-python's stream helper and openai-node index their snapshot by `index`"),
                );
                j as u64
            }
        };
        let empty = DeltaFacts::default();
        let delta = match &choice.delta {
            Some(d) => d,
            None => {
                self.push(
                    Finding::new(
                        "chunk.delta_present",
                        Violation,
                        format!("chunk {n}: choice {j} has no `delta` object"),
                    )
                    .at(at("/delta"))
                    .sdk("openai-python's stream helper calls `choice.delta.to_dict()` and raises"),
                );
                &empty
            }
        };
        let mut payload = false;
        let mut findings = Vec::new();
        {
            let state = self.choices.entry(index).or_default();
            state.chunks += 1;
            if let Some(role) = &delta.role {
                state.roles += 1;
                if state.roles == 2 {
                    findings.push(
                        Finding::new(
                            "chunk.role_only_once",
                            Violation,
                            format!("choice {index} repeats `role` (first again at chunk {n})"),
                        )
                        .at(at("/delta/role"))
                        .sdk("openai-python's stream helper concatenates it: role becomes \"assistantassistant...\""),
                    );
                }
                if state.first_role_event.is_none() {
                    if let Some(p) = state.first_payload_event {
                        findings.push(
                            Finding::new(
                                "chunk.first_delta_has_role",
                                Warning,
                                format!("choice {index} gets its `role` at chunk {n}, after content at chunk {p}"),
                            )
                            .at(at("/delta/role"))
                            .sdk("LangChain and other clients drop deltas that come before the role"),
                        );
                    }
                    state.first_role_event = Some(n);
                    state.role = Some(role.to_string());
                }
            }
            if let Some(s) = &delta.content {
                if s == "null" {
                    findings.push(
                        Finding::new(
                            "chunk.content_null_ok",
                            Warning,
                            format!("chunk {n}: `content` is the string \"null\""),
                        )
                        .at(at("/delta/content")),
                    );
                }
                if !s.is_empty() {
                    payload = true;
                    if state.last_content.len() >= 2
                        && s.len() > state.last_content.len()
                        && s.starts_with(state.last_content.as_str())
                    {
                        state.cumulative += 1;
                    }
                    state.last_content.clear();
                    state.last_content.push_str(&s[..s.len().min(4096)]);
                    state.content.push(s);
                    state.content_deltas += 1;
                }
            }
            if let Some(s) = delta.refusal.as_deref().filter(|s| !s.is_empty()) {
                payload = true;
                state.refusal.push(s);
            }
            for (k, s) in &delta.reasoning {
                if !s.is_empty() {
                    payload = true;
                    state.reasoning.entry(k.clone()).or_default().push(s);
                }
            }
            if !delta.images.is_empty() {
                payload = true;
                let room = MAX_IMAGES.saturating_sub(state.images.len());
                state.images.extend(delta.images.iter().take(room).cloned());
            }
            if let Some(lp) = &choice.logprobs {
                state.logprobs_seen = true;
                if let Some(tokens) = lp.get("content").and_then(Value::as_array)
                    && state.logprobs.len() < 4096
                {
                    state.logprobs.extend(tokens.iter().cloned());
                }
            }
        }
        for (k, tool) in delta.tool_calls.iter().enumerate() {
            payload |= self.on_tool_delta(n, index, j, k, tool);
        }
        let state = self.choices.get_mut(&index).expect("inserted above");
        if payload {
            if state.finish_reason.is_some() {
                state.payload_after_finish += 1;
            }
            if state.first_payload_event.is_none() {
                state.first_payload_event = Some(n);
            }
            if self.metrics.first_token_ms.is_none() {
                self.metrics.first_token_ms = Some(ms(at_time));
            }
        }
        match &choice.finish_reason {
            Some(r) if r.is_empty() => findings.push(
                Finding::new(
                    "chunk.finish_reason_once_at_end",
                    Violation,
                    format!("chunk {n}: `finish_reason` is \"\" instead of null"),
                )
                .at(at("/finish_reason"))
                .sdk("clients that stop at the first non-null finish_reason stop here"),
            ),
            Some(r) => {
                state.finishes += 1;
                if state.finishes == 2 {
                    findings.push(
                        Finding::new(
                            "chunk.finish_reason_once_at_end",
                            Violation,
                            format!("choice {index} has a finish_reason on more than one chunk (again at chunk {n})"),
                        )
                        .at(at("/finish_reason"))
                        .sdk("agents stop at the first non-null finish_reason and lose the rest"),
                    );
                }
                if state.finish_reason.is_none() {
                    state.finish_event = Some(n);
                }
                state.finish_reason = Some(r.to_string());
                if r == "error" {
                    findings.push(
                        Finding::new(
                            "err.finish_reason_error",
                            Warning,
                            format!("choice {index} ends with `finish_reason: \"error\"` at chunk {n}: the generation failed"),
                        )
                        .at(at("/finish_reason"))
                        .sdk("typed SDKs reject the value; python and node pass it through and clients treat the answer as complete"),
                    );
                    if self.failure.is_none() {
                        self.failure = Some(format!(
                            "choice {index} ended with finish_reason \"error\" at chunk {n}"
                        ));
                    }
                } else if !FINISH_REASONS.contains(&r.as_ref()) {
                    findings.push(
                        Finding::new(
                            "chunk.finish_reason_enum",
                            Violation,
                            format!("chunk {n}: `finish_reason` {r:?} is not one OpenAI sends"),
                        )
                        .at(at("/finish_reason"))
                        .expected(FINISH_REASONS.join(" | "))
                        .actual(format!("{r:?}"))
                        .sdk_breaking(),
                    );
                }
            }
            None => {}
        }
        for f in findings {
            self.push(f);
        }
    }

    /// One `delta.tool_calls[k]` entry. Returns whether it carried anything.
    fn on_tool_delta(
        &mut self,
        n: usize,
        choice: u64,
        j: usize,
        k: usize,
        entry: &ToolFacts,
    ) -> bool {
        let at = |suffix: &str| format!("/events/{n}/choices/{j}/delta/tool_calls/{k}{suffix}");
        let index = match entry.index {
            Some(i) => i,
            None => {
                self.push(
                    Finding::new(
                        "tools.delta_index_present",
                        Violation,
                        format!("chunk {n}: a tool-call delta has no `index`"),
                    )
                    .at(at("/index"))
                    .sdk_breaking(),
                );
                k as u64
            }
        };
        let mut findings = Vec::new();
        let state = self.choices.get_mut(&choice).expect("the choice exists");
        let tool = state.tools.entry(index).or_default();
        let first = tool.deltas == 0;
        tool.deltas += 1;
        let mut carried = false;
        let mut repeated = Vec::new();
        if let Some(id) = entry.id.as_deref().filter(|id| !id.is_empty()) {
            carried = true;
            match &tool.id {
                None => tool.id = Some(id.to_owned()),
                Some(first_id) => {
                    repeated.push("id");
                    if first_id != id && !tool.id_changed {
                        tool.id_changed = true;
                        findings.push(
                            Finding::new(
                                "tools.id_stable",
                                Warning,
                                format!("tool call {index} changes its id at chunk {n}"),
                            )
                            .at(at("/id"))
                            .expected(format!("{first_id:?}"))
                            .actual(format!("{id:?}")),
                        );
                    }
                }
            }
        }
        if let Some(kind) = &entry.kind {
            if tool.kind.is_some() && !first {
                repeated.push("type");
            }
            tool.kind.get_or_insert_with(|| kind.to_string());
        }
        if let Some(name) = entry.name.as_deref().filter(|n| !n.is_empty()) {
            carried = true;
            if tool.name.is_some() {
                repeated.push("function.name");
            }
            tool.name.get_or_insert_with(|| name.to_owned());
        }
        match &entry.arguments {
            Arguments::Absent => {}
            Arguments::Str(a) => {
                if !a.is_empty() {
                    carried = true;
                    tool.fragments += 1;
                    tool.arguments.push(a);
                }
            }
            Arguments::Other(other) => findings.push(
                Finding::new(
                    "tools.arguments_is_string",
                    Violation,
                    format!(
                        "chunk {n}: tool-call arguments are {}, not a string fragment",
                        crate::schema::type_name(other)
                    ),
                )
                .at(at("/function/arguments"))
                .actual(short(other))
                .sdk_breaking(),
            ),
        }
        if !repeated.is_empty() && !first {
            tool.repeats += 1;
            if tool.repeats == 1 {
                findings.push(
                    Finding::new(
                        "tools.identity_on_first_delta_only",
                        Violation,
                        format!(
                            "tool call {index} repeats {} on a later delta (chunk {n})",
                            repeated.join(", ")
                        ),
                    )
                    .at(at(""))
                    .sdk_breaking(),
                );
            }
        }
        for f in findings {
            self.push(f);
        }
        carried
    }

    /// The stream ended (completely, or not: `broken` says why). Returns the report.
    pub fn finish(mut self, end_at: Duration, broken: Option<&str>) -> StreamReport {
        let mut tail = Vec::new();
        self.decoder.finish(end_at, &mut |e| tail.push(e));
        // When the connection broke (or the judge stopped reading), a half-received last event
        // is the cut's doing, not the server's: it is not judged.
        if broken.is_none() && self.aborted.is_none() {
            for e in tail {
                self.on_event(e);
            }
        }
        self.metrics.bytes = self.decoder.facts().bytes;
        let incomplete = broken.is_some() || self.aborted.is_some();
        let not_sse = !self.sse_seen;
        if !not_sse {
            self.stream_level(incomplete);
            self.per_choice(incomplete);
        }
        self.metrics.gap_p50_ms = self.gaps.quantile(0.50);
        self.metrics.gap_p95_ms = self.gaps.quantile(0.95);
        self.metrics.gap_max_ms = (self.gaps.count > 0).then(|| ms(self.gaps.max));
        let reassembled = self.reassemble();
        let sdk = self.sdk.finish(broken, self.aborted.as_deref());
        StreamReport {
            findings: self.findings.finish(),
            reassembled,
            metrics: self.metrics,
            sdk,
            failure: self.failure,
            aborted: self.aborted,
            not_sse,
        }
    }

    fn stream_level(&mut self, incomplete: bool) {
        if let Some(e) = self.unterminated.clone() {
            let done = e.data.as_deref().is_some_and(|d| d.starts_with("[DONE]"));
            let (severity, what) = if done {
                (Warning, "`data: [DONE]` ends without a blank line: the SDKs drop it (harmless: the stream ends anyway), strict clients wait for it".to_owned())
            } else if e.is_comment_only() {
                (
                    Info,
                    "a trailing comment ends without a blank line".to_owned(),
                )
            } else {
                (
                    Violation,
                    format!(
                        "the last event ({}) ends without a blank line: openai-python and openai-node silently drop it",
                        short(&Value::String(e.data.clone().unwrap_or_default()))
                    ),
                )
            };
            if severity == Violation || !incomplete {
                let mut f = Finding::new("sse.event_terminated", severity, what)
                    .at(format!("/events/{}", e.index));
                if severity == Violation {
                    f = f.sdk_breaking();
                }
                self.push(f);
            }
        }
        if self.done_event.is_none() && self.failure.is_none() && !incomplete {
            self.push(
                Finding::new(
                    "sse.done_sentinel",
                    Warning,
                    "the stream ends without `data: [DONE]`",
                )
                .expected("data: [DONE] as the last event")
                .actual("end of body"),
            );
        }
        if self.after_done > 0 {
            self.push(Finding::new(
                "sse.done_sentinel",
                Warning,
                format!(
                    "{} event(s) follow `data: [DONE]`: the SDKs never read them",
                    self.after_done
                ),
            ));
        }
        let le = self.line_endings;
        if le.any_other_than_lf() {
            let kinds: Vec<&str> = [(le.crlf, "CRLF"), (le.cr, "CR")]
                .iter()
                .filter(|(b, _)| *b)
                .map(|(_, s)| *s)
                .collect();
            self.push(
                Finding::new(
                    "sse.line_endings",
                    Warning,
                    format!(
                        "events end in {}: valid SSE, but clients splitting on \"\\n\\n\" break",
                        kinds.join(" and ")
                    ),
                )
                .expected("LF")
                .actual(kinds.join(", ")),
            );
        }
        if self.data_without_space > 0 {
            self.push(Finding::new(
                "sse.data_field_space",
                Warning,
                format!(
                    "{} event(s) write `data:` without the space (`data:{{...}}`)",
                    self.data_without_space
                ),
            ));
        }
        if self.metrics.comments > 0 {
            self.push(Finding::new(
                "sse.comments_ignored",
                Info,
                format!(
                    "{} comment line(s) (keep-alives) in the stream",
                    self.metrics.comments
                ),
            ));
        }
        if self.unicode_separators > 0 {
            self.push(Finding::new(
                "sse.unicode_line_separators",
                Info,
                format!("{} event(s) carry raw U+2028/U+2029/U+0085: fine for the SDKs, split by str.splitlines() readers", self.unicode_separators),
            ));
        }
        let named: Vec<String> = self
            .named_events
            .iter()
            .filter(|(k, _)| k.as_str() != "error")
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        if !named.is_empty() && !self.findings.has("sse.no_named_events") {
            self.push(
                Finding::new(
                    "sse.no_named_events",
                    Violation,
                    format!("named events: {}", named.join(", ")),
                )
                .sdk_breaking(),
            );
        }
        if !self.vendor_keys.is_empty() {
            let keys: Vec<&str> = self.vendor_keys.keys().map(String::as_str).collect();
            self.push(
                Finding::new(
                    "chunk.unknown_fields_tolerated",
                    Info,
                    format!("vendor fields in chunks: {}", keys.join(", ")),
                )
                .actual(keys.join(", ")),
            );
        }
        // Usage discipline.
        let trailers = self.usage_trailers;
        if self.include_usage {
            if trailers == 0
                && self.usage_on_choice_chunks == 0
                && !incomplete
                && self.failure.is_none()
            {
                self.push(Finding::new(
                    "usage.include_usage_trailer",
                    Warning,
                    "`stream_options.include_usage` was asked for, but no chunk carries usage (the option is ignored)",
                ));
            } else if trailers == 0 && self.usage_on_choice_chunks > 0 {
                self.push(Finding::new(
                    "usage.include_usage_trailer",
                    Warning,
                    "usage comes on a chunk with choices, not in a separate `choices: []` trailer",
                ));
            } else if trailers > 1 {
                self.push(Finding::new(
                    "usage.include_usage_trailer",
                    Warning,
                    format!("{trailers} usage trailers; exactly one is sent"),
                ));
            }
            if trailers >= 1 && self.usage_on_choice_chunks > 0 {
                self.push(Finding::new(
                    "chunk.usage_field_discipline",
                    Warning,
                    format!("{} chunk(s) with choices carry usage besides the trailer; they should carry `usage: null`", self.usage_on_choice_chunks),
                ));
            }
            let last_finish = self.choices.values().filter_map(|c| c.finish_event).max();
            if let (Some(t), Some(last_finish)) = (self.first_usage_trailer, last_finish)
                && t < last_finish
            {
                self.push(Finding::new(
                    "usage.include_usage_trailer",
                    Warning,
                    format!("the usage trailer (chunk {t}) comes before the last finish_reason (chunk {last_finish})"),
                ));
            } else if let (Some((u, _)), Some(last)) = (&self.last_usage, self.last_chunk_event)
                && *u < last
            {
                // The stream helpers copy each chunk's `usage` over the last one (openai-python
                // `ChatCompletionStreamState._accumulate_chunk`: `completion_snapshot.usage =
                // chunk.usage`; openai-node `#accumulateChatCompletion`: `Object.assign(snapshot,
                // rest)`), so usage followed by more chunks is lost to them.
                self.push(
                    Finding::new(
                        "usage.include_usage_trailer",
                        Warning,
                        format!("the last usage (chunk {u}) is followed by more chunks (the last is chunk {last}); usage belongs on the last chunk before [DONE]"),
                    )
                    .sdk("openai-python's stream helper (and openai-node's, when the later chunks say `usage: null`) keeps the last chunk's usage: the final completion has none"),
                );
            }
        } else if trailers > 0 || self.usage_on_choice_chunks > 0 {
            let every = self.usage_on_choice_chunks + trailers >= self.metrics.chunks.max(2) - 1;
            self.push(Finding::new(
                "chunk.usage_field_discipline",
                Warning,
                if every {
                    "usage is on every chunk although `include_usage` was not asked for: consumers that treat usage as the end stop early".to_owned()
                } else {
                    "usage is sent although `stream_options.include_usage` was not asked for".to_owned()
                },
            ));
        }
        // Incremental delivery: a long answer in one piece, or everything at once.
        let total_content: usize = self.choices.values().map(|c| c.content.len).sum();
        let content_chunks: usize = self.choices.values().map(|c| c.content_deltas).sum();
        if total_content >= 200 && content_chunks <= 1 {
            self.push(Finding::new(
                "sse.incremental_delivery",
                Info,
                format!("{total_content} bytes of content arrived in one chunk: the answer is not streamed"),
            ));
        } else if content_chunks >= 10
            && let Some(max) = (self.gaps.count > 0).then_some(self.gaps.max)
            && max < Duration::from_micros(200)
            && self.metrics.first_token_ms.is_some_and(|t| t > 100.0)
        {
            self.push(Finding::new(
                "sse.incremental_delivery",
                Info,
                "every chunk arrived at once after the first token was late: the stream looks buffered",
            ));
        }
    }

    fn per_choice(&mut self, incomplete: bool) {
        let stopped_early = incomplete || self.failure.is_some();
        let mut findings = Vec::new();
        for (index, c) in &self.choices {
            if c.first_role_event.is_none() && c.chunks > 0 {
                findings.push(
                    Finding::new("chunk.first_delta_has_role", Violation, format!("choice {index} never gets a `role`"))
                        .sdk(format!("openai-node's ChatCompletionStream throws `missing role for choice {index}`")),
                );
            }
            if c.finish_reason.is_none() && !stopped_early {
                findings.push(
                    Finding::new("chunk.finish_reason_once_at_end", Violation, format!("choice {index} never gets a finish_reason"))
                        .sdk(format!("openai-node's finalChatCompletion() throws `missing finish_reason for choice {index}`")),
                );
            }
            if c.payload_after_finish > 0 {
                findings.push(
                    Finding::new(
                        "chunk.finish_reason_once_at_end",
                        Violation,
                        format!("choice {index} gets {} more content delta(s) after its finish_reason (chunk {})", c.payload_after_finish, c.finish_event.unwrap_or(0)),
                    )
                    .sdk("agents stop at the first non-null finish_reason and lose the rest"),
                );
            }
            if c.cumulative >= 2 {
                findings.push(
                    Finding::new(
                        "chunk.delta_is_incremental",
                        Warning,
                        format!("choice {index}: {} content deltas repeat all the text so far (cumulative, not incremental)", c.cumulative),
                    )
                    .sdk("every client concatenates deltas: the text is repeated"),
                );
            }
            for (t, tool) in &c.tools {
                if tool.arguments.len > 64 && tool.fragments <= 1 {
                    findings.push(Finding::new(
                        "tools.arguments_streaming_granularity",
                        Info,
                        format!("choice {index}, tool call {t}: {} bytes of arguments arrive in one fragment", tool.arguments.len),
                    ));
                }
            }
        }
        if self.choices.is_empty() && !stopped_early {
            findings.push(
                Finding::new(
                    "chunk.first_delta_has_role",
                    Violation,
                    "the stream carries no choice at all: no role, no content",
                )
                .sdk("openai-node's finalChatCompletion() throws; consumers get an empty answer"),
            );
            findings.push(
                Finding::new(
                    "chunk.finish_reason_once_at_end",
                    Violation,
                    "the stream ends without any choice, so without a finish_reason",
                )
                .sdk("openai-node's finalChatCompletion() throws; agents cannot tell why the turn ended"),
            );
        }
        if let Some(n) = self.req.n.filter(|&n| n > 1)
            && !stopped_early
        {
            let missing: Vec<u64> = (0..n).filter(|i| !self.choices.contains_key(i)).collect();
            if !missing.is_empty() {
                findings.push(
                    Finding::new(
                        "chunk.n_choices",
                        Warning,
                        format!(
                            "asked for n={n}, but choice(s) {missing:?} never appear in the stream"
                        ),
                    )
                    .expected(format!("indices 0..{}", n - 1))
                    .actual(format!("{:?}", self.choices.keys().collect::<Vec<_>>())),
                );
            }
        }
        if self.req.logprobs
            && !stopped_early
            && self.choices.values().all(|c| !c.logprobs_seen)
            && !self.choices.is_empty()
        {
            findings.push(Finding::new(
                "req.logprobs_params",
                Warning,
                "`logprobs: true` was accepted but no chunk carries logprobs (silently dropped)",
            ));
        }
        for f in findings {
            self.push(f);
        }
    }

    /// The stream's equivalent of a non-stream completion.
    fn reassemble(&self) -> Value {
        let choices: Vec<Value> = self
            .choices
            .iter()
            .map(|(index, c)| {
                let mut message = Map::new();
                message.insert(
                    "role".into(),
                    json!(c.role.clone().unwrap_or_else(|| "assistant".into())),
                );
                let content = if c.content.len > 0 || c.tools.is_empty() {
                    json!(c.content.text)
                } else {
                    Value::Null
                };
                message.insert("content".into(), content);
                message.insert(
                    "refusal".into(),
                    if c.refusal.len > 0 {
                        json!(c.refusal.text)
                    } else {
                        Value::Null
                    },
                );
                for (k, v) in &c.reasoning {
                    message.insert(k.clone(), json!(v.text));
                }
                if !c.images.is_empty() {
                    message.insert("images".into(), Value::Array(c.images.clone()));
                }
                if !c.tools.is_empty() {
                    let calls: Vec<Value> = c
                        .tools
                        .values()
                        .map(|t| {
                            let mut call = Map::new();
                            if let Some(id) = &t.id {
                                call.insert("id".into(), json!(id));
                            }
                            if let Some(kind) = &t.kind {
                                call.insert("type".into(), json!(kind));
                            }
                            let mut function = Map::new();
                            if let Some(name) = &t.name {
                                function.insert("name".into(), json!(name));
                            }
                            function.insert("arguments".into(), json!(t.arguments.text));
                            call.insert("function".into(), Value::Object(function));
                            Value::Object(call)
                        })
                        .collect();
                    message.insert("tool_calls".into(), Value::Array(calls));
                }
                let logprobs = if c.logprobs_seen {
                    json!({"content": c.logprobs, "refusal": null})
                } else {
                    Value::Null
                };
                json!({
                    "index": index,
                    "message": Value::Object(message),
                    "finish_reason": c.finish_reason,
                    "logprobs": logprobs,
                })
            })
            .collect();
        let mut body = json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        });
        // Usage from whichever chunk carried it last, trailer or not: what user code reading
        // `chunk.usage` on every chunk gets (a usage on a chunk with choices is reported by
        // `usage.include_usage_trailer`, not lost here).
        if let Some((_, usage)) = &self.last_usage {
            body["usage"] = usage.clone();
        }
        body
    }
}

/// `chunk.stream_matches_nonstream`: the reassembled stream (the judged body) against the same
/// request answered without streaming.
pub(super) fn compare_with_nonstream(cx: &mut super::Cx, companion: &crate::exchange::Exchange) {
    let Some(stream) = cx.json().cloned() else {
        return;
    };
    let status = companion.status().unwrap_or(0);
    let other: Option<Value> = serde_json::from_slice(&companion.body).ok();
    let Some(other) = other.filter(|_| (200..300).contains(&status)) else {
        cx.push(
            Finding::new(
                "chunk.stream_matches_nonstream",
                Warning,
                format!("the same request without streaming could not be compared: it was answered {status}"),
            )
            .expected("a 2xx JSON completion")
            .actual(status),
        );
        return;
    };
    let deterministic = cx.req.json.is_some_and(|r| {
        r.get("temperature").and_then(Value::as_f64) == Some(0.0) && r.get("seed").is_some()
    });
    let pick = |v: &Value, p: &str| v.pointer(p).cloned().unwrap_or(Value::Null);
    let mut differences = Vec::new();
    for p in ["/choices/0/finish_reason", "/choices/0/message/role"] {
        let (a, b) = (pick(&stream, p), pick(&other, p));
        if a != b {
            differences.push((p.to_owned(), short(&a), short(&b)));
        }
    }
    let calls = |v: &Value| -> Vec<(String, Option<Value>)> {
        v.pointer("/choices/0/message/tool_calls")
            .and_then(Value::as_array)
            .map(|calls| {
                calls
                    .iter()
                    .map(|c| {
                        let name = c
                            .pointer("/function/name")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned();
                        let args = c
                            .pointer("/function/arguments")
                            .and_then(Value::as_str)
                            .and_then(|a| serde_json::from_str::<Value>(a).ok());
                        (name, args)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (sc, nc) = (calls(&stream), calls(&other));
    let names = |c: &[(String, Option<Value>)]| {
        c.iter()
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if names(&sc) != names(&nc) {
        differences.push((
            "/choices/0/message/tool_calls".into(),
            format!("[{}]", names(&sc)),
            format!("[{}]", names(&nc)),
        ));
    } else if deterministic {
        for (i, ((_, a), (_, b))) in sc.iter().zip(&nc).enumerate() {
            if a != b {
                differences.push((
                    format!("/choices/0/message/tool_calls/{i}/function/arguments"),
                    a.as_ref().map_or("(not JSON)".into(), short),
                    b.as_ref().map_or("(not JSON)".into(), short),
                ));
            }
        }
    }
    if deterministic {
        let p = "/choices/0/message/content";
        let (a, b) = (pick(&stream, p), pick(&other, p));
        if a != b {
            differences.push((p.to_owned(), short(&a), short(&b)));
        }
    }
    for (path, streamed, plain) in differences {
        cx.push(
            Finding::new(
                "chunk.stream_matches_nonstream",
                Warning,
                format!("streaming and non-streaming disagree at {path}"),
            )
            .at(path)
            .expected(format!("{plain} (without streaming)"))
            .actual(format!("{streamed} (streamed)")),
        );
    }
}

/// Keys whose string (or number) values are free text or per-token numbers: the chunk schema
/// constrains only their type, so the shape hash keeps the type and drops the value.
const FREE_VALUES: [&str; 9] = [
    "content",
    "refusal",
    "arguments",
    "reasoning",
    "reasoning_content",
    "token",
    "logprob",
    "bytes",
    "text",
];

/// A hash of a chunk's shape: every key and value, except the values under [`FREE_VALUES`],
/// of which only the JSON type counts.
fn shape_hash(v: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    fn walk(v: &Value, free: bool, h: &mut std::collections::hash_map::DefaultHasher) {
        match v {
            Value::Object(map) => {
                7u8.hash(h);
                for (k, x) in map {
                    k.hash(h);
                    walk(x, FREE_VALUES.contains(&k.as_str()), h);
                }
            }
            Value::Array(items) if free => {
                6u8.hash(h);
                // An array of free values (`bytes`): the element types, not the count.
                let mut kinds: Vec<&str> = items.iter().map(crate::schema::type_name).collect();
                kinds.dedup();
                kinds.hash(h);
            }
            Value::Array(items) => {
                5u8.hash(h);
                items.len().hash(h);
                for x in items {
                    walk(x, false, h);
                }
            }
            _ if free => crate::schema::type_name(v).hash(h),
            Value::String(s) => s.hash(h),
            Value::Number(n) => n.to_string().hash(h),
            Value::Bool(b) => b.hash(h),
            Value::Null => 0u8.hash(h),
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    walk(v, false, &mut h);
    h.finish()
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// Judges a whole recorded stream at once (fixtures, replay, tests).
pub fn judge_recorded(
    request: Option<&Value>,
    body: &[u8],
    reads: &[crate::exchange::Read],
    end_at: Duration,
    broken: Option<&str>,
    limits: StreamLimits,
) -> StreamReport {
    let mut judge = StreamJudge::new(request, limits);
    if reads.is_empty() {
        judge.feed(body, Duration::ZERO);
    } else {
        for r in reads {
            let end = (r.offset + r.len).min(body.len());
            if !judge.feed(&body[r.offset.min(end)..end], r.at) {
                break;
            }
        }
    }
    judge.finish(end_at, broken)
}

#[allow(dead_code)]
fn severity_of(f: &Finding) -> Severity {
    f.severity
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;

    fn chunk(delta: &str, finish: &str) -> String {
        format!(
            r#"data: {{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}]}}"#
        ) + "\n\n"
    }

    fn openai_stream() -> String {
        chunk(
            r#"{"role":"assistant","content":"","refusal":null}"#,
            "null",
        ) + &chunk(r#"{"content":"Hel"}"#, "null")
            + &chunk(r#"{"content":"lo"}"#, "null")
            + &chunk("{}", r#""stop""#)
            + "data: [DONE]\n\n"
    }

    fn judge(req: &str, body: &str) -> StreamReport {
        let req: Value = serde_json::from_str(req).unwrap();
        judge_recorded(
            Some(&req),
            body.as_bytes(),
            &[],
            Duration::from_millis(5),
            None,
            StreamLimits::default(),
        )
    }

    fn ids(r: &StreamReport) -> Vec<String> {
        r.findings
            .iter()
            .map(|f| format!("{} {}", f.check, f.severity))
            .collect()
    }

    #[test]
    fn an_openai_stream_raises_nothing_and_reassembles() {
        let r = judge(REQ, &openai_stream());
        assert_eq!(ids(&r), Vec::<String>::new(), "{:#?}", r.findings);
        assert_eq!(r.reassembled["choices"][0]["message"]["content"], "Hello");
        assert_eq!(r.reassembled["choices"][0]["finish_reason"], "stop");
        assert_eq!(r.metrics.chunks, 4);
        assert!(!r.not_sse);
    }

    #[test]
    fn sequence_problems() {
        let no_done = openai_stream().replace("data: [DONE]\n\n", "");
        assert_eq!(ids(&judge(REQ, &no_done)), ["sse.done_sentinel warning"]);
        let repeated_role = openai_stream().replace(
            r#"{"content":"Hel"}"#,
            r#"{"role":"assistant","content":"Hel"}"#,
        );
        assert_eq!(
            ids(&judge(REQ, &repeated_role)),
            ["chunk.role_only_once violation"]
        );
        let no_finish = openai_stream().replace(r#""stop""#, "null");
        assert_eq!(
            ids(&judge(REQ, &no_finish)),
            ["chunk.finish_reason_once_at_end violation"]
        );
        let crlf = openai_stream().replace('\n', "\r\n");
        assert_eq!(ids(&judge(REQ, &crlf)), ["sse.line_endings warning"]);
        let unterminated = openai_stream().replace("data: [DONE]\n\n", "data: [DONE]\n");
        assert_eq!(
            ids(&judge(REQ, &unterminated)),
            ["sse.event_terminated warning"]
        );
        let keepalive =
            openai_stream().replace("data: [DONE]", ": keep-alive\n\ndata: \n\ndata: [DONE]");
        assert_eq!(
            ids(&judge(REQ, &keepalive)),
            [
                "sse.no_data_keepalive violation",
                "sse.comments_ignored info"
            ]
        );
    }

    #[test]
    fn tool_call_deltas() {
        let req = r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"#;
        let calls = chunk(
            r#"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}"#,
            "null",
        ) + &chunk(
            r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}"#,
            "null",
        ) + &chunk(
            r#"{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}"#,
            "null",
        ) + &chunk("{}", r#""tool_calls""#)
            + "data: [DONE]\n\n";
        let r = judge(req, &calls);
        assert_eq!(ids(&r), Vec::<String>::new(), "{:#?}", r.findings);
        assert_eq!(
            r.reassembled["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"a\":1}"
        );
        let repeated = calls.replace(
            r#"{"index":0,"function":{"arguments":"1}"}}"#,
            r#"{"index":0,"id":"call_1","function":{"name":"f","arguments":"1}"}}"#,
        );
        assert_eq!(
            ids(&judge(req, &repeated)),
            ["tools.identity_on_first_delta_only violation"]
        );
        let no_index = calls.replace(
            r#"{"index":0,"function":{"arguments":"{\"a\":"}}"#,
            r#"{"function":{"arguments":"{\"a\":"}}"#,
        );
        assert_eq!(
            ids(&judge(req, &no_index)),
            ["tools.delta_index_present violation"]
        );
    }

    #[test]
    fn usage_trailer_discipline() {
        let req = r#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
        let trailer = r#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#.to_owned() + "\n\n";
        let good = openai_stream().replace("data: [DONE]", &(trailer.clone() + "data: [DONE]"));
        let r = judge(req, &good);
        assert_eq!(ids(&r), Vec::<String>::new(), "{:#?}", r.findings);
        assert_eq!(r.reassembled["usage"]["total_tokens"], 3);
        assert_eq!(
            ids(&judge(req, &openai_stream())),
            ["usage.include_usage_trailer warning"]
        );
        assert_eq!(
            ids(&judge(REQ, &good)),
            [
                "chunk.empty_choices_only_when_allowed warning",
                "chunk.usage_field_discipline warning"
            ]
        );
    }

    /// LiteLLM 1.106.2 sends the include_usage usage on a last chunk that still has a choice
    /// (`choices: [{"index": 0, "delta": {}}]`): the shape is warned about, but the usage is
    /// not lost (a false `/usage` missing before).
    #[test]
    fn usage_on_a_chunk_with_choices_is_kept() {
        let req = r#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
        let usage = r#"{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"cost":6e-6}"#;
        let last = format!(
            r#"data: {{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{}},"finish_reason":null}}],"usage":{usage}}}"#
        ) + "\n\n";
        let litellm = openai_stream().replace("data: [DONE]", &(last + "data: [DONE]"));
        let r = judge(req, &litellm);
        assert_eq!(ids(&r), ["usage.include_usage_trailer warning"]);
        assert!(r.findings[0].message.contains("not in a separate"));
        assert_eq!(r.reassembled["usage"]["total_tokens"], 3);
        assert_eq!(r.reassembled["usage"]["cost"], 6e-6);

        // Usage on the finish chunk, then one more chunk without it: the SDK stream helpers
        // take each chunk's usage, so theirs is gone; the reassembled answer keeps it.
        let on_finish = openai_stream()
            .replace(
                r#""finish_reason":"stop"}]}"#,
                &format!(r#""finish_reason":"stop"}}],"usage":{usage}}}"#),
            )
            .replace("data: [DONE]", &(chunk("{}", "null") + "data: [DONE]"));
        let r = judge(req, &on_finish);
        assert_eq!(
            ids(&r),
            [
                "usage.include_usage_trailer warning",
                "usage.include_usage_trailer warning"
            ],
            "{:#?}",
            r.findings
        );
        assert!(r.findings[1].message.contains("followed by more chunks"));
        assert!(r.findings[1].sdk.is_some());
        assert_eq!(r.reassembled["usage"]["total_tokens"], 3);
    }

    #[test]
    fn in_band_errors() {
        let err = chunk(r#"{"role":"assistant","content":"Hel"}"#, "null")
            + "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}\n\n";
        let r = judge(REQ, &err);
        assert_eq!(ids(&r), Vec::<String>::new(), "{:#?}", r.findings);
        assert!(r.failure.as_deref().unwrap().contains("boom"));
        let flat = chunk(r#"{"role":"assistant","content":"Hel"}"#, "null")
            + "data: {\"message\":\"boom\",\"code\":500}\n\n";
        let r = judge(REQ, &flat);
        assert_eq!(ids(&r), ["err.in_band_stream_error_shape violation"]);
    }

    #[test]
    fn gap_quantiles_are_close() {
        let mut g = Gaps::default();
        for ms in 1..=100u64 {
            g.add(Duration::from_millis(ms));
        }
        let p50 = g.quantile(0.5).unwrap();
        let p95 = g.quantile(0.95).unwrap();
        assert!((p50 - 50.0).abs() / 50.0 < 0.07, "{p50}");
        assert!((p95 - 95.0).abs() / 95.0 < 0.07, "{p95}");
        assert_eq!(g.max, Duration::from_millis(100));
    }
}
