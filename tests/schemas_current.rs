//! The committed `schemas/openai/*.json` are exactly what `gatecheck schemas extract` makes from
//! `../shared/openai-openapi/openapi.json`: edit the extractor, never the files.

use std::path::Path;

use gatecheck::schema::extract;

#[test]
fn committed_schemas_match_a_fresh_extraction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec_path = root.join("../shared/openai-openapi/openapi.json");
    let text = std::fs::read_to_string(&spec_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared folder must sit beside the repository)",
            spec_path.display()
        )
    });
    let spec: serde_json::Value = serde_json::from_str(&text).expect("the spec is JSON");
    let fresh = extract::extract(&spec, &extract::ROOTS).expect("extraction succeeds");
    assert_eq!(fresh.len(), extract::ROOTS.len());
    let mut stale = Vec::new();
    for (name, schema) in &fresh {
        let path = root.join("schemas/openai").join(format!("{name}.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != extract::to_pretty(schema) {
            stale.push(name.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas: {stale:?}; run `cargo run -- schemas extract`"
    );
}

#[test]
fn every_committed_schema_compiles_and_is_a_root() {
    for name in gatecheck::schema::names() {
        let doc = gatecheck::schema::document(name).expect("embedded");
        assert_eq!(doc["$ref"], format!("#/$defs/{name}"));
        gatecheck::schema::compile(doc).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
