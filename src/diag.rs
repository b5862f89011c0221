//! Caret diagnostics for files a person wrote (suites, config): `file:line:col`, the source
//! line, a caret under the culprit, and a hint. Rendered with annotate-snippets like rustc.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// A source file kept in memory so diagnostics can quote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as the user should see it (relative when given relative).
    pub path: String,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A place in a source file: what a suite node keeps so later stages can point back at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: SourceFile,
    pub span: Range<usize>,
}

impl Location {
    /// `path:line:col`
    pub fn display(&self) -> String {
        let (line, col) = self.file.line_col(self.span.start);
        format!("{}:{line}:{col}", self.file.path)
    }

    /// The whole source line the span starts on, without its line ending.
    pub fn line_text(&self) -> &str {
        let text = &self.file.text;
        let start = floor_char_boundary(text, self.span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        text[line_start..line_end].trim_end_matches('\r')
    }
}

/// An error (or note) about a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub location: Location,
    /// Printed under the caret.
    pub label: String,
    /// Printed as `= help: ...` after the snippet.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// Renders like rustc (plain text; `color` adds ANSI styles).
    pub fn render(&self, color: bool) -> String {
        let file = &self.location.file;
        let len = file.text.len();
        let mut span = self.location.span.start.min(len)..self.location.span.end.min(len);
        span.start = floor_char_boundary(&file.text, span.start);
        span.end = floor_char_boundary(&file.text, span.end.max(span.start));
        // An empty span (end of file, a missing key) still gets one caret.
        let mut report = vec![
            Level::ERROR.primary_title(self.message.as_str()).element(
                Snippet::source(&*file.text)
                    .path(file.path.as_str())
                    .annotation(
                        AnnotationKind::Primary
                            .span(span)
                            .label(self.label.as_str()),
                    ),
            ),
        ];
        if let Some(hint) = &self.hint {
            report.push(Group::with_title(
                Level::HELP.secondary_title(hint.as_str()),
            ));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&report).to_string()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// The closest candidate to `word`, if it is close enough to be what was meant.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 4);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word.to_lowercase(), &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Edit distance over chars (optimal string alignment): insertions, deletions, substitutions
/// and swaps of two neighbours each cost one, so `nmae` is one edit from `name`, as a typist
/// would count it (plain Levenshtein says two, too far for a four-letter word).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Rows i-2, i-1 and i of the distance matrix.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("x.yaml", "ab\ncdé f\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // `f` is after a two-byte char: byte 8, column 5.
        assert_eq!(f.line_col(8), (2, 5));
    }

    #[test]
    fn did_you_mean_finds_typos_only() {
        let ids = ["sse.done_sentinel", "sse.content_type", "resp.envelope"];
        assert_eq!(
            did_you_mean("sse.done_sentinal", ids),
            Some("sse.done_sentinel")
        );
        assert_eq!(did_you_mean("resp.envelop", ids), Some("resp.envelope"));
        assert_eq!(did_you_mean("completely.different", ids), None);
    }

    #[test]
    fn edit_distance_counts_a_swap_as_one_edit() {
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("reqeust", "request"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(did_you_mean("nmae", ["name", "description"]), Some("name"));
    }

    #[test]
    fn render_has_path_line_col_source_and_caret() {
        let src = "cases:\n  - check: sse.done_sentinal\n";
        let start = src.find("sse.").unwrap();
        let d = Diagnostic {
            message: "unknown check `sse.done_sentinal`".into(),
            location: Location {
                file: SourceFile::new("suites/streaming.yaml", src),
                span: start..start + "sse.done_sentinal".len(),
            },
            label: "did you mean `sse.done_sentinel`?".into(),
            hint: Some("`gatecheck explain --list` shows every check".into()),
        };
        let out = d.render(false);
        assert!(
            out.contains("error: unknown check `sse.done_sentinal`"),
            "{out}"
        );
        assert!(out.contains("--> suites/streaming.yaml:2:12"), "{out}");
        assert!(out.contains("2 |   - check: sse.done_sentinal"), "{out}");
        assert!(out.contains("^^^^^^^^^^^^^^^^^ did you mean"), "{out}");
        assert!(out.contains("help: `gatecheck explain --list`"), "{out}");
    }
}
