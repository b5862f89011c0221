//! Deterministic instance generation from a JSON Schema: the fake model's structured outputs
//! (`response_format: json_schema`) and tool-call arguments.
//!
//! Precedence per schema: `const`, then `enum[0]`, then `default`, then `$ref` (`#`, `#/$defs/..`,
//! `#/definitions/..`, any local JSON pointer), `allOf` (merged), `anyOf`/`oneOf` (first
//! branch), then by `type`. This is a generator, not a validator: the judge validates what it
//! produces with its own code, so the two cannot share a blind spot.

use serde_json::{Map, Number, Value, json};

/// Past this depth, arrays get only `minItems` items, objects only their `required`
/// properties, and unions prefer a branch without `$ref`: recursive schemas stay finite.
const SOFT_DEPTH: usize = 8;
/// Past this depth, every schema yields the smallest value of its type.
const HARD_DEPTH: usize = 32;
/// Bound on generated array length, whatever `minItems` says.
const MAX_ITEMS: u64 = 1024;

/// A value that `schema` accepts (best effort: `pattern` and `not` are not honoured).
pub(crate) fn instance(schema: &Value) -> Value {
    Generator { root: schema }.generate(schema, 0, 0)
}

struct Generator<'a> {
    root: &'a Value,
}

impl Generator<'_> {
    /// `variant` > 0 asks for a value different from variant 0 (items of `uniqueItems` arrays).
    fn generate(&self, schema: &Value, depth: usize, variant: usize) -> Value {
        let obj = match schema {
            Value::Object(obj) => obj,
            // `true` accepts anything; `false` nothing, and null is as good a miss as any.
            Value::Bool(true) => return json!({}),
            _ => return Value::Null,
        };
        if let Some(value) = obj.get("const") {
            return value.clone();
        }
        if let Some(Value::Array(values)) = obj.get("enum")
            && !values.is_empty()
        {
            return values[variant % values.len()].clone();
        }
        if variant == 0
            && let Some(value) = obj.get("default")
        {
            return value.clone();
        }
        if depth >= HARD_DEPTH {
            return smallest(obj);
        }
        if let Some(Value::String(reference)) = obj.get("$ref") {
            let target = self.resolve(reference).cloned().unwrap_or(json!({}));
            let merged = merge(without(obj, "$ref"), &target);
            return self.generate(&Value::Object(merged), depth + 1, variant);
        }
        if let Some(Value::Array(parts)) = obj.get("allOf") {
            let mut merged = without(obj, "allOf");
            for part in parts {
                let part = match part.get("$ref") {
                    Some(Value::String(reference)) => {
                        self.resolve(reference).cloned().unwrap_or(json!({}))
                    }
                    _ => part.clone(),
                };
                merged = merge(merged, &part);
            }
            return self.generate(&Value::Object(merged), depth + 1, variant);
        }
        for union in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = obj.get(union)
                && !branches.is_empty()
            {
                let branch = if depth >= SOFT_DEPTH {
                    branches
                        .iter()
                        .find(|b| b.get("$ref").is_none())
                        .unwrap_or(&branches[0])
                } else {
                    &branches[0]
                };
                let merged = merge(without(obj, union), branch);
                return self.generate(&Value::Object(merged), depth + 1, variant);
            }
        }
        match type_of(obj) {
            "null" => Value::Null,
            "boolean" => Value::Bool(variant % 2 == 0),
            "integer" => Value::from(integer(obj, variant)),
            "number" => Number::from_f64(number(obj, variant)).map_or(Value::Null, Value::Number),
            "string" => Value::String(string(obj, variant)),
            "array" => Value::Array(self.array(obj, depth)),
            _ => Value::Object(self.object(obj, depth)),
        }
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        match reference {
            "#" => Some(self.root),
            pointer if pointer.starts_with("#/") => self.root.pointer(&pointer[1..]),
            _ => None,
        }
    }

    fn array(&self, obj: &Map<String, Value>, depth: usize) -> Vec<Value> {
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = obj.get("maxItems").and_then(Value::as_u64);
        let mut count = if depth >= SOFT_DEPTH { min } else { min.max(1) };
        if let Some(max) = max {
            count = count.min(max);
        }
        let count = count.min(MAX_ITEMS) as usize;
        // Tuple forms: 2020-12 `prefixItems` + `items`, draft 4 array `items` + `additionalItems`.
        let (prefix, rest): (&[Value], Option<&Value>) =
            match (obj.get("prefixItems"), obj.get("items")) {
                (Some(Value::Array(prefix)), items) => (prefix, items),
                (_, Some(Value::Array(prefix))) => (prefix, obj.get("additionalItems")),
                (_, items) => (&[], items),
            };
        let unique = obj.get("uniqueItems") == Some(&Value::Bool(true));
        let empty = json!({});
        (0..count)
            .map(|i| {
                let item_schema = prefix.get(i).or(rest).unwrap_or(&empty);
                let variant = if unique { i } else { 0 };
                self.generate(item_schema, depth + 1, variant)
            })
            .collect()
    }

    fn object(&self, obj: &Map<String, Value>, depth: usize) -> Map<String, Value> {
        let required: Vec<&str> = match obj.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let only_required = depth >= SOFT_DEPTH && obj.contains_key("required");
        let mut out = Map::new();
        if let Some(Value::Object(properties)) = obj.get("properties") {
            for (name, property) in properties {
                if only_required && !required.contains(&name.as_str()) {
                    continue;
                }
                out.insert(name.clone(), self.generate(property, depth + 1, 0));
            }
        }
        // Required names without a property schema take the `additionalProperties` schema.
        let extra = match obj.get("additionalProperties") {
            Some(schema @ Value::Object(_)) => schema.clone(),
            _ => json!({"type": "string"}),
        };
        for name in required {
            if !out.contains_key(name) {
                out.insert(name.to_owned(), self.generate(&extra, depth + 1, 0));
            }
        }
        out
    }
}

/// The schema's type: the first non-null entry of `type`, else one inferred from keywords.
fn type_of(obj: &Map<String, Value>) -> &str {
    match obj.get("type") {
        Some(Value::String(t)) => return t,
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if let Some(t) = names.iter().find(|t| **t != "null") {
                return t;
            }
            if !names.is_empty() {
                return "null";
            }
        }
        _ => {}
    }
    let has = |keys: &[&str]| keys.iter().any(|k| obj.contains_key(*k));
    if has(&["properties", "required", "additionalProperties"]) {
        "object"
    } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
        "array"
    } else if has(&["minLength", "maxLength", "pattern", "format"]) {
        "string"
    } else if has(&["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) {
        "number"
    } else {
        // No constraint at all: an empty object is a useful "anything".
        "object"
    }
}

/// The smallest value of the schema's type, for the depth limit.
fn smallest(obj: &Map<String, Value>) -> Value {
    match type_of(obj) {
        "null" => Value::Null,
        "boolean" => Value::Bool(true),
        "integer" => Value::from(integer(obj, 0)),
        "number" => Number::from_f64(number(obj, 0)).map_or(Value::Null, Value::Number),
        "string" => Value::String(string(obj, 0)),
        "array" => json!([]),
        _ => json!({}),
    }
}

fn without(obj: &Map<String, Value>, key: &str) -> Map<String, Value> {
    let mut copy = obj.clone();
    copy.remove(key);
    copy
}

/// Merges `extra` into `base`: `properties` maps are united, `required` lists concatenated
/// without repeats, other keywords keep `base`'s value when both have one.
fn merge(mut base: Map<String, Value>, extra: &Value) -> Map<String, Value> {
    let Value::Object(extra) = extra else {
        return base;
    };
    for (key, value) in extra {
        match (key.as_str(), base.get_mut(key), value) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (name, schema) in theirs {
                    mine.entry(name.clone()).or_insert_with(|| schema.clone());
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                for name in theirs {
                    if !mine.contains(name) {
                        mine.push(name.clone());
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, _) => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
    base
}

/// A `minimum`/`maximum` (inclusive) or `exclusiveMinimum`/`exclusiveMaximum` bound.
#[derive(Debug, Clone, Copy)]
struct Bound {
    value: f64,
    exclusive: bool,
}

/// The lower and upper bounds; draft 4 boolean `exclusiveMinimum`/`exclusiveMaximum` and
/// draft 6+ numeric ones are both understood.
fn bounds(obj: &Map<String, Value>) -> [Option<Bound>; 2] {
    let bound = |inclusive: &str, exclusive: &str| {
        let (value, exclusive) = match (
            obj.get(inclusive).and_then(Value::as_f64),
            obj.get(exclusive),
        ) {
            (_, Some(Value::Number(n))) => (n.as_f64()?, true),
            (Some(v), Some(Value::Bool(true))) => (v, true),
            (Some(v), _) => (v, false),
            (None, _) => return None,
        };
        Some(Bound { value, exclusive })
    };
    [
        bound("minimum", "exclusiveMinimum"),
        bound("maximum", "exclusiveMaximum"),
    ]
}

fn integer(obj: &Map<String, Value>, variant: usize) -> i64 {
    let [lo, hi] = bounds(obj);
    let lo = lo.map(|b| {
        if b.exclusive {
            b.value.floor() as i64 + 1
        } else {
            b.value.ceil() as i64
        }
    });
    let hi = hi.map(|b| {
        if b.exclusive {
            b.value.ceil() as i64 - 1
        } else {
            b.value.floor() as i64
        }
    });
    let step = variant as i64;
    let mut value = 1 + step;
    if let Some(lo) = lo
        && value < lo
    {
        value = lo.saturating_add(step);
    }
    if let Some(hi) = hi
        && value > hi
    {
        value = lo.map_or(hi - step, |lo| hi.saturating_sub(step).max(lo));
    }
    if let Some(m) = obj.get("multipleOf").and_then(Value::as_i64)
        && m > 0
        && value % m != 0
    {
        let up = (value.div_euclid(m) + 1) * m;
        value = match hi {
            Some(hi) if up > hi => value.div_euclid(m) * m,
            _ => up,
        };
    }
    value
}

fn number(obj: &Map<String, Value>, variant: usize) -> f64 {
    let [lo, hi] = bounds(obj);
    let mut value = 1.5 + variant as f64;
    if let Some(low) = lo
        && (value < low.value || (low.exclusive && value <= low.value))
    {
        value = match (low.exclusive, hi) {
            (true, Some(high)) => (low.value + high.value) / 2.0,
            (true, None) => low.value + 1.0,
            (false, _) => low.value,
        };
    }
    if let Some(high) = hi
        && (value > high.value || (high.exclusive && value >= high.value))
    {
        value = match (high.exclusive, lo) {
            (true, Some(low)) => (low.value + high.value) / 2.0,
            (true, None) => high.value - 1.0,
            (false, _) => high.value,
        };
    }
    if let Some(m) = obj.get("multipleOf").and_then(Value::as_f64)
        && m > 0.0
    {
        value = (value / m).ceil() * m;
    }
    if value.is_finite() { value } else { 0.0 }
}

fn string(obj: &Map<String, Value>, variant: usize) -> String {
    let format = obj.get("format").and_then(Value::as_str);
    let base = match format {
        Some("date-time") => "2024-01-01T00:00:00Z",
        Some("date") => "2024-01-01",
        Some("time") => "00:00:00",
        Some("duration") => "P1D",
        Some("email" | "idn-email") => "gatecheck@example.com",
        Some("hostname" | "idn-hostname") => "example.com",
        Some("ipv4") => "127.0.0.1",
        Some("ipv6") => "::1",
        Some("uri" | "url" | "iri" | "uri-reference" | "iri-reference") => {
            "https://example.com/gatecheck"
        }
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        _ => "gatecheck",
    };
    let mut value = base.to_owned();
    if variant > 0 {
        // Distinct items for `uniqueItems`; formatted strings get a distinct suffix too.
        value = match format {
            Some("uuid") => format!("00000000-0000-4000-8000-{variant:012}"),
            Some("date-time" | "date" | "time" | "duration" | "ipv4" | "ipv6") => value,
            _ => format!("{value}{variant}"),
        };
    }
    if let Some(min) = obj.get("minLength").and_then(Value::as_u64) {
        let missing = (min as usize).saturating_sub(value.chars().count());
        value.extend(std::iter::repeat_n('x', missing.min(1 << 20)));
    }
    if let Some(max) = obj.get("maxLength").and_then(Value::as_u64) {
        value = value.chars().take(max as usize).collect();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_precedence() {
        assert_eq!(instance(&json!({"const": 7, "enum": [1]})), json!(7));
        assert_eq!(
            instance(&json!({"enum": ["a", "b"], "default": "b"})),
            json!("a")
        );
        assert_eq!(
            instance(&json!({"type": "integer", "default": 9})),
            json!(9)
        );
    }

    #[test]
    fn scalars() {
        assert_eq!(instance(&json!({"type": "string"})), json!("gatecheck"));
        assert_eq!(instance(&json!({"type": "integer"})), json!(1));
        assert_eq!(instance(&json!({"type": "number"})), json!(1.5));
        assert_eq!(instance(&json!({"type": "boolean"})), json!(true));
        assert_eq!(instance(&json!({"type": "null"})), json!(null));
        assert_eq!(
            instance(&json!({"type": ["null", "string"]})),
            json!("gatecheck")
        );
    }

    #[test]
    fn string_constraints_and_formats() {
        assert_eq!(
            instance(&json!({"type": "string", "minLength": 12})),
            json!("gatecheckxxx")
        );
        assert_eq!(
            instance(&json!({"type": "string", "maxLength": 4})),
            json!("gate")
        );
        assert_eq!(
            instance(&json!({"type": "string", "format": "date-time"})),
            json!("2024-01-01T00:00:00Z")
        );
        assert_eq!(
            instance(&json!({"type": "string", "format": "email"})),
            json!("gatecheck@example.com")
        );
    }

    #[test]
    fn numeric_bounds() {
        assert_eq!(
            instance(&json!({"type": "integer", "minimum": 5})),
            json!(5)
        );
        assert_eq!(
            instance(&json!({"type": "integer", "maximum": -3})),
            json!(-3)
        );
        assert_eq!(
            instance(&json!({"type": "integer", "exclusiveMinimum": 1})),
            json!(2)
        );
        assert_eq!(
            instance(&json!({"type": "integer", "minimum": 3, "multipleOf": 5})),
            json!(5)
        );
        assert_eq!(
            instance(&json!({"type": "number", "minimum": 2})),
            json!(2.0)
        );
        assert_eq!(
            instance(&json!({"type": "number", "maximum": 1})),
            json!(1.0)
        );
        assert_eq!(
            instance(&json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})),
            json!(0.5)
        );
    }

    #[test]
    fn arrays() {
        assert_eq!(
            instance(&json!({"type": "array", "items": {"type": "integer"}})),
            json!([1])
        );
        assert_eq!(
            instance(&json!({"type": "array", "items": {"type": "string"}, "minItems": 2})),
            json!(["gatecheck", "gatecheck"])
        );
        assert_eq!(
            instance(&json!({"type": "array", "maxItems": 0})),
            json!([])
        );
        assert_eq!(
            instance(
                &json!({"type": "array", "items": {"type": "string"}, "minItems": 2,
                "uniqueItems": true})
            ),
            json!(["gatecheck", "gatecheck1"])
        );
        assert_eq!(
            instance(
                &json!({"type": "array", "prefixItems": [{"type": "integer"},
                {"type": "boolean"}], "minItems": 2})
            ),
            json!([1, true])
        );
    }

    #[test]
    fn objects_include_every_property() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7}
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": false
        });
        assert_eq!(
            instance(&schema),
            json!({"city": "gatecheck", "unit": "celsius", "days": 1})
        );
        assert_eq!(
            instance(&json!({"type": "object", "required": ["x"]})),
            json!({"x": "gatecheck"})
        );
    }

    #[test]
    fn unions_take_the_first_branch_and_all_of_merges() {
        assert_eq!(
            instance(&json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})),
            json!(1)
        );
        assert_eq!(
            instance(&json!({"oneOf": [{"type": "boolean"}, {"type": "string"}]})),
            json!(true)
        );
        assert_eq!(
            instance(&json!({"allOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}},
                {"properties": {"b": {"type": "string"}}, "required": ["b"]}
            ]})),
            json!({"a": 1, "b": "gatecheck"})
        );
    }

    #[test]
    fn refs_resolve_to_defs_and_definitions() {
        let schema = json!({
            "type": "object",
            "properties": {
                "step": {"$ref": "#/$defs/step"},
                "old": {"$ref": "#/definitions/old"}
            },
            "$defs": {"step": {"type": "object", "properties": {"n": {"type": "integer"}}}},
            "definitions": {"old": {"type": "string", "enum": ["x"]}}
        });
        assert_eq!(instance(&schema), json!({"step": {"n": 1}, "old": "x"}));
    }

    #[test]
    fn recursive_schemas_terminate() {
        let schema = json!({
            "$ref": "#/$defs/node",
            "$defs": {"node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}
                },
                "required": ["name", "children"]
            }}
        });
        let value = instance(&schema);
        assert_eq!(value["name"], json!("gatecheck"));
        assert!(value["children"].is_array());
        let nullable = json!({
            "type": "object",
            "properties": {"next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
            "required": ["next"]
        });
        assert!(instance(&nullable).is_object());
    }

    #[test]
    fn schemaless_is_an_empty_object() {
        assert_eq!(instance(&json!({})), json!({}));
        assert_eq!(instance(&json!(true)), json!({}));
    }
}
