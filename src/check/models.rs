//! Checks on `/models` (`models.*`): the list's shape and schema, and retrieving one model.

use serde_json::Value;

use super::{Body, Cx, Endpoint, Finding};
use crate::catalog::Severity::{Violation, Warning};
use crate::schema::short;

/// `models.retrieve` when `GET /models/{id}` is refused for a model the target serves: the
/// endpoint is missing (a warning: the catalog deems it cosmetic), not the case's fault.
pub(super) fn check_retrieve_refused(cx: &mut Cx) {
    if cx.endpoint != Endpoint::RetrieveModel
        || cx.case.case.expect.error.is_some()
        || !(400..500).contains(&cx.status)
        || matches!(cx.status, 401 | 402 | 403 | 429)
    {
        return;
    }
    cx.rejection_explained = true;
    let status = cx.status;
    cx.push(
        Finding::new(
            "models.retrieve",
            Warning,
            format!(
                "`GET {}` answered {status}: retrieving one model is not supported",
                cx.case.request.path
            ),
        )
        .expected("200 with the model object")
        .actual(status),
    );
}

/// `models.list_shape` on a 2xx `GET /models`.
pub(super) fn check_list(cx: &mut Cx) {
    let media = cx.ex.media_type();
    if media.as_deref() != Some("application/json") {
        cx.push(
            Finding::new(
                "models.list_shape",
                Violation,
                "the models list must be sent as application/json",
            )
            .expected("application/json")
            .actual(media.as_deref().unwrap_or("(none)"))
            .sdk("openai-node returns text instead of a page of models"),
        );
    }
    let body = match &cx.body {
        Body::Json(v) => v.clone(),
        Body::Empty | Body::NotJson(_) => {
            cx.push(
                Finding::new(
                    "models.list_shape",
                    Violation,
                    "the models list is not JSON",
                )
                .sdk("openai-python/node cannot build the page of models"),
            );
            return;
        }
    };
    match &body {
        Value::Array(_) => {
            cx.push(
                Finding::new(
                    "models.list_shape",
                    Violation,
                    "the models list is a bare array, not `{\"object\": \"list\", \"data\": [...]}`",
                )
                .at("")
                .sdk("openai-python/node page objects read `data`: iteration finds no models"),
            );
        }
        Value::Object(obj) => {
            match obj.get("object") {
                Some(Value::String(s)) if s == "list" => {}
                Some(other) => cx.push(
                    Finding::new("models.list_shape", Violation, "`object` must be \"list\"")
                        .at("/object")
                        .expected("\"list\"")
                        .actual(short(other)),
                ),
                None => cx.push(
                    Finding::new(
                        "models.list_shape",
                        Violation,
                        "`object: \"list\"` is missing",
                    )
                    .at("/object")
                    .sdk("strict decoders (openai-api-rs, SwiftOpenAI) reject the list"),
                ),
            }
            match obj.get("data") {
                Some(Value::Array(items)) => {
                    if items.is_empty() {
                        cx.push(
                            Finding::new("models.list_shape", Warning, "the models list is empty")
                                .at("/data"),
                        );
                    }
                    if let Some(f) = vendor_fields(items) {
                        cx.push(f);
                    }
                }
                Some(other) => cx.push(
                    Finding::new(
                        "models.list_shape",
                        Violation,
                        "`data` must be an array of models",
                    )
                    .at("/data")
                    .actual(short(other)),
                ),
                None => cx.push(
                    Finding::new("models.list_shape", Violation, "`data` is missing")
                        .at("/data")
                        .sdk("openai-python/node page objects read `data`"),
                ),
            }
        }
        other => cx.push(
            Finding::new(
                "models.list_shape",
                Violation,
                format!(
                    "the models list is a JSON {}",
                    crate::schema::type_name(other)
                ),
            )
            .at(""),
        ),
    }
}

/// The members of OpenAI's Model object.
const MODEL_FIELDS: [&str; 4] = ["id", "object", "created", "owned_by"];

/// `models.list_shape` (info): members of the listed models beyond OpenAI's four, once for the
/// whole list (extras are tolerated; clients may read them, typed ones drop them).
fn vendor_fields(items: &[Value]) -> Option<Finding> {
    let keys = items
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|m| m.keys());
    super::vendor_fields(
        "models.list_shape",
        "on listed models",
        "/data",
        keys,
        &MODEL_FIELDS,
    )
}

/// `models.retrieve` on a 2xx `GET /models/{id}`.
pub(super) fn check_retrieve(cx: &mut Cx) {
    let wanted = cx
        .case
        .request
        .path
        .rsplit_once("/models/")
        .map(|(_, id)| id.trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let Some(body) = cx.json().cloned() else {
        cx.push(
            Finding::new("models.retrieve", Violation, "the model object is not JSON")
                .sdk("openai-python returns the raw text instead of a Model; openai-node fails to parse it"),
        );
        return;
    };
    if body.get("data").is_some() && body.get("id").is_none() {
        cx.push(
            Finding::new(
                "models.retrieve",
                Warning,
                "`GET /models/{id}` answered with a list, not one model object",
            )
            .at(""),
        );
        return;
    }
    if let Some(id) = body.get("id").and_then(Value::as_str)
        && id != wanted
    {
        cx.push(
            Finding::new(
                "models.retrieve",
                Warning,
                "the model object's `id` is not the id asked for",
            )
            .at("/id")
            .expected(&wanted)
            .actual(id),
        );
    }
}

/// `models.schema`: ListModelsResponse or Model.
pub(super) fn check_schema(cx: &mut Cx) {
    let Some(body) = cx.json().cloned() else {
        return;
    };
    match cx.endpoint {
        Endpoint::ListModels if body.is_object() => {
            cx.push_schema_errors("models.schema", "ListModelsResponse", &body);
        }
        Endpoint::RetrieveModel if body.get("id").is_some() => {
            cx.push_schema_errors("models.schema", "Model", &body);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    fn list_case() -> crate::plan::PlannedCase {
        case("cases:\n  - name: l\n    request: {path: /models}\n")
    }

    #[test]
    fn an_openai_list_passes() {
        let body =
            r#"{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"o"}]}"#;
        assert_eq!(
            ids(&judge(&list_case(), 200, "application/json", body)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn bare_arrays_and_missing_fields() {
        let bare = r#"[{"id":"m"}]"#;
        assert_eq!(
            ids(&judge(&list_case(), 200, "application/json", bare)),
            ["models.list_shape violation"]
        );
        let missing = r#"{"data":[{"id":"m","object":"model"}]}"#;
        let v = judge(&list_case(), 200, "application/json", missing);
        let found: Vec<_> = v
            .findings
            .iter()
            .map(|f| format!("{} {}", f.check, f.path.clone().unwrap()))
            .collect();
        assert_eq!(
            found,
            [
                "models.list_shape /object",
                "models.schema /data/0/created",
                "models.schema /data/0/owned_by"
            ]
        );
    }

    /// LiteLLM's models carry `mode`, `max_input_tokens` and `max_output_tokens`: tolerated,
    /// reported once as info.
    #[test]
    fn vendor_fields_on_listed_models_are_info() {
        let body = r#"{"data":[{"id":"a","object":"model","created":1,"owned_by":"o","mode":"chat","max_input_tokens":128000},{"id":"b","object":"model","created":1,"owned_by":"o","max_output_tokens":16384}],"object":"list"}"#;
        let v = judge(&list_case(), 200, "application/json", body);
        assert_eq!(ids(&v), ["models.list_shape info"]);
        assert_eq!(
            v.findings[0].message,
            "vendor fields on listed models: max_input_tokens, max_output_tokens, mode"
        );
        assert_eq!(v.outcome, crate::check::Outcome::Pass);
    }

    #[test]
    fn retrieve_checks_the_id() {
        let c = case("cases:\n  - name: r\n    request: {path: /models/m}\n");
        let body = r#"{"id":"other","object":"model","created":1,"owned_by":"o"}"#;
        assert_eq!(
            ids(&judge(&c, 200, "application/json", body)),
            ["models.retrieve warning"]
        );
    }

    #[test]
    fn a_missing_retrieve_endpoint_is_a_warning_not_a_failure() {
        let c = case("cases:\n  - name: r\n    request: {path: /models/m}\n");
        let body = r#"{"error":{"message":"Not Found","type":"invalid_request_error","param":null,"code":"not_found"}}"#;
        let v = judge(&c, 404, "application/json", body);
        assert_eq!(ids(&v), ["models.retrieve warning"]);
        assert_eq!(v.outcome, crate::check::Outcome::Pass);
    }
}
