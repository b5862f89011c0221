//! Checks on error answers (`err.*`): the body's envelope and types, retry headers, and whether
//! a client mistake got the status OpenAI uses.

use serde_json::Value;

use super::{Body, Cx, Endpoint, Finding};
use crate::catalog::Severity::{Info, Violation, Warning};
use crate::schema::short;
use crate::suite::ErrorKind;

/// Envelope, types and retry headers of a non-2xx answer.
pub(super) fn check_error(cx: &mut Cx) {
    envelope(cx);
    code_and_type(cx);
    retry_headers(cx);
}

/// `err.azure_content_filter`: Azure OpenAI's content filter, reported as its dialect: a 400
/// with `code: "content_filter"` (and `innererror`), or a completion annotated with
/// `prompt_filter_results` / `content_filter_results`.
pub(super) fn check_azure_content_filter(cx: &mut Cx) {
    if cx.endpoint != Endpoint::ChatCompletions {
        return;
    }
    let Some(body) = cx.json().cloned() else {
        return;
    };
    if !cx.is_success() {
        if body.pointer("/error/code").and_then(Value::as_str) != Some("content_filter") {
            return;
        }
        let inner = body
            .pointer("/error/innererror/code")
            .and_then(Value::as_str)
            .map(|c| format!(", `innererror.code: {c}`"))
            .unwrap_or_default();
        let status = cx.status;
        cx.push(
            Finding::new(
                "err.azure_content_filter",
                Info,
                format!(
                    "Azure's content-filter refusal: {status} with `code: content_filter`{inner}; the SDKs raise BadRequestError, the filter results are in the body"
                ),
            )
            .at("/error/code"),
        );
        return;
    }
    let annotated = body.get("prompt_filter_results").is_some()
        || body
            .get("choices")
            .and_then(Value::as_array)
            .is_some_and(|cs| cs.iter().any(|c| c.get("content_filter_results").is_some()));
    if annotated {
        cx.push(Finding::new(
            "err.azure_content_filter",
            Info,
            "Azure's content-filter annotations (`prompt_filter_results`, `content_filter_results`) ride along with the completion",
        ));
    }
}

fn envelope(cx: &mut Cx) {
    let status = cx.status;
    let media = cx.ex.media_type();
    let json_type =
        matches!(media.as_deref(), Some(m) if m == "application/json" || m.ends_with("+json"));
    let what = match &cx.body {
        Body::Empty => Some("an empty body".to_owned()),
        Body::NotJson(_) => {
            let text = String::from_utf8_lossy(&cx.ex.body);
            let kind = if text.trim_start().starts_with('<') {
                "HTML"
            } else {
                "plain text"
            };
            Some(format!(
                "{kind} ({})",
                short(&Value::String(text.chars().take(80).collect()))
            ))
        }
        Body::Json(v) => classify(v),
    };
    if let Some(what) = what {
        cx.push(
            Finding::new(
                "err.envelope",
                Violation,
                format!("the {status} error body is {what}, not `{{\"error\": {{\"message\", \"type\", \"param\", \"code\"}}}}`"),
            )
            .at("")
            .sdk_breaking(),
        );
    } else if !json_type {
        cx.push(
            Finding::new(
                "err.envelope",
                Warning,
                "the error body is JSON but its Content-Type is not application/json",
            )
            .expected("application/json")
            .actual(media.as_deref().unwrap_or("(none)")),
        );
    }
    if let Some(err) = cx
        .json()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_object)
    {
        let found = error_members(err);
        for f in found {
            cx.push(f);
        }
    }
}

/// The members of OpenAI's Error object.
const ERROR_FIELDS: [&str; 4] = ["message", "type", "param", "code"];

/// How a server's missing value comes out when it formats it as a string: Python's `str(None)`,
/// JavaScript's `String(null)` and `String(undefined)`, Go's `nil` formatting.
const NULL_AS_TEXT: [&str; 5] = ["None", "null", "undefined", "nil", "<nil>"];

/// `err.envelope` inside an `error` object: a missing value sent as the text of one (LiteLLM's
/// `"param": "None"`), and vendor members beside OpenAI's four.
fn error_members(err: &serde_json::Map<String, Value>) -> Vec<Finding> {
    let mut found = Vec::new();
    for (field, openai) in [
        ("type", "a type such as `invalid_request_error`"),
        ("param", "null (or the parameter's name)"),
        ("code", "null (or a code such as `model_not_found`)"),
    ] {
        if let Some(Value::String(text)) = err.get(field)
            && NULL_AS_TEXT.contains(&text.as_str())
        {
            found.push(
                Finding::new(
                    "err.envelope",
                    Warning,
                    format!("`error.{field}` is the string {text:?}, a missing value formatted as text: SDK users get `e.{field} == {text:?}`, which is truthy; OpenAI sends {openai}"),
                )
                .at(format!("/error/{field}"))
                .expected(openai)
                .actual(format!("{text:?}")),
            );
        }
    }
    found.extend(super::vendor_fields(
        "err.envelope",
        "in `error`",
        "/error",
        err.keys(),
        &ERROR_FIELDS,
    ));
    found
}

/// Names a non-OpenAI error shape, or `None` for `{"error": {"message": "..."}}`.
fn classify(v: &Value) -> Option<String> {
    let Some(obj) = v.as_object() else {
        return Some(format!("a JSON {}", crate::schema::type_name(v)));
    };
    match obj.get("error") {
        Some(Value::Object(e)) => match e.get("message") {
            Some(Value::String(_)) => None,
            Some(Value::Array(_)) => Some("an error whose `message` is an array".into()),
            Some(other) => Some(format!(
                "an error whose `message` is {}",
                crate::schema::type_name(other)
            )),
            None => Some("an `error` object without `message`".into()),
        },
        Some(Value::String(_)) => Some("a bare `{\"error\": \"text\"}`".into()),
        Some(other) => Some(format!(
            "an `error` that is {}",
            crate::schema::type_name(other)
        )),
        None if obj.contains_key("detail") => Some("a FastAPI `{\"detail\": ...}` body".into()),
        None if obj
            .get("object")
            .and_then(Value::as_str)
            .is_some_and(|o| o.eq_ignore_ascii_case("error")) =>
        {
            Some("a flat `{\"object\": \"error\", \"message\": ...}` body".into())
        }
        None if obj.contains_key("message") => Some("a flat `{\"message\": ...}` body".into()),
        None => Some("a JSON object without `error`".into()),
    }
}

/// What OpenAI puts in `error.code` for a status, as the example a message gives.
fn openai_code(status: u16) -> &'static str {
    match status {
        400 | 422 => {
            "a code naming the mistake (`invalid_value`, `missing_required_parameter`, `unsupported_parameter`) or null"
        }
        401 => "`invalid_api_key` (or null when no key was sent)",
        404 => "`model_not_found` for an unknown model (null for an unknown route)",
        429 => "`rate_limit_exceeded` or `insufficient_quota`",
        500..=599 => "null, with `type: server_error`",
        _ => "a descriptive string or null",
    }
}

fn code_and_type(cx: &mut Cx) {
    let status = cx.status;
    let Some(err) = cx
        .json()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    if let Some(code) = err.get("code")
        && code.is_number()
    {
        cx.push(
            Finding::new(
                "err.code_and_type_types",
                Warning,
                format!(
                    "`error.code` is a number; for a {status} OpenAI sends {}",
                    openai_code(status)
                ),
            )
            .at("/error/code")
            .expected("a string or null")
            .actual(short(code))
            .sdk("python and node keep the raw value; typed clients (openai-dotnet, Go, Rust) fail to decode"),
        );
    }
    if let Some(Value::String(code)) = err.get("code")
        && !code.is_empty()
        && code.bytes().all(|b| b.is_ascii_digit())
    {
        cx.push(
            Finding::new(
                "err.code_and_type_types",
                Warning,
                format!(
                    "`error.code` is the HTTP status as a string ({code:?}); for a {status} OpenAI sends {}",
                    openai_code(status)
                ),
            )
            .at("/error/code")
            .expected(openai_code(status))
            .actual(format!("{code:?}")),
        );
    }
    match err.get("type") {
        Some(Value::String(t)) if NULL_AS_TEXT.contains(&t.as_str()) => {} // err.envelope's
        Some(Value::String(t)) if is_class_name(t) => cx.push(
            Finding::new(
                "err.code_and_type_types",
                Warning,
                format!("`error.type` is an exception class name ({t:?}); OpenAI sends a category such as `invalid_request_error`"),
            )
            .at("/error/type")
            .expected("\"invalid_request_error\", \"server_error\", ...")
            .actual(format!("{t:?}"))
            .sdk("clients that branch on `type` (retry on server_error, surface invalid_request_error) miss it"),
        ),
        Some(Value::String(t)) if !t.is_empty() && !OPENAI_ERROR_TYPES.contains(&t.as_str()) => {
            cx.push(
                Finding::new(
                    "err.code_and_type_types",
                    Info,
                    format!("`error.type` is {t:?}, not a type OpenAI is known to send ({})", OPENAI_ERROR_TYPES.join(", ")),
                )
                .at("/error/type")
                .actual(format!("{t:?}")),
            );
        }
        Some(Value::String(_)) | None => {}
        Some(other) => cx.push(
            Finding::new(
                "err.code_and_type_types",
                Warning,
                "`error.type` must be a string",
            )
            .at("/error/type")
            .expected("a string such as \"invalid_request_error\"")
            .actual(short(other)),
        ),
    }
}

/// The `error.type` values OpenAI's API is seen sending (OpenAPI Error.type: "e.g.
/// `invalid_request_error`, `server_error`"; `insufficient_quota`, and `requests` or `tokens`
/// on rate limits, in real answers). The list is not closed, so another value is only info:
/// clients that branch on the type do not recognise it.
const OPENAI_ERROR_TYPES: [&str; 5] = [
    "invalid_request_error",
    "server_error",
    "insufficient_quota",
    "requests",
    "tokens",
];

/// `NotFoundError`, `InternalServerError`, `ValidationException`: a server's class name.
fn is_class_name(t: &str) -> bool {
    t.starts_with(|c: char| c.is_ascii_uppercase())
        && t.chars().all(|c| c.is_ascii_alphanumeric())
        && (t.ends_with("Error") || t.ends_with("Exception"))
}

fn retry_headers(cx: &mut Cx) {
    if !matches!(cx.status, 429 | 503) {
        return;
    }
    // An exhausted quota (OpenAI's 429 `insufficient_quota`) does not pass by waiting.
    let provoked = matches!(
        cx.case.case.expect.error,
        Some((ErrorKind::InsufficientFunds, _))
    );
    let quota = provoked
        || ["/error/type", "/error/code"].iter().any(|p| {
            cx.json().and_then(|b| b.pointer(p)).and_then(Value::as_str)
                == Some("insufficient_quota")
        });
    if quota {
        return;
    }
    let status = cx.status;
    let ms = cx.ex.header("retry-after-ms").map(str::to_owned);
    match cx.ex.header("retry-after").map(str::to_owned) {
        None if ms.is_none() => cx.push(Finding::new(
            "err.retry_headers",
            Warning,
            format!("a {status} without `Retry-After`: clients back off blindly"),
        )),
        None => {}
        Some(v) => match v.trim().parse::<f64>() {
            Ok(secs) if secs > 60.0 => cx.push(
                Finding::new(
                    "err.retry_headers",
                    Info,
                    format!("`Retry-After: {v}` is above 60 s: openai-python and openai-node ignore it and use their own backoff"),
                )
                .actual(v),
            ),
            Ok(secs) if secs >= 0.0 => {}
            _ if looks_like_http_date(&v) => {}
            _ => cx.push(
                Finding::new("err.retry_headers", Warning, format!("`Retry-After: {v}` is neither seconds nor an HTTP date"))
                    .actual(v),
            ),
        },
    }
}

fn looks_like_http_date(v: &str) -> bool {
    // e.g. `Wed, 21 Oct 2015 07:28:00 GMT`
    v.ends_with("GMT") && v.contains(',') && v.split_whitespace().count() == 6
}

/// `err.status_mapping`: a case that makes a client mistake on purpose gets OpenAI's status.
pub(super) fn check_status_mapping(cx: &mut Cx) {
    let Some((kind, _)) = cx.case.case.expect.error.clone() else {
        return;
    };
    let status = cx.status;
    let want = kind.openai_status();
    if status == want {
        return;
    }
    let what = describe(kind);
    let (severity, message) = match status {
        200..=299 => {
            // Accepting an unknown model, or no key, is permissive rather than broken.
            let severity = match kind {
                ErrorKind::UnknownModel | ErrorKind::MissingKey | ErrorKind::WrongKey => Warning,
                _ => Violation,
            };
            (
                severity,
                format!("{what} was accepted with {status}; OpenAI answers {want}"),
            )
        }
        500..=599 => (
            Violation,
            format!(
                "{what} got a server error {status}; OpenAI answers {want}, and the SDKs retry 5xx needlessly"
            ),
        ),
        _ => (
            Warning,
            format!(
                "{what} got {status}; OpenAI answers {want}{}",
                sdk_class_note(status, want)
            ),
        ),
    };
    let mut finding = Finding::new("err.status_mapping", severity, message)
        .expected(want)
        .actual(status);
    if let Some((_, loc)) = &cx.case.case.expect.error {
        finding = finding.source(loc);
    }
    if (500..=599).contains(&status) {
        finding = finding
            .sdk("openai-python and openai-node retry 5xx (twice by default) before raising");
    }
    cx.push(finding);
}

/// `err.context_length_message`: a prompt over the context window gets an error clients can
/// recognise as such: code `context_length_exceeded` and a message in the words they match
/// ("maximum context length", as OpenAI's "This model's maximum context length is N tokens";
/// "context size", as llama.cpp's "exceeds the available context size", which LiteLLM matches).
pub(super) fn check_context_length(cx: &mut Cx) {
    if !matches!(
        cx.case.case.expect.error,
        Some((ErrorKind::ContextLength, _))
    ) || cx.is_success()
    {
        return; // err.status_mapping says what accepting it means
    }
    let code = cx.json().and_then(|b| b.pointer("/error/code")).cloned();
    let code_ok = code.as_ref().and_then(Value::as_str) == Some("context_length_exceeded");
    let message = cx.error_message().unwrap_or_default();
    let lower = message.to_lowercase();
    let words_ok = [
        "maximum context length",
        "context length",
        "context window",
        "context size",
        "context_length",
    ]
    .iter()
    .any(|w| lower.contains(w));
    if code_ok && words_ok {
        return;
    }
    let (severity, what, who) = match (code_ok, words_ok) {
        (false, false) => (
            Violation,
            "neither the code `context_length_exceeded` nor a message that names the context length",
            "clients that detect the overflow (to trim history and retry)",
        ),
        (false, true) => (
            Warning,
            "no code `context_length_exceeded`",
            "clients that detect the overflow by its code",
        ),
        _ => (
            Warning,
            "a message that does not name the context length",
            "clients that detect the overflow by its words",
        ),
    };
    let mut f = Finding::new(
        "err.context_length_message",
        severity,
        format!(
            "a prompt over the context window got {} with {what}: {who} miss it",
            cx.status
        ),
    )
    .expected("code \"context_length_exceeded\", message \"This model's maximum context length is N tokens...\"")
    .actual(format!(
        "code {}, message {}",
        short(code.as_ref().unwrap_or(&Value::Null)),
        short(&Value::String(message))
    ));
    if !code_ok {
        f = f.at("/error/code");
    }
    cx.push(f);
}

fn describe(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::UnknownModel => "a request for an unknown model",
        ErrorKind::MalformedJson => "a malformed JSON body",
        ErrorKind::MissingMessages => "a request without `messages`",
        ErrorKind::EmptyMessages => "a request with an empty `messages` list",
        ErrorKind::MissingModel => "a request without `model`",
        ErrorKind::MissingKey => "a request without an API key",
        ErrorKind::WrongKey => "a request with a wrong API key",
        ErrorKind::UnknownRoute => "a request to an unknown route",
        ErrorKind::InvalidParameter => "a request with an invalid parameter value",
        ErrorKind::ContextLength => "a prompt longer than the context window",
        ErrorKind::ToolsUnsupported => "`tools` sent to a model without tool support",
        ErrorKind::InsufficientFunds => "a request on an account out of credit",
        ErrorKind::RateLimited => "a request over the rate limit",
    }
}

/// What the status difference means for the SDKs' exception classes.
fn sdk_class_note(got: u16, want: u16) -> String {
    let class = |s: u16| match s {
        400 => "BadRequestError",
        401 => "AuthenticationError",
        403 => "PermissionDeniedError",
        404 => "NotFoundError",
        409 => "ConflictError",
        422 => "UnprocessableEntityError",
        429 => "RateLimitError",
        _ => "APIStatusError",
    };
    format!(
        " (openai-python and openai-node raise {} instead of {})",
        class(got),
        class(want)
    )
}

/// `err.schema`: the error body against ErrorResponse, when it has an `error` object at all.
pub(super) fn check_schema(cx: &mut Cx) {
    let body = cx
        .json()
        .filter(|b| b.get("error").is_some_and(Value::is_object))
        .cloned();
    let Some(body) = body else {
        // Not an error object: err.envelope already says what it is instead.
        cx.restate("err.schema", "err.envelope");
        return;
    };
    cx.push_schema_errors("err.schema", "ErrorResponse", &body);
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const PLAIN: &str = "{model: m, messages: [{role: user, content: hi}]}";

    fn err_case(kind: &str) -> crate::plan::PlannedCase {
        chat_case(PLAIN, &format!("    expect: {{error: {kind}}}\n"))
    }

    const OPENAI_404: &str = r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;

    #[test]
    fn openai_errors_raise_nothing() {
        let v = judge(
            &err_case("unknown_model"),
            404,
            "application/json",
            OPENAI_404,
        );
        assert_eq!(ids(&v), Vec::<String>::new());
        assert_eq!(v.outcome, super::super::Outcome::Pass);
    }

    #[test]
    fn non_openai_error_shapes_are_classified() {
        let c = err_case("unknown_model");
        for (body, needle) in [
            (r#"{"detail":"Not Found"}"#, "FastAPI"),
            (
                r#"{"object":"error","message":"m","code":404}"#,
                "flat `{\"object\": \"error\"",
            ),
            (r#"{"error":"model not found"}"#, "bare"),
            (r#"{"status":"error","message":"m"}"#, "flat `{\"message\""),
            ("<html>404</html>", "HTML"),
        ] {
            let v = judge(&c, 404, "application/json", body);
            assert_eq!(ids(&v), ["err.envelope violation"], "{body}");
            assert!(
                v.findings[0].message.contains(needle),
                "{}",
                v.findings[0].message
            );
            assert!(v.findings[0].sdk.is_some());
        }
    }

    #[test]
    fn status_mapping_severities() {
        let body = r#"{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}"#;
        assert_eq!(
            ids(&judge(
                &err_case("malformed_json"),
                422,
                "application/json",
                body
            )),
            ["err.status_mapping warning"]
        );
        assert_eq!(
            ids(&judge(
                &err_case("malformed_json"),
                500,
                "application/json",
                body
            )),
            ["err.status_mapping violation"]
        );
        assert_eq!(
            ids(&judge(
                &err_case("malformed_json"),
                200,
                "application/json",
                OK_BODY
            )),
            ["err.status_mapping violation"]
        );
        assert_eq!(
            ids(&judge(
                &err_case("unknown_model"),
                200,
                "application/json",
                OK_BODY
            )),
            ["err.status_mapping warning"]
        );
        let v = judge(&err_case("unknown_model"), 400, "application/json", body);
        assert!(
            v.findings[0]
                .message
                .contains("BadRequestError instead of NotFoundError"),
            "{}",
            v.findings[0].message
        );
    }

    #[test]
    fn integer_codes_are_reported_once() {
        let body =
            r#"{"error":{"message":"m","type":"invalid_request_error","param":null,"code":404}}"#;
        assert_eq!(
            ids(&judge(
                &err_case("unknown_model"),
                404,
                "application/json",
                body
            )),
            ["err.code_and_type_types warning"]
        );
    }

    #[test]
    fn missing_param_and_code_keys_are_schema_findings() {
        let body = r#"{"error":{"message":"m","type":"invalid_request_error"}}"#;
        let v = judge(&err_case("unknown_model"), 404, "application/json", body);
        let paths: Vec<_> = v.findings.iter().map(|f| f.path.clone().unwrap()).collect();
        assert_eq!(paths, ["/error/param", "/error/code"]);
        assert!(v.findings.iter().all(|f| f.check == "err.schema"));
    }

    #[test]
    fn retry_after_is_checked_on_429() {
        let c = chat_case(PLAIN, "");
        let body = r#"{"error":{"message":"slow","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        let v = judge(&c, 429, "application/json", body);
        assert_eq!(ids(&v), ["err.retry_headers warning"]);
    }

    /// The example of what OpenAI sends fits the status (it said `rate_limit_exceeded` for
    /// LiteLLM's 400 and 401 alike).
    #[test]
    fn the_code_example_fits_the_status() {
        let message = |status: u16, code: &str| {
            let body = format!(
                r#"{{"error":{{"message":"m","type":"invalid_request_error","param":null,"code":{code}}}}}"#
            );
            let v = judge(
                &err_case("malformed_json"),
                status,
                "application/json",
                &body,
            );
            let f = v
                .findings
                .iter()
                .find(|f| f.check == "err.code_and_type_types")
                .expect("a code finding");
            f.message.clone()
        };
        for (status, code, needle) in [
            (400, r#""400""#, "`invalid_value`"),
            (401, r#""401""#, "`invalid_api_key`"),
            (404, "404", "`model_not_found`"),
            (429, r#""429""#, "`rate_limit_exceeded`"),
            (500, "500", "null, with `type: server_error`"),
        ] {
            let m = message(status, code);
            assert!(m.contains(&format!("for a {status} OpenAI sends")), "{m}");
            assert!(m.contains(needle), "{status}: {m}");
            if status != 429 {
                assert!(!m.contains("rate_limit_exceeded"), "{status}: {m}");
            }
        }
    }

    /// LiteLLM 1.106.2 answers a missing key with `"type": "auth_error", "param": "None"` and
    /// adds `provider_specific_fields` to other errors: none of it was reported.
    #[test]
    fn null_as_text_vendor_types_and_vendor_fields() {
        let c = err_case("missing_key");
        let litellm_401 = r#"{"error":{"message":"Authentication Error, No api key passed in.","type":"auth_error","param":"None","code":null}}"#;
        let v = judge(&c, 401, "application/json", litellm_401);
        let found: Vec<String> = v
            .findings
            .iter()
            .map(|f| {
                format!(
                    "{} {} {}",
                    f.check,
                    f.severity,
                    f.path.as_deref().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                "err.envelope warning /error/param",
                "err.code_and_type_types info /error/type"
            ]
        );
        assert!(v.findings[0].message.contains(r#"`e.param == "None"`"#));
        for text in ["null", "undefined", "<nil>"] {
            let body = OPENAI_404.replace(r#""param":null"#, &format!(r#""param":"{text}""#));
            let v = judge(&err_case("unknown_model"), 404, "application/json", &body);
            assert_eq!(ids(&v), ["err.envelope warning"], "{text}");
        }
        // A placeholder type is reported once, as the placeholder.
        let body = OPENAI_404.replace("invalid_request_error", "None");
        let v = judge(&err_case("unknown_model"), 404, "application/json", &body);
        assert_eq!(ids(&v), ["err.envelope warning"]);
        // Vendor fields beside OpenAI's four: info, once.
        let body = OPENAI_404.replace(
            r#""code":"model_not_found""#,
            r#""code":"model_not_found","provider_specific_fields":{"error":"x"}"#,
        );
        let v = judge(&err_case("unknown_model"), 404, "application/json", &body);
        assert_eq!(ids(&v), ["err.envelope info"]);
        assert!(v.findings[0].message.contains("provider_specific_fields"));
        // OpenAI's own types raise nothing.
        for t in ["server_error", "insufficient_quota", "tokens"] {
            let body = OPENAI_404.replace("invalid_request_error", t);
            let v = judge(&err_case("unknown_model"), 404, "application/json", &body);
            assert_eq!(ids(&v), Vec::<String>::new(), "{t}");
        }
    }

    /// An info finding at `/error` must not hide the schema's findings inside it.
    #[test]
    fn vendor_fields_do_not_hide_a_missing_param() {
        let body = r#"{"error":{"message":"m","type":"invalid_request_error","code":null,"x":1}}"#;
        let v = judge(&err_case("unknown_model"), 404, "application/json", body);
        assert_eq!(ids(&v), ["err.envelope info", "err.schema violation"]);
    }

    #[test]
    fn a_context_overflow_must_be_recognisable_by_code_and_words() {
        let c = err_case("context_length");
        let body = |message: &str, code: &str| {
            format!(
                r#"{{"error":{{"message":"{message}","type":"invalid_request_error","param":"messages","code":{code}}}}}"#
            )
        };
        let openai = "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.";
        let judged = |message: &str, code: &str| {
            ids(&judge(&c, 400, "application/json", &body(message, code)))
        };
        assert_eq!(
            judged(openai, r#""context_length_exceeded""#),
            Vec::<String>::new()
        );
        assert_eq!(
            judged("Bad Request", "null"),
            ["err.context_length_message violation"]
        );
        assert_eq!(
            judged("Bad Request", r#""context_length_exceeded""#),
            ["err.context_length_message warning"]
        );
        assert_eq!(
            judged(openai, "null"),
            ["err.context_length_message warning"]
        );
        let v = judge(&c, 400, "application/json", &body(openai, "null"));
        assert_eq!(
            v.findings[0].message,
            "a prompt over the context window got 400 with no code `context_length_exceeded`: clients that detect the overflow by its code miss it"
        );
        // Found writing fixtures/exchanges/err/context_length_llama_cpp.http: llama.cpp's words,
        // which LiteLLM and many agents match, were taken for an unrelated message.
        assert_eq!(
            judged(
                "request (140012 tokens) exceeds the available context size (131072 tokens), try increasing it",
                "null"
            ),
            ["err.context_length_message warning"]
        );
    }

    #[test]
    fn class_names_and_statuses_as_codes_are_reported() {
        let body = r#"{"error":{"message":"m","type":"NotFoundError","param":null,"code":"404"}}"#;
        assert_eq!(
            ids(&judge(
                &err_case("unknown_model"),
                404,
                "application/json",
                body
            )),
            [
                "err.code_and_type_types warning",
                "err.code_and_type_types warning"
            ]
        );
    }
}
