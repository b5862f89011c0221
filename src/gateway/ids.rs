//! Identifiers the gateway hands out (`req_...`, `chatcmpl-...`, `call_...`, and the dialects'
//! `gen-...`, `resp_...`, `msg_...`): counter-based, so a fresh server gives the same sequence
//! every time, yet shaped like the real ones.

use std::sync::atomic::{AtomicU64, Ordering};

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// The ten digits of a `gen-` id start just above this (and stay ten digits).
const GENERATION_EPOCH: u64 = 1_700_000_000;

/// One counter per kind of id; each starts at 1 when the server starts.
#[derive(Debug, Default)]
pub(crate) struct IdCounters {
    requests: AtomicU64,
    completions: AtomicU64,
    tool_calls: AtomicU64,
    responses: AtomicU64,
}

impl IdCounters {
    /// `req_` and 32 hex digits, as in OpenAI's `x-request-id`.
    pub(crate) fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        format!("req_{n:032x}")
    }

    /// `chatcmpl-` and 29 alphanumerics.
    pub(crate) fn next_completion_id(&self) -> String {
        let n = self.completions.fetch_add(1, Ordering::Relaxed) + 1;
        format!("chatcmpl-{}", alphanumeric(n, 0x6368_6174, 29))
    }

    /// ml-router's shape (doc 001: `gen-1234567890-abcdef`): `gen-`, ten digits counting up
    /// from 1700000001 (they read like the Unix time they are in the real gateway's ids), `-`
    /// and 20 alphanumerics. Shares the counter of `chatcmpl-` ids: both name a completion.
    pub(crate) fn next_generation_id(&self) -> String {
        let n = self.completions.fetch_add(1, Ordering::Relaxed) + 1;
        format!(
            "gen-{}-{}",
            GENERATION_EPOCH + n % GENERATION_EPOCH,
            alphanumeric(n, 0x6765_6e00, 20)
        )
    }

    /// A Responses API answer's ids: `resp_` and `msg_`, each with 48 hex digits, as OpenAI's.
    pub(crate) fn next_response_ids(&self) -> (String, String) {
        let n = self.responses.fetch_add(1, Ordering::Relaxed) + 1;
        (
            format!("resp_{}", hex(n, 0x7265_7370, 48)),
            format!("msg_{}", hex(n, 0x6d73_6700, 48)),
        )
    }

    /// `call_` and 24 alphanumerics.
    pub(crate) fn next_tool_call_id(&self) -> String {
        let n = self.tool_calls.fetch_add(1, Ordering::Relaxed) + 1;
        format!("call_{}", alphanumeric(n, 0x6361_6c6c, 24))
    }
}

/// `len` alphanumerics drawn from a splitmix64 sequence seeded by `counter` and `salt`: distinct
/// counters give distinct-looking ids without any randomness.
pub(crate) fn alphanumeric(counter: u64, salt: u64, len: usize) -> String {
    let mut state = counter.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    (0..len)
        .map(|_| {
            let word = splitmix64(&mut state);
            // 62 does not divide 2^64: the bias (< 2^-58) is irrelevant for ids.
            char::from(ALPHANUMERIC[(word % 62) as usize])
        })
        .collect()
}

/// `len` lowercase hex digits, drawn like [`alphanumeric`].
fn hex(counter: u64, salt: u64, len: usize) -> String {
    let mut state = counter.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[(splitmix64(&mut state) % 16) as usize]))
        .collect()
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_openai_shapes() {
        let ids = IdCounters::default();
        assert_eq!(
            ids.next_request_id(),
            "req_00000000000000000000000000000001"
        );
        let completion = ids.next_completion_id();
        assert_eq!(completion.len(), "chatcmpl-".len() + 29);
        let call = ids.next_tool_call_id();
        assert!(call.starts_with("call_"));
        assert_eq!(call.len(), 5 + 24);
        assert!(call[5..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn dialect_ids_have_their_documented_shapes() {
        let ids = IdCounters::default();
        let generation = ids.next_generation_id();
        let tail = generation
            .strip_prefix("gen-1700000001-")
            .unwrap_or_else(|| panic!("{generation}"));
        assert_eq!(tail.len(), 20);
        assert!(tail.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(ids.next_generation_id().starts_with("gen-1700000002-"));
        let (response, message) = ids.next_response_ids();
        assert_eq!(response.len(), 5 + 48);
        assert!(response.starts_with("resp_") && message.starts_with("msg_"));
        assert!(message[4..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(ids.next_response_ids().0, response);
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let a = IdCounters::default();
        let b = IdCounters::default();
        let first = a.next_tool_call_id();
        assert_eq!(first, b.next_tool_call_id());
        assert_ne!(first, a.next_tool_call_id());
    }
}
