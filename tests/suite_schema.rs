//! `schemas/suite.schema.json` is the suite format's documentation for editors and other tools.
//! These tests keep it honest: the shipped suites validate against it, its enums are the
//! loader's (capabilities, error kinds, schema names, check ids), and it rejects the structural
//! mistakes in `tests/bad_suites/` that the loader rejects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gatecheck::{catalog, schema, suite, yaml};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn suite_schema() -> Value {
    let path = root().join("schemas/suite.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&suite_schema())
        .unwrap_or_else(|e| panic!("schemas/suite.schema.json does not compile: {e}"))
}

/// A YAML file as the JSON the schema sees, through the same reader the loader uses.
fn yaml_to_json(text: &str) -> Result<Value, String> {
    match yaml::parse(text) {
        Ok(Some(node)) => node.to_json().map_err(|e| e.message),
        Ok(None) => Ok(Value::Null),
        Err(e) => Err(e.message),
    }
}

/// The schema's complaints about an instance, one line each (instance path and message).
fn violations(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path().as_str()))
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("enum of strings").to_owned())
        .collect()
}

#[test]
fn the_schema_is_valid_draft_2020_12() {
    let schema = suite_schema();
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the schema declares its draft"
    );
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("schemas/suite.schema.json breaks its meta-schema: {e}");
    }
}

#[test]
fn every_shipped_suite_validates() {
    let validator = validator();
    let files = yaml_files(&root().join("suites"));
    assert!(!files.is_empty(), "no suites in suites/");
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        let shown = path
            .strip_prefix(root())
            .unwrap_or(path)
            .display()
            .to_string();
        match yaml_to_json(&text) {
            Ok(json) => failures.extend(
                violations(&validator, &json)
                    .into_iter()
                    .map(|v| format!("{shown}{v}")),
            ),
            Err(e) => failures.push(format!("{shown}: not YAML the loader reads: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Mistakes that a JSON Schema cannot see: they are about text inside strings (variables,
/// regexes) or about two items at once (case names). The loader alone catches them.
const BEYOND_A_SCHEMA: &[&str] = &[
    "bad_regex.yaml",
    "bad_variable_syntax.yaml",
    "duplicate_case_name.yaml",
    "undefined_variable.yaml",
];

#[test]
fn the_schema_rejects_the_structural_mistakes_in_bad_suites() {
    let validator = validator();
    let files = yaml_files(&root().join("tests/bad_suites"));
    let mut accepted = Vec::new();
    let mut rejected = 0;
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 name");
        let text = std::fs::read_to_string(path).expect("readable");
        // Files that are not YAML at all (syntax, tabs, duplicate keys) have no JSON to judge.
        let Ok(json) = yaml_to_json(&text) else {
            continue;
        };
        let valid = validator.is_valid(&json);
        if BEYOND_A_SCHEMA.contains(&name) {
            assert!(
                valid,
                "{name} is listed as beyond a schema, yet the schema rejects it"
            );
        } else if valid {
            accepted.push(name.to_owned());
        } else {
            rejected += 1;
        }
    }
    assert!(
        accepted.is_empty(),
        "the schema accepts bad suites the loader rejects: {}",
        accepted.join(", ")
    );
    assert!(rejected >= 25, "only {rejected} bad suites were judged");
}

#[test]
fn schema_and_loader_agree_on_edge_cases() {
    let validator = validator();
    let case = |body: &str| format!("cases:\n  - name: c\n{body}");
    // (suite text, whether both accept it)
    let examples = [
        (case("    request: {method: get, path: /models}\n"), true),
        (
            case("    request: {method: Delete, path: /models/x}\n"),
            true,
        ),
        (case("    request: {method: PUT, path: /models}\n"), false),
        (case("    request: {path: /models, body: null}\n"), true),
        (
            case("    request: {path: /chat/completions, body: null}\n"),
            false,
        ),
        (
            case("    request: {path: /chat/completions, raw_body: ''}\n"),
            true,
        ),
        (case("    request: {method: POST, path: /models}\n"), false),
        (
            case("    request: {method: GET, path: /chat/completions}\n"),
            true,
        ),
        (
            case("    request: {path: /models, headers: {X-Trace: '1'}}\n"),
            true,
        ),
        (
            case("    request: {path: /models, headers: {X-Trace: 1}}\n"),
            false,
        ),
        (
            case("    request: {path: /models, headers: {authorization: x}}\n"),
            false,
        ),
        (
            case("    request: {path: /models}\n    expect: {status: [400, 422]}\n"),
            true,
        ),
        (
            case("    request: {path: /models}\n    expect: {status: []}\n"),
            false,
        ),
        (
            case("    request: {path: /models}\n    expect: {status: 4xx}\n"),
            true,
        ),
        (
            case("    request: {path: /models}\n    expect: {status: 6xx}\n"),
            false,
        ),
        (
            case("    request: {path: /models}\n    expect: {status: '200'}\n"),
            false,
        ),
        (
            case("    request: {path: /models}\n    expect: {status: 99}\n"),
            false,
        ),
        (
            case(
                "    request: {path: /models}\n    expect: {assert: [{pointer: '', exists: true}]}\n",
            ),
            true,
        ),
        (
            case(
                "    request: {path: /models}\n    expect: {assert: [{pointer: /a, one_of: []}]}\n",
            ),
            false,
        ),
        (
            case(
                "    request: {path: /models}\n    expect: {assert: [{pointer: /a, equals: null}]}\n",
            ),
            true,
        ),
        (
            case("    request: {path: /models}\n    checks: ['tools.*', resp.envelope]\n"),
            true,
        ),
        (
            case("    request: {path: /models}\n    checks: [assert.status]\n"),
            false,
        ),
        (
            case("    requires: []\n    request: {path: /models}\n"),
            true,
        ),
        (
            case(
                "    parametrize: {x: [1, 2], y_2: [a]}\n    request: {path: '/models/${x}${y_2}'}\n",
            ),
            true,
        ),
        (
            case("    parametrize: {target: [a]}\n    request: {path: /models}\n"),
            false,
        ),
        (
            case("    parametrize: {model: [a, b]}\n    request: {path: '/models/${model}'}\n"),
            true,
        ),
        (
            case("    parametrize: {model: [a, 4]}\n    request: {path: '/models/${model}'}\n"),
            false,
        ),
        (
            "vars: {model: a}\ncases:\n  - name: c\n    request: {path: /models}\n".to_owned(),
            false,
        ),
        (
            "vars: {x: 1}\ncases:\n  - name: c\n    request: {path: '/models/${x}'}\n".to_owned(),
            true,
        ),
        (
            "vars: {x-y: 1}\ncases:\n  - name: c\n    request: {path: /models}\n".to_owned(),
            false,
        ),
        (
            "suite: a.b\ncases:\n  - name: c\n    request: {path: /models}\n".to_owned(),
            false,
        ),
        (
            case("    request: {path: /models}\n").replace("name: c", "name: 'c d'"),
            false,
        ),
        ("cases:\n".to_owned(), false),
    ];
    let mut disagreements = Vec::new();
    for (text, valid) in &examples {
        let json = yaml_to_json(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let by_schema = violations(&validator, &json);
        let by_loader = suite::load_sources([("suites/t.yaml".to_owned(), text.clone())]);
        if by_schema.is_empty() != *valid || by_loader.is_ok() != *valid {
            disagreements.push(format!(
                "{text}expected {}; schema: {by_schema:?}; loader: {}",
                if *valid { "valid" } else { "invalid" },
                by_loader
                    .err()
                    .map_or_else(|| "ok".to_owned(), |e| e.to_string()),
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{}",
        disagreements.join("\n---\n")
    );
}

#[test]
fn the_schema_enums_are_the_loaders() {
    let schema = suite_schema();
    let defs = &schema["$defs"];
    let capabilities: BTreeSet<String> = suite::Capability::ALL
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        strings(&defs["capability"]["enum"]),
        capabilities,
        "capabilities"
    );
    let error_kinds: BTreeSet<String> = suite::ErrorKind::ALL
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        strings(&defs["expect"]["properties"]["error"]["enum"]),
        error_kinds,
        "error kinds"
    );
    let schema_names: BTreeSet<String> = schema::names().map(str::to_owned).collect();
    assert_eq!(
        strings(&defs["expect"]["properties"]["schema"]["enum"]),
        schema_names,
        "schema names"
    );
    let json_types: BTreeSet<String> = suite::JsonType::ALL
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        strings(&defs["assertion"]["properties"]["type"]["enum"]),
        json_types,
        "JSON types"
    );
    let ids: BTreeSet<String> = catalog::CHECKS.iter().map(|c| c.id.to_owned()).collect();
    let areas: BTreeSet<String> = catalog::CHECKS
        .iter()
        .map(|c| format!("{}.*", c.id.split_once('.').expect("area.rule").0))
        .collect();
    let check = &defs["check"]["anyOf"];
    assert_eq!(strings(&check[0]["enum"]), ids, "check ids");
    assert_eq!(strings(&check[1]["enum"]), areas, "check areas");
}

#[test]
fn every_property_is_documented() {
    // The descriptions are the format's documentation: every property that defines a key has
    // one.
    fn walk(value: &Value, at: &str, missing: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        let documented = prop
                            .get("description")
                            .and_then(Value::as_str)
                            .is_some_and(|d| !d.trim().is_empty())
                            || prop.get("$ref").is_some();
                        if !documented {
                            missing.push(format!("{at}/properties/{name}"));
                        }
                    }
                }
                // Conditions (`if`/`then`/`not`) restate properties documented where they are
                // defined.
                for (key, child) in map {
                    if !matches!(key.as_str(), "if" | "then" | "else" | "not") {
                        walk(child, &format!("{at}/{key}"), missing);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{at}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let schema = suite_schema();
    let mut missing = Vec::new();
    walk(&schema, "", &mut missing);
    assert!(missing.is_empty(), "undocumented: {}", missing.join(", "));
    // A `$ref` property is documented by its definition.
    for (name, def) in schema["$defs"].as_object().expect("$defs") {
        assert!(
            def.get("description").is_some(),
            "$defs/{name} has no description"
        );
    }
}
