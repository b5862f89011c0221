//! HTTP on the wire: the only module that imports reqwest. Sends a planned request and records
//! the exchange (raw body bytes with the arrival time of each read), within bounds: a connect
//! timeout, a deadline for the whole exchange, and a cap on the body size. A misbehaving server
//! yields a recorded failure, never a hang.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::config::Target;
use crate::exchange::{
    End, Exchange, Read, ResponseHead, SentRequest, Timing, TransportError, TransportErrorKind,
};
use crate::plan::PlannedRequest;
use crate::suite::{Auth, Method};

/// A key no server accepts, for `auth: invalid` probes. Not a secret.
pub const INVALID_KEY: &str = "sk-gatecheck-invalid-0000000000000000000000000000";

/// Bounds on one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub connect: Duration,
    /// From sending the request to the last byte of the body.
    pub total: Duration,
    /// At most this long without a single byte (after the response head).
    pub max_gap: Duration,
    /// A non-stream body larger than this is an error.
    pub max_body_bytes: usize,
    /// A stream larger than this is an error; below it, only `max_body_bytes` are kept.
    pub max_stream_bytes: u64,
}

impl Limits {
    /// Generous defaults, for tests and tools.
    pub fn default_for_tests() -> Self {
        Limits {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(30),
            max_gap: Duration::from_secs(10),
            max_body_bytes: 16 << 20,
            max_stream_bytes: 256 << 20,
        }
    }
}

/// Watches a body as it arrives (the stream judge). Returning an error stops reading.
pub trait Observer: Send {
    fn on_read(&mut self, bytes: &[u8], at: Duration) -> Result<(), String>;
}

/// A reusable HTTP client (connection pool shared by all cases).
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    limits: Limits,
}

impl Transport {
    pub fn new(limits: Limits) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(limits.connect)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("gatecheck/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("failed to build the HTTP client: {e}"))?;
        Ok(Transport { client, limits })
    }

    /// Sends the request and records everything that comes back.
    pub async fn send(&self, request: &PlannedRequest, target: &Target) -> Exchange {
        self.send_observed(request, target, None).await
    }

    /// Sends the request; an observer sees every read of the body as it arrives (for streams,
    /// which are then judged in bounded memory and may outgrow what is kept).
    pub async fn send_observed(
        &self,
        request: &PlannedRequest,
        target: &Target,
        mut observer: Option<&mut dyn Observer>,
    ) -> Exchange {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, &request.url);
        let mut shown_headers: Vec<(String, String)> = Vec::new();
        let key = match request.auth {
            Auth::Key => target.api_key.as_ref().map(|k| k.expose().to_owned()),
            Auth::Invalid => Some(INVALID_KEY.to_owned()),
            Auth::None => None,
        };
        let secret = target.api_key.as_ref().map(|k| k.expose());
        if let Some(key) = key {
            // Where the target's profile says the key goes (`Authorization: Bearer` unless it
            // documents another header, such as `api-key` with no scheme).
            let (header, scheme) = crate::profile::get(&target.profile).map_or_else(
                || ("authorization".to_owned(), "Bearer".to_owned()),
                |p| (p.auth.header.to_ascii_lowercase(), p.auth.scheme.clone()),
            );
            let (value, shown) = if scheme.is_empty() {
                (key, "[redacted]".to_owned())
            } else {
                (format!("{scheme} {key}"), format!("{scheme} [redacted]"))
            };
            builder = builder.header(header.as_str(), value);
            shown_headers.push((header, shown));
        }
        let has_content_type = request
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if request.body.is_some() && !has_content_type {
            builder = builder.header("content-type", "application/json");
            shown_headers.push(("content-type".into(), "application/json".into()));
        }
        for (k, v) in &request.headers {
            builder = builder.header(k.as_str(), v.as_str());
            shown_headers.push((k.to_ascii_lowercase(), v.clone()));
        }
        let body = request.body.clone().unwrap_or_default();
        if request.body.is_some() {
            builder = builder.body(body.clone());
        }
        let sent = SentRequest {
            method: request.method.as_str().to_owned(),
            url: request.url.clone(),
            headers: shown_headers,
            body,
        };

        let start = Instant::now();
        let deadline = tokio::time::Instant::from_std(start + self.limits.total);
        let mut ex = Exchange {
            request: sent,
            response: None,
            received: 0,
            body: Vec::new(),
            reads: Vec::new(),
            timing: Timing::default(),
            end: End::Complete,
        };
        let response = match tokio::time::timeout_at(deadline, builder.send()).await {
            Err(_) => {
                return finish(
                    ex,
                    start,
                    fail(
                        TransportErrorKind::Timeout,
                        format!("no response head within {}", secs(self.limits.total)),
                    ),
                    secret,
                );
            }
            Ok(Err(e)) => return finish(ex, start, classify(&e), secret),
            Ok(Ok(r)) => r,
        };
        ex.timing.headers = Some(start.elapsed());
        ex.response = Some(ResponseHead {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        });
        let streaming = observer.is_some();
        let mut stream = response.bytes_stream();
        loop {
            let gap_deadline = tokio::time::Instant::now() + self.limits.max_gap;
            let wait = gap_deadline.min(deadline);
            match tokio::time::timeout_at(wait, stream.next()).await {
                Err(_) => {
                    let message = if wait == deadline {
                        format!(
                            "the body did not complete within {} ({} bytes received)",
                            secs(self.limits.total),
                            ex.received
                        )
                    } else {
                        format!(
                            "no byte for {} (the server stalled after {} bytes)",
                            secs(self.limits.max_gap),
                            ex.received
                        )
                    };
                    return finish(
                        ex,
                        start,
                        fail(TransportErrorKind::Timeout, message),
                        secret,
                    );
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => return finish(ex, start, classify(&e), secret),
                Ok(Some(Ok(chunk))) => {
                    let at = start.elapsed();
                    if ex.timing.first_byte.is_none() {
                        ex.timing.first_byte = Some(at);
                    }
                    ex.received += chunk.len() as u64;
                    if !streaming && ex.received > self.limits.max_body_bytes as u64 {
                        let e = fail(
                            TransportErrorKind::BodyTooLarge,
                            format!(
                                "the body exceeded the cap of {} bytes",
                                self.limits.max_body_bytes
                            ),
                        );
                        return finish(ex, start, e, secret);
                    }
                    if streaming && ex.received > self.limits.max_stream_bytes {
                        let e = fail(
                            TransportErrorKind::BodyTooLarge,
                            format!(
                                "the stream exceeded the cap of {} bytes",
                                self.limits.max_stream_bytes
                            ),
                        );
                        return finish(ex, start, e, secret);
                    }
                    let room = self.limits.max_body_bytes.saturating_sub(ex.body.len());
                    let kept = chunk.len().min(room);
                    if kept > 0 {
                        ex.reads.push(Read {
                            offset: ex.body.len(),
                            len: kept,
                            at,
                        });
                        ex.body.extend_from_slice(&chunk[..kept]);
                    }
                    if let Some(o) = observer.as_deref_mut()
                        && let Err(reason) = o.on_read(&chunk, at)
                    {
                        return finish(ex, start, fail(TransportErrorKind::Limit, reason), secret);
                    }
                }
            }
        }
        finish(ex, start, End::Complete, secret)
    }
}

fn finish(mut ex: Exchange, start: Instant, end: End, key: Option<&str>) -> Exchange {
    ex.timing.total = start.elapsed();
    ex.end = end;
    if let Some(key) = key {
        scrub(&mut ex, key);
    }
    ex
}

/// Replaces every occurrence of the key the server echoed back (in an error message, a
/// debugging header) with `[redacted]`, so that no later stage, report or snapshot holds it,
/// not even cut in half by a truncated message.
fn scrub(ex: &mut Exchange, key: &str) {
    const MASK: &[u8] = b"[redacted]";
    let needle = key.as_bytes();
    if needle.len() < 8 {
        return;
    }
    if ex.body.windows(needle.len()).any(|w| w == needle) {
        let mut out = Vec::with_capacity(ex.body.len());
        let mut i = 0;
        while i < ex.body.len() {
            if ex.body[i..].starts_with(needle) {
                out.extend_from_slice(MASK);
                i += needle.len();
            } else {
                out.push(ex.body[i]);
                i += 1;
            }
        }
        // Reads keep their arrival times; the last one absorbs the length change.
        let delta = out.len() as isize - ex.body.len() as isize;
        if let Some(last) = ex.reads.last_mut() {
            last.len = (last.len as isize + delta).max(0) as usize;
        }
        ex.body = out;
    }
    if let Some(head) = &mut ex.response {
        for (_, v) in &mut head.headers {
            if v.contains(key) {
                *v = v.replace(key, "[redacted]");
            }
        }
    }
}

fn fail(kind: TransportErrorKind, message: String) -> End {
    End::Failed(TransportError { kind, message })
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Maps a reqwest error to a kind and a message naming its root cause (without the URL).
fn classify(e: &reqwest::Error) -> End {
    let kind = if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_body() || e.is_decode() || e.is_request() {
        TransportErrorKind::Reset
    } else {
        TransportErrorKind::Other
    };
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = s.to_string();
        source = s.source();
    }
    fail(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(base: &str) -> Target {
        Target {
            name: "t".into(),
            base_url: base.into(),
            api_key_env: "K".into(),
            api_key: Some(crate::config::Secret::new("sk-test-secret")),
            headers: vec![],
            profile: "openai".into(),
            models: vec!["m".into()],
            concurrency: None,
            rate_limit: None,
            extra_capabilities: Vec::new(),
        }
    }

    fn request(url: String) -> PlannedRequest {
        PlannedRequest {
            method: Method::Post,
            path: "/chat/completions".into(),
            url,
            headers: vec![("X-Extra".into(), "1".into())],
            auth: Auth::Key,
            body: Some(b"{}".to_vec()),
            json: None,
        }
    }

    fn limits() -> Limits {
        Limits {
            connect: Duration::from_secs(2),
            total: Duration::from_millis(500),
            max_gap: Duration::from_millis(400),
            max_body_bytes: 1024,
            max_stream_bytes: 4096,
        }
    }

    #[tokio::test]
    async fn records_status_headers_body_and_hides_the_key() {
        use wiremock::matchers::{header, method};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header("authorization", "Bearer sk-test-secret"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw("{\"ok\":true}", "application/json"),
            )
            .mount(&server)
            .await;
        let t = Transport::new(limits()).unwrap();
        let ex = t
            .send(
                &request(format!("{}/v1/chat/completions", server.uri())),
                &target(""),
            )
            .await;
        assert_eq!(ex.status(), Some(200));
        assert_eq!(ex.body, b"{\"ok\":true}");
        assert_eq!(ex.end, End::Complete);
        assert!(ex.timing.headers.is_some() && ex.timing.first_byte.is_some());
        let shown = format!("{:?}", ex.request);
        assert!(!shown.contains("sk-test-secret"), "{shown}");
        assert!(shown.contains("Bearer [redacted]"));
    }

    #[tokio::test]
    async fn refused_connections_are_connect_errors() {
        let t = Transport::new(limits()).unwrap();
        // Bind then drop to find a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ex = t
            .send(
                &request(format!("http://127.0.0.1:{port}/v1/chat/completions")),
                &target(""),
            )
            .await;
        assert!(ex.response.is_none());
        assert_eq!(
            ex.transport_error().unwrap().kind,
            TransportErrorKind::Connect
        );
    }

    #[tokio::test]
    async fn slow_servers_time_out_and_big_bodies_are_capped() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let t = Transport::new(limits()).unwrap();
        let started = Instant::now();
        let ex = t
            .send(
                &request(format!("{}/v1/chat/completions", server.uri())),
                &target(""),
            )
            .await;
        assert_eq!(
            ex.transport_error().unwrap().kind,
            TransportErrorKind::Timeout
        );
        assert!(started.elapsed() < Duration::from_secs(3));

        let big = MockServer::start().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(vec![b' '; 4096], "application/json"),
            )
            .mount(&big)
            .await;
        let ex = t
            .send(
                &request(format!("{}/v1/chat/completions", big.uri())),
                &target(""),
            )
            .await;
        assert_eq!(
            ex.transport_error().unwrap().kind,
            TransportErrorKind::BodyTooLarge
        );
        assert!(ex.body.len() <= 1024);
    }

    #[test]
    fn an_echoed_key_is_scrubbed_from_body_and_headers() {
        let mut ex = Exchange::from_parts(
            SentRequest {
                method: "POST".into(),
                url: "u".into(),
                headers: vec![],
                body: vec![],
            },
            401,
            vec![("x-debug".into(), "key=sk-echo-123456789".into())],
            br#"{"error":{"message":"Incorrect API key provided: sk-echo-123456789."}}"#.to_vec(),
        );
        scrub(&mut ex, "sk-echo-123456789");
        assert_eq!(
            ex.body,
            br#"{"error":{"message":"Incorrect API key provided: [redacted]."}}"#
        );
        assert_eq!(ex.reads[0].len, ex.body.len());
        assert_eq!(ex.header("x-debug"), Some("key=[redacted]"));
    }
}
