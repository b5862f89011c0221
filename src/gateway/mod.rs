//! The reference gateway: a deterministic, OpenAI-exact `/v1/chat/completions` and `/v1/models`
//! server on loopback (server, routing, auth), with fault injection, that also speaks the
//! dialects of five documented gateways ([`Dialect`]): one of them at its own base path
//! (`GatewayOptions::dialect`), or all at once, each under `/NAME` (`/meingpt/api/openai/v1`),
//! with plain OpenAI at `/v1` too. It shares no code with the judge (no SSE decoder, no checks,
//! no schema validation, no profile files): a bug in both would hide itself.
//!
//! ```text
//! request --dialect (path -> /v1/..)--> request id --> auth (/v1/*) --faults--> route --> handler
//!   chat: Dialect::parse_chat (set aside, request::parse_value, own rules) -> Chat::generate
//!         -> Chat::completion | Chat::chunks (-> stream_faults) -> stream::frames
//! error responses, on the way out: Dialect::render_error (the dialect's error shape)
//! ```

mod conn;
mod dialect;
mod errors;
mod faults;
mod ids;
mod model;
mod replay;
mod request;
mod response;
mod responses_api;
mod schema_gen;
mod stream;
mod stream_faults;
#[cfg(test)]
mod tests;

pub use dialect::{Dialect, UnknownDialect};
pub use replay::Replay;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Extension, Path, Request, State};
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
    /// The accepted bearer token. Two more keys always authenticate, and are answered with an
    /// error on purpose: `sk-gatecheck-broke` (out of credit: ml-router's 402, OpenAI's 429
    /// `insufficient_quota`) and `sk-gatecheck-throttled` (429 rate limit).
    pub api_key: String,
    /// The model ids the `openai` dialect serves, in `/v1/models` order (the other dialects
    /// serve the models their pages name).
    pub models: Vec<String>,
    /// Pause between SSE events (none when zero).
    pub chunk_delay: Duration,
    /// A fault (named as in the `x-gatecheck-fault` header) injected into every request that
    /// selects none itself, by header or model suffix. [`Gateway::start`] rejects an unknown
    /// name.
    pub fault: Option<String>,
    /// The one dialect to speak, at its own base path (`/v1`, `/api/openai/v1` for meingpt), by
    /// its profile name ([`Dialect::names`]); `None` serves every dialect at once, each under
    /// `/NAME` plus its base path, and `openai` at `/v1` as well. [`Gateway::start`] rejects an
    /// unknown name.
    pub dialect: Option<String>,
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
            dialect: None,
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
            .field("dialect", &self.dialect)
            .finish()
    }
}

/// A running reference gateway. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct Gateway {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<io::Result<()>>,
}

impl Gateway {
    /// Binds `addr` (callers pass 127.0.0.1:0 or 127.0.0.1:PORT) and serves in a background
    /// tokio task. An unknown [`GatewayOptions::fault`] or [`GatewayOptions::dialect`] is an
    /// [`io::ErrorKind::InvalidInput`] error that lists the valid names.
    pub async fn start(addr: SocketAddr, options: GatewayOptions) -> io::Result<Gateway> {
        let serving = match options.dialect.as_deref() {
            None => Serving::All,
            Some(name) => Serving::One(
                name.parse::<Dialect>()
                    .map_err(|unknown| io::Error::new(io::ErrorKind::InvalidInput, unknown))?,
            ),
        };
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
        let models = Dialect::ALL.map(|dialect| dialect.model_ids(&options.models));
        let shared = Arc::new(Shared {
            options,
            fault,
            serving,
            models,
            ids: IdCounters::default(),
            shutdown: ShutdownSignal(stopped.clone()),
        });
        let service = app(Arc::clone(&shared)).into_make_service_with_connect_info::<ConnHandle>();
        let signal = ShutdownSignal(stopped);
        let server = axum::serve(GatewayListener::new(listener), service)
            .with_graceful_shutdown(signal.stopped());
        let task = tokio::spawn(async move { server.await });
        Ok(Gateway {
            addr,
            shared,
            stop,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL at the root: `http://127.0.0.1:PORT/v1` (plain OpenAI when every dialect is
    /// served), or the one dialect's (`http://127.0.0.1:PORT/api/openai/v1` for meingpt).
    pub fn base_url(&self) -> String {
        let base = match self.shared.serving {
            Serving::All => Dialect::OpenAi.base_path(),
            Serving::One(dialect) => dialect.base_path(),
        };
        format!("http://{}{base}", self.addr)
    }

    /// The base URL of a dialect, by profile name: `http://127.0.0.1:PORT/meingpt/api/openai/v1`
    /// when every dialect is served, [`Gateway::base_url`] when this one is; `None` for a
    /// dialect this server does not speak or an unknown name.
    pub fn base_url_for(&self, dialect: &str) -> Option<String> {
        let dialect = self.served(dialect)?;
        Some(match self.shared.serving {
            Serving::All => format!(
                "http://{}/{}{}",
                self.addr,
                dialect.name(),
                dialect.base_path()
            ),
            Serving::One(_) => self.base_url(),
        })
    }

    /// The model ids a dialect serves, in `/models` order; `None` as for
    /// [`Gateway::base_url_for`].
    pub fn models_for(&self, dialect: &str) -> Option<Vec<String>> {
        let dialect = self.served(dialect)?;
        Some(self.shared.models(dialect).to_vec())
    }

    /// The dialect of that name, if this server speaks it.
    fn served(&self, name: &str) -> Option<Dialect> {
        let dialect: Dialect = name.parse().ok()?;
        match self.shared.serving {
            Serving::All => Some(dialect),
            Serving::One(served) => (served == dialect).then_some(dialect),
        }
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
#[derive(Debug)]
pub(crate) struct Shared {
    options: GatewayOptions,
    /// The parsed [`GatewayOptions::fault`].
    fault: Option<Fault>,
    /// The parsed [`GatewayOptions::dialect`].
    serving: Serving,
    /// Each dialect's served model ids, by [`Dialect::index`].
    models: [Vec<String>; Dialect::ALL.len()],
    ids: IdCounters,
    shutdown: ShutdownSignal,
}

impl Shared {
    pub(crate) fn models(&self, dialect: Dialect) -> &[String] {
        &self.models[dialect.index()]
    }
}

/// Which dialects the server speaks, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Serving {
    /// Each under `/NAME` plus its base path; `openai` at `/v1` too.
    All,
    /// One, at its base path.
    One(Dialect),
}

impl Serving {
    /// The dialect a path belongs to, and the path inside the API with the dialect's base
    /// replaced by `/v1` (`None` for a path outside every API: nothing but a 404 lives there).
    fn resolve(self, path: &str) -> (Dialect, Option<String>) {
        match self {
            Serving::One(dialect) => (dialect, api_path(path, dialect.base_path())),
            Serving::All => Dialect::ALL
                .into_iter()
                .find_map(|dialect| {
                    let rest = below(path, &format!("/{}", dialect.name()))?;
                    Some((dialect, api_path(rest, dialect.base_path())))
                })
                .unwrap_or_else(|| (Dialect::OpenAi, api_path(path, "/v1"))),
        }
    }
}

/// What follows `prefix` in `path`, when `path` is `prefix` itself or below it.
fn below<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// `/v1` and what follows `base` in `path`.
fn api_path(path: &str, base: &str) -> Option<String> {
    below(path, base).map(|rest| format!("/v1{rest}"))
}

/// Where the dialect layer routed a request: its dialect and the path as the client sent it.
#[derive(Debug, Clone)]
pub(crate) struct Routed {
    pub(crate) dialect: Dialect,
    pub(crate) path: String,
}

impl Routed {
    /// The request's dialect (`openai` for a request that never passed the dialect layer).
    pub(crate) fn dialect_of(request: &Request) -> Dialect {
        request
            .extensions()
            .get::<Routed>()
            .map_or(Dialect::OpenAi, |routed| routed.dialect)
    }
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

/// The API router behind the dialect layer, which must run before routing (it rewrites the
/// path): a layer on a router whose only service is its fallback does.
fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .fallback_service(router(Arc::clone(&shared)))
        .layer(middleware::from_fn_with_state(shared, route_dialect))
}

/// Finds the request's dialect by its path, hands the API router the path as `/v1/...`, and
/// renders error responses in the dialect's shape on the way out.
async fn route_dialect(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let (dialect, api_path) = shared.serving.resolve(&path);
    // Outside every API: `/`, which no route serves and auth does not guard.
    let mut target = api_path.unwrap_or_else(|| "/".to_owned());
    if let Some(query) = request.uri().query() {
        target = format!("{target}?{query}");
    }
    if let Ok(uri) = target.parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    request.extensions_mut().insert(Routed { dialect, path });
    let response = next.run(request).await;
    dialect.render_error(response)
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(chat_completions).fallback(not_found),
        )
        .route("/v1/models", get(list_models).fallback(not_found))
        .route("/v1/models/{*id}", get(retrieve_model).fallback(not_found))
        .route("/v1/prices", get(prices).fallback(not_found))
        .route("/v1/responses", post(responses).fallback(not_found))
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

/// Bearer auth on every API path (`/v1` here, whatever the dialect's base), before routing:
/// like OpenAI, an unknown API URL is a 401 without a key and a 404 with one. A trigger key
/// authenticates and selects its fault.
async fn authenticate(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path != "/v1" && !path.starts_with("/v1/") {
        return next.run(request).await;
    }
    let key_fault = match bearer_token(request.headers()) {
        None => return ApiError::missing_api_key().into_response(),
        Some(token) if same_secret(token, shared.options.api_key.as_bytes()) => None,
        Some(token) => match faults::key_fault(token) {
            Some(fault) => Some(fault),
            None => return ApiError::invalid_api_key().into_response(),
        },
    };
    if let Some(fault) = key_fault {
        request.extensions_mut().insert(faults::KeyFault(fault));
    }
    next.run(request).await
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

/// OpenAI's 404, naming the path as the client sent it.
async fn not_found(method: Method, Extension(routed): Extension<Routed>) -> Response {
    ApiError::invalid_url(method.as_str(), &routed.path).into_response()
}

async fn list_models(
    State(shared): State<Arc<Shared>>,
    Extension(routed): Extension<Routed>,
) -> Response {
    json_response(
        StatusCode::OK,
        &response::model_list(shared.models(routed.dialect)),
    )
}

async fn retrieve_model(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Extension(routed): Extension<Routed>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(id)) = id else {
        return not_found(method, Extension(routed)).await;
    };
    if shared.models(routed.dialect).contains(&id) {
        json_response(StatusCode::OK, &response::model_object(&id))
    } else {
        ApiError::model_not_found_retrieve(&id).into_response()
    }
}

/// ml-router's price list; a 404 in every other dialect.
async fn prices(method: Method, Extension(routed): Extension<Routed>) -> Response {
    match routed.dialect.price_list() {
        Some(list) => json_response(StatusCode::OK, &list),
        None => not_found(method, Extension(routed)).await,
    }
}

/// apigo's Responses API; a 404 in every other dialect.
async fn responses(
    State(shared): State<Arc<Shared>>,
    method: Method,
    Extension(routed): Extension<Routed>,
    request: Request,
) -> Response {
    let dialect = routed.dialect;
    if !dialect.has_responses_api() {
        return not_found(method, Extension(routed)).await;
    }
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return ApiError::body_too_large(MAX_BODY_BYTES).into_response();
    };
    match responses_api::parse(&body, shared.models(dialect)) {
        Ok(asked) => json_response(
            StatusCode::OK,
            &responses_api::answer(&asked, shared.ids.next_response_ids(), unix_now()),
        ),
        Err(error) => error.into_response(),
    }
}

async fn chat_completions(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let dialect = Routed::dialect_of(&request);
    let fault = request.extensions().get::<Fault>().copied();
    let conn = request
        .extensions()
        .get::<ConnectInfo<ConnHandle>>()
        .map(|info| info.0.clone());
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return ApiError::body_too_large(MAX_BODY_BYTES).into_response();
    };
    let chat = match dialect.parse_chat(&body, shared.models(dialect)) {
        Ok(chat) => chat,
        Err(error) => return error.into_response(),
    };
    let generation = chat.generate(&mut || shared.ids.next_tool_call_id());
    let envelope = Envelope {
        id: chat.completion_id(&shared.ids),
        created: unix_now(),
        model: chat.request.model.clone(),
    };
    let pacing = Pacing {
        delay: fault.map_or(shared.options.chunk_delay, |fault| {
            fault.chunk_delay(shared.options.chunk_delay)
        }),
        shutdown: shared.shutdown.clone(),
        conn,
    };
    let completion = || json_response(StatusCode::OK, &chat.completion(&generation, &envelope));
    let fault = match (chat.request.stream, fault) {
        // A non-stream answer sent as a normal stream.
        (false, Some(Fault::SseForJson)) => None,
        (false, _) | (true, Some(Fault::JsonForStream)) => return completion(),
        (true, Some(Fault::ErrorBeforeStream)) => {
            return stream::sse_response(stream_faults::error_before_stream(), pacing);
        }
        (true, fault) => fault,
    };
    let chunks = chat.chunks(&generation, &envelope);
    let frames = match fault {
        Some(fault) => fault.rewrite_stream(chunks, &chat.usage(&generation)),
        None => stream::frames(&chunks),
    };
    stream::sse_response(frames, pacing)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
