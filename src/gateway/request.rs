//! Validation of `POST /v1/chat/completions` bodies into a typed [`ChatRequest`], in OpenAI's
//! order and with OpenAI's wording: the first violation found is the one reported.

use serde_json::{Map, Value};

use super::errors::ApiError;
use super::faults;

/// Every top-level property of `CreateChatCompletionRequest` in the OpenAI spec (its `allOf`
/// parts `CreateModelResponseProperties` and `ModelResponseProperties` included). Anything
/// else is rejected as an unrecognized argument. A test checks this list against the spec.
pub(crate) const KNOWN_PARAMETERS: [&str; 37] = [
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "messages",
    "metadata",
    "modalities",
    "model",
    "moderation",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "prompt_cache_options",
    "prompt_cache_retention",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];

const ROLES: [&str; 6] = [
    "system",
    "assistant",
    "user",
    "function",
    "tool",
    "developer",
];
const PART_TYPES: [&str; 4] = ["text", "image_url", "input_audio", "file"];
const ASSISTANT_PART_TYPES: [&str; 5] = ["text", "image_url", "input_audio", "file", "refusal"];

/// A validated chat completion request, reduced to what the fake model and encoders need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatRequest {
    pub(crate) model: String,
    pub(crate) messages: Vec<Message>,
    pub(crate) stream: bool,
    pub(crate) include_usage: bool,
    pub(crate) n: usize,
    /// Non-empty stop strings.
    pub(crate) stop: Vec<String>,
    /// The smaller of `max_tokens` and `max_completion_tokens`.
    pub(crate) max_tokens: Option<u64>,
    pub(crate) logprobs: bool,
    pub(crate) top_logprobs: usize,
    /// The callable functions: `tools`, or the legacy `functions` when there are no tools.
    pub(crate) tools: Vec<Tool>,
    pub(crate) tool_choice: ToolChoice,
    pub(crate) parallel_tool_calls: bool,
    /// Legacy `functions`/`function_call`: answer with `message.function_call`.
    pub(crate) legacy_functions: bool,
    pub(crate) response_format: ResponseFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

impl Role {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "system" => Self::System,
            "developer" => Self::Developer,
            "user" => Self::User,
            "assistant" => Self::Assistant,
            "tool" => Self::Tool,
            "function" => Self::Function,
            _ => return None,
        })
    }
}

/// A message reduced to its role and its text (string content, or text parts joined by `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) role: Role,
    pub(crate) text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tool {
    pub(crate) name: String,
    pub(crate) parameters: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToolChoice {
    None,
    Auto,
    Required,
    /// `{"type":"function","function":{"name":..}}`: call exactly this function.
    Named(String),
    /// `{"type":"allowed_tools","allowed_tools":{"mode":..,"tools":[..]}}`: auto or required,
    /// restricted to these names.
    Allowed {
        required: bool,
        names: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResponseFormat {
    Text,
    JsonObject,
    /// The `json_schema.schema` (an empty schema when absent).
    JsonSchema(Value),
}

/// Validates a request body. `models` are the served ids, which a fault suffix may follow
/// (`gatecheck-echo+no_done`); an unknown model is the last check.
#[cfg(test)]
pub(crate) fn parse(body: &[u8], models: &[String]) -> Result<ChatRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| ApiError::unparsable_json())?;
    parse_value(&value, models)
}

/// Validates a decoded request body (a dialect may have set some members aside first).
pub(crate) fn parse_value(value: &Value, models: &[String]) -> Result<ChatRequest, ApiError> {
    let Value::Object(obj) = value else {
        return Err(ApiError::body_not_object(value));
    };

    let model = match present(obj, "model") {
        None => return Err(ApiError::missing_model()),
        Some(Value::String(model)) if model.is_empty() => return Err(ApiError::missing_model()),
        Some(Value::String(model)) => model.clone(),
        Some(other) => return Err(ApiError::invalid_type("model", "a string", other)),
    };
    let raw_messages = match present(obj, "messages") {
        None => return Err(ApiError::missing_parameter("messages")),
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(ApiError::empty_array("messages"));
        }
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(ApiError::invalid_type(
                "messages",
                "an array of objects",
                other,
            ));
        }
    };
    let unknown: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|key| !KNOWN_PARAMETERS.contains(key))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::unrecognized_arguments(&unknown));
    }
    let messages = parse_messages(raw_messages)?;

    let stream = opt_bool(obj, "stream")?.unwrap_or(false);
    let include_usage = match present(obj, "stream_options") {
        None => false,
        Some(_) if !stream => {
            return Err(ApiError::bad_request(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                Some("stream_options"),
                None,
            ));
        }
        Some(Value::Object(options)) => {
            let include = opt_bool(options, "include_usage")
                .map_err(|_| retarget("stream_options", "include_usage", "a boolean", options))?;
            include == Some(true)
        }
        Some(other) => return Err(ApiError::invalid_type("stream_options", "an object", other)),
    };

    let n = opt_integer(obj, "n", Some(1), Some(128))?.unwrap_or(1) as usize;
    let stop = parse_stop(obj)?;
    let max_tokens = opt_integer(obj, "max_tokens", Some(1), None)?;
    let max_completion_tokens = opt_integer(obj, "max_completion_tokens", Some(1), None)?;
    let max_tokens = match (max_tokens, max_completion_tokens) {
        (Some(a), Some(b)) => Some(a.min(b) as u64),
        (a, b) => a.or(b).map(|v| v as u64),
    };
    opt_number(obj, "temperature", 0.0, 2.0)?;
    opt_number(obj, "top_p", 0.0, 1.0)?;
    opt_number(obj, "presence_penalty", -2.0, 2.0)?;
    opt_number(obj, "frequency_penalty", -2.0, 2.0)?;
    opt_integer(obj, "seed", None, None)?;
    opt_bool(obj, "store")?;
    opt_string(obj, "user")?;
    let logprobs = opt_bool(obj, "logprobs")?.unwrap_or(false);
    let top_logprobs = opt_integer(obj, "top_logprobs", Some(0), Some(20))?;
    if top_logprobs.is_some() && !logprobs {
        return Err(ApiError::bad_request(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when \
             'top_logprobs' is used.",
            Some("top_logprobs"),
            Some("invalid_value"),
        ));
    }
    let parallel_tool_calls = opt_bool(obj, "parallel_tool_calls")?.unwrap_or(true);

    let tools = parse_functions(obj, "tools", true)?;
    let tool_choice = parse_tool_choice(obj, "tool_choice", "tools", tools.as_deref())?;
    let functions = parse_functions(obj, "functions", false)?;
    let function_choice =
        parse_tool_choice(obj, "function_call", "functions", functions.as_deref())?;
    // `tools` wins when both are given: `functions` is the deprecated spelling of the same.
    let (tools, tool_choice, legacy_functions) = match (tools, functions) {
        (Some(tools), _) => (tools, tool_choice, false),
        (None, Some(functions)) => (functions, function_choice, true),
        (None, None) => (Vec::new(), ToolChoice::None, false),
    };

    let response_format = parse_response_format(obj)?;
    if response_format == ResponseFormat::JsonObject
        && !messages
            .iter()
            .any(|m| m.text.to_ascii_lowercase().contains("json"))
    {
        return Err(ApiError::bad_request(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of \
             type 'json_object'.",
            Some("messages"),
            None,
        ));
    }

    // `MODEL+FAULT` is served as MODEL (the fault middleware has chosen the fault).
    if !faults::is_served(&model, models) {
        return Err(ApiError::model_not_found(&model));
    }
    Ok(ChatRequest {
        model,
        messages,
        stream,
        include_usage,
        n,
        stop,
        max_tokens,
        logprobs,
        top_logprobs: top_logprobs.unwrap_or(0) as usize,
        tools,
        tool_choice,
        parallel_tool_calls: parallel_tool_calls && !legacy_functions,
        legacy_functions,
        response_format,
    })
}

/// The value of `key`, treating an explicit `null` like an absent key (every optional
/// parameter in the spec is nullable).
pub(crate) fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|value| !value.is_null())
}

fn opt_bool(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::invalid_type(key, "a boolean", other)),
    }
}

fn opt_string<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ApiError> {
    match present(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::invalid_type(key, "a string", other)),
    }
}

pub(crate) fn opt_integer(
    obj: &Map<String, Value>,
    key: &str,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    let Some(value) = present(obj, key) else {
        return Ok(None);
    };
    let Some(number) = value.as_i64().or_else(|| value.as_u64().map(|_| i64::MAX)) else {
        return Err(ApiError::invalid_type(key, "an integer", value));
    };
    if let Some(min) = min
        && number < min
    {
        return Err(ApiError::integer_below_min(key, min, value));
    }
    if let Some(max) = max
        && number > max
    {
        return Err(ApiError::integer_above_max(key, max, value));
    }
    Ok(Some(number))
}

fn opt_number(
    obj: &Map<String, Value>,
    key: &str,
    min: f64,
    max: f64,
) -> Result<Option<f64>, ApiError> {
    let Some(value) = present(obj, key) else {
        return Ok(None);
    };
    let Some(number) = value.as_f64() else {
        return Err(ApiError::invalid_type(key, "a decimal", value));
    };
    if number < min {
        return Err(ApiError::decimal_below_min(key, min, value));
    }
    if number > max {
        return Err(ApiError::decimal_above_max(key, max, value));
    }
    Ok(Some(number))
}

fn required_string<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(ApiError::missing_parameter(&format!("{path}.{key}"))),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(ApiError::invalid_type(
            &format!("{path}.{key}"),
            "a string",
            other,
        )),
    }
}

fn required_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Map<String, Value>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(ApiError::missing_parameter(&format!("{path}.{key}"))),
        Some(Value::Object(inner)) => Ok(inner),
        Some(other) => Err(ApiError::invalid_type(
            &format!("{path}.{key}"),
            "an object",
            other,
        )),
    }
}

fn parse_messages(list: &[Value]) -> Result<Vec<Message>, ApiError> {
    let mut messages = Vec::with_capacity(list.len());
    // The latest assistant message with `tool_calls` (its index) and the ids it still waits
    // for: OpenAI wants every call answered by a tool message before the conversation goes on.
    let mut open_calls: Option<(usize, Vec<String>)> = None;
    for (i, raw) in list.iter().enumerate() {
        let path = format!("messages[{i}]");
        let Value::Object(m) = raw else {
            return Err(ApiError::invalid_type(&path, "an object", raw));
        };
        let role_path = format!("{path}.role");
        let role = match m.get("role") {
            None | Some(Value::Null) => return Err(ApiError::missing_parameter(&role_path)),
            Some(Value::String(name)) => Role::parse(name)
                .ok_or_else(|| ApiError::invalid_value(&role_path, name, &ROLES))?,
            Some(other) => return Err(ApiError::invalid_type(&role_path, "a string", other)),
        };
        if let Some(name) = present(m, "name")
            && !name.is_string()
        {
            return Err(ApiError::invalid_type(
                &format!("{path}.name"),
                "a string",
                name,
            ));
        }
        let text = message_text(role, m, &path)?;

        if role == Role::Tool {
            let id = required_string(m, "tool_call_id", &path)?;
            let Some((_, waiting)) = open_calls.as_mut() else {
                return Err(ApiError::bad_request(
                    "Invalid parameter: messages with role 'tool' must be a response to a \
                     preceeding message with 'tool_calls'.",
                    Some(&role_path),
                    None,
                ));
            };
            let Some(position) = waiting.iter().position(|w| w == id) else {
                return Err(ApiError::bad_request(
                    format!(
                        "Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' \
                         of previous message."
                    ),
                    Some(&format!("{path}.tool_call_id")),
                    None,
                ));
            };
            waiting.remove(position);
        } else if let Some((index, waiting)) = open_calls.take() {
            unanswered_calls(index, &waiting)?;
        }
        if role == Role::Assistant {
            let ids = assistant_tool_call_ids(m, &path)?;
            if !ids.is_empty() {
                open_calls = Some((i, ids));
            }
        }
        messages.push(Message { role, text });
    }
    if let Some((index, waiting)) = open_calls {
        unanswered_calls(index, &waiting)?;
    }
    Ok(messages)
}

fn unanswered_calls(index: usize, waiting: &[String]) -> Result<(), ApiError> {
    if waiting.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(
        format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding \
             to each 'tool_call_id'. The following tool_call_ids did not have response messages: \
             {}",
            waiting.join(", ")
        ),
        Some(&format!("messages[{index}].role")),
        None,
    ))
}

/// Validates an assistant message's `tool_calls` and returns their ids.
fn assistant_tool_call_ids(m: &Map<String, Value>, path: &str) -> Result<Vec<String>, ApiError> {
    let calls_path = format!("{path}.tool_calls");
    let calls = match present(m, "tool_calls") {
        None => return Ok(Vec::new()),
        Some(Value::Array(calls)) if calls.is_empty() => {
            return Err(ApiError::empty_array(&calls_path));
        }
        Some(Value::Array(calls)) => calls,
        Some(other) => {
            return Err(ApiError::invalid_type(
                &calls_path,
                "an array of objects",
                other,
            ));
        }
    };
    let mut ids = Vec::with_capacity(calls.len());
    for (j, call) in calls.iter().enumerate() {
        let call_path = format!("{calls_path}[{j}]");
        let Value::Object(call) = call else {
            return Err(ApiError::invalid_type(&call_path, "an object", call));
        };
        let id = required_string(call, "id", &call_path)?;
        let kind = required_string(call, "type", &call_path)?;
        if kind != "function" {
            return Err(ApiError::invalid_value(
                &format!("{call_path}.type"),
                kind,
                &["function"],
            ));
        }
        let function_path = format!("{call_path}.function");
        let function = required_object(call, "function", &call_path)?;
        required_string(function, "name", &function_path)?;
        required_string(function, "arguments", &function_path)?;
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// Validates a message's `content` for its role and returns its text.
fn message_text(role: Role, m: &Map<String, Value>, path: &str) -> Result<String, ApiError> {
    let content_path = format!("{path}.content");
    let content = m.get("content");
    match role {
        Role::Assistant => {
            let has_calls = matches!(m.get("tool_calls"), Some(Value::Array(calls)) if !calls.is_empty())
                || present(m, "function_call").is_some();
            match content {
                None | Some(Value::Null) if has_calls => Ok(String::new()),
                None => Err(ApiError::missing_parameter(&content_path)),
                Some(Value::Null) => Err(ApiError::bad_request(
                    "Invalid value for 'content': expected a string, got null.",
                    Some(&content_path),
                    None,
                )),
                Some(value) => content_value(value, &content_path, &ASSISTANT_PART_TYPES),
            }
        }
        Role::Function => {
            required_string(m, "name", path)?;
            match content {
                None => Err(ApiError::missing_parameter(&content_path)),
                Some(Value::Null) => Ok(String::new()),
                Some(Value::String(text)) => Ok(text.clone()),
                Some(other) => Err(ApiError::invalid_type(&content_path, "a string", other)),
            }
        }
        Role::System | Role::Developer | Role::User | Role::Tool => match content {
            None => Err(ApiError::missing_parameter(&content_path)),
            Some(value) => content_value(value, &content_path, &PART_TYPES),
        },
    }
}

/// A string, or a non-empty array of content parts whose `type` is one of `allowed`.
fn content_value(value: &Value, path: &str, allowed: &[&str]) -> Result<String, ApiError> {
    let parts = match value {
        Value::String(text) => return Ok(text.clone()),
        Value::Array(parts) if parts.is_empty() => return Err(ApiError::empty_array(path)),
        Value::Array(parts) => parts,
        other => {
            return Err(ApiError::invalid_type(
                path,
                "one of a string or array of objects",
                other,
            ));
        }
    };
    let mut texts = Vec::new();
    for (j, part) in parts.iter().enumerate() {
        let part_path = format!("{path}[{j}]");
        let Value::Object(part) = part else {
            return Err(ApiError::invalid_type(&part_path, "an object", part));
        };
        let kind = required_string(part, "type", &part_path)?;
        if !allowed.contains(&kind) {
            return Err(ApiError::invalid_value(
                &format!("{part_path}.type"),
                kind,
                allowed,
            ));
        }
        match kind {
            "text" => texts.push(required_string(part, "text", &part_path)?),
            "refusal" => {
                required_string(part, "refusal", &part_path)?;
            }
            "image_url" => {
                let image_path = format!("{part_path}.image_url");
                let image = required_object(part, "image_url", &part_path)?;
                required_string(image, "url", &image_path)?;
                if let Some(detail) = present(image, "detail") {
                    let detail_path = format!("{image_path}.detail");
                    match detail {
                        Value::String(d) if ["auto", "low", "high"].contains(&d.as_str()) => {}
                        Value::String(d) => {
                            return Err(ApiError::invalid_value(
                                &detail_path,
                                d,
                                &["auto", "low", "high"],
                            ));
                        }
                        other => {
                            return Err(ApiError::invalid_type(&detail_path, "a string", other));
                        }
                    }
                }
            }
            "input_audio" => {
                let audio_path = format!("{part_path}.input_audio");
                let audio = required_object(part, "input_audio", &part_path)?;
                required_string(audio, "data", &audio_path)?;
                let format = required_string(audio, "format", &audio_path)?;
                if !["wav", "mp3"].contains(&format) {
                    return Err(ApiError::invalid_value(
                        &format!("{audio_path}.format"),
                        format,
                        &["wav", "mp3"],
                    ));
                }
            }
            _ => {
                required_object(part, "file", &part_path)?;
            }
        }
    }
    Ok(texts.join("\n"))
}

fn parse_stop(obj: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let stops = match present(obj, "stop") {
        None => return Ok(Vec::new()),
        Some(Value::String(stop)) => vec![stop.clone()],
        Some(Value::Array(list)) => {
            if list.len() > 4 {
                return Err(ApiError::array_too_long("stop", 4, list.len()));
            }
            let mut stops = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                match item {
                    Value::String(stop) => stops.push(stop.clone()),
                    other => {
                        return Err(ApiError::invalid_type(
                            &format!("stop[{i}]"),
                            "a string",
                            other,
                        ));
                    }
                }
            }
            stops
        }
        Some(other) => {
            return Err(ApiError::invalid_type(
                "stop",
                "one of a string or array of strings",
                other,
            ));
        }
    };
    // An empty stop string would stop before the first character; OpenAI ignores it.
    Ok(stops.into_iter().filter(|s| !s.is_empty()).collect())
}

/// `tools` (`[{"type":"function","function":{..}}]`) or the legacy `functions` (`[{..}]`).
/// `None` when absent.
fn parse_functions(
    obj: &Map<String, Value>,
    key: &str,
    wrapped: bool,
) -> Result<Option<Vec<Tool>>, ApiError> {
    let list = match present(obj, key) {
        None => return Ok(None),
        Some(Value::Array(list)) if list.is_empty() => return Err(ApiError::empty_array(key)),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(ApiError::invalid_type(key, "an array of objects", other)),
    };
    let mut tools = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let item_path = format!("{key}[{i}]");
        let Value::Object(item) = item else {
            return Err(ApiError::invalid_type(&item_path, "an object", item));
        };
        let (function, function_path) = if wrapped {
            let kind = required_string(item, "type", &item_path)?;
            if kind != "function" {
                return Err(ApiError::invalid_value(
                    &format!("{item_path}.type"),
                    kind,
                    &["function"],
                ));
            }
            (
                required_object(item, "function", &item_path)?,
                format!("{item_path}.function"),
            )
        } else {
            (item, item_path)
        };
        let name = required_string(function, "name", &function_path)?;
        let name_path = format!("{function_path}.name");
        if name.chars().count() > 64 {
            return Err(ApiError::bad_request(
                format!(
                    "Invalid '{name_path}': string too long. Expected a string with maximum \
                     length 64, but got a string with length {} instead.",
                    name.chars().count()
                ),
                Some(&name_path),
                Some("string_above_max_length"),
            ));
        }
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(ApiError::bad_request(
                format!(
                    "Invalid '{name_path}': string does not match pattern. Expected a string \
                     that matches the pattern '^[a-zA-Z0-9_-]+$'."
                ),
                Some(&name_path),
                Some("invalid_value"),
            ));
        }
        let parameters = match present(function, "parameters") {
            None => None,
            Some(schema @ Value::Object(_)) => Some(schema.clone()),
            Some(other) => {
                return Err(ApiError::invalid_type(
                    &format!("{function_path}.parameters"),
                    "an object",
                    other,
                ));
            }
        };
        opt_string(function, "description")
            .map_err(|_| retarget(&function_path, "description", "a string", function))?;
        opt_bool(function, "strict")
            .map_err(|_| retarget(&function_path, "strict", "a boolean", function))?;
        tools.push(Tool {
            name: name.to_owned(),
            parameters,
        });
    }
    Ok(Some(tools))
}

/// An `invalid_type` error for `obj[key]`, named by its full path.
fn retarget(path: &str, key: &str, expected: &str, obj: &Map<String, Value>) -> ApiError {
    ApiError::invalid_type(&format!("{path}.{key}"), expected, &obj[key])
}

/// `tool_choice` (against `tools`) or the legacy `function_call` (against `functions`).
fn parse_tool_choice(
    obj: &Map<String, Value>,
    key: &str,
    tools_key: &str,
    tools: Option<&[Tool]>,
) -> Result<ToolChoice, ApiError> {
    let legacy = key == "function_call";
    let choice = match present(obj, key) {
        None => {
            return Ok(if tools.is_some() {
                ToolChoice::Auto
            } else {
                ToolChoice::None
            });
        }
        Some(Value::String(mode)) => match mode.as_str() {
            "none" => ToolChoice::None,
            "auto" => ToolChoice::Auto,
            "required" if !legacy => ToolChoice::Required,
            other if legacy => return Err(ApiError::invalid_value(key, other, &["none", "auto"])),
            other => {
                return Err(ApiError::invalid_value(
                    key,
                    other,
                    &["none", "auto", "required"],
                ));
            }
        },
        Some(Value::Object(choice)) if legacy => {
            ToolChoice::Named(required_string(choice, "name", key)?.to_owned())
        }
        Some(Value::Object(choice)) => {
            let kind = required_string(choice, "type", key)?;
            match kind {
                "function" => {
                    let function = required_object(choice, "function", key)?;
                    let function_path = format!("{key}.function");
                    ToolChoice::Named(required_string(function, "name", &function_path)?.to_owned())
                }
                "allowed_tools" => parse_allowed_tools(choice, key)?,
                other => {
                    return Err(ApiError::invalid_value(
                        &format!("{key}.type"),
                        other,
                        &["function", "allowed_tools"],
                    ));
                }
            }
        }
        Some(other) => {
            return Err(ApiError::invalid_type(
                key,
                "one of a string or object",
                other,
            ));
        }
    };
    if choice == ToolChoice::None {
        // "none" is allowed without tools.
        return Ok(choice);
    }
    let Some(tools) = tools else {
        return Err(ApiError::bad_request(
            format!(
                "Invalid value for '{key}': '{key}' is only allowed when '{tools_key}' are \
                 specified."
            ),
            Some(key),
            None,
        ));
    };
    let wanted: Vec<&String> = match &choice {
        ToolChoice::Named(name) => vec![name],
        ToolChoice::Allowed { names, .. } => names.iter().collect(),
        _ => Vec::new(),
    };
    for name in wanted {
        if !tools.iter().any(|tool| &tool.name == name) {
            return Err(ApiError::bad_request(
                format!(
                    "Invalid value for '{key}': function '{name}' is not among the functions \
                     given in '{tools_key}'."
                ),
                Some(key),
                Some("invalid_value"),
            ));
        }
    }
    Ok(choice)
}

fn parse_allowed_tools(choice: &Map<String, Value>, key: &str) -> Result<ToolChoice, ApiError> {
    let path = format!("{key}.allowed_tools");
    let allowed = required_object(choice, "allowed_tools", key)?;
    let mode = required_string(allowed, "mode", &path)?;
    let required = match mode {
        "auto" => false,
        "required" => true,
        other => {
            return Err(ApiError::invalid_value(
                &format!("{path}.mode"),
                other,
                &["auto", "required"],
            ));
        }
    };
    let tools_path = format!("{path}.tools");
    let list = match allowed.get("tools") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter(&tools_path)),
        Some(Value::Array(list)) if list.is_empty() => {
            return Err(ApiError::empty_array(&tools_path));
        }
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(ApiError::invalid_type(
                &tools_path,
                "an array of objects",
                other,
            ));
        }
    };
    let mut names = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let item_path = format!("{tools_path}[{i}]");
        let Value::Object(item) = item else {
            return Err(ApiError::invalid_type(&item_path, "an object", item));
        };
        let function = required_object(item, "function", &item_path)?;
        names.push(required_string(function, "name", &format!("{item_path}.function"))?.to_owned());
    }
    Ok(ToolChoice::Allowed { required, names })
}

fn parse_response_format(obj: &Map<String, Value>) -> Result<ResponseFormat, ApiError> {
    const KEY: &str = "response_format";
    let format = match present(obj, KEY) {
        None => return Ok(ResponseFormat::Text),
        Some(Value::Object(format)) => format,
        Some(other) => return Err(ApiError::invalid_type(KEY, "an object", other)),
    };
    let kind = required_string(format, "type", KEY)?;
    match kind {
        "text" => Ok(ResponseFormat::Text),
        "json_object" => Ok(ResponseFormat::JsonObject),
        "json_schema" => {
            let path = format!("{KEY}.json_schema");
            let spec = required_object(format, "json_schema", KEY)?;
            required_string(spec, "name", &path)?;
            match present(spec, "schema") {
                None => Ok(ResponseFormat::JsonSchema(Value::Object(Map::new()))),
                Some(schema @ (Value::Object(_) | Value::Bool(_))) => {
                    Ok(ResponseFormat::JsonSchema(schema.clone()))
                }
                Some(other) => Err(ApiError::invalid_type(
                    &format!("{path}.schema"),
                    "an object",
                    other,
                )),
            }
        }
        other => Err(ApiError::invalid_value(
            &format!("{KEY}.type"),
            other,
            &["json_object", "json_schema", "text"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn models() -> Vec<String> {
        vec!["gatecheck-echo".to_owned()]
    }

    fn check(body: Value) -> Result<ChatRequest, ApiError> {
        parse(body.to_string().as_bytes(), &models())
    }

    fn error(body: Value) -> ApiError {
        check(body).expect_err("request should be rejected")
    }

    fn base() -> Value {
        json!({"model": "gatecheck-echo", "messages": [{"role": "user", "content": "hi"}]})
    }

    fn with(key: &str, value: Value) -> Value {
        let mut body = base();
        body[key] = value;
        body
    }

    #[test]
    fn accepts_a_minimal_request() {
        let request = check(base()).unwrap();
        assert_eq!(request.model, "gatecheck-echo");
        assert_eq!(request.n, 1);
        assert_eq!(request.tool_choice, ToolChoice::None);
        assert_eq!(
            request.messages,
            vec![Message {
                role: Role::User,
                text: "hi".into()
            }]
        );
    }

    #[test]
    fn known_parameters_match_the_openai_spec() {
        // The spec lives next to the repository (../shared); skip quietly where it is absent.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/openai-openapi/openapi.json"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let spec: Value = serde_json::from_str(&text).unwrap();
        let schemas = &spec["components"]["schemas"];
        let mut names = std::collections::BTreeSet::new();
        let mut pending = vec!["CreateChatCompletionRequest".to_owned()];
        while let Some(name) = pending.pop() {
            let schema = &schemas[name.as_str()];
            let parts = schema["allOf"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![schema.clone()]);
            for part in parts {
                if let Some(reference) = part["$ref"].as_str() {
                    pending.push(reference.rsplit('/').next().unwrap().to_owned());
                }
                if let Some(properties) = part["properties"].as_object() {
                    names.extend(properties.keys().cloned());
                }
            }
        }
        let ours: std::collections::BTreeSet<String> =
            KNOWN_PARAMETERS.iter().map(|s| s.to_string()).collect();
        assert_eq!(ours, names);
    }

    #[test]
    fn rejects_in_openai_order() {
        assert_eq!(
            parse(b"{not json", &models()).unwrap_err(),
            ApiError::unparsable_json()
        );
        assert_eq!(error(json!([1])).code, Some("invalid_type"));
        // Missing model is reported before an unknown parameter.
        assert_eq!(
            error(json!({"messages": [], "bogus": 1})),
            ApiError::missing_model()
        );
        assert_eq!(
            error(json!({"model": "m", "bogus": 1})),
            ApiError::missing_parameter("messages")
        );
        assert_eq!(
            error(json!({"model": "m", "messages": []})),
            ApiError::empty_array("messages")
        );
        // Unknown parameter before message validation, unknown model last.
        let err = error(json!({"model": "m", "messages": [{"role": "x"}], "bogus": 1}));
        assert_eq!(err.message, "Unrecognized request argument supplied: bogus");
        let err = error(json!({"model": "m", "messages": [{"role": "x"}]}));
        assert_eq!(err.param.as_deref(), Some("messages[0].role"));
        assert_eq!(err.code, Some("invalid_value"));
        let err = error(json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}));
        assert_eq!(err, ApiError::model_not_found("nope"));
    }

    #[test]
    fn message_content_rules() {
        let parts = json!([{"type": "text", "text": "a"}, {"type": "image_url",
            "image_url": {"url": "data:image/png;base64,AAAA"}}, {"type": "text", "text": "b"}]);
        for role in ["system", "developer", "user"] {
            let body = with(
                "messages",
                json!([{"role": role, "content": parts.clone()}]),
            );
            assert_eq!(check(body).unwrap().messages[0].text, "a\nb");
        }
        let err = error(with("messages", json!([{"role": "user", "content": []}])));
        assert_eq!(err, ApiError::empty_array("messages[0].content"));
        let err = error(with(
            "messages",
            json!([{"role": "user", "content": [{"type": "video"}]}]),
        ));
        assert_eq!(err.param.as_deref(), Some("messages[0].content[0].type"));
        let err = error(with(
            "messages",
            json!([{"role": "user", "content": "q"}, {"role": "assistant", "content": null}]),
        ));
        assert_eq!(
            err.message,
            "Invalid value for 'content': expected a string, got null."
        );
        let err = error(with("messages", json!([{"role": "user"}])));
        assert_eq!(err, ApiError::missing_parameter("messages[0].content"));
    }

    #[test]
    fn tool_messages_answer_tool_calls() {
        let call = json!({"id": "call_1", "type": "function",
            "function": {"name": "f", "arguments": "{}"}});
        let ok = with(
            "messages",
            json!([
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": null, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "r"}]}
            ]),
        );
        let request = check(ok).unwrap();
        assert_eq!(request.messages[2].role, Role::Tool);
        assert_eq!(request.messages[2].text, "r");

        let orphan = with(
            "messages",
            json!([{"role": "tool", "tool_call_id": "x", "content": "r"}]),
        );
        assert!(
            error(orphan)
                .message
                .contains("must be a response to a preceeding")
        );
        let no_id = with(
            "messages",
            json!([{"role": "assistant", "tool_calls": [call]}, {"role": "tool", "content": "r"}]),
        );
        assert_eq!(
            error(no_id),
            ApiError::missing_parameter("messages[1].tool_call_id")
        );
        let unanswered = with(
            "messages",
            json!([{"role": "assistant", "tool_calls": [call]}, {"role": "user", "content": "q"}]),
        );
        assert!(
            error(unanswered)
                .message
                .ends_with("response messages: call_1")
        );
    }

    #[test]
    fn sampling_parameters() {
        assert_eq!(
            error(with("n", json!(0))).code,
            Some("integer_below_min_value")
        );
        assert_eq!(
            error(with("n", json!(129))).code,
            Some("integer_above_max_value")
        );
        assert_eq!(error(with("n", json!(1.5))).code, Some("invalid_type"));
        assert_eq!(
            error(with("temperature", json!(2.5))).message,
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got \
             2.5 instead."
        );
        assert_eq!(
            error(with("top_p", json!(-0.1))).param.as_deref(),
            Some("top_p")
        );
        assert_eq!(
            error(with("stop", json!(["a", "b", "c", "d", "e"]))).code,
            Some("array_above_max_length")
        );
        assert_eq!(
            error(with("max_tokens", json!(0))).param.as_deref(),
            Some("max_tokens")
        );
        let mut body = with("max_tokens", json!(9));
        body["max_completion_tokens"] = json!(4);
        assert_eq!(check(body).unwrap().max_tokens, Some(4));
        assert_eq!(check(with("stop", json!("x"))).unwrap().stop, vec!["x"]);
        assert_eq!(check(with("temperature", json!(null))).unwrap().n, 1);
    }

    #[test]
    fn stream_options_need_stream() {
        let err = error(with("stream_options", json!({"include_usage": true})));
        assert_eq!(err.param.as_deref(), Some("stream_options"));
        assert_eq!(err.code, None);
        let mut body = with("stream_options", json!({"include_usage": true}));
        body["stream"] = json!(true);
        assert!(check(body).unwrap().include_usage);
    }

    #[test]
    fn tool_choice_rules() {
        let tools = json!([{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object"}}}]);
        let err = error(with("tool_choice", json!("auto")));
        assert_eq!(
            err.message,
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are \
             specified."
        );
        assert_eq!(
            check(with("tool_choice", json!("none")))
                .unwrap()
                .tool_choice,
            ToolChoice::None
        );
        let mut body = with("tools", tools.clone());
        assert_eq!(check(body.clone()).unwrap().tool_choice, ToolChoice::Auto);
        body["tool_choice"] = json!({"type": "function", "function": {"name": "nope"}});
        assert_eq!(error(body.clone()).param.as_deref(), Some("tool_choice"));
        body["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
        assert_eq!(
            check(body.clone()).unwrap().tool_choice,
            ToolChoice::Named("get_weather".into())
        );
        body["tool_choice"] = json!("sometimes");
        assert_eq!(error(body).code, Some("invalid_value"));
        let bad_name = with(
            "tools",
            json!([{"type": "function", "function": {"name": "has space"}}]),
        );
        assert_eq!(
            error(bad_name).param.as_deref(),
            Some("tools[0].function.name")
        );
    }

    #[test]
    fn legacy_functions_map_onto_tools() {
        let mut body = with("functions", json!([{"name": "f"}]));
        body["function_call"] = json!({"name": "f"});
        let request = check(body).unwrap();
        assert!(request.legacy_functions);
        assert_eq!(request.tool_choice, ToolChoice::Named("f".into()));
        assert!(!request.parallel_tool_calls);
    }

    #[test]
    fn response_formats() {
        let err = error(with("response_format", json!({"type": "json_object"})));
        assert_eq!(err.param.as_deref(), Some("messages"));
        let mut body = with("response_format", json!({"type": "json_object"}));
        body["messages"] = json!([{"role": "system", "content": "Answer in JSON."},
            {"role": "user", "content": "hi"}]);
        assert_eq!(
            check(body).unwrap().response_format,
            ResponseFormat::JsonObject
        );
        let schema = json!({"type": "object"});
        let body = with(
            "response_format",
            json!({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}),
        );
        assert_eq!(
            check(body).unwrap().response_format,
            ResponseFormat::JsonSchema(schema)
        );
        let err = error(with("response_format", json!({"type": "json_schema"})));
        assert_eq!(
            err,
            ApiError::missing_parameter("response_format.json_schema")
        );
        let err = error(with("response_format", json!({"type": "yaml"})));
        assert_eq!(err.param.as_deref(), Some("response_format.type"));
    }
}
