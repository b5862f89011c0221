//! What makes two answers to the same request look the same when nothing that matters changed:
//! keys sorted (serde_json keeps objects sorted), and the values that differ on every call
//! replaced by placeholders that keep their shape.
//!
//! A placeholder is a string `[TYPE KIND DETAIL...]` whose first word is the JSON type of what
//! it replaced, so a shape can still be read off a snapshot (see [`type_of`]):
//!
//! | replaced | placeholder |
//! | --- | --- |
//! | completion, tool call and request ids | `[string id chatcmpl-* medium #1]` (prefix, length class, number) |
//! | `created` (`created_at` of a Responses API object) | `[integer timestamp #1]` |
//! | `system_fingerprint` | `[string fingerprint fp_* short #1]` |
//! | model text (content, refusal, reasoning, logprob tokens) | `[string text short]` |
//! | tool call arguments | `[string arguments object: city, unit]`, `[string arguments not-json short]` |
//! | token counts in `usage` (zero is kept) | `[integer count]` |
//! | a Responses API object's ids and output text | as a completion's |
//! | `usage.cost`, logprobs, other fractions in `usage` | `[number cost]`, `[number logprob]` |
//! | any other string over 256 characters | `[string long]` |
//!
//! Length classes: `short` up to 16 characters, `medium` up to 256, `long` beyond. Ids,
//! timestamps and fingerprints are numbered in order of first appearance, so a value that
//! recurs (every chunk of a stream carries the same id) keeps its number and a value that
//! changes gets a new one. Model text is not numbered: every token differs, and numbering them
//! would make no two streams alike.
//!
//! Rules are only ever appended, so that snapshots written by an older gatecheck still match.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Strings longer than this, anywhere, become `[string long]` (image data, huge echoes).
pub const LONG: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Numbered {
    Id,
    Timestamp,
    Fingerprint,
}

/// The placeholders of one snapshot: numbers are stable within it.
#[derive(Debug, Default)]
pub struct Placeholders {
    numbers: HashMap<(Numbered, String), usize>,
    next: HashMap<Numbered, usize>,
    /// Replaced ids and fingerprints with their placeholders, to scrub them from messages too.
    pub replaced: Vec<(String, String)>,
}

impl Placeholders {
    fn number(&mut self, kind: Numbered, value: &str) -> usize {
        if let Some(&n) = self.numbers.get(&(kind, value.to_owned())) {
            return n;
        }
        let next = self.next.entry(kind).or_insert(0);
        *next += 1;
        self.numbers.insert((kind, value.to_owned()), *next);
        *next
    }

    fn id(&mut self, kind: Numbered, word: &str, value: &str) -> String {
        let seen = self.numbers.contains_key(&(kind, value.to_owned()));
        let n = self.number(kind, value);
        let prefix = id_prefix(value)
            .map(|p| format!(" {p}*"))
            .unwrap_or_default();
        let placeholder = format!("[string {word}{prefix} {} #{n}]", class(value));
        // Once per value: every chunk of a stream repeats its id.
        if !seen && value.len() >= 6 {
            self.replaced.push((value.to_owned(), placeholder.clone()));
        }
        placeholder
    }

    /// Replaces every id and fingerprint this snapshot replaced elsewhere in `text` (a finding's
    /// message that quotes one).
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, placeholder) in &self.replaced {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        out
    }
}

/// `short`, `medium` or `long`, by characters.
pub fn class(s: &str) -> &'static str {
    match s.chars().count() {
        0..=16 => "short",
        17..=LONG => "medium",
        _ => "long",
    }
}

/// `chatcmpl-`, `call_`, `gen-`, `fp_`: the letters before the first `-` or `_`.
fn id_prefix(s: &str) -> Option<&str> {
    let end = s.find(['-', '_'])?;
    (end > 0 && end <= 12 && s[..end].bytes().all(|b| b.is_ascii_alphabetic())).then(|| &s[..=end])
}

/// The JSON type a placeholder stands for, or the value's own type.
pub fn type_of(value: &Value) -> &'static str {
    if let Value::String(s) = value
        && let Some(rest) = s.strip_prefix('[')
        && s.ends_with(']')
    {
        for t in ["string", "integer", "number", "boolean"] {
            if rest.starts_with(t) && rest[t.len()..].starts_with(' ') {
                return t;
            }
        }
    }
    crate::schema::type_name(value)
}

/// One step of a JSON path: a key, or any array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seg<'a> {
    Key(&'a str),
    Item,
}

use Seg::{Item, Key};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Id,
    Timestamp,
    Fingerprint,
    Text,
    Arguments,
    Count,
    Fraction(&'static str),
}

const MESSAGE_TEXT: &[&str] = &["content", "refusal", "reasoning_content", "reasoning"];

/// What an answer body is, for the rules that hold only in one kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// A chat completion or chunk.
    Completion,
    /// A Responses API object (`POST /responses`).
    Response,
    Other,
}

/// The rule for a place in an answer body, by its path.
fn rule(path: &[Seg<'_>], body: Body) -> Option<Rule> {
    let text_key = |k: &str| MESSAGE_TEXT.contains(&k);
    let completion = body == Body::Completion;
    let response = body == Body::Response;
    match path {
        [Key("id")] if completion => Some(Rule::Id),
        [Key("created")] if completion => Some(Rule::Timestamp),
        [Key("id")] if response => Some(Rule::Id),
        [Key("created_at")] if response => Some(Rule::Timestamp),
        [Key("output"), Item, Key("id")] if response => Some(Rule::Id),
        [Key("output"), Item, Key("content"), Item, Key("text")] if response => Some(Rule::Text),
        [Key("system_fingerprint")] => Some(Rule::Fingerprint),
        [
            Key("choices"),
            Item,
            Key("message" | "delta"),
            Key("tool_calls"),
            Item,
            Key("id"),
        ] => Some(Rule::Id),
        [
            Key("choices"),
            Item,
            Key("message"),
            Key("tool_calls"),
            Item,
            Key("function"),
            Key("arguments"),
        ] => Some(Rule::Arguments),
        [
            Key("choices"),
            Item,
            Key("delta"),
            Key("tool_calls"),
            Item,
            Key("function"),
            Key("arguments"),
        ] => Some(Rule::Text),
        [Key("choices"), Item, Key("message" | "delta"), Key(k)] if text_key(k) => Some(Rule::Text),
        [
            Key("choices"),
            Item,
            Key("message" | "delta"),
            Key("content"),
            Item,
            Key("text"),
        ] => Some(Rule::Text),
        [Key("choices"), Item, Key("text")] => Some(Rule::Text),
        [
            Key("choices"),
            Item,
            Key("logprobs"),
            Key(_),
            Item,
            rest @ ..,
        ] => match rest {
            [Key("token")] | [Key("top_logprobs"), Item, Key("token")] => Some(Rule::Text),
            [Key("logprob")] | [Key("top_logprobs"), Item, Key("logprob")] => {
                Some(Rule::Fraction("logprob"))
            }
            [Key("bytes"), Item] | [Key("top_logprobs"), Item, Key("bytes"), Item] => {
                Some(Rule::Count)
            }
            _ => None,
        },
        [Key("usage"), .., Key(k)] if k.contains("cost") => Some(Rule::Fraction("cost")),
        [Key("usage"), ..] => Some(Rule::Count),
        _ => None,
    }
}

/// Normalizes an answer body (a completion, a chunk, an error, a model list).
pub fn answer(value: &Value, ph: &mut Placeholders) -> Value {
    let object = value.get("object").and_then(Value::as_str);
    let body = if value.get("choices").is_some()
        || object.is_some_and(|o| o.starts_with("chat.completion"))
    {
        Body::Completion
    } else if object == Some("response") {
        Body::Response
    } else {
        Body::Other
    };
    let mut path = Vec::new();
    walk(value, &mut path, body, ph)
}

fn walk<'a>(value: &'a Value, path: &mut Vec<Seg<'a>>, body: Body, ph: &mut Placeholders) -> Value {
    if let Some(rule) = rule(path, body)
        && let Some(v) = apply(rule, value, ph)
    {
        return v;
    }
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                path.push(Key(k));
                out.insert(k.clone(), walk(v, path, body, ph));
                path.pop();
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            path.push(Item);
            let out = items.iter().map(|v| walk(v, path, body, ph)).collect();
            path.pop();
            Value::Array(out)
        }
        Value::String(s) if s.chars().count() > LONG => Value::String("[string long]".into()),
        other => other.clone(),
    }
}

/// The placeholder for a value under a rule, when the value has the type the rule expects
/// (a timestamp sent as a string is kept as it is, so the deviation shows).
fn apply(rule: Rule, value: &Value, ph: &mut Placeholders) -> Option<Value> {
    let placeholder = match (rule, value) {
        (Rule::Id, Value::String(s)) if !s.is_empty() => ph.id(Numbered::Id, "id", s),
        (Rule::Fingerprint, Value::String(s)) if !s.is_empty() => {
            ph.id(Numbered::Fingerprint, "fingerprint", s)
        }
        (Rule::Timestamp, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            let n = ph.number(Numbered::Timestamp, &n.to_string());
            format!("[integer timestamp #{n}]")
        }
        (Rule::Text, Value::String(s)) if !s.is_empty() => format!("[string text {}]", class(s)),
        (Rule::Arguments, Value::String(s)) => arguments(s),
        (Rule::Count, Value::Number(n)) if n.as_i64() == Some(0) || n.as_u64() == Some(0) => {
            return None;
        }
        (Rule::Count, Value::Number(n)) if n.is_i64() || n.is_u64() => "[integer count]".into(),
        (Rule::Count, Value::Number(_)) => "[number value]".into(),
        (Rule::Fraction(word), Value::Number(_)) => format!("[number {word}]"),
        _ => return None,
    };
    Some(Value::String(placeholder))
}

/// Tool call arguments by what they parse to: the keys of an object, else the type.
fn arguments(s: &str) -> String {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(map)) if map.is_empty() => "[string arguments object]".into(),
        Ok(Value::Object(map)) => format!(
            "[string arguments object: {}]",
            map.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        Ok(other) => format!("[string arguments {}]", crate::schema::type_name(&other)),
        Err(_) if s.is_empty() => "[string arguments empty]".into(),
        Err(_) => format!("[string arguments not-json {}]", class(s)),
    }
}

/// A request body as sent: deterministic, so only very long strings are shortened (to their
/// exact length, which is deterministic too).
pub fn request(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), request(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(request).collect()),
        Value::String(s) if s.chars().count() > LONG => {
            Value::String(format!("[string {} chars]", s.chars().count()))
        }
        other => other.clone(),
    }
}

/// A duration as a coarse bucket, so that ordinary jitter does not change a snapshot.
pub fn bucket(ms: f64) -> &'static str {
    match ms {
        ms if ms < 1_000.0 => "under 1 s",
        ms if ms < 5_000.0 => "1 s to 5 s",
        ms if ms < 30_000.0 => "5 s to 30 s",
        _ => "over 30 s",
    }
}

/// A count of repeated events as a class: exact up to 3, then by order of magnitude.
pub fn repeat_class(n: usize) -> String {
    match n {
        0..=3 => n.to_string(),
        4..=9 => "4-9".into(),
        10..=99 => "10-99".into(),
        100..=999 => "100-999".into(),
        _ => "1000+".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volatile_values_become_placeholders_that_keep_their_shape() {
        // Keys are walked in sorted order, so `choices` (and its tool call ids) come first.
        let mut ph = Placeholders::default();
        let v = answer(
            &json!({
                "id": "chatcmpl-abc123def456", "object": "chat.completion", "created": 1733500000,
                "model": "gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": "",
                    "tool_calls": [{"id": "call_x1y2z3", "type": "function",
                        "function": {"name": "get_weather", "arguments": "{\"unit\":\"c\",\"city\":\"Paris\"}"}}]}}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 0, "cost": 0.00012,
                    "prompt_tokens_details": {"cached_tokens": 3}}
            }),
            &mut ph,
        );
        assert_eq!(
            v,
            json!({
                "id": "[string id chatcmpl-* medium #2]", "object": "chat.completion",
                "created": "[integer timestamp #1]", "model": "gpt-4o-mini",
                "system_fingerprint": "[string fingerprint fp_* short #1]",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": "",
                    "tool_calls": [{"id": "[string id call_* short #1]", "type": "function",
                        "function": {"name": "get_weather", "arguments": "[string arguments object: city, unit]"}}]}}],
                "usage": {"prompt_tokens": "[integer count]", "completion_tokens": 0, "cost": "[number cost]",
                    "prompt_tokens_details": {"cached_tokens": "[integer count]"}}
            })
        );
        assert_eq!(
            ph.scrub("tool call call_x1y2z3 repeats"),
            "tool call [string id call_* short #1] repeats"
        );
    }

    #[test]
    fn a_recurring_value_keeps_its_number_and_a_new_one_gets_the_next() {
        let mut ph = Placeholders::default();
        let chunk = |id: &str| json!({"id": id, "object": "chat.completion.chunk", "created": 7, "choices": []});
        let a = answer(&chunk("chatcmpl-1"), &mut ph);
        let b = answer(&chunk("chatcmpl-1"), &mut ph);
        let c = answer(&chunk("chatcmpl-2"), &mut ph);
        assert_eq!(a, b);
        assert_eq!(c["id"], "[string id chatcmpl-* short #2]");
        assert_eq!(c["created"], "[integer timestamp #1]");
    }

    #[test]
    fn a_responses_api_object_is_normalized_like_a_completion() {
        let mut ph = Placeholders::default();
        let v = answer(
            &json!({"id": "resp_0123456789abcdef", "object": "response", "created_at": 1796592405,
                "model": "gpt-4o", "status": "completed",
                "output": [{"id": "msg_0123456789", "type": "message", "role": "assistant",
                    "content": [{"type": "output_text", "text": "You said: hi", "annotations": []}]}],
                "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}}),
            &mut ph,
        );
        assert_eq!(
            v,
            json!({"id": "[string id resp_* medium #1]", "object": "response",
                "created_at": "[integer timestamp #1]", "model": "gpt-4o", "status": "completed",
                "output": [{"id": "[string id msg_* short #2]", "type": "message", "role": "assistant",
                    "content": [{"type": "output_text", "text": "[string text short]", "annotations": []}]}],
                "usage": {"input_tokens": "[integer count]", "output_tokens": "[integer count]",
                    "total_tokens": "[integer count]"}})
        );
        // Outside a Responses object, `created_at` is nobody's timestamp.
        let other = answer(&json!({"created_at": 5}), &mut ph);
        assert_eq!(other["created_at"], 5);
    }

    #[test]
    fn deviations_stay_visible() {
        let mut ph = Placeholders::default();
        // A string timestamp and a numeric id are wrong: they are kept as they are.
        let v = answer(
            &json!({"id": 42, "created": "1733500000", "choices": []}),
            &mut ph,
        );
        assert_eq!(v, json!({"id": 42, "created": "1733500000", "choices": []}));
        // Model ids in a model list are not volatile.
        let v = answer(
            &json!({"object": "list", "data": [{"id": "gpt-4o-mini", "created": 1}]}),
            &mut ph,
        );
        assert_eq!(v["data"][0]["id"], "gpt-4o-mini");
    }

    #[test]
    fn placeholders_say_their_type() {
        assert_eq!(type_of(&json!("[integer timestamp #1]")), "integer");
        assert_eq!(type_of(&json!("[string text short]")), "string");
        assert_eq!(type_of(&json!("[number cost]")), "number");
        assert_eq!(type_of(&json!("[DONE]")), "string");
        assert_eq!(type_of(&json!(3)), "integer");
    }

    #[test]
    fn long_strings_are_shortened() {
        let long = "x".repeat(LONG + 1);
        assert_eq!(
            request(&json!({"a": [long.clone()]})),
            json!({"a": ["[string 257 chars]"]})
        );
        let mut ph = Placeholders::default();
        assert_eq!(
            answer(&json!({"images": long}), &mut ph),
            json!({"images": "[string long]"})
        );
    }
}
