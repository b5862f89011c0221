//! Identifiers the gateway hands out (`req_...`, `chatcmpl-...`, `call_...`): counter-based, so
//! a fresh server gives the same sequence every time, yet shaped like OpenAI's.

use std::sync::atomic::{AtomicU64, Ordering};

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// One counter per kind of id; each starts at 1 when the server starts.
#[derive(Debug, Default)]
pub(crate) struct IdCounters {
    requests: AtomicU64,
    completions: AtomicU64,
    tool_calls: AtomicU64,
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
    fn ids_are_deterministic_and_distinct() {
        let a = IdCounters::default();
        let b = IdCounters::default();
        let first = a.next_tool_call_id();
        assert_eq!(first, b.next_tool_call_id());
        assert_ne!(first, a.next_tool_call_id());
    }
}
