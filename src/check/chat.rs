//! Checks on a non-stream chat completion: content type and stream flag (`sse.*`), the envelope
//! (`resp.*`), usage (`usage.*`), tool calls (`tools.*`), JSON mode (`json.*`) and the common
//! extensions (`ext.*`), then the OpenAPI schema (`resp.schema`).

use serde_json::Value;

use super::{Body, Cx, Endpoint, FINISH_REASONS, Finding, ptr};
use crate::catalog::Severity::{self, Info, Violation, Warning};
use crate::check::request::{ResponseFormat, ToolChoice};
use crate::schema::short;

/// `sse.content_type` and `sse.stream_flag_honored`: is the body the kind the request asked for?
pub(super) fn check_transport_shape(cx: &mut Cx) {
    if cx.endpoint != Endpoint::ChatCompletions || !cx.is_success() {
        return;
    }
    let media = cx.ex.media_type();
    let looks_sse = looks_like_sse(&cx.ex.body);
    if cx.req.stream {
        // The stream judge decides what an event stream is (a stream may open with `id:`).
        let streamed = cx.streamed;
        if media.as_deref() != Some("text/event-stream") {
            cx.push(
                Finding::new(
                    "sse.content_type",
                    Violation,
                    "a `stream: true` request was not answered with `Content-Type: text/event-stream`",
                )
                .expected("text/event-stream")
                .actual(media.as_deref().unwrap_or("(none)"))
                .sdk("EventSource-style clients refuse the stream"),
            );
        }
        if !streamed {
            let what = match cx.body {
                Body::Json(_) => {
                    "`stream: true` was ignored: the body is one JSON object, not an event stream"
                }
                Body::Empty => {
                    "`stream: true` was answered with an empty body, not an event stream"
                }
                Body::NotJson(_) => {
                    "`stream: true` was answered with a body that is not an event stream"
                }
            };
            cx.push(
                Finding::new("sse.stream_flag_honored", Violation, what)
                    .sdk("openai-python parses the body as SSE, finds no `data:` line and yields zero chunks without error"),
            );
        }
        return;
    }
    if looks_sse {
        cx.push(
            Finding::new(
                "sse.stream_flag_honored",
                Violation,
                "a non-stream request (`stream` false or absent) was answered with an event stream",
            )
            .sdk("openai-python returns the raw text instead of a ChatCompletion ('str' object has no attribute 'choices'); openai-node fails in JSON.parse"),
        );
    }
    match media.as_deref() {
        Some("application/json") => {}
        Some(m) if m.ends_with("+json") => {}
        other => {
            let sdk = if other == Some("text/event-stream") {
                "openai-python returns the body as a `str` ('str' object has no attribute 'choices'); openai-node returns text"
            } else {
                "openai-node returns the body as text instead of parsing it; openai-python tries JSON and otherwise returns a `str`"
            };
            cx.push(
                Finding::new(
                    "sse.content_type",
                    Violation,
                    "a non-stream completion must be sent as `application/json`",
                )
                .expected("application/json")
                .actual(other.unwrap_or("(none)"))
                .sdk(sdk),
            );
        }
    }
}

fn looks_like_sse(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let rest = &body[start..];
    rest.starts_with(b"data:") || rest.starts_with(b"event:") || rest.starts_with(b":")
}

/// Everything about a 2xx non-stream chat completion except the schema.
pub(super) fn check_completion(cx: &mut Cx) {
    let body =
        match &cx.body {
            Body::Json(v) => v.clone(),
            Body::Empty => {
                cx.push(
                    Finding::new(
                        "resp.envelope",
                        Violation,
                        "the 2xx response has an empty body",
                    )
                    .sdk_breaking(),
                );
                return;
            }
            Body::NotJson(err) => {
                let err = err.clone();
                let ex = cx.ex;
                if !looks_like_sse(&ex.body) {
                    let text = String::from_utf8_lossy(&ex.body);
                    if text.contains("Infinity") || text.contains("NaN") {
                        cx.push(Finding::new(
                        "ext.logprobs_shape",
                        Violation,
                        "the body holds a non-JSON number (Infinity or NaN), likely a logprob",
                    ).sdk("JSON parsers in both SDKs reject the whole response"));
                    }
                    cx.push(
                        Finding::new(
                            "resp.envelope",
                            Violation,
                            format!("the 2xx body is not JSON: {err}"),
                        )
                        .actual(short(&Value::String(text.chars().take(120).collect())))
                        .sdk_breaking(),
                    );
                }
                return;
            }
        };
    let Some(obj) = body.as_object() else {
        cx.push(
            Finding::new(
                "resp.envelope",
                Violation,
                format!(
                    "the body is {} JSON {}, not an object",
                    article(&body),
                    crate::schema::type_name(&body)
                ),
            )
            .at("")
            .sdk_breaking(),
        );
        return;
    };
    let error_shaped = obj.contains_key("error")
        || obj
            .get("object")
            .and_then(Value::as_str)
            .is_some_and(|o| o.eq_ignore_ascii_case("error"))
        || obj.contains_key("detail")
        || (obj.contains_key("message") && !obj.contains_key("id"));
    if error_shaped && !obj.contains_key("choices") {
        let status = cx.status;
        cx.push(
            Finding::new(
                "err.no_error_with_2xx_nonstream",
                Violation,
                format!(
                    "the {status} body is an error, not a completion: {}",
                    cx.error_message().unwrap_or_default()
                ),
            )
            .at("/error")
            .expected("a 4xx or 5xx status for an error")
            .actual(status)
            .sdk_breaking(),
        );
        return;
    }
    leading_whitespace(cx);
    envelope(cx, &body);
    if let Some(choices) = body.get("choices").and_then(Value::as_array) {
        for (i, choice) in choices.iter().enumerate() {
            choice_checks(cx, i, choice);
        }
    }
    usage(cx, &body);
    extensions(cx, &body);
}

fn article(v: &Value) -> &'static str {
    match v {
        Value::Array(_) | Value::Object(_) => "an",
        _ => "a",
    }
}

fn leading_whitespace(cx: &mut Cx) {
    let n = cx
        .ex
        .body
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    if n > 0 {
        let t = &cx.ex.timing;
        let timing = match t.first_byte {
            Some(fb) => format!(
                " (first byte after {} ms, body complete after {} ms)",
                fb.as_millis(),
                t.total.as_millis()
            ),
            None => String::new(),
        };
        cx.push(Finding::new(
            "resp.leading_whitespace_tolerated",
            Info,
            format!("{n} bytes of whitespace precede the JSON body{timing}"),
        ));
    }
}

fn envelope(cx: &mut Cx, body: &Value) {
    match body.get("object") {
        Some(Value::String(s)) if s == "chat.completion" => {}
        Some(other) => cx.push(
            Finding::new(
                "resp.envelope",
                Violation,
                "`object` must be \"chat.completion\"",
            )
            .at("/object")
            .expected("\"chat.completion\"")
            .actual(short(other)),
        ),
        None => cx.push(
            Finding::new(
                "resp.envelope",
                Violation,
                "`object` is missing; it must be \"chat.completion\"",
            )
            .at("/object"),
        ),
    }
    if body.get("id").and_then(Value::as_str) == Some("") {
        cx.push(Finding::new("resp.envelope", Warning, "`id` is an empty string").at("/id"));
    }
    if let Some(created) = body.get("created").and_then(Value::as_i64)
        && created > 100_000_000_000
    {
        cx.push(
            Finding::new(
                "resp.envelope",
                Warning,
                "`created` looks like milliseconds; it is Unix seconds",
            )
            .at("/created")
            .actual(created),
        );
    }
    if body.get("model").and_then(Value::as_str) == Some("") {
        cx.push(Finding::new("resp.envelope", Warning, "`model` is an empty string").at("/model"));
    }
    match body.get("choices") {
        Some(Value::Array(choices)) if choices.is_empty() => cx.push(
            Finding::new("resp.envelope", Violation, "`choices` is empty: there is no answer")
                .at("/choices")
                .sdk("user code doing `choices[0]` raises IndexError / reads undefined"),
        ),
        Some(Value::Array(_)) => {}
        Some(other) => cx.push(
            Finding::new("resp.envelope", Violation, format!("`choices` must be an array, not {}", crate::schema::type_name(other)))
                .at("/choices")
                .sdk("openai-python builds the object unvalidated; `choices[0]` raises TypeError in user code"),
        ),
        None => cx.push(
            Finding::new("resp.envelope", Violation, "`choices` is missing")
                .at("/choices")
                .sdk_breaking(),
        ),
    }
}

fn choice_checks(cx: &mut Cx, i: usize, choice: &Value) {
    let at = format!("/choices/{i}");
    if let Some(index) = choice.get("index").and_then(Value::as_u64)
        && index != i as u64
    {
        cx.push(
            Finding::new(
                "resp.envelope",
                Warning,
                format!("choice {i} has index {index}"),
            )
            .at(format!("{at}/index"))
            .expected(i)
            .actual(index),
        );
    }
    let message = choice.get("message");
    if message.is_none() {
        let text_style = choice.get("text").is_some();
        cx.push(
            Finding::new(
                "resp.envelope",
                Violation,
                if text_style {
                    "the choice has completions-style `text` instead of `message`".to_owned()
                } else {
                    "the choice has no `message`".to_owned()
                },
            )
            .at(format!("{at}/message"))
            .sdk("`choices[0].message.content` raises AttributeError (python) / TypeError (node) in user code"),
        );
    }
    match choice.get("finish_reason") {
        Some(Value::String(r)) if FINISH_REASONS.contains(&r.as_str()) => {}
        Some(Value::String(r)) => {
            let extra = if r == "error" {
                " (OpenRouter's mid-generation error marker: the answer is incomplete)"
            } else {
                ""
            };
            cx.push(
                Finding::new(
                    "resp.finish_reason",
                    Violation,
                    format!("`finish_reason` {r:?} is not one OpenAI sends{extra}"),
                )
                .at(format!("{at}/finish_reason"))
                .expected(FINISH_REASONS.join(" | "))
                .actual(format!("{r:?}"))
                .sdk("openai-dotnet throws ArgumentOutOfRangeException; typed Go/Rust clients fail to decode; python and node pass it through"),
            );
        }
        Some(Value::Null) | None => cx.push(
            Finding::new(
                "resp.envelope",
                Violation,
                "`finish_reason` is null; a completed choice says why it stopped",
            )
            .at(format!("{at}/finish_reason"))
            .sdk("agents that branch on finish_reason treat the turn as unfinished"),
        ),
        Some(other) => cx.push(
            Finding::new(
                "resp.finish_reason",
                Violation,
                "`finish_reason` must be a string",
            )
            .at(format!("{at}/finish_reason"))
            .actual(short(other)),
        ),
    }
    let Some(message) = message.and_then(Value::as_object) else {
        return;
    };
    match message.get("role") {
        Some(Value::String(r)) if r == "assistant" => {}
        other => cx.push(
            Finding::new(
                "resp.envelope",
                Violation,
                "`message.role` must be \"assistant\"",
            )
            .at(format!("{at}/message/role"))
            .expected("\"assistant\"")
            .actual(other.map_or("(missing)".to_owned(), short)),
        ),
    }
    message_checks(cx, i, choice, message);
}

/// The checks on one choice's message, shared with streams (run on the reassembled message):
/// refusal, tool calls, JSON mode, reasoning, images, logprobs.
pub(super) fn message_checks(
    cx: &mut Cx,
    i: usize,
    choice: &Value,
    message: &serde_json::Map<String, Value>,
) {
    let at = format!("/choices/{i}");
    if let Some(refusal) = message.get("refusal")
        && !(refusal.is_null() || refusal.is_string())
    {
        cx.push(
            Finding::new(
                "json.refusal_field",
                Warning,
                "`message.refusal` must be null or a string",
            )
            .at(format!("{at}/message/refusal"))
            .actual(short(refusal)),
        );
    }
    tool_calls(cx, i, choice, message);
    json_mode(cx, i, choice, message);
    reasoning(cx, i, message);
    images(cx, i, message);
    logprobs_shape(cx, i, choice);
}

fn tool_calls(cx: &mut Cx, i: usize, choice: &Value, message: &serde_json::Map<String, Value>) {
    let at = format!("/choices/{i}/message");
    let finish = choice.get("finish_reason").and_then(Value::as_str);
    let calls: &[Value] = match message.get("tool_calls") {
        Some(Value::Array(calls)) => calls,
        _ => &[],
    };
    let tools_offered = !cx.req.tools.is_empty();

    if calls.is_empty() {
        if finish == Some("tool_calls") {
            cx.push(
                Finding::new(
                    "tools.finish_reason_tool_calls",
                    Warning,
                    "`finish_reason` is \"tool_calls\" but the message has no tool calls",
                )
                .at(format!("/choices/{i}/finish_reason")),
            );
        }
        if tools_offered {
            match cx.req.tool_choice {
                ToolChoice::Required => cx.push(
                    Finding::new(
                        "tools.tool_choice_modes",
                        Warning,
                        "`tool_choice: required` but the model called no tool",
                    )
                    .at(format!("{at}/tool_calls"))
                    .expected("at least one tool call")
                    .actual("none"),
                ),
                ToolChoice::Named(name) => cx.push(
                    Finding::new(
                        "tools.tool_choice_modes",
                        Warning,
                        format!("`tool_choice` names `{name}` but no tool was called"),
                    )
                    .at(format!("{at}/tool_calls"))
                    .expected(format!("a call to `{name}`"))
                    .actual("none"),
                ),
                _ => {}
            }
        }
        return;
    }

    let mut ids: Vec<&str> = Vec::new();
    for (j, call) in calls.iter().enumerate() {
        let cat = format!("{at}/tool_calls/{j}");
        let id = call.get("id").and_then(Value::as_str).unwrap_or("");
        if id.is_empty() {
            cx.push(
                Finding::new("tools.id_type_name_present", Violation, format!("tool call {j} has no `id`"))
                    .at(format!("{cat}/id"))
                    .sdk("the tool result cannot be sent back: its `tool_call_id` is unknown; openai-node's stream helper throws `missing choices[0].tool_calls[0].id`"),
            );
        } else if ids.contains(&id) {
            cx.push(
                Finding::new(
                    "tools.parallel_calls",
                    Violation,
                    format!("tool calls share the id `{id}`"),
                )
                .at(format!("{cat}/id"))
                .sdk("tool results are matched by id: the calls collide"),
            );
        } else {
            ids.push(id);
        }
        match call.get("type") {
            Some(Value::String(t)) if t == "function" => {}
            other => cx.push(
                Finding::new(
                    "tools.id_type_name_present",
                    Violation,
                    "a tool call's `type` must be \"function\"",
                )
                .at(format!("{cat}/type"))
                .expected("\"function\"")
                .actual(other.map_or("(missing)".to_owned(), short))
                .sdk_breaking(),
            ),
        }
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if name.is_empty() {
            cx.push(
                Finding::new(
                    "tools.id_type_name_present",
                    Violation,
                    format!("tool call {j} has no `function.name`"),
                )
                .at(format!("{cat}/function/name"))
                .sdk_breaking(),
            );
        } else if tools_offered && cx.req.tool(name).is_none() {
            let offered: Vec<&str> = cx.req.tools.iter().map(|t| t.name).collect();
            cx.push(
                Finding::new(
                    "tools.id_type_name_present",
                    Violation,
                    format!("tool call {j} names `{name}`, which the request did not declare"),
                )
                .at(format!("{cat}/function/name"))
                .expected(offered.join(" | "))
                .actual(name),
            );
        }
        match call.pointer("/function/arguments") {
            Some(Value::String(args)) => arguments(cx, &cat, name, args),
            Some(other) => cx.push(
                Finding::new(
                    "tools.arguments_is_string",
                    Violation,
                    format!("`function.arguments` must be a JSON-encoded string, not {}", crate::schema::type_name(other)),
                )
                .at(format!("{cat}/function/arguments"))
                .expected("a string such as \"{\\\"city\\\": \\\"Paris\\\"}\"")
                .actual(short(other))
                .sdk_breaking(),
            ),
            None => cx.push(
                Finding::new("tools.id_type_name_present", Violation, format!("tool call {j} has no `function.arguments`"))
                    .at(format!("{cat}/function/arguments"))
                    .sdk("openai-node's stream helper throws `missing ... function.arguments`; agents cannot call the tool"),
            ),
        }
    }

    // Modes and finish reason.
    match cx.req.tool_choice {
        ToolChoice::None => cx.push(
            Finding::new(
                "tools.tool_choice_modes",
                Warning,
                "`tool_choice: none` but the model called a tool",
            )
            .at(format!("{at}/tool_calls"))
            .expected("no tool call")
            .actual(format!("{} call(s)", calls.len())),
        ),
        ToolChoice::Named(wanted) => {
            let others: Vec<&str> = calls
                .iter()
                .filter_map(|c| c.pointer("/function/name").and_then(Value::as_str))
                .filter(|n| *n != wanted)
                .collect();
            if !others.is_empty() {
                cx.push(
                    Finding::new(
                        "tools.tool_choice_modes",
                        Warning,
                        format!(
                            "`tool_choice` names `{wanted}` but the model called {}",
                            others.join(", ")
                        ),
                    )
                    .at(format!("{at}/tool_calls"))
                    .expected(wanted)
                    .actual(others.join(", ")),
                );
            }
        }
        _ => {}
    }
    if cx.req.parallel_tool_calls == Some(false) && calls.len() > 1 {
        cx.push(
            Finding::new(
                "tools.parallel_tool_calls_param",
                Warning,
                format!(
                    "`parallel_tool_calls: false` but the model made {} calls",
                    calls.len()
                ),
            )
            .at(format!("{at}/tool_calls"))
            .expected("at most 1 call")
            .actual(calls.len()),
        );
    }
    let named = matches!(cx.req.tool_choice, ToolChoice::Named(_));
    match (finish, named) {
        (Some("tool_calls"), false) | (Some("stop"), true) | (Some("length"), _) => {}
        (Some("tool_calls"), true) => cx.push(
            Finding::new(
                "tools.finish_reason_tool_calls",
                Info,
                "for a named `tool_choice` OpenAI answers `finish_reason: \"stop\"`; this target says \"tool_calls\"",
            )
            .at(format!("/choices/{i}/finish_reason")),
        ),
        (Some(other), _) => cx.push(
            Finding::new(
                "tools.finish_reason_tool_calls",
                Warning,
                format!("the turn ends in tool calls but `finish_reason` is {other:?}"),
            )
            .at(format!("/choices/{i}/finish_reason"))
            .expected(if named { "\"stop\" (named tool_choice)" } else { "\"tool_calls\"" })
            .actual(format!("{other:?}")),
        ),
        (None, _) => {}
    }
    match message.get("content") {
        Some(Value::String(s)) if !s.is_empty() => cx.push(
            Finding::new(
                "tools.content_alongside_tool_calls",
                Warning,
                "a message with tool calls also carries text content; OpenAI sends `content: null`",
            )
            .at(format!("{at}/content"))
            .expected("null")
            .actual(short(&Value::String(s.clone()))),
        ),
        _ => {}
    }
}

/// Arguments parse as a JSON object and validate against the declared parameters.
fn arguments(cx: &mut Cx, call_at: &str, name: &str, args: &str) {
    let at = format!("{call_at}/function/arguments");
    let tool = cx.req.tool(name).cloned();
    let strict = tool.as_ref().is_some_and(|t| t.strict);
    let severity = if strict { Violation } else { Warning };
    let why_strict = if strict {
        " (a strict tool promises schema adherence)"
    } else {
        ""
    };
    match serde_json::from_str::<Value>(args) {
        Err(e) => cx.push(
            Finding::new(
                "tools.arguments_valid_json",
                severity,
                format!("the arguments of `{name}` are not valid JSON: {e}{why_strict}"),
            )
            .at(at)
            .actual(short(&Value::String(args.to_owned()))),
        ),
        Ok(Value::Object(_)) => {
            if let Some(params) = tool.as_ref().and_then(|t| t.parameters) {
                let parsed: Value = serde_json::from_str(args).expect("parsed above");
                for e in crate::schema::validate_adhoc(params, &parsed) {
                    cx.push(
                        Finding::new(
                            "tools.arguments_valid_json",
                            severity,
                            format!(
                                "the arguments of `{name}` do not match its parameters at `{}`: {}{why_strict}",
                                if e.instance_path.is_empty() { "/" } else { &e.instance_path },
                                e.message
                            ),
                        )
                        .at(at.clone())
                        .actual(short(&Value::String(args.to_owned()))),
                    );
                }
            }
        }
        Ok(other) => cx.push(
            Finding::new(
                "tools.arguments_valid_json",
                severity,
                format!(
                    "the arguments of `{name}` are JSON {}, not an object{why_strict}",
                    crate::schema::type_name(&other)
                ),
            )
            .at(at)
            .actual(short(&Value::String(args.to_owned()))),
        ),
    }
}

fn json_mode(cx: &mut Cx, i: usize, choice: &Value, message: &serde_json::Map<String, Value>) {
    // `mode` names the request's response_format in the messages.
    let (check, mode, schema, strict): (&'static str, &str, Option<Value>, bool) =
        match &cx.req.response_format {
            ResponseFormat::JsonObject => (
                "json.object_mode_valid",
                "JSON mode (`json_object`)",
                None,
                false,
            ),
            ResponseFormat::JsonSchema { schema, strict } => (
                "json.schema_enforced_or_rejected",
                "structured output (`json_schema`)",
                schema.cloned(),
                *strict,
            ),
            _ => return,
        };
    let Some(Value::String(content)) = message.get("content") else {
        return; // tool calls or a refusal
    };
    let at = format!("/choices/{i}/message/content");
    let truncated = choice.get("finish_reason").and_then(Value::as_str) == Some("length");
    let severity: Severity = if truncated {
        Info
    } else if check == "json.schema_enforced_or_rejected" && !strict {
        Warning
    } else {
        Violation
    };
    let cut = if truncated {
        " (the output was cut by the token cap: OpenAI returns truncated JSON too)"
    } else {
        ""
    };
    let trimmed = content.trim_start();
    if trimmed.starts_with("```") {
        cx.push(
            Finding::new(
                check,
                severity,
                format!("{mode} content is wrapped in a Markdown code fence{cut}"),
            )
            .at(at)
            .expected("bare JSON")
            .actual(short(&Value::String(content.clone())))
            .sdk("`json.loads(content)` raises; openai-python's `.parse()` fails"),
        );
        return;
    }
    match serde_json::from_str::<Value>(content) {
        Err(e) => cx.push(
            Finding::new(
                check,
                severity,
                format!("{mode} content is not JSON: {e}{cut}"),
            )
            .at(at)
            .actual(short(&Value::String(content.clone())))
            .sdk("`json.loads(content)` raises; openai-python's `.parse()` fails"),
        ),
        Ok(parsed) => {
            if check == "json.object_mode_valid" && !parsed.is_object() {
                cx.push(
                    Finding::new(
                        check,
                        Warning,
                        format!(
                            "{mode} content is a JSON {}, not an object",
                            crate::schema::type_name(&parsed)
                        ),
                    )
                    .at(at),
                );
            } else if let Some(schema) = schema {
                for e in crate::schema::validate_adhoc(&schema, &parsed) {
                    cx.push(
                        Finding::new(
                            check,
                            severity,
                            format!(
                                "content does not match the requested json_schema at `{}`: {}",
                                if e.instance_path.is_empty() { "/" } else { &e.instance_path },
                                e.message
                            ),
                        )
                        .at(at.clone())
                        .sdk("openai-python's `client.chat.completions.parse()` raises a validation error"),
                    );
                }
            }
        }
    }
}

fn reasoning(cx: &mut Cx, i: usize, message: &serde_json::Map<String, Value>) {
    for field in ["reasoning_content", "reasoning"] {
        if message.get(field).is_some_and(|v| v.is_string()) {
            cx.push(
                Finding::new(
                    "ext.reasoning_field",
                    Info,
                    format!("reasoning arrives in `message.{field}`"),
                )
                .at(format!("/choices/{i}/message/{field}")),
            );
        }
    }
    if let Some(Value::String(content)) = message.get("content")
        && content.contains("<think>")
    {
        cx.push(
            Finding::new(
                "ext.reasoning_field",
                Warning,
                "the content holds inline `<think>` reasoning; clients show it as the answer",
            )
            .at(format!("/choices/{i}/message/content")),
        );
    }
}

fn images(cx: &mut Cx, i: usize, message: &serde_json::Map<String, Value>) {
    let Some(images) = message.get("images") else {
        return;
    };
    let at = format!("/choices/{i}/message/images");
    let Some(list) = images.as_array() else {
        cx.push(
            Finding::new(
                "ext.images_array",
                Warning,
                "`message.images` must be an array",
            )
            .at(at),
        );
        return;
    };
    for (j, img) in list.iter().enumerate() {
        let ok = img.get("type").and_then(Value::as_str) == Some("image_url")
            && img.pointer("/image_url/url").is_some_and(Value::is_string);
        if !ok {
            cx.push(
                Finding::new(
                    "ext.images_array",
                    Warning,
                    "an image must be `{\"type\": \"image_url\", \"image_url\": {\"url\": ...}}`",
                )
                .at(format!("{at}/{j}"))
                .actual(short(img)),
            );
        }
    }
    cx.push(
        Finding::new(
            "ext.images_array",
            Info,
            format!(
                "the message carries {} generated image(s) in `images`",
                list.len()
            ),
        )
        .at(at),
    );
}

fn logprobs_shape(cx: &mut Cx, i: usize, choice: &Value) {
    let Some(lp) = choice.get("logprobs").filter(|l| !l.is_null()) else {
        return;
    };
    let at = format!("/choices/{i}/logprobs");
    let legacy = ["tokens", "token_logprobs", "text_offset", "top_logprobs"];
    if legacy.iter().any(|k| lp.get(k).is_some()) && lp.get("content").is_none() {
        cx.push(
            Finding::new(
                "ext.logprobs_shape",
                Violation,
                "logprobs use the legacy completions shape (`tokens`, `token_logprobs`, ...), not `{content: [...]}`",
            )
            .at(at)
            .sdk("openai-python/node models expose `logprobs.content`, which is missing"),
        );
        return;
    }
    let Some(tokens) = lp.get("content").and_then(Value::as_array) else {
        return; // null content: allowed; other shapes: the schema reports them
    };
    for (t, tok) in tokens.iter().enumerate() {
        let ok = tok.get("token").is_some_and(Value::is_string)
            && tok.get("logprob").is_some_and(Value::is_number)
            && tok.get("top_logprobs").is_some_and(Value::is_array);
        if !ok {
            cx.push(
                Finding::new(
                    "ext.logprobs_shape",
                    Violation,
                    "a logprobs entry needs `token` (string), `logprob` (number), `bytes` and `top_logprobs` (array)",
                )
                .at(format!("{at}/content/{t}"))
                .actual(short(tok)),
            );
            break;
        }
    }
}

/// The members of OpenAI's CompletionUsage.
const USAGE_FIELDS: [&str; 5] = [
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
];

fn usage(cx: &mut Cx, body: &Value) {
    let Some(usage) = body.get("usage").and_then(Value::as_object) else {
        return;
    };
    let int = |k: &str| usage.get(k).and_then(Value::as_i64);
    for k in ["prompt_tokens", "completion_tokens", "total_tokens"] {
        if let Some(n) = int(k)
            && n < 0
        {
            cx.push(
                Finding::new(
                    "usage.arithmetic",
                    Warning,
                    format!("`usage.{k}` is negative"),
                )
                .at(format!("/usage/{k}"))
                .actual(n),
            );
        }
    }
    if let (Some(p), Some(c), Some(t)) = (
        int("prompt_tokens"),
        int("completion_tokens"),
        int("total_tokens"),
    ) && p + c != t
    {
        cx.push(
            Finding::new(
                "usage.arithmetic",
                Warning,
                "`total_tokens` is not `prompt_tokens + completion_tokens`",
            )
            .at("/usage/total_tokens")
            .expected(format!("{p} + {c} = {}", p + c))
            .actual(t),
        );
    }
    if int("prompt_tokens") == Some(0)
        && cx
            .req
            .json
            .and_then(|j| j.get("messages"))
            .is_some_and(|m| m.as_array().is_some_and(|a| !a.is_empty()))
    {
        cx.push(
            Finding::new(
                "usage.arithmetic",
                Warning,
                "`prompt_tokens` is 0 for a non-empty prompt: usage is not counted",
            )
            .at("/usage/prompt_tokens")
            .expected("> 0")
            .actual(0),
        );
    }
    let has_content = body
        .get("choices")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.pointer("/message/content")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            })
        });
    if int("completion_tokens") == Some(0) && has_content {
        cx.push(
            Finding::new(
                "usage.arithmetic",
                Warning,
                "`completion_tokens` is 0 but the answer has content",
            )
            .at("/usage/completion_tokens")
            .expected("> 0")
            .actual(0),
        );
    }
    if let Some(f) = super::vendor_fields(
        "usage.details_shape",
        "in `usage`",
        "/usage",
        usage.keys(),
        &USAGE_FIELDS,
    ) {
        cx.push(f);
    }
    let detail = |d: &str, k: &str| usage.get(d).and_then(|o| o.get(k)).and_then(Value::as_i64);
    if let (Some(r), Some(c)) = (
        detail("completion_tokens_details", "reasoning_tokens"),
        int("completion_tokens"),
    ) && r > c
    {
        cx.push(
            Finding::new(
                "usage.arithmetic",
                Warning,
                "`reasoning_tokens` exceed `completion_tokens`; OpenAI counts reasoning inside completion tokens",
            )
            .at("/usage/completion_tokens_details/reasoning_tokens")
            .expected(format!("<= {c}"))
            .actual(r),
        );
    }
    if let (Some(cached), Some(p)) = (
        detail("prompt_tokens_details", "cached_tokens"),
        int("prompt_tokens"),
    ) && cached > p
    {
        cx.push(
            Finding::new(
                "usage.arithmetic",
                Warning,
                "`cached_tokens` exceed `prompt_tokens`",
            )
            .at("/usage/prompt_tokens_details/cached_tokens")
            .expected(format!("<= {p}"))
            .actual(cached),
        );
    }
    const KNOWN: [&str; 8] = [
        "cached_tokens",
        "cache_write_tokens",
        "audio_tokens",
        "reasoning_tokens",
        "accepted_prediction_tokens",
        "rejected_prediction_tokens",
        "text_tokens",
        "image_tokens",
    ];
    for d in ["prompt_tokens_details", "completion_tokens_details"] {
        match usage.get(d) {
            None | Some(Value::Null) => {}
            Some(Value::Object(members)) => {
                for (k, v) in members {
                    if KNOWN.contains(&k.as_str()) && !(v.is_i64() || v.is_u64()) {
                        cx.push(
                            Finding::new(
                                "usage.details_shape",
                                Warning,
                                format!("`usage.{d}.{k}` must be an integer"),
                            )
                            .at(format!("/usage/{d}/{}", ptr(k)))
                            .actual(short(v)),
                        );
                    }
                }
                if let Some(f) = super::vendor_fields(
                    "usage.details_shape",
                    &format!("in `usage.{d}`"),
                    &format!("/usage/{d}"),
                    members.keys(),
                    &KNOWN,
                ) {
                    cx.push(f);
                }
            }
            Some(other) => cx.push(
                Finding::new(
                    "usage.details_shape",
                    Warning,
                    format!("`usage.{d}` must be an object or null"),
                )
                .at(format!("/usage/{d}"))
                .actual(short(other)),
            ),
        }
    }
}

fn extensions(cx: &mut Cx, body: &Value) {
    if let Some(obj) = body.as_object() {
        for f in fingerprint_and_tier(obj, "") {
            cx.push(f);
        }
    }
}

/// `ext.system_fingerprint_service_tier` on a completion or a chunk (`at` is its path).
pub(super) fn fingerprint_and_tier(obj: &serde_json::Map<String, Value>, at: &str) -> Vec<Finding> {
    ["system_fingerprint", "service_tier"]
        .into_iter()
        .filter_map(|field| {
            let v = obj.get(field).filter(|v| !(v.is_null() || v.is_string()))?;
            Some(
                Finding::new(
                    "ext.system_fingerprint_service_tier",
                    Warning,
                    format!("`{field}` must be a string or null"),
                )
                .at(format!("{at}/{field}"))
                .actual(short(v)),
            )
        })
        .collect()
}

/// The message-level checks on a stream's reassembled completion (the stream judge has already
/// judged the envelope and the sequence): each choice's message, and the usage trailer.
pub(super) fn check_reassembled(cx: &mut Cx) {
    let Some(body) = cx.json().cloned() else {
        return;
    };
    if let Some(choices) = body.get("choices").and_then(Value::as_array) {
        for (i, choice) in choices.iter().enumerate() {
            if let Some(message) = choice.get("message").and_then(Value::as_object) {
                message_checks(cx, i, choice, message);
            }
        }
    }
    usage(cx, &body);
}

/// `resp.schema`: the whole body against CreateChatCompletionResponse.
pub(super) fn check_schema(cx: &mut Cx) {
    // Already reported as not an envelope, or as an error in a 2xx.
    let Some(body) = cx.json().filter(|b| b.is_object()).cloned() else {
        cx.restate("resp.schema", "resp.envelope");
        return;
    };
    if cx
        .findings
        .iter()
        .any(|f| f.check == "err.no_error_with_2xx_nonstream")
    {
        cx.restate("resp.schema", "err.no_error_with_2xx_nonstream");
        return;
    }
    cx.push_schema_errors("resp.schema", "CreateChatCompletionResponse", &body);
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const PLAIN: &str = "{model: m, messages: [{role: user, content: hi}]}";

    fn findings(req: &str, body: &str) -> Vec<String> {
        ids(&judge(&chat_case(req, ""), 200, "application/json", body))
    }

    #[test]
    fn missing_nullable_required_fields_are_schema_violations_with_paths() {
        let body = OK_BODY
            .replace(r#","logprobs":null"#, "")
            .replace(r#","refusal":null"#, "");
        let v = judge(&chat_case(PLAIN, ""), 200, "application/json", &body);
        let paths: Vec<_> = v
            .findings
            .iter()
            .map(|f| (f.check, f.path.clone().unwrap()))
            .collect();
        assert_eq!(
            paths,
            [
                ("resp.schema", "/choices/0/logprobs".to_owned()),
                ("resp.schema", "/choices/0/message/refusal".to_owned())
            ]
        );
    }

    #[test]
    fn envelope_problems_are_reported_once_not_twice_by_the_schema() {
        let body = OK_BODY.replace(
            r#""object":"chat.completion""#,
            r#""object":"text_completion""#,
        );
        assert_eq!(findings(PLAIN, &body), ["resp.envelope violation"]);
    }

    #[test]
    fn completions_style_text_is_reported() {
        let body = r#"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"text":"hi","logprobs":null,"finish_reason":"stop"}]}"#;
        assert_eq!(findings(PLAIN, body), ["resp.envelope violation"]);
    }

    #[test]
    fn unknown_finish_reason() {
        let body = OK_BODY.replace(r#""finish_reason":"stop""#, r#""finish_reason":"eos""#);
        assert_eq!(findings(PLAIN, &body), ["resp.finish_reason violation"]);
    }

    #[test]
    fn sse_answer_to_a_non_stream_request() {
        let c = chat_case(PLAIN, "");
        let v = judge(&c, 200, "text/event-stream", "data: {}\n\ndata: [DONE]\n\n");
        assert_eq!(
            ids(&v),
            [
                "sse.stream_flag_honored violation",
                "sse.content_type violation"
            ]
        );
        assert!(v.findings[0].sdk.is_some());
    }

    #[test]
    fn error_in_a_200() {
        let body = r#"{"error":{"message":"model not found","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
        assert_eq!(
            findings(PLAIN, body),
            ["err.no_error_with_2xx_nonstream violation"]
        );
    }

    const TOOLS: &str = "{model: m, messages: [{role: user, content: weather}], tools: [{type: function, function: {name: get_weather, parameters: {type: object, properties: {city: {type: string}}, required: [city]}}}]}";

    fn tool_body(calls: &str, finish: &str) -> String {
        format!(
            r#"{{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{{"index":0,"message":{{"role":"assistant","content":null,"refusal":null,"tool_calls":{calls}}},"logprobs":null,"finish_reason":"{finish}"}}]}}"#
        )
    }

    #[test]
    fn a_good_tool_call_passes() {
        let calls = r#"[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]"#;
        assert_eq!(
            findings(TOOLS, &tool_body(calls, "tool_calls")),
            Vec::<String>::new()
        );
    }

    #[test]
    fn tool_call_problems() {
        let obj_args = r#"[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]"#;
        assert_eq!(
            findings(TOOLS, &tool_body(obj_args, "tool_calls")),
            ["tools.arguments_is_string violation"]
        );
        let bad_args = r#"[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"town\":1}"}}]"#;
        assert_eq!(
            findings(TOOLS, &tool_body(bad_args, "tool_calls")),
            ["tools.arguments_valid_json warning"]
        );
        let no_id = r#"[{"type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"x\"}"}}]"#;
        assert_eq!(
            findings(TOOLS, &tool_body(no_id, "stop")),
            [
                "tools.id_type_name_present violation",
                "tools.finish_reason_tool_calls warning"
            ]
        );
        let dup = r#"[{"id":"a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"x\"}"}},{"id":"a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"y\"}"}}]"#;
        assert_eq!(
            findings(TOOLS, &tool_body(dup, "tool_calls")),
            ["tools.parallel_calls violation"]
        );
    }

    #[test]
    fn json_mode_fences_and_prose() {
        let req = "{model: m, response_format: {type: json_object}, messages: [{role: user, content: json please}]}";
        let fenced = OK_BODY.replace(
            r#""content":"hi""#,
            r#""content":"```json\n{\"a\":1}\n```""#,
        );
        assert_eq!(findings(req, &fenced), ["json.object_mode_valid violation"]);
        let prose = OK_BODY.replace(r#""content":"hi""#, r#""content":"Sure! {\"a\":1}""#);
        assert_eq!(findings(req, &prose), ["json.object_mode_valid violation"]);
        let ok = OK_BODY.replace(r#""content":"hi""#, r#""content":"{\"a\":1}""#);
        assert_eq!(findings(req, &ok), Vec::<String>::new());
    }

    /// The message names the response_format that was asked for: a `json_schema` answer is
    /// not "JSON mode content".
    #[test]
    fn json_messages_name_the_requested_format() {
        let prose = OK_BODY.replace(r#""content":"hi""#, r#""content":"Sure! {\"a\":1}""#);
        let message = |req: &str| {
            let v = judge(&chat_case(req, ""), 200, "application/json", &prose);
            v.findings[0].message.clone()
        };
        let object = message(
            "{model: m, response_format: {type: json_object}, messages: [{role: user, content: json}]}",
        );
        assert!(
            object.starts_with("JSON mode (`json_object`) content is not JSON"),
            "{object}"
        );
        let schema = message(
            "{model: m, response_format: {type: json_schema, json_schema: {name: s, strict: true, schema: {type: object}}}, messages: [{role: user, content: json}]}",
        );
        assert!(
            schema.starts_with("structured output (`json_schema`) content is not JSON"),
            "{schema}"
        );
    }

    #[test]
    fn usage_arithmetic() {
        let body = OK_BODY
            .replace(r#""prompt_tokens":3"#, r#""prompt_tokens":0"#)
            .replace(r#""total_tokens":4"#, r#""total_tokens":1"#);
        assert_eq!(findings(PLAIN, &body), ["usage.arithmetic warning"]);
        let body = OK_BODY.replace(
            r#""total_tokens":4"#,
            r#""total_tokens":4,"completion_tokens_details":{"reasoning_tokens":9}"#,
        );
        assert_eq!(findings(PLAIN, &body), ["usage.arithmetic warning"]);
    }
}
