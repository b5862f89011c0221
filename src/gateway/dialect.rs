//! The dialects the reference gateway speaks: OpenAI's, and five gateways' as their published
//! pages describe them (`../shared/gateway-docs/`, one page each). Each is written here from
//! its page, never from the judge's profiles, so that a misreading cannot hide in both.
//! Anything a page does not change behaves exactly as OpenAI.
//!
//! | dialect | page | what differs from OpenAI |
//! | --- | --- | --- |
//! | `openai` | | nothing |
//! | `router-by-mp` | 000, Romanian | its four models; `gemini-flash-latest` has no tools ("partial capabilities"); a context window per model |
//! | `ml-router` | 001, Russian | namespaced models; `gen-` ids; `usage.cost` always; `GET /v1/prices`; unknown parameters forwarded; 402 `insufficient_funds`, 429 `rate_limit`, every 400 `invalid_request` |
//! | `rout-my` | 002, Russian | namespaced models; `max_output_tokens`, `reasoning`, `image_config` accepted; unknown fields forwarded; image output in `message.images`; image URLs must be http(s) or base64 data URLs |
//! | `meingpt` | 003, German | base path `/api/openai/v1`; seven parameters honoured, every other accepted and ignored; `perplexity-sonar` has no tools; every error `{"status":"error","message":..}` |
//! | `apigo` | 004, Korean | completions without `created` and `model`; `POST /v1/responses` |
//!
//! A dialect acts at four points: parsing a chat request ([`Dialect::parse_chat`]), shaping the
//! answer ([`Chat`]), its own errors for injected faults, and re-rendering every error response
//! ([`Dialect::render_error`]).

use std::fmt;
use std::str::FromStr;

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::errors::ApiError;
use super::faults;
use super::ids::IdCounters;
use super::model::{self, Generation, Output};
use super::request::{self, ChatRequest, KNOWN_PARAMETERS, present};
use super::response::{self, Envelope};
use super::stream;

/// A gateway's dialect, named as its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// OpenAI itself, to the letter.
    OpenAi,
    /// Router by MP (page 000).
    RouterByMp,
    /// ML Router (page 001).
    MlRouter,
    /// rout.my (page 002).
    RoutMy,
    /// meingpt (page 003).
    MeinGpt,
    /// apigo (page 004).
    Apigo,
}

/// A name that is no dialect's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDialect(pub String);

impl fmt::Display for UnknownDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown gateway profile `{}` (valid profiles: {})",
            self.0,
            Dialect::names().join(", ")
        )
    }
}

impl std::error::Error for UnknownDialect {}

impl Dialect {
    /// Every dialect, in the order of their pages (OpenAI first).
    pub const ALL: [Dialect; 6] = [
        Dialect::OpenAi,
        Dialect::RouterByMp,
        Dialect::MlRouter,
        Dialect::RoutMy,
        Dialect::MeinGpt,
        Dialect::Apigo,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::OpenAi => "openai",
            Dialect::RouterByMp => "router-by-mp",
            Dialect::MlRouter => "ml-router",
            Dialect::RoutMy => "rout-my",
            Dialect::MeinGpt => "meingpt",
            Dialect::Apigo => "apigo",
        }
    }

    /// The valid names, in [`Dialect::ALL`] order.
    pub fn names() -> Vec<&'static str> {
        Dialect::ALL.iter().map(|dialect| dialect.name()).collect()
    }

    /// Where the API lives: `/v1`, or `/api/openai/v1` for meingpt (its curl example posts to
    /// `https://app.meingpt.com/api/openai/v1/chat/completions`).
    pub fn base_path(self) -> &'static str {
        match self {
            Dialect::MeinGpt => "/api/openai/v1",
            _ => "/v1",
        }
    }

    /// Position in [`Dialect::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The documented models, in `/models` order; empty for OpenAI, which serves the
    /// configured ids.
    fn catalog(self) -> &'static [ModelSpec] {
        match self {
            Dialect::OpenAi => &[],
            Dialect::RouterByMp => &ROUTER_BY_MP_MODELS,
            Dialect::MlRouter => &ML_ROUTER_MODELS,
            Dialect::RoutMy => &ROUT_MY_MODELS,
            Dialect::MeinGpt => &MEINGPT_MODELS,
            Dialect::Apigo => &APIGO_MODELS,
        }
    }

    /// The served model ids, in `/models` order.
    pub(crate) fn model_ids(self, configured: &[String]) -> Vec<String> {
        match self {
            Dialect::OpenAi => configured.to_vec(),
            _ => self.catalog().iter().map(|m| m.id.to_owned()).collect(),
        }
    }

    /// What the requested model (a served id, perhaps with a fault suffix) can do.
    fn model_spec(self, requested: &str, served: &[String]) -> &'static ModelSpec {
        let id = faults::split_model_suffix(requested, served).map_or(requested, |(id, _)| id);
        self.catalog()
            .iter()
            .find(|m| m.id == id)
            .unwrap_or(&ANY_MODEL)
    }

    /// Whether `POST /v1/responses` exists (apigo's page points clients to it).
    pub(crate) fn has_responses_api(self) -> bool {
        self == Dialect::Apigo
    }

    /// The body of `GET /v1/prices`, for the one dialect that has it (ml-router: "Прайс-лист за
    /// 1M токенов — в GET /v1/prices").
    pub(crate) fn price_list(self) -> Option<Value> {
        if self != Dialect::MlRouter {
            return None;
        }
        let data: Vec<Value> = self
            .catalog()
            .iter()
            .filter_map(|m| {
                let price = m.price?;
                Some(json!({
                    "model": m.id,
                    "input_per_1m": price.input_cents_per_1m as f64 / 100.0,
                    "output_per_1m": price.output_cents_per_1m as f64 / 100.0,
                    "currency": "USD",
                }))
            })
            .collect();
        Some(json!({"object": "list", "data": data}))
    }

    /// Validates a chat request body as this dialect does: first the members it sets aside
    /// (ignored or forwarded unread), then OpenAI's validation of the rest, then its own rules.
    pub(crate) fn parse_chat(self, body: &[u8], served: &[String]) -> Result<Chat, ApiError> {
        let mut value: Value =
            serde_json::from_slice(body).map_err(|_| ApiError::unparsable_json())?;
        let aside = match &mut value {
            Value::Object(members) => self.set_aside(members),
            _ => Map::new(),
        };
        let request = request::parse_value(&value, served)?;
        let model = self.model_spec(&request.model, served);
        let mut chat = Chat {
            dialect: self,
            request,
            model,
            images: None,
        };
        if self == Dialect::RoutMy
            && let Value::Object(members) = &value
        {
            rout_my_rules(&mut chat, members, &aside)?;
        }
        if !model.tools && !chat.request.tools.is_empty() {
            let param = if chat.request.legacy_functions {
                "functions"
            } else {
                "tools"
            };
            return Err(ApiError::unsupported_parameter(param));
        }
        if let Some(window) = model.context_window {
            let tokens = model::prompt_tokens(&chat.request.messages);
            if tokens > window {
                return Err(ApiError::context_length_exceeded(window, tokens));
            }
        }
        Ok(chat)
    }

    /// Removes from `members` what OpenAI's validation must not see, and returns it: meingpt
    /// ignores every parameter but seven; ml-router and rout.my forward unknown ones unread.
    fn set_aside(self, members: &mut Map<String, Value>) -> Map<String, Value> {
        let keep: fn(&str) -> bool = match self {
            Dialect::OpenAi | Dialect::RouterByMp | Dialect::Apigo => return Map::new(),
            Dialect::MeinGpt => |key| MEINGPT_PARAMETERS.contains(&key),
            Dialect::MlRouter | Dialect::RoutMy => |key| KNOWN_PARAMETERS.contains(&key),
        };
        let (kept, aside) = std::mem::take(members)
            .into_iter()
            .partition(|(key, _)| keep(key));
        *members = kept;
        aside
    }

    /// The 429 of the `rate_limit` fault and the `sk-gatecheck-throttled` key.
    pub(crate) fn rate_limited(self) -> ApiError {
        match self {
            // "429 rate_limit — превышен RPM-кэп".
            Dialect::MlRouter => ApiError {
                kind: "requests",
                headers: vec![("retry-after", "1")],
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Превышен RPM-кэп: слишком много запросов в минуту. Повторите позже.",
                    None,
                    Some("rate_limit"),
                )
            },
            _ => ApiError::rate_limited(),
        }
    }

    /// The answer to an account out of credit: the `insufficient_funds` fault and the
    /// `sk-gatecheck-broke` key. OpenAI (and every dialect whose page is silent) says 429
    /// `insufficient_quota`.
    pub(crate) fn insufficient_funds(self) -> ApiError {
        match self {
            // "402 insufficient_funds — баланс ниже $0.10. Пополни через /topup в @ML_Router_bot."
            Dialect::MlRouter => ApiError {
                kind: "insufficient_quota",
                ..ApiError::new(
                    StatusCode::PAYMENT_REQUIRED,
                    "Баланс ниже $0.10: пополните через /topup в @ML_Router_bot.",
                    None,
                    Some("insufficient_funds"),
                )
            },
            _ => ApiError::insufficient_quota(),
        }
    }

    /// Re-renders an error response (one that carries its [`ApiError`]) in the dialect's shape:
    /// meingpt's `{"status":"error","message":..}`, ml-router's `invalid_request` code on
    /// every 400. Status and headers stay; other responses pass unchanged.
    pub(crate) fn render_error(self, mut response: Response) -> Response {
        let Some(error) = response.extensions_mut().remove::<ApiError>() else {
            return response;
        };
        let body = match self {
            Dialect::MeinGpt => json!({"status": "error", "message": error.message}),
            Dialect::MlRouter if error.status == StatusCode::BAD_REQUEST => ApiError {
                code: Some("invalid_request"),
                ..error
            }
            .body(),
            _ => return response,
        };
        let (mut parts, _) = response.into_parts();
        // The router has measured the old body by now.
        parts.headers.remove(CONTENT_LENGTH);
        Response::from_parts(parts, Body::from(body.to_string()))
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Dialect::ALL
            .into_iter()
            .find(|dialect| dialect.name() == name)
            .ok_or_else(|| UnknownDialect(name.to_owned()))
    }
}

// --- models ----------------------------------------------------------------------------------

/// What one documented model can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModelSpec {
    pub(crate) id: &'static str,
    /// Accepts `tools` (or the legacy `functions`); without, a request with them is a 400.
    pub(crate) tools: bool,
    /// Most prompt tokens accepted, where the page says windows differ.
    pub(crate) context_window: Option<u64>,
    /// Draws images when `modalities` asks for them.
    pub(crate) image_output: bool,
    pub(crate) price: Option<Price>,
}

/// USD per million tokens, in cents (whole cents per million keeps the cost exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Price {
    pub(crate) input_cents_per_1m: u64,
    pub(crate) output_cents_per_1m: u64,
}

impl Price {
    /// The cost in USD, exact to 8 decimals: a cent per million tokens is 1e-8 USD per token.
    pub(crate) fn cost(self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        let units =
            prompt_tokens * self.input_cents_per_1m + completion_tokens * self.output_cents_per_1m;
        // One correctly rounded division: the nearest double to the 8-decimal value.
        units as f64 / 1e8
    }
}

const fn model(id: &'static str) -> ModelSpec {
    ModelSpec {
        id,
        tools: true,
        context_window: None,
        image_output: false,
        price: None,
    }
}

const fn priced(id: &'static str, input_cents_per_1m: u64, output_cents_per_1m: u64) -> ModelSpec {
    ModelSpec {
        price: Some(Price {
            input_cents_per_1m,
            output_cents_per_1m,
        }),
        ..model(id)
    }
}

/// Any model of the `openai` dialect: no limit the gateway enforces.
static ANY_MODEL: ModelSpec = model("");

/// Page 000 ("Modele recomandate"). "Context window. Variaza per model": the windows are the
/// gateway's own choice, as is `gemini-flash-latest` lacking tools (the page promises tools for
/// "the live GPT models" and warns that "some models may have partial capabilities").
static ROUTER_BY_MP_MODELS: [ModelSpec; 4] = [
    ModelSpec {
        context_window: Some(128_000),
        ..model("gpt-5.4-mini")
    },
    ModelSpec {
        context_window: Some(64_000),
        ..model("gpt-5.4-nano")
    },
    ModelSpec {
        context_window: Some(400_000),
        ..model("gpt-5.4-pro")
    },
    ModelSpec {
        tools: false,
        context_window: Some(32_000),
        ..model("gemini-flash-latest")
    },
];

/// Page 001 names `openai/gpt-4o-mini` and `openai/gpt-4o`; the prices are their public
/// per-million list prices.
static ML_ROUTER_MODELS: [ModelSpec; 3] = [
    priced("openai/gpt-4o-mini", 15, 60),
    priced("openai/gpt-4o", 250, 1000),
    priced("anthropic/claude-sonnet-4", 300, 1500),
];

/// Page 002 shows `provider/model-id` ids and "image-capable chat models".
static ROUT_MY_MODELS: [ModelSpec; 4] = [
    model("openai/gpt-4o-mini"),
    model("google/gemini-2.5-flash"),
    ModelSpec {
        image_output: true,
        ..model("google/gemini-2.5-flash-image")
    },
    model("openai/gpt-4o"),
];

/// Page 003: "eine Anfrage mit Tools an ein nicht unterstütztes Modell (z. B. Perplexity)
/// liefert 400".
static MEINGPT_MODELS: [ModelSpec; 3] = [
    model("gpt-4o-mini"),
    model("gpt-4o"),
    ModelSpec {
        tools: false,
        ..model("perplexity-sonar")
    },
];

/// Page 004's example model, and its smaller sibling.
static APIGO_MODELS: [ModelSpec; 2] = [model("gpt-4o"), model("gpt-4o-mini")];

/// meingpt's "Unterstützte Parameter"; every other is accepted and ignored ("Anfragen werden
/// trotzdem akzeptiert und verarbeitet, jedoch werden nicht alle Parameter beachtet").
const MEINGPT_PARAMETERS: [&str; 7] = [
    "model",
    "messages",
    "response_format",
    "stream",
    "temperature",
    "tools",
    "tool_choice",
];

// --- rout.my ---------------------------------------------------------------------------------

/// A 1x1 PNG (one translucent blue pixel): the image every rout.my image model draws.
pub(crate) const PIXEL_PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// rout.my's `images` array: one image per answer.
fn images() -> Value {
    json!([{
        "type": "image_url",
        "image_url": {"url": format!("data:image/png;base64,{PIXEL_PNG_BASE64}")},
    }])
}

/// rout.my's own rules, after OpenAI's: `max_output_tokens` ("Принимается для Gemini-style
/// клиентов") counts like `max_tokens`; `reasoning` and `image_config` must be objects;
/// image inputs are http(s) or base64 data URLs; `modalities` with "image" needs an image model.
fn rout_my_rules(
    chat: &mut Chat,
    members: &Map<String, Value>,
    aside: &Map<String, Value>,
) -> Result<(), ApiError> {
    if let Some(limit) = request::opt_integer(aside, "max_output_tokens", Some(1), None)? {
        let limit = limit as u64;
        chat.request.max_tokens = Some(chat.request.max_tokens.map_or(limit, |m| m.min(limit)));
    }
    optional_object(aside, "reasoning")?;
    if let Some(config) = optional_object(aside, "image_config")? {
        for key in ["aspect_ratio", "image_size"] {
            if let Some(value) = present(config, key)
                && !value.is_string()
            {
                return Err(ApiError::invalid_type(
                    &format!("image_config.{key}"),
                    "a string",
                    value,
                ));
            }
        }
    }
    if let Some(Value::Array(messages)) = members.get("messages") {
        check_image_urls(messages)?;
    }
    let modalities = match present(members, "modalities") {
        None => Vec::new(),
        Some(Value::Array(list)) => {
            let mut names = Vec::with_capacity(list.len());
            for (k, item) in list.iter().enumerate() {
                match item {
                    Value::String(name) => names.push(name.as_str()),
                    other => {
                        return Err(ApiError::invalid_type(
                            &format!("modalities[{k}]"),
                            "a string",
                            other,
                        ));
                    }
                }
            }
            names
        }
        Some(other) => {
            return Err(ApiError::invalid_type(
                "modalities",
                "an array of strings",
                other,
            ));
        }
    };
    if modalities.contains(&"image") {
        if !chat.model.image_output {
            return Err(ApiError::bad_request(
                format!(
                    "Model '{}' does not output images: remove 'image' from 'modalities'.",
                    chat.model.id
                ),
                Some("modalities"),
                Some("unsupported_value"),
            ));
        }
        chat.images = Some(ImageOutput {
            with_text: modalities.contains(&"text"),
        });
    }
    Ok(())
}

fn optional_object<'a>(
    members: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match present(members, key) {
        None => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(other) => Err(ApiError::invalid_type(key, "an object", other)),
    }
}

/// "Для image input принимаются data URLs": an image part's URL is http(s), or
/// `data:image/TYPE;base64,DATA`.
fn check_image_urls(messages: &[Value]) -> Result<(), ApiError> {
    for (i, message) in messages.iter().enumerate() {
        let parts = message.get("content").and_then(Value::as_array);
        for (j, part) in parts.into_iter().flatten().enumerate() {
            if part.get("type").and_then(Value::as_str) != Some("image_url") {
                continue;
            }
            let Some(url) = part.pointer("/image_url/url").and_then(Value::as_str) else {
                continue;
            };
            if !is_image_url(url) {
                let path = format!("messages[{i}].content[{j}].image_url.url");
                return Err(ApiError::bad_request(
                    format!(
                        "Invalid image URL in '{path}': expected an http(s) URL or a base64 data \
                         URL such as 'data:image/png;base64,...'."
                    ),
                    Some(&path),
                    Some("invalid_image_url"),
                ));
            }
        }
    }
    Ok(())
}

fn is_image_url(url: &str) -> bool {
    let starts_with = |prefix: &str| {
        url.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts_with("http://") || starts_with("https://") {
        return url.len() > "https://".len();
    }
    let Some(rest) = url.strip_prefix("data:image/") else {
        return false;
    };
    let Some((subtype, data)) = rest.split_once(";base64,") else {
        return false;
    };
    !subtype.is_empty()
        && subtype
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
        && !data.is_empty()
        && data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
}

// --- a chat request in a dialect -------------------------------------------------------------

/// rout.my image output: asked for with `modalities` containing "image".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageOutput {
    /// `modalities` has "text" too; otherwise the content is "".
    pub(crate) with_text: bool,
}

/// A chat request as one dialect understood it, and how that dialect answers it.
#[derive(Debug, Clone)]
pub(crate) struct Chat {
    pub(crate) dialect: Dialect,
    pub(crate) request: ChatRequest,
    pub(crate) model: &'static ModelSpec,
    pub(crate) images: Option<ImageOutput>,
}

impl Chat {
    /// Runs the fake model; an image-only answer has empty text.
    pub(crate) fn generate(&self, next_call_id: &mut dyn FnMut() -> String) -> Generation {
        let mut generation = model::generate(&self.request, next_call_id);
        if self.images == Some(ImageOutput { with_text: false }) {
            for choice in &mut generation.choices {
                if let Output::Content { text, logprobs } = &mut choice.output {
                    generation.completion_tokens = generation
                        .completion_tokens
                        .saturating_sub(model::count_tokens(text));
                    text.clear();
                    if let Some(logprobs) = logprobs {
                        logprobs.clear();
                    }
                }
            }
        }
        generation
    }

    /// The id of the answer: ml-router's `gen-...`, else OpenAI's `chatcmpl-...`.
    pub(crate) fn completion_id(&self, ids: &IdCounters) -> String {
        match self.dialect {
            Dialect::MlRouter => ids.next_generation_id(),
            _ => ids.next_completion_id(),
        }
    }

    /// The usage object: OpenAI's, plus ml-router's `cost`.
    pub(crate) fn usage(&self, generation: &Generation) -> Value {
        let mut usage = response::usage(generation);
        if self.dialect == Dialect::MlRouter {
            usage["cost"] = self.cost(generation);
        }
        usage
    }

    /// "cost всегда возвращается в наших ответах": USD, from the model's price.
    fn cost(&self, generation: &Generation) -> Value {
        let price = self.model.price.unwrap_or(Price {
            input_cents_per_1m: 0,
            output_cents_per_1m: 0,
        });
        json!(price.cost(generation.prompt_tokens, generation.completion_tokens))
    }

    /// Whether choice `index` answered with text (and so carries an image, when asked for).
    fn draws(&self, generation: &Generation, index: usize) -> bool {
        self.images.is_some()
            && matches!(
                generation.choices.get(index).map(|choice| &choice.output),
                Some(Output::Content { .. })
            )
    }

    /// The non-stream `chat.completion` object.
    pub(crate) fn completion(&self, generation: &Generation, envelope: &Envelope) -> Value {
        let mut body = response::completion(generation, envelope);
        body["usage"] = self.usage(generation);
        for index in 0..generation.choices.len() {
            if self.draws(generation, index) {
                body["choices"][index]["message"]["images"] = images();
            }
        }
        if self.dialect == Dialect::Apigo
            && let Some(members) = body.as_object_mut()
        {
            // Page 004's response documents `id`, `object`, `choices` and `usage` only.
            members.remove("created");
            members.remove("model");
        }
        body
    }

    /// The stream's chunk objects: OpenAI's, with ml-router's cost in the usage trailer and
    /// rout.my's images in a delta of their own just before each finish chunk.
    pub(crate) fn chunks(&self, generation: &Generation, envelope: &Envelope) -> Vec<Value> {
        let chunks = stream::chunks(generation, envelope, self.request.include_usage);
        let mut out = Vec::with_capacity(chunks.len() + generation.choices.len());
        for mut chunk in chunks {
            if chunk.get("usage").is_some_and(Value::is_object) {
                chunk["usage"] = self.usage(generation);
            }
            let entry = &chunk["choices"][0];
            if !entry["finish_reason"].is_null() {
                let index = entry["index"].as_u64().unwrap_or(0) as usize;
                if self.draws(generation, index) {
                    let mut drawn = chunk.clone();
                    drawn["choices"] = json!([{"index": index, "delta": {"images": images()},
                        "logprobs": null, "finish_reason": null}]);
                    out.push(drawn);
                }
            }
            out.push(chunk);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for dialect in Dialect::ALL {
            assert_eq!(dialect.name().parse::<Dialect>(), Ok(dialect));
            assert_eq!(dialect.to_string(), dialect.name());
            assert_eq!(Dialect::ALL[dialect.index()], dialect);
        }
        let err = "open-ai".parse::<Dialect>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown gateway profile `open-ai` (valid profiles: openai, router-by-mp, ml-router, \
             rout-my, meingpt, apigo)"
        );
    }

    #[test]
    fn costs_are_exact_to_eight_decimals() {
        let mini = ML_ROUTER_MODELS[0].price.unwrap();
        // (5 * 0.15 + 4 * 0.60) / 1e6 = 0.00000315
        assert_eq!(mini.cost(5, 4), 0.00000315);
        assert_eq!(mini.cost(0, 0), 0.0);
        let sonnet = ML_ROUTER_MODELS[2].price.unwrap();
        // (1000 * 3 + 1000 * 15) / 1e6 = 0.018
        assert_eq!(sonnet.cost(1000, 1000), 0.018);
        assert_eq!(json!(mini.cost(12, 8)).to_string(), "6.6e-6");
    }

    #[test]
    fn image_urls() {
        for good in [
            "https://example.com/image.png",
            "HTTP://example.com/a",
            "data:image/png;base64,AAAA",
            "data:image/svg+xml;base64,PHN2Zz4=",
        ] {
            assert!(is_image_url(good), "{good}");
        }
        for bad in [
            "ftp://example.com/a.png",
            "https://",
            "data:text/plain;base64,AAAA",
            "data:image/png,rawbytes",
            "data:image/png;base64,",
            "data:image/png;base64,not base64!",
            "example.com/a.png",
        ] {
            assert!(!is_image_url(bad), "{bad}");
        }
    }

    /// The pixel is a PNG a decoder accepts: signature, 1x1 IHDR, every chunk's CRC right.
    #[test]
    fn the_pixel_is_a_valid_png() {
        let png = decode_base64(PIXEL_PNG_BASE64);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut at = 8;
        let mut kinds = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc32(&png[at + 4..at + 8 + len]), crc);
            if kind == b"IHDR" {
                assert_eq!(&data[..8], &[0, 0, 0, 1, 0, 0, 0, 1], "1x1");
            }
            kinds.push(String::from_utf8_lossy(kind).into_owned());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
    }

    fn decode_base64(text: &str) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut count = 0;
        let mut out = Vec::new();
        for byte in text.bytes().filter(|b| *b != b'=') {
            let value = ALPHABET.iter().position(|a| *a == byte).unwrap() as u32;
            bits = (bits << 6) | value;
            count += 6;
            if count >= 8 {
                count -= 8;
                out.push((bits >> count) as u8);
            }
        }
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
