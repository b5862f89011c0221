//! An HTTP exchange as recorded by the transport: the request as sent (without secrets), the
//! response head, the body's raw bytes with the time each network read arrived, and how the
//! exchange ended. Checks see the whole exchange; streams are judged from these same bytes.

use std::time::Duration;

/// The request as it went on the wire, minus secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    /// Lower-case names; `authorization` is shown as `Bearer [redacted]`.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Status and headers of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// Lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
}

/// One network read of the body: where its bytes sit in `Exchange::body` and when they arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub offset: usize,
    pub len: usize,
    /// Since the request was sent.
    pub at: Duration,
}

/// When things happened, measured from the moment the request was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    pub headers: Option<Duration>,
    pub first_byte: Option<Duration>,
    pub total: Duration,
}

/// How the exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The whole body arrived.
    Complete,
    /// The transport failed; what arrived before is kept.
    Failed(TransportError),
}

/// A transport failure: the run could not tell, so the case errors rather than fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// Refused, unreachable, DNS, TLS handshake.
    Connect,
    /// A deadline passed (connect, headers, a gap between reads, or the whole exchange).
    Timeout,
    /// The connection broke after it was established.
    Reset,
    /// The body grew past the configured cap.
    BodyTooLarge,
    /// A bound the judge enforces (events, gap between events) was hit.
    Limit,
    /// Anything else the HTTP client reported.
    Other,
}

impl TransportErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Reset => "reset",
            TransportErrorKind::BodyTooLarge => "body too large",
            TransportErrorKind::Limit => "limit",
            TransportErrorKind::Other => "transport",
        }
    }
}

/// Everything recorded about one request and its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub request: SentRequest,
    /// `None` when no response head arrived.
    pub response: Option<ResponseHead>,
    /// The body as received, up to the transport's keep cap (a long stream is judged as it
    /// arrives and only its beginning is kept).
    pub body: Vec<u8>,
    /// Every byte received, kept or not.
    pub received: u64,
    pub reads: Vec<Read>,
    pub timing: Timing,
    pub end: End,
}

impl Exchange {
    /// A completed exchange from literal parts (tests, fixtures, replay).
    pub fn from_parts(
        request: SentRequest,
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Self {
        let len = body.len();
        Exchange {
            request,
            response: Some(ResponseHead {
                status,
                headers: headers
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect(),
            }),
            reads: if len == 0 {
                Vec::new()
            } else {
                vec![Read {
                    offset: 0,
                    len,
                    at: Duration::ZERO,
                }]
            },
            received: len as u64,
            body,
            timing: Timing::default(),
            end: End::Complete,
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// The first value of a response header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response
            .as_ref()?
            .headers
            .iter()
            .find_map(|(k, v)| k.eq_ignore_ascii_case(name).then_some(v.as_str()))
    }

    /// The media type of the response, lower-case, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    pub fn transport_error(&self) -> Option<&TransportError> {
        match &self.end {
            End::Failed(e) => Some(e),
            End::Complete => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SentRequest {
        SentRequest {
            method: "GET".into(),
            url: "http://127.0.0.1/v1/models".into(),
            headers: vec![],
            body: vec![],
        }
    }

    #[test]
    fn headers_are_case_insensitive_and_media_type_drops_parameters() {
        let ex = Exchange::from_parts(
            request(),
            200,
            vec![(
                "Content-Type".into(),
                "Application/JSON; charset=utf-8".into(),
            )],
            b"{}".to_vec(),
        );
        assert_eq!(
            ex.header("content-type"),
            Some("Application/JSON; charset=utf-8")
        );
        assert_eq!(ex.media_type().as_deref(), Some("application/json"));
        assert_eq!(
            ex.reads,
            vec![Read {
                offset: 0,
                len: 2,
                at: Duration::ZERO
            }]
        );
    }
}
