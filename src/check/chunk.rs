//! One stream chunk, read once: the facts the sequence rules and the SDK emulators need, parsed
//! either on a fast path (a typed, borrowing parse that accepts only chunks of exactly OpenAI's
//! shape, valid against the chunk schema by construction) or, for anything else, through
//! `serde_json::Value`, which keeps the raw map for the structural checks and the schema.
//!
//! The fast path is what lets a judge keep up with a gigabyte of typical chunk traffic; a chunk
//! it declines is judged in full, so it changes speed, never verdicts.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::FINISH_REASONS;

/// What one chunk says.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ChunkFacts<'a> {
    pub id: Option<Cow<'a, str>>,
    pub object: Option<Cow<'a, str>>,
    pub created: Option<i64>,
    pub model: Option<Cow<'a, str>>,
    pub choices: Choices<'a>,
    /// A non-null `usage` object.
    pub usage: Option<Value>,
    /// Azure's annotation chunk (`choices: []` with prompt filter results) is allowed.
    pub prompt_filter_results: bool,
    /// A top-level `error` that is not null.
    pub error: Option<Value>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub enum Choices<'a> {
    #[default]
    Missing,
    NotArray,
    List(Vec<ChoiceFacts<'a>>),
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ChoiceFacts<'a> {
    pub index: Option<u64>,
    /// `None` when the choice has no `delta` object.
    pub delta: Option<DeltaFacts<'a>>,
    /// A string finish_reason (null or absent: `None`).
    pub finish_reason: Option<Cow<'a, str>>,
    /// A non-null `logprobs`.
    pub logprobs: Option<Value>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct DeltaFacts<'a> {
    pub role: Option<Cow<'a, str>>,
    pub content: Option<Cow<'a, str>>,
    pub refusal: Option<Cow<'a, str>>,
    /// `reasoning`, `reasoning_content`, ... with their text.
    pub reasoning: Vec<(String, String)>,
    pub tool_calls: Vec<ToolFacts<'a>>,
    /// Generated images (`delta.images`, as rout.my and OpenRouter stream them).
    pub images: Vec<Value>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ToolFacts<'a> {
    pub index: Option<u64>,
    pub id: Option<Cow<'a, str>>,
    pub kind: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
    pub arguments: Arguments<'a>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub enum Arguments<'a> {
    /// Absent or null.
    #[default]
    Absent,
    Str(Cow<'a, str>),
    Other(Value),
}

/// An event's data, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload<'a> {
    /// Not JSON: the parser's complaint.
    Invalid(String),
    /// JSON, but not an object.
    Other(Value),
    /// An object: its facts, and its raw map unless it took the fast path.
    Object {
        facts: ChunkFacts<'a>,
        raw: Option<Map<String, Value>>,
    },
}

/// What the SDK emulators are given for one dispatched event.
#[derive(Debug, Clone, Copy)]
pub enum SdkInput<'a> {
    Invalid(&'a str),
    NotObject,
    Object(&'a ChunkFacts<'a>),
}

impl<'a> Payload<'a> {
    pub fn parse(data: &'a str) -> Payload<'a> {
        if data.starts_with('{')
            && let Ok(fast) = serde_json::from_str::<FastChunk>(data)
            && fast.is_plain()
        {
            return Payload::Object {
                facts: fast.into_facts(),
                raw: None,
            };
        }
        match serde_json::from_str::<Value>(data) {
            Err(e) => Payload::Invalid(e.to_string()),
            Ok(Value::Object(map)) => Payload::Object {
                facts: ChunkFacts::from_map(&map),
                raw: Some(map),
            },
            Ok(other) => Payload::Other(other),
        }
    }

    pub fn sdk_input(&'a self) -> SdkInput<'a> {
        match self {
            Payload::Invalid(e) => SdkInput::Invalid(e),
            Payload::Other(_) => SdkInput::NotObject,
            Payload::Object { facts, .. } => SdkInput::Object(facts),
        }
    }
}

fn string<'a>(v: Option<&Value>) -> Option<Cow<'a, str>> {
    v.and_then(Value::as_str).map(|s| Cow::Owned(s.to_owned()))
}

impl ChunkFacts<'_> {
    /// The slow path: facts from any JSON object.
    pub fn from_map(map: &Map<String, Value>) -> ChunkFacts<'static> {
        let choices = match map.get("choices") {
            None | Some(Value::Null) => Choices::Missing,
            Some(Value::Array(items)) => {
                Choices::List(items.iter().map(ChoiceFacts::from_value).collect())
            }
            Some(_) => Choices::NotArray,
        };
        ChunkFacts {
            id: string(map.get("id")),
            object: string(map.get("object")),
            created: map.get("created").and_then(Value::as_i64),
            model: string(map.get("model")),
            choices,
            usage: map.get("usage").filter(|u| u.is_object()).cloned(),
            prompt_filter_results: map.contains_key("prompt_filter_results"),
            error: map.get("error").filter(|e| !e.is_null()).cloned(),
        }
    }
}

impl ChoiceFacts<'_> {
    fn from_value(v: &Value) -> ChoiceFacts<'static> {
        let delta = v
            .get("delta")
            .and_then(Value::as_object)
            .map(|d| DeltaFacts {
                role: string(d.get("role")),
                content: string(d.get("content")),
                refusal: string(d.get("refusal")),
                reasoning: d
                    .iter()
                    .filter(|(k, _)| k.starts_with("reasoning"))
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect(),
                tool_calls: match d.get("tool_calls") {
                    Some(Value::Array(calls)) => calls.iter().map(ToolFacts::from_value).collect(),
                    _ => Vec::new(),
                },
                images: d
                    .get("images")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            });
        ChoiceFacts {
            index: v.get("index").and_then(Value::as_u64),
            delta,
            finish_reason: string(v.get("finish_reason")),
            logprobs: v.get("logprobs").filter(|l| !l.is_null()).cloned(),
        }
    }
}

impl ToolFacts<'_> {
    fn from_value(v: &Value) -> ToolFacts<'static> {
        let function = v.get("function");
        ToolFacts {
            index: v.get("index").and_then(Value::as_u64),
            id: string(v.get("id")),
            kind: string(v.get("type")),
            name: string(function.and_then(|f| f.get("name"))),
            arguments: match function.and_then(|f| f.get("arguments")) {
                None | Some(Value::Null) => Arguments::Absent,
                Some(Value::String(s)) => Arguments::Str(Cow::Owned(s.clone())),
                Some(other) => Arguments::Other(other.clone()),
            },
        }
    }
}

// The fast path. Every field OpenAI sends, with its schema type; unknown fields, a non-null
// usage or logprobs, and null where the schema forbids it make the parse fail, and the chunk
// goes the slow way. Enumerations are checked by `is_plain`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastChunk<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    object: Cow<'a, str>,
    created: i64,
    #[serde(borrow)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    choices: Vec<FastChoice<'a>>,
    #[serde(default)]
    usage: Option<NullOnly>,
    #[serde(default, borrow)]
    system_fingerprint: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    service_tier: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present")]
    obfuscation: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastChoice<'a> {
    index: u64,
    #[serde(borrow)]
    delta: FastDelta<'a>,
    #[serde(borrow, deserialize_with = "nullable")]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    logprobs: Option<NullOnly>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastDelta<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    role: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    refusal: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present")]
    tool_calls: Option<Vec<FastTool<'a>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastTool<'a> {
    index: u64,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow, rename = "type", deserialize_with = "present")]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present")]
    function: Option<FastFunction<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastFunction<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present")]
    arguments: Option<Cow<'a, str>>,
}

/// Accepts only `null`.
struct NullOnly;

impl<'de> Deserialize<'de> for NullOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <()>::deserialize(d).map(|()| NullOnly)
    }
}

/// A field that may be absent (`#[serde(default)]`) but not null.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A field that must be present, and may be null.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

const ROLES: [&str; 5] = ["developer", "system", "user", "assistant", "tool"];
const SERVICE_TIERS: [&str; 6] = ["auto", "default", "flex", "scale", "priority", "fast"];

impl<'a> FastChunk<'a> {
    /// The enumerations the typed parse cannot express; anything else takes the slow path.
    fn is_plain(&self) -> bool {
        self.object == "chat.completion.chunk"
            && self
                .service_tier
                .as_deref()
                .is_none_or(|t| SERVICE_TIERS.contains(&t))
            && self.choices.iter().all(|c| {
                c.finish_reason
                    .as_deref()
                    .is_none_or(|r| FINISH_REASONS.contains(&r))
                    && c.delta.role.as_deref().is_none_or(|r| ROLES.contains(&r))
                    && c.delta
                        .tool_calls
                        .iter()
                        .flatten()
                        .all(|t| t.kind.as_deref().is_none_or(|k| k == "function"))
            })
    }

    fn into_facts(self) -> ChunkFacts<'a> {
        let _ = (self.usage, self.system_fingerprint, self.obfuscation);
        ChunkFacts {
            id: Some(self.id),
            object: Some(self.object),
            created: Some(self.created),
            model: Some(self.model),
            choices: Choices::List(
                self.choices
                    .into_iter()
                    .map(|c| {
                        let _ = c.logprobs;
                        ChoiceFacts {
                            index: Some(c.index),
                            finish_reason: c.finish_reason,
                            logprobs: None,
                            delta: Some(DeltaFacts {
                                role: c.delta.role,
                                content: c.delta.content,
                                refusal: c.delta.refusal,
                                reasoning: Vec::new(),
                                images: Vec::new(),
                                tool_calls: c
                                    .delta
                                    .tool_calls
                                    .unwrap_or_default()
                                    .into_iter()
                                    .map(|t| {
                                        let (name, arguments) = match t.function {
                                            Some(f) => (f.name, f.arguments),
                                            None => (None, None),
                                        };
                                        ToolFacts {
                                            index: Some(t.index),
                                            id: t.id,
                                            kind: t.kind,
                                            name,
                                            arguments: arguments
                                                .map_or(Arguments::Absent, Arguments::Str),
                                        }
                                    })
                                    .collect(),
                            }),
                        }
                    })
                    .collect(),
            ),
            usage: None,
            prompt_filter_results: false,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAI: &str = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","service_tier":"default","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#;

    fn fast(data: &str) -> bool {
        matches!(Payload::parse(data), Payload::Object { raw: None, .. })
    }

    #[test]
    fn openai_chunks_take_the_fast_path_and_agree_with_the_slow_one() {
        for data in [
            OPENAI,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"h\u00e9 \"x\""},"logprobs":null,"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        ] {
            assert!(fast(data), "{data}");
            let Payload::Object { facts, .. } = Payload::parse(data) else {
                unreachable!()
            };
            let slow = ChunkFacts::from_map(
                serde_json::from_str::<Value>(data)
                    .unwrap()
                    .as_object()
                    .unwrap(),
            );
            assert_eq!(facts, slow, "{data}");
            assert!(crate::schema::is_valid(
                "CreateChatCompletionStreamResponse",
                &serde_json::from_str(data).unwrap()
            ));
        }
    }

    #[test]
    fn anything_unusual_takes_the_slow_path() {
        for (what, data) in [
            (
                "vendor field",
                OPENAI.replace(r#""usage":null"#, r#""usage":null,"x":1"#),
            ),
            (
                "usage object",
                OPENAI.replace(
                    r#""usage":null"#,
                    r#""usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}"#,
                ),
            ),
            (
                "wrong object",
                OPENAI.replace("chat.completion.chunk", "chat.completion"),
            ),
            (
                "unknown finish reason",
                OPENAI.replace(r#""finish_reason":null"#, r#""finish_reason":"eos""#),
            ),
            (
                "null role",
                OPENAI.replace(r#""role":"assistant""#, r#""role":null"#),
            ),
            (
                "missing finish_reason",
                OPENAI.replace(r#","finish_reason":null"#, ""),
            ),
            (
                "float created",
                OPENAI.replace(r#""created":1"#, r#""created":1.5"#),
            ),
            (
                "logprobs object",
                OPENAI.replace(
                    r#""logprobs":null"#,
                    r#""logprobs":{"content":[],"refusal":null}"#,
                ),
            ),
            (
                "error",
                OPENAI.replace(r#""usage":null"#, r#""usage":null,"error":{"message":"x"}"#),
            ),
        ] {
            assert!(!fast(&data), "{what}");
        }
    }
}
