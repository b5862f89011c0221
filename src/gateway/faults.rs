//! Fault injection for the harness's own tests: a request header `x-gatecheck-fault: NAME`
//! (checked after auth) makes the gateway misbehave in one named, reproducible way.
//!
//! Faults act at one of three points: instead of the handler (error statuses, stall, reset),
//! on the handler's response (content type, stalled or padded body), or inside the chat
//! handler (`sse_for_json`; stream faults rewrite the SSE frames in [`Fault::rewrite_frames`]).

use std::fmt;
use std::io;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::Shared;
use super::conn::ConnHandle;
use super::errors::ApiError;
use super::stream::Frame;

/// The request header that selects a fault.
pub(crate) const FAULT_HEADER: &str = "x-gatecheck-fault";
/// How long `stall` and `stall_body` wait (or until the server shuts down).
const STALL: Duration = Duration::from_secs(3600);
/// Whitespace before the JSON body under `huge_body`.
const HUGE_PADDING_BYTES: usize = 64 << 20;
/// Padding is sent in chunks of this size, one buffer shared by all of them.
const PADDING_CHUNK_BYTES: usize = 64 << 10;

/// Every fault the gateway can inject, named as in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// 429 `rate_limit_exceeded` with `retry-after` and `x-ratelimit-*` headers.
    RateLimit,
    /// 500 `server_error`.
    ServerError,
    /// 503 `server_error` with `retry-after`.
    Overloaded,
    /// No status line for an hour: the client's first-byte timeout must fire.
    Stall,
    /// Status and headers at once, then no body for an hour.
    StallBody,
    /// The normal body with `Content-Type: text/plain`.
    WrongContentType,
    /// A non-stream chat completion answered as an SSE stream.
    SseForJson,
    /// The TCP connection closed (RST) without any response.
    Reset,
    /// 64 MiB of whitespace, then the normal JSON body (streamed).
    HugeBody,
}

impl Fault {
    pub(crate) const ALL: [Fault; 9] = [
        Fault::RateLimit,
        Fault::ServerError,
        Fault::Overloaded,
        Fault::Stall,
        Fault::StallBody,
        Fault::WrongContentType,
        Fault::SseForJson,
        Fault::Reset,
        Fault::HugeBody,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Fault::RateLimit => "rate_limit",
            Fault::ServerError => "server_error",
            Fault::Overloaded => "overloaded",
            Fault::Stall => "stall",
            Fault::StallBody => "stall_body",
            Fault::WrongContentType => "wrong_content_type",
            Fault::SseForJson => "sse_for_json",
            Fault::Reset => "reset",
            Fault::HugeBody => "huge_body",
        }
    }

    /// Rewrites the SSE frames of a streamed answer. No current fault touches them; stream
    /// faults (truncation, mid-stream drop, CRLF, keep-alive comments) go here, and the
    /// exhaustive match makes each new fault decide.
    pub(crate) fn rewrite_frames(self, frames: Vec<Frame>) -> Vec<Frame> {
        match self {
            Fault::RateLimit
            | Fault::ServerError
            | Fault::Overloaded
            | Fault::Stall
            | Fault::StallBody
            | Fault::WrongContentType
            | Fault::SseForJson
            | Fault::Reset
            | Fault::HugeBody => frames,
        }
    }
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
            .into_iter()
            .find(|fault| fault.name() == name)
            .ok_or_else(|| UnknownFault(name.to_owned()))
    }
}

/// Middleware (inside auth): applies the fault the request names, if any. An unknown name is a
/// 400, so that a typo in a test fails loudly instead of testing nothing.
pub(crate) async fn inject(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(value) = request.headers().get(FAULT_HEADER) else {
        return next.run(request).await;
    };
    let name = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
    let fault = match name.parse::<Fault>() {
        Ok(fault) => fault,
        Err(UnknownFault(name)) => {
            let known: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
            return ApiError::unknown_fault(&name, &known).into_response();
        }
    };
    let conn = request
        .extensions()
        .get::<ConnectInfo<ConnHandle>>()
        .map(|info| info.0.clone());
    match fault {
        Fault::RateLimit => ApiError::rate_limited().into_response(),
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
        Fault::StallBody | Fault::WrongContentType | Fault::SseForJson | Fault::HugeBody => {
            request.extensions_mut().insert(fault);
            let response = next.run(request).await;
            match fault {
                Fault::WrongContentType => with_plain_text_type(response),
                Fault::StallBody => with_stalled_body(response, &shared, conn),
                Fault::HugeBody => with_padded_body(response),
                _ => response,
            }
        }
    }
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
        for fault in Fault::ALL {
            assert_eq!(fault.name().parse::<Fault>(), Ok(fault));
            assert_eq!(fault.to_string(), fault.name());
        }
        assert_eq!(
            "nope".parse::<Fault>(),
            Err(UnknownFault("nope".to_owned()))
        );
    }

    #[test]
    fn padding_is_exactly_64_mib() {
        assert_eq!(HUGE_PADDING_BYTES % PADDING_CHUNK_BYTES, 0);
        assert_eq!(HUGE_PADDING_BYTES, 64 * 1024 * 1024);
    }
}
