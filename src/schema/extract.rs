//! Extraction of standalone JSON Schemas (draft 2020-12) from the OpenAI OpenAPI document.
//!
//! For each root component the `$ref` closure is copied under `$defs`, references are rewritten
//! to `#/$defs/NAME`, OpenAPI-only keywords are dropped (`x-*`, `discriminator`, `example`) and
//! OpenAPI 3.0's `nullable: true` (still present in the 3.1 document) becomes a `null` type, so
//! that a plain JSON Schema validator reads the schemas exactly as the spec means them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// The components gatecheck validates against, in the order they are written.
pub const ROOTS: [&str; 6] = [
    "CreateChatCompletionRequest",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ErrorResponse",
    "ListModelsResponse",
    "Model",
];

const REF_PREFIX: &str = "#/components/schemas/";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExtractError {
    #[error("the OpenAPI document has no `components.schemas` object")]
    NoComponents,
    #[error("component `{0}` is not in the OpenAPI document")]
    MissingComponent(String),
    #[error("unsupported reference `{0}` (only {REF_PREFIX}NAME is supported)")]
    UnsupportedRef(String),
}

/// Extracts each of `roots` as a standalone schema, keyed by component name.
pub fn extract(openapi: &Value, roots: &[&str]) -> Result<BTreeMap<String, Value>, ExtractError> {
    let components = openapi
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or(ExtractError::NoComponents)?;
    let origin = openapi
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let mut out = BTreeMap::new();
    for &root in roots {
        let closure = closure(components, root)?;
        let defs: Map<String, Value> = closure
            .iter()
            .map(|name| (name.clone(), convert(&components[name.as_str()])))
            .collect();
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$comment": format!(
                "Extracted from the OpenAI OpenAPI spec (info.version {origin}) by `gatecheck schemas extract`. Do not edit."
            ),
            "title": root,
            "$ref": format!("#/$defs/{root}"),
            "$defs": defs,
        });
        out.insert(root.to_owned(), schema);
    }
    Ok(out)
}

/// Pretty JSON with sorted keys and a final newline: the committed form.
pub fn to_pretty(schema: &Value) -> String {
    let mut s = serde_json::to_string_pretty(schema).expect("a Value always serializes");
    s.push('\n');
    s
}

/// The names of `root` and every component it reaches through `$ref`.
fn closure(components: &Map<String, Value>, root: &str) -> Result<BTreeSet<String>, ExtractError> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_owned()];
    while let Some(name) = todo.pop() {
        if seen.contains(&name) {
            continue;
        }
        let schema = components
            .get(&name)
            .ok_or_else(|| ExtractError::MissingComponent(name.clone()))?;
        let mut refs = Vec::new();
        collect_refs(schema, &mut refs);
        for r in refs {
            let target = r
                .strip_prefix(REF_PREFIX)
                .ok_or_else(|| ExtractError::UnsupportedRef(r.to_owned()))?;
            todo.push(target.to_owned());
        }
        seen.insert(name);
    }
    Ok(seen)
}

fn collect_refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Keywords whose value is a schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "items",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
/// OpenAPI keywords that mean nothing to a JSON Schema validator.
const DROPPED: &[&str] = &[
    "discriminator",
    "example",
    "examples",
    "xml",
    "externalDocs",
];

/// Converts one OpenAPI schema object into a JSON Schema 2020-12 schema.
fn convert(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone(); // `true` / `false` schemas
    };
    let mut out = Map::new();
    let mut nullable = false;
    for (key, value) in map {
        let key = key.as_str();
        if key.starts_with("x-") || DROPPED.contains(&key) {
            continue;
        }
        if key == "nullable" {
            nullable = value == &Value::Bool(true);
            continue;
        }
        let converted = if key == "$ref" {
            match value.as_str().and_then(|r| r.strip_prefix(REF_PREFIX)) {
                Some(name) => Value::String(format!("#/$defs/{name}")),
                None => value.clone(),
            }
        } else if SCHEMA_KEYWORDS.contains(&key) {
            convert(value)
        } else if SCHEMA_LIST_KEYWORDS.contains(&key) {
            match value {
                Value::Array(items) => Value::Array(items.iter().map(convert).collect()),
                other => other.clone(),
            }
        } else if SCHEMA_MAP_KEYWORDS.contains(&key) {
            match value {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .map(|(name, s)| (name.clone(), convert(s)))
                        .collect(),
                ),
                other => other.clone(),
            }
        } else {
            value.clone()
        };
        out.insert(key.to_owned(), converted);
    }
    if nullable {
        make_nullable(out)
    } else {
        Value::Object(out)
    }
}

/// Applies OpenAPI 3.0 `nullable: true`: null becomes an accepted value.
fn make_nullable(mut schema: Map<String, Value>) -> Value {
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match schema.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            schema.insert("type".into(), json!([t, "null"]));
            Value::Object(schema)
        }
        Some(Value::Array(types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            Value::Object(schema)
        }
        // No type to widen (a `$ref`, a combinator): accept null beside the schema.
        _ => json!({ "anyOf": [Value::Object(schema), { "type": "null" }] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(schemas: Value) -> Value {
        json!({ "info": { "version": "test" }, "components": { "schemas": schemas } })
    }

    #[test]
    fn closure_follows_refs_and_rewrites_them() {
        let d = doc(json!({
            "A": { "type": "object", "properties": { "b": { "$ref": "#/components/schemas/B" } } },
            "B": { "type": "array", "items": { "$ref": "#/components/schemas/C" } },
            "C": { "type": "string" },
            "Unrelated": { "type": "integer" },
        }));
        let out = extract(&d, &["A"]).unwrap();
        let a = &out["A"];
        assert_eq!(a["$ref"], "#/$defs/A");
        let defs = a["$defs"].as_object().unwrap();
        assert_eq!(defs.keys().collect::<Vec<_>>(), ["A", "B", "C"]);
        assert_eq!(defs["A"]["properties"]["b"]["$ref"], "#/$defs/B");
        assert_eq!(defs["B"]["items"]["$ref"], "#/$defs/C");
    }

    #[test]
    fn nullable_becomes_a_null_type() {
        let d = doc(json!({
            "A": { "type": "object", "properties": {
                "t": { "type": "string", "nullable": true, "enum": ["a"] },
                "r": { "$ref": "#/components/schemas/B", "nullable": true },
                "n": { "type": "integer", "nullable": false },
            } },
            "B": { "type": "string" },
        }));
        let a = &extract(&d, &["A"]).unwrap()["A"]["$defs"]["A"]["properties"];
        assert_eq!(
            a["t"],
            json!({ "type": ["string", "null"], "enum": ["a", null] })
        );
        assert_eq!(
            a["r"],
            json!({ "anyOf": [{ "$ref": "#/$defs/B" }, { "type": "null" }] })
        );
        assert_eq!(a["n"], json!({ "type": "integer" }));
    }

    #[test]
    fn openapi_keywords_are_dropped_but_property_names_are_kept() {
        let d = doc(json!({
            "A": { "type": "object", "x-oaiMeta": {}, "discriminator": { "propertyName": "t" },
                   "example": 1, "properties": { "x-custom": { "type": "string", "x-stainless-const": true } } },
        }));
        let a = &extract(&d, &["A"]).unwrap()["A"]["$defs"]["A"];
        assert_eq!(
            a,
            &json!({ "type": "object", "properties": { "x-custom": { "type": "string" } } })
        );
    }

    #[test]
    fn missing_components_and_foreign_refs_are_errors() {
        let d = doc(json!({ "A": { "$ref": "#/components/schemas/Nope" } }));
        assert_eq!(
            extract(&d, &["A"]),
            Err(ExtractError::MissingComponent("Nope".into()))
        );
        let d = doc(json!({ "A": { "$ref": "other.json#/X" } }));
        assert_eq!(
            extract(&d, &["A"]),
            Err(ExtractError::UnsupportedRef("other.json#/X".into()))
        );
    }
}
