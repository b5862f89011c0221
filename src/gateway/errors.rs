//! OpenAI error bodies: one constructor per error the reference gateway answers with, worded
//! like OpenAI's own (`{"error":{"message","type","param","code"}}`). The response carries the
//! [`ApiError`] in its extensions too, so that a dialect can re-render it in its own shape
//! ([`Dialect::render_error`](super::dialect::Dialect::render_error)).

use axum::http::{HeaderValue, StatusCode, header::HeaderName};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::response::json_response;

/// An error answer: status, the four OpenAI fields and any extra headers (`retry-after`...).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// The OpenAI `type` field (`invalid_request_error`, `server_error`, ...).
    pub(crate) kind: &'static str,
    pub(crate) param: Option<String>,
    pub(crate) code: Option<&'static str>,
    pub(crate) headers: Vec<(&'static str, &'static str)>,
}

const INVALID_REQUEST: &str = "invalid_request_error";

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&'static str>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            kind: INVALID_REQUEST,
            param: param.map(str::to_owned),
            code,
            headers: Vec::new(),
        }
    }

    /// A 400 `invalid_request_error`.
    pub(crate) fn bad_request(
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&'static str>,
    ) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, param, code)
    }

    pub(crate) fn body(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }

    // --- authentication -------------------------------------------------------------------

    pub(crate) fn missing_api_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "You didn't provide an API key. You need to provide your API key in an Authorization \
             header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            None,
            None,
        )
    }

    /// Never echoes the key, not even masked: reports and logs must not carry it.
    pub(crate) fn invalid_api_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Incorrect API key provided. You can find your API key at \
             https://platform.openai.com/account/api-keys.",
            None,
            Some("invalid_api_key"),
        )
    }

    // --- routing and models ---------------------------------------------------------------

    pub(crate) fn invalid_url(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("Invalid URL ({method} {path})"),
            None,
            None,
        )
    }

    /// Unknown `model` in a chat completion request (OpenAI quotes it with backticks here).
    pub(crate) fn model_not_found(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("The model `{model}` does not exist or you do not have access to it."),
            None,
            Some("model_not_found"),
        )
    }

    /// Unknown id in `GET /v1/models/{id}` (OpenAI quotes it with single quotes here).
    pub(crate) fn model_not_found_retrieve(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("The model '{id}' does not exist"),
            Some("model"),
            Some("model_not_found"),
        )
    }

    // --- request body ---------------------------------------------------------------------

    pub(crate) fn unparsable_json() -> Self {
        Self::bad_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you \
             aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but \
             what was sent was not valid JSON.)",
            None,
            None,
        )
    }

    pub(crate) fn body_not_object(got: &Value) -> Self {
        Self::bad_request(
            format!(
                "Invalid type for request body: expected an object, but got {} instead.",
                type_phrase(got)
            ),
            None,
            Some("invalid_type"),
        )
    }

    pub(crate) fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body too large: the reference gateway accepts at most {limit} bytes."),
            None,
            None,
        )
    }

    pub(crate) fn missing_model() -> Self {
        Self::bad_request("you must provide a model parameter", None, None)
    }

    pub(crate) fn missing_parameter(path: &str) -> Self {
        Self::bad_request(
            format!("Missing required parameter: '{path}'."),
            Some(path),
            Some("missing_required_parameter"),
        )
    }

    pub(crate) fn unrecognized_arguments(names: &[&str]) -> Self {
        let message = match names {
            [one] => format!("Unrecognized request argument supplied: {one}"),
            many => format!(
                "Unrecognized request arguments supplied: {}",
                many.join(", ")
            ),
        };
        Self::bad_request(message, None, None)
    }

    /// `expected` is a phrase such as `"a string"` or `"an array of objects"`.
    pub(crate) fn invalid_type(path: &str, expected: &str, got: &Value) -> Self {
        Self::bad_request(
            format!(
                "Invalid type for '{path}': expected {expected}, but got {} instead.",
                type_phrase(got)
            ),
            Some(path),
            Some("invalid_type"),
        )
    }

    pub(crate) fn invalid_value(path: &str, got: &str, supported: &[&str]) -> Self {
        Self::bad_request(
            format!(
                "Invalid value: '{got}'. Supported values are: {}.",
                quoted_list(supported)
            ),
            Some(path),
            Some("invalid_value"),
        )
    }

    pub(crate) fn empty_array(path: &str) -> Self {
        Self::bad_request(
            format!(
                "Invalid '{path}': empty array. Expected an array with minimum length 1, but got \
                 an empty array instead."
            ),
            Some(path),
            Some("empty_array"),
        )
    }

    pub(crate) fn array_too_long(path: &str, max: usize, len: usize) -> Self {
        Self::bad_request(
            format!(
                "Invalid '{path}': array too long. Expected an array with maximum length {max}, \
                 but got an array with length {len} instead."
            ),
            Some(path),
            Some("array_above_max_length"),
        )
    }

    pub(crate) fn integer_below_min(path: &str, min: i64, got: &Value) -> Self {
        Self::bad_request(
            format!(
                "Invalid '{path}': integer below minimum value. Expected a value >= {min}, but \
                 got {got} instead."
            ),
            Some(path),
            Some("integer_below_min_value"),
        )
    }

    pub(crate) fn integer_above_max(path: &str, max: i64, got: &Value) -> Self {
        Self::bad_request(
            format!(
                "Invalid '{path}': integer above maximum value. Expected a value <= {max}, but \
                 got {got} instead."
            ),
            Some(path),
            Some("integer_above_max_value"),
        )
    }

    pub(crate) fn decimal_below_min(path: &str, min: f64, got: &Value) -> Self {
        Self::bad_request(
            format!(
                "Invalid '{path}': decimal below minimum value. Expected a value >= {min}, but \
                 got {got} instead."
            ),
            Some(path),
            Some("decimal_below_min_value"),
        )
    }

    pub(crate) fn decimal_above_max(path: &str, max: f64, got: &Value) -> Self {
        Self::bad_request(
            format!(
                "Invalid '{path}': decimal above maximum value. Expected a value <= {max}, but \
                 got {got} instead."
            ),
            Some(path),
            Some("decimal_above_max_value"),
        )
    }

    // --- what a model cannot do ---------------------------------------------------------------

    /// A parameter the requested model does not support (`tools` on a model without tools).
    pub(crate) fn unsupported_parameter(param: &str) -> Self {
        Self::bad_request(
            format!("Unsupported parameter: '{param}' is not supported with this model."),
            Some(param),
            Some("unsupported_parameter"),
        )
    }

    /// A prompt longer than the model's context window.
    pub(crate) fn context_length_exceeded(window: u64, tokens: u64) -> Self {
        Self::bad_request(
            format!(
                "This model's maximum context length is {window} tokens. However, your messages \
                 resulted in {tokens} tokens. Please reduce the length of the messages."
            ),
            Some("messages"),
            Some("context_length_exceeded"),
        )
    }

    // --- injected faults ------------------------------------------------------------------

    pub(crate) fn rate_limited() -> Self {
        Self {
            kind: "requests",
            headers: vec![
                ("retry-after", "1"),
                ("x-ratelimit-limit-requests", "60"),
                ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", "1s"),
            ],
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                None,
                Some("rate_limit_exceeded"),
            )
        }
    }

    /// OpenAI's answer to an account out of credit (the `insufficient_funds` fault): a 429
    /// that retrying does not cure, hence no `retry-after`.
    pub(crate) fn insufficient_quota() -> Self {
        Self {
            kind: "insufficient_quota",
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "You exceeded your current quota, please check your plan and billing details. For \
                 more information on this error, read the docs: \
                 https://platform.openai.com/docs/guides/error-codes/api-errors.",
                None,
                Some("insufficient_quota"),
            )
        }
    }

    pub(crate) fn server_error() -> Self {
        Self {
            kind: "server_error",
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server had an error while processing your request. Sorry about that!",
                None,
                None,
            )
        }
    }

    pub(crate) fn overloaded() -> Self {
        Self {
            kind: "server_error",
            headers: vec![("retry-after", "1")],
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The engine is currently overloaded, please try again later",
                None,
                None,
            )
        }
    }

    pub(crate) fn unknown_fault(name: &str, known: &[&str]) -> Self {
        Self::bad_request(
            format!(
                "Unknown x-gatecheck-fault '{name}'. Supported values are: {}.",
                quoted_list(known)
            ),
            None,
            None,
        )
    }

    /// A served model with a `+NAME` suffix that names no fault (`gatecheck-echo+nope`).
    pub(crate) fn unknown_model_fault(model: &str, name: &str, known: &[&str]) -> Self {
        Self::bad_request(
            format!(
                "Unknown fault '{name}' in model '{model}'. Supported values are: {}.",
                quoted_list(known)
            ),
            Some("model"),
            None,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status, &self.body());
        for (name, value) in &self.headers {
            response.headers_mut().insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// How OpenAI names a JSON value's type in its messages: "a string", "an integer", "a decimal".
pub(crate) fn type_phrase(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: OpenAI's list style, Oxford comma included.
pub(crate) fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("'{item}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_list_follows_openai_style() {
        assert_eq!(quoted_list(&["a"]), "'a'");
        assert_eq!(quoted_list(&["a", "b"]), "'a' and 'b'");
        assert_eq!(quoted_list(&["a", "b", "c"]), "'a', 'b', and 'c'");
    }

    #[test]
    fn role_error_matches_openai_text() {
        let err = ApiError::invalid_value(
            "messages[0].role",
            "robot",
            &[
                "system",
                "assistant",
                "user",
                "function",
                "tool",
                "developer",
            ],
        );
        assert_eq!(
            err.message,
            "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', \
             'function', 'tool', and 'developer'."
        );
        assert_eq!(err.param.as_deref(), Some("messages[0].role"));
        assert_eq!(err.code, Some("invalid_value"));
    }

    #[test]
    fn body_has_exactly_the_four_fields() {
        let body = ApiError::missing_model().body();
        assert_eq!(
            body,
            json!({"error": {"message": "you must provide a model parameter",
                "type": "invalid_request_error", "param": null, "code": null}})
        );
    }

    #[test]
    fn type_phrases() {
        assert_eq!(type_phrase(&json!(1)), "an integer");
        assert_eq!(type_phrase(&json!(1.5)), "a decimal");
        assert_eq!(type_phrase(&json!("x")), "a string");
        assert_eq!(type_phrase(&json!([])), "an array");
        assert_eq!(type_phrase(&json!(null)), "null");
    }

    #[test]
    fn invalid_api_key_never_mentions_a_key() {
        let err = ApiError::invalid_api_key();
        assert!(!err.message.contains("sk-"));
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
    }
}
