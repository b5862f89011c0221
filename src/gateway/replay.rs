//! `gatecheck serve --replay DIR`: serves recorded exchanges (`gatecheck run --record DIR`) back
//! with their original timing, so a regression can be reproduced without the gateway that
//! produced it. Reads the recordings with `crate::record` (the format, which shares no code with
//! the judge either).
//!
//! Routing: each recorded target under `/<target><base path>`, and, when the folder holds one
//! target only, at `<base path>` too. A request is answered by a recording of the same method,
//! path (query included) and body (JSON bodies compared as JSON values, others byte for byte);
//! among equal ones, those whose distinguishing request headers (a fault header, whether a key
//! was sent) also match are preferred; several are served in their recorded order, then again
//! from the first. Anything else gets a 404 with an OpenAI error body naming the nearest
//! recorded request.
//!
//! Timing, measured from the request's arrival: the head at the recorded time to headers, then
//! each recorded read's bytes at its arrival time. A recorded failure is reproduced: a timeout
//! holds the connection open without a byte more (until shutdown), any other failure (a reset,
//! a cap the client enforced) resets the connection after the bytes that had arrived. A body
//! kept only in part (`--max-body`) ends where the recording does.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::exchange::{End, Exchange, TransportErrorKind};
use crate::record;

use super::conn::{ConnHandle, GatewayListener};
use super::errors::ApiError;
use super::{MAX_BODY_BYTES, SHUTDOWN_GRACE, ShutdownSignal};

/// Request headers that say nothing about which recording is meant (they are the client's,
/// or the framing's); the others, when recorded, distinguish requests with equal bodies.
const INCIDENTAL_HEADERS: [&str; 8] = [
    "authorization",
    "content-type",
    "content-length",
    "user-agent",
    "accept",
    "accept-encoding",
    "host",
    "connection",
];

/// Response headers hyper writes itself (framing and connection management).
const HOP_BY_HOP: [&str; 7] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "proxy-connection",
    "trailer",
];

/// A running replay server. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct Replay {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<io::Result<()>>,
}

impl Replay {
    /// Reads the recordings in `dir`, binds `addr` (127.0.0.1) and serves in a background
    /// task. A broken recording is an [`io::ErrorKind::InvalidData`] error naming the file (a
    /// missing folder or manifest [`io::ErrorKind::NotFound`]).
    pub async fn start(addr: SocketAddr, dir: &Path) -> io::Result<Replay> {
        let recorded = record::read_dir(dir).map_err(|e| {
            let kind = match &e.kind {
                record::RecordErrorKind::Io(io) if io.kind() == io::ErrorKind::NotFound => {
                    io::ErrorKind::NotFound
                }
                _ => io::ErrorKind::InvalidData,
            };
            io::Error::new(kind, e.to_string())
        })?;
        let targets: Vec<(String, String)> = recorded
            .manifest
            .targets
            .iter()
            .map(|t| (t.name.clone(), t.base_path.trim_end_matches('/').to_owned()))
            .collect();
        let mut entries = Vec::new();
        for (_, rec) in &recorded.recordings {
            let Some(target) = targets.iter().position(|(name, _)| *name == rec.target) else {
                continue;
            };
            for ex in std::iter::once(&rec.exchange).chain(&rec.companion) {
                entries.push(Entry {
                    target,
                    case: rec.case.clone(),
                    body: RequestBody::of(&ex.request.body),
                    headers: distinguishing(&ex.request.headers),
                    keyed: ex
                        .request
                        .headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("authorization")),
                    exchange: ex.clone(),
                });
            }
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            targets,
            entries,
            turns: Mutex::new(HashMap::new()),
            shutdown: ShutdownSignal(stopped.clone()),
        });
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared))
            .into_make_service_with_connect_info::<ConnHandle>();
        let server = axum::serve(GatewayListener::new(listener), app)
            .with_graceful_shutdown(ShutdownSignal(stopped).stopped());
        let task = tokio::spawn(async move { server.await });
        Ok(Replay {
            addr,
            shared,
            stop,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The recorded targets' names, in the manifest's order.
    pub fn targets(&self) -> Vec<String> {
        self.shared.targets.iter().map(|(n, _)| n.clone()).collect()
    }

    /// How many exchanges (companions included) are served.
    pub fn exchanges(&self) -> usize {
        self.shared.entries.len()
    }

    /// A target's base URL: `http://127.0.0.1:PORT/<target><base path>`, or its base path alone
    /// when that already begins with `/<target>` (a dialect of the embedded gateway,
    /// `/openai/v1`: served there as well, and not doubled).
    pub fn base_url_for(&self, target: &str) -> Option<String> {
        let i = self.shared.targets.iter().position(|(n, _)| n == target)?;
        Some(format!(
            "http://{}{}",
            self.addr,
            self.shared.served_base(i)
        ))
    }

    /// With one target only, its base URL at the root: `http://127.0.0.1:PORT<base path>`.
    pub fn base_url(&self) -> Option<String> {
        match self.shared.targets.as_slice() {
            [(_, base)] => Some(format!("http://{}{base}", self.addr)),
            _ => None,
        }
    }

    /// Stops accepting, lets responses in flight finish (held ones are cut at once), and
    /// returns when the server is down, after at most a few seconds.
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

#[derive(Debug)]
struct Shared {
    /// `(name, base path)` per target.
    targets: Vec<(String, String)>,
    entries: Vec<Entry>,
    /// For each set of equal recordings (by entry indices), which one answers next.
    turns: Mutex<HashMap<Vec<usize>, usize>>,
    shutdown: ShutdownSignal,
}

/// One recorded exchange, ready to be matched.
#[derive(Debug)]
struct Entry {
    target: usize,
    case: String,
    body: RequestBody,
    /// The recorded request headers that tell equal bodies apart (lower-case names).
    headers: Vec<(String, String)>,
    /// The request carried a key (valid or not).
    keyed: bool,
    /// `request.url` is the path relative to the base URL.
    exchange: Exchange,
}

#[derive(Debug, PartialEq)]
enum RequestBody {
    Json(Value),
    Bytes(Vec<u8>),
}

impl RequestBody {
    fn of(bytes: &[u8]) -> Self {
        match serde_json::from_slice(bytes) {
            Ok(v) => RequestBody::Json(v),
            Err(_) => RequestBody::Bytes(bytes.to_vec()),
        }
    }
}

fn distinguishing(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .filter(|(k, _)| !INCIDENTAL_HEADERS.contains(&k.as_str()))
        .collect()
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    request: Request,
) -> Response {
    let t0 = Instant::now();
    let method = request.method().as_str().to_owned();
    let full = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return ApiError::body_too_large(MAX_BODY_BYTES).into_response();
    };
    let asked = Asked {
        method,
        routes: shared.routes(&full),
        body: RequestBody::of(&body),
        keyed: headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization")),
        headers: distinguishing(&headers),
    };
    match shared.pick(&asked) {
        Some(i) => {
            serve(
                &shared.entries[i].exchange,
                t0,
                shared.shutdown.clone(),
                conn,
            )
            .await
        }
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            shared.unmatched(&asked, &full),
            None,
            Some("no_recording"),
        )
        .into_response(),
    }
}

/// A request, as matching sees it.
/// Whether a base path begins with `/<name>` (`/openai/v1` for the target `openai`).
fn names_itself(name: &str, base: &str) -> bool {
    base.strip_prefix('/')
        .and_then(|b| b.strip_prefix(name))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

struct Asked {
    method: String,
    /// `(target, path relative to its base URL)` for each target the path can belong to.
    routes: Vec<(usize, String)>,
    body: RequestBody,
    keyed: bool,
    headers: Vec<(String, String)>,
}

impl Shared {
    /// Where a path can belong: below `/<target><base>` for each target, and below `<base>` when
    /// there is one target only or the base begins with the target's name.
    fn routes(&self, full: &str) -> Vec<(usize, String)> {
        let below = |prefix: &str| {
            let rest = full.strip_prefix(prefix)?;
            (rest.is_empty() || rest.starts_with(['/', '?'])).then(|| rest.to_owned())
        };
        let mut out: Vec<(usize, String)> = self
            .targets
            .iter()
            .enumerate()
            .filter_map(|(i, (name, base))| Some((i, below(&format!("/{name}{base}"))?)))
            .collect();
        let alone = self.targets.len() == 1;
        for (i, (name, base)) in self.targets.iter().enumerate() {
            if (alone || names_itself(name, base))
                && let Some(rest) = below(base)
            {
                out.push((i, rest));
            }
        }
        out
    }

    /// The recording that answers, taking turns among equal ones.
    fn pick(&self, asked: &Asked) -> Option<usize> {
        let equal: Vec<usize> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.exchange
                    .request
                    .method
                    .eq_ignore_ascii_case(&asked.method)
                    && asked
                        .routes
                        .iter()
                        .any(|(t, path)| *t == e.target && *path == e.exchange.request.url)
                    && e.body == asked.body
            })
            .map(|(i, _)| i)
            .collect();
        let fitting: Vec<usize> = equal
            .iter()
            .copied()
            .filter(|&i| {
                let e = &self.entries[i];
                e.keyed == asked.keyed && e.headers.iter().all(|h| asked.headers.contains(h))
            })
            .collect();
        let group = if fitting.is_empty() { equal } else { fitting };
        if group.len() <= 1 {
            return group.first().copied();
        }
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        let turn = turns.entry(group.clone()).or_insert(0);
        let pick = group[*turn % group.len()];
        *turn += 1;
        Some(pick)
    }

    /// The 404's message: what was asked, and the nearest recorded request.
    fn unmatched(&self, asked: &Asked, full: &str) -> String {
        let mut message = format!("No recorded exchange answers {} {full}", asked.method);
        let nearest = self.entries.iter().min_by_key(|e| {
            let path = self.url_of(e);
            (
                !e.exchange
                    .request
                    .method
                    .eq_ignore_ascii_case(&asked.method),
                edit_distance(&path, full),
            )
        });
        let Some(e) = nearest else {
            message.push_str(" (the recording holds no exchange).");
            return message;
        };
        let path = self.url_of(e);
        message.push_str(&format!(
            "; the nearest recorded request is {} {path} (case `{}`)",
            e.exchange.request.method, e.case
        ));
        if path == full
            && e.exchange
                .request
                .method
                .eq_ignore_ascii_case(&asked.method)
        {
            message.push_str(&match (&e.body, &asked.body) {
                (RequestBody::Json(Value::Object(a)), RequestBody::Json(Value::Object(b))) => {
                    let mut keys: Vec<&String> = a
                        .keys()
                        .chain(b.keys())
                        .filter(|k| a.get(*k) != b.get(*k))
                        .collect();
                    keys.sort();
                    keys.dedup();
                    let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
                    format!(", whose body differs in {}", keys.join(", "))
                }
                _ => ", whose body differs".to_owned(),
            });
        }
        message.push('.');
        message
    }

    /// The path a recording is served at.
    fn url_of(&self, e: &Entry) -> String {
        format!("{}{}", self.served_base(e.target), e.exchange.request.url)
    }

    /// Where a target's base URL is served: `/<target><base path>`, or the base path alone when
    /// it begins with `/<target>`.
    fn served_base(&self, target: usize) -> String {
        let (name, base) = &self.targets[target];
        if names_itself(name, base) {
            base.clone()
        } else {
            format!("/{name}{base}")
        }
    }
}

/// Levenshtein distance over bytes (paths are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Plays one recorded exchange back, on its recorded clock from `t0`.
async fn serve(
    ex: &Exchange,
    t0: Instant,
    mut shutdown: ShutdownSignal,
    conn: ConnHandle,
) -> Response {
    let failure = ex.transport_error().map(|e| e.kind);
    let Some(head) = &ex.response else {
        // No head ever came: hold for a timeout, else break the connection when it broke.
        if failure == Some(TransportErrorKind::Timeout) {
            shutdown.wait().await;
        } else {
            wait_until(&mut shutdown, t0 + ex.timing.total).await;
        }
        conn.reset();
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if !wait_until(&mut shutdown, t0 + ex.timing.headers.unwrap_or_default()).await {
        conn.reset();
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let whole = ex.end == End::Complete && ex.received == ex.body.len() as u64;
    let pieces: Vec<(Duration, Bytes)> = ex
        .reads
        .iter()
        .map(|r| {
            let end = (r.offset + r.len).min(ex.body.len());
            (
                r.at,
                Bytes::copy_from_slice(&ex.body[r.offset.min(end)..end]),
            )
        })
        .collect();
    let body = played_body(pieces, t0, failure.filter(|_| !whole), shutdown, conn);
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(head.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in &head.headers {
        if HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str()) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (
            HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            response.headers_mut().append(k, v);
        }
    }
    let had_length = head
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    if whole && had_length {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(ex.body.len()));
    }
    response
}

/// Sleeps until `at`; `false` when shutdown began first.
async fn wait_until(shutdown: &mut ShutdownSignal, at: Instant) -> bool {
    shutdown
        .sleep(at.saturating_duration_since(Instant::now()))
        .await
}

/// A body that yields each piece at its time after `t0`, then ends as the recording did: a
/// timeout holds (until shutdown), another failure resets the connection once the bytes before
/// it have left.
fn played_body(
    pieces: Vec<(Duration, Bytes)>,
    t0: Instant,
    failure: Option<TransportErrorKind>,
    shutdown: ShutdownSignal,
    conn: ConnHandle,
) -> Body {
    struct Play {
        pieces: std::vec::IntoIter<(Duration, Bytes)>,
        failure: Option<TransportErrorKind>,
        shutdown: ShutdownSignal,
        conn: ConnHandle,
        done: bool,
    }
    let cut = |conn: &ConnHandle| {
        conn.reset();
        io::Error::new(io::ErrorKind::ConnectionAborted, "replayed failure")
    };
    let state = Play {
        pieces: pieces.into_iter(),
        failure,
        shutdown,
        conn,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, move |mut s| async move {
        if s.done {
            return None;
        }
        if let Some((at, bytes)) = s.pieces.next() {
            if !wait_until(&mut s.shutdown, t0 + at).await {
                s.done = true;
                return Some((Err(cut(&s.conn)), s));
            }
            return Some((Ok(bytes), s));
        }
        s.done = true;
        match s.failure {
            None => None,
            Some(TransportErrorKind::Timeout) => {
                s.shutdown.wait().await;
                Some((Err(cut(&s.conn)), s))
            }
            Some(_) => {
                // What was yielded may still sit in hyper's buffer: let it out first.
                let flushed = s.conn.next_flush();
                tokio::select! {
                    () = flushed => {}
                    () = s.shutdown.wait() => {}
                }
                Some((Err(cut(&s.conn)), s))
            }
        }
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_compared_by_edit_distance() {
        assert_eq!(
            edit_distance("/v1/chat/completions", "/v1/chat/completions"),
            0
        );
        assert_eq!(edit_distance("/v1/models", "/v1/model"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn json_bodies_compare_as_values() {
        assert_eq!(
            RequestBody::of(br#"{"a":1,"b":[2]}"#),
            RequestBody::of(b" { \"b\" : [2], \"a\": 1 } ")
        );
        assert_ne!(RequestBody::of(b"{\"a\":1"), RequestBody::of(b"{\"a\":1 "));
    }
}
