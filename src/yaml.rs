//! YAML as a tree of nodes that keep their source spans (byte ranges), built on saphyr-parser.
//!
//! Suites and config files are turned into typed values by hand from this tree rather than
//! through serde, so that every error can point at the exact node (`file:line:col` and a caret)
//! and suggest the key the author meant.

use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A byte range in the source text.
pub type ByteSpan = Range<usize>;

/// One YAML node with the byte range it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: ByteSpan,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys keep their own spans, in document order.
    Map(Vec<(Node, Node)>),
}

/// What went wrong while reading YAML, with the byte range to point at.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: ByteSpan,
    pub hint: Option<String>,
}

impl Node {
    /// A short name of the node's type, as a suite author would say it.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The key node for `key` in a mapping (to point at the key rather than the value).
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k)
    }

    /// Converts to JSON. Keys must be strings (or scalars, stringified as YAML would print them)
    /// and numbers must be finite.
    pub fn to_json(&self) -> Result<serde_json::Value, YamlError> {
        use serde_json::Value;
        Ok(match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => Value::Number(n),
                None => {
                    return Err(YamlError {
                        message: format!("`{f}` cannot be represented in JSON"),
                        span: self.span.clone(),
                        hint: Some("JSON has no NaN or infinity; quote it to send a string".into()),
                    });
                }
            },
            NodeKind::Str(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => {
                Value::Array(items.iter().map(Node::to_json).collect::<Result<_, _>>()?)
            }
            NodeKind::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    let key = match &k.kind {
                        NodeKind::Str(s) => s.clone(),
                        NodeKind::Int(i) => i.to_string(),
                        NodeKind::Bool(b) => b.to_string(),
                        _ => {
                            return Err(YamlError {
                                message: format!(
                                    "a JSON object key must be a string, not {}",
                                    k.type_name()
                                ),
                                span: k.span.clone(),
                                hint: Some("quote the key".into()),
                            });
                        }
                    };
                    map.insert(key, v.to_json()?);
                }
                Value::Object(map)
            }
        })
    }
}

/// Parses one YAML document. An empty document yields `Ok(None)`.
pub fn parse(source: &str) -> Result<Option<Node>, YamlError> {
    let offsets = CharOffsets::new(source);
    let mut builder = Builder {
        offsets: &offsets,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
    };
    for item in Parser::new_from_str(source) {
        let (event, span) = item.map_err(|e| {
            let at = offsets.byte(e.marker().index());
            YamlError {
                message: format!("invalid YAML: {}", e.info()),
                span: at..at,
                hint: Some(
                    "check the indentation and quoting on this line and the one before".into(),
                ),
            }
        })?;
        builder.on_event(event, span)?;
    }
    Ok(builder.root)
}

/// Maps saphyr's character indices to byte offsets.
struct CharOffsets {
    /// Byte offset of each char index, plus one past the end. Empty when the text is ASCII.
    table: Vec<usize>,
    len: usize,
}

impl CharOffsets {
    fn new(source: &str) -> Self {
        let table = if source.is_ascii() {
            Vec::new()
        } else {
            source
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(source.len()))
                .collect()
        };
        CharOffsets {
            table,
            len: source.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.table.is_empty() {
            char_index.min(self.len)
        } else {
            self.table.get(char_index).copied().unwrap_or(self.len)
        }
    }

    fn span(&self, span: Span) -> ByteSpan {
        self.byte(span.start.index())..self.byte(span.end.index())
    }
}

enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'a> {
    offsets: &'a CharOffsets,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let bytes = self.offsets.span(span);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError {
                        message: "a file holds one YAML document; found a second one".into(),
                        span: bytes,
                        hint: Some("remove the `---` separator or split the file".into()),
                    });
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    message: "alias to an unknown anchor".into(),
                    span: bytes.clone(),
                    hint: None,
                })?;
                self.push(node)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                let forced_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let kind = if style == ScalarStyle::Plain && !forced_str {
                    resolve_plain(&value)
                } else {
                    NodeKind::Str(value.into_owned())
                };
                let node = Node { kind, span: bytes };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node)?;
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                start: bytes.start,
                anchor,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                start: bytes.start,
                anchor,
                entries: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().ok_or_else(|| YamlError {
                    message: "unbalanced YAML structure".into(),
                    span: bytes.clone(),
                    hint: None,
                })?;
                let (node, anchor) = match frame {
                    Frame::Seq {
                        start,
                        anchor,
                        items,
                    } => {
                        let end = items
                            .last()
                            .map_or(bytes.end, |n| n.span.end.max(bytes.end));
                        (
                            Node {
                                kind: NodeKind::Seq(items),
                                span: start..end.max(start),
                            },
                            anchor,
                        )
                    }
                    Frame::Map {
                        start,
                        anchor,
                        entries,
                        ..
                    } => {
                        let end = entries
                            .last()
                            .map_or(bytes.end, |(_, v)| v.span.end.max(bytes.end));
                        (
                            Node {
                                kind: NodeKind::Map(entries),
                                span: start..end.max(start),
                            },
                            anchor,
                        )
                    }
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push(node)?;
            }
        }
        Ok(())
    }

    fn push(&mut self, node: Node) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    if let Some(name) = node.as_str()
                        && entries.iter().any(|(k, _)| k.as_str() == Some(name))
                    {
                        return Err(YamlError {
                            message: format!("duplicate key `{name}`"),
                            span: node.span,
                            hint: Some("each key may appear once in a mapping".into()),
                        });
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> NodeKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeKind::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeKind::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return NodeKind::Int(i);
        }
    } else if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return NodeKind::Int(i);
        }
    } else if is_decimal_int(text) {
        if let Ok(i) = text.parse::<i64>() {
            return NodeKind::Int(i);
        }
    } else if is_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return NodeKind::Float(f);
    }
    NodeKind::Str(text.to_owned())
}

fn is_decimal_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let mut i = 0;
    let int_digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(src: &str) -> Node {
        parse(src).unwrap().unwrap()
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2() {
        let n = root("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: hello\ng: 0x1f\nh: 1e3\ni: yes\n");
        assert_eq!(n.get("a").unwrap().kind, NodeKind::Int(1));
        assert_eq!(n.get("b").unwrap().kind, NodeKind::Float(1.5));
        assert_eq!(n.get("c").unwrap().kind, NodeKind::Bool(true));
        assert_eq!(n.get("d").unwrap().kind, NodeKind::Null);
        assert_eq!(n.get("e").unwrap().kind, NodeKind::Str("1".into()));
        assert_eq!(n.get("f").unwrap().kind, NodeKind::Str("hello".into()));
        assert_eq!(n.get("g").unwrap().kind, NodeKind::Int(31));
        assert_eq!(n.get("h").unwrap().kind, NodeKind::Float(1000.0));
        // YAML 1.2: `yes` is a string, not a boolean.
        assert_eq!(n.get("i").unwrap().kind, NodeKind::Str("yes".into()));
    }

    #[test]
    fn spans_are_byte_ranges_even_after_multibyte_text() {
        let src = "title: \"héllo wörld\"\nkey: value\n";
        let n = root(src);
        let key = n.key_node("key").unwrap();
        assert_eq!(&src[key.span.clone()], "key");
        let value = n.get("key").unwrap();
        assert_eq!(&src[value.span.clone()], "value");
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let src = "a: 1\nb: 2\na: 3\n";
        let err = parse(src).unwrap_err();
        assert_eq!(err.message, "duplicate key `a`");
        assert_eq!(err.span, 10..11);
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let src = "a:\n  - b\n c: [1, 2\n";
        let err = parse(src).unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        assert!(err.span.start > 0 && err.span.start <= src.len());
    }

    #[test]
    fn anchors_and_aliases_copy_the_node() {
        let n = root("a: &x {k: 1}\nb: *x\n");
        assert_eq!(n.get("a").unwrap().kind, n.get("b").unwrap().kind);
    }

    #[test]
    fn empty_documents_are_none() {
        assert!(parse("").unwrap().is_none());
        assert!(parse("# only a comment\n").unwrap().is_none());
    }

    #[test]
    fn to_json_rejects_nan_and_keeps_types() {
        let n = root("a: [1, 2.5, x, null, true]\n");
        assert_eq!(
            n.to_json().unwrap(),
            serde_json::json!({"a": [1, 2.5, "x", null, true]})
        );
        assert!(root("a: .nan\n").to_json().is_err());
    }

    #[test]
    fn garbage_never_panics() {
        for src in [
            "\u{0}",
            "[",
            "{",
            "- - -\n  -",
            "a: b: c",
            "&a *a",
            "!!binary x",
            "? ? ?",
            "\t",
            "'",
            "\"\\",
            "*x",
            "a: *unknown",
        ] {
            let _ = parse(src);
        }
    }
}
