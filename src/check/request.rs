//! What the request asked for (read from its JSON body), and the `req.*` checks: how the
//! target handles developer messages, content parts, `name`, `n`, `stop`, token caps, logprobs
//! and unknown parameters, whether it accepts them or rejects them cleanly.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

use super::{Cx, Endpoint, Finding};
use crate::catalog::Severity;

/// A tool the request declared.
#[derive(Debug, Clone)]
pub struct DeclaredTool<'a> {
    pub name: &'a str,
    pub parameters: Option<&'a Value>,
    pub strict: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice<'a> {
    /// Not sent: `auto` when tools are present.
    Absent,
    None,
    Auto,
    Required,
    Named(&'a str),
    Other,
}

#[derive(Debug, Clone)]
pub enum ResponseFormat<'a> {
    Absent,
    Text,
    JsonObject,
    JsonSchema {
        schema: Option<&'a Value>,
        strict: bool,
    },
    Other,
}

/// The request body, read for the features checks care about.
#[derive(Debug, Clone)]
pub struct RequestView<'a> {
    pub json: Option<&'a Value>,
    pub stream: bool,
    pub n: Option<u64>,
    pub tools: Vec<DeclaredTool<'a>>,
    pub tool_choice: ToolChoice<'a>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: ResponseFormat<'a>,
    /// The smaller of `max_tokens` and `max_completion_tokens`.
    pub max_tokens: Option<u64>,
    pub stop: Vec<&'a str>,
    pub logprobs: bool,
    pub top_logprobs: Option<u64>,
    pub has_developer: bool,
    /// Roles whose `content` is sent as an array of parts.
    pub part_roles: BTreeSet<&'a str>,
    pub has_name_field: bool,
    /// An assistant history message with `content: null` and tool calls.
    pub null_content_with_tool_calls: bool,
    /// Top-level keys that CreateChatCompletionRequest does not define.
    pub unknown_params: Vec<&'a str>,
    /// Kinds of image content parts sent: `data URL`, `URL`.
    pub image_parts: BTreeSet<&'static str>,
    /// Tool-call ids in the history that are not OpenAI's `call_...` (another vendor's, a UUID).
    pub foreign_tool_ids: Vec<&'a str>,
    /// An assistant history message carries `reasoning_content` or `reasoning`.
    pub reasoning_in_history: bool,
    /// The legacy `functions` field.
    pub legacy_functions: bool,
    /// Opaque provider fields a client must echo back, found in the history:
    /// `reasoning_details`, `extra_content` (Gemini's thought signatures).
    pub opaque_fields: BTreeSet<&'static str>,
}

impl<'a> RequestView<'a> {
    pub fn new(json: Option<&'a Value>) -> Self {
        let get = |k: &str| json.and_then(|j| j.get(k));
        let tools = get("tools")
            .and_then(Value::as_array)
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|t| {
                        let f = t.get("function")?;
                        Some(DeclaredTool {
                            name: f.get("name")?.as_str()?,
                            parameters: f.get("parameters"),
                            strict: f.get("strict") == Some(&Value::Bool(true)),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let tool_choice = match get("tool_choice") {
            None => ToolChoice::Absent,
            Some(Value::String(s)) => match s.as_str() {
                "none" => ToolChoice::None,
                "auto" => ToolChoice::Auto,
                "required" => ToolChoice::Required,
                _ => ToolChoice::Other,
            },
            Some(v) => match v.pointer("/function/name").and_then(Value::as_str) {
                Some(name) => ToolChoice::Named(name),
                None => ToolChoice::Other,
            },
        };
        let response_format = match get("response_format") {
            None => ResponseFormat::Absent,
            Some(rf) => match rf.get("type").and_then(Value::as_str) {
                Some("text") => ResponseFormat::Text,
                Some("json_object") => ResponseFormat::JsonObject,
                Some("json_schema") => ResponseFormat::JsonSchema {
                    schema: rf.pointer("/json_schema/schema"),
                    strict: rf.pointer("/json_schema/strict") == Some(&Value::Bool(true)),
                },
                _ => ResponseFormat::Other,
            },
        };
        let max_tokens = ["max_tokens", "max_completion_tokens"]
            .iter()
            .filter_map(|k| get(k).and_then(Value::as_u64))
            .min();
        let stop = match get("stop") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let messages: &[Value] = get("messages").and_then(Value::as_array).map_or(&[], |m| m);
        let role = |m: &'a Value| m.get("role").and_then(Value::as_str).unwrap_or("");
        let unknown_params = json
            .and_then(Value::as_object)
            .map(|o| {
                let known = known_request_params();
                o.keys()
                    .map(String::as_str)
                    .filter(|k| !known.contains(*k))
                    .collect()
            })
            .unwrap_or_default();
        RequestView {
            json,
            stream: get("stream") == Some(&Value::Bool(true)),
            n: get("n").and_then(Value::as_u64),
            tools,
            tool_choice,
            parallel_tool_calls: get("parallel_tool_calls").and_then(Value::as_bool),
            response_format,
            max_tokens,
            stop,
            logprobs: get("logprobs") == Some(&Value::Bool(true)),
            top_logprobs: get("top_logprobs").and_then(Value::as_u64),
            has_developer: messages.iter().any(|m| role(m) == "developer"),
            part_roles: messages
                .iter()
                .filter(|m| m.get("content").is_some_and(Value::is_array))
                .map(role)
                .collect(),
            has_name_field: messages.iter().any(|m| m.get("name").is_some()),
            null_content_with_tool_calls: messages.iter().any(|m| {
                role(m) == "assistant"
                    && m.get("content").is_some_and(Value::is_null)
                    && m.get("tool_calls").is_some()
            }),
            unknown_params,
            image_parts: messages
                .iter()
                .filter_map(|m| m.get("content").and_then(Value::as_array))
                .flatten()
                .filter(|part| part.get("type").and_then(Value::as_str) == Some("image_url"))
                .filter_map(|part| part.pointer("/image_url/url").and_then(Value::as_str))
                .map(|url| {
                    if url.starts_with("data:") {
                        "data URL"
                    } else {
                        "URL"
                    }
                })
                .collect(),
            foreign_tool_ids: messages
                .iter()
                .flat_map(|m| {
                    let calls = m
                        .get("tool_calls")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.get("id").and_then(Value::as_str));
                    calls.chain(m.get("tool_call_id").and_then(Value::as_str))
                })
                .filter(|id| !id.starts_with("call_"))
                .fold(Vec::new(), |mut ids, id| {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                    ids
                }),
            reasoning_in_history: messages.iter().any(|m| {
                role(m) == "assistant"
                    && (m.get("reasoning_content").is_some() || m.get("reasoning").is_some())
            }),
            legacy_functions: get("functions").is_some_and(Value::is_array),
            opaque_fields: messages
                .iter()
                .filter(|m| role(m) == "assistant")
                .flat_map(|m| {
                    let on_message = m.get("reasoning_details").map(|_| "reasoning_details");
                    let on_calls = m
                        .get("tool_calls")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .find_map(|c| c.get("extra_content").map(|_| "extra_content"));
                    on_message.into_iter().chain(on_calls)
                })
                .collect(),
        }
    }

    pub fn tool(&self, name: &str) -> Option<&DeclaredTool<'a>> {
        self.tools.iter().find(|t| t.name == name)
    }
}

/// The top-level properties CreateChatCompletionRequest defines, read from the embedded schema
/// (following `allOf` and `$ref`).
pub fn known_request_params() -> &'static BTreeSet<String> {
    static KNOWN: OnceLock<BTreeSet<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let doc = crate::schema::document("CreateChatCompletionRequest").expect("embedded");
        let mut out = BTreeSet::new();
        collect_properties(doc, doc, &mut out, 0);
        out
    })
}

fn collect_properties(doc: &Value, schema: &Value, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str)
        && let Some(target) = r.strip_prefix('#').and_then(|p| doc.pointer(p))
    {
        collect_properties(doc, target, out, depth + 1);
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        out.extend(props.keys().cloned());
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for p in parts {
            collect_properties(doc, p, out, depth + 1);
        }
    }
}

/// The `req.*` checks, for chat completion requests.
pub(super) fn check_request_handling(cx: &mut Cx) {
    if cx.endpoint != Endpoint::ChatCompletions || cx.req.json.is_none() {
        return;
    }
    if matches!(cx.status, 429 | 402 | 503 | 401 | 403) {
        return; // the server did not get as far as reading the request
    }
    let rejected = (400..500).contains(&cx.status);
    let why = cx
        .error_message()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let status = cx.status;

    if rejected && cx.req.has_developer {
        rejected_feature(
            cx,
            "req.developer_role",
            format!(
                "a `developer` message was rejected with {status}{why}; OpenAI treats it like `system`"
            ),
        );
    }
    // An image part refused is reported as such, not as content parts in general.
    if rejected && !cx.req.part_roles.is_empty() && cx.req.image_parts.is_empty() {
        let roles: Vec<&str> = cx.req.part_roles.iter().copied().collect();
        rejected_feature(
            cx,
            "req.content_parts_everywhere",
            format!(
                "content as an array of parts (roles: {}) was rejected with {status}{why}",
                roles.join(", ")
            ),
        );
    }
    if rejected && cx.req.has_name_field {
        rejected_feature(
            cx,
            "req.message_name_field",
            format!("`messages[].name` was rejected with {status}{why}; OpenAI accepts it"),
        );
    }
    // A refusal that names a foreign tool-call id or an opaque field is about that, not the
    // `content: null`.
    let names_specific = cx
        .req
        .foreign_tool_ids
        .iter()
        .chain(cx.req.opaque_fields.iter())
        .any(|name| why.contains(name));
    if rejected && cx.req.null_content_with_tool_calls && !names_specific {
        rejected_feature(
            cx,
            "tools.content_alongside_tool_calls",
            format!(
                "an assistant history message with `content: null` and `tool_calls` was rejected with {status}{why}; tool loops send exactly that"
            ),
        );
    }
    if rejected && !cx.req.image_parts.is_empty() {
        let kinds: Vec<&str> = cx.req.image_parts.iter().copied().collect();
        rejected_feature(
            cx,
            "req.image_parts",
            format!(
                "an `image_url` content part ({}) was rejected with {status}{why}",
                kinds.join(" and ")
            ),
        );
    }
    if rejected && !cx.req.foreign_tool_ids.is_empty() {
        let ids = super::code_list(cx.req.foreign_tool_ids.iter().take(2));
        rejected_feature(
            cx,
            "tools.foreign_tool_call_ids",
            format!(
                "a history with tool-call ids not in OpenAI's format ({ids}) was rejected with {status}{why}; agents that switch providers replay them"
            ),
        );
    }
    if rejected && cx.req.reasoning_in_history {
        rejected_feature(
            cx,
            "ext.reasoning_round_trip",
            format!(
                "an assistant history message with `reasoning_content` was rejected with {status}{why}; clients of thinking models send it back"
            ),
        );
    }
    if rejected && !cx.req.opaque_fields.is_empty() {
        let fields = super::code_list(&cx.req.opaque_fields);
        rejected_feature(
            cx,
            "ext.opaque_passthrough_fields",
            format!(
                "a history carrying the opaque fields a provider asks back ({fields}) was rejected with {status}{why}; the next turn of a thinking model fails without them"
            ),
        );
    }
    check_legacy_functions(cx, rejected);
    check_sampling(cx, rejected, &why);
    check_stream_options(cx, rejected, &why);
    check_n(cx, rejected);
    check_stop(cx, rejected, &why);
    check_max_tokens(cx, rejected, &why);
    check_logprobs(cx, rejected);
    check_unknown_params(cx, rejected);
}

/// A 4xx for a request feature OpenAI accepts: a warning that explains the rejection (so the
/// generic "a valid request was rejected" assertion stays quiet).
///
/// A 400 with `code: unsupported_parameter` is OpenAI's own way to refuse a parameter for a
/// model (`stop` and `max_tokens` on reasoning models): explained, not reported.
fn rejected_feature(cx: &mut Cx, check: &'static str, message: String) {
    cx.rejection_explained = true;
    if cx
        .json()
        .and_then(|j| j.pointer("/error/code"))
        .and_then(Value::as_str)
        == Some("unsupported_parameter")
    {
        return;
    }
    let status = cx.status;
    cx.push(
        Finding::new(check, Severity::Warning, message)
            .expected("2xx")
            .actual(status),
    );
}

/// `req.temperature_and_sampling`: `temperature` within 0..2 and `top_p` within 0..1 are
/// accepted. A refusal is blamed on them only when its message names one (a 400 for another
/// reason says something else).
fn check_sampling(cx: &mut Cx, rejected: bool, why: &str) {
    if !rejected {
        return;
    }
    let Some(json) = cx.req.json else {
        return;
    };
    let valid = |k: &'static str, max: f64| {
        json.get(k)
            .and_then(Value::as_f64)
            .is_some_and(|v| (0.0..=max).contains(&v))
            .then_some(k)
    };
    let named: Vec<&str> = [valid("temperature", 2.0), valid("top_p", 1.0)]
        .into_iter()
        .flatten()
        .filter(|k| why.contains(k))
        .collect();
    if named.is_empty() {
        return;
    }
    let values: Vec<String> = named
        .iter()
        .map(|k| format!("`{k}: {}`", json[*k]))
        .collect();
    let status = cx.status;
    rejected_feature(
        cx,
        "req.temperature_and_sampling",
        format!(
            "{} (within OpenAI's range) was rejected with {status}{why}",
            values.join(", ")
        ),
    );
}

/// `tools.legacy_functions`: the deprecated `functions` field is supported (a
/// `function_call` or a tool call comes back) or refused with a clean 4xx; accepted and then
/// ignored, it is reported.
fn check_legacy_functions(cx: &mut Cx, rejected: bool) {
    if !cx.req.legacy_functions {
        return;
    }
    if rejected {
        cx.rejection_explained = true; // a clean refusal is allowed
        return;
    }
    if !cx.is_success() || cx.req.stream {
        return;
    }
    let Some(message) = cx
        .json()
        .and_then(|j| j.pointer("/choices/0/message"))
        .cloned()
    else {
        return;
    };
    let called = ["function_call", "tool_calls"]
        .iter()
        .any(|k| message.get(k).is_some_and(|v| !v.is_null()));
    let forced = cx
        .req
        .json
        .and_then(|j| j.pointer("/function_call/name"))
        .is_some();
    if forced && !called {
        cx.push(
            Finding::new(
                "tools.legacy_functions",
                Severity::Info,
                "`functions` with a named `function_call` was accepted, but the answer calls nothing (the legacy fields are ignored)",
            )
            .at("/choices/0/message")
            .expected("`function_call` (or `tool_calls`)")
            .actual("neither"),
        );
    }
}

/// `usage.stream_options_acceptance`: accepted with `stream: true`; without it, OpenAI answers
/// 400 ("The 'stream_options' parameter is only allowed when 'stream' is enabled.").
fn check_stream_options(cx: &mut Cx, rejected: bool, why: &str) {
    let Some(json) = cx.req.json else {
        return;
    };
    if json.get("stream_options").is_none_or(Value::is_null) {
        return;
    }
    let status = cx.status;
    match (cx.req.stream, rejected) {
        (true, true) => rejected_feature(
            cx,
            "usage.stream_options_acceptance",
            format!(
                "`stream_options` was rejected with {status}{why}; clients such as LangChain always send it"
            ),
        ),
        (false, true) => cx.rejection_explained = true, // what OpenAI does
        (false, false) if cx.is_success() => cx.push(
            Finding::new(
                "usage.stream_options_acceptance",
                Severity::Info,
                "`stream_options` without `stream: true` was accepted; OpenAI answers 400",
            )
            .expected(400)
            .actual(status),
        ),
        _ => {}
    }
}

fn check_n(cx: &mut Cx, rejected: bool) {
    let Some(n) = cx.req.n.filter(|&n| n > 1) else {
        return;
    };
    if rejected {
        // A clean 400 is an allowed answer to `n > 1`.
        cx.rejection_explained = true;
        return;
    }
    if !cx.is_success() || cx.req.stream {
        return;
    }
    let Some(choices) = cx
        .json()
        .and_then(|j| j.get("choices"))
        .and_then(Value::as_array)
    else {
        return;
    };
    let mut indices: Vec<i64> = choices
        .iter()
        .filter_map(|c| c.get("index").and_then(Value::as_i64))
        .collect();
    indices.sort_unstable();
    indices.dedup();
    let wanted: Vec<i64> = (0..n as i64).collect();
    if choices.len() as u64 != n || indices != wanted {
        let got = choices.len();
        cx.push(
            Finding::new(
                "req.n_parameter",
                Severity::Warning,
                format!("asked for n={n} choices, got {got} (indices {indices:?}); a target that cannot sample several should answer 400"),
            )
            .at("/choices")
            .expected(format!("{n} choices with indices 0..{}", n - 1))
            .actual(format!("{got} choices")),
        );
    }
}

fn check_stop(cx: &mut Cx, rejected: bool, why: &str) {
    if cx.req.stop.is_empty() {
        return;
    }
    let status = cx.status;
    if rejected {
        rejected_feature(
            cx,
            "req.stop_sequences",
            format!("`stop` was rejected with {status}{why}"),
        );
        return;
    }
    if !cx.is_success() {
        return; // (a stream is judged on its reassembled message)
    }
    let stops: Vec<String> = cx.req.stop.iter().map(|s| (*s).to_owned()).collect();
    let Some(choices) = cx
        .json()
        .and_then(|j| j.get("choices"))
        .and_then(Value::as_array)
        .cloned()
    else {
        return;
    };
    for (i, choice) in choices.iter().enumerate() {
        let Some(content) = choice.pointer("/message/content").and_then(Value::as_str) else {
            continue;
        };
        if let Some(s) = stops
            .iter()
            .find(|s| !s.is_empty() && content.contains(s.as_str()))
        {
            cx.push(
                Finding::new(
                    "req.stop_sequences",
                    Severity::Warning,
                    format!("the stop sequence {s:?} appears in the content; the output should end before it"),
                )
                .at(format!("/choices/{i}/message/content"))
                .expected(format!("content without {s:?}"))
                .actual(crate::schema::short(&Value::String(content.to_owned()))),
            );
        }
    }
}

fn check_max_tokens(cx: &mut Cx, rejected: bool, why: &str) {
    let Some(cap) = cx.req.max_tokens else {
        return;
    };
    let status = cx.status;
    if rejected {
        cx.rejection_explained = true;
        let code = cx
            .json()
            .and_then(|j| j.pointer("/error/code"))
            .and_then(Value::as_str);
        if code != Some("unsupported_parameter") {
            cx.push(
                Finding::new(
                    "req.max_completion_tokens",
                    Severity::Warning,
                    format!("a token cap was rejected with {status}{why}; OpenAI accepts it or answers `unsupported_parameter`"),
                )
                .expected("2xx, or 400 with code unsupported_parameter")
                .actual(status),
            );
        }
        return;
    }
    if !cx.is_success() {
        return;
    }
    let used = cx
        .json()
        .and_then(|j| j.pointer("/usage/completion_tokens"))
        .and_then(Value::as_u64);
    if let Some(used) = used
        && used > cap
    {
        cx.push(
            Finding::new(
                "req.max_completion_tokens",
                Severity::Warning,
                format!("the token cap of {cap} was not honoured: {used} completion tokens"),
            )
            .at("/usage/completion_tokens")
            .expected(format!("<= {cap}"))
            .actual(used),
        );
    }
}

fn check_logprobs(cx: &mut Cx, rejected: bool) {
    if !cx.req.logprobs {
        return;
    }
    if rejected {
        cx.rejection_explained = true; // a clean rejection is allowed
        return;
    }
    if !cx.is_success() || cx.req.stream {
        return;
    }
    let Some(choices) = cx
        .json()
        .and_then(|j| j.get("choices"))
        .and_then(Value::as_array)
        .cloned()
    else {
        return;
    };
    for (i, choice) in choices.iter().enumerate() {
        let lp = choice.get("logprobs");
        if lp.is_none_or(Value::is_null) {
            cx.push(
                Finding::new(
                    "req.logprobs_params",
                    Severity::Warning,
                    "`logprobs: true` was accepted but the choice has no logprobs (silently dropped)",
                )
                .at(format!("/choices/{i}/logprobs"))
                .expected("an object with `content`")
                .actual("null"),
            );
            continue;
        }
        let Some(top) = cx.req.top_logprobs.filter(|&t| t > 0) else {
            continue;
        };
        let Some(tokens) = lp.and_then(|l| l.get("content")).and_then(Value::as_array) else {
            continue;
        };
        for (t, token) in tokens.iter().enumerate() {
            let got = token
                .get("top_logprobs")
                .and_then(Value::as_array)
                .map_or(0, Vec::len) as u64;
            if got != top {
                cx.push(
                    Finding::new(
                        "req.logprobs_params",
                        Severity::Warning,
                        format!(
                            "`top_logprobs: {top}` was asked for, token {t} has {got} alternatives"
                        ),
                    )
                    .at(format!("/choices/{i}/logprobs/content/{t}/top_logprobs"))
                    .expected(top)
                    .actual(got),
                );
                break;
            }
        }
    }
}

fn check_unknown_params(cx: &mut Cx, rejected: bool) {
    if cx.req.unknown_params.is_empty() {
        return;
    }
    if rejected {
        // What OpenAI does: nothing to report.
        cx.rejection_explained = true;
        return;
    }
    if cx.is_success() {
        let names: Vec<String> = cx
            .req
            .unknown_params
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        cx.push(
            Finding::new(
                "req.unknown_param_policy",
                Severity::Info,
                format!(
                    "unknown parameter {} accepted silently; OpenAI answers 400 `Unrecognized request argument supplied`",
                    names.join(", ")
                ),
            )
            .expected("400")
            .actual(cx.status),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn the_request_view_reads_features() {
        let body = serde_json::json!({
            "model": "m", "n": 2, "stop": ["\n", "END"], "max_tokens": 50, "max_completion_tokens": 20,
            "tools": [{"type": "function", "function": {"name": "f", "strict": true, "parameters": {}}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}, "strict": true}},
            "messages": [{"role": "developer", "content": [{"type": "text", "text": "x"}], "name": "a"}],
            "x_probe": 1
        });
        let v = RequestView::new(Some(&body));
        assert_eq!(v.n, Some(2));
        assert_eq!(v.stop, ["\n", "END"]);
        assert_eq!(v.max_tokens, Some(20));
        assert!(v.tools[0].strict);
        assert_eq!(v.tool_choice, ToolChoice::Named("f"));
        assert!(matches!(
            v.response_format,
            ResponseFormat::JsonSchema { strict: true, .. }
        ));
        assert!(v.has_developer && v.has_name_field);
        assert_eq!(
            v.part_roles.iter().copied().collect::<Vec<_>>(),
            ["developer"]
        );
        assert_eq!(v.unknown_params, ["x_probe"]);
    }

    #[test]
    fn known_params_come_from_the_spec() {
        let known = known_request_params();
        for p in [
            "model",
            "messages",
            "temperature",
            "tools",
            "stream_options",
            "max_completion_tokens",
            "seed",
            "user",
        ] {
            assert!(known.contains(p), "{p}");
        }
        assert!(!known.contains("x_probe"));
    }

    const ERR: &str =
        r#"{"error":{"message":"nope","type":"invalid_request_error","param":null,"code":null}}"#;

    #[test]
    fn a_rejected_developer_message_is_a_warning_not_a_failure() {
        let c = chat_case(
            "{model: m, messages: [{role: developer, content: be brief}, {role: user, content: hi}]}",
            "",
        );
        let v = judge(&c, 400, "application/json", ERR);
        assert_eq!(ids(&v), ["req.developer_role warning"]);
        assert_eq!(v.outcome, super::super::Outcome::Pass);
    }

    #[test]
    fn n_with_too_few_choices_is_reported() {
        let c = chat_case(
            "{model: m, n: 2, messages: [{role: user, content: hi}]}",
            "",
        );
        let v = judge(&c, 200, "application/json", OK_BODY);
        assert_eq!(ids(&v), ["req.n_parameter warning"]);
        assert_eq!(judge(&c, 400, "application/json", ERR).findings, vec![]);
    }

    #[test]
    fn stop_sequence_in_content_and_uncapped_tokens_are_reported() {
        let c = chat_case(
            "{model: m, stop: [hi], max_tokens: 0, messages: [{role: user, content: hi}]}",
            "",
        );
        let v = judge(&c, 200, "application/json", OK_BODY);
        assert_eq!(
            ids(&v),
            [
                "req.stop_sequences warning",
                "req.max_completion_tokens warning"
            ]
        );
    }

    #[test]
    fn unknown_params_accepted_are_info_rejected_are_nothing() {
        let c = chat_case(
            "{model: m, x_probe: 1, messages: [{role: user, content: hi}]}",
            "",
        );
        assert_eq!(
            ids(&judge(&c, 200, "application/json", OK_BODY)),
            ["req.unknown_param_policy info"]
        );
        assert_eq!(
            ids(&judge(&c, 400, "application/json", ERR)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn logprobs_dropped_silently_is_reported() {
        let c = chat_case(
            "{model: m, logprobs: true, messages: [{role: user, content: hi}]}",
            "",
        );
        assert_eq!(
            ids(&judge(&c, 200, "application/json", OK_BODY)),
            ["req.logprobs_params warning"]
        );
    }
}
