//! `${name}` variables inside suite strings: finding them at load time (so an undefined one is
//! a caret error) and substituting them at plan time.
//!
//! A string that is exactly one variable (`"${tools}"`) is replaced by the variable's JSON value,
//! keeping its type; anywhere else the value is spliced in as text. `$${` writes a literal `${`.

use serde_json::Value;

/// One `${name}` reference: the name and its byte range within the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub name: String,
    pub range: std::ops::Range<usize>,
}

/// A malformed reference (`${` without `}`, or an empty or invalid name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    /// What the caret under `range` says.
    pub label: String,
    /// How to fix it.
    pub hint: String,
    pub range: std::ops::Range<usize>,
}

const LITERAL: &str = "write `$${` for a literal `${`";

/// Finds every `${name}` in `text`.
pub fn references(text: &str) -> Result<Vec<VarRef>, TemplateError> {
    let mut refs = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'$') && bytes.get(i + 2) == Some(&b'{') {
            i += 3; // escaped: `$${` is a literal `${`
            continue;
        }
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            let Some(close) = text[i + 2..].find('}') else {
                // Point at `${` and the name that follows, not at the rest of the string.
                let name: &str = {
                    let rest = &text[i + 2..];
                    let len = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    &rest[..len]
                };
                let hint = if is_name(name) {
                    format!("close it: `${{{name}}}`; or {LITERAL}")
                } else {
                    LITERAL.to_owned()
                };
                return Err(TemplateError {
                    message: "`${` is not closed by `}`".into(),
                    label: "no `}` after this".into(),
                    hint,
                    range: i..i + 2 + name.len(),
                });
            };
            let name = &text[i + 2..i + 2 + close];
            let end = i + 2 + close + 1;
            if !is_name(name) {
                let message = if name.is_empty() {
                    "`${}` names no variable".to_owned()
                } else {
                    format!("`{name}` is not a variable name")
                };
                return Err(TemplateError {
                    message,
                    label: "not a variable name".into(),
                    hint: format!(
                        "a variable name is a letter or `_`, then letters, digits and `_`; {LITERAL}"
                    ),
                    range: i..end,
                });
            }
            refs.push(VarRef {
                name: name.to_owned(),
                range: i..end,
            });
            i = end;
            continue;
        }
        i += 1;
    }
    Ok(refs)
}

/// Whether `name` can be written as `${name}`: a letter or `_`, then letters, digits and `_`.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Substitutes variables in a string. `lookup` must know every name (checked at load time);
/// an unknown name is left as written.
pub fn render_str<'a>(text: &str, lookup: &impl Fn(&str) -> Option<&'a Value>) -> Value {
    let Ok(refs) = references(text) else {
        return Value::String(text.to_owned());
    };
    if let [only] = refs.as_slice()
        && only.range == (0..text.len())
        && let Some(value) = lookup(&only.name)
    {
        return value.clone();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in &refs {
        out.push_str(&unescape(&text[last..r.range.start]));
        match lookup(&r.name) {
            Some(Value::String(s)) => out.push_str(s),
            Some(other) => out.push_str(&other.to_string()),
            None => out.push_str(&text[r.range.clone()]),
        }
        last = r.range.end;
    }
    out.push_str(&unescape(&text[last..]));
    Value::String(out)
}

fn unescape(text: &str) -> String {
    text.replace("$${", "${")
}

/// Substitutes variables in every string (keys included) of a JSON value.
pub fn render_value<'a>(value: &Value, lookup: &impl Fn(&str) -> Option<&'a Value>) -> Value {
    match value {
        Value::String(s) if s.contains("${") => render_str(s, lookup),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| render_value(v, lookup)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match render_str(k, lookup) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, render_value(v, lookup))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_references_and_skips_escapes() {
        let refs = references("a ${model} b $${literal} ${x_1}").unwrap();
        let names: Vec<_> = refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["model", "x_1"]);
        assert_eq!(refs[0].range, 2..10);
    }

    #[test]
    fn reports_unclosed_and_bad_names() {
        let e = references("x ${model and more").unwrap_err();
        assert_eq!(e.range, 2..9);
        assert_eq!(
            e.hint,
            "close it: `${model}`; or write `$${` for a literal `${`"
        );
        assert_eq!(references("x ${").unwrap_err().range, 2..4);
        assert_eq!(
            references("${}").unwrap_err().message,
            "`${}` names no variable"
        );
        assert_eq!(
            references("${a-b}").unwrap_err().message,
            "`a-b` is not a variable name"
        );
    }

    #[test]
    fn whole_string_variable_keeps_the_json_type() {
        let tools = json!([{ "type": "function" }]);
        let lookup = |n: &str| (n == "tools").then_some(&tools);
        assert_eq!(render_str("${tools}", &lookup), tools);
        assert_eq!(
            render_str("tools: ${tools}", &lookup),
            json!(r#"tools: [{"type":"function"}]"#)
        );
    }

    #[test]
    fn renders_nested_values_and_unescapes() {
        let model = json!("gpt-4o");
        let lookup = |n: &str| (n == "model").then_some(&model);
        let body = json!({ "model": "${model}", "messages": [{ "content": "use $${model} for ${model}" }] });
        assert_eq!(
            render_value(&body, &lookup),
            json!({ "model": "gpt-4o", "messages": [{ "content": "use ${model} for gpt-4o" }] })
        );
    }
}
