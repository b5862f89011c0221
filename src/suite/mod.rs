//! Stage 1, `load`: suite files (YAML) into typed [`Suite`]s that keep the source position of
//! every node. Any mistake in a suite is found here, before a single request is sent, and
//! reported as caret diagnostics with a hint.

pub mod template;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::Regex;
use serde_json::Value;

use crate::catalog;
use crate::diag::{Diagnostic, Location, SourceFile, did_you_mean};
use crate::schema;
use crate::yaml::{self, Node, NodeKind};

/// A loaded suite file.
#[derive(Debug, Clone)]
pub struct Suite {
    /// From the `suite:` key, or the file stem.
    pub name: String,
    pub description: String,
    pub file: SourceFile,
    /// Suite-level variables (`vars:`), usable as `${name}` in every case.
    pub vars: BTreeMap<String, Value>,
    pub cases: Vec<Arc<Case>>,
}

/// One case: a request and what to expect of the answer.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub description: String,
    /// Capabilities the target must have, else the case is skipped.
    pub requires: Vec<Capability>,
    /// Variables the case is expanded over (cartesian product), in the order written.
    pub parametrize: Vec<(String, Vec<Value>)>,
    pub request: RequestSpec,
    pub expect: Expect,
    /// Catalog checks to apply; `None` applies every check that fits the exchange.
    pub checks: Option<Vec<CheckPattern>>,
    /// Every variable the case refers to as `${name}`.
    pub uses: BTreeSet<String>,
    /// The whole case mapping.
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub method: Method,
    /// Relative to the target's base URL, e.g. `/chat/completions`; may hold variables.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub auth: Auth,
    pub body: Body,
    /// Asks for a streamed answer (`body.stream == true`).
    pub stream: bool,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which credentials a case sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The target's key (the default).
    Key,
    /// No `Authorization` header.
    None,
    /// A syntactically valid key that no server knows.
    Invalid,
}

#[derive(Debug, Clone)]
pub enum Body {
    None,
    /// JSON written as YAML; strings may hold `${variables}`.
    Json(Value),
    /// Bytes sent verbatim (for malformed-JSON probes); may hold `${variables}`.
    Raw(String),
}

/// The client mistake a case makes on purpose, which decides the status OpenAI would answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    UnknownModel,
    MalformedJson,
    MissingMessages,
    EmptyMessages,
    MissingModel,
    MissingKey,
    WrongKey,
    UnknownRoute,
    InvalidParameter,
    /// A prompt longer than the model's context window.
    ContextLength,
    /// `tools` sent to a model without tool support.
    ToolsUnsupported,
    /// The account is out of credit (provoked on purpose, e.g. by the reference gateway's
    /// `insufficient_funds` fault).
    InsufficientFunds,
    /// Too many requests (provoked on purpose).
    RateLimited,
}

impl ErrorKind {
    pub const ALL: [(&'static str, ErrorKind); 13] = [
        ("unknown_model", ErrorKind::UnknownModel),
        ("malformed_json", ErrorKind::MalformedJson),
        ("missing_messages", ErrorKind::MissingMessages),
        ("empty_messages", ErrorKind::EmptyMessages),
        ("missing_model", ErrorKind::MissingModel),
        ("missing_key", ErrorKind::MissingKey),
        ("wrong_key", ErrorKind::WrongKey),
        ("unknown_route", ErrorKind::UnknownRoute),
        ("invalid_parameter", ErrorKind::InvalidParameter),
        ("context_length", ErrorKind::ContextLength),
        ("tools_unsupported", ErrorKind::ToolsUnsupported),
        ("insufficient_funds", ErrorKind::InsufficientFunds),
        ("rate_limited", ErrorKind::RateLimited),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(s, _)| *s)
            .expect("every kind is listed")
    }

    /// The status OpenAI answers.
    pub fn openai_status(self) -> u16 {
        match self {
            ErrorKind::UnknownModel | ErrorKind::UnknownRoute => 404,
            ErrorKind::MissingKey | ErrorKind::WrongKey => 401,
            // OpenAI answers an exhausted quota with 429 `insufficient_quota`.
            ErrorKind::InsufficientFunds | ErrorKind::RateLimited => 429,
            _ => 400,
        }
    }
}

/// What a target can do; a case requiring a missing capability is skipped with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    Chat,
    Streaming,
    Tools,
    ToolChoice,
    ParallelToolCalls,
    JsonMode,
    JsonSchema,
    Vision,
    Logprobs,
    MultipleChoices,
    ModelsEndpoint,
    ModelRetrieve,
    DeveloperRole,
    ImageOutput,
    Reasoning,
    /// Unknown request parameters are accepted and forwarded upstream.
    ParamPassthrough,
    /// `max_output_tokens` (Gemini-style) is accepted as a token cap.
    MaxOutputTokens,
    /// `usage.cost` on every answer.
    CostAccounting,
    /// `GET /prices` lists prices.
    PricesEndpoint,
    /// `POST /responses` exists.
    ResponsesEndpoint,
    /// Some served model has no tool support (its id is `${model_without_tools}`).
    ModelWithoutTools,
    /// Per-model context windows are enforced (`${context_window_model}` has a small one).
    ContextWindow,
    /// The target misbehaves on request (`x-gatecheck-fault`): the reference gateway only.
    FaultInjection,
}

impl Capability {
    pub const ALL: [(&'static str, Capability); 23] = [
        ("chat", Capability::Chat),
        ("streaming", Capability::Streaming),
        ("tools", Capability::Tools),
        ("tool_choice", Capability::ToolChoice),
        ("parallel_tool_calls", Capability::ParallelToolCalls),
        ("json_mode", Capability::JsonMode),
        ("json_schema", Capability::JsonSchema),
        ("vision", Capability::Vision),
        ("logprobs", Capability::Logprobs),
        ("n", Capability::MultipleChoices),
        ("models_endpoint", Capability::ModelsEndpoint),
        ("model_retrieve", Capability::ModelRetrieve),
        ("developer_role", Capability::DeveloperRole),
        ("image_output", Capability::ImageOutput),
        ("reasoning", Capability::Reasoning),
        ("param_passthrough", Capability::ParamPassthrough),
        ("max_output_tokens", Capability::MaxOutputTokens),
        ("cost_accounting", Capability::CostAccounting),
        ("prices_endpoint", Capability::PricesEndpoint),
        ("responses_endpoint", Capability::ResponsesEndpoint),
        ("model_without_tools", Capability::ModelWithoutTools),
        ("context_window", Capability::ContextWindow),
        ("fault_injection", Capability::FaultInjection),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(s, _)| *s)
            .expect("every capability is listed")
    }

    pub fn parse(name: &str) -> Option<Capability> {
        Self::ALL.iter().find(|(s, _)| *s == name).map(|(_, c)| *c)
    }
}

/// The suite's expectations of the answer.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub status: Option<(StatusExpect, Location)>,
    pub error: Option<(ErrorKind, Location)>,
    pub schema: Option<(&'static str, Location)>,
    pub content_is_json: Option<Location>,
    pub tool_args_valid: Option<Location>,
    pub asserts: Vec<Assertion>,
    /// Streams: the longest time to the first token, in milliseconds.
    pub max_ttft_ms: Option<(u64, Location)>,
    /// Streams: the longest gap between two chunks, in milliseconds.
    pub max_gap_ms: Option<(u64, Location)>,
    /// Streams: send the same request without streaming too, and compare.
    pub matches_nonstream: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusExpect {
    Exact(Vec<u16>),
    /// `2xx`, `4xx`: the hundreds digit.
    Class(u16),
}

impl StatusExpect {
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusExpect::Exact(list) => list.contains(&status),
            StatusExpect::Class(c) => status / 100 == *c,
        }
    }
}

impl fmt::Display for StatusExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusExpect::Exact(list) => {
                let parts: Vec<String> = list.iter().map(u16::to_string).collect();
                f.write_str(&parts.join(" or "))
            }
            StatusExpect::Class(c) => write!(f, "{c}xx"),
        }
    }
}

/// One `expect.assert` item.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// A JSON pointer into the response body (`""` is the whole body).
    pub pointer: String,
    pub op: AssertOp,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub enum AssertOp {
    Equals(Value),
    Matches(Regex),
    Exists(bool),
    Type(JsonType),
    OneOf(Vec<Value>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    pub const ALL: [(&'static str, JsonType); 7] = [
        ("null", JsonType::Null),
        ("boolean", JsonType::Boolean),
        ("integer", JsonType::Integer),
        ("number", JsonType::Number),
        ("string", JsonType::String),
        ("array", JsonType::Array),
        ("object", JsonType::Object),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(s, _)| *s)
            .expect("every type is listed")
    }

    pub fn matches(self, value: &Value) -> bool {
        match self {
            JsonType::Null => value.is_null(),
            JsonType::Boolean => value.is_boolean(),
            JsonType::Integer => value.is_i64() || value.is_u64(),
            JsonType::Number => value.is_number(),
            JsonType::String => value.is_string(),
            JsonType::Array => value.is_array(),
            JsonType::Object => value.is_object(),
        }
    }
}

/// A check id, or every check of an area (`tools.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckPattern(pub String);

impl CheckPattern {
    pub fn matches(&self, id: &str) -> bool {
        match self.0.strip_suffix(".*") {
            Some(area) => id.split_once('.').is_some_and(|(a, _)| a == area),
            None => self.0 == id,
        }
    }
}

/// A suite that could not be loaded: one or more diagnostics, or an I/O problem.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("failed to read suite `{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("suite path `{0}` does not exist")]
    Missing(String),
    #[error("no suite files (*.yaml) under `{0}`")]
    EmptyDir(String),
    #[error("{}", render_all(.0))]
    Invalid(Vec<Diagnostic>),
}

fn render_all(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.render(false))
        .collect::<Vec<_>>()
        .join("\n")
}

impl LoadError {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Invalid(d) => d,
            _ => &[],
        }
    }
}

/// Variables every case may use without declaring them: the target's model and name, the models
/// the target's profile names for particular roles ([`PROFILE_VARS`]), and `long_prompt`, a prompt
/// longer than any context window a profile documents.
pub const BUILTIN_VARS: [&str; 7] = [
    "model",
    "target",
    "model_without_tools",
    "context_window_model",
    "vision_model",
    "image_model",
    "long_prompt",
];

/// Built-ins whose value comes from the target's profile (`vars:` in `profiles/*.yaml`). A case
/// that uses one the profile does not define is skipped with the reason.
pub const PROFILE_VARS: [&str; 4] = [
    "model_without_tools",
    "context_window_model",
    "vision_model",
    "image_model",
];

/// The profile variable the planner reads itself: the context window `${long_prompt}` must
/// exceed, in tokens (a string: `"1048576"`).
pub const CONTEXT_WINDOW_TOKENS: &str = "context_window_tokens";

/// Built-ins a case may not parametrize. `model` may be: the planner then runs the case over
/// those models instead of the target's. `target` may not: the request still goes to the real
/// target, so `${target}` would name the wrong one.
const PARAMETRIZE_RESERVED: [&str; 1] = ["target"];

/// The names of every `${name}` in the node's strings (already checked to be well-formed).
fn variables_used(node: &Node) -> BTreeSet<String> {
    fn walk(node: &Node, out: &mut BTreeSet<String>) {
        match &node.kind {
            NodeKind::Str(s) => {
                out.extend(
                    template::references(s)
                        .into_iter()
                        .flatten()
                        .map(|r| r.name),
                );
            }
            NodeKind::Seq(items) => items.iter().for_each(|i| walk(i, out)),
            NodeKind::Map(entries) => entries.iter().for_each(|(k, v)| {
                walk(k, out);
                walk(v, out);
            }),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(node, &mut out);
    out
}

/// The suites shipped in `suites/`, embedded at build time as `(path, text)`.
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    include!(concat!(env!("OUT_DIR"), "/shipped_suites.rs"))
}

/// Loads the shipped suites.
pub fn load_shipped() -> Result<Vec<Suite>, LoadError> {
    load_sources(
        shipped()
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned())),
    )
}

/// Loads suite files and every `*.yaml`/`*.yml` in the given folders (sorted by path).
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Suite>, LoadError> {
    let mut sources = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|source| LoadError::Io {
                    path: shown.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| is_suite_file(p))
                .collect();
            if files.is_empty() {
                return Err(LoadError::EmptyDir(shown));
            }
            files.sort();
            for f in files {
                sources.push(read(&f)?);
            }
        } else if path.exists() {
            sources.push(read(path)?);
        } else {
            return Err(LoadError::Missing(shown));
        }
    }
    load_sources(sources)
}

fn is_suite_file(path: &Path) -> bool {
    path.is_file()
        && matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        )
}

fn read(path: &Path) -> Result<(String, String), LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok((path.display().to_string(), text))
}

/// Loads suites from `(path, text)` pairs; all diagnostics of all files are collected.
pub fn load_sources(
    sources: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Suite>, LoadError> {
    let mut suites: Vec<Suite> = Vec::new();
    let mut diags = Vec::new();
    let mut names: HashMap<String, Location> = HashMap::new();
    for (path, text) in sources {
        match load_one(SourceFile::new(path, text)) {
            Ok((suite, name_loc)) => {
                if let Some(first) = names.get(&suite.name) {
                    diags.push(Diagnostic {
                        message: format!("two suites are named `{}`", suite.name),
                        location: name_loc,
                        label: format!("also the name of {}", first.display()),
                        hint: Some(
                            "suite names must be unique: set `suite:` or rename the file".into(),
                        ),
                    });
                } else {
                    names.insert(suite.name.clone(), name_loc);
                    suites.push(suite);
                }
            }
            Err(mut d) => diags.append(&mut d),
        }
    }
    if diags.is_empty() {
        Ok(suites)
    } else {
        Err(LoadError::Invalid(diags))
    }
}

/// Loads one file. On success also returns where the suite's name comes from.
pub fn load_one(file: SourceFile) -> Result<(Suite, Location), Vec<Diagnostic>> {
    let mut cx = Cx {
        file: file.clone(),
        diags: Vec::new(),
        vars_unknown: false,
        misnamed: Vec::new(),
    };
    let root = match yaml::parse(&file.text) {
        Ok(Some(root)) => root,
        Ok(None) => {
            let end = file.text.len();
            cx.error(
                0..end,
                "suite file is empty",
                "no cases here",
                Some("a suite is a mapping with a `cases:` list; see suites/core.yaml".into()),
            );
            return Err(cx.diags);
        }
        Err(e) => {
            cx.error(e.span, &e.message, &e.label, e.hint);
            return Err(cx.diags);
        }
    };
    let suite = cx.suite(&root);
    match suite {
        Some(s) if cx.diags.is_empty() => Ok(s),
        _ => Err(cx.diags),
    }
}

const SUITE_KEYS: &[&str] = &["suite", "description", "vars", "cases"];
const CASE_KEYS: &[&str] = &[
    "name",
    "description",
    "requires",
    "parametrize",
    "request",
    "expect",
    "checks",
];
const REQUEST_KEYS: &[&str] = &["method", "path", "headers", "auth", "body", "raw_body"];
const EXPECT_KEYS: &[&str] = &[
    "status",
    "error",
    "schema",
    "content_is_json",
    "tool_args_valid",
    "assert",
    "max_ttft_ms",
    "max_gap_ms",
    "matches_nonstream",
];
const ASSERT_KEYS: &[&str] = &["pointer", "equals", "matches", "exists", "type", "one_of"];
const ASSERT_OPS: &[&str] = &["equals", "matches", "exists", "type", "one_of"];

/// Loading context: the file and the diagnostics found so far.
struct Cx {
    file: SourceFile,
    diags: Vec<Diagnostic>,
    /// `vars:` is not a mapping, so which variables it meant to define is unknown: reporting
    /// every `${name}` as undefined would bury the one real mistake.
    vars_unknown: bool,
    /// Names defined under `vars:` or `parametrize:` that are not variable names (reported
    /// there): their uses are not reported again.
    misnamed: Vec<String>,
}

impl Cx {
    fn loc(&self, span: std::ops::Range<usize>) -> Location {
        Location {
            file: self.file.clone(),
            span,
        }
    }

    fn error(
        &mut self,
        span: std::ops::Range<usize>,
        message: &str,
        label: &str,
        hint: Option<String>,
    ) {
        self.diags.push(Diagnostic {
            message: message.to_owned(),
            location: self.loc(span),
            label: label.to_owned(),
            hint,
        });
    }

    /// `what` is a key (`requires`, quoted in the message) or a phrase (`a case`, not quoted).
    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        let subject = if what.contains(' ') {
            what.to_owned()
        } else {
            format!("`{what}`")
        };
        let hint = self.type_hint(node, expected);
        self.error(
            node.span.clone(),
            &format!("{subject} must be {expected}, not {}", node.type_name()),
            &format!("expected {expected}"),
            hint,
        );
    }

    /// How to write what was meant, for the common slips: a single item where a list belongs,
    /// a mapping where a list of mappings belongs, YAML 1.1 booleans, quoted booleans.
    fn type_hint(&self, node: &Node, expected: &str) -> Option<String> {
        let raw = self.file.text.get(node.span.clone()).unwrap_or("").trim();
        let wants_list = expected.starts_with("a list") || expected.starts_with("a non-empty list");
        match &node.kind {
            NodeKind::Str(s) if expected == "true or false" => {
                match s.to_ascii_lowercase().as_str() {
                    "yes" | "y" | "on" => {
                        Some(format!("YAML 1.2 reads `{raw}` as a string; write `true`"))
                    }
                    "no" | "n" | "off" => {
                        Some(format!("YAML 1.2 reads `{raw}` as a string; write `false`"))
                    }
                    b @ ("true" | "false") => Some(format!("remove the quotes: `{b}`")),
                    _ => None,
                }
            }
            NodeKind::Map(_) if wants_list => {
                Some("start each item of the list on its own line with `- `".into())
            }
            NodeKind::Null | NodeKind::Seq(_) | NodeKind::Map(_) => None,
            _ if wants_list && !raw.contains('\n') => Some(format!("write a list: `[{raw}]`")),
            _ => None,
        }
    }

    /// Reads a mapping, reporting unknown keys (with a suggestion) and a wrong type.
    fn map<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<&'n [(Node, Node)]> {
        let Some(entries) = node.as_map() else {
            self.wrong_type(node, what, "a mapping");
            return None;
        };
        for (key, _) in entries {
            match key.as_str() {
                Some(k) if allowed.contains(&k) => {}
                Some(k) => {
                    let suggestion = did_you_mean(k, allowed.iter().copied());
                    let label = match suggestion {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "unknown key".to_owned(),
                    };
                    self.error(
                        key.span.clone(),
                        &format!("unknown key `{k}` in {what}"),
                        &label,
                        Some(format!("{what} takes: {}", allowed.join(", "))),
                    );
                }
                None => self.wrong_type(key, &format!("a key of {what}"), "a string"),
            }
        }
        Some(entries)
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.kind {
            NodeKind::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.kind {
            NodeKind::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, what, "true or false");
                None
            }
        }
    }

    /// JSON of a node whose strings may hold variables, after checking they are defined.
    fn checked_json(&mut self, node: &Node, known: &[&str]) -> Option<Value> {
        self.check_vars(node, known);
        self.json(node)
    }

    fn json(&mut self, node: &Node) -> Option<Value> {
        match node.to_json() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(e.span, &e.message, &e.label, e.hint);
                None
            }
        }
    }

    fn suite(&mut self, root: &Node) -> Option<(Suite, Location)> {
        if root.as_map().is_none() {
            // Point at the first line: the whole file under a bracket says nothing more.
            let text = &self.file.text;
            let end = text[root.span.start..]
                .find('\n')
                .map_or(root.span.end, |i| root.span.start + i)
                .min(root.span.end.max(root.span.start));
            let hint = match root.kind {
                NodeKind::Seq(_) => "put the list under `cases:`, indented".to_owned(),
                _ => "a suite file looks like `cases:` followed by a list of cases; see suites/core.yaml".to_owned(),
            };
            self.error(
                root.span.start..end,
                &format!(
                    "a suite must be a mapping with a `cases:` list, not {}",
                    root.type_name()
                ),
                "expected `suite:`, `description:`, `vars:` or `cases:` here",
                Some(hint),
            );
            return None;
        }
        self.map(root, "a suite", SUITE_KEYS)?;
        let stem = Path::new(&self.file.path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("suite")
            .to_owned();
        let (name, name_loc) = match root.get("suite") {
            Some(node) => {
                let name = self.string(node, "suite").unwrap_or(stem);
                if !is_ident(&name) {
                    self.error(
                        node.span.clone(),
                        &format!("suite name `{name}` has characters other than letters, digits, `_` and `-`"),
                        "used in case names like `suite::case[target]`",
                        None,
                    );
                }
                (name, self.loc(node.span.clone()))
            }
            None => (stem, self.loc(0..0)),
        };
        let description = match root.get("description") {
            Some(n) => self.string(n, "description").unwrap_or_default(),
            None => String::new(),
        };
        let mut vars = BTreeMap::new();
        if let Some(node) = root.get("vars") {
            let entries = node.as_map().unwrap_or_else(|| {
                self.wrong_type(node, "vars", "a mapping of name to value");
                self.vars_unknown = true;
                &[]
            });
            for (k, v) in entries {
                let Some(key) = self.var_name(k, &BUILTIN_VARS) else {
                    continue;
                };
                // A value that is not JSON is reported; the name is still defined, so its uses
                // are not reported again as undefined.
                let value = self.json(v).unwrap_or(Value::Null);
                vars.insert(key, value);
            }
        }
        let cases_node = root.get("cases");
        let mut cases = Vec::new();
        match cases_node {
            None if misspelled(root, &["cases"], SUITE_KEYS) => {}
            // Point at the suite's first key rather than bracketing the whole file.
            None => self.error(
                root.as_map()
                    .and_then(|e| e.first())
                    .map_or(root.span.start..root.span.start, |(k, _)| k.span.clone()),
                "suite has no `cases`",
                "this suite has no `cases:` list",
                Some(
                    "add `cases:` with at least one case; a suite without cases selects nothing"
                        .into(),
                ),
            ),
            Some(node) => match node.as_seq() {
                None if matches!(node.kind, NodeKind::Null) => self.error(
                    self.key_span(root, "cases"),
                    "suite has no cases",
                    "`cases` is empty",
                    Some("a suite without cases selects nothing".into()),
                ),
                None => self.wrong_type(node, "cases", "a list"),
                Some([]) => self.error(
                    node.span.clone(),
                    "suite has no cases",
                    "empty list",
                    Some("a suite without cases selects nothing".into()),
                ),
                Some(items) => {
                    let mut seen: HashMap<String, Location> = HashMap::new();
                    for item in items {
                        if let Some(case) = self.case(item, &vars) {
                            let name_node = item.get("name").expect("case() requires a name");
                            if let Some(first) = seen.get(&case.name) {
                                self.error(
                                    name_node.span.clone(),
                                    &format!("duplicate case name `{}`", case.name),
                                    &format!("first used at {}", first.display()),
                                    Some("case names must be unique within a suite".into()),
                                );
                            } else {
                                seen.insert(case.name.clone(), self.loc(name_node.span.clone()));
                                cases.push(Arc::new(case));
                            }
                        }
                    }
                }
            },
        }
        Some((
            Suite {
                name,
                description,
                file: self.file.clone(),
                vars,
                cases,
            },
            name_loc,
        ))
    }

    /// A variable name being defined (under `vars:` or `parametrize:`): one that `${name}` can
    /// refer to, and not one of `reserved`. `None` when it is reported here.
    fn var_name(&mut self, key: &Node, reserved: &[&str]) -> Option<String> {
        let name = self.string(key, "a variable name")?;
        if reserved.contains(&name.as_str()) {
            let hint = if name == "model" {
                "`${model}` is each model the run tests (--model); to run a case over models of its own, use `parametrize: {model: [...]}`".to_owned()
            } else {
                format!(
                    "`${{{name}}}` names the target each case runs against, and requests go there whatever a parameter says; choose another name"
                )
            };
            self.error(
                key.span.clone(),
                &format!("`{name}` is a built-in variable"),
                "set for each target and model",
                Some(hint),
            );
            return None;
        }
        if !template::is_name(&name) {
            self.error(
                key.span.clone(),
                &format!("`{name}` is not a variable name"),
                "`${...}` cannot refer to it",
                Some(format!(
                    "rename it `{}`: a variable name is a letter or `_`, then letters, digits and `_`",
                    as_var_name(&name)
                )),
            );
            self.misnamed.push(name);
            return None;
        }
        Some(name)
    }

    fn key_span(&self, map: &Node, key: &str) -> std::ops::Range<usize> {
        map.key_node(key)
            .map_or_else(|| map.span.clone(), |k| k.span.clone())
    }

    fn case(&mut self, node: &Node, vars: &BTreeMap<String, Value>) -> Option<Case> {
        let before = self.diags.len();
        self.map(node, "a case", CASE_KEYS)?;
        let name = match node.get("name") {
            Some(n) => {
                let name = self.string(n, "name")?;
                if !is_ident(&name) {
                    self.error(
                        n.span.clone(),
                        &format!("case name `{name}` has characters other than letters, digits, `_` and `-`"),
                        "used in `suite::case[target]` filters",
                        Some("use snake_case, e.g. `tool_call_required`".into()),
                    );
                }
                name
            }
            None if misspelled(node, &["name"], CASE_KEYS) => return None,
            None => {
                self.error(
                    node.span.start..node.span.start,
                    "case has no `name`",
                    "add `name: ...`",
                    Some("a case's name is unique in its suite and names it in results and filters (`suite::name[target]`)".into()),
                );
                return None;
            }
        };
        let description = match node.get("description") {
            Some(n) => self.string(n, "description").unwrap_or_default(),
            None => String::new(),
        };
        let requires = node
            .get("requires")
            .map(|n| self.requires(n))
            .unwrap_or_default();
        let parametrize = node
            .get("parametrize")
            .map(|n| self.parametrize(n))
            .unwrap_or_default();
        let mut known: Vec<&str> = BUILTIN_VARS.to_vec();
        known.extend(vars.keys().map(String::as_str));
        known.extend(parametrize.iter().map(|(k, _)| k.as_str()));
        let request = match node.get("request") {
            Some(n) => self.request(n, &known),
            None if misspelled(node, &["request"], CASE_KEYS) => None,
            None => {
                self.error(
                    self.key_span(node, "name"),
                    &format!("case `{name}` has no `request`"),
                    "this case sends nothing",
                    Some("add `request:` with a `path` and a `body`".into()),
                );
                None
            }
        };
        let expect = match node.get("expect") {
            Some(n) => self.expect(n, &known).unwrap_or_default(),
            None => Expect::default(),
        };
        let checks = node.get("checks").map(|n| self.checks(n));
        let request = request?;
        if self.diags.len() > before {
            return None;
        }
        Some(Case {
            name,
            description,
            requires,
            parametrize,
            request,
            expect,
            checks,
            uses: variables_used(node),
            location: self.loc(node.span.clone()),
        })
    }

    fn requires(&mut self, node: &Node) -> Vec<Capability> {
        let Some(items) = node.as_seq() else {
            self.wrong_type(node, "requires", "a list of capabilities");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(name) = self.string(item, "a capability") else {
                continue;
            };
            match Capability::parse(&name) {
                Some(c) => out.push(c),
                None => {
                    let names = Capability::ALL.iter().map(|(s, _)| *s);
                    let label = did_you_mean(&name, names.clone()).map_or_else(
                        || "not one of the capabilities below".to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.error(
                        item.span.clone(),
                        &format!("unknown capability `{name}`"),
                        &label,
                        Some(format!(
                            "capabilities: {}",
                            names.collect::<Vec<_>>().join(", ")
                        )),
                    );
                }
            }
        }
        out
    }

    fn parametrize(&mut self, node: &Node) -> Vec<(String, Vec<Value>)> {
        let Some(entries) = node.as_map() else {
            self.wrong_type(
                node,
                "parametrize",
                "a mapping of variable to list of values",
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            let Some(key) = self.var_name(k, &PARAMETRIZE_RESERVED) else {
                continue;
            };
            // A bad list of values is reported once; the name is still defined (the case is
            // dropped for the error anyway), so its uses are not reported again as undefined.
            let values = match v.as_seq() {
                Some([]) => {
                    self.error(
                        v.span.clone(),
                        &format!("`parametrize.{key}` is empty"),
                        "the case would expand to nothing",
                        Some("give at least one value".into()),
                    );
                    Vec::new()
                }
                // The planner runs the case once per model id: each must be one.
                Some(items) if key == "model" => items
                    .iter()
                    .filter_map(|i| self.string(i, "a model id").map(Value::String))
                    .collect(),
                Some(items) => items.iter().filter_map(|i| self.json(i)).collect(),
                None => {
                    self.wrong_type(v, &format!("parametrize.{key}"), "a list of values");
                    Vec::new()
                }
            };
            out.push((key, values));
        }
        out
    }

    fn request(&mut self, node: &Node, known: &[&str]) -> Option<RequestSpec> {
        self.map(node, "request", REQUEST_KEYS)?;
        let path = match node.get("path") {
            Some(n) => {
                let p = self.string(n, "path")?;
                self.check_vars(n, known);
                if !p.starts_with('/') {
                    self.error(
                        n.span.clone(),
                        &format!("path `{p}` must start with `/`"),
                        "relative to the target's base URL",
                        Some("e.g. `/chat/completions` (the base URL already ends in /v1)".into()),
                    );
                }
                p
            }
            None if misspelled(node, &["path"], REQUEST_KEYS) => return None,
            None => {
                self.error(
                    node.span.start..node.span.start,
                    "request has no `path`",
                    "add `path: /chat/completions`",
                    Some(
                        "the path is appended to the target's base URL, which already ends in /v1"
                            .into(),
                    ),
                );
                return None;
            }
        };
        // Both bodies is one mistake: do not also report the POST as having none.
        let mut body_conflict = false;
        let body = match (node.get("body"), node.get("raw_body")) {
            (Some(b), Some(_)) => {
                self.error(
                    self.key_span(node, "raw_body"),
                    "a request has either `body` or `raw_body`, not both",
                    "remove one",
                    Some("`body` is JSON written as YAML; `raw_body` sends its string verbatim (for malformed-JSON probes)".into()),
                );
                self.check_vars(b, known);
                body_conflict = true;
                Body::None
            }
            (Some(b), None) => {
                self.check_vars(b, known);
                if matches!(b.kind, NodeKind::Null) {
                    Body::None
                } else {
                    Body::Json(self.json(b)?)
                }
            }
            (None, Some(r)) => {
                self.check_vars(r, known);
                Body::Raw(self.string(r, "raw_body")?)
            }
            (None, None) => Body::None,
        };
        let method = match node.get("method") {
            Some(n) => {
                let m = self.string(n, "method")?;
                match m.to_ascii_uppercase().as_str() {
                    "GET" => Method::Get,
                    "POST" => Method::Post,
                    "DELETE" => Method::Delete,
                    _ => {
                        self.error(
                            n.span.clone(),
                            &format!("unsupported method `{m}`"),
                            "expected GET, POST or DELETE",
                            Some(
                                "the Chat Completions API and its model endpoints use only these"
                                    .into(),
                            ),
                        );
                        return None;
                    }
                }
            }
            None if path.ends_with("/chat/completions") || !matches!(body, Body::None) => {
                Method::Post
            }
            None => Method::Get,
        };
        if method == Method::Post && matches!(body, Body::None) && !body_conflict {
            // Point at what made it a POST without a body: an empty `body:`, the method, or the
            // path that makes POST the default.
            let (span, label) = match (node.key_node("body"), node.get("method"), node.get("path"))
            {
                (Some(k), _, _) => (k.span.clone(), "`body` is empty".to_owned()),
                (None, Some(m), _) => (m.span.clone(), "a POST needs a body".to_owned()),
                (None, None, Some(p)) => (
                    p.span.clone(),
                    "a POST by default: the path ends in `/chat/completions`".to_owned(),
                ),
                (None, None, None) => (node.span.clone(), "a POST needs a body".to_owned()),
            };
            self.error(
                span,
                &format!("request `POST {path}` has no body"),
                &label,
                Some("add `body:` (JSON written as YAML), or `raw_body: \"\"` to send an empty body on purpose".into()),
            );
        }
        let mut headers = Vec::new();
        if let Some(h) = node.get("headers")
            && let Some(entries) = h.as_map()
        {
            for (k, v) in entries {
                let (Some(name), Some(value)) = (
                    self.string(k, "a header name"),
                    self.string(v, "a header value"),
                ) else {
                    continue;
                };
                if name.eq_ignore_ascii_case("authorization") {
                    self.error(
                        k.span.clone(),
                        "suites cannot set `Authorization`",
                        "keys never live in suite files",
                        Some("the target's key is sent by default; use `auth: none` or `auth: invalid` to probe auth errors".into()),
                    );
                }
                self.check_vars(v, known);
                headers.push((name, value));
            }
        } else if let Some(h) = node.get("headers") {
            self.wrong_type(h, "headers", "a mapping of header name to value");
        }
        let auth = match node.get("auth") {
            Some(n) => match self.string(n, "auth")?.as_str() {
                "key" => Auth::Key,
                "none" => Auth::None,
                "invalid" => Auth::Invalid,
                other => {
                    let label = did_you_mean(other, ["key", "none", "invalid"]).map_or_else(
                        || "expected key, none or invalid".to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.error(
                        n.span.clone(),
                        &format!("unknown auth mode `{other}`"),
                        &label,
                        Some("`key` sends the target's key (the default), `none` no Authorization header, `invalid` a key no server knows".into()),
                    );
                    Auth::Key
                }
            },
            None => Auth::Key,
        };
        let stream = matches!(&body, Body::Json(v) if v.get("stream") == Some(&Value::Bool(true)));
        Some(RequestSpec {
            method,
            path,
            headers,
            auth,
            body,
            stream,
            location: self.loc(node.span.clone()),
        })
    }

    /// Reports every `${name}` in the node's strings that is not a known variable.
    fn check_vars(&mut self, node: &Node, known: &[&str]) {
        match &node.kind {
            NodeKind::Str(s) => match template::references(s) {
                Ok(refs) => {
                    for r in refs {
                        let misnamed = self.misnamed.iter().any(|m| {
                            as_var_name(m) == r.name
                                || did_you_mean(&r.name, [m.as_str()]).is_some()
                        });
                        if !known.contains(&r.name.as_str()) && !self.vars_unknown && !misnamed {
                            let span = self.inner_span(node, s, r.range.clone());
                            let label = did_you_mean(&r.name, known.iter().copied()).map_or_else(
                                || "not defined".to_owned(),
                                |s| format!("did you mean `${{{s}}}`?"),
                            );
                            self.error(
                                span,
                                &format!("undefined variable `{}`", r.name),
                                &label,
                                Some(format!(
                                    "defined: {}; define others under `vars:` or `parametrize:`",
                                    known
                                        .iter()
                                        .map(|k| format!("${{{k}}}"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )),
                            );
                        }
                    }
                }
                // `${max-tokens}` where `max-tokens` was defined: reported at the definition.
                Err(e)
                    if self.misnamed.iter().any(|m| {
                        s[e.range.clone()]
                            .strip_prefix("${")
                            .and_then(|r| r.strip_suffix('}'))
                            == Some(m.as_str())
                    }) => {}
                Err(e) => {
                    let span = self.inner_span(node, s, e.range);
                    self.error(span, &e.message, &e.label, Some(e.hint));
                }
            },
            NodeKind::Seq(items) => items.iter().for_each(|i| self.check_vars(i, known)),
            NodeKind::Map(entries) => entries.iter().for_each(|(k, v)| {
                self.check_vars(k, known);
                self.check_vars(v, known);
            }),
            _ => {}
        }
    }

    /// The source span of `range` within the scalar `value`, when the scalar is written as is
    /// (plain or simply quoted); else the whole scalar.
    fn inner_span(
        &self,
        node: &Node,
        value: &str,
        range: std::ops::Range<usize>,
    ) -> std::ops::Range<usize> {
        let raw = self.file.text.get(node.span.clone()).unwrap_or("");
        let needle = &value[range.clone()];
        let prefix = &value[..range.start];
        match raw.find(prefix).map(|p| p + prefix.len()) {
            Some(at) if raw[at..].starts_with(needle) => {
                node.span.start + at..node.span.start + at + needle.len()
            }
            _ => match raw.find(needle) {
                Some(at) => node.span.start + at..node.span.start + at + needle.len(),
                None => node.span.clone(),
            },
        }
    }

    fn expect(&mut self, node: &Node, known: &[&str]) -> Option<Expect> {
        self.map(node, "expect", EXPECT_KEYS)?;
        let mut expect = Expect::default();
        if let Some(n) = node.get("status") {
            expect.status = self.status(n).map(|s| (s, self.loc(n.span.clone())));
        }
        if let Some(n) = node.get("error") {
            let name = self.string(n, "error")?;
            match ErrorKind::ALL.iter().find(|(s, _)| *s == name) {
                Some((_, k)) => expect.error = Some((*k, self.loc(n.span.clone()))),
                None => {
                    let names = ErrorKind::ALL.iter().map(|(s, _)| *s);
                    // OpenAI's own `code` for the mistake is what an author is likely to write.
                    let openai_code = [
                        ("model_not_found", "unknown_model"),
                        ("invalid_api_key", "wrong_key"),
                    ]
                    .iter()
                    .find(|(code, _)| *code == name)
                    .map(|(_, kind)| *kind);
                    let label = match (openai_code, did_you_mean(&name, names.clone())) {
                        (Some(kind), _) => format!(
                            "did you mean `{kind}`? (`{name}` is OpenAI's error code for it)"
                        ),
                        (None, Some(s)) => format!("did you mean `{s}`?"),
                        (None, None) => "not one of the kinds below".to_owned(),
                    };
                    self.error(
                        n.span.clone(),
                        &format!("unknown error kind `{name}`"),
                        &label,
                        Some(format!(
                            "error kinds: {}",
                            names.collect::<Vec<_>>().join(", ")
                        )),
                    );
                }
            }
        }
        if let Some(n) = node.get("schema") {
            let name = self.string(n, "schema")?;
            match schema::names().find(|s| *s == name) {
                Some(s) => expect.schema = Some((s, self.loc(n.span.clone()))),
                None => {
                    let label = suggest_schema(&name).map_or_else(
                        || "not one of the schemas below".to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.error(
                        n.span.clone(),
                        &format!("unknown schema `{name}`"),
                        &label,
                        Some(format!(
                            "schemas: {}",
                            schema::names().collect::<Vec<_>>().join(", ")
                        )),
                    );
                }
            }
        }
        for (key, slot) in [
            ("max_ttft_ms", &mut expect.max_ttft_ms),
            ("max_gap_ms", &mut expect.max_gap_ms),
        ] {
            if let Some(n) = node.get(key) {
                match n.kind {
                    NodeKind::Int(ms) if ms > 0 => {
                        *slot = Some((ms as u64, self.loc(n.span.clone())))
                    }
                    _ => self.error(
                        n.span.clone(),
                        &format!(
                            "`{key}` must be a positive number of milliseconds, not {}",
                            n.type_name()
                        ),
                        "expected an integer",
                        Some(format!("write e.g. `{key}: 2000`")),
                    ),
                }
            }
        }
        for (key, slot) in [
            ("content_is_json", &mut expect.content_is_json),
            ("tool_args_valid", &mut expect.tool_args_valid),
            ("matches_nonstream", &mut expect.matches_nonstream),
        ] {
            if let Some(n) = node.get(key)
                && self.bool(n, key) == Some(true)
            {
                *slot = Some(Location {
                    file: self.file.clone(),
                    span: n.span.clone(),
                });
            }
        }
        if let Some(n) = node.get("assert") {
            match n.as_seq() {
                Some(items) => {
                    for item in items {
                        if let Some(a) = self.assertion(item, known) {
                            expect.asserts.push(a);
                        }
                    }
                }
                None => self.wrong_type(n, "assert", "a list of assertions"),
            }
        }
        Some(expect)
    }

    fn status(&mut self, node: &Node) -> Option<StatusExpect> {
        const FORMS: &str = "a status code, a list of them, or a class like `4xx`";
        // A code: an integer in range. `in_list` tells a class inside a list apart.
        let one = |cx: &mut Cx, n: &Node, in_list: bool| -> Option<u16> {
            match &n.kind {
                NodeKind::Int(i) if (100..=599).contains(i) => Some(*i as u16),
                NodeKind::Int(i) => {
                    cx.error(
                        n.span.clone(),
                        &format!("`{i}` is not an HTTP status"),
                        "expected 100..=599",
                        Some("a status has three digits; write a class such as `2xx` to accept any code in it".into()),
                    );
                    None
                }
                NodeKind::Str(s) if s.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c)) => {
                    cx.error(
                        n.span.clone(),
                        &format!("status `{s}` is written as a string"),
                        "a status code is a number",
                        Some(format!("remove the quotes: `{s}`")),
                    );
                    None
                }
                NodeKind::Str(s) if in_list && status_class(s).is_some() => {
                    cx.error(
                        n.span.clone(),
                        &format!("`{s}` is a class inside a list of codes"),
                        "a list holds status codes only",
                        Some(format!("write `status: {s}` alone, or list the codes")),
                    );
                    None
                }
                _ => {
                    cx.wrong_type(n, "status", FORMS);
                    None
                }
            }
        };
        match &node.kind {
            NodeKind::Str(s) if status_class(s).is_some() => {
                match status_class(s).expect("checked") {
                    Ok(c) => Some(StatusExpect::Class(c)),
                    Err(()) => {
                        let lower = s.to_ascii_lowercase();
                        let label = if matches!(status_class(&lower), Some(Ok(_))) {
                            format!("did you mean `{lower}`?")
                        } else {
                            "expected 1xx, 2xx, 3xx, 4xx or 5xx".to_owned()
                        };
                        self.error(
                            node.span.clone(),
                            &format!("`{s}` is not a status class"),
                            &label,
                            Some(
                                "a class is a digit from 1 to 5 followed by a lower-case `xx`"
                                    .into(),
                            ),
                        );
                        None
                    }
                }
            }
            NodeKind::Seq(items) if !items.is_empty() => {
                let codes: Vec<u16> = items.iter().filter_map(|i| one(self, i, true)).collect();
                (codes.len() == items.len()).then_some(StatusExpect::Exact(codes))
            }
            _ => one(self, node, false).map(|c| StatusExpect::Exact(vec![c])),
        }
    }

    fn assertion(&mut self, node: &Node, known: &[&str]) -> Option<Assertion> {
        self.map(node, "an assertion", ASSERT_KEYS)?;
        let Some(pointer_node) = node.get("pointer") else {
            if misspelled(node, &["pointer"], ASSERT_KEYS) {
                return None;
            }
            self.error(
                node.span.clone(),
                "assertion has no `pointer`",
                "add `pointer: /choices/0/message/role`",
                Some("a JSON pointer says which value of the response body is meant; `\"\"` is the whole body".into()),
            );
            return None;
        };
        let pointer = self.string(pointer_node, "pointer")?;
        if !(pointer.is_empty() || pointer.starts_with('/')) {
            self.error(
                pointer_node.span.clone(),
                &format!("`{pointer}` is not a JSON pointer"),
                "a JSON pointer starts with `/`",
                Some(format!("did you mean `/{}`?", pointer.replace('.', "/"))),
            );
            return None;
        }
        let ops: Vec<&str> = ASSERT_OPS
            .iter()
            .copied()
            .filter(|op| node.get(op).is_some())
            .collect();
        let op_name = match ops.as_slice() {
            [one] => *one,
            [] if misspelled(node, ASSERT_OPS, ASSERT_KEYS) => return None,
            [] => {
                self.error(
                    pointer_node.span.clone(),
                    "assertion says nothing about the value",
                    "add one of: equals, matches, exists, type, one_of",
                    Some("`exists: true` asserts only that the value is there".into()),
                );
                return None;
            }
            [_, second, ..] => {
                self.error(
                    self.key_span(node, second),
                    "an assertion has exactly one of equals, matches, exists, type, one_of",
                    "second operation",
                    Some("split it into two assertions".into()),
                );
                return None;
            }
        };
        let value = node.get(op_name).expect("present");
        let op = match op_name {
            "equals" => {
                self.check_vars(value, known);
                AssertOp::Equals(self.json(value)?)
            }
            "matches" => {
                let pattern = self.string(value, "matches")?;
                match Regex::new(&pattern) {
                    Ok(re) => AssertOp::Matches(re),
                    Err(e) => {
                        let (range, what) = regex_error(&pattern, &e.to_string());
                        let span = match range {
                            Some(r) => self.inner_span(value, &pattern, r),
                            None => value.span.clone(),
                        };
                        self.error(
                            span,
                            &format!("invalid regex `{pattern}`"),
                            &what,
                            Some("the syntax is Rust's `regex` crate (no look-around); quote the pattern in single quotes to avoid YAML escapes".into()),
                        );
                        return None;
                    }
                }
            }
            "exists" => AssertOp::Exists(self.bool(value, "exists")?),
            "type" => {
                let t = self.string(value, "type")?;
                match JsonType::ALL.iter().find(|(s, _)| *s == t) {
                    Some((_, jt)) => AssertOp::Type(*jt),
                    None => {
                        let names = JsonType::ALL.iter().map(|(s, _)| *s);
                        let label = did_you_mean(&t, names.clone())
                            .or_else(|| json_type_alias(&t))
                            .map_or_else(
                                || "not one of the types below".to_owned(),
                                |s| format!("did you mean `{s}`?"),
                            );
                        self.error(
                            value.span.clone(),
                            &format!("unknown JSON type `{t}`"),
                            &label,
                            Some(format!("types: {}", names.collect::<Vec<_>>().join(", "))),
                        );
                        return None;
                    }
                }
            }
            "one_of" => match self.checked_json(value, known)? {
                Value::Array(items) if !items.is_empty() => AssertOp::OneOf(items),
                _ => {
                    self.wrong_type(value, "one_of", "a non-empty list of values");
                    return None;
                }
            },
            _ => unreachable!("ops come from ASSERT_OPS"),
        };
        Some(Assertion {
            pointer,
            op,
            location: self.loc(node.span.clone()),
        })
    }

    fn checks(&mut self, node: &Node) -> Vec<CheckPattern> {
        let Some(items) = node.as_seq() else {
            self.wrong_type(node, "checks", "a list of check ids");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(id) = self.string(item, "a check id") else {
                continue;
            };
            let known = match id.strip_suffix(".*") {
                Some(area) => catalog::CHECKS
                    .iter()
                    .any(|c| c.id.starts_with(&format!("{area}."))),
                None => catalog::CHECKS.iter().any(|c| c.id == id),
            };
            if known {
                out.push(CheckPattern(id));
            } else {
                let areas = check_areas();
                let candidates = catalog::CHECKS
                    .iter()
                    .map(|c| c.id)
                    .chain(areas.iter().map(String::as_str));
                let label = did_you_mean(&id, candidates).map_or_else(
                    || "not in the catalog".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                );
                let hint = if catalog::ASSERTIONS.iter().any(|a| a.id == id) {
                    "suite assertions run whenever `expect` asks for them; list catalog checks here"
                        .to_owned()
                } else {
                    "`gatecheck explain --list` prints every check id".to_owned()
                };
                self.error(
                    item.span.clone(),
                    &format!("unknown check `{id}`"),
                    &label,
                    Some(hint),
                );
            }
        }
        out
    }
}

/// Where in `pattern` the `regex` crate's error points (a byte range), and what it says.
fn regex_error(pattern: &str, rendered: &str) -> (Option<std::ops::Range<usize>>, String) {
    let what = rendered
        .lines()
        .last()
        .map(|l| l.trim().trim_start_matches("error: ").to_owned())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "invalid regex".to_owned());
    (regex_error_range(pattern, rendered), what)
}

/// The crate renders its errors as text only: the pattern indented by four spaces, a line of
/// carets under the culprit, then `error: ...`. When the pattern is one line and the carets
/// are there, their columns (in characters) give the range.
fn regex_error_range(pattern: &str, rendered: &str) -> Option<std::ops::Range<usize>> {
    if pattern.contains('\n') {
        return None;
    }
    let lines: Vec<&str> = rendered.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.strip_prefix("    ") == Some(pattern))?;
    let carets = lines.get(at + 1)?.strip_prefix("    ")?;
    let first = carets.find('^')?; // only spaces before it: bytes are columns
    let count = carets[first..].chars().take_while(|&c| c == '^').count();
    if !carets[first + count..].trim().is_empty() {
        return None;
    }
    let byte = |col: usize| {
        pattern
            .char_indices()
            .nth(col)
            .map_or(pattern.len(), |(i, _)| i)
    };
    let (start, end) = (byte(first), byte(first + count));
    (start < end).then_some(start..end)
}

/// Every `area.*` pattern the catalog has checks for.
fn check_areas() -> Vec<String> {
    let mut areas: Vec<String> = Vec::new();
    for c in catalog::CHECKS {
        let pattern = format!("{}.*", c.id.split_once('.').map_or(c.id, |(a, _)| a));
        if !areas.contains(&pattern) {
            areas.push(pattern);
        }
    }
    areas
}

/// The schema meant by `name`: a near spelling, or the one whose name ends with it
/// (`ChatCompletionResponse` for OpenAI's `CreateChatCompletionResponse`).
fn suggest_schema(name: &str) -> Option<&'static str> {
    did_you_mean(name, schema::names()).or_else(|| {
        let lower = name.to_ascii_lowercase();
        (lower.len() >= 5)
            .then(|| schema::names().find(|s| s.to_ascii_lowercase().ends_with(&lower)))
            .flatten()
    })
}

/// JSON Schema's name for a type as other languages spell it.
fn json_type_alias(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "str" | "text" => "string",
        "int" | "i64" | "long" => "integer",
        "float" | "double" | "f64" => "number",
        "bool" => "boolean",
        "list" | "vec" | "tuple" => "array",
        "dict" | "map" | "hash" | "mapping" => "object",
        "none" | "nil" => "null",
        _ => return None,
    })
}

/// Whether `s` is written like a status class (three characters, the last two `x` in any
/// case): `Ok(hundreds digit)` when it is one (`1xx`..`5xx`), `Err` when it only looks like one.
fn status_class(s: &str) -> Option<Result<u16, ()>> {
    let b = s.as_bytes();
    if b.len() != 3 || !b[1].eq_ignore_ascii_case(&b'x') || !b[2].eq_ignore_ascii_case(&b'x') {
        return None;
    }
    Some(match b[0] {
        d @ b'1'..=b'5' if &b[1..] == b"xx" => Ok(u16::from(d - b'0')),
        _ => Err(()),
    })
}

/// `name` made into a variable name: other characters become `_`, and a leading digit gets one.
fn as_var_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// Whether `map` has an unknown key that [`Cx::map`] already reported as a misspelling of one of
/// `wanted`: then "missing `request`" would repeat "unknown key `reqest`, did you mean `request`?".
fn misspelled(map: &Node, wanted: &[&str], allowed: &[&str]) -> bool {
    map.as_map().is_some_and(|entries| {
        entries.iter().any(|(k, _)| {
            k.as_str().is_some_and(|k| {
                !allowed.contains(&k)
                    && did_you_mean(k, allowed.iter().copied()).is_some_and(|s| wanted.contains(&s))
            })
        })
    })
}

fn is_ident(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Suite, Vec<Diagnostic>> {
        load_one(SourceFile::new("suites/t.yaml", text)).map(|(s, _)| s)
    }

    const MINIMAL: &str = "\
cases:
  - name: plain
    request:
      path: /chat/completions
      body:
        model: ${model}
        messages: [{role: user, content: hi}]
";

    #[test]
    fn a_minimal_suite_loads_with_defaults() {
        let suite = load(MINIMAL).unwrap();
        assert_eq!(suite.name, "t");
        let case = &suite.cases[0];
        assert_eq!(case.name, "plain");
        assert_eq!(case.request.method, Method::Post);
        assert_eq!(case.request.auth, Auth::Key);
        assert!(case.checks.is_none());
        assert!(matches!(&case.request.body, Body::Json(v) if v["model"] == "${model}"));
    }

    #[test]
    fn every_problem_of_a_file_is_reported_at_once() {
        let text = "\
cases:
  - name: a
    request: {path: /models}
    expect: {staus: 200}
  - name: b
    request: {path: /models}
    checks: [resp.envelop]
";
        let diags = load(text).unwrap_err();
        let messages: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "unknown key `staus` in expect",
                "unknown check `resp.envelop`"
            ]
        );
        assert_eq!(diags[0].label, "did you mean `status`?");
    }

    #[test]
    fn undefined_variables_point_inside_the_string() {
        let text = MINIMAL.replace("content: hi", "content: \"say ${greting}\"");
        let diags = load(&text).unwrap_err();
        assert_eq!(diags[0].message, "undefined variable `greting`");
        let loc = &diags[0].location;
        assert_eq!(&loc.file.text[loc.span.clone()], "${greting}");
    }

    #[test]
    fn vars_and_parametrize_define_variables() {
        let text = "\
vars:
  greeting: hello
cases:
  - name: p
    parametrize:
      temperature: [0, 1]
    request:
      path: /chat/completions
      body: {model: '${model}', temperature: '${temperature}', messages: [{role: user, content: '${greeting}'}]}
";
        let suite = load(text).unwrap();
        assert_eq!(suite.vars["greeting"], "hello");
        assert_eq!(suite.cases[0].parametrize[0].1.len(), 2);
    }

    #[test]
    fn check_patterns_accept_areas() {
        assert!(CheckPattern("tools.*".into()).matches("tools.parallel_calls"));
        assert!(!CheckPattern("tools.*".into()).matches("resp.envelope"));
        let text = MINIMAL.to_owned() + "    checks: ['tools.*', resp.envelope]\n";
        assert_eq!(
            load(&text).unwrap().cases[0].checks.as_ref().unwrap().len(),
            2
        );
    }

    #[test]
    fn status_forms() {
        let with = |s: &str| {
            let text = MINIMAL.to_owned() + &format!("    expect: {{status: {s}}}\n");
            load(&text).map(|suite| suite.cases[0].expect.status.clone().unwrap().0)
        };
        assert_eq!(with("200").unwrap(), StatusExpect::Exact(vec![200]));
        assert_eq!(
            with("[400, 422]").unwrap(),
            StatusExpect::Exact(vec![400, 422])
        );
        assert_eq!(with("4xx").unwrap(), StatusExpect::Class(4));
        assert!(with("99").is_err());
    }

    /// The messages of a file's diagnostics, in order.
    fn messages(text: &str) -> Vec<String> {
        load(text)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn body_and_raw_body_together_is_one_diagnostic() {
        let text = MINIMAL.to_owned() + "      raw_body: '{}'\n";
        assert_eq!(
            messages(&text),
            ["a request has either `body` or `raw_body`, not both"]
        );
    }

    #[test]
    fn a_misspelled_required_key_is_reported_once() {
        let cases = [
            ("case:\n  - name: a\n", "unknown key `case` in a suite"),
            (
                "cases:\n  - nme: a\n    request: {path: /models}\n",
                "unknown key `nme` in a case",
            ),
            (
                "cases:\n  - name: a\n    reqest: {path: /models}\n",
                "unknown key `reqest` in a case",
            ),
            (
                "cases:\n  - name: a\n    request: {pth: /models}\n",
                "unknown key `pth` in request",
            ),
            (
                "cases:\n  - name: a\n    request: {path: /models}\n    expect:\n      assert: [{ponter: /id, exists: true}]\n",
                "unknown key `ponter` in an assertion",
            ),
            (
                "cases:\n  - name: a\n    request: {path: /models}\n    expect:\n      assert: [{pointer: /id, equal: x}]\n",
                "unknown key `equal` in an assertion",
            ),
        ];
        for (text, only) in cases {
            assert_eq!(messages(text), [only], "{text}");
        }
        // A key that is not a misspelling of the missing one still leaves it missing.
        assert_eq!(
            messages("cases:\n  - name: a\n    colour: red\n"),
            [
                "unknown key `colour` in a case",
                "case `a` has no `request`"
            ]
        );
    }

    #[test]
    fn a_swapped_pair_of_letters_is_still_recognized() {
        let text = "cases:\n  - nmae: a\n    request: {path: /models}\n";
        let diags = load(text).unwrap_err();
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].label, "did you mean `name`?");
    }

    #[test]
    fn a_variable_with_bad_values_is_still_defined() {
        let uses = "    request:\n      path: /models/${x}\n";
        // An empty or non-list parametrize value, a var that is not JSON: one diagnostic each,
        // not a second one for every use of the variable.
        for (defs, only) in [
            ("    parametrize: {x: []}\n", "`parametrize.x` is empty"),
            (
                "    parametrize: {x: 3}\n",
                "`parametrize.x` must be a list of values, not an integer",
            ),
        ] {
            let text = format!("cases:\n  - name: a\n{defs}{uses}");
            assert_eq!(messages(&text), [only], "{text}");
        }
        let text = format!("vars: {{x: .nan}}\ncases:\n  - name: a\n{uses}");
        assert_eq!(messages(&text), ["`NaN` cannot be represented in JSON"]);
        let text = format!("vars: [x]\ncases:\n  - name: a\n{uses}");
        assert_eq!(
            messages(&text),
            ["`vars` must be a mapping of name to value, not a list"]
        );
    }

    #[test]
    fn vars_and_parametrize_accept_the_same_names() {
        for defs in ["vars: {DEF: [x]}\n", ""] {
            // A case may parametrize `model` (the planner runs it over those models); a suite
            // cannot set it for every case.
            let model = (!defs.is_empty()).then_some("`model` is a built-in variable");
            for (name, message) in [
                ("model", model),
                ("target", Some("`target` is a built-in variable")),
                ("max-tokens", Some("`max-tokens` is not a variable name")),
                ("2x", Some("`2x` is not a variable name")),
                // `}` used to slip through parametrize: `${a}b}` parses as `${a}` plus text.
                ("'a}b'", Some("`a}b` is not a variable name")),
                ("max_tokens", None),
            ] {
                let text = if defs.is_empty() {
                    format!(
                        "cases:\n  - name: c\n    parametrize: {{{name}: [x]}}\n    request: {{path: /models}}\n"
                    )
                } else {
                    defs.replace("DEF", name)
                        + "cases:\n  - name: c\n    request: {path: /models}\n"
                };
                let expected: Vec<String> = message.map(str::to_owned).into_iter().collect();
                assert_eq!(messages(&text), expected, "{text}");
            }
        }
    }

    #[test]
    fn a_misnamed_variable_is_reported_at_its_definition_only() {
        let uses = "    request: {path: '/models/${max-tokens}', headers: {x: '${max_tokens}'}}\n";
        for defs in [
            "vars: {max-tokens: 1}\ncases:\n  - name: c\n".to_owned(),
            "cases:\n  - name: c\n    parametrize: {max-tokens: [1]}\n".to_owned(),
        ] {
            let diags = load(&(defs.clone() + uses)).unwrap_err();
            assert_eq!(diags.len(), 1, "{defs}: {diags:?}");
            assert_eq!(diags[0].message, "`max-tokens` is not a variable name");
            assert!(
                diags[0]
                    .hint
                    .as_deref()
                    .unwrap()
                    .starts_with("rename it `max_tokens`"),
                "{:?}",
                diags[0].hint
            );
        }
    }

    #[test]
    fn wrong_types_say_how_to_write_what_was_meant() {
        let case = |extra: &str| {
            let diags = load(&(MINIMAL.to_owned() + extra)).unwrap_err();
            assert_eq!(diags.len(), 1, "{extra}: {diags:?}");
            (
                diags[0].message.clone(),
                diags[0].hint.clone().unwrap_or_default(),
            )
        };
        assert_eq!(
            case("    requires: chat\n"),
            (
                "`requires` must be a list of capabilities, not a string".into(),
                "write a list: `[chat]`".into()
            )
        );
        assert_eq!(
            case("    expect: {content_is_json: yes}\n").1,
            "YAML 1.2 reads `yes` as a string; write `true`"
        );
        assert_eq!(
            case("    expect: {content_is_json: 'false'}\n").1,
            "remove the quotes: `false`"
        );
        assert_eq!(
            case("    expect:\n      assert:\n        pointer: /id\n        exists: true\n").1,
            "start each item of the list on its own line with `- `"
        );
        // A phrase is not quoted like a key.
        let diags = load("cases: [just a string]\n").unwrap_err();
        assert_eq!(diags[0].message, "a case must be a mapping, not a string");
    }

    #[test]
    fn a_suite_that_is_not_a_mapping_points_at_its_first_line() {
        let text = "- name: a\n  request: {path: /models}\n";
        let diags = load(text).unwrap_err();
        assert_eq!(diags.len(), 1);
        assert_eq!(
            diags[0].message,
            "a suite must be a mapping with a `cases:` list, not a list"
        );
        assert_eq!(diags[0].location.span, 0..9);
        let diags = load("suite: x\ndescription: y\n").unwrap_err();
        assert_eq!(diags[0].message, "suite has no `cases`");
        assert_eq!(diags[0].location.span, 0..5);
    }

    #[test]
    fn status_mistakes_say_what_to_write() {
        let with = |st: &str| {
            let diags = load(&(MINIMAL.to_owned() + &format!("    expect: {{status: {st}}}\n")))
                .unwrap_err();
            assert_eq!(diags.len(), 1, "{st}: {diags:?}");
            (
                diags[0].message.clone(),
                diags[0].label.clone(),
                diags[0].hint.clone().unwrap_or_default(),
            )
        };
        assert_eq!(
            with("2XX"),
            (
                "`2XX` is not a status class".into(),
                "did you mean `2xx`?".into(),
                "a class is a digit from 1 to 5 followed by a lower-case `xx`".into()
            )
        );
        assert_eq!(with("6xx").1, "expected 1xx, 2xx, 3xx, 4xx or 5xx");
        assert_eq!(with("'200'").0, "status `200` is written as a string");
        assert_eq!(with("'200'").2, "remove the quotes: `200`");
        assert_eq!(
            with("[4xx, 500]").0,
            "`4xx` is a class inside a list of codes"
        );
        assert_eq!(
            with("ok").0,
            "`status` must be a status code, a list of them, or a class like `4xx`, not a string"
        );
        assert_eq!(with("2000").0, "`2000` is not an HTTP status");
    }

    #[test]
    fn a_bad_regex_is_pointed_at_where_the_regex_crate_points() {
        let text = MINIMAL.to_owned()
            + "    expect:\n      assert:\n        - pointer: /id\n          matches: '^chatcmpl-(\\w+$'\n";
        let diags = load(&text).unwrap_err();
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].label, "unclosed group");
        let loc = &diags[0].location;
        assert_eq!(&loc.file.text[loc.span.clone()], "(");
        // Through a function, so that clippy does not reject the bad patterns themselves.
        let located = |pattern: &str| {
            let rendered = Regex::new(pattern).expect_err("a bad pattern").to_string();
            regex_error(pattern, &rendered)
        };
        // A culprit after multi-byte characters: columns are characters, spans are bytes.
        assert_eq!(located("é("), (Some(2..3), "unclosed group".to_owned()));
        assert_eq!(located("a{2,1}").0, Some(1..6));
    }

    #[test]
    fn names_get_suggestions_beyond_typos() {
        let label = |extra: &str| {
            let diags = load(&(MINIMAL.to_owned() + extra)).unwrap_err();
            assert_eq!(diags.len(), 1, "{extra}: {diags:?}");
            diags[0].label.clone()
        };
        assert_eq!(label("    checks: ['tool.*']\n"), "did you mean `tools.*`?");
        assert_eq!(
            label("    expect: {schema: ChatCompletionResponse}\n"),
            "did you mean `CreateChatCompletionResponse`?"
        );
        assert_eq!(
            label("    expect: {assert: [{pointer: /id, type: str}]}\n"),
            "did you mean `string`?"
        );
        assert_eq!(
            label("    expect: {assert: [{pointer: /x, type: dict}]}\n"),
            "did you mean `object`?"
        );
        assert_eq!(
            label("    expect: {error: model_not_found}\n"),
            "did you mean `unknown_model`? (`model_not_found` is OpenAI's error code for it)"
        );
        assert_eq!(
            label("    expect: {error: teapot}\n"),
            "not one of the kinds below"
        );
    }

    #[test]
    fn a_post_without_a_body_points_at_what_made_it_a_post() {
        let at = |request: &str| {
            let text = format!("cases:\n  - name: a\n    request: {request}\n");
            let diags = load(&text).unwrap_err();
            assert_eq!(diags.len(), 1, "{request}: {diags:?}");
            let loc = &diags[0].location;
            (
                loc.file.text[loc.span.clone()].to_owned(),
                diags[0].label.clone(),
            )
        };
        assert_eq!(
            at("{path: /chat/completions}"),
            (
                "/chat/completions".into(),
                "a POST by default: the path ends in `/chat/completions`".into()
            )
        );
        assert_eq!(
            at("{method: post, path: /models}"),
            ("post".into(), "a POST needs a body".into())
        );
        assert_eq!(
            at("{path: /chat/completions, body: null}"),
            ("body".into(), "`body` is empty".into())
        );
    }

    #[test]
    fn every_diagnostic_has_a_hint_or_a_suggestion() {
        // One mistake of each kind this file reports; each must say how to fix it.
        for extra in [
            "    request: {path: /models, auth: nokey}\n",
            "    request: {path: /models, method: PUT}\n",
            "    request: {method: GET}\n",
            "    requires: [teleport]\n    request: {path: /models}\n",
            "    request: {path: /models}\n    expect: {assert: [{exists: true}]}\n",
            "    request: {path: /models}\n    expect: {assert: [{pointer: /id}]}\n",
        ] {
            let text = format!("cases:\n  - name: a\n{extra}");
            let diags = load(&text).unwrap_err();
            assert_eq!(diags.len(), 1, "{extra}: {diags:?}");
            assert!(diags[0].hint.is_some(), "{extra}: {:?}", diags[0]);
        }
        let diags = load("cases:\n  - description: x\n    request: {path: /models}\n").unwrap_err();
        assert!(diags[0].hint.is_some(), "{:?}", diags[0]);
    }

    /// `schemas/suite.schema.json` documents exactly the keys this loader accepts, level by
    /// level (tests/suite_schema.rs checks its enums and validates the shipped suites).
    #[test]
    fn the_suite_schema_lists_the_loaders_keys() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/suite.schema.json");
        let text = std::fs::read_to_string(path).expect("the suite schema is committed");
        let schema: Value = serde_json::from_str(&text).expect("the suite schema is JSON");
        let keys = |at: &Value| -> Vec<String> {
            let mut keys: Vec<String> = at["properties"]
                .as_object()
                .expect("properties")
                .keys()
                .cloned()
                .collect();
            keys.sort();
            keys
        };
        let sorted = |list: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
            v.sort();
            v
        };
        let defs = &schema["$defs"];
        assert_eq!(keys(&schema), sorted(SUITE_KEYS), "suite keys");
        assert_eq!(keys(&defs["case"]), sorted(CASE_KEYS), "case keys");
        assert_eq!(keys(&defs["request"]), sorted(REQUEST_KEYS), "request keys");
        assert_eq!(keys(&defs["expect"]), sorted(EXPECT_KEYS), "expect keys");
        assert_eq!(
            keys(&defs["assertion"]),
            sorted(ASSERT_KEYS),
            "assertion keys"
        );
        let ops: Vec<String> = defs["assertion"]["oneOf"]
            .as_array()
            .expect("oneOf")
            .iter()
            .map(|alt| alt["required"][0].as_str().expect("one op").to_owned())
            .collect();
        assert_eq!(ops, ASSERT_OPS, "assertion operations, in order");
        let reserved = |at: &Value| -> Vec<String> {
            at["propertyNames"]["not"]["enum"]
                .as_array()
                .expect("reserved names")
                .iter()
                .map(|v| v.as_str().expect("a name").to_owned())
                .collect()
        };
        assert_eq!(
            reserved(&schema["properties"]["vars"]),
            BUILTIN_VARS,
            "vars"
        );
        assert_eq!(
            reserved(&defs["case"]["properties"]["parametrize"]),
            PARAMETRIZE_RESERVED,
            "parametrize"
        );
    }

    #[test]
    fn parametrized_models_are_model_ids() {
        let text = "cases:\n  - name: c\n    parametrize: {model: [gpt-4o, 4]}\n    request: {path: '/models/${model}'}\n";
        assert_eq!(
            messages(text),
            ["a model id must be a string, not an integer"]
        );
    }

    #[test]
    fn the_shipped_suites_load() {
        let suites = load_shipped().unwrap_or_else(|e| panic!("{e}"));
        assert!(!suites.is_empty());
    }
}
