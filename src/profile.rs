//! Profiles: a gateway's documented dialect as data. One YAML file per gateway in `profiles/`
//! (embedded in the binary, validated against `schemas/profile.schema.json`) declares its base
//! path and auth, model and response id styles, capabilities, which parameters it supports,
//! ignores or forwards, the extra response fields it documents (with their JSON Schema), its
//! error bodies and codes, extra endpoints, and the findings it documents: those become
//! `variant` (reported, not failed). The strict `openai` profile documents nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::diag::{Diagnostic, Location, SourceFile};
use crate::suite::{Capability, ErrorKind};

/// A documented dialect.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The name targets use (`--target prod=URL@ml-router`).
    #[serde(rename = "profile")]
    pub name: String,
    pub title: String,
    /// The document the profile is read from.
    pub source: String,
    pub summary: String,
    /// Where the OpenAI routes live below the host (`/v1`, `/api/openai/v1`).
    #[serde(default = "default_base_path")]
    pub base_path: String,
    #[serde(default)]
    pub auth: AuthSpec,
    /// What targets with this profile can do; cases requiring anything else are skipped.
    #[serde(deserialize_with = "capabilities")]
    pub capabilities: BTreeSet<Capability>,
    #[serde(default)]
    pub models: ModelsSpec,
    #[serde(default)]
    pub response_ids: Option<PatternSpec>,
    /// Values for the profile variables suites use (`${model_without_tools}`, ...).
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
    #[serde(default)]
    pub parameters: ParametersSpec,
    #[serde(default)]
    pub response_fields: Vec<FieldSpec>,
    /// Fields of OpenAI's completion the documentation does not include.
    #[serde(default)]
    pub omitted_fields: Vec<String>,
    #[serde(default)]
    pub errors: ErrorsSpec,
    #[serde(default)]
    pub endpoints: Vec<EndpointSpec>,
    #[serde(default)]
    pub sse: SseSpec,
    #[serde(default)]
    pub variants: Vec<VariantRule>,
}

fn default_base_path() -> String {
    "/v1".into()
}

fn capabilities<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeSet<Capability>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|n| {
            Capability::parse(n)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown capability `{n}`")))
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    pub header: String,
    pub scheme: String,
}

impl Default for AuthSpec {
    fn default() -> Self {
        AuthSpec {
            header: "Authorization".into(),
            scheme: "Bearer".into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsSpec {
    /// The documented model id style.
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub example: Option<String>,
    /// Models the documentation names, with what they lack.
    #[serde(default)]
    pub served: Vec<ModelSpec>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub id: String,
    /// Capabilities this model lacks ("partial capabilities").
    #[serde(default, deserialize_with = "capabilities")]
    pub without: BTreeSet<Capability>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSpec {
    pub pattern: String,
    #[serde(default)]
    pub example: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParametersSpec {
    /// Parameters the gateway honours (empty: as OpenAI).
    #[serde(default)]
    pub supported: Vec<String>,
    /// Parameters accepted and ignored.
    #[serde(default)]
    pub ignored: Vec<String>,
    /// Unknown parameters are forwarded upstream (accepted) rather than rejected.
    #[serde(default)]
    pub forwarded: bool,
    /// The documentation promises that a request is accepted whatever else it carries (meingpt:
    /// "Anfragen werden trotzdem akzeptiert"): parameters neither supported nor ignored too.
    #[serde(default)]
    pub accepts_unlisted: bool,
    /// Request fields beyond OpenAI's that the gateway accepts.
    #[serde(default)]
    pub extra: Vec<String>,
}

impl ParametersSpec {
    /// Whether a request parameter is accepted and ignored: listed as such, or not honoured by a
    /// profile that accepts whatever a request carries.
    pub fn ignores(&self, name: &str) -> bool {
        self.ignored.iter().any(|i| i == name)
            || (self.accepts_unlisted && !self.supported.iter().any(|s| s == name))
    }

    /// The request's top-level parameters the profile promises to take (`model`, `messages`
    /// and `stream` aside: every request has them), for `profile.parameter_accepted`.
    pub fn promised<'a>(&self, body: &'a serde_json::Map<String, Value>) -> Vec<&'a str> {
        body.keys()
            .map(String::as_str)
            .filter(|k| !matches!(*k, "model" | "messages" | "stream"))
            .filter(|k| {
                self.accepts_unlisted
                    || self
                        .supported
                        .iter()
                        .chain(&self.ignored)
                        .chain(&self.extra)
                        .any(|n| n == k)
            })
            .collect()
    }
}

/// A documented response field: a JSON pointer (`*` matches any array index) and its schema.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub path: String,
    pub schema: Value,
    /// On every 2xx completion (and a stream's usage trailer, for usage fields).
    #[serde(default)]
    pub required: bool,
    /// How bad a required field's absence is: a warning where the documentation promises it in
    /// words but its own example leaves it out.
    #[serde(default)]
    pub when_missing: WhenMissing,
    #[serde(default)]
    pub note: Option<String>,
}

/// [`FieldSpec::when_missing`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenMissing {
    #[default]
    Violation,
    Warning,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorsSpec {
    /// The documented error body, when it is not OpenAI's `{"error": {...}}`.
    #[serde(default)]
    pub body_schema: Option<Value>,
    #[serde(default)]
    pub documented: Vec<DocumentedError>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentedError {
    pub status: u16,
    /// The documented `error.code`.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// The errors a case provokes on purpose (`expect.error`) that get this answer.
    #[serde(default, deserialize_with = "error_kinds")]
    pub kinds: Vec<ErrorKind>,
}

fn error_kinds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ErrorKind>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|n| {
            ErrorKind::ALL
                .iter()
                .find(|(s, _)| s == n)
                .map(|(_, k)| *k)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown error kind `{n}`")))
        })
        .collect()
}

/// What the documentation says of its event streams.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SseSpec {
    /// Streams end with `data: [DONE]`, as documented.
    #[serde(default)]
    pub done: bool,
    /// Keep-alive comments are documented.
    #[serde(default)]
    pub comments: bool,
    /// Vendor chunk fields it documents (`delta.images`).
    #[serde(default)]
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    pub method: String,
    /// Relative to the base URL (`/prices`).
    pub path: String,
    #[serde(default)]
    pub note: Option<String>,
    /// The documented answer's shape.
    #[serde(default)]
    pub schema: Option<Value>,
    /// `check` (the default) judges it; `info` only reports whether it exists.
    #[serde(default)]
    pub report: EndpointReport,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointReport {
    #[default]
    Check,
    Info,
}

/// A deviation the documentation announces: matching findings become `variant`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantRule {
    /// A check id, or an area (`err.*`).
    pub check: String,
    /// Only findings at this JSON pointer or below it.
    #[serde(default)]
    pub path: Option<String>,
    /// Only when the request sends one of these parameters.
    #[serde(default)]
    pub when_param: Vec<String>,
    /// Only when the response has this status.
    #[serde(default)]
    pub status: Option<u16>,
    /// What the documentation says, quoted where possible.
    pub because: String,
}

impl VariantRule {
    /// Whether a finding (its check id and path) on this exchange is the documented deviation.
    pub fn matches(
        &self,
        check: &str,
        path: Option<&str>,
        req: Option<&Value>,
        status: u16,
    ) -> bool {
        let check = match self.check.strip_suffix(".*") {
            Some(area) => check.split_once('.').is_some_and(|(a, _)| a == area),
            None => check == self.check,
        };
        let path = match (&self.path, path) {
            (None, _) => true,
            (Some(p), Some(fp)) => fp == p || fp.starts_with(&format!("{p}/")),
            (Some(_), None) => false,
        };
        let param = self.when_param.is_empty()
            || self
                .when_param
                .iter()
                .any(|p| req.is_some_and(|j| j.get(p).is_some_and(|v| !v.is_null())));
        let status = self.status.is_none_or(|s| s == status);
        check && path && param && status
    }
}

impl Profile {
    /// Whether a served model lacks a capability.
    pub fn model_lacks(&self, model: &str, capability: Capability) -> bool {
        self.models
            .served
            .iter()
            .any(|m| m.id == model && m.without.contains(&capability))
    }

    /// What the profile documents, for `gatecheck profiles NAME`.
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let list = |v: &[String]| {
            if v.is_empty() {
                "—".to_owned()
            } else {
                v.join(", ")
            }
        };
        let _ = writeln!(out, "{} ({})", self.name, self.title);
        let _ = writeln!(out, "  {}", self.summary);
        let _ = writeln!(out, "source:       {}", self.source);
        let _ = writeln!(out, "base path:    {}", self.base_path);
        let _ = writeln!(
            out,
            "auth:         {}: {} <key>",
            self.auth.header, self.auth.scheme
        );
        let caps: Vec<String> = self
            .capabilities
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        let _ = writeln!(out, "capabilities: {}", caps.join(", "));
        if let Some(p) = &self.models.pattern {
            let _ = writeln!(out, "model ids:    {p}");
        }
        for m in &self.models.served {
            let without: Vec<&str> = m.without.iter().map(|c| c.as_str()).collect();
            if !without.is_empty() {
                let _ = writeln!(out, "model:        {} without {}", m.id, without.join(", "));
            }
        }
        if let Some(r) = &self.response_ids {
            let _ = writeln!(out, "response ids: {}", r.pattern);
        }
        for (k, v) in &self.vars {
            let _ = writeln!(out, "${{{k}}}: {v}");
        }
        let p = &self.parameters;
        if !p.supported.is_empty() {
            let _ = writeln!(out, "parameters honoured: {}", list(&p.supported));
        }
        if !p.ignored.is_empty() {
            let _ = writeln!(out, "parameters ignored:  {}", list(&p.ignored));
        }
        if !p.extra.is_empty() {
            let _ = writeln!(out, "extra request fields: {}", list(&p.extra));
        }
        if p.forwarded {
            let _ = writeln!(out, "unknown parameters:  forwarded upstream");
        }
        for f in &self.response_fields {
            let _ = writeln!(
                out,
                "response field: {}{} {}",
                f.path,
                match (f.required, f.when_missing) {
                    (false, _) => "",
                    (true, WhenMissing::Violation) => " (always)",
                    (true, WhenMissing::Warning) => " (promised; missing is a warning)",
                },
                f.schema
            );
        }
        if !self.omitted_fields.is_empty() {
            let _ = writeln!(out, "left out:     {}", list(&self.omitted_fields));
        }
        if let Some(b) = &self.errors.body_schema {
            let _ = writeln!(out, "error body:   {b}");
        }
        for e in &self.errors.documented {
            let kinds: Vec<&str> = e.kinds.iter().map(|k| k.as_str()).collect();
            let _ = writeln!(
                out,
                "error:        {} {} for {}",
                e.status,
                e.code.as_deref().unwrap_or("(no code)"),
                if kinds.is_empty() {
                    "—".to_owned()
                } else {
                    kinds.join(", ")
                }
            );
        }
        for e in &self.endpoints {
            let report = if e.report == EndpointReport::Info {
                " (reported as info)"
            } else {
                ""
            };
            let _ = writeln!(out, "endpoint:     {} {}{report}", e.method, e.path);
        }
        if !self.sse.fields.is_empty() {
            let _ = writeln!(out, "chunk fields: {}", list(&self.sse.fields));
        }
        for r in &self.variants {
            let mut when = String::new();
            if let Some(p) = &r.path {
                let _ = write!(when, " at {p}");
            }
            if !r.when_param.is_empty() {
                let _ = write!(when, " when sending {}", r.when_param.join(", "));
            }
            if let Some(s) = r.status {
                let _ = write!(when, " on {s}");
            }
            let _ = writeln!(out, "variant:      {}{when}: {}", r.check, r.because);
        }
        out
    }

    /// The documented answer to an error provoked on purpose.
    pub fn documented_error(&self, kind: ErrorKind) -> Option<&DocumentedError> {
        self.errors
            .documented
            .iter()
            .find(|d| d.kinds.contains(&kind))
    }
}

/// The shipped profiles, embedded at build time as `(path, text)`.
fn shipped() -> &'static [(&'static str, &'static str)] {
    include!(concat!(env!("OUT_DIR"), "/shipped_profiles.rs"))
}

/// Every shipped profile, parsed once. Invalid shipped profiles are a bug (the tests validate
/// them), so they panic with their diagnostic.
pub fn all() -> &'static [Profile] {
    static ALL: OnceLock<Vec<Profile>> = OnceLock::new();
    ALL.get_or_init(|| {
        shipped()
            .iter()
            .map(|(path, text)| {
                load(SourceFile::new(*path, *text))
                    .unwrap_or_else(|d| panic!("{}", d.render(false)))
            })
            .collect()
    })
}

/// The names of the shipped profiles (`openai` first), then the registered ones.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = all().iter().map(|p| p.name.as_str()).collect();
    names.sort_by_key(|n| (*n != "openai", *n));
    let registered = REGISTERED.read().expect("not poisoned");
    names.extend(registered.iter().map(|p| p.name.as_str()));
    names
}

/// Looks up a profile by name: shipped, then registered.
pub fn get(name: &str) -> Option<&'static Profile> {
    all().iter().find(|p| p.name == name).or_else(|| {
        let registered = REGISTERED.read().expect("not poisoned");
        registered.iter().copied().find(|p| p.name == name)
    })
}

/// Parses and validates one profile file: against `schemas/profile.schema.json` (a failure
/// points at the offending node), then into a [`Profile`].
pub fn load(file: SourceFile) -> Result<Profile, Box<Diagnostic>> {
    let at = |span: std::ops::Range<usize>, message: String, hint: Option<String>| {
        Box::new(Diagnostic {
            message,
            location: Location {
                file: file.clone(),
                span,
            },
            label: "here".into(),
            hint,
        })
    };
    let root = match crate::yaml::parse(&file.text) {
        Ok(Some(root)) => root,
        Ok(None) => return Err(at(0..0, "profile file is empty".into(), None)),
        Err(e) => return Err(at(e.span, e.message, e.hint)),
    };
    let value = root
        .to_json()
        .map_err(|e| at(e.span.clone(), e.message, e.hint))?;
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    let schema = SCHEMA.get_or_init(|| {
        let doc: Value = serde_json::from_str(include_str!("../schemas/profile.schema.json"))
            .expect("the profile schema is JSON");
        crate::schema::compile(&doc).expect("the profile schema compiles")
    });
    static DOC: OnceLock<Value> = OnceLock::new();
    let doc = DOC.get_or_init(|| {
        serde_json::from_str(include_str!("../schemas/profile.schema.json"))
            .expect("the profile schema is JSON")
    });
    if let Some(e) = schema.iter_errors(&value).next() {
        let pointer = e.instance_path().as_str().to_owned();
        let mut node = root.at_pointer(&pointer).unwrap_or(&root);
        let mut hint = "see schemas/profile.schema.json for the profile format".to_owned();
        // A bad key (unknown, or not an allowed name): point at the key the message names. A bad
        // key or value: suggest the nearest allowed one.
        let message = e.to_string();
        let mut refused = node.as_str();
        if let crate::yaml::NodeKind::Map(entries) = &node.kind
            && let Some((key, name)) = entries.iter().find_map(|(k, _)| {
                let name = k.as_str()?;
                (message.contains(&format!("\"{name}\"")) || message.contains(&format!("'{name}'")))
                    .then_some((k, name))
            })
        {
            node = key;
            refused = Some(name);
        }
        if let Some(name) = refused {
            let allowed = allowed_names(doc, e.schema_path().as_str());
            if let Some(near) = crate::diag::did_you_mean(name, allowed.iter().map(String::as_str))
            {
                hint = format!("did you mean `{near}`?");
            } else if !allowed.is_empty() && allowed.len() <= 12 {
                hint = format!("allowed: {}", allowed.join(", "));
            }
        }
        return Err(at(
            node.span.clone(),
            format!(
                "invalid profile at `{}`: {e}",
                if pointer.is_empty() { "/" } else { &pointer }
            ),
            Some(hint),
        ));
    }
    let profile: Profile = serde_json::from_value(value)
        .map_err(|e| at(root.span.clone(), format!("invalid profile: {e}"), None))?;
    // What the schema cannot say: check ids exist, patterns compile.
    let node = |pointer: &str| root.at_pointer(pointer).unwrap_or(&root).span.clone();
    for (i, rule) in profile.variants.iter().enumerate() {
        let known = match rule.check.strip_suffix(".*") {
            Some(area) => {
                crate::catalog::ids().any(|id| id.split_once('.').is_some_and(|(a, _)| a == area))
            }
            None => crate::catalog::lookup(&rule.check).is_some(),
        };
        if !known {
            let hint = crate::diag::did_you_mean(&rule.check, crate::catalog::ids()).map_or_else(
                || "`gatecheck explain` lists the check ids".to_owned(),
                |s| format!("did you mean `{s}`?"),
            );
            return Err(at(
                node(&format!("/variants/{i}/check")),
                format!("unknown check `{}` in a variant rule", rule.check),
                Some(hint),
            ));
        }
    }
    let patterns = [
        ("/models/pattern", profile.models.pattern.as_deref()),
        (
            "/response_ids/pattern",
            profile.response_ids.as_ref().map(|r| r.pattern.as_str()),
        ),
    ];
    for (pointer, pattern) in patterns {
        if let Some(Err(e)) = pattern.map(regex::Regex::new) {
            let first = e.to_string().lines().last().unwrap_or_default().to_owned();
            return Err(at(
                node(pointer),
                format!("invalid regular expression: {first}"),
                None,
            ));
        }
    }
    Ok(profile)
}

/// The schema at a keyword location, following `$ref`s on the way.
fn schema_at<'v>(doc: &'v Value, schema_path: &str) -> Option<&'v Value> {
    let mut at = doc;
    for segment in schema_path.split('/').skip(1) {
        at = if segment == "$ref" {
            doc.pointer(at.get("$ref")?.as_str()?.strip_prefix('#')?)?
        } else {
            at.get(segment.replace("~1", "/").replace("~0", "~"))?
        };
    }
    Some(at)
}

/// The names the schema allows where one was refused: an `enum`'s values, the names a
/// `propertyNames` enum allows, or the `properties` of the object an `additionalProperties`
/// belongs to.
fn allowed_names(doc: &Value, schema_path: &str) -> Vec<String> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(object) = schema_path.strip_suffix("/additionalProperties") {
        return schema_at(doc, object)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
    }
    let at = schema_at(doc, schema_path);
    match at {
        Some(Value::Array(_)) => strings(at),
        Some(s) => strings(s.get("enum")),
        None => Vec::new(),
    }
}

/// Profiles read from the user's files ([`register`]), after the shipped ones.
static REGISTERED: std::sync::RwLock<Vec<&'static Profile>> = std::sync::RwLock::new(Vec::new());

/// Reads a profile file of the user's and makes it available by its `profile:` name for the
/// rest of the process. A name already taken is an error, unless it is the same profile again.
pub fn register(file: SourceFile) -> Result<&'static Profile, Box<Diagnostic>> {
    let span = 0..file.text.len().min(1);
    let profile = load(file.clone())?;
    if let Some(existing) = get(&profile.name) {
        if *existing == profile {
            return Ok(existing);
        }
        return Err(Box::new(Diagnostic {
            message: format!("a profile named `{}` already exists", profile.name),
            location: Location { file, span },
            label: "here".into(),
            hint: Some("give your profile another `profile:` name".into()),
        }));
    }
    let leaked: &'static Profile = Box::leak(Box::new(profile));
    REGISTERED.write().expect("not poisoned").push(leaked);
    Ok(leaked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_six_profiles_load() {
        assert_eq!(
            names()[..6],
            [
                "openai",
                "apigo",
                "meingpt",
                "ml-router",
                "rout-my",
                "router-by-mp"
            ]
        );
        let openai = get("openai").unwrap();
        assert!(openai.variants.is_empty() && openai.response_fields.is_empty());
        assert_eq!(get("meingpt").unwrap().base_path, "/api/openai/v1");
        assert!(
            get("router-by-mp")
                .unwrap()
                .model_lacks("gemini-flash-latest", Capability::Tools)
        );
    }

    #[test]
    fn variant_rules_match_check_path_parameter_and_status() {
        let with_n = serde_json::json!({"model": "m", "n": 2, "messages": []});
        let without = serde_json::json!({"model": "m", "messages": []});
        let rule = VariantRule {
            check: "req.n_parameter".into(),
            path: None,
            when_param: vec!["n".into()],
            status: None,
            because: String::new(),
        };
        assert!(rule.matches("req.n_parameter", None, Some(&with_n), 200));
        assert!(
            !rule.matches("req.n_parameter", None, Some(&without), 200),
            "only when `n` is sent"
        );
        assert!(!rule.matches("resp.envelope", None, Some(&with_n), 200));
        let area = VariantRule {
            check: "err.*".into(),
            path: Some("/error".into()),
            when_param: Vec::new(),
            status: Some(402),
            because: String::new(),
        };
        assert!(area.matches("err.schema", Some("/error/code"), None, 402));
        assert!(!area.matches("err.schema", Some("/errors"), None, 402));
        assert!(!area.matches("err.schema", Some("/error"), None, 429));
        assert!(!area.matches("resp.schema", Some("/error"), None, 402));
    }

    #[test]
    fn what_the_schema_cannot_say_is_checked_too() {
        let base = "profile: x\ntitle: X\nsource: s\nsummary: s\ncapabilities: [chat]\n";
        let cases = [
            (
                "variants:\n  - {check: err.envelop, because: b}\n",
                "err.envelop",
                "did you mean `err.envelope`?",
            ),
            ("models: {pattern: '^(a'}\n", "'^(a'", ""),
            (
                "vars: {modle_without_tools: m}\n",
                "modle_without_tools",
                "did you mean `model_without_tools`?",
            ),
            (
                "parameters: {ignord: [n]}\n",
                "ignord",
                "did you mean `ignored`?",
            ),
        ];
        for (extra, culprit, hint) in cases {
            let text = format!("{base}{extra}");
            let d = load(SourceFile::new("profiles/x.yaml", text.clone())).unwrap_err();
            assert_eq!(&text[d.location.span.clone()], culprit, "{}", d.message);
            assert!(d.hint.unwrap_or_default().contains(hint), "{}", d.message);
        }
    }

    #[test]
    fn the_schema_knows_the_profile_variables_and_capabilities() {
        let doc: Value =
            serde_json::from_str(include_str!("../schemas/profile.schema.json")).unwrap();
        let names = |p: &str| -> Vec<String> {
            doc.pointer(p)
                .and_then(Value::as_array)
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let mut vars: Vec<&str> = crate::suite::PROFILE_VARS.to_vec();
        vars.push(crate::suite::CONTEXT_WINDOW_TOKENS);
        assert_eq!(names("/properties/vars/propertyNames/enum"), vars);
        let caps: Vec<String> = Capability::ALL
            .iter()
            .map(|(s, _)| (*s).to_owned())
            .collect();
        assert_eq!(names("/$defs/capability/enum"), caps);
    }

    #[test]
    fn a_profile_describes_what_it_documents() {
        let text = get("ml-router").unwrap().describe();
        for line in [
            "ml-router (ML Router)",
            "base path:    /v1",
            "response field: /usage/cost (always)",
            "error:        402 insufficient_funds for insufficient_funds",
            "endpoint:     GET /prices",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
    }

    #[test]
    fn registered_profiles_are_found_by_name() {
        let text = "profile: acme-gw\ntitle: Acme\nsource: s\nsummary: s\ncapabilities: [chat]\n";
        let p = register(SourceFile::new("acme.yaml", text)).unwrap();
        assert_eq!(get("acme-gw").unwrap().title, "Acme");
        assert!(names().contains(&"acme-gw"));
        assert!(
            std::ptr::eq(p, register(SourceFile::new("acme.yaml", text)).unwrap()),
            "the same again is fine"
        );
        let clash =
            "profile: ml-router\ntitle: Not it\nsource: s\nsummary: s\ncapabilities: [chat]\n";
        let d = register(SourceFile::new("clash.yaml", clash)).unwrap_err();
        assert!(d.message.contains("already exists"), "{}", d.message);
    }

    #[test]
    fn a_broken_profile_points_at_the_culprit() {
        let text = "profile: x\ntitle: X\nsource: s\nsummary: s\ncapabilities: [chat]\nparameters:\n  forwarded: maybe\n";
        let d = load(SourceFile::new("profiles/x.yaml", text)).unwrap_err();
        assert!(d.message.contains("/parameters/forwarded"), "{}", d.message);
        assert_eq!(&text[d.location.span.clone()], "maybe");
    }
}
