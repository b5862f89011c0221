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
    /// What the caret under `span` says.
    pub label: String,
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

    /// The node at a JSON pointer (`/cases/0/name`), if there is one.
    pub fn at_pointer(&self, pointer: &str) -> Option<&Node> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut node = self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            node = match &node.kind {
                NodeKind::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(segment.as_str()))
                    .map(|(_, v)| v)?,
                NodeKind::Seq(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
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
                        label: "not a JSON number".into(),
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
                                label: format!("{} key", k.type_name()),
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
        source,
        offsets: &offsets,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
    };
    for item in Parser::new_from_str(source) {
        let (event, span) = item.map_err(|e| {
            syntax_error(source, offsets.byte(e.marker().index()), e.info(), &builder)
        })?;
        builder.on_event(event, span)?;
    }
    Ok(builder.root)
}

/// A syntax error from the parser, pointed at its likely cause rather than where the parser
/// gave up: a tab in the indentation, or a flow `[`/`{` opened on an earlier line and never
/// closed (the parser only notices at the next `key:`).
fn syntax_error(source: &str, at: usize, info: &str, builder: &Builder<'_>) -> YamlError {
    let line_of = |offset: usize| source[..offset].matches('\n').count() + 1;
    let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[at..].find('\n').map_or(source.len(), |i| at + i);
    // The parser may report a tab where the scalar before it started, a line early: look in
    // the indentation of this line and the next.
    let indent_tab = || {
        let next_end = source[(line_end + 1).min(source.len())..]
            .find('\n')
            .map_or(source.len(), |i| line_end + 1 + i);
        source[line_start..next_end.max(line_end)]
            .split_inclusive('\n')
            .scan(line_start, |offset, line| {
                let start = *offset;
                *offset += line.len();
                Some((start, line))
            })
            .find_map(|(start, line)| {
                let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
                line[..indent].find('\t').map(|i| start + i)
            })
    };
    if info.contains("tab")
        && let Some(start) = indent_tab()
    {
        let len = source[start..].bytes().take_while(|&b| b == b'\t').count();
        return YamlError {
            message: "invalid YAML: a tab indents this line".into(),
            span: start..start + len,
            label: "tab".into(),
            hint: Some("YAML indents with spaces only; replace the tab with spaces".into()),
        };
    }
    let open_flow = builder.stack.iter().rev().find_map(|frame| {
        let start = match frame {
            Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
        };
        let bracket = source[start..].chars().next()?;
        matches!(bracket, '[' | '{').then_some((start, bracket))
    });
    if let Some((start, bracket)) = open_flow
        && line_of(start) < line_of(at)
    {
        let (what, close) = if bracket == '[' {
            ("list", ']')
        } else {
            ("mapping", '}')
        };
        let (line, col) = (line_of(at), source[line_start..at].chars().count() + 1);
        return YamlError {
            message: format!("invalid YAML: the {what} opened with `{bracket}` is not closed"),
            span: start..start + 1,
            label: format!("no `{close}` closes this `{bracket}`"),
            hint: Some(format!(
                "close it with `{close}`; the parser gave up at {line}:{col}: {info}"
            )),
        };
    }
    YamlError {
        message: format!("invalid YAML: {info}"),
        span: at..at,
        label: "here".into(),
        hint: Some("check the indentation and quoting on this line and the one before".into()),
    }
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
    source: &'a str,
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
                        label: "a second document starts here".into(),
                        hint: Some("remove the `---` separator or split the file".into()),
                    });
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    message: "alias to an unknown anchor".into(),
                    span: bytes.clone(),
                    label: "no `&anchor` of this name comes before".into(),
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
                    label: "here".into(),
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
        let source = self.source;
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    if let Some(name) = node.as_str()
                        && let Some((first, _)) =
                            entries.iter().find(|(k, _)| k.as_str() == Some(name))
                    {
                        return Err(YamlError {
                            message: format!("duplicate key `{name}`"),
                            span: node.span.clone(),
                            label: format!(
                                "`{name}` is already set at {}",
                                line_col(source, first.span.start)
                            ),
                            hint: Some(
                                "each key may appear once in a mapping; keep one of the two".into(),
                            ),
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

/// `line:col` (1-based, columns in characters) of a byte offset, for labels that point back at
/// an earlier node.
fn line_col(source: &str, offset: usize) -> String {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    format!("{line}:{col}")
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
    fn duplicate_keys_name_the_first_one() {
        let err = parse("a: 1\nb:\n  c: 2\n  c: 3\n").unwrap_err();
        assert_eq!(err.label, "`c` is already set at 3:3");
    }

    #[test]
    fn a_tab_in_the_indentation_is_pointed_at() {
        let src = "a:\n  b: 1\n\tc: 2\n";
        let err = parse(src).unwrap_err();
        assert_eq!(err.message, "invalid YAML: a tab indents this line");
        assert_eq!(&src[err.span.clone()], "\t");
        // A tab inside a value is fine.
        assert!(parse("a: b\tc\n").is_ok());
    }

    #[test]
    fn an_unclosed_flow_collection_is_pointed_at_its_bracket() {
        for (src, bracket, message) in [
            (
                "a:\n  b: [1, 2\n  c: 3\n",
                "[",
                "invalid YAML: the list opened with `[` is not closed",
            ),
            (
                "a:\n  b: {x: 1\n  c: 3\n",
                "{",
                "invalid YAML: the mapping opened with `{` is not closed",
            ),
        ] {
            let err = parse(src).unwrap_err();
            assert_eq!(err.message, message, "{src}");
            assert_eq!(&src[err.span.clone()], bracket, "{src}");
            assert!(
                err.hint.as_deref().unwrap().contains("gave up at 3:"),
                "{:?}",
                err.hint
            );
        }
        // A flow list may span lines when it is closed.
        assert!(parse("a: [1,\n  2]\nb: 3\n").is_ok());
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
            "a: [\n\tb: c",
            "a:\n\t",
            "\t\t\n\t",
            "x: {é: [\n  y: 1",
            "[\n{\n",
        ] {
            let _ = parse(src);
        }
    }
}
