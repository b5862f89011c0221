//! End-to-end tests of the reference gateway: a real server on 127.0.0.1:0, real HTTP through
//! reqwest, exact statuses, headers and bodies. SSE is split by hand here on purpose: the
//! gateway shares no code with the judge's decoder, not even in tests.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Gateway, GatewayOptions};

mod dialects;
mod stream_faults;

const KEY: &str = "sk-gatecheck";
const MODEL: &str = "gatecheck-echo";

async fn start() -> Gateway {
    start_with(GatewayOptions::default()).await
}

async fn start_with(options: GatewayOptions) -> Gateway {
    Gateway::start("127.0.0.1:0".parse().unwrap(), options)
        .await
        .expect("gateway starts on loopback")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .to_str()
            .unwrap()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("request is answered");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body is read").to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

fn chat_request(gateway: &Gateway, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/chat/completions", gateway.base_url()))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
}

async fn chat(gateway: &Gateway, body: Value) -> Reply {
    send(chat_request(gateway, body.to_string())).await
}

async fn chat_with_fault(gateway: &Gateway, body: Value, fault: &str) -> Reply {
    send(chat_request(gateway, body.to_string()).header("x-gatecheck-fault", fault)).await
}

fn ask(prompt: &str) -> Value {
    json!({"model": MODEL, "messages": [{"role": "user", "content": prompt}]})
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn error(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

fn invalid(message: &str, param: Option<&str>, code: Option<&str>) -> Value {
    error(message, "invalid_request_error", param, code)
}

/// The completion with `id` and `created` checked and replaced by fixed values.
fn normalized(mut body: Value) -> Value {
    let id = body["id"].as_str().expect("id is a string");
    assert!(id.starts_with("chatcmpl-"), "{id}");
    assert_eq!(id.len(), "chatcmpl-".len() + 29);
    let created = body["created"].as_u64().expect("created is an integer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(created.abs_diff(now) < 60);
    body["id"] = json!("[id]");
    body["created"] = json!(0);
    body
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({
        "prompt_tokens": prompt, "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
    })
}

fn text_completion(choices: Value, usage: Value) -> Value {
    json!({
        "id": "[id]", "object": "chat.completion", "created": 0, "model": MODEL,
        "choices": choices, "usage": usage,
        "service_tier": "default", "system_fingerprint": "fp_gatecheck"
    })
}

fn text_choice(index: usize, content: &str, finish_reason: &str) -> Value {
    json!({"index": index, "message": {"role": "assistant", "content": content,
        "refusal": null, "annotations": []}, "logprobs": null, "finish_reason": finish_reason})
}

fn tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_weather", "description": "Weather",
            "parameters": {"type": "object",
                "properties": {"city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city", "unit"], "additionalProperties": false},
            "strict": true}},
        {"type": "function", "function": {"name": "get_time"}}
    ])
}

fn message(reply: &Reply) -> Value {
    reply.json()["choices"][0]["message"].clone()
}

/// `(name, arguments)` of each tool call, checking ids and types on the way.
fn calls(message: &Value) -> Vec<(String, String)> {
    assert_eq!(message["content"], Value::Null);
    message["tool_calls"]
        .as_array()
        .expect("tool_calls array")
        .iter()
        .map(|call| {
            let id = call["id"].as_str().unwrap();
            assert!(id.starts_with("call_") && id.len() == 29, "{id}");
            assert_eq!(call["type"], "function");
            (
                call["function"]["name"].as_str().unwrap().to_owned(),
                call["function"]["arguments"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Splits an SSE body into its data payloads, asserting OpenAI's exact framing: every event is
/// one `data: ` line followed by a blank line, and the last is `[DONE]`.
fn sse_payloads(body: &str) -> Vec<Value> {
    assert!(body.ends_with("\n\n"), "unterminated stream: {body:?}");
    let events: Vec<&str> = body.split_terminator("\n\n").collect();
    let (done, chunks) = events.split_last().expect("at least [DONE]");
    assert_eq!(*done, "data: [DONE]");
    chunks
        .iter()
        .map(|event| {
            assert!(!event.contains('\n'), "one line per event: {event:?}");
            let data = event.strip_prefix("data: ").expect("a data field");
            serde_json::from_str(data).expect("one JSON object per event")
        })
        .collect()
}

fn stream_content(chunks: &[Value], index: u64) -> String {
    chunks
        .iter()
        .flat_map(|c| c["choices"].as_array().unwrap())
        .filter(|choice| choice["index"] == index)
        .filter_map(|choice| choice["delta"]["content"].as_str())
        .collect()
}

// --- plain replies, headers, models ----------------------------------------------------------

#[tokio::test]
async fn plain_reply_is_exact() {
    let gateway = start().await;
    let reply = chat(&gateway, ask("hello world")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "application/json");
    let request_id = reply.header("x-request-id");
    assert!(
        request_id.starts_with("req_") && request_id.len() == 36,
        "{request_id}"
    );
    assert!(request_id[4..].bytes().all(|b| b.is_ascii_hexdigit()));
    // Compact: exactly what serde_json writes for the parsed value, no added whitespace.
    assert_eq!(reply.text(), reply.json().to_string());
    assert_eq!(
        normalized(reply.json()),
        text_completion(
            json!([text_choice(0, "You said: hello world", "stop")]),
            // 2 words + 3 per message; "You said: hello world" is 4 tokens.
            usage(5, 4)
        )
    );
    gateway.shutdown().await;
}

#[tokio::test]
async fn request_ids_count_per_server() {
    let gateway = start().await;
    let first = chat(&gateway, ask("a")).await;
    let second = send(client().get(format!("{}/nope", gateway.base_url()))).await;
    assert_eq!(
        first.header("x-request-id"),
        "req_00000000000000000000000000000001"
    );
    assert_eq!(
        second.header("x-request-id"),
        "req_00000000000000000000000000000002"
    );
    gateway.shutdown().await;
}

#[tokio::test]
async fn same_request_same_answer() {
    let gateway = start().await;
    let body = with(ask("get_weather please"), "tools", tools());
    let a = message(&chat(&gateway, body.clone()).await);
    let b = message(&chat(&gateway, body).await);
    assert_eq!(calls(&a), calls(&b));
    assert_ne!(a["tool_calls"][0]["id"], b["tool_calls"][0]["id"]);
    gateway.shutdown().await;
}

#[tokio::test]
async fn models_list_and_retrieve() {
    let gateway = start().await;
    let get = |path: &str| {
        client()
            .get(format!("{}{path}", gateway.base_url()))
            .bearer_auth(KEY)
    };
    let list = send(get("/models")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header("content-type"), "application/json");
    assert_eq!(
        list.json(),
        json!({"object": "list", "data": [
            {"id": "gatecheck-echo", "object": "model", "created": 1700000000, "owned_by": "gatecheck"},
            {"id": "gatecheck-echo-large", "object": "model", "created": 1700000000, "owned_by": "gatecheck"}
        ]})
    );
    let one = send(get("/models/gatecheck-echo-large")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(
        one.json(),
        json!({"id": "gatecheck-echo-large", "object": "model", "created": 1700000000,
            "owned_by": "gatecheck"})
    );
    let missing = send(get("/models/gpt-5")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json(),
        invalid(
            "The model 'gpt-5' does not exist",
            Some("model"),
            Some("model_not_found")
        )
    );
    let trailing = send(get("/models/")).await;
    assert_eq!(trailing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        trailing.json(),
        invalid("Invalid URL (GET /v1/models/)", None, None)
    );
    gateway.shutdown().await;
}

// --- auth and routing ------------------------------------------------------------------------

#[tokio::test]
async fn auth_comes_first() {
    let gateway = start().await;
    let url = |path: &str| format!("{}{path}", gateway.base_url());
    let missing_key = invalid(
        "You didn't provide an API key. You need to provide your API key in an Authorization \
         header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        None,
        None,
    );
    let bad_key = invalid(
        "Incorrect API key provided. You can find your API key at \
         https://platform.openai.com/account/api-keys.",
        None,
        Some("invalid_api_key"),
    );

    // No key: 401 even for an invalid body or an unknown /v1 route.
    let reply = send(client().post(url("/chat/completions")).body("{")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("content-type"), "application/json");
    assert!(reply.headers.contains_key("x-request-id"));
    assert_eq!(reply.json(), missing_key);
    let reply = send(client().get(url("/nope"))).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = send(client().get(url("/models")).basic_auth("user", Some(KEY))).await;
    assert_eq!(reply.json(), missing_key);

    // A wrong key is never echoed, not even in part.
    let wrong = "sk-wrong-key-1234567890";
    let reply = send(client().get(url("/models")).bearer_auth(wrong)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json(), bad_key);
    assert!(!reply.text().contains("7890") && !reply.text().contains("sk-w"));

    // With the key: unknown routes and wrong methods are 404 Invalid URL.
    let reply = send(client().get(url("/nope")).bearer_auth(KEY)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.json(),
        invalid("Invalid URL (GET /v1/nope)", None, None)
    );
    let reply = send(client().get(url("/chat/completions")).bearer_auth(KEY)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.json(),
        invalid("Invalid URL (GET /v1/chat/completions)", None, None)
    );
    let reply = send(client().delete(url("/models")).bearer_auth(KEY)).await;
    assert_eq!(
        reply.json(),
        invalid("Invalid URL (DELETE /v1/models)", None, None)
    );
    // Outside /v1 there is nothing to authenticate.
    let reply = send(client().get(format!("http://{}/health", gateway.addr()))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.json(),
        invalid("Invalid URL (GET /health)", None, None)
    );
    gateway.shutdown().await;
}

// --- request validation ----------------------------------------------------------------------

#[tokio::test]
async fn every_validation_error_is_exact() {
    let gateway = start().await;
    let user = json!([{"role": "user", "content": "hi"}]);
    let cases: Vec<(String, StatusCode, Value)> = vec![
        (
            "{\"model\": ".into(),
            StatusCode::BAD_REQUEST,
            invalid(
                "We could not parse the JSON body of your request. (HINT: This likely means you \
                 aren't using your HTTP library correctly. The OpenAI API expects a JSON \
                 payload, but what was sent was not valid JSON.)",
                None,
                None,
            ),
        ),
        (
            "[1, 2]".into(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid type for request body: expected an object, but got an array instead.",
                None,
                Some("invalid_type"),
            ),
        ),
        (
            json!({"messages": user}).to_string(),
            StatusCode::BAD_REQUEST,
            invalid("you must provide a model parameter", None, None),
        ),
        (
            json!({"model": MODEL}).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Missing required parameter: 'messages'.",
                Some("messages"),
                Some("missing_required_parameter"),
            ),
        ),
        (
            json!({"model": MODEL, "messages": []}).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but \
                 got an empty array instead.",
                Some("messages"),
                Some("empty_array"),
            ),
        ),
        (
            with(ask("hi"), "temperture", json!(1)).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Unrecognized request argument supplied: temperture",
                None,
                None,
            ),
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "robot", "content": "hi"}]}).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', \
                 'function', 'tool', and 'developer'.",
                Some("messages[0].role"),
                Some("invalid_value"),
            ),
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "user", "content": "q"},
                {"role": "assistant", "content": null}]})
            .to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid value for 'content': expected a string, got null.",
                Some("messages[1].content"),
                None,
            ),
        ),
        (
            json!({"model": MODEL, "messages": [{"role": "user", "content": "q"},
                {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"}}]},
                {"role": "tool", "content": "12:00"}]})
            .to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Missing required parameter: 'messages[2].tool_call_id'.",
                Some("messages[2].tool_call_id"),
                Some("missing_required_parameter"),
            ),
        ),
        (
            with(ask("hi"), "stream_options", json!({"include_usage": true})).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                Some("stream_options"),
                None,
            ),
        ),
        (
            with(ask("hi"), "n", json!(0)).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 \
                 instead.",
                Some("n"),
                Some("integer_below_min_value"),
            ),
        ),
        (
            with(ask("hi"), "n", json!(129)).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 129 \
                 instead.",
                Some("n"),
                Some("integer_above_max_value"),
            ),
        ),
        (
            with(ask("hi"), "stop", json!(["a", "b", "c", "d", "e"])).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid 'stop': array too long. Expected an array with maximum length 4, but \
                 got an array with length 5 instead.",
                Some("stop"),
                Some("array_above_max_length"),
            ),
        ),
        (
            with(ask("hi"), "max_completion_tokens", json!(0)).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid 'max_completion_tokens': integer below minimum value. Expected a value \
                 >= 1, but got 0 instead.",
                Some("max_completion_tokens"),
                Some("integer_below_min_value"),
            ),
        ),
        (
            with(ask("hi"), "temperature", json!(2.5)).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but \
                 got 2.5 instead.",
                Some("temperature"),
                Some("decimal_above_max_value"),
            ),
        ),
        (
            with(ask("hi"), "top_p", json!(1.5)).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got \
                 1.5 instead.",
                Some("top_p"),
                Some("decimal_above_max_value"),
            ),
        ),
        (
            with(ask("hi"), "tool_choice", json!("auto")).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' \
                 are specified.",
                Some("tool_choice"),
                None,
            ),
        ),
        (
            with(
                with(ask("hi"), "tools", tools()),
                "tool_choice",
                json!({"type": "function", "function": {"name": "launch"}}),
            )
            .to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "Invalid value for 'tool_choice': function 'launch' is not among the functions \
                 given in 'tools'.",
                Some("tool_choice"),
                Some("invalid_value"),
            ),
        ),
        (
            with(ask("hi"), "response_format", json!({"type": "json_object"})).to_string(),
            StatusCode::BAD_REQUEST,
            invalid(
                "'messages' must contain the word 'json' in some form, to use 'response_format' \
                 of type 'json_object'.",
                Some("messages"),
                None,
            ),
        ),
        (
            with(ask("hi"), "model", json!("gpt-4o")).to_string(),
            StatusCode::NOT_FOUND,
            invalid(
                "The model `gpt-4o` does not exist or you do not have access to it.",
                None,
                Some("model_not_found"),
            ),
        ),
    ];
    for (body, status, expected) in cases {
        let reply = send(chat_request(&gateway, body.clone())).await;
        assert_eq!(reply.status, status, "{body}");
        assert_eq!(reply.header("content-type"), "application/json", "{body}");
        assert_eq!(reply.json(), expected, "{body}");
    }
    gateway.shutdown().await;
}

#[tokio::test]
async fn accepts_the_shapes_clients_send() {
    let gateway = start().await;
    let body = json!({
        "model": MODEL,
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "name": "ann", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=",
                    "detail": "low"}},
                {"type": "text", "text": "here"}
            ]},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "toolu_01A", "type": "function",
                "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "toolu_01A", "content": [{"type": "text", "text": "noon"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "It is noon."}]},
            {"role": "user", "content": "thanks"}
        ],
        "user": "u1", "seed": 7, "store": false, "metadata": {"k": "v"}, "service_tier": "auto",
        "temperature": 0, "top_p": 1, "presence_penalty": 0, "frequency_penalty": 0,
        "max_tokens": null, "stop": null, "parallel_tool_calls": true
    });
    let reply = chat(&gateway, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(message(&reply)["content"], "You said: thanks");
    gateway.shutdown().await;
}

// --- the fake model --------------------------------------------------------------------------

#[tokio::test]
async fn stop_and_max_tokens() {
    let gateway = start().await;
    let reply = chat(
        &gateway,
        with(ask("one two three"), "stop", json!(["three", "two"])),
    )
    .await;
    assert_eq!(
        normalized(reply.json()),
        text_completion(
            json!([text_choice(0, "You said: one ", "stop")]),
            usage(6, 3)
        )
    );
    let reply = chat(&gateway, with(ask("one two three"), "stop", json!("said"))).await;
    assert_eq!(message(&reply)["content"], "You ");

    let reply = chat(&gateway, with(ask("one two three"), "max_tokens", json!(3))).await;
    assert_eq!(
        normalized(reply.json()),
        text_completion(
            json!([text_choice(0, "You said: one", "length")]),
            usage(6, 3)
        )
    );
    // Both limits: the smaller wins.
    let body = with(
        with(ask("one two three"), "max_tokens", json!(4)),
        "max_completion_tokens",
        json!(2),
    );
    let reply = chat(&gateway, body).await;
    assert_eq!(message(&reply)["content"], "You said:");
    assert_eq!(reply.json()["usage"]["completion_tokens"], 2);
    gateway.shutdown().await;
}

#[tokio::test]
async fn n_two_gives_two_choices() {
    let gateway = start().await;
    let reply = chat(&gateway, with(ask("hi"), "n", json!(2))).await;
    assert_eq!(
        normalized(reply.json()),
        text_completion(
            json!([
                text_choice(0, "You said: hi", "stop"),
                text_choice(1, "You said: hi", "stop")
            ]),
            usage(4, 6)
        )
    );
    gateway.shutdown().await;
}

#[tokio::test]
async fn logprobs_when_asked() {
    let gateway = start().await;
    let body = with(
        with(ask("hi"), "logprobs", json!(true)),
        "top_logprobs",
        json!(2),
    );
    let reply = chat(&gateway, body).await;
    let logprobs = &reply.json()["choices"][0]["logprobs"];
    assert_eq!(logprobs["refusal"], Value::Null);
    let content = logprobs["content"].as_array().unwrap();
    let tokens: Vec<&str> = content
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens, vec!["You ", "said: ", "hi"]);
    for entry in content {
        assert!(entry["logprob"].as_f64().unwrap() < 0.0);
        assert_eq!(
            entry["bytes"],
            json!(entry["token"].as_str().unwrap().as_bytes())
        );
        assert_eq!(entry["top_logprobs"].as_array().unwrap().len(), 2);
    }
    gateway.shutdown().await;
}

#[tokio::test]
async fn tools_auto_calls_what_the_prompt_mentions() {
    let gateway = start().await;
    let body = with(ask("What is the weather in Paris?"), "tools", tools());
    let reply = chat(&gateway, body).await;
    assert_eq!(
        message(&reply)["content"],
        "You said: What is the weather in Paris?"
    );

    let body = with(ask("Call get_weather for Paris"), "tools", tools());
    let reply = chat(&gateway, body).await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!(json["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        calls(&json["choices"][0]["message"]),
        vec![(
            "get_weather".to_owned(),
            r#"{"city":"gatecheck","unit":"celsius"}"#.to_owned()
        )]
    );
    let message = &json["choices"][0]["message"];
    assert_eq!(message["refusal"], Value::Null);
    assert_eq!(message["annotations"], json!([]));
    // 37 bytes of arguments = ceil(37 / 4) = 10 tokens.
    assert_eq!(json["usage"]["completion_tokens"], 10);
    gateway.shutdown().await;
}

#[tokio::test]
async fn tools_parallel_and_not() {
    let gateway = start().await;
    let body = with(ask("get time, then Get_Weather"), "tools", tools());
    let reply = chat(&gateway, body.clone()).await;
    let names: Vec<String> = calls(&message(&reply)).into_iter().map(|c| c.0).collect();
    assert_eq!(names, vec!["get_time", "get_weather"]);
    let json = reply.json();
    let tool_calls = json["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_ne!(tool_calls[0]["id"], tool_calls[1]["id"]);

    let reply = chat(&gateway, with(body, "parallel_tool_calls", json!(false))).await;
    let names: Vec<String> = calls(&message(&reply)).into_iter().map(|c| c.0).collect();
    assert_eq!(names, vec!["get_time"]);
    gateway.shutdown().await;
}

#[tokio::test]
async fn tool_choice_required_named_none() {
    let gateway = start().await;
    let base = with(ask("hello"), "tools", tools());

    let reply = chat(
        &gateway,
        with(base.clone(), "tool_choice", json!("required")),
    )
    .await;
    assert_eq!(reply.json()["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(calls(&message(&reply))[0].0, "get_weather");

    let named = json!({"type": "function", "function": {"name": "get_time"}});
    let reply = chat(&gateway, with(base.clone(), "tool_choice", named)).await;
    assert_eq!(reply.json()["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        calls(&message(&reply)),
        vec![("get_time".to_owned(), "{}".to_owned())]
    );

    let mentioned = with(ask("get_weather now"), "tools", tools());
    let reply = chat(&gateway, with(mentioned, "tool_choice", json!("none"))).await;
    assert_eq!(message(&reply)["content"], "You said: get_weather now");
    assert!(message(&reply).get("tool_calls").is_none());

    // "none" needs no tools.
    let reply = chat(&gateway, with(ask("hi"), "tool_choice", json!("none"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    gateway.shutdown().await;
}

#[tokio::test]
async fn tool_results_end_the_loop() {
    let gateway = start().await;
    let body = json!({"model": MODEL, "tools": tools(), "messages": [
        {"role": "user", "content": "get_weather in Paris"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc", "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_abc", "content": "18C and sunny"}
    ]});
    let reply = chat(&gateway, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(message(&reply)["content"], "Tool result: 18C and sunny");
    assert_eq!(reply.json()["choices"][0]["finish_reason"], "stop");
    gateway.shutdown().await;
}

#[tokio::test]
async fn legacy_functions() {
    let gateway = start().await;
    let body = with(
        ask("what does get_time say?"),
        "functions",
        json!([{"name": "get_time", "parameters": {"type": "object", "properties": {}}}]),
    );
    let reply = chat(&gateway, body.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let json = reply.json();
    assert_eq!(
        json["choices"][0]["message"],
        json!({"role": "assistant", "content": null, "refusal": null, "annotations": [],
            "function_call": {"name": "get_time", "arguments": "{}"}})
    );
    assert_eq!(json["choices"][0]["finish_reason"], "function_call");

    let reply = chat(&gateway, with(body, "stream", json!(true))).await;
    let chunks = sse_payloads(reply.text());
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": null, "refusal": null,
            "function_call": {"name": "get_time", "arguments": ""}})
    );
    assert_eq!(
        chunks[1]["choices"][0]["delta"],
        json!({"function_call": {"arguments": "{}"}})
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "function_call"
    );
    gateway.shutdown().await;
}

#[tokio::test]
async fn json_modes() {
    let gateway = start().await;
    let body = with(
        ask("Reply in JSON please"),
        "response_format",
        json!({"type": "json_object"}),
    );
    let reply = chat(&gateway, body).await;
    assert_eq!(reply.status, StatusCode::OK);
    let content = message(&reply)["content"].as_str().unwrap().to_owned();
    assert_eq!(content, r#"{"echo":"Reply in JSON please"}"#);

    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "step": {"$ref": "#/$defs/step"}
        },
        "required": ["name", "when", "tags", "score", "step"],
        "additionalProperties": false,
        "$defs": {"step": {"type": "object", "properties": {"n": {"type": "integer"}},
            "required": ["n"], "additionalProperties": false}}
    });
    let body = with(
        ask("anything"),
        "response_format",
        json!({"type": "json_schema", "json_schema": {"name": "event", "schema": schema,
            "strict": true}}),
    );
    let reply = chat(&gateway, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let content: Value =
        serde_json::from_str(message(&reply)["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        content,
        json!({"name": "gatecheck", "when": "2024-01-01T00:00:00Z", "tags": ["gatecheck"],
            "score": 1.0, "step": {"n": 1}})
    );
    gateway.shutdown().await;
}

// --- streaming -------------------------------------------------------------------------------

#[tokio::test]
async fn stream_without_usage() {
    let gateway = start().await;
    let reply = chat(&gateway, with(ask("a b"), "stream", json!(true))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        "text/event-stream; charset=utf-8"
    );
    assert!(reply.headers.contains_key("x-request-id"));
    let chunks = sse_payloads(reply.text());
    let id = chunks[0]["id"].clone();
    let created = chunks[0]["created"].clone();
    let expected_deltas = [
        json!({"role": "assistant", "content": "", "refusal": null}),
        json!({"content": "You "}),
        json!({"content": "said: "}),
        json!({"content": "a "}),
        json!({"content": "b"}),
        json!({}),
    ];
    assert_eq!(chunks.len(), expected_deltas.len());
    for (k, (chunk, delta)) in chunks.iter().zip(&expected_deltas).enumerate() {
        let finish = if k + 1 == chunks.len() {
            json!("stop")
        } else {
            json!(null)
        };
        assert_eq!(
            chunk,
            &json!({"id": id, "object": "chat.completion.chunk", "created": created,
                "model": MODEL, "service_tier": "default", "system_fingerprint": "fp_gatecheck",
                "choices": [{"index": 0, "delta": delta, "logprobs": null,
                    "finish_reason": finish}]})
        );
    }
    assert!(id.as_str().unwrap().starts_with("chatcmpl-"));
    gateway.shutdown().await;
}

#[tokio::test]
async fn stream_with_usage_trailer() {
    let gateway = start().await;
    let body = with(
        with(ask("a b"), "stream", json!(true)),
        "stream_options",
        json!({"include_usage": true}),
    );
    let reply = chat(&gateway, body).await;
    let chunks = sse_payloads(reply.text());
    let (trailer, rest) = chunks.split_last().unwrap();
    for chunk in rest {
        assert_eq!(chunk.get("usage"), Some(&Value::Null));
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
    assert_eq!(rest.last().unwrap()["choices"][0]["finish_reason"], "stop");
    assert_eq!(trailer["choices"], json!([]));
    assert_eq!(trailer["id"], rest[0]["id"]);
    assert_eq!(trailer["object"], "chat.completion.chunk");
    assert_eq!(trailer["usage"], usage(5, 4));
    gateway.shutdown().await;
}

#[tokio::test]
async fn stream_matches_non_stream() {
    let gateway = start().await;
    let body = with(
        with(ask("one two three"), "n", json!(2)),
        "max_tokens",
        json!(3),
    );
    let plain = chat(&gateway, body.clone()).await.json();
    let reply = chat(&gateway, with(body, "stream", json!(true))).await;
    let chunks = sse_payloads(reply.text());
    // Choices take turns, one per chunk.
    let indices: Vec<u64> = chunks
        .iter()
        .map(|c| c["choices"][0]["index"].as_u64().unwrap())
        .collect();
    assert_eq!(&indices[..4], &[0, 1, 0, 1]);
    for index in 0..2 {
        assert_eq!(
            stream_content(&chunks, index),
            plain["choices"][index as usize]["message"]["content"]
        );
        let finishes: Vec<&Value> = chunks
            .iter()
            .map(|c| &c["choices"][0])
            .filter(|c| c["index"] == index && !c["finish_reason"].is_null())
            .map(|c| &c["finish_reason"])
            .collect();
        assert_eq!(finishes, vec![&json!("length")]);
    }
    gateway.shutdown().await;
}

#[tokio::test]
async fn stream_tool_calls() {
    let gateway = start().await;
    let body = with(
        with(ask("get_weather and get_time"), "tools", tools()),
        "stream",
        json!(true),
    );
    let reply = chat(&gateway, body).await;
    let chunks = sse_payloads(reply.text());
    let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
    assert_eq!(deltas[0]["role"], "assistant");
    assert_eq!(deltas[0]["content"], Value::Null);
    assert_eq!(deltas[0]["refusal"], Value::Null);
    // Accumulate like a client: identity once per index, arguments concatenated.
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for delta in &deltas {
        for part in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = part["index"].as_u64().unwrap() as usize;
            if let Some(id) = part["id"].as_str() {
                assert_eq!(index, calls.len(), "identity once, in order");
                assert_eq!(part["type"], "function");
                assert_eq!(part["function"]["arguments"], "");
                let name = part["function"]["name"].as_str().unwrap();
                calls.push((id.to_owned(), name.to_owned(), String::new()));
            } else {
                assert!(part.get("type").is_none() && part["function"].get("name").is_none());
                calls[index].2 += part["function"]["arguments"].as_str().unwrap();
            }
        }
    }
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].1, "get_weather");
    assert_eq!(calls[0].2, r#"{"city":"gatecheck","unit":"celsius"}"#);
    assert_eq!(
        (calls[1].1.as_str(), calls[1].2.as_str()),
        ("get_time", "{}")
    );
    let last = &chunks.last().unwrap()["choices"][0];
    assert_eq!(last["delta"], json!({}));
    assert_eq!(last["finish_reason"], "tool_calls");
    gateway.shutdown().await;
}

#[tokio::test]
async fn chunk_delay_paces_the_stream() {
    let gateway = start_with(GatewayOptions {
        chunk_delay: Duration::from_millis(60),
        ..GatewayOptions::default()
    })
    .await;
    let started = Instant::now();
    let response = chat_request(
        &gateway,
        with(ask("a b"), "stream", json!(true)).to_string(),
    )
    .send()
    .await
    .unwrap();
    let mut arrivals = Vec::new();
    let mut body = Vec::new();
    let mut pieces = response.bytes_stream();
    while let Some(piece) = pieces.next().await {
        arrivals.push(started.elapsed());
        body.extend_from_slice(&piece.unwrap());
    }
    // 7 events (role, 4 tokens, finish, [DONE]): 6 pauses of 60 ms.
    assert_eq!(sse_payloads(std::str::from_utf8(&body).unwrap()).len(), 6);
    let total = *arrivals.last().unwrap();
    assert!(total >= Duration::from_millis(350), "{total:?}");
    assert!(arrivals.len() >= 3, "delivered incrementally: {arrivals:?}");
    assert!(
        total - arrivals[0] >= Duration::from_millis(300),
        "{arrivals:?}"
    );
    gateway.shutdown().await;
}

// --- faults ----------------------------------------------------------------------------------

#[tokio::test]
async fn fault_error_statuses() {
    let gateway = start().await;
    let reply = chat_with_fault(&gateway, ask("hi"), "rate_limit").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        reply.json(),
        error(
            "Rate limit reached for requests",
            "requests",
            None,
            Some("rate_limit_exceeded")
        )
    );
    assert_eq!(reply.header("retry-after"), "1");
    assert_eq!(reply.header("x-ratelimit-limit-requests"), "60");
    assert_eq!(reply.header("x-ratelimit-remaining-requests"), "0");
    assert_eq!(reply.header("x-ratelimit-reset-requests"), "1s");

    let reply = chat_with_fault(&gateway, ask("hi"), "server_error").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        reply.json(),
        error(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
            None
        )
    );

    let reply = chat_with_fault(&gateway, ask("hi"), "overloaded").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header("retry-after"), "1");
    assert_eq!(reply.json()["error"]["type"], "server_error");

    let reply = chat_with_fault(&gateway, ask("hi"), "explode").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unknown x-gatecheck-fault 'explode'.")
    );

    // Faults come after auth.
    let reply = send(
        client()
            .post(format!("{}/chat/completions", gateway.base_url()))
            .header("x-gatecheck-fault", "rate_limit")
            .body(ask("hi").to_string()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    gateway.shutdown().await;
}

#[tokio::test]
async fn fault_wrong_content_type_and_sse_for_json() {
    let gateway = start().await;
    let reply = chat_with_fault(&gateway, ask("hi"), "wrong_content_type").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "text/plain");
    assert_eq!(
        reply.json()["choices"][0]["message"]["content"],
        "You said: hi"
    );

    let reply = chat_with_fault(&gateway, ask("hi"), "sse_for_json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        "text/event-stream; charset=utf-8"
    );
    let chunks = sse_payloads(reply.text());
    assert_eq!(stream_content(&chunks, 0), "You said: hi");
    gateway.shutdown().await;
}

#[tokio::test]
async fn fault_stall_blocks_only_its_own_request() {
    let gateway = start().await;
    let stalled = chat_request(&gateway, ask("hi").to_string())
        .header("x-gatecheck-fault", "stall")
        .timeout(Duration::from_millis(500))
        .send();
    let other = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        chat(&gateway, ask("still here")).await
    };
    let (stalled, other) = tokio::join!(stalled, other);
    let err = stalled.expect_err("no response within the timeout");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(message(&other)["content"], "You said: still here");
    gateway.shutdown().await;
}

#[tokio::test]
async fn fault_stall_body_sends_headers_only() {
    let gateway = start().await;
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        chat_request(&gateway, ask("hi").to_string())
            .header("x-gatecheck-fault", "stall_body")
            .send(),
    )
    .await
    .expect("headers arrive at once")
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = tokio::time::timeout(Duration::from_millis(300), response.bytes()).await;
    assert!(body.is_err(), "the body must not arrive");
    gateway.shutdown().await;
}

#[tokio::test]
async fn fault_reset_closes_without_a_response() {
    let gateway = start().await;
    let err = chat_request(&gateway, ask("hi").to_string())
        .header("x-gatecheck-fault", "reset")
        .send()
        .await
        .expect_err("no response");
    assert!(!err.is_timeout(), "{err:?}");

    // On the wire: not a single byte, then a reset.
    let mut socket = tokio::net::TcpStream::connect(gateway.addr())
        .await
        .unwrap();
    let body = ask("hi").to_string();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {KEY}\r\n\
         x-gatecheck-fault: reset\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut received))
        .await
        .expect("the connection closes");
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );
    let err = read.expect_err("closed by a reset, not a clean end of stream");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);

    // The server itself is fine.
    assert_eq!(chat(&gateway, ask("hi")).await.status, StatusCode::OK);
    gateway.shutdown().await;
}

#[tokio::test]
async fn fault_huge_body() {
    let gateway = start().await;
    let reply = chat_with_fault(&gateway, ask("hi"), "huge_body").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "application/json");
    let padding = 64 * 1024 * 1024;
    assert!(reply.body[..padding].iter().all(|b| *b == b' '));
    assert_eq!(reply.body[padding], b'{');
    assert_eq!(
        reply.json()["choices"][0]["message"]["content"],
        "You said: hi"
    );
    gateway.shutdown().await;
}

// --- lifecycle -------------------------------------------------------------------------------

#[tokio::test]
async fn shutdown_cuts_stalled_requests() {
    let gateway = start().await;
    let base = gateway.base_url();
    let stalled = tokio::spawn(
        chat_request(&gateway, ask("hi").to_string())
            .header("x-gatecheck-fault", "stall")
            .send(),
    );
    let slow_body = chat_request(&gateway, ask("hi").to_string())
        .header("x-gatecheck-fault", "stall_body")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    gateway.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(stalled.await.unwrap().is_err());
    assert!(slow_body.bytes().await.is_err());
    // Nothing listens any more.
    let after = client().get(format!("{base}/models")).send().await;
    assert!(after.is_err());
}

#[test]
fn options_debug_hides_the_key() {
    let options = GatewayOptions {
        api_key: "sk-secret-123".into(),
        ..GatewayOptions::default()
    };
    let debug = format!("{options:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(debug.contains("gatecheck-echo"));
}
