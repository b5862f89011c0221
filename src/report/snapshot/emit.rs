//! A deterministic YAML writer for snapshot documents: block style for mappings and lists, one
//! compact JSON line for each stream event (JSON is YAML's flow style, so the file stays one
//! YAML document), plain scalars only where no YAML reader could take them for anything else,
//! JSON-quoted strings everywhere else. What it writes, `crate::yaml` reads back to the same
//! value (a test below holds it to that), which is how baselines are compared.

use serde_json::Value;

/// Keys of the document whose lists are written one JSON line per item (stream events).
const FLOW_LISTS: &[&str] = &["events"];

/// Keys of gatecheck's own mappings (the sections below the top level, findings) in reading
/// order; other keys follow, sorted. Inside a body, keys stay sorted, as the server's JSON.
const ORDER: &[&str] = &[
    "check",
    "severity",
    "method",
    "path",
    "status",
    "message",
    "expected",
    "actual",
    "headers",
    "body",
    "body_text",
    "events",
];
/// Keys whose values are a server's or a suite's JSON: sorted keys from there on.
const VERBATIM: &[&str] = &["body", "events"];

fn ordered_keys(map: &serde_json::Map<String, Value>, ordered: bool) -> Vec<&String> {
    let rank = |k: &str| ORDER.iter().position(|s| *s == k).unwrap_or(usize::MAX);
    let mut keys: Vec<&String> = map.keys().collect();
    if ordered {
        keys.sort_by_key(|k| (rank(k), k.as_str()));
    }
    keys
}

/// Writes `entries` (the document's top level, in the order given) as a YAML block mapping.
pub fn document(entries: &[(&str, Value)]) -> String {
    let mut out = String::new();
    for (key, value) in entries {
        entry(&mut out, 0, key, value, true);
    }
    out
}

/// `ordered`: the mapping is gatecheck's own (see [`ORDER`]), not a server's.
fn entry(out: &mut String, indent: usize, key: &str, value: &Value, ordered: bool) {
    let ordered = ordered && !VERBATIM.contains(&key);
    push_indent(out, indent);
    out.push_str(&scalar_key(key));
    out.push(':');
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            for k in ordered_keys(map, ordered) {
                entry(out, indent + 2, k, &map[k], ordered);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            let flow = FLOW_LISTS.contains(&key);
            for item in items {
                push_indent(out, indent + 2);
                out.push('-');
                if flow {
                    out.push(' ');
                    out.push_str(&serde_json::to_string(item).unwrap_or_default());
                    out.push('\n');
                } else {
                    list_item(out, indent + 2, item, ordered);
                }
            }
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar(value));
            out.push('\n');
        }
    }
}

/// After a `-`: a mapping continues on the same line with its first key, the rest aligned
/// under it; a list or scalar likewise.
fn list_item(out: &mut String, indent: usize, item: &Value, ordered: bool) {
    match item {
        Value::Object(map) if !map.is_empty() => {
            for (i, k) in ordered_keys(map, ordered).into_iter().enumerate() {
                let v = &map[k];
                if i == 0 {
                    out.push(' ');
                    let mut line = String::new();
                    entry(&mut line, indent + 2, k, v, ordered);
                    out.push_str(line.trim_start_matches(' '));
                } else {
                    entry(out, indent + 2, k, v, ordered);
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            for inner in items {
                push_indent(out, indent + 2);
                out.push('-');
                list_item(out, indent + 2, inner, ordered);
            }
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar(item));
            out.push('\n');
        }
    }
}

fn push_indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => string(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

fn scalar_key(key: &str) -> String {
    string(key)
}

/// A string plain when it is unmistakably a string to any YAML reader, else JSON-quoted (a JSON
/// string is a valid YAML double-quoted scalar).
fn string(s: &str) -> String {
    if is_plain(s) {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn is_plain(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    ' ' | '_' | '.' | '/' | '-' | '(' | ')' | '=' | ',' | '+' | '@' | '`'
                )
        })
        && !s.ends_with(' ')
        && !s.contains("  ")
        && !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(entries: &[(&str, Value)]) {
        let text = document(entries);
        let parsed = crate::yaml::parse(&text)
            .unwrap_or_else(|e| panic!("{}\n---\n{text}", e.message))
            .expect("a document")
            .to_json()
            .unwrap();
        let expected: serde_json::Map<String, Value> = entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        assert_eq!(parsed, Value::Object(expected), "\n{text}");
    }

    #[test]
    fn documents_read_back_as_the_same_values() {
        round_trip(&[
            ("case", json!("core::plain_text")),
            ("outcome", json!("pass")),
            ("plain", json!("Bearer [redacted]")),
            (
                "request",
                json!({"body": {"messages": [{"role": "user", "content": "Say: yes"}], "n": 2, "t": 0.7,
                    "empty": {}, "none": [], "nested": [[1, 2], [], [{"a": null}]], "yes": "no", "num": "12",
                    "spaces": " x ", "quote": "a \"b\" \\ c", "nl": "line\nline", "uni": "\u{2028}é", "hash": "a #b",
                    "colon": "a: b", "tab": "\t", "dash": "-", "key with: colon": true, "": "empty key"}}),
            ),
            (
                "events",
                json!([{"data": {"choices": [{"delta": {"content": "[string text short]"}}]}}, {"data": "[DONE]"}, {"comments": [" ping"]}]),
            ),
            ("findings", json!([])),
            ("timing", json!({"total": "under 1 s"})),
        ]);
    }

    #[test]
    fn events_are_one_line_each_and_other_lists_are_blocks() {
        let text = document(&[
            ("events", json!([{"data": {"a": 1}}, {"data": "[DONE]"}])),
            (
                "findings",
                json!([{"check": "resp.schema", "severity": "violation"}]),
            ),
        ]);
        assert_eq!(
            text,
            "events:\n  - {\"data\":{\"a\":1}}\n  - {\"data\":\"[DONE]\"}\nfindings:\n  - check: resp.schema\n    severity: violation\n"
        );
    }
}
