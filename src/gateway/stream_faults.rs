//! Stream faults: the SSE of a `stream: true` chat completion, wrong in one named way, each a
//! pure function of the normal chunk objects (see [`Fault`](super::faults::Fault) for names).
//!
//! Chunk faults change the chunk objects and keep OpenAI's framing; frame faults keep OpenAI's
//! chunks and change the bytes around them. Positions are defined on the normal stream:
//! - a *content chunk* carries a piece of the answer (text, or a tool call's identity or
//!   argument piece): it is not the role chunk that opens a choice, not a finish chunk, not the
//!   usage trailer;
//! - *after the first content chunk* is the point just after it (with `n > 1` the role chunks
//!   of all choices precede it). A stream without content chunks is cut after its first chunk.

use std::collections::HashMap;

use axum::body::Bytes;
use serde_json::{Value, json};

use super::stream::{DONE_EVENT, Frame, data_event, frames};

/// OpenAI's in-band error after streaming has begun (a real capture's shape).
const NESTED_ERROR_EVENT: &str = concat!(
    r#"data: {"error":{"message":"The server had an error while processing your request.","#,
    r#""type":"server_error","param":null,"code":null}}"#,
    "\n\n"
);
/// The same error with its fields at top level, as some gateways send it.
const FLAT_ERROR_EVENT: &str = concat!(
    r#"data: {"message":"The server had an error while processing your request.","#,
    r#""type":"server_error","code":500}"#,
    "\n\n"
);
/// An SSE field named `error` (llama-server before late 2025): clients drop the field and
/// dispatch an empty event.
const ERROR_FIELD_EVENT: &str = concat!(r#"error: {"message":"boom"}"#, "\n\n");
/// A context-overflow error, which a proper server sends as a 400 before any stream.
const PRE_STREAM_ERROR_EVENT: &str = concat!(
    r#"data: {"error":{"message":"This model's maximum context length is 128000 tokens. "#,
    r#"However, your messages resulted in 128001 tokens. Please reduce the length of the "#,
    r#"messages.","type":"invalid_request_error","param":"messages","#,
    r#""code":"context_length_exceeded"}}"#,
    "\n\n"
);
const KEEPALIVE_COMMENT: &[u8] = b": keep-alive\n\n";
const EMPTY_DATA_EVENT: &[u8] = b"data: \n\n";
const UNTERMINATED_DONE: &[u8] = b"data: [DONE]\n";
/// The length of the JSON string (between its quotes) that `huge_line` sends.
pub(crate) const HUGE_LINE_STRING_BYTES: usize = 100 << 20;
/// `huge_line` sends its string in pieces of this size, all one shared buffer.
const HUGE_LINE_PIECE_BYTES: usize = 64 << 10;
/// Put before the target string under `invalid_utf8`, then replaced by the 0xFF byte once the
/// chunk is serialized (serde_json cannot write invalid UTF-8 itself).
const INVALID_UTF8_MARKER: &str = "<gatecheck-invalid-utf8>";
/// Where `invalid_utf8` puts its byte: the first of these that holds a string.
const INVALID_UTF8_SLOTS: [&str; 4] = [
    "/choices/0/delta/content",
    "/choices/0/delta/tool_calls/0/function/arguments",
    "/choices/0/delta/function_call/arguments",
    "/system_fingerprint",
];

/// What a chunk of the normal stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Opens a choice: its delta has `role`.
    Role,
    Content,
    /// Carries a `finish_reason`.
    Finish,
    /// `choices: []` (the usage trailer).
    Trailer,
}

fn kind(chunk: &Value) -> Kind {
    let choices = chunk
        .get("choices")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if choices.is_empty() {
        Kind::Trailer
    } else if choices.iter().any(|c| !c["finish_reason"].is_null()) {
        Kind::Finish
    } else if choices.iter().any(|c| c["delta"].get("role").is_some()) {
        Kind::Role
    } else {
        Kind::Content
    }
}

/// Positions of the content chunks.
fn content_chunks(chunks: &[Value]) -> Vec<usize> {
    (0..chunks.len())
        .filter(|&k| kind(&chunks[k]) == Kind::Content)
        .collect()
}

/// How many chunks are sent before a mid-stream fault: up to the first content chunk.
fn cut_point(chunks: &[Value]) -> usize {
    content_chunks(chunks)
        .first()
        .map_or(chunks.len().min(1), |&k| k + 1)
}

fn events(chunks: &[Value]) -> impl Iterator<Item = Frame> + '_ {
    chunks.iter().map(|chunk| Frame::Bytes(data_event(chunk)))
}

fn fixed(bytes: &'static [u8]) -> Frame {
    Frame::Bytes(Bytes::from_static(bytes))
}

fn done() -> Frame {
    fixed(DONE_EVENT)
}

/// The normal events, `[DONE]` included, as bytes.
fn normal_events(chunks: &[Value]) -> impl Iterator<Item = Bytes> + '_ {
    chunks
        .iter()
        .map(data_event)
        .chain(std::iter::once(Bytes::from_static(DONE_EVENT)))
}

/// The chunks up to the first content chunk, then `last`.
fn cut_with(chunks: &[Value], last: Frame) -> Vec<Frame> {
    events(&chunks[..cut_point(chunks)])
        .chain(std::iter::once(last))
        .collect()
}

/// Every `choices[]` entry of every chunk.
fn choice_entries(chunks: &mut [Value]) -> impl Iterator<Item = &mut Value> {
    chunks.iter_mut().flat_map(|chunk| {
        chunk
            .get_mut("choices")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
    })
}

/// Every delta object.
fn deltas(chunks: &mut [Value]) -> impl Iterator<Item = &mut serde_json::Map<String, Value>> {
    choice_entries(chunks).filter_map(|entry| entry.get_mut("delta").and_then(Value::as_object_mut))
}

fn choice_index(entry: &Value) -> u64 {
    entry.get("index").and_then(Value::as_u64).unwrap_or(0)
}

// --- chunk faults ----------------------------------------------------------------------------

/// `repeat_role`: `"role":"assistant"` in every delta, the finish chunk's included.
pub(crate) fn repeat_role(chunks: &mut [Value]) {
    for delta in deltas(chunks) {
        delta.insert("role".to_owned(), json!("assistant"));
    }
}

/// `no_role`: no delta has `role` (only the first of each choice had one).
pub(crate) fn no_role(chunks: &mut [Value]) {
    for delta in deltas(chunks) {
        delta.remove("role");
    }
}

/// `no_tool_index`: `delta.tool_calls[]` entries without `index`.
pub(crate) fn no_tool_index(chunks: &mut [Value]) {
    for delta in deltas(chunks) {
        let calls = delta.get_mut("tool_calls").and_then(Value::as_array_mut);
        for call in calls.into_iter().flatten() {
            if let Some(call) = call.as_object_mut() {
                call.remove("index");
            }
        }
    }
}

/// `tool_identity_repeated`: each argument delta of a tool call also carries the call's `id`,
/// `type` and `function.name`, as on its first delta.
pub(crate) fn tool_identity_repeated(chunks: &mut [Value]) {
    // (choice index, tool-call index) -> (id, name), from the first delta of each call.
    let mut identities: HashMap<(u64, u64), (Value, Value)> = HashMap::new();
    for entry in choice_entries(chunks) {
        let choice = choice_index(entry);
        let calls = entry
            .pointer_mut("/delta/tool_calls")
            .and_then(Value::as_array_mut);
        for call in calls.into_iter().flatten() {
            let key = (choice, choice_index(call));
            if let Some(id) = call.get("id") {
                let name = call.pointer("/function/name").cloned();
                identities.insert(key, (id.clone(), name.unwrap_or(Value::Null)));
            } else if let Some((id, name)) = identities.get(&key) {
                call["id"] = id.clone();
                call["type"] = json!("function");
                call["function"]["name"] = name.clone();
            }
        }
    }
}

/// `usage_every_chunk`: every chunk carries the usage so far: `prompt_tokens` in full,
/// `completion_tokens` counting the content chunks sent (at most the total), the last chunk
/// the final usage. The separate usage trailer, if asked for, is not sent.
pub(crate) fn usage_every_chunk(mut chunks: Vec<Value>, usage: &Value) -> Vec<Value> {
    chunks.retain(|chunk| kind(chunk) != Kind::Trailer);
    let total = usage["completion_tokens"].as_u64().unwrap_or(0);
    let prompt = usage["prompt_tokens"].as_u64().unwrap_or(0);
    let last = chunks.len().saturating_sub(1);
    let mut pieces = 0;
    for (k, chunk) in chunks.iter_mut().enumerate() {
        if kind(chunk) == Kind::Content {
            pieces += 1;
        }
        let tokens = if k == last { total } else { pieces.min(total) };
        let mut running = usage.clone();
        running["completion_tokens"] = json!(tokens);
        running["total_tokens"] = json!(prompt + tokens);
        chunk["usage"] = running;
    }
    chunks
}

/// `no_finish_reason`: `finish_reason` stays `null`, the finish chunk's included.
pub(crate) fn no_finish_reason(chunks: &mut [Value]) {
    for entry in choice_entries(chunks) {
        entry["finish_reason"] = Value::Null;
    }
}

/// `finish_reason_every_chunk`: `finish_reason: "stop"` on every choice of every chunk.
pub(crate) fn finish_reason_every_chunk(chunks: &mut [Value]) {
    for entry in choice_entries(chunks) {
        entry["finish_reason"] = json!("stop");
    }
}

/// `cumulative_content`: each `delta.content` string holds the choice's text so far.
pub(crate) fn cumulative_content(chunks: &mut [Value]) {
    let mut so_far: HashMap<u64, String> = HashMap::new();
    for entry in choice_entries(chunks) {
        let choice = choice_index(entry);
        if let Some(Value::String(content)) = entry.pointer_mut("/delta/content") {
            let text = so_far.entry(choice).or_default();
            text.push_str(content);
            content.clone_from(text);
        }
    }
}

// --- frame faults ----------------------------------------------------------------------------

/// `no_done`: every chunk, then the end of the body.
pub(crate) fn no_done(chunks: &[Value]) -> Vec<Frame> {
    events(chunks).collect()
}

/// `drop_mid_stream`: the chunks up to the first content chunk, then a reset.
pub(crate) fn drop_mid_stream(chunks: &[Value]) -> Vec<Frame> {
    cut_with(chunks, Frame::Abort)
}

/// `stall_stream`: the chunks up to the first content chunk, then nothing until shutdown.
pub(crate) fn stall_stream(chunks: &[Value]) -> Vec<Frame> {
    cut_with(chunks, Frame::Stall)
}

/// `error_mid_stream`: the chunks up to the first content chunk, OpenAI's error event, the
/// end (no `[DONE]`).
pub(crate) fn error_mid_stream(chunks: &[Value]) -> Vec<Frame> {
    cut_with(chunks, fixed(NESTED_ERROR_EVENT.as_bytes()))
}

/// `error_flat_mid_stream`: as `error_mid_stream`, the error fields at top level.
pub(crate) fn error_flat_mid_stream(chunks: &[Value]) -> Vec<Frame> {
    cut_with(chunks, fixed(FLAT_ERROR_EVENT.as_bytes()))
}

/// `error_field`: as `error_mid_stream`, with `error: {"message":"boom"}` as the last event.
pub(crate) fn error_field(chunks: &[Value]) -> Vec<Frame> {
    cut_with(chunks, fixed(ERROR_FIELD_EVENT.as_bytes()))
}

/// `drip`: the normal stream, one byte per frame.
pub(crate) fn drip(chunks: &[Value]) -> Vec<Frame> {
    let whole = Bytes::from(normal_events(chunks).fold(Vec::new(), |mut all, event| {
        all.extend_from_slice(&event);
        all
    }));
    (0..whole.len())
        .map(|k| Frame::Bytes(whole.slice(k..=k)))
        .collect()
}

/// `malformed_chunk`: the second content chunk (else the first, else the first chunk) is sent
/// as the first half of its JSON (cut at a character boundary), then a blank line.
pub(crate) fn malformed_chunk(chunks: &[Value]) -> Vec<Frame> {
    let content = content_chunks(chunks);
    let Some(target) = content.get(1).or(content.first()).copied().or(
        // A stream always has its finish chunk; this keeps an empty list safe.
        (!chunks.is_empty()).then_some(0),
    ) else {
        return frames(chunks);
    };
    let json = chunks[target].to_string();
    let mut half = json.len() / 2;
    while !json.is_char_boundary(half) {
        half -= 1;
    }
    let broken = Frame::Bytes(Bytes::from(format!("data: {}\n\n", &json[..half])));
    events(&chunks[..target])
        .chain(std::iter::once(broken))
        .chain(events(&chunks[target + 1..]))
        .chain(std::iter::once(done()))
        .collect()
}

/// `glued_chunks`: the first content chunk (else the first chunk) and the chunk after it as one
/// event, `data: {..}{..}\n\n`.
pub(crate) fn glued_chunks(chunks: &[Value]) -> Vec<Frame> {
    let first = content_chunks(chunks).first().copied().unwrap_or(0);
    if first + 1 >= chunks.len() {
        return frames(chunks);
    }
    let glued = format!("data: {}{}\n\n", chunks[first], chunks[first + 1]);
    events(&chunks[..first])
        .chain(std::iter::once(Frame::Bytes(Bytes::from(glued))))
        .chain(events(&chunks[first + 2..]))
        .chain(std::iter::once(done()))
        .collect()
}

/// `crlf`: every `\n` of the normal stream written `\r\n` (JSON text has no raw newline).
pub(crate) fn crlf(chunks: &[Value]) -> Vec<Frame> {
    normal_events(chunks)
        .map(|event| {
            let mut out = Vec::with_capacity(event.len() + 4);
            for &byte in event.iter() {
                if byte == b'\n' {
                    out.push(b'\r');
                }
                out.push(byte);
            }
            Frame::Bytes(Bytes::from(out))
        })
        .collect()
}

/// `keepalive_comments`: `: keep-alive\n\n` before every event (`[DONE]` included), each its
/// own frame (so paced like an event).
pub(crate) fn keepalive_comments(chunks: &[Value]) -> Vec<Frame> {
    normal_events(chunks)
        .flat_map(|event| [fixed(KEEPALIVE_COMMENT), Frame::Bytes(event)])
        .collect()
}

/// `data_keepalive`: `data: \n\n` between every two events (`[DONE]` included), each its own
/// frame.
pub(crate) fn data_keepalive(chunks: &[Value]) -> Vec<Frame> {
    let mut out = Vec::new();
    for (k, event) in normal_events(chunks).enumerate() {
        if k > 0 {
            out.push(fixed(EMPTY_DATA_EVENT));
        }
        out.push(Frame::Bytes(event));
    }
    out
}

/// `unterminated_last`: the normal stream, but the last event is `data: [DONE]\n`.
pub(crate) fn unterminated_last(chunks: &[Value]) -> Vec<Frame> {
    events(chunks)
        .chain(std::iter::once(fixed(UNTERMINATED_DONE)))
        .collect()
}

/// `named_events`: `event: chunk\ndata: {..}\n\n` for every chunk; `[DONE]` as usual.
pub(crate) fn named_events(chunks: &[Value]) -> Vec<Frame> {
    chunks
        .iter()
        .map(|chunk| Frame::Bytes(Bytes::from(format!("event: chunk\ndata: {chunk}\n\n"))))
        .chain(std::iter::once(done()))
        .collect()
}

/// `no_space`: `data:{..}\n\n` and `data:[DONE]\n\n`.
pub(crate) fn no_space(chunks: &[Value]) -> Vec<Frame> {
    chunks
        .iter()
        .map(|chunk| Frame::Bytes(Bytes::from(format!("data:{chunk}\n\n"))))
        .chain(std::iter::once(fixed(b"data:[DONE]\n\n")))
        .collect()
}

/// `invalid_utf8`: in the first content chunk (else the first chunk), a raw 0xFF byte opens
/// the first string of [`INVALID_UTF8_SLOTS`] (the text piece, normally).
pub(crate) fn invalid_utf8(chunks: &[Value]) -> Vec<Frame> {
    let target = content_chunks(chunks).first().copied().unwrap_or(0);
    let Some(mut chunk) = chunks.get(target).cloned() else {
        return frames(chunks);
    };
    let slot = INVALID_UTF8_SLOTS
        .iter()
        .find(|pointer| chunk.pointer(pointer).is_some_and(Value::is_string));
    let Some(Value::String(text)) = slot.and_then(|pointer| chunk.pointer_mut(pointer)) else {
        return frames(chunks);
    };
    text.insert_str(0, INVALID_UTF8_MARKER);
    let json = chunk.to_string();
    let Some(at) = json.find(INVALID_UTF8_MARKER) else {
        return frames(chunks);
    };
    let mut event = Vec::with_capacity(json.len() + 8);
    event.extend_from_slice(b"data: ");
    event.extend_from_slice(&json.as_bytes()[..at]);
    event.push(0xFF);
    event.extend_from_slice(&json.as_bytes()[at + INVALID_UTF8_MARKER.len()..]);
    event.extend_from_slice(b"\n\n");
    events(&chunks[..target])
        .chain(std::iter::once(Frame::Bytes(Bytes::from(event))))
        .chain(events(&chunks[target + 1..]))
        .chain(std::iter::once(done()))
        .collect()
}

/// `huge_line`: first `data: "xxx..."\n\n` with [`HUGE_LINE_STRING_BYTES`] `x`s between the
/// quotes, sent as continuations of one reused buffer (never allocated whole), then the normal
/// stream.
pub(crate) fn huge_line(chunks: &[Value]) -> Vec<Frame> {
    let fill = Bytes::from(vec![b'x'; HUGE_LINE_PIECE_BYTES]);
    let pieces = HUGE_LINE_STRING_BYTES / HUGE_LINE_PIECE_BYTES;
    let mut out = Vec::with_capacity(pieces + chunks.len() + 3);
    out.push(fixed(b"data: \""));
    out.extend((0..pieces).map(|_| Frame::Continuation(fill.clone())));
    out.push(Frame::Continuation(Bytes::from_static(b"\"\n\n")));
    out.extend(frames(chunks));
    out
}

/// `error_before_stream`: the whole stream is one error event, then `[DONE]`.
pub(crate) fn error_before_stream() -> Vec<Frame> {
    vec![fixed(PRE_STREAM_ERROR_EVENT.as_bytes()), done()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A normal one-choice stream: role, `pieces`, finish (and the usage trailer).
    fn text_stream(pieces: &[&str], trailer: bool) -> Vec<Value> {
        let chunk = |delta: Value, finish: Value| {
            json!({"id": "chatcmpl-x", "object": "chat.completion.chunk",
                "system_fingerprint": "fp",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        };
        let mut out = vec![chunk(
            json!({"role": "assistant", "content": "", "refusal": null}),
            Value::Null,
        )];
        out.extend(
            pieces
                .iter()
                .map(|piece| chunk(json!({"content": piece}), Value::Null)),
        );
        out.push(chunk(json!({}), json!("stop")));
        if trailer {
            out.push(json!({"id": "chatcmpl-x", "choices": [], "usage": {"total_tokens": 9}}));
        }
        out
    }

    fn wire(frames: &[Frame]) -> Vec<u8> {
        let mut out = Vec::new();
        for frame in frames {
            match frame {
                Frame::Bytes(bytes) | Frame::Continuation(bytes) => out.extend_from_slice(bytes),
                Frame::Stall => out.extend_from_slice(b"<stall>"),
                Frame::Abort => out.extend_from_slice(b"<abort>"),
            }
        }
        out
    }

    fn text(frames: &[Frame]) -> String {
        String::from_utf8(wire(frames)).unwrap()
    }

    #[test]
    fn kinds_and_cut_point() {
        let chunks = text_stream(&["a", "b"], true);
        let kinds: Vec<Kind> = chunks.iter().map(kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Role,
                Kind::Content,
                Kind::Content,
                Kind::Finish,
                Kind::Trailer
            ]
        );
        assert_eq!(content_chunks(&chunks), [1, 2]);
        assert_eq!(cut_point(&chunks), 2);
        // No content at all: cut after the first chunk.
        assert_eq!(cut_point(&text_stream(&[], false)), 1);
    }

    #[test]
    fn mid_stream_faults_cut_after_the_first_content_chunk() {
        let chunks = text_stream(&["a", "b"], false);
        let head = format!("data: {}\n\ndata: {}\n\n", chunks[0], chunks[1]);
        assert_eq!(text(&drop_mid_stream(&chunks)), format!("{head}<abort>"));
        assert_eq!(text(&stall_stream(&chunks)), format!("{head}<stall>"));
        assert_eq!(
            text(&error_field(&chunks)),
            format!("{head}error: {{\"message\":\"boom\"}}\n\n")
        );
        let nested = text(&error_mid_stream(&chunks));
        let error: Value = serde_json::from_str(
            nested[head.len()..]
                .strip_prefix("data: ")
                .unwrap()
                .trim_end(),
        )
        .unwrap();
        assert_eq!(error["error"]["type"], "server_error");
        let flat = text(&error_flat_mid_stream(&chunks));
        let error: Value = serde_json::from_str(
            flat[head.len()..]
                .strip_prefix("data: ")
                .unwrap()
                .trim_end(),
        )
        .unwrap();
        assert_eq!(
            error,
            json!({"message": "The server had an error while processing your request.",
                "type": "server_error", "code": 500})
        );
    }

    #[test]
    fn malformed_chunk_halves_the_second_content_chunk() {
        let chunks = text_stream(&["a", "b", "c"], false);
        let json = chunks[2].to_string();
        let out = text(&malformed_chunk(&chunks));
        let broken = format!("data: {}\n\n", &json[..json.len() / 2]);
        let expected = format!(
            "data: {}\n\ndata: {}\n\n{broken}data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
            chunks[0], chunks[1], chunks[3], chunks[4]
        );
        assert_eq!(out, expected);
        // A half that would split a character backs off to its start.
        let wide = text_stream(&["ééééééééééééééééééééééééééééééééééééééééééé"], false);
        let out = text(&malformed_chunk(&wide));
        assert!(out.contains("é"));
    }

    #[test]
    fn glued_chunks_share_one_event() {
        let chunks = text_stream(&["a", "b"], false);
        let out = text(&glued_chunks(&chunks));
        assert_eq!(
            out,
            format!(
                "data: {}\n\ndata: {}{}\n\ndata: {}\n\ndata: [DONE]\n\n",
                chunks[0], chunks[1], chunks[2], chunks[3]
            )
        );
    }

    #[test]
    fn invalid_utf8_opens_the_first_piece() {
        let chunks = text_stream(&["a", "b"], false);
        let out = wire(&invalid_utf8(&chunks));
        assert_eq!(out.iter().filter(|b| **b == 0xFF).count(), 1);
        let needle = b"\"content\":\"\xFFa\"";
        assert!(out.windows(needle.len()).any(|w| w == needle));
        assert!(std::str::from_utf8(&out).is_err());
        assert!(!String::from_utf8_lossy(&out).contains(INVALID_UTF8_MARKER));
    }

    #[test]
    fn framing_variants() {
        let chunks = text_stream(&["a"], false);
        let normal = text(&frames(&chunks));
        assert_eq!(text(&crlf(&chunks)), normal.replace('\n', "\r\n"));
        assert_eq!(
            text(&unterminated_last(&chunks)),
            normal.strip_suffix('\n').unwrap()
        );
        assert_eq!(
            text(&no_done(&chunks)),
            normal.strip_suffix("data: [DONE]\n\n").unwrap()
        );
        assert_eq!(text(&no_space(&chunks)), normal.replace("data: ", "data:"));
        assert_eq!(
            text(&named_events(&chunks)),
            normal.replace("data: {", "event: chunk\ndata: {")
        );
        let comments = keepalive_comments(&chunks);
        assert_eq!(comments.len(), 2 * (chunks.len() + 1));
        assert_eq!(text(&comments).replace(": keep-alive\n\n", ""), normal);
        assert!(text(&comments).starts_with(": keep-alive\n\ndata: {"));
        let keepalives = data_keepalive(&chunks);
        assert_eq!(keepalives.len(), 2 * (chunks.len() + 1) - 1);
        assert_eq!(text(&keepalives).replace("data: \n\n", ""), normal);
        let dripped = drip(&chunks);
        assert_eq!(dripped.len(), normal.len());
        assert_eq!(text(&dripped), normal);
    }

    #[test]
    fn huge_line_reuses_one_buffer() {
        let chunks = text_stream(&["a"], false);
        let frames = huge_line(&chunks);
        let Frame::Continuation(first) = &frames[1] else {
            panic!("{:?}", frames[1]);
        };
        let Frame::Continuation(second) = &frames[2] else {
            panic!("{:?}", frames[2]);
        };
        assert_eq!(first.as_ptr(), second.as_ptr(), "one shared buffer");
        let string: usize = frames
            .iter()
            .filter_map(|f| match f {
                Frame::Continuation(bytes) if bytes[0] == b'x' => Some(bytes.len()),
                _ => None,
            })
            .sum();
        assert_eq!(string, 100 * 1024 * 1024);
    }

    #[test]
    fn role_faults() {
        let mut chunks = text_stream(&["a"], false);
        repeat_role(&mut chunks);
        assert!(
            chunks
                .iter()
                .all(|c| c["choices"][0]["delta"]["role"] == "assistant")
        );
        no_role(&mut chunks);
        assert!(
            chunks
                .iter()
                .all(|c| c["choices"][0]["delta"].get("role").is_none())
        );
    }

    #[test]
    fn finish_reason_faults() {
        let mut chunks = text_stream(&["a"], true);
        no_finish_reason(&mut chunks);
        assert!(chunks.iter().all(|c| match c["choices"].get(0) {
            Some(choice) => choice["finish_reason"].is_null(),
            None => true,
        }));
        finish_reason_every_chunk(&mut chunks);
        assert!(
            chunks[..3]
                .iter()
                .all(|c| c["choices"][0]["finish_reason"] == "stop")
        );
        assert_eq!(chunks[3]["choices"], json!([]), "the trailer has no choice");
    }

    #[test]
    fn usage_every_chunk_runs_and_replaces_the_trailer() {
        let usage = json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7});
        let chunks = usage_every_chunk(text_stream(&["a", "b"], true), &usage);
        assert_eq!(chunks.len(), 4, "no trailer");
        let running: Vec<(u64, u64)> = chunks
            .iter()
            .map(|c| {
                (
                    c["usage"]["completion_tokens"].as_u64().unwrap(),
                    c["usage"]["total_tokens"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(running, [(0, 5), (1, 6), (2, 7), (2, 7)]);
    }

    #[test]
    fn cumulative_content_grows_per_choice() {
        let mut chunks = text_stream(&["a ", "b ", "c"], false);
        cumulative_content(&mut chunks);
        let contents: Vec<&Value> = chunks
            .iter()
            .map(|c| &c["choices"][0]["delta"]["content"])
            .collect();
        assert_eq!(
            contents,
            [
                &json!(""),
                &json!("a "),
                &json!("a b "),
                &json!("a b c"),
                &Value::Null
            ]
        );
    }

    #[test]
    fn tool_call_faults() {
        let entry = |delta: Value| json!({"choices": [{"index": 0, "delta": delta, "finish_reason": null}]});
        let mut chunks = vec![
            entry(
                json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_a",
                "type": "function", "function": {"name": "f", "arguments": ""}}]}),
            ),
            entry(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]})),
            entry(json!({"tool_calls": [{"index": 1, "id": "call_b",
                "type": "function", "function": {"name": "g", "arguments": ""}}]})),
            entry(json!({"tool_calls": [{"index": 1, "function": {"arguments": "{"}}]})),
            entry(json!({"tool_calls": [{"index": 1, "function": {"arguments": "}"}}]})),
        ];
        let mut repeated = chunks.clone();
        tool_identity_repeated(&mut repeated);
        assert_eq!(
            repeated[1]["choices"][0]["delta"]["tool_calls"][0],
            json!({"index": 0, "id": "call_a", "type": "function",
                "function": {"name": "f", "arguments": "{}"}})
        );
        assert_eq!(
            repeated[4]["choices"][0]["delta"]["tool_calls"][0],
            json!({"index": 1, "id": "call_b", "type": "function",
                "function": {"name": "g", "arguments": "}"}})
        );
        no_tool_index(&mut chunks);
        assert!(chunks.iter().all(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]
                .get("index")
                .is_none()
        }));
    }
}
