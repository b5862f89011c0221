//! Answers compared across targets: for each case run against several targets, which fields one
//! target's answer has and another's lacks, and where their JSON types differ. Only shapes are
//! kept (a JSON pointer per field, array items as `[]`, with the types seen there), never values,
//! so the report is small, holds no model text, and diffs cleanly between runs. A streamed answer
//! is the union of its events' shapes, under `/events/[]`.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::PathBuf;

use serde_json::Value;

use crate::config::Secret;
use crate::exchange::Exchange;
use crate::run::{Event, Reporter};

/// Field pointer -> the JSON types seen there.
pub type Shape = BTreeMap<String, BTreeSet<&'static str>>;

/// The shape of an answer: its JSON body, or the union of its events' JSON payloads.
pub fn shape_of(exchange: &Exchange, streamed: bool) -> Option<Shape> {
    let mut shape = Shape::new();
    if streamed {
        let (events, _) = crate::sse::decode_all(
            [(exchange.body.as_slice(), std::time::Duration::ZERO)],
            crate::sse::Limits::default(),
        );
        for e in events {
            if let Some(v) = e.data.as_deref().and_then(|d| serde_json::from_str(d).ok()) {
                add(&v, "/events/[]", &mut shape);
            }
        }
        return (!shape.is_empty()).then_some(shape);
    }
    let v: Value = serde_json::from_slice(&exchange.body).ok()?;
    add(&v, "", &mut shape);
    Some(shape)
}

fn add(value: &Value, at: &str, shape: &mut Shape) {
    let kind = crate::schema::type_name(value);
    shape
        .entry(if at.is_empty() { "/".into() } else { at.into() })
        .or_default()
        .insert(kind);
    match value {
        Value::Array(items) => items
            .iter()
            .for_each(|i| add(i, &format!("{at}/[]"), shape)),
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| add(v, &format!("{at}/{}", crate::check::ptr(k)), shape)),
        _ => {}
    }
}

/// A streamed answer's events as a sequence of kinds (role, content, tool calls, finish, usage,
/// `[DONE]`...), consecutive repeats folded: how the targets' event sequences differ.
pub fn sequence_of(exchange: &Exchange) -> String {
    super::snapshot::event_kinds(exchange).join(", ")
}

/// One field where the targets differ: per target, its types there (`None`: the field is absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub field: String,
    pub per_target: Vec<Option<String>>,
}

/// The fields where the shapes differ, in pointer order.
pub fn differences(shapes: &[Option<&Shape>]) -> Vec<Difference> {
    let fields: BTreeSet<&String> = shapes.iter().flatten().flat_map(|s| s.keys()).collect();
    let describe = |s: &Option<&Shape>, f: &String| -> Option<String> {
        s.and_then(|s| s.get(f))
            .map(|types| types.iter().copied().collect::<Vec<_>>().join(" | "))
    };
    fields
        .into_iter()
        .filter_map(|f| {
            let per_target: Vec<Option<String>> = shapes.iter().map(|s| describe(s, f)).collect();
            let answered: Vec<&Option<String>> = per_target
                .iter()
                .zip(shapes)
                .filter(|(_, s)| s.is_some())
                .map(|(d, _)| d)
                .collect();
            answered
                .windows(2)
                .any(|w| w[0] != w[1])
                .then(|| Difference {
                    field: f.clone(),
                    per_target,
                })
        })
        .collect()
}

/// One target's answer to a case: its shape, and its sequence of events when streamed.
type Answer = (Shape, Option<String>);

/// Collects each case's answer shape per target; at the end writes the differences as Markdown.
pub struct ShapeReporter {
    path: PathBuf,
    secrets: Vec<Secret>,
    targets: Vec<String>,
    /// Case (name without the target) -> target -> shape and, for a stream, its sequence of
    /// events (`None`: no JSON answer).
    cases: BTreeMap<(usize, String), BTreeMap<String, Option<Answer>>>,
}

impl ShapeReporter {
    pub fn new(path: PathBuf, secrets: &[Secret]) -> Self {
        ShapeReporter {
            path,
            secrets: secrets.to_vec(),
            targets: Vec::new(),
            cases: BTreeMap::new(),
        }
    }

    /// The report, as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "# Answers compared across targets\n\nFor each case, the fields one target's answer has and another's lacks, the fields whose JSON types differ (array items as `[]`; a streamed answer as its events, `/events/[]`), and how the sequences of streamed events differ (consecutive repeats folded). `—`: the field is absent; a target without a JSON answer (skipped, an error) is left blank.\n",
        );
        let mut any = false;
        for ((_, case), by_target) in &self.cases {
            let answers: Vec<Option<&Answer>> = self
                .targets
                .iter()
                .map(|t| by_target.get(t).and_then(Option::as_ref))
                .collect();
            let shapes: Vec<Option<&Shape>> = answers.iter().map(|a| a.map(|(s, _)| s)).collect();
            if shapes.iter().flatten().count() < 2 {
                continue;
            }
            let mut diffs = differences(&shapes);
            let sequences: Vec<Option<&String>> = answers
                .iter()
                .map(|a| a.and_then(|(_, seq)| seq.as_ref()))
                .collect();
            let streamed: Vec<&String> = sequences.iter().flatten().copied().collect();
            if streamed.windows(2).any(|w| w[0] != w[1]) {
                diffs.push(Difference {
                    field: "events (in order)".into(),
                    per_target: sequences.iter().map(|s| s.cloned()).collect(),
                });
            }
            if diffs.is_empty() {
                continue;
            }
            any = true;
            out.push_str(&format!(
                "\n## {case}\n\n| field | {} |\n| --- |",
                self.targets.join(" | ")
            ));
            out.push_str(&" --- |".repeat(self.targets.len()));
            out.push('\n');
            for d in diffs {
                let cells: Vec<String> = d
                    .per_target
                    .iter()
                    .zip(&shapes)
                    .map(|(t, s)| match (t, s) {
                        (_, None) => String::new(),
                        (None, Some(_)) => "—".into(),
                        (Some(t), Some(_)) => t.clone(),
                    })
                    .collect();
                let field = if d.field.starts_with('/') {
                    format!("`{}`", d.field)
                } else {
                    d.field.clone()
                };
                out.push_str(&format!("| {field} | {} |\n", cells.join(" | ")));
            }
        }
        if !any {
            out.push_str(
                "\nEvery case that two or more targets answered has the same shape everywhere.\n",
            );
        }
        out
    }
}

impl Reporter for ShapeReporter {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started { targets, .. } => self.targets = targets.clone(),
            Event::CaseFinished(r) => {
                let name = r
                    .case
                    .name
                    .rsplit_once('[')
                    .map_or(r.case.name.as_str(), |(n, _)| n)
                    .to_owned();
                // Cases keep plan order: the first index a case appears at sorts it.
                let first = self
                    .cases
                    .keys()
                    .find(|(_, n)| *n == name)
                    .map_or(r.case.index, |(i, _)| *i);
                let streamed = r.verdict.stream.is_some();
                let shape = r
                    .exchange
                    .as_ref()
                    .filter(|e| e.transport_error().is_none())
                    .and_then(|e| {
                        let sequence = streamed.then(|| sequence_of(e));
                        shape_of(e, streamed).map(|s| (s, sequence))
                    });
                self.cases
                    .entry((first, name))
                    .or_default()
                    .insert(r.case.target.name.clone(), shape);
            }
            Event::Finished(_) => {
                super::matrix::write_atomically(&self.path, &self.markdown(), &self.secrets)
                    .map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!("answer comparison `{}`: {e}", self.path.display()),
                        )
                    })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape(v: Value) -> Shape {
        let mut s = Shape::new();
        add(&v, "", &mut s);
        s
    }

    #[test]
    fn shapes_keep_fields_and_types_not_values() {
        let s = shape(
            json!({"choices": [{"message": {"content": "hi"}}, {"message": {"content": null}}], "n": 1.5}),
        );
        let got: Vec<(String, Vec<&str>)> = s
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect();
        assert_eq!(
            got,
            [
                ("/".to_owned(), vec!["object"]),
                ("/choices".to_owned(), vec!["array"]),
                ("/choices/[]".to_owned(), vec!["object"]),
                ("/choices/[]/message".to_owned(), vec!["object"]),
                (
                    "/choices/[]/message/content".to_owned(),
                    vec!["null", "string"]
                ),
                ("/n".to_owned(), vec!["number"]),
            ]
        );
    }

    #[test]
    fn differences_name_missing_fields_and_type_changes() {
        let a = shape(json!({"id": "x", "logprobs": null, "usage": {"total_tokens": 3}}));
        let b = shape(json!({"id": "x", "usage": {"total_tokens": "3", "cost": 0.1}}));
        let d = differences(&[Some(&a), None, Some(&b)]);
        let rows: Vec<(&str, Vec<Option<&str>>)> = d
            .iter()
            .map(|d| {
                (
                    d.field.as_str(),
                    d.per_target.iter().map(Option::as_deref).collect(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("/logprobs", vec![Some("null"), None, None]),
                ("/usage/cost", vec![None, None, Some("number")]),
                (
                    "/usage/total_tokens",
                    vec![Some("integer"), None, Some("string")]
                ),
            ]
        );
        assert!(differences(&[Some(&a), Some(&a)]).is_empty());
    }
}
