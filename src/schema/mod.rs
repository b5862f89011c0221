//! JSON Schemas by name: the OpenAI schemas extracted into `schemas/openai/` (embedded in the
//! binary), each compiled once per process on first use, and ad-hoc schemas a request declares
//! (tool parameters, `json_schema` response formats). Failures name the instance path.

pub mod extract;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// The committed schemas, embedded so an installed binary needs no files beside it.
const EMBEDDED: [(&str, &str); 6] = [
    (
        "CreateChatCompletionRequest",
        include_str!("../../schemas/openai/CreateChatCompletionRequest.json"),
    ),
    (
        "CreateChatCompletionResponse",
        include_str!("../../schemas/openai/CreateChatCompletionResponse.json"),
    ),
    (
        "CreateChatCompletionStreamResponse",
        include_str!("../../schemas/openai/CreateChatCompletionStreamResponse.json"),
    ),
    (
        "ErrorResponse",
        include_str!("../../schemas/openai/ErrorResponse.json"),
    ),
    (
        "ListModelsResponse",
        include_str!("../../schemas/openai/ListModelsResponse.json"),
    ),
    ("Model", include_str!("../../schemas/openai/Model.json")),
];

/// The names a suite may use in `expect.schema`.
pub fn names() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(name, _)| *name)
}

/// The raw (uncompiled) schema document for `name`.
pub fn document(name: &str) -> Option<&'static Value> {
    static DOCS: OnceLock<BTreeMap<&'static str, Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        EMBEDDED
            .iter()
            .map(|(name, text)| {
                let value = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("embedded schema {name} is not JSON: {e}"));
                (*name, value)
            })
            .collect()
    })
    .get(name)
}

/// One way an instance fails a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON pointer into the instance (`/choices/0/logprobs`); for a missing property, the
    /// pointer of the property that should be there.
    pub instance_path: String,
    pub message: String,
}

/// Validates `instance` against the embedded schema `name`. Compiles the schema on first use.
///
/// # Panics
/// When `name` is not an embedded schema: suites are checked at load time, so this is a bug.
pub fn validate(name: &str, instance: &Value) -> Vec<SchemaError> {
    errors(validator(name), instance)
}

/// The compiled validator of an embedded schema, compiled on first use.
fn validator(name: &str) -> &'static jsonschema::Validator {
    static COMPILED: OnceLock<BTreeMap<&'static str, OnceLock<jsonschema::Validator>>> =
        OnceLock::new();
    let slots = COMPILED.get_or_init(|| names().map(|n| (n, OnceLock::new())).collect());
    let slot = slots
        .get(name)
        .unwrap_or_else(|| panic!("no embedded schema named {name}"));
    slot.get_or_init(|| {
        let doc = document(name).expect("names() and documents agree");
        compile(doc).unwrap_or_else(|e| panic!("embedded schema {name} does not compile: {e}"))
    })
}

/// Whether `instance` is valid against the embedded schema `name` (faster than collecting
/// errors; the stream judge asks this of every chunk and collects errors only when it fails).
pub fn is_valid(name: &str, instance: &Value) -> bool {
    validator(name).is_valid(instance)
}

/// Compiles every embedded schema now (start-up cost paid up front, e.g. before a benchmark).
pub fn warm_up() {
    for name in names() {
        validate(name, &Value::Null);
    }
}

/// Compiles a schema a request declared (tool parameters, a json_schema response format).
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(false)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Validates against an ad-hoc schema; an uncompilable schema is reported as one error at `""`.
pub fn validate_adhoc(schema: &Value, instance: &Value) -> Vec<SchemaError> {
    match compile(schema) {
        Ok(v) => errors(&v, instance),
        Err(e) => vec![SchemaError {
            instance_path: String::new(),
            message: format!("the declared schema does not compile: {e}"),
        }],
    }
}

/// Like [`validate_adhoc`], for a schema that lives as long as the process (a profile's): it is
/// compiled once, on first use.
pub fn validate_static(schema: &'static Value, instance: &Value) -> Vec<SchemaError> {
    type Cache = std::sync::Mutex<HashMap<usize, Arc<Result<jsonschema::Validator, String>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = std::ptr::from_ref(schema) as usize;
    let compiled = CACHE
        .get_or_init(Default::default)
        .lock()
        .expect("not poisoned")
        .entry(key)
        .or_insert_with(|| Arc::new(compile(schema)))
        .clone();
    match compiled.as_ref() {
        Ok(v) => errors(v, instance),
        Err(e) => vec![SchemaError {
            instance_path: String::new(),
            message: format!("the declared schema does not compile: {e}"),
        }],
    }
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<SchemaError> {
    validator
        .iter_errors(instance)
        .map(|e| {
            let mut path = e.instance_path().as_str().to_owned();
            let message = match e.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property
                        .as_str()
                        .map_or_else(|| property.to_string(), str::to_owned);
                    path.push('/');
                    path.push_str(&escape_pointer(&name));
                    format!("missing required property `{name}`")
                }
                ValidationErrorKind::Type { kind } => {
                    let found = type_name(e.instance());
                    format!("expected {}, found {found}", describe_type_kind(kind))
                }
                ValidationErrorKind::Enum { options } => {
                    format!("{} is not one of {}", short(e.instance()), short(options))
                }
                ValidationErrorKind::Constant { expected_value } => {
                    format!("{} is not {}", short(e.instance()), short(expected_value))
                }
                // The instance may be a megabyte of base64: the pattern must survive the cut.
                ValidationErrorKind::Pattern { pattern } => {
                    format!("{} does not match `{pattern}`", short(e.instance()))
                }
                _ => truncate(&e.to_string(), 200),
            };
            SchemaError {
                instance_path: path,
                message,
            }
        })
        .collect()
}

fn describe_type_kind(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
        jsonschema::error::TypeKind::Single(t) => t.to_string(),
        jsonschema::error::TypeKind::Multiple(ts) => {
            let names: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
            names.join(" or ")
        }
    }
}

/// The JSON type of a value, in schema words.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value as compact JSON, cut to a readable length.
pub fn short(value: &Value) -> String {
    truncate(&value.to_string(), 80)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}...")
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal_completion() -> Value {
        json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{ "index": 0, "finish_reason": "stop", "logprobs": null,
                "message": { "role": "assistant", "content": "hi", "refusal": null } }]
        })
    }

    #[test]
    fn a_minimal_openai_completion_is_valid() {
        assert_eq!(
            validate("CreateChatCompletionResponse", &minimal_completion()),
            vec![]
        );
    }

    #[test]
    fn missing_required_property_names_its_path() {
        let mut body = minimal_completion();
        body["choices"][0]
            .as_object_mut()
            .unwrap()
            .remove("logprobs");
        let errs = validate("CreateChatCompletionResponse", &body);
        assert_eq!(
            errs,
            vec![SchemaError {
                instance_path: "/choices/0/logprobs".into(),
                message: "missing required property `logprobs`".into()
            }]
        );
    }

    #[test]
    fn wrong_type_and_enum_say_what_was_found() {
        let mut body = minimal_completion();
        body["created"] = json!("yesterday");
        body["choices"][0]["finish_reason"] = json!("eos");
        let errs = validate("CreateChatCompletionResponse", &body);
        assert!(
            errs.contains(&SchemaError {
                instance_path: "/created".into(),
                message: "expected integer, found string".into()
            }),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.instance_path == "/choices/0/finish_reason"
                    && e.message.starts_with("\"eos\" is not one of")),
            "{errs:?}"
        );
    }

    /// The stream schema uses OpenAPI 3.0 `nullable`; real OpenAI chunks carry `logprobs: null`.
    #[test]
    fn nullable_fields_accept_null_in_stream_chunks() {
        let chunk = json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{ "index": 0, "delta": { "role": "assistant", "content": "" },
                          "logprobs": null, "finish_reason": null }]
        });
        assert_eq!(
            validate("CreateChatCompletionStreamResponse", &chunk),
            vec![]
        );
    }

    #[test]
    fn openai_error_bodies_are_valid_and_flat_ones_are_not() {
        let ok = json!({ "error": { "message": "m", "type": "invalid_request_error", "param": null, "code": null } });
        assert_eq!(validate("ErrorResponse", &ok), vec![]);
        let flat = json!({ "object": "error", "message": "m", "code": 400 });
        let errs = validate("ErrorResponse", &flat);
        assert_eq!(errs[0].instance_path, "/error");
    }

    #[test]
    fn adhoc_schemas_validate_and_report_compile_errors() {
        let params = json!({ "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] });
        assert_eq!(validate_adhoc(&params, &json!({ "city": "Paris" })), vec![]);
        assert_eq!(
            validate_adhoc(&params, &json!({}))[0].instance_path,
            "/city"
        );
        let broken = json!({ "type": 12 });
        assert!(
            validate_adhoc(&broken, &json!(1))[0]
                .message
                .contains("does not compile")
        );
    }

    /// Found writing fixtures/exchanges/profiles/rout_my_image_url_not_a_url.http: a pattern
    /// error quoted the whole instance and was cut at 200 characters, so a bare base64 image lost
    /// the pattern it failed.
    #[test]
    fn a_pattern_error_keeps_the_pattern_when_the_value_is_long() {
        let url = json!({ "type": "string", "pattern": "^(data:image/|https?://)" });
        let e = &validate_adhoc(&url, &json!("iVBORw0K".repeat(1000)))[0];
        assert!(
            e.message
                .ends_with("... does not match `^(data:image/|https?://)`"),
            "{}",
            e.message
        );
        assert!(e.message.len() < 150, "{}", e.message);
    }
}
