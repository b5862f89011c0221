//! The SDK judge: what openai-python and openai-node do with the same stream, reproduced from
//! their sources as `compat-checks.md` section 0 records them, brought up to openai-python 2.54
//! and openai-node 6.49 where those differ (node reads any event name but `thread.*` as a chunk;
//! its `.stream()` helper wraps every error but `APIError` in an `OpenAIError`): which events
//! they dispatch, when they raise and with which exception, what they silently drop, and what
//! their stream helpers (`ChatCompletionStreamState.accumulate_delta`, node's
//! `ChatCompletionStream`) concatenate. `tests/official_sdks.rs` runs both SDKs against every
//! stream fault of the reference gateway and holds each statement made here to what they did.
//!
//! Both see the events of [`crate::sse`] with their own rules: they dispatch only on a blank line
//! (an unterminated last event is dropped), python dispatches a block with any of `event`,
//! `data`, `id` or `retry`, node one with `event` or `data`; every data payload but `[DONE]` is
//! JSON-parsed.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::chunk::{Arguments, Choices, SdkInput};
use crate::sse;

/// Text kept per reassembled string.
const CAP: usize = 4096;

/// What each SDK does with the stream, in one line each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SdkOutcome {
    pub python: String,
    pub node: String,
    /// The SDK raises, or silently loses or corrupts data.
    pub python_breaks: bool,
    pub node_breaks: bool,
}

impl SdkOutcome {
    pub fn breaks(&self) -> bool {
        self.python_breaks || self.node_breaks
    }
}

#[derive(Debug, Default, Clone)]
struct Choice {
    role: String,
    content_len: usize,
    finish_reason: Option<String>,
    tools: BTreeMap<String, Tool>,
}

#[derive(Debug, Default, Clone)]
struct Tool {
    id: String,
    name: String,
    kind: String,
    arguments_len: usize,
}

fn push_capped(s: &mut String, add: &str) {
    if s.len() < CAP {
        let mut cut = (CAP - s.len()).min(add.len());
        while !add.is_char_boundary(cut) {
            cut -= 1;
        }
        s.push_str(&add[..cut]);
    }
}

/// Both emulators, fed the same events.
#[derive(Debug, Default)]
pub struct Sdks {
    python: Python,
    node: Node,
}

impl Sdks {
    /// `input` is the event's data (`""` when it has none) as parsed once by the judge; `None`
    /// for `[DONE]` and for blocks no SDK dispatches.
    pub fn on_event(&mut self, e: &sse::Event, input: Option<SdkInput<'_>>) {
        self.python.on_event(e, input);
        self.node.on_event(e, input);
    }

    /// An event gatecheck could not read whole (a line over the limit): what the SDKs do with
    /// it cannot be told.
    pub fn unknown(&mut self, e: &sse::Event) {
        let note = format!(
            "cannot be told past event {} (a line over gatecheck's limit)",
            e.index
        );
        self.python.unknown.get_or_insert_with(|| note.clone());
        self.node.unknown.get_or_insert(note);
    }

    /// `broken`: the connection broke before the end (the transport's message); `stopped`:
    /// gatecheck stopped reading (a limit), so what the SDKs would do next cannot be told.
    pub fn finish(&mut self, broken: Option<&str>, stopped: Option<&str>) -> SdkOutcome {
        if broken.is_none()
            && let Some(why) = stopped
        {
            let note = format!("cannot be told (gatecheck stopped reading: {why})");
            self.python.unknown.get_or_insert_with(|| note.clone());
            self.node.unknown.get_or_insert(note);
        }
        if let Some(why) = broken {
            let (python, node) = (&self.python, &self.node);
            // httpx while iterating the body: a reset is a ReadError, a body cut short a
            // RemoteProtocolError, a stall a ReadTimeout once the client's read timeout passes;
            // undici's fetch error reaches node's helper wrapped in an OpenAIError.
            let timed_out = ["no byte for", "did not complete within", "timed out"]
                .iter()
                .any(|t| why.contains(t));
            let python = match &python.raised {
                Some(r) => r.clone(),
                None if timed_out => format!(
                    "raises httpx.ReadTimeout after {} chunk(s), once its read timeout passes (600 s by default) ({why})",
                    python.chunks
                ),
                None if why.to_ascii_lowercase().contains("reset") => format!(
                    "raises httpx.ReadError after {} chunk(s) ({why})",
                    python.chunks
                ),
                None => format!(
                    "raises httpx.RemoteProtocolError after {} chunk(s) ({why})",
                    python.chunks
                ),
            };
            let node = match &node.raised {
                Some(r) => r.clone(),
                None if timed_out => format!(
                    "throws once its timeout passes (10 min by default), after {} chunk(s) ({why})",
                    node.chunks
                ),
                None => format!(
                    "throws OpenAIError('terminated') after {} chunk(s) (undici's fetch error, wrapped; {why})",
                    node.chunks
                ),
            };
            return SdkOutcome {
                python,
                node,
                python_breaks: true,
                node_breaks: true,
            };
        }
        let (python, python_breaks) = self.python.finish();
        let (node, node_breaks) = self.node.finish();
        SdkOutcome {
            python,
            node,
            python_breaks,
            node_breaks,
        }
    }
}

/// openai-python: `Stream.__iter__` then `ChatCompletionStreamState` (the `.stream()` helper).
#[derive(Debug, Default)]
struct Python {
    raised: Option<String>,
    unknown: Option<String>,
    done: bool,
    dropped: Option<String>,
    chunks: usize,
    choices: BTreeMap<u64, Choice>,
}

impl Python {
    fn on_event(&mut self, e: &sse::Event, input: Option<SdkInput<'_>>) {
        if self.raised.is_some() || self.done {
            return;
        }
        // The SSE decoder decodes each block's bytes as strict UTF-8 before reading its lines.
        if e.invalid_utf8 {
            self.raised = Some(format!(
                "raises UnicodeDecodeError at event {} (the SSE decoder decodes strictly)",
                e.index
            ));
            return;
        }
        if !e.terminated {
            if e.data.is_some() || e.event.is_some() {
                self.dropped = Some(describe_dropped(e));
            }
            return;
        }
        if e.data.is_none() && e.event.is_none() && e.id.is_none() && e.retry.is_none() {
            return; // comments and unknown fields only: not dispatched
        }
        let data = e.data.as_deref().unwrap_or("");
        if data.starts_with("[DONE]") {
            self.done = true;
            return;
        }
        let facts = match input {
            Some(SdkInput::Object(f)) => f,
            Some(SdkInput::Invalid(err)) => {
                self.raised = Some(format!(
                    "raises json.JSONDecodeError at event {} ({err})",
                    e.index
                ));
                return;
            }
            Some(SdkInput::NotObject) => {
                self.raised = Some(format!(
                    "the stream helper raises TypeError at event {} (the data is JSON but not an object)",
                    e.index
                ));
                return;
            }
            None => return,
        };
        if let Some(error) = facts.error.as_ref().filter(|v| py_truthy(v)) {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or("An error occurred during streaming");
            self.raised = Some(format!(
                "raises openai.APIError({message:?}) at event {}",
                e.index
            ));
            return;
        }
        self.chunks += 1;
        let choices = match &facts.choices {
            Choices::List(list) => list,
            other => {
                self.raised = Some(format!(
                    "the stream helper raises TypeError at event {} (`choices` is {})",
                    e.index,
                    if matches!(other, Choices::Missing) {
                        "missing"
                    } else {
                        "not a list"
                    }
                ));
                return;
            }
        };
        let initial = self.chunks == 1;
        for choice in choices {
            let Some(index) = choice.index else {
                self.raised = Some(format!(
                    "the stream helper raises TypeError at event {} (a choice without `index`)",
                    e.index
                ));
                return;
            };
            let Some(delta) = &choice.delta else {
                self.raised = Some(format!(
                    "the stream helper raises AttributeError at event {} (a choice without `delta`)",
                    e.index
                ));
                return;
            };
            let c = self.choices.entry(index).or_default();
            // accumulate_delta: every string value is concatenated, `index` and `type` excepted.
            if let Some(role) = &delta.role {
                push_capped(&mut c.role, role);
            }
            if let Some(content) = &delta.content {
                c.content_len += content.len();
            }
            for call in &delta.tool_calls {
                let Some(i) = call.index else {
                    // accumulate_delta looks for the key only when calls were accumulated
                    // before; otherwise the helper indexes the snapshot's list with None.
                    self.raised = Some(if !initial && !c.tools.is_empty() {
                        format!(
                            "the stream helper raises RuntimeError('Expected list delta entry to have an `index` key') at event {}",
                            e.index
                        )
                    } else {
                        format!(
                            "the stream helper raises TypeError('list indices must be integers or slices, not NoneType') at event {}",
                            e.index
                        )
                    });
                    return;
                };
                let t = c.tools.entry(i.to_string()).or_default();
                if let Some(id) = &call.id {
                    push_capped(&mut t.id, id);
                }
                if let Some(kind) = &call.kind {
                    t.kind = kind.to_string();
                }
                if let Some(name) = &call.name {
                    push_capped(&mut t.name, name);
                }
                match &call.arguments {
                    Arguments::Str(a) => t.arguments_len += a.len(),
                    Arguments::Absent => {}
                    Arguments::Other(_) => {
                        self.raised = Some(format!(
                            "the stream helper raises TypeError at event {} (arguments that are not a string cannot be concatenated)",
                            e.index
                        ));
                        return;
                    }
                }
            }
            if let Some(r) = &choice.finish_reason {
                c.finish_reason = Some(r.to_string());
            }
        }
    }

    fn finish(&self) -> (String, bool) {
        if let Some(r) = self.raised.as_ref().or(self.unknown.as_ref()) {
            return (r.clone(), self.raised.is_some());
        }
        let mut notes = corruption(&self.choices, true);
        // What the helper's final completion holds where no delta set it.
        for (index, c) in &self.choices {
            if c.role.is_empty() {
                notes.push(format!("choice {index}: role stays None"));
            }
            if c.finish_reason.is_none() {
                notes.push(format!("choice {index}: finish_reason stays None"));
            }
        }
        if let Some(d) = &self.dropped {
            notes.push(d.clone());
        }
        if self.chunks == 0 {
            notes.push(
                "yields no chunk at all; the stream helper's get_final_completion() raises AssertionError"
                    .into(),
            );
        }
        verdict(notes, self.dropped.as_deref())
    }
}

/// openai-node: `Stream` then `ChatCompletionStream.finalChatCompletion()`.
#[derive(Debug, Default)]
struct Node {
    raised: Option<String>,
    unknown: Option<String>,
    done: bool,
    dropped: Option<String>,
    chunks: usize,
    lost_calls: usize,
    choices: BTreeMap<u64, Choice>,
}

impl Node {
    fn on_event(&mut self, e: &sse::Event, input: Option<SdkInput<'_>>) {
        if self.raised.is_some() || self.done {
            return;
        }
        if !e.terminated {
            if e.data.is_some() || e.event.is_some() {
                self.dropped = Some(describe_dropped(e));
            }
            return;
        }
        if e.data.is_none() && e.event.is_none() {
            return;
        }
        let data = e.data.as_deref().unwrap_or("");
        if data.starts_with("[DONE]") {
            self.done = true;
            return;
        }
        // Stream: only the Assistants' `thread.*` events are yielded as `{event, data}`; any
        // other event name is read as a plain chunk.
        let plain = !e
            .event
            .as_deref()
            .is_some_and(|name| name.starts_with("thread."));
        let facts = match input {
            Some(SdkInput::Object(f)) => Some(f),
            Some(SdkInput::Invalid(_)) => {
                self.raised = Some(format!(
                    "throws OpenAIError at event {} (JSON.parse's SyntaxError, wrapped by ChatCompletionStream; a bare Stream throws the SyntaxError; logs \"Could not parse message into JSON\")",
                    e.index
                ));
                return;
            }
            Some(SdkInput::NotObject) => None,
            None => return,
        };
        if plain
            && let Some(error) = facts
                .and_then(|f| f.error.as_ref())
                .filter(|v| js_truthy(v))
        {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("(no message)");
            self.raised = Some(format!("throws APIError({message:?}) at event {}", e.index));
            return;
        }
        if !plain {
            self.raised = Some(format!(
                "yields `{{event, data}}` for `event: {}` at event {}; ChatCompletionStream then throws OpenAIError('chunk.choices is not iterable')",
                e.event.as_deref().unwrap_or(""),
                e.index
            ));
            return;
        }
        self.chunks += 1;
        let Some(Choices::List(choices)) = facts.map(|f| &f.choices) else {
            self.raised = Some(format!(
                "ChatCompletionStream throws OpenAIError('chunk.choices is not iterable') at event {}",
                e.index
            ));
            return;
        };
        for choice in choices {
            let Some(index) = choice.index else {
                continue; // snapshot.choices[undefined]: the choice is lost
            };
            let c = self.choices.entry(index).or_default();
            let Some(delta) = &choice.delta else {
                // The choice is kept (with its finish_reason); its delta is skipped.
                if let Some(r) = choice.finish_reason.as_ref().filter(|r| !r.is_empty()) {
                    c.finish_reason = Some(r.to_string());
                }
                continue;
            };
            if let Some(role) = delta.role.as_ref().filter(|r| !r.is_empty()) {
                c.role = role.to_string();
            }
            if let Some(content) = &delta.content {
                c.content_len += content.len();
            }
            for call in &delta.tool_calls {
                let Some(i) = call.index else {
                    self.lost_calls += 1; // tool_calls[undefined]: not an element of the array
                    continue;
                };
                let t = c.tools.entry(i.to_string()).or_default();
                if let Some(id) = call.id.as_ref().filter(|s| !s.is_empty()) {
                    t.id = id.to_string();
                }
                if let Some(kind) = call.kind.as_ref().filter(|s| !s.is_empty()) {
                    t.kind = kind.to_string();
                }
                if let Some(name) = call.name.as_ref().filter(|s| !s.is_empty()) {
                    t.name = name.to_string();
                }
                if let Arguments::Str(a) = &call.arguments {
                    t.arguments_len += a.len();
                }
            }
            if let Some(r) = choice.finish_reason.as_ref().filter(|r| !r.is_empty()) {
                c.finish_reason = Some(r.to_string());
            }
        }
    }

    fn finish(&self) -> (String, bool) {
        if let Some(r) = self.raised.as_ref().or(self.unknown.as_ref()) {
            return (r.clone(), self.raised.is_some());
        }
        let mut notes = Vec::new();
        if self.chunks == 0 {
            notes.push(
                "finalChatCompletion() throws OpenAIError('request ended without sending any chunks')"
                    .to_owned(),
            );
        }
        // finalizeChatCompletion's requirements, in its order.
        'choices: for (index, c) in &self.choices {
            if c.finish_reason.is_none() {
                notes.push(format!(
                    "finalChatCompletion() throws OpenAIError('missing finish_reason for choice {index}')"
                ));
                break;
            }
            if c.role.is_empty() {
                notes.push(format!(
                    "finalChatCompletion() throws OpenAIError('missing role for choice {index}')"
                ));
                break;
            }
            for (i, t) in &c.tools {
                let missing = if t.id.is_empty() {
                    "id"
                } else if t.kind.is_empty() {
                    "type"
                } else if t.name.is_empty() {
                    "function.name"
                } else {
                    continue;
                };
                notes.push(format!("finalChatCompletion() throws OpenAIError('missing choices[{index}].tool_calls[{i}].{missing}')"));
                break 'choices;
            }
        }
        if self.lost_calls > 0 {
            notes.push(format!(
                "loses {} tool-call delta(s) without `index`",
                self.lost_calls
            ));
        }
        if let Some(d) = &self.dropped {
            notes.push(d.clone());
        }
        verdict(notes, self.dropped.as_deref())
    }
}

/// The line for what an SDK made of the stream, and whether that breaks an application: a
/// dropped `[DONE]` alone is noted but harms nobody (neither SDK needs it).
fn verdict(notes: Vec<String>, dropped: Option<&str>) -> (String, bool) {
    if notes.is_empty() {
        return ("ok".into(), false);
    }
    let harmless = notes.len() == 1 && dropped.is_some_and(|d| d.ends_with("(`[DONE]`)"));
    (notes.join("; "), !harmless)
}

/// Strings the python helper corrupted by concatenation.
fn corruption(choices: &BTreeMap<u64, Choice>, python: bool) -> Vec<String> {
    let mut notes = Vec::new();
    for (index, c) in choices {
        if python && !c.role.is_empty() && c.role != "assistant" {
            notes.push(format!("choice {index}: role becomes {:?}", short(&c.role)));
        }
        for (i, t) in &c.tools {
            let doubled = |s: &str| {
                let n = s.len();
                n >= 2 && n % 2 == 0 && s[..n / 2] == s[n / 2..]
            };
            if doubled(&t.id) {
                notes.push(format!(
                    "choice {index}, tool call {i}: id becomes {:?}",
                    short(&t.id)
                ));
            }
            if doubled(&t.name) {
                notes.push(format!(
                    "choice {index}, tool call {i}: name becomes {:?}",
                    short(&t.name)
                ));
            }
        }
    }
    notes
}

fn short(s: &str) -> String {
    if s.chars().count() > 48 {
        format!("{}...", s.chars().take(48).collect::<String>())
    } else {
        s.to_owned()
    }
}

fn describe_dropped(e: &sse::Event) -> String {
    let what = match e.data.as_deref() {
        Some(d) if d.starts_with("[DONE]") => "`[DONE]`".to_owned(),
        Some(d) if d.contains("\"finish_reason\":\"") => "the finish_reason chunk".to_owned(),
        Some(d) if d.contains("\"usage\":{") => "the usage chunk".to_owned(),
        _ => "a chunk".to_owned(),
    };
    format!("silently drops the unterminated last event ({what})")
}

/// Python truthiness of a JSON value.
fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// JavaScript truthiness of a JSON value.
fn js_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::chunk::Payload;
    use super::*;
    use std::time::Duration;

    fn run(body: &str) -> SdkOutcome {
        let (events, _) =
            sse::decode_all([(body.as_bytes(), Duration::ZERO)], sse::Limits::default());
        let mut sdks = Sdks::default();
        for e in &events {
            let dispatched =
                e.data.is_some() || e.event.is_some() || e.id.is_some() || e.retry.is_some();
            let data = e.data.as_deref().unwrap_or("");
            let payload = (dispatched && !data.starts_with("[DONE]")).then(|| Payload::parse(data));
            sdks.on_event(e, payload.as_ref().map(Payload::sdk_input));
        }
        sdks.finish(None, None)
    }

    fn chunk(delta: &str, finish: &str) -> String {
        format!(
            r#"data: {{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
        ) + "\n\n"
    }

    fn good() -> String {
        chunk(r#"{"role":"assistant","content":""}"#, "null")
            + &chunk(r#"{"content":"hi"}"#, "null")
            + &chunk("{}", r#""stop""#)
            + "data: [DONE]\n\n"
    }

    #[test]
    fn a_good_stream_is_ok_in_both() {
        let o = run(&good());
        assert_eq!((o.python.as_str(), o.node.as_str()), ("ok", "ok"));
        assert!(!o.breaks());
    }

    #[test]
    fn keepalive_data_events_raise_in_both() {
        let o = run(&good().replace("data: [DONE]", "data: \n\ndata: [DONE]"));
        assert!(
            o.python
                .starts_with("raises json.JSONDecodeError at event 3"),
            "{}",
            o.python
        );
        assert!(
            o.node
                .starts_with("throws OpenAIError at event 3 (JSON.parse's SyntaxError"),
            "{}",
            o.node
        );
    }

    #[test]
    fn repeated_role_is_concatenated_by_python_only() {
        let o = run(&good().replace(
            r#"{"content":"hi"}"#,
            r#"{"role":"assistant","content":"hi"}"#,
        ));
        assert_eq!(o.python, "choice 0: role becomes \"assistantassistant\"");
        assert_eq!(o.node, "ok");
    }

    #[test]
    fn missing_finish_reason_throws_in_node_only() {
        let o = run(&good().replace(r#""stop""#, "null"));
        assert_eq!(o.python, "choice 0: finish_reason stays None");
        assert_eq!(
            o.node,
            "finalChatCompletion() throws OpenAIError('missing finish_reason for choice 0')"
        );
    }

    #[test]
    fn an_unterminated_finish_chunk_is_dropped_by_both() {
        let body = chunk(r#"{"role":"assistant","content":"hi"}"#, "null")
            + chunk("{}", r#""stop""#).trim_end();
        let o = run(&body);
        assert!(
            o.python
                .contains("silently drops the unterminated last event (the finish_reason chunk)"),
            "{}",
            o.python
        );
        assert!(o.node.contains("missing finish_reason"), "{}", o.node);
    }

    #[test]
    fn named_events_and_errors() {
        // Only the Assistants' `thread.*` events are yielded as `{event, data}` by node.
        let o = run(&good().replace("data: {", "event: chunk\ndata: {"));
        assert_eq!((o.python.as_str(), o.node.as_str()), ("ok", "ok"));
        let o = run(&good().replace("data: {", "event: thread.message.delta\ndata: {"));
        assert!(o.node.starts_with("yields `{event, data}`"), "{}", o.node);
        let o = run(&(chunk(r#"{"role":"assistant","content":"hi"}"#, "null")
            + "data: {\"error\":{\"message\":\"boom\"}}\n\n"));
        assert_eq!(o.python, "raises openai.APIError(\"boom\") at event 1");
        assert_eq!(o.node, "throws APIError(\"boom\") at event 1");
    }

    #[test]
    fn tool_calls_without_index_break_both() {
        let body = chunk(
            r#"{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}"#,
            "null",
        ) + &chunk("{}", r#""tool_calls""#)
            + "data: [DONE]\n\n";
        let o = run(&body);
        // In the first chunk: the helper indexes its list with None.
        assert!(
            o.python
                .contains("TypeError('list indices must be integers or slices, not NoneType')"),
            "{}",
            o.python
        );
        assert!(o.node.contains("loses 1 tool-call delta"), "{}", o.node);
        // After a call with an index: accumulate_delta misses the key.
        let body = chunk(r#"{"role":"assistant","content":""}"#, "null")
            + &chunk(
                r#"{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}"#,
                "null",
            )
            + &chunk(
                r#"{"tool_calls":[{"function":{"arguments":"{}"}}]}"#,
                "null",
            )
            + &chunk("{}", r#""tool_calls""#)
            + "data: [DONE]\n\n";
        let o = run(&body);
        assert!(o.python.contains("RuntimeError"), "{}", o.python);
    }
}
