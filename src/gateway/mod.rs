//! The reference gateway: a deterministic, OpenAI-exact `/v1/chat/completions` and `/v1/models`
//! server on loopback (server, routing, auth), with fault injection. It shares no code with the
//! judge (no SSE decoder, no checks, no schema validation): a bug in both would hide itself.
//!
//! ```text
//! request --request id--> auth (/v1/*) --faults--> route --> handler
//!                                                  chat: request::parse -> model::generate
//!                                                        -> response::completion | stream::chunks
//!                                                           (-> stream_faults) -> stream::frames
//! ```

mod conn;
mod errors;
mod faults;
mod ids;
mod model;
mod request;
mod response;
mod schema_gen;
mod stream;
mod stream_faults;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use conn::{ConnHandle, GatewayListener};
use errors::ApiError;
use faults::{Fault, UnknownFault};
use ids::IdCounters;
use response::{Envelope, json_response};
use stream::Pacing;

/// Largest request body accepted (base64 images make chat bodies large).
const MAX_BODY_BYTES: usize = 32 << 20;
/// How long [`Gateway::shutdown`] waits for in-flight responses before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How the reference gateway behaves.
#[derive(Clone)]
pub struct GatewayOptions {
    /// The only accepted bearer token.
    pub api_key: String,
    /// The served model ids, in `/v1/models` order.
    pub models: Vec<String>,
    /// Pause between SSE events (none when zero).
    pub chunk_delay: Duration,
    /// A fault (named as in the `x-gatecheck-fault` header) injected into every request that
    /// selects none itself, by header or model suffix. [`Gateway::start`] rejects an unknown
    /// name.
    pub fault: Option<String>,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            api_key: "sk-gatecheck".to_owned(),
            models: vec![
                "gatecheck-echo".to_owned(),
                "gatecheck-echo-large".to_owned(),
            ],
            chunk_delay: Duration::ZERO,
            fault: None,
        }
    }
}

/// The key never appears in Debug output.
impl fmt::Debug for GatewayOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayOptions")
            .field("api_key", &"[redacted]")
            .field("models", &self.models)
            .field("chunk_delay", &self.chunk_delay)
            .field("fault", &self.fault)
            .finish()
    }
}

/// A running reference gateway. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct Gateway {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<io::Result<()>>,
}

impl Gateway {
    /// Binds `addr` (callers pass 127.0.0.1:0 or 127.0.0.1:PORT) and serves in a background
    /// tokio task. An unknown [`GatewayOptions::fault`] is an [`io::ErrorKind::InvalidInput`]
    /// error that lists the valid names.
    pub async fn start(addr: SocketAddr, options: GatewayOptions) -> io::Result<Gateway> {
        let fault = match options.fault.as_deref() {
            None => None,
            Some(name) => Some(name.parse::<Fault>().map_err(|UnknownFault(name)| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "unknown gateway fault `{name}` (valid faults: {})",
                        Fault::names().join(", ")
                    ),
                )
            })?),
        };
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            options,
            fault,
            ids: IdCounters::default(),
            shutdown: ShutdownSignal(stopped.clone()),
        });
        let service = router(shared).into_make_service_with_connect_info::<ConnHandle>();
        let signal = ShutdownSignal(stopped);
        let server = axum::serve(GatewayListener::new(listener), service)
            .with_graceful_shutdown(signal.stopped());
        let task = tokio::spawn(async move { server.await });
        Ok(Gateway { addr, stop, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Stops accepting, lets in-flight responses finish (stalls and paced streams are cut at
    /// once), and returns when the server is down, after at most a few seconds.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// What every handler shares.
pub(crate) struct Shared {
    options: GatewayOptions,
    /// The parsed [`GatewayOptions::fault`].
    fault: Option<Fault>,
    ids: IdCounters,
    shutdown: ShutdownSignal,
}

/// Tells long waits (stalls, pacing) that the server is going down.
#[derive(Debug, Clone)]
pub(crate) struct ShutdownSignal(watch::Receiver<bool>);

impl ShutdownSignal {
    /// Sleeps for `duration`; `false` if shutdown began first (or the [`Gateway`] was dropped).
    pub(crate) async fn sleep(&mut self, duration: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(duration) => true,
            _ = self.0.wait_for(|stop| *stop) => false,
        }
    }

    /// Returns once shutdown has begun (or the [`Gateway`] was dropped).
    pub(crate) async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    async fn stopped(mut self) {
        self.wait().await;
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(chat_completions).fallback(not_found),
        )
        .route("/v1/models", get(list_models).fallback(not_found))
        .route("/v1/models/{*id}", get(retrieve_model).fallback(not_found))
        .fallback(not_found)
        // Layers run outside in: request id, then auth, then faults, then the route.
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            faults::inject,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            authenticate,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            request_id,
        ))
        .with_state(shared)
}

/// Adds `x-request-id` to every response.
async fn request_id(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let id = shared.ids.next_request_id();
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Bearer auth on every `/v1` path, before routing: like OpenAI, an unknown `/v1` URL is a 401
/// without a key and a 404 with one.
async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path != "/v1" && !path.starts_with("/v1/") {
        return next.run(request).await;
    }
    match bearer_token(request.headers()) {
        None => ApiError::missing_api_key().into_response(),
        Some(token) if same_secret(token, shared.options.api_key.as_bytes()) => {
            next.run(request).await
        }
        Some(_) => ApiError::invalid_api_key().into_response(),
    }
}

/// The token of an `Authorization: Bearer TOKEN` header; `None` when there is no header, another
/// scheme or an empty token (all "you didn't provide an API key").
fn bearer_token(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, token) = value.split_at(value.iter().position(|b| *b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = token.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Compares without an early exit, so response timing says nothing about the key.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

async fn not_found(method: Method, uri: Uri) -> Response {
    ApiError::invalid_url(method.as_str(), uri.path()).into_response()
}

async fn list_models(State(shared): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        &response::model_list(&shared.options.models),
    )
}

async fn retrieve_model(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return not_found(method, uri).await;
    };
    if shared.options.models.contains(&id) {
        json_response(StatusCode::OK, &response::model_object(&id))
    } else {
        ApiError::model_not_found_retrieve(&id).into_response()
    }
}

async fn chat_completions(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let fault = request.extensions().get::<Fault>().copied();
    let conn = request
        .extensions()
        .get::<ConnectInfo<ConnHandle>>()
        .map(|info| info.0.clone());
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return ApiError::body_too_large(MAX_BODY_BYTES).into_response();
    };
    let chat = match request::parse(&body, &shared.options.models) {
        Ok(chat) => chat,
        Err(error) => return error.into_response(),
    };
    let generation = model::generate(&chat, &mut || shared.ids.next_tool_call_id());
    let envelope = Envelope {
        id: shared.ids.next_completion_id(),
        created: unix_now(),
        model: chat.model.clone(),
    };
    let pacing = Pacing {
        delay: fault.map_or(shared.options.chunk_delay, |fault| {
            fault.chunk_delay(shared.options.chunk_delay)
        }),
        shutdown: shared.shutdown.clone(),
        conn,
    };
    let completion = || {
        json_response(
            StatusCode::OK,
            &response::completion(&generation, &envelope),
        )
    };
    let fault = match (chat.stream, fault) {
        // A non-stream answer sent as a normal stream.
        (false, Some(Fault::SseForJson)) => None,
        (false, _) | (true, Some(Fault::JsonForStream)) => return completion(),
        (true, Some(Fault::ErrorBeforeStream)) => {
            return stream::sse_response(stream_faults::error_before_stream(), pacing);
        }
        (true, fault) => fault,
    };
    let chunks = stream::chunks(&generation, &envelope, chat.include_usage);
    let frames = match fault {
        Some(fault) => fault.rewrite_stream(chunks, &response::usage(&generation)),
        None => stream::frames(&chunks),
    };
    stream::sse_response(frames, pacing)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
