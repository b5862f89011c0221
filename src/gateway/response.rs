//! JSON bodies of successful answers: `chat.completion` objects, usage, logprobs and the
//! `/v1/models` objects, plus the one helper that writes any JSON response.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header::CONTENT_TYPE};
use axum::response::Response;
use serde_json::{Value, json};

use super::model::{Choice, Generation, Output, TokenLogprob, ToolCall};

/// Fixed `created` of every served model.
const MODEL_CREATED: u64 = 1_700_000_000;
pub(crate) const SYSTEM_FINGERPRINT: &str = "fp_gatecheck";
pub(crate) const SERVICE_TIER: &str = "default";

/// What every object of one completion shares (in a stream: every chunk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) id: String,
    /// Unix seconds.
    pub(crate) created: u64,
    /// The model as requested.
    pub(crate) model: String,
}

/// A response with `Content-Type: application/json` and a compact JSON body.
pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The non-stream `chat.completion` object.
pub(crate) fn completion(generation: &Generation, envelope: &Envelope) -> Value {
    let choices: Vec<Value> = generation
        .choices
        .iter()
        .enumerate()
        .map(|(index, choice)| completion_choice(index, choice))
        .collect();
    json!({
        "id": envelope.id,
        "object": "chat.completion",
        "created": envelope.created,
        "model": envelope.model,
        "choices": choices,
        "usage": usage(generation),
        "service_tier": SERVICE_TIER,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    })
}

fn completion_choice(index: usize, choice: &Choice) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": null,
        "refusal": null,
        "annotations": [],
    });
    let mut logprobs_value = Value::Null;
    match &choice.output {
        Output::Content { text, logprobs } => {
            message["content"] = json!(text);
            if let Some(logprobs) = logprobs {
                logprobs_value = logprobs_object(logprobs);
            }
        }
        Output::ToolCalls(calls) => {
            message["tool_calls"] = calls.iter().map(tool_call).collect();
        }
        Output::FunctionCall(call) => {
            message["function_call"] = json!({"name": call.name, "arguments": call.arguments});
        }
    }
    json!({
        "index": index,
        "message": message,
        "logprobs": logprobs_value,
        "finish_reason": choice.finish_reason.as_str(),
    })
}

fn tool_call(call: &ToolCall) -> Value {
    json!({
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    })
}

/// `{"content":[..],"refusal":null}` for the given tokens.
pub(crate) fn logprobs_object(logprobs: &[TokenLogprob]) -> Value {
    let content: Vec<Value> = logprobs
        .iter()
        .map(|entry| {
            let top: Vec<Value> = entry
                .top
                .iter()
                .map(|(token, logprob)| {
                    json!({"token": token, "logprob": logprob, "bytes": token.as_bytes()})
                })
                .collect();
            json!({
                "token": entry.token,
                "logprob": entry.logprob,
                "bytes": entry.token.as_bytes(),
                "top_logprobs": top,
            })
        })
        .collect();
    json!({"content": content, "refusal": null})
}

/// The usage object, details included; `total_tokens` is always the sum.
pub(crate) fn usage(generation: &Generation) -> Value {
    json!({
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "total_tokens": generation.prompt_tokens + generation.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    })
}

pub(crate) fn model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": MODEL_CREATED, "owned_by": "gatecheck"})
}

pub(crate) fn model_list(ids: &[String]) -> Value {
    let data: Vec<Value> = ids.iter().map(|id| model_object(id)).collect();
    json!({"object": "list", "data": data})
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

    #[test]
    fn completion_has_the_openai_shape() {
        let generation = Generation {
            choices: vec![Choice {
                output: Output::Content {
                    text: "You said: hi".into(),
                    logprobs: None,
                },
                finish_reason: FinishReason::Stop,
            }],
            prompt_tokens: 4,
            completion_tokens: 3,
        };
        let body = completion(&generation, &envelope());
        assert_eq!(
            body,
            json!({
                "id": "chatcmpl-x", "object": "chat.completion", "created": 7, "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant",
                    "content": "You said: hi", "refusal": null, "annotations": []},
                    "logprobs": null, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                        "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
                "service_tier": "default", "system_fingerprint": "fp_gatecheck"
            })
        );
    }

    #[test]
    fn tool_calls_make_content_null() {
        let generation = Generation {
            choices: vec![Choice {
                output: Output::ToolCalls(vec![ToolCall {
                    id: "call_1".into(),
                    name: "f".into(),
                    arguments: "{}".into(),
                }]),
                finish_reason: FinishReason::ToolCalls,
            }],
            prompt_tokens: 1,
            completion_tokens: 1,
        };
        let body = completion(&generation, &envelope());
        let message = &body["choices"][0]["message"];
        assert_eq!(message["content"], Value::Null);
        assert_eq!(
            message["tool_calls"],
            json!([{"id": "call_1", "type": "function",
                "function": {"name": "f", "arguments": "{}"}}])
        );
    }

    #[test]
    fn logprob_entries_carry_bytes() {
        let value = logprobs_object(&[TokenLogprob {
            token: "é".into(),
            logprob: -0.5,
            top: vec![("é".into(), -0.5)],
        }]);
        assert_eq!(
            value,
            json!({"content": [{"token": "é", "logprob": -0.5, "bytes": [195, 169],
                "top_logprobs": [{"token": "é", "logprob": -0.5, "bytes": [195, 169]}]}],
                "refusal": null})
        );
    }
}
