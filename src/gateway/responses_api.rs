//! apigo's `POST /v1/responses` (page 004: "구조화된 출력, 다중 모드 입력 및 도구에 대한 보다
//! 통합된 인터페이스를 원한다면 /v1/responses를 선호하세요"): the smallest Responses API answer,
//! for a `model` and a string `input`, with the chat echo's text. Anything else the Responses API
//! knows (array inputs, streaming) is a 400 here, never a silent half-answer.

use serde_json::{Value, json};

use super::errors::ApiError;
use super::model;
use super::request::{Message, Role, present};

/// A validated `POST /v1/responses` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponsesRequest {
    pub(crate) model: String,
    pub(crate) input: String,
}

/// Validates a body: JSON object, `model` a served id, `input` a string, no `stream: true`.
/// An unknown model is a 400, as in OpenAI's Responses API.
pub(crate) fn parse(body: &[u8], served: &[String]) -> Result<ResponsesRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| ApiError::unparsable_json())?;
    let Value::Object(members) = &value else {
        return Err(ApiError::body_not_object(&value));
    };
    let model = match present(members, "model") {
        None => return Err(ApiError::missing_parameter("model")),
        Some(Value::String(model)) if model.is_empty() => {
            return Err(ApiError::missing_parameter("model"));
        }
        Some(Value::String(model)) => model.clone(),
        Some(other) => return Err(ApiError::invalid_type("model", "a string", other)),
    };
    let input = match present(members, "input") {
        None => return Err(ApiError::missing_parameter("input")),
        Some(Value::String(input)) => input.clone(),
        Some(other) => {
            return Err(ApiError::bad_request(
                format!(
                    "Invalid type for 'input': the reference gateway answers a string input \
                     only, but got {} instead.",
                    super::errors::type_phrase(other)
                ),
                Some("input"),
                Some("invalid_type"),
            ));
        }
    };
    match present(members, "stream") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            return Err(ApiError::bad_request(
                "Unsupported value: 'stream' must be false: the reference gateway answers \
                 /v1/responses in one piece.",
                Some("stream"),
                Some("unsupported_value"),
            ));
        }
        Some(other) => return Err(ApiError::invalid_type("stream", "a boolean", other)),
    }
    if !served.contains(&model) {
        return Err(ApiError::bad_request(
            format!("The requested model '{model}' does not exist."),
            Some("model"),
            Some("model_not_found"),
        ));
    }
    Ok(ResponsesRequest { model, input })
}

/// The `response` object: one completed assistant message with one `output_text`.
pub(crate) fn answer(
    request: &ResponsesRequest,
    (id, message_id): (String, String),
    created_at: u64,
) -> Value {
    let text = format!("You said: {}", request.input);
    let input_tokens = model::prompt_tokens(&[Message {
        role: Role::User,
        text: request.input.clone(),
    }]);
    let output_tokens = model::count_tokens(&text);
    json!({
        "id": id,
        "object": "response",
        "created_at": created_at,
        "status": "completed",
        "model": request.model,
        "output": [{
            "type": "message",
            "id": message_id,
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }],
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Vec<String> {
        vec!["gpt-4o".to_owned()]
    }

    fn parse_json(body: Value) -> Result<ResponsesRequest, ApiError> {
        parse(body.to_string().as_bytes(), &served())
    }

    #[test]
    fn answers_a_string_input() {
        let request = parse_json(json!({"model": "gpt-4o", "input": "hello there"})).unwrap();
        let body = answer(&request, ("resp_1".into(), "msg_1".into()), 7);
        assert_eq!(
            body,
            json!({"id": "resp_1", "object": "response", "created_at": 7, "status": "completed",
                "model": "gpt-4o", "output": [{"type": "message", "id": "msg_1",
                    "status": "completed", "role": "assistant", "content": [{"type":
                    "output_text", "text": "You said: hello there", "annotations": []}]}],
                "usage": {"input_tokens": 5, "output_tokens": 4, "total_tokens": 9}})
        );
    }

    #[test]
    fn rejects_what_it_cannot_answer() {
        let code = |body: Value| parse_json(body).unwrap_err().code;
        assert_eq!(
            code(json!({"input": "x"})),
            Some("missing_required_parameter")
        );
        assert_eq!(
            code(json!({"model": "gpt-4o"})),
            Some("missing_required_parameter")
        );
        assert_eq!(
            code(json!({"model": "gpt-4o", "input": [{"role": "user"}]})),
            Some("invalid_type")
        );
        assert_eq!(
            code(json!({"model": "gpt-4o", "input": "x", "stream": true})),
            Some("unsupported_value")
        );
        let err = parse_json(json!({"model": "gpt-5", "input": "x"})).unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(err.message, "The requested model 'gpt-5' does not exist.");
        assert_eq!(
            parse(b"{", &served()).unwrap_err(),
            ApiError::unparsable_json()
        );
    }
}
