//! End-to-end tests of the dialects (issue 4, item 4): each documented behaviour over a real
//! socket, with exact bodies. The fake model answers "hello world" with "You said: hello
//! world": 5 prompt tokens (2 words + 3 per message), 4 completion tokens.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{KEY, Reply, client, send, sse_payloads, start_with, tools, usage};
use crate::gateway::{Gateway, GatewayOptions};

const BROKE: &str = "sk-gatecheck-broke";
const THROTTLED: &str = "sk-gatecheck-throttled";
const PIXEL: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// Every dialect at once (`None`) or one.
async fn serving(dialect: Option<&str>) -> Gateway {
    start_with(GatewayOptions {
        dialect: dialect.map(str::to_owned),
        ..GatewayOptions::default()
    })
    .await
}

/// The base URL of `dialect` on a gateway serving every dialect.
fn base(gateway: &Gateway, dialect: &str) -> String {
    gateway.base_url_for(dialect).expect("a served dialect")
}

async fn post_as(url: &str, key: &str, body: &Value) -> Reply {
    send(
        client()
            .post(url)
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

async fn chat_at(base: &str, body: &Value) -> Reply {
    post_as(&format!("{base}/chat/completions"), KEY, body).await
}

async fn get_at(base: &str, path: &str) -> Reply {
    send(client().get(format!("{base}{path}")).bearer_auth(KEY)).await
}

fn ask(model: &str, prompt: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": prompt}]})
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn openai_error(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

fn meingpt_error(message: &str) -> Value {
    json!({"status": "error", "message": message})
}

fn model_ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

// --- where each dialect lives ----------------------------------------------------------------

#[tokio::test]
async fn every_dialect_under_its_name_and_openai_at_the_root() {
    let gateway = serving(None).await;
    let addr = gateway.addr();
    assert_eq!(gateway.base_url(), format!("http://{addr}/v1"));
    let expected = [
        ("openai", "/openai/v1", "gatecheck-echo"),
        ("router-by-mp", "/router-by-mp/v1", "gpt-5.4-mini"),
        ("ml-router", "/ml-router/v1", "openai/gpt-4o-mini"),
        ("rout-my", "/rout-my/v1", "openai/gpt-4o-mini"),
        ("meingpt", "/meingpt/api/openai/v1", "gpt-4o-mini"),
        ("apigo", "/apigo/v1", "gpt-4o"),
    ];
    for (name, path, first_model) in expected {
        let url = base(&gateway, name);
        assert_eq!(url, format!("http://{addr}{path}"));
        assert_eq!(model_ids(&get_at(&url, "/models").await)[0], first_model);
        let reply = chat_at(&url, &ask(first_model, "hello world")).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.text());
        assert_eq!(
            reply.json()["choices"][0]["message"]["content"],
            "You said: hello world"
        );
        assert_eq!(gateway.models_for(name).unwrap()[0], first_model, "{name}");
    }
    assert_eq!(gateway.base_url_for("open-ai"), None);
    // Plain OpenAI at the root too, as the embedded runs use it.
    let root = gateway.base_url();
    assert_eq!(
        model_ids(&get_at(&root, "/models").await),
        ["gatecheck-echo", "gatecheck-echo-large"]
    );
    assert_eq!(
        chat_at(&root, &ask("gatecheck-echo", "hi")).await.status,
        StatusCode::OK
    );

    // Under a dialect's name but outside its API: that dialect's 404, no key needed.
    let reply = send(client().post(format!("http://{addr}/meingpt/v1/chat/completions"))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(
        reply.json(),
        meingpt_error("Invalid URL (POST /meingpt/v1/chat/completions)")
    );
    // Inside it: auth first, then a 404 naming the path as sent.
    let ml = base(&gateway, "ml-router");
    let reply = send(client().get(format!("{ml}/nope"))).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = get_at(&ml, "/nope").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.json(),
        openai_error(
            "Invalid URL (GET /ml-router/v1/nope)",
            "invalid_request_error",
            None,
            None
        )
    );
    // A query string survives the prefix.
    let reply = get_at(&ml, "/models?limit=1").await;
    assert_eq!(reply.status, StatusCode::OK);
    gateway.shutdown().await;
}

#[tokio::test]
async fn one_dialect_at_its_own_base_path() {
    let gateway = serving(Some("meingpt")).await;
    let addr = gateway.addr();
    assert_eq!(gateway.base_url(), format!("http://{addr}/api/openai/v1"));
    assert_eq!(gateway.base_url_for("meingpt"), Some(gateway.base_url()));
    assert_eq!(gateway.base_url_for("openai"), None);
    assert_eq!(gateway.models_for("openai"), None);
    assert_eq!(
        gateway.models_for("meingpt").unwrap(),
        ["gpt-4o-mini", "gpt-4o", "perplexity-sonar"]
    );
    let reply = chat_at(&gateway.base_url(), &ask("gpt-4o", "hello world")).await;
    assert_eq!(reply.status, StatusCode::OK);
    // OpenAI's path is not meingpt's.
    let reply = chat_at(&format!("http://{addr}/v1"), &ask("gpt-4o", "hi")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.json(),
        meingpt_error("Invalid URL (POST /v1/chat/completions)")
    );
    gateway.shutdown().await;

    let gateway = serving(Some("ml-router")).await;
    assert_eq!(gateway.base_url(), format!("http://{}/v1", gateway.addr()));
    let reply = chat_at(&gateway.base_url(), &ask("openai/gpt-4o", "hi")).await;
    assert!(reply.json()["id"].as_str().unwrap().starts_with("gen-"));
    let reply = chat_at(&gateway.base_url(), &ask("gatecheck-echo", "hi")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    gateway.shutdown().await;
}

#[tokio::test]
async fn unknown_dialect_fails_start() {
    let err = Gateway::start(
        "127.0.0.1:0".parse().unwrap(),
        GatewayOptions {
            dialect: Some("open-router".to_owned()),
            ..GatewayOptions::default()
        },
    )
    .await
    .expect_err("an unknown dialect is refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(
        err.to_string(),
        "unknown gateway profile `open-router` (valid profiles: openai, router-by-mp, \
         ml-router, rout-my, meingpt, apigo)"
    );
}

// --- router-by-mp ----------------------------------------------------------------------------

#[tokio::test]
async fn router_by_mp_models_tools_and_context_windows() {
    let gateway = serving(Some("router-by-mp")).await;
    let url = gateway.base_url();
    assert_eq!(
        model_ids(&get_at(&url, "/models").await),
        [
            "gpt-5.4-mini",
            "gpt-5.4-nano",
            "gpt-5.4-pro",
            "gemini-flash-latest"
        ]
    );

    // Tools: the GPT models call them; gemini-flash-latest has no tools.
    let body = with(ask("gpt-5.4-mini", "get_time please"), "tools", tools());
    let reply = chat_at(&url, &body).await;
    assert_eq!(
        reply.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "get_time"
    );
    let body = with(
        ask("gemini-flash-latest", "get_time please"),
        "tools",
        tools(),
    );
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        openai_error(
            "Unsupported parameter: 'tools' is not supported with this model.",
            "invalid_request_error",
            Some("tools"),
            Some("unsupported_parameter")
        )
    );
    assert_eq!(
        chat_at(&url, &ask("gemini-flash-latest", "hi"))
            .await
            .status,
        StatusCode::OK
    );

    // 32000 tokens fit gemini-flash-latest's window (words + 3 for the message); one more
    // does not.
    let words = |n: usize| "w ".repeat(n);
    let reply = chat_at(&url, &ask("gemini-flash-latest", &words(31_997))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["usage"]["prompt_tokens"], 32_000);
    let reply = chat_at(&url, &ask("gemini-flash-latest", &words(31_998))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        openai_error(
            "This model's maximum context length is 32000 tokens. However, your messages \
             resulted in 32001 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            Some("messages"),
            Some("context_length_exceeded")
        )
    );
    // The same prompt fits gpt-5.4-nano's 64000; its own limit counts every message.
    let body = ask("gpt-5.4-nano", &words(31_998));
    assert_eq!(chat_at(&url, &body).await.status, StatusCode::OK);
    let mut body = ask("gpt-5.4-nano", &words(40_000));
    body["messages"] = json!([{"role": "system", "content": words(24_000)},
        body["messages"][0].clone()]);
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with(
                "This model's maximum context length is 64000 tokens. However, your \
                          messages resulted in 64006 tokens."
            )
    );
    // OpenAI's strictness otherwise: an unknown parameter is still a 400.
    let reply = chat_at(&url, &with(ask("gpt-5.4-mini", "hi"), "bogus", json!(1))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    gateway.shutdown().await;
}

// --- ml-router -------------------------------------------------------------------------------

fn is_generation_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("gen-") else {
        return false;
    };
    let Some((digits, tail)) = rest.split_once('-') else {
        return false;
    };
    digits.len() == 10
        && digits.bytes().all(|b| b.is_ascii_digit())
        && tail.len() == 20
        && tail.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The documented arithmetic: USD per million tokens, rounded to 8 decimals.
fn expected_cost(prompt: u64, completion: u64, input_per_1m: f64, output_per_1m: f64) -> f64 {
    let usd = (prompt as f64 * input_per_1m + completion as f64 * output_per_1m) / 1e6;
    (usd * 1e8).round() / 1e8
}

#[tokio::test]
async fn ml_router_ids_cost_and_prices() {
    let gateway = serving(Some("ml-router")).await;
    let url = gateway.base_url();
    assert_eq!(
        model_ids(&get_at(&url, "/models").await),
        [
            "openai/gpt-4o-mini",
            "openai/gpt-4o",
            "anthropic/claude-sonnet-4"
        ]
    );
    let prices = get_at(&url, "/prices").await;
    assert_eq!(prices.status, StatusCode::OK);
    assert_eq!(prices.header("content-type"), "application/json");
    assert_eq!(
        prices.json(),
        json!({"object": "list", "data": [
            {"model": "openai/gpt-4o-mini", "input_per_1m": 0.15, "output_per_1m": 0.6,
                "currency": "USD"},
            {"model": "openai/gpt-4o", "input_per_1m": 2.5, "output_per_1m": 10.0,
                "currency": "USD"},
            {"model": "anthropic/claude-sonnet-4", "input_per_1m": 3.0, "output_per_1m": 15.0,
                "currency": "USD"}
        ]})
    );

    // Every completion carries its cost at the listed price.
    for entry in prices.json()["data"].as_array().unwrap() {
        let model = entry["model"].as_str().unwrap();
        let (input, output) = (
            entry["input_per_1m"].as_f64().unwrap(),
            entry["output_per_1m"].as_f64().unwrap(),
        );
        let reply = chat_at(&url, &ask(model, "hello world")).await;
        let body = reply.json();
        let id = body["id"].as_str().unwrap();
        assert!(is_generation_id(id), "{id}");
        let mut expected = usage(5, 4);
        expected["cost"] = json!(expected_cost(5, 4, input, output));
        assert_eq!(body["usage"], expected, "{model}");
        assert_eq!(body["model"], model);
    }
    let body = chat_at(&url, &ask("openai/gpt-4o-mini", "hello world"))
        .await
        .json();
    assert_eq!(body["usage"]["cost"].as_f64(), Some(0.00000315));
    // Ids count up, like the timestamps they resemble.
    let first = chat_at(&url, &ask("openai/gpt-4o", "a")).await.json()["id"].clone();
    let second = chat_at(&url, &ask("openai/gpt-4o", "a")).await.json()["id"].clone();
    assert_ne!(first, second);

    // Streams: the same id shape on every chunk, the cost in the usage trailer.
    let body = with(
        with(ask("openai/gpt-4o", "hello world"), "stream", json!(true)),
        "stream_options",
        json!({"include_usage": true}),
    );
    let reply = chat_at(&url, &body).await;
    let chunks = sse_payloads(reply.text());
    let id = chunks[0]["id"].as_str().unwrap();
    assert!(is_generation_id(id), "{id}");
    assert!(chunks.iter().all(|c| c["id"] == id));
    let trailer = chunks.last().unwrap();
    assert_eq!(trailer["choices"], json!([]));
    let mut expected = usage(5, 4);
    expected["cost"] = json!(expected_cost(5, 4, 2.5, 10.0));
    assert_eq!(trailer["usage"], expected);
    // No trailer unless asked for, as OpenAI.
    let body = with(ask("openai/gpt-4o", "hi"), "stream", json!(true));
    let chunks = sse_payloads(chat_at(&url, &body).await.text());
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    // A fault suffix follows a namespaced model too; the model is echoed as requested.
    let body = with(
        ask("anthropic/claude-sonnet-4+no_done", "hi"),
        "stream",
        json!(true),
    );
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(!reply.text().contains("[DONE]"));
    assert!(
        reply
            .text()
            .contains(r#""model":"anthropic/claude-sonnet-4+no_done""#)
    );
    let body = ask("anthropic/claude-sonnet-4+nope", "hi");
    assert_eq!(chat_at(&url, &body).await.status, StatusCode::BAD_REQUEST);
    gateway.shutdown().await;
}

#[tokio::test]
async fn ml_router_forwards_unknown_parameters_and_says_invalid_request() {
    let gateway = serving(Some("ml-router")).await;
    let url = gateway.base_url();
    let body = with(
        with(
            ask("openai/gpt-4o-mini", "hi"),
            "provider",
            json!({"order": ["x"]}),
        ),
        "transforms",
        json!(["middle-out"]),
    );
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    let invalid = |message: &str, param: Option<&str>| {
        openai_error(
            message,
            "invalid_request_error",
            param,
            Some("invalid_request"),
        )
    };
    let reply = send(
        client()
            .post(format!("{url}/chat/completions"))
            .bearer_auth(KEY)
            .body("{\"model\": "),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you \
             aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
             but what was sent was not valid JSON.)",
            None
        )
    );
    let reply = chat_at(
        &url,
        &json!({"messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        invalid("you must provide a model parameter", None)
    );
    // Known parameters are still checked; every 400 says invalid_request.
    let reply = chat_at(
        &url,
        &with(ask("openai/gpt-4o-mini", "hi"), "temperature", json!(3)),
    )
    .await;
    assert_eq!(
        reply.json(),
        invalid(
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but \
             got 3 instead.",
            Some("temperature")
        )
    );
    // Other statuses keep OpenAI's codes.
    let reply = chat_at(&url, &ask("gpt-4o", "hi")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"]["code"], "model_not_found");
    gateway.shutdown().await;
}

#[tokio::test]
async fn ml_router_402_and_429_by_key_and_by_header() {
    let gateway = serving(None).await;
    let url = base(&gateway, "ml-router");
    let chat_url = format!("{url}/chat/completions");
    let body = ask("openai/gpt-4o-mini", "hi");
    let broke = openai_error(
        "Баланс ниже $0.10: пополните через /topup в @ML_Router_bot.",
        "insufficient_quota",
        None,
        Some("insufficient_funds"),
    );
    let throttled = openai_error(
        "Превышен RPM-кэп: слишком много запросов в минуту. Повторите позже.",
        "requests",
        None,
        Some("rate_limit"),
    );

    let by_key = post_as(&chat_url, BROKE, &body).await;
    let by_header = send(
        client()
            .post(&chat_url)
            .bearer_auth(KEY)
            .header("x-gatecheck-fault", "insufficient_funds")
            .body(body.to_string()),
    )
    .await;
    for reply in [by_key, by_header] {
        assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED);
        assert_eq!(reply.header("content-type"), "application/json");
        assert_eq!(reply.json(), broke);
        assert!(reply.headers.get("retry-after").is_none());
    }
    let by_key = post_as(&chat_url, THROTTLED, &body).await;
    let by_header = send(
        client()
            .post(&chat_url)
            .bearer_auth(KEY)
            .header("x-gatecheck-fault", "rate_limit")
            .body(body.to_string()),
    )
    .await;
    for reply in [by_key, by_header] {
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(reply.json(), throttled);
        assert_eq!(reply.header("retry-after"), "1");
    }
    // A header's fault wins over the key's.
    let reply = send(
        client()
            .post(&chat_url)
            .bearer_auth(BROKE)
            .header("x-gatecheck-fault", "rate_limit")
            .body(body.to_string()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // The trigger keys authenticate: other routes answer the same way, a wrong key is a 401.
    let reply = send(client().get(format!("{url}/models")).bearer_auth(BROKE)).await;
    assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED);
    let reply = post_as(&chat_url, "sk-gatecheck-rich", &body).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // Where a page is silent, the same triggers give OpenAI's answers.
    let openai = format!("{}/chat/completions", gateway.base_url());
    let reply = post_as(&openai, BROKE, &ask("gatecheck-echo", "hi")).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        reply.json(),
        openai_error(
            "You exceeded your current quota, please check your plan and billing details. For \
             more information on this error, read the docs: \
             https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            None,
            Some("insufficient_quota")
        )
    );
    let reply = post_as(&openai, THROTTLED, &ask("gatecheck-echo", "hi")).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.json()["error"]["code"], "rate_limit_exceeded");
    gateway.shutdown().await;
}

// --- rout-my ---------------------------------------------------------------------------------

#[tokio::test]
async fn rout_my_accepts_gemini_style_fields_and_unknown_ones() {
    let gateway = serving(Some("rout-my")).await;
    let url = gateway.base_url();
    assert_eq!(
        model_ids(&get_at(&url, "/models").await),
        [
            "openai/gpt-4o-mini",
            "google/gemini-2.5-flash",
            "google/gemini-2.5-flash-image",
            "openai/gpt-4o"
        ]
    );
    let mut body = ask("google/gemini-2.5-flash", "one two three");
    body["max_output_tokens"] = json!(3);
    body["reasoning"] = json!({"effort": "low"});
    body["metadata"] = json!({"team": "qa"});
    body["safety_settings"] = json!([{"category": "x"}]);
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let choice = &reply.json()["choices"][0];
    assert_eq!(choice["message"]["content"], "You said: one");
    assert_eq!(choice["finish_reason"], "length");
    // The smaller limit wins when both are given.
    body["max_tokens"] = json!(2);
    let reply = chat_at(&url, &body).await;
    assert_eq!(
        reply.json()["choices"][0]["message"]["content"],
        "You said:"
    );
    let reply = chat_at(
        &url,
        &with(ask("openai/gpt-4o", "hi"), "max_output_tokens", json!(0)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["param"], "max_output_tokens");
    let reply = chat_at(
        &url,
        &with(ask("openai/gpt-4o", "hi"), "reasoning", json!("high")),
    )
    .await;
    assert_eq!(
        reply.json(),
        openai_error(
            "Invalid type for 'reasoning': expected an object, but got a string instead.",
            "invalid_request_error",
            Some("reasoning"),
            Some("invalid_type")
        )
    );
    gateway.shutdown().await;
}

#[tokio::test]
async fn rout_my_draws_images_when_asked() {
    let gateway = serving(Some("rout-my")).await;
    let url = gateway.base_url();
    let mut body = ask("google/gemini-2.5-flash-image", "a blue glass cube");
    body["modalities"] = json!(["image", "text"]);
    body["image_config"] = json!({"aspect_ratio": "1:1", "image_size": "1K"});
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let message = &reply.json()["choices"][0]["message"];
    assert_eq!(message["content"], "You said: a blue glass cube");
    assert_eq!(
        message["images"],
        json!([{"type": "image_url", "image_url": {"url": PIXEL}}])
    );

    // Image only: empty text.
    body["modalities"] = json!(["image"]);
    let reply = chat_at(&url, &body).await.json();
    assert_eq!(reply["choices"][0]["message"]["content"], "");
    assert_eq!(
        reply["choices"][0]["message"]["images"][0]["image_url"]["url"],
        PIXEL
    );
    assert_eq!(reply["usage"]["completion_tokens"], 0);

    // No image unless `modalities` asks for one.
    let reply = chat_at(&url, &ask("google/gemini-2.5-flash-image", "hi")).await;
    assert!(
        reply.json()["choices"][0]["message"]
            .get("images")
            .is_none()
    );
    let mut text_only = ask("google/gemini-2.5-flash-image", "hi");
    text_only["modalities"] = json!(["text"]);
    let reply = chat_at(&url, &text_only).await;
    assert!(
        reply.json()["choices"][0]["message"]
            .get("images")
            .is_none()
    );

    // A model that cannot draw says so.
    let mut body = ask("openai/gpt-4o-mini", "a cube");
    body["modalities"] = json!(["image", "text"]);
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        openai_error(
            "Model 'openai/gpt-4o-mini' does not output images: remove 'image' from \
             'modalities'.",
            "invalid_request_error",
            Some("modalities"),
            Some("unsupported_value")
        )
    );

    // Streams: the images in a delta of their own before the finish chunk, then [DONE].
    let mut body = ask("google/gemini-2.5-flash-image", "a cube");
    body["modalities"] = json!(["image", "text"]);
    body["stream"] = json!(true);
    let reply = chat_at(&url, &body).await;
    let chunks = sse_payloads(reply.text());
    let (finish, rest) = chunks.split_last().unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let drawn = rest.last().unwrap();
    assert_eq!(
        drawn["choices"],
        json!([{"index": 0, "delta": {"images": [{"type": "image_url",
            "image_url": {"url": PIXEL}}]}, "logprobs": null, "finish_reason": null}])
    );
    assert_eq!(drawn["id"], finish["id"]);
    gateway.shutdown().await;
}

#[tokio::test]
async fn rout_my_vision_takes_http_and_data_urls() {
    let gateway = serving(Some("rout-my")).await;
    let url = gateway.base_url();
    let look = |image_url: &str| {
        json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Describe this image."},
            {"type": "image_url", "image_url": {"url": image_url}}]}]})
    };
    for good in ["https://example.com/image.png", PIXEL] {
        let reply = chat_at(&url, &look(good)).await;
        assert_eq!(reply.status, StatusCode::OK, "{good}: {}", reply.text());
        assert_eq!(
            reply.json()["choices"][0]["message"]["content"],
            "You said: Describe this image."
        );
    }
    let reply = chat_at(&url, &look("ftp://example.com/image.png")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        openai_error(
            "Invalid image URL in 'messages[0].content[1].image_url.url': expected an http(s) \
             URL or a base64 data URL such as 'data:image/png;base64,...'.",
            "invalid_request_error",
            Some("messages[0].content[1].image_url.url"),
            Some("invalid_image_url")
        )
    );
    gateway.shutdown().await;
}

// --- meingpt ---------------------------------------------------------------------------------

#[tokio::test]
async fn meingpt_errors_are_status_and_message() {
    let gateway = serving(Some("meingpt")).await;
    let url = gateway.base_url();
    let expect = |reply: &Reply, status: StatusCode, message: &str| {
        assert_eq!(reply.status, status, "{}", reply.text());
        assert_eq!(reply.header("content-type"), "application/json");
        assert!(reply.headers.contains_key("x-request-id"));
        assert_eq!(reply.json(), meingpt_error(message));
    };
    // 400: temperature outside 0..2, and any other invalid request.
    let reply = chat_at(&url, &with(ask("gpt-4o", "hi"), "temperature", json!(2.5))).await;
    expect(
        &reply,
        StatusCode::BAD_REQUEST,
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got \
         2.5 instead.",
    );
    let reply = chat_at(&url, &json!({"model": "gpt-4o"})).await;
    expect(
        &reply,
        StatusCode::BAD_REQUEST,
        "Missing required parameter: 'messages'.",
    );
    // 401: no key, a wrong key.
    let reply = send(
        client()
            .post(format!("{url}/chat/completions"))
            .body(ask("gpt-4o", "hi").to_string()),
    )
    .await;
    expect(
        &reply,
        StatusCode::UNAUTHORIZED,
        "You didn't provide an API key. You need to provide your API key in an Authorization \
         header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    );
    let reply = post_as(
        &format!("{url}/chat/completions"),
        "sk_meingpt_wrong",
        &ask("gpt-4o", "hi"),
    )
    .await;
    expect(
        &reply,
        StatusCode::UNAUTHORIZED,
        "Incorrect API key provided. You can find your API key at \
         https://platform.openai.com/account/api-keys.",
    );
    // 404: an unknown route, an unknown model.
    let reply = get_at(&url, "/nope").await;
    expect(
        &reply,
        StatusCode::NOT_FOUND,
        "Invalid URL (GET /api/openai/v1/nope)",
    );
    let reply = chat_at(&url, &ask("gpt-5", "hi")).await;
    expect(
        &reply,
        StatusCode::NOT_FOUND,
        "The model `gpt-5` does not exist or you do not have access to it.",
    );
    // 429 and 500 by fault, same shape; the rate limit keeps its headers.
    let reply = send(
        client()
            .post(format!("{url}/chat/completions"))
            .bearer_auth(KEY)
            .header("x-gatecheck-fault", "rate_limit")
            .body(ask("gpt-4o", "hi").to_string()),
    )
    .await;
    expect(
        &reply,
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit reached for requests",
    );
    assert_eq!(reply.header("retry-after"), "1");
    let reply = post_as(&format!("{url}/chat/completions"), THROTTLED, &json!({})).await;
    expect(
        &reply,
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit reached for requests",
    );
    let reply = send(
        client()
            .get(format!("{url}/models"))
            .bearer_auth(KEY)
            .header("x-gatecheck-fault", "server_error"),
    )
    .await;
    expect(
        &reply,
        StatusCode::INTERNAL_SERVER_ERROR,
        "The server had an error while processing your request. Sorry about that!",
    );
    // Perplexity has no tools.
    let body = with(ask("perplexity-sonar", "get_time"), "tools", tools());
    let reply = chat_at(&url, &body).await;
    expect(
        &reply,
        StatusCode::BAD_REQUEST,
        "Unsupported parameter: 'tools' is not supported with this model.",
    );
    let body = with(ask("gpt-4o-mini", "get_time"), "tools", tools());
    let reply = chat_at(&url, &body).await;
    assert_eq!(
        reply.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "get_time"
    );
    gateway.shutdown().await;
}

#[tokio::test]
async fn meingpt_ignores_what_it_does_not_support() {
    let gateway = serving(Some("meingpt")).await;
    let url = gateway.base_url();
    let mut body = ask("gpt-4o-mini", "hello world");
    for (key, value) in [
        ("n", json!(3)),
        ("stop", json!(["said"])),
        ("max_tokens", json!(1)),
        ("max_completion_tokens", json!(1)),
        ("logprobs", json!(true)),
        ("top_logprobs", json!(5)),
        ("top_p", json!(7)),
        ("seed", json!("not a number")),
        ("user", json!("u-1")),
        ("presence_penalty", json!(-9)),
        ("parallel_tool_calls", json!(false)),
        ("stream_options", json!({"include_usage": true})),
        ("fancy_new_parameter", json!({"x": 1})),
    ] {
        body[key] = value;
    }
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let answer = reply.json();
    assert_eq!(
        answer["choices"],
        json!([{"index": 0, "message": {"role": "assistant", "content": "You said: hello world",
            "refusal": null, "annotations": []}, "logprobs": null, "finish_reason": "stop"}])
    );
    assert_eq!(answer["usage"], usage(5, 4));

    // Streamed: one choice, all of the text, no usage trailer though one was asked for.
    body["stream"] = json!(true);
    let reply = chat_at(&url, &body).await;
    let chunks = sse_payloads(reply.text());
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert!(chunks.iter().all(|c| c["choices"][0]["index"] == 0));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "You said: hello world");

    // What it supports, it honours: tools, tool_choice, response_format.
    let body = with(
        with(ask("gpt-4o", "hi"), "tools", tools()),
        "tool_choice",
        json!({"type": "function", "function": {"name": "get_time"}}),
    );
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.json()["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        reply.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "get_time"
    );
    let mut body = ask("gpt-4o", "answer in json");
    body["response_format"] = json!({"type": "json_object"});
    let reply = chat_at(&url, &body).await;
    assert_eq!(
        reply.json()["choices"][0]["message"]["content"],
        r#"{"echo":"answer in json"}"#
    );
    gateway.shutdown().await;
}

// --- apigo -----------------------------------------------------------------------------------

#[tokio::test]
async fn apigo_completions_without_created_and_model() {
    let gateway = serving(Some("apigo")).await;
    let url = gateway.base_url();
    assert_eq!(
        model_ids(&get_at(&url, "/models").await),
        ["gpt-4o", "gpt-4o-mini"]
    );
    let mut body = ask("gpt-4o", "hello world");
    body["prompt_cache_key"] = json!("conversation-1");
    body["safety_identifier"] = json!("user-hash-1");
    let reply = chat_at(&url, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let mut answer = reply.json();
    assert!(
        answer["id"].as_str().unwrap().starts_with("chatcmpl-"),
        "{answer}"
    );
    answer["id"] = json!("[id]");
    assert_eq!(
        answer,
        json!({"id": "[id]", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant",
                "content": "You said: hello world", "refusal": null, "annotations": []},
                "logprobs": null, "finish_reason": "stop"}],
            "usage": usage(5, 4),
            "service_tier": "default", "system_fingerprint": "fp_gatecheck"})
    );

    // Log probabilities as OpenAI's.
    let mut body = ask("gpt-4o-mini", "hi");
    body["logprobs"] = json!(true);
    body["top_logprobs"] = json!(2);
    let reply = chat_at(&url, &body).await;
    let content = &reply.json()["choices"][0]["logprobs"]["content"];
    let tokens: Vec<&str> = content
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens, ["You ", "said: ", "hi"]);
    assert_eq!(content[0]["top_logprobs"].as_array().unwrap().len(), 2);

    // Chunks keep created and model.
    let body = with(ask("gpt-4o", "hi"), "stream", json!(true));
    let chunks = sse_payloads(chat_at(&url, &body).await.text());
    for chunk in &chunks {
        assert!(chunk["created"].is_u64(), "{chunk}");
        assert_eq!(chunk["model"], "gpt-4o");
    }
    // Otherwise as strict as OpenAI.
    let reply = chat_at(&url, &with(ask("gpt-4o", "hi"), "bogus", json!(1))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    gateway.shutdown().await;
}

#[tokio::test]
async fn apigo_responses_api() {
    let gateway = serving(None).await;
    let url = format!("{}/responses", base(&gateway, "apigo"));
    let reply = post_as(
        &url,
        KEY,
        &json!({"model": "gpt-4o", "input": "hello world"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("content-type"), "application/json");
    let mut answer = reply.json();
    let id = answer["id"].as_str().unwrap().to_owned();
    let message_id = answer["output"][0]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("resp_") && id.len() == 53, "{id}");
    assert!(message_id.starts_with("msg_") && message_id.len() == 52);
    assert!(answer["created_at"].is_u64());
    answer["id"] = json!("[id]");
    answer["output"][0]["id"] = json!("[msg]");
    answer["created_at"] = json!(0);
    assert_eq!(
        answer,
        json!({"id": "[id]", "object": "response", "created_at": 0, "status": "completed",
            "model": "gpt-4o", "output": [{"type": "message", "id": "[msg]",
                "status": "completed", "role": "assistant", "content": [{"type": "output_text",
                "text": "You said: hello world", "annotations": []}]}],
            "usage": {"input_tokens": 5, "output_tokens": 4, "total_tokens": 9}})
    );
    // 400 for anything but a model and a string input.
    for (body, param) in [
        (json!({"input": "hi"}), "model"),
        (json!({"model": "gpt-4o"}), "input"),
        (json!({"model": "gpt-4o", "input": 7}), "input"),
        (json!({"model": "gpt-5", "input": "hi"}), "model"),
    ] {
        let reply = post_as(&url, KEY, &body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.json()["error"]["param"], param, "{body}");
    }
    // Auth as everywhere; no Responses API in other dialects.
    let reply = send(client().post(&url).body("{}")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    for dialect in ["openai", "ml-router"] {
        let other = format!("{}/responses", base(&gateway, dialect));
        let reply = post_as(&other, KEY, &json!({"model": "gpt-4o", "input": "hi"})).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{dialect}");
    }
    let reply = post_as(
        &format!("{}/responses", gateway.base_url()),
        KEY,
        &json!({"model": "gatecheck-echo", "input": "hi"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    gateway.shutdown().await;
}
