//! SSE encoding of a generation, exactly as OpenAI streams it: `chat.completion.chunk`
//! objects (role chunk, one chunk per token or argument piece, finish chunk, per choice,
//! interleaved), the optional usage trailer, `data: [DONE]`, paced by `chunk_delay`.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header::CONTENT_TYPE};
use axum::response::Response;
use serde_json::{Value, json};

use super::ShutdownSignal;
use super::conn::ConnHandle;
use super::model::{Choice, Generation, Output, ToolCall, token_pieces};
use super::response::{Envelope, SERVICE_TIER, SYSTEM_FINGERPRINT, logprobs_object, usage};

/// Characters of tool-call arguments per chunk (OpenAI sends a few tokens at a time).
const ARGUMENT_PIECE_CHARS: usize = 8;

/// One unit of the wire stream. Stream faults rewrite a `Vec<Frame>` before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// Bytes written as they are (one whole SSE event, normally), after the pacing pause.
    Bytes(Bytes),
    /// Bytes written right after the previous frame, with no pause: more of the same event
    /// (a huge event is sent as many pieces of one reused buffer).
    Continuation(Bytes),
    /// Nothing more until the server shuts down, then a reset: the client's gap timeout fires.
    Stall,
    /// Reset the connection here, once the bytes before it have left: the client sees the
    /// stream break off.
    Abort,
}

/// The final event of every OpenAI stream.
pub(crate) const DONE_EVENT: &[u8] = b"data: [DONE]\n\n";

/// `data: <json>\n\n`: one chunk as OpenAI frames it.
pub(crate) fn data_event(chunk: &Value) -> Bytes {
    Bytes::from(format!("data: {chunk}\n\n"))
}

/// The chunk objects of the stream, in sending order (without the `[DONE]` sentinel).
pub(crate) fn chunks(
    generation: &Generation,
    envelope: &Envelope,
    include_usage: bool,
) -> Vec<Value> {
    let per_choice: Vec<Vec<Value>> = generation
        .choices
        .iter()
        .enumerate()
        .map(|(index, choice)| choice_steps(index, choice))
        .collect();
    let longest = per_choice.iter().map(Vec::len).max().unwrap_or(0);
    let chunk = |choices: Vec<Value>| {
        let mut chunk = json!({
            "id": envelope.id,
            "object": "chat.completion.chunk",
            "created": envelope.created,
            "model": envelope.model,
            "service_tier": SERVICE_TIER,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices,
        });
        if include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    };
    // With n > 1, OpenAI sends one choice per chunk, the choices taking turns.
    let mut out = Vec::with_capacity(longest * per_choice.len() + 1);
    for step in 0..longest {
        for steps in &per_choice {
            if let Some(choice) = steps.get(step) {
                out.push(chunk(vec![choice.clone()]));
            }
        }
    }
    if include_usage {
        let mut trailer = chunk(Vec::new());
        trailer["usage"] = usage(generation);
        out.push(trailer);
    }
    out
}

/// The `choices[]` entries of one choice across its chunks: role, pieces, finish.
fn choice_steps(index: usize, choice: &Choice) -> Vec<Value> {
    let entry = |delta: Value, logprobs: Value| json!({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": null});
    let mut steps = Vec::new();
    match &choice.output {
        Output::Content { text, logprobs } => {
            steps.push(entry(
                json!({"role": "assistant", "content": "", "refusal": null}),
                Value::Null,
            ));
            for (k, piece) in token_pieces(text).into_iter().enumerate() {
                let logprobs = match logprobs {
                    Some(all) => logprobs_object(&all[k..=k]),
                    None => Value::Null,
                };
                steps.push(entry(json!({"content": piece}), logprobs));
            }
        }
        Output::ToolCalls(calls) => {
            // The role rides on the first call's identity chunk, as in OpenAI's streams.
            let role = json!({"role": "assistant", "content": null, "refusal": null});
            if calls.is_empty() {
                steps.push(entry(role.clone(), Value::Null));
            }
            for (i, call) in calls.iter().enumerate() {
                let header = json!([{
                    "index": i,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }]);
                let mut delta = if i == 0 { role.clone() } else { json!({}) };
                delta["tool_calls"] = header;
                steps.push(entry(delta, Value::Null));
                for piece in argument_pieces(call) {
                    steps.push(entry(
                        json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
                        Value::Null,
                    ));
                }
            }
        }
        Output::FunctionCall(call) => {
            steps.push(entry(
                json!({"role": "assistant", "content": null,
                    "function_call": {"name": call.name, "arguments": ""}, "refusal": null}),
                Value::Null,
            ));
            for piece in argument_pieces(call) {
                steps.push(entry(
                    json!({"function_call": {"arguments": piece}}),
                    Value::Null,
                ));
            }
        }
    }
    let mut last = entry(json!({}), Value::Null);
    last["finish_reason"] = json!(choice.finish_reason.as_str());
    steps.push(last);
    steps
}

fn argument_pieces(call: &ToolCall) -> Vec<String> {
    let chars: Vec<char> = call.arguments.chars().collect();
    chars
        .chunks(ARGUMENT_PIECE_CHARS)
        .map(|piece| piece.iter().collect())
        .collect()
}

/// `data: <json>\n\n` per chunk, then `data: [DONE]\n\n`.
pub(crate) fn frames(chunks: &[Value]) -> Vec<Frame> {
    chunks
        .iter()
        .map(|chunk| Frame::Bytes(data_event(chunk)))
        .chain(std::iter::once(Frame::Bytes(Bytes::from_static(
            DONE_EVENT,
        ))))
        .collect()
}

/// How frames are sent: the pause between them, and what stops them early.
#[derive(Debug, Clone)]
pub(crate) struct Pacing {
    pub(crate) delay: Duration,
    pub(crate) shutdown: ShutdownSignal,
    pub(crate) conn: Option<ConnHandle>,
}

/// A `200 text/event-stream` response that sends `frames` paced by `pacing`.
pub(crate) fn sse_response(frames: Vec<Frame>, pacing: Pacing) -> Response {
    let mut response = Response::new(paced_body(frames, pacing));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    response
}

/// A body that writes the frames one by one, `pacing.delay` apart (not before the first, nor
/// before a [`Frame::Continuation`]). A [`Frame::Abort`], or the server shutting down during a
/// pause or a [`Frame::Stall`], resets the connection.
pub(crate) fn paced_body(frames: Vec<Frame>, pacing: Pacing) -> Body {
    let state = (frames.into_iter(), pacing, true);
    let stream =
        futures_util::stream::unfold(state, |(mut frames, mut pacing, first)| async move {
            let frame = frames.next()?;
            let pause =
                !first && !pacing.delay.is_zero() && !matches!(frame, Frame::Continuation(_));
            if pause && !pacing.shutdown.sleep(pacing.delay).await {
                return Some((Err(cut(&pacing)), (Vec::new().into_iter(), pacing, false)));
            }
            match frame {
                Frame::Bytes(bytes) | Frame::Continuation(bytes) => {
                    Some((Ok(bytes), (frames, pacing, false)))
                }
                Frame::Stall => {
                    pacing.shutdown.wait().await;
                    Some((Err(cut(&pacing)), (Vec::new().into_iter(), pacing, false)))
                }
                Frame::Abort => {
                    if let Some(conn) = &pacing.conn {
                        // What was yielded before may still be in hyper's buffer: let it out.
                        let flushed = conn.next_flush();
                        tokio::select! {
                            () = flushed => {}
                            () = pacing.shutdown.wait() => {}
                        }
                    }
                    Some((Err(cut(&pacing)), (Vec::new().into_iter(), pacing, false)))
                }
            }
        });
    Body::from_stream(stream)
}

/// Resets the connection (when there is one) and returns the error that ends the body.
fn cut(pacing: &Pacing) -> io::Error {
    if let Some(conn) = &pacing.conn {
        conn.reset();
    }
    io::Error::new(io::ErrorKind::ConnectionAborted, "stream aborted")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::model::FinishReason;

    fn envelope() -> Envelope {
        Envelope {
            id: "chatcmpl-x".into(),
            created: 7,
            model: "m".into(),
        }
    }

    fn text(text: &str) -> Choice {
        Choice {
            output: Output::Content {
                text: text.into(),
                logprobs: None,
            },
            finish_reason: FinishReason::Stop,
        }
    }

    fn generation(choices: Vec<Choice>) -> Generation {
        Generation {
            choices,
            prompt_tokens: 5,
            completion_tokens: 2,
        }
    }

    #[test]
    fn content_stream_shape() {
        let chunks = chunks(&generation(vec![text("a b")]), &envelope(), false);
        let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(
            deltas,
            vec![
                &json!({"role": "assistant", "content": "", "refusal": null}),
                &json!({"content": "a "}),
                &json!({"content": "b"}),
                &json!({}),
            ]
        );
        let finishes: Vec<&Value> = chunks
            .iter()
            .map(|c| &c["choices"][0]["finish_reason"])
            .collect();
        assert_eq!(
            finishes,
            vec![&json!(null), &json!(null), &json!(null), &json!("stop")]
        );
        for chunk in &chunks {
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["id"], "chatcmpl-x");
            assert!(chunk.get("usage").is_none());
            assert_eq!(chunk["choices"][0]["logprobs"], Value::Null);
        }
    }

    #[test]
    fn usage_trailer_when_asked() {
        let chunks = chunks(&generation(vec![text("a")]), &envelope(), true);
        let (trailer, rest) = chunks.split_last().unwrap();
        assert!(
            rest.iter()
                .all(|c| c["usage"].is_null() && c.get("usage").is_some())
        );
        assert_eq!(trailer["choices"], json!([]));
        assert_eq!(trailer["usage"]["total_tokens"], 7);
    }

    #[test]
    fn choices_take_turns() {
        let chunks = chunks(&generation(vec![text("x"), text("x")]), &envelope(), false);
        let indices: Vec<u64> = chunks
            .iter()
            .map(|c| c["choices"][0]["index"].as_u64().unwrap())
            .collect();
        assert_eq!(indices, vec![0, 1, 0, 1, 0, 1]);
    }

    #[test]
    fn tool_calls_stream_identity_once_then_argument_pieces() {
        let call = |id: &str, name: &str, arguments: &str| ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
        };
        let choice = Choice {
            output: Output::ToolCalls(vec![
                call("call_a", "f", r#"{"city":"gatecheck"}"#),
                call("call_b", "g", "{}"),
            ]),
            finish_reason: FinishReason::ToolCalls,
        };
        let chunks = chunks(&generation(vec![choice]), &envelope(), false);
        let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(
            deltas[0],
            &json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [
                {"index": 0, "id": "call_a", "type": "function",
                 "function": {"name": "f", "arguments": ""}}]})
        );
        assert_eq!(
            deltas[1],
            &json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]})
        );
        assert_eq!(deltas[4]["tool_calls"][0]["id"], "call_b");
        assert_eq!(deltas.last().unwrap(), &&json!({}));
        let joined: String = deltas[..4]
            .iter()
            .map(|d| {
                d["tool_calls"][0]["function"]["arguments"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(joined, r#"{"city":"gatecheck"}"#);
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "tool_calls"
        );
    }

    fn pacing(delay: Duration, shutdown: ShutdownSignal) -> Pacing {
        Pacing {
            delay,
            shutdown,
            conn: None,
        }
    }

    async fn collect(body: Body) -> Vec<Result<Bytes, String>> {
        use futures_util::StreamExt;
        body.into_data_stream()
            .map(|item| item.map_err(|e| e.to_string()))
            .collect()
            .await
    }

    #[tokio::test]
    async fn abort_frame_breaks_the_body_off() {
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let frames = vec![
            Frame::Bytes(Bytes::from_static(b"a")),
            Frame::Abort,
            Frame::Bytes(Bytes::from_static(b"never")),
        ];
        let items = collect(paced_body(
            frames,
            pacing(Duration::from_millis(1), ShutdownSignal(stopped)),
        ))
        .await;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0], Ok(Bytes::from_static(b"a")));
        assert!(items[1].is_err());
    }

    #[tokio::test]
    async fn shutdown_cuts_a_paused_stream() {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let frames = vec![
            Frame::Bytes(Bytes::from_static(b"a")),
            Frame::Bytes(Bytes::from_static(b"b")),
        ];
        let body = paced_body(
            frames,
            pacing(Duration::from_secs(3600), ShutdownSignal(stopped)),
        );
        stop.send(true).unwrap();
        let items = tokio::time::timeout(Duration::from_secs(5), collect(body))
            .await
            .expect("no hour-long pause after shutdown");
        assert_eq!(items[0], Ok(Bytes::from_static(b"a")));
        assert!(items[1].is_err());
    }

    #[test]
    fn frames_end_with_done() {
        let frames = frames(&[json!({"a": 1})]);
        assert_eq!(
            frames,
            vec![
                Frame::Bytes(Bytes::from_static(b"data: {\"a\":1}\n\n")),
                Frame::Bytes(Bytes::from_static(b"data: [DONE]\n\n")),
            ]
        );
    }
}
