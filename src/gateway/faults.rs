//! Fault injection for the harness's own tests: the gateway misbehaves in one named,
//! reproducible way, chosen per request by the header `x-gatecheck-fault: NAME` (checked after
//! auth), else by the API key (`sk-gatecheck-broke`, `sk-gatecheck-throttled`: see
//! [`key_fault`]), else per request by a model suffix (`gatecheck-echo+NAME` is served as
//! `gatecheck-echo`, and echoed as requested), else for every request by
//! [`GatewayOptions::fault`](super::GatewayOptions::fault). Errors that a dialect documents
//! (ml-router's 402 and 429) come in that dialect's words.
//!
//! Faults act at one of four points: instead of the handler (error statuses, stall, reset), on
//! the handler's response (content type, stalled or padded body), inside the chat handler
//! (`sse_for_json`, `json_for_stream`, `error_before_stream`), or on the SSE of a streamed
//! answer ([`Fault::rewrite_stream`], detailed in `stream_faults`). A fault that does not apply
//! to a request (a stream fault on a non-stream request) leaves it unchanged.

use std::fmt;
use std::io;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;

use super::conn::ConnHandle;
use super::errors::ApiError;
use super::stream::{self, Frame};
use super::stream_faults as sf;
use super::{MAX_BODY_BYTES, Routed, Shared};

/// The request header that selects a fault.
pub(crate) const FAULT_HEADER: &str = "x-gatecheck-fault";
/// Joins a served model id and a fault name in a model id: `gatecheck-echo+no_done`.
pub(crate) const MODEL_FAULT_SEPARATOR: char = '+';
/// A key that authenticates and is answered with `insufficient_funds` (an empty account).
pub(crate) const BROKE_KEY: &str = "sk-gatecheck-broke";
/// A key that authenticates and is answered with `rate_limit` (a throttled account).
pub(crate) const THROTTLED_KEY: &str = "sk-gatecheck-throttled";
/// How long `stall` and `stall_body` wait (or until the server shuts down).
const STALL: Duration = Duration::from_secs(3600);
/// Whitespace before the JSON body under `huge_body`.
const HUGE_PADDING_BYTES: usize = 64 << 20;
/// Padding is sent in chunks of this size, one buffer shared by all of them.
const PADDING_CHUNK_BYTES: usize = 64 << 10;
/// The pause between bytes under `drip` when `chunk_delay` is zero.
const DRIP_DEFAULT_DELAY: Duration = Duration::from_secs(1);

/// Declares [`Fault`] with its wire names and [`Fault::ALL`], so that the three cannot drift.
macro_rules! faults {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)+) => {
        /// Every fault the gateway can inject, named as in the header.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Fault {
            $($(#[$doc])* $variant,)+
        }

        impl Fault {
            pub(crate) const ALL: &'static [Fault] = &[$(Fault::$variant),+];

            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Fault::$variant => $name,)+
                }
            }
        }
    };
}

faults! {
    // --- instead of the handler, or on its response ---
    /// 429 `rate_limit_exceeded` with `retry-after` and `x-ratelimit-*` headers (ml-router:
    /// 429 `rate_limit` with `retry-after`).
    RateLimit => "rate_limit",
    /// 429 `insufficient_quota`, OpenAI's answer to an account out of credit (ml-router: 402
    /// `insufficient_funds`).
    InsufficientFunds => "insufficient_funds",
    /// 500 `server_error`.
    ServerError => "server_error",
    /// 503 `server_error` with `retry-after`.
    Overloaded => "overloaded",
    /// No status line for an hour: the client's first-byte timeout must fire.
    Stall => "stall",
    /// Status and headers at once, then no body for an hour.
    StallBody => "stall_body",
    /// The normal body with `Content-Type: text/plain`.
    WrongContentType => "wrong_content_type",
    /// A non-stream chat completion answered as an SSE stream.
    SseForJson => "sse_for_json",
    /// The TCP connection closed (RST) without any response.
    Reset => "reset",
    /// 64 MiB of whitespace, then the normal JSON body (streamed).
    HugeBody => "huge_body",
    // --- streamed chat completions (`stream: true`) only ---
    /// Every chunk as usual, then the body ends without `data: [DONE]`.
    NoDone => "no_done",
    /// After the first content chunk (and the role chunk before it), a TCP reset.
    DropMidStream => "drop_mid_stream",
    /// After the first content chunk, nothing more until the server shuts down.
    StallStream => "stall_stream",
    /// The normal stream one byte at a time, `chunk_delay` (1 s when zero) between bytes.
    Drip => "drip",
    /// The second content chunk as the first half of its JSON, then a blank line.
    MalformedChunk => "malformed_chunk",
    /// The first content chunk and the chunk after it in one event: `data: {..}{..}`.
    GluedChunks => "glued_chunks",
    /// `"role":"assistant"` in every delta.
    RepeatRole => "repeat_role",
    /// Tool-call deltas without `index`.
    NoToolIndex => "no_tool_index",
    /// Every tool-call argument delta repeats `id`, `type` and `function.name`.
    ToolIdentityRepeated => "tool_identity_repeated",
    /// The running usage on every chunk (asked for or not), no separate usage trailer.
    UsageEveryChunk => "usage_every_chunk",
    /// Every line ends in `\r\n`, every event in `\r\n\r\n`.
    Crlf => "crlf",
    /// `: keep-alive\n\n` before every event.
    KeepaliveComments => "keepalive_comments",
    /// An empty data event, `data: \n\n`, between every two events.
    DataKeepalive => "data_keepalive",
    /// The final `data: [DONE]` ends with a single `\n`.
    UnterminatedLast => "unterminated_last",
    /// After the first content chunk, OpenAI's in-band `data: {"error":{..}}`, then the end.
    ErrorMidStream => "error_mid_stream",
    /// After the first content chunk, the error fields flat at top level, then the end.
    ErrorFlatMidStream => "error_flat_mid_stream",
    /// `event: chunk` before every chunk's `data:` line.
    NamedEvents => "named_events",
    /// After the first content chunk, an SSE field named `error` (llama.cpp), then the end.
    ErrorField => "error_field",
    /// `data:{..}`: no space after the colon.
    NoSpace => "no_space",
    /// No `finish_reason` ever: the finish chunk keeps `null`.
    NoFinishReason => "no_finish_reason",
    /// `finish_reason: "stop"` on every chunk.
    FinishReasonEveryChunk => "finish_reason_every_chunk",
    /// No `role` in the first delta.
    NoRole => "no_role",
    /// Each content delta holds all the text so far (Perplexity), not the increment.
    CumulativeContent => "cumulative_content",
    /// A raw 0xFF byte inside a string of the first content chunk's JSON.
    InvalidUtf8 => "invalid_utf8",
    /// A first data event of 100 MiB (one JSON string), then the normal stream.
    HugeLine => "huge_line",
    /// The non-stream JSON body, `Content-Type: application/json`, for `stream: true`.
    JsonForStream => "json_for_stream",
    /// `200 text/event-stream` whose only event is an OpenAI error object, then `[DONE]`.
    ErrorBeforeStream => "error_before_stream",
}

impl Fault {
    /// The valid names, in declaration order.
    pub(crate) fn names() -> Vec<&'static str> {
        Fault::ALL.iter().map(|fault| fault.name()).collect()
    }

    /// The frames of a streamed answer whose chunks are `chunks` (`usage` is the final usage
    /// object, for `usage_every_chunk`). Faults that do not concern the SSE send the normal
    /// frames; the exhaustive match makes each new fault decide.
    pub(crate) fn rewrite_stream(self, chunks: Vec<Value>, usage: &Value) -> Vec<Frame> {
        match self {
            Fault::RateLimit
            | Fault::InsufficientFunds
            | Fault::ServerError
            | Fault::Overloaded
            | Fault::Stall
            | Fault::StallBody
            | Fault::WrongContentType
            | Fault::SseForJson
            | Fault::Reset
            | Fault::HugeBody
            // Answered in the chat handler, without chunks.
            | Fault::JsonForStream
            | Fault::ErrorBeforeStream => stream::frames(&chunks),
            // The chunk objects change; the framing is OpenAI's.
            Fault::RepeatRole => rewritten(chunks, sf::repeat_role),
            Fault::NoToolIndex => rewritten(chunks, sf::no_tool_index),
            Fault::ToolIdentityRepeated => rewritten(chunks, sf::tool_identity_repeated),
            Fault::UsageEveryChunk => stream::frames(&sf::usage_every_chunk(chunks, usage)),
            Fault::NoFinishReason => rewritten(chunks, sf::no_finish_reason),
            Fault::FinishReasonEveryChunk => rewritten(chunks, sf::finish_reason_every_chunk),
            Fault::NoRole => rewritten(chunks, sf::no_role),
            Fault::CumulativeContent => rewritten(chunks, sf::cumulative_content),
            // The chunks are OpenAI's; the framing or the ending changes.
            Fault::NoDone => sf::no_done(&chunks),
            Fault::DropMidStream => sf::drop_mid_stream(&chunks),
            Fault::StallStream => sf::stall_stream(&chunks),
            Fault::Drip => sf::drip(&chunks),
            Fault::MalformedChunk => sf::malformed_chunk(&chunks),
            Fault::GluedChunks => sf::glued_chunks(&chunks),
            Fault::Crlf => sf::crlf(&chunks),
            Fault::KeepaliveComments => sf::keepalive_comments(&chunks),
            Fault::DataKeepalive => sf::data_keepalive(&chunks),
            Fault::UnterminatedLast => sf::unterminated_last(&chunks),
            Fault::ErrorMidStream => sf::error_mid_stream(&chunks),
            Fault::ErrorFlatMidStream => sf::error_flat_mid_stream(&chunks),
            Fault::NamedEvents => sf::named_events(&chunks),
            Fault::ErrorField => sf::error_field(&chunks),
            Fault::NoSpace => sf::no_space(&chunks),
            Fault::InvalidUtf8 => sf::invalid_utf8(&chunks),
            Fault::HugeLine => sf::huge_line(&chunks),
        }
    }

    /// The pause between frames of a streamed answer, given the configured `chunk_delay`.
    pub(crate) fn chunk_delay(self, configured: Duration) -> Duration {
        match self {
            Fault::Drip if configured.is_zero() => DRIP_DEFAULT_DELAY,
            _ => configured,
        }
    }
}

/// OpenAI's framing of the chunks after `rewrite` changed them.
fn rewritten(mut chunks: Vec<Value>, rewrite: impl FnOnce(&mut [Value])) -> Vec<Frame> {
    rewrite(&mut chunks);
    stream::frames(&chunks)
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A header value that names no fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownFault(pub(crate) String);

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Fault::ALL
            .iter()
            .copied()
            .find(|fault| fault.name() == name)
            .ok_or_else(|| UnknownFault(name.to_owned()))
    }
}

/// Splits `MODEL+NAME` into `(MODEL, NAME)` when `MODEL` is served and the whole id is not
/// (a served id containing `+` stays itself). `NAME` may name no fault.
pub(crate) fn split_model_suffix<'a>(
    model: &'a str,
    models: &[String],
) -> Option<(&'a str, &'a str)> {
    if models.iter().any(|served| served == model) {
        return None;
    }
    let (base, name) = model.rsplit_once(MODEL_FAULT_SEPARATOR)?;
    models
        .iter()
        .any(|served| served == base)
        .then_some((base, name))
}

/// Whether `model` is served: one of `models`, or one of them with a valid fault suffix.
pub(crate) fn is_served(model: &str, models: &[String]) -> bool {
    models.iter().any(|served| served == model)
        || split_model_suffix(model, models).is_some_and(|(_, name)| name.parse::<Fault>().is_ok())
}

/// The fault a trigger key selects (the key authenticates like the configured one).
pub(crate) fn key_fault(token: &[u8]) -> Option<Fault> {
    if token == BROKE_KEY.as_bytes() {
        Some(Fault::InsufficientFunds)
    } else if token == THROTTLED_KEY.as_bytes() {
        Some(Fault::RateLimit)
    } else {
        None
    }
}

/// The fault that authentication found in the key, for [`select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyFault(pub(crate) Fault);

/// Middleware (inside auth): applies the fault the request selects, if any. An unknown name
/// is a 400, so that a typo in a test fails loudly instead of testing nothing.
pub(crate) async fn inject(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let (fault, mut request) = match select(&shared, request).await {
        Ok(selected) => selected,
        Err(response) => return response,
    };
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    let conn = request
        .extensions()
        .get::<ConnectInfo<ConnHandle>>()
        .map(|info| info.0.clone());
    let dialect = Routed::dialect_of(&request);
    match fault {
        Fault::RateLimit => dialect.rate_limited().into_response(),
        Fault::InsufficientFunds => dialect.insufficient_funds().into_response(),
        Fault::ServerError => ApiError::server_error().into_response(),
        Fault::Overloaded => ApiError::overloaded().into_response(),
        Fault::Stall => {
            if shared.shutdown.clone().sleep(STALL).await {
                next.run(request).await
            } else {
                reset(conn.as_ref())
            }
        }
        Fault::Reset => reset(conn.as_ref()),
        // The handler reads the fault from the extensions; some faults then touch its answer.
        _ => {
            request.extensions_mut().insert(fault);
            // An error answer takes the dialect's shape before a fault rewraps its body.
            let response = dialect.render_error(next.run(request).await);
            match fault {
                Fault::WrongContentType => with_plain_text_type(response),
                Fault::StallBody => with_stalled_body(response, &shared, conn),
                Fault::HugeBody => with_padded_body(response),
                _ => response,
            }
        }
    }
}

/// The fault for this request: the header's, else the key's, else the model suffix's, else
/// the server's. Reading the model means buffering a chat request's body; the request is
/// rebuilt from it.
async fn select(shared: &Shared, request: Request) -> Result<(Option<Fault>, Request), Response> {
    if let Some(value) = request.headers().get(FAULT_HEADER) {
        let name = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
        return match name.parse::<Fault>() {
            Ok(fault) => Ok((Some(fault), request)),
            Err(UnknownFault(name)) => {
                Err(ApiError::unknown_fault(&name, &Fault::names()).into_response())
            }
        };
    }
    if let Some(KeyFault(fault)) = request.extensions().get::<KeyFault>() {
        return Ok((Some(*fault), request));
    }
    if request.method() != Method::POST || request.uri().path() != "/v1/chat/completions" {
        return Ok((shared.fault, request));
    }
    let models = shared.models(Routed::dialect_of(&request));
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Err(ApiError::body_too_large(MAX_BODY_BYTES).into_response());
    };
    let suffix = match model_suffix(&body, models) {
        Some((model, name)) => match name.parse::<Fault>() {
            Ok(fault) => Some(fault),
            Err(UnknownFault(name)) => {
                return Err(
                    ApiError::unknown_model_fault(&model, &name, &Fault::names()).into_response(),
                );
            }
        },
        None => None,
    };
    Ok((
        suffix.or(shared.fault),
        Request::from_parts(parts, Body::from(body)),
    ))
}

/// Only the `model` member of a chat request body.
#[derive(Deserialize)]
struct ModelMember {
    model: Option<String>,
}

/// `(model, fault name)` when the body's model is a served model with a `+NAME` suffix. A body
/// the handler will reject (not JSON, model not a string) selects nothing.
fn model_suffix(body: &[u8], models: &[String]) -> Option<(String, String)> {
    let model = serde_json::from_slice::<ModelMember>(body).ok()?.model?;
    let (_, name) = split_model_suffix(&model, models)?;
    let name = name.to_owned();
    Some((model, name))
}

/// Resets the connection; the returned response is never written.
fn reset(conn: Option<&ConnHandle>) -> Response {
    if let Some(conn) = conn {
        conn.reset();
    }
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn with_plain_text_type(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// Same status and headers; the body waits an hour first (or resets at shutdown).
fn with_stalled_body(response: Response, shared: &Shared, conn: Option<ConnHandle>) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut shutdown = shared.shutdown.clone();
    let wait = futures_util::stream::once(async move {
        if shutdown.sleep(STALL).await {
            None
        } else {
            if let Some(conn) = conn {
                conn.reset();
            }
            Some(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "server shutting down",
            )))
        }
    })
    .filter_map(std::future::ready);
    let rest = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(io::Error::other));
    Response::from_parts(parts, Body::from_stream(wait.chain(rest)))
}

/// Same status and headers; 64 MiB of spaces precede the body, streamed from one buffer.
fn with_padded_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let chunk = Bytes::from(vec![b' '; PADDING_CHUNK_BYTES]);
    let padding = futures_util::stream::iter(
        (0..HUGE_PADDING_BYTES / PADDING_CHUNK_BYTES).map(move |_| Ok(chunk.clone())),
    );
    let rest = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(io::Error::other));
    Response::from_parts(parts, Body::from_stream(padding.chain(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(fault));
            assert_eq!(fault.to_string(), fault.name());
        }
        assert_eq!(
            "nope".parse::<Fault>(),
            Err(UnknownFault("nope".to_owned()))
        );
    }

    #[test]
    fn trigger_keys_select_their_faults() {
        assert_eq!(
            key_fault(b"sk-gatecheck-broke"),
            Some(Fault::InsufficientFunds)
        );
        assert_eq!(key_fault(b"sk-gatecheck-throttled"), Some(Fault::RateLimit));
        assert_eq!(key_fault(b"sk-gatecheck"), None);
        assert_eq!(key_fault(b"sk-gatecheck-broke "), None);
    }

    #[test]
    fn names_are_unique() {
        let mut names = Fault::names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
    }

    #[test]
    fn model_suffix_needs_a_served_base() {
        let models = vec!["m".to_owned(), "a+b".to_owned()];
        assert_eq!(
            split_model_suffix("m+no_done", &models),
            Some(("m", "no_done"))
        );
        assert_eq!(split_model_suffix("m+nope", &models), Some(("m", "nope")));
        assert_eq!(split_model_suffix("a+b", &models), None);
        assert_eq!(
            split_model_suffix("a+b+crlf", &models),
            Some(("a+b", "crlf"))
        );
        assert_eq!(split_model_suffix("x+crlf", &models), None);
        assert_eq!(split_model_suffix("m", &models), None);
        assert!(is_served("m+crlf", &models));
        assert!(!is_served("m+nope", &models));
        assert!(is_served("a+b", &models));
        assert_eq!(
            model_suffix(br#"{"model":"m+drip","messages":[]}"#, &models),
            Some(("m+drip".to_owned(), "drip".to_owned()))
        );
        assert_eq!(model_suffix(br#"{"model":7}"#, &models), None);
        assert_eq!(model_suffix(b"not json", &models), None);
    }

    #[test]
    fn drip_has_a_default_pause() {
        assert_eq!(Fault::Drip.chunk_delay(Duration::ZERO), DRIP_DEFAULT_DELAY);
        let small = Duration::from_millis(2);
        assert_eq!(Fault::Drip.chunk_delay(small), small);
        assert_eq!(Fault::Crlf.chunk_delay(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn padding_is_exactly_64_mib() {
        assert_eq!(HUGE_PADDING_BYTES % PADDING_CHUNK_BYTES, 0);
        assert_eq!(HUGE_PADDING_BYTES, 64 * 1024 * 1024);
    }
}
