//! Stage 2, `plan`: suites x targets x models x parameters into [`PlannedCase`]s, each with its
//! request fully rendered (variables substituted, body serialized) and its libtest name
//! (`suite::case[target]`). Capability gating happens here: a case whose target lacks a
//! capability it requires is planned as skipped, with the reason.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::config::Target;
use crate::profile;
use crate::suite::{Auth, Body, Case, Method, Suite, template};

/// Everything a run will do, in a stable order: suite, case, parameters, target, model.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub cases: Vec<PlannedCase>,
}

/// One request to send to one target, and the case that judges it.
#[derive(Debug, Clone)]
pub struct PlannedCase {
    /// Position in the plan.
    pub index: usize,
    /// `suite::case[target]`, with `(k=v)` after the case when parametrized and `,model` in the
    /// brackets when the target is tested with several models.
    pub name: String,
    pub suite: Arc<str>,
    pub case: Arc<Case>,
    pub target: Arc<Target>,
    pub model: String,
    pub params: Vec<(String, Value)>,
    /// Every variable the case may use, resolved: `model`, `target`, parameters, suite `vars`.
    pub vars: BTreeMap<String, Value>,
    pub request: PlannedRequest,
    /// The same request without streaming, sent after it when the case compares the two
    /// (`expect.matches_nonstream`).
    pub companion: Option<PlannedRequest>,
    /// Why the case will not run, if it will not.
    pub skip: Option<String>,
}

/// A request with every variable substituted.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRequest {
    pub method: Method,
    /// The path as the suite wrote it, rendered (`/chat/completions`).
    pub path: String,
    /// `target.base_url + path`.
    pub url: String,
    /// Suite headers then target headers (no `Authorization`: the transport adds the key).
    pub headers: Vec<(String, String)>,
    pub auth: Auth,
    /// The bytes to send.
    pub body: Option<Vec<u8>>,
    /// The body as JSON when it was written as JSON (what checks read the request from).
    pub json: Option<Value>,
}

impl PlannedRequest {
    /// `stream: true` in the body.
    pub fn stream(&self) -> bool {
        self.json
            .as_ref()
            .and_then(|j| j.get("stream"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// Builds the plan. Targets and suites come validated, so planning cannot fail.
pub fn build(suites: &[Suite], targets: &[Arc<Target>]) -> Plan {
    let mut cases = Vec::new();
    for suite in suites {
        let suite_name: Arc<str> = Arc::from(suite.name.as_str());
        for case in &suite.cases {
            for params in expand(&case.parametrize) {
                for target in targets {
                    // A case that parametrizes `model` names its models itself.
                    let param_model = params
                        .iter()
                        .find(|(k, _)| k == "model")
                        .and_then(|(_, v)| v.as_str())
                        .map(str::to_owned);
                    let models = match &param_model {
                        Some(m) => std::slice::from_ref(m),
                        None => target.models.as_slice(),
                    };
                    for model in models {
                        let name = name(&suite.name, case, &params, target, model);
                        let vars = variables(suite, case, &params, target, model);
                        let request = render(case, &vars, target);
                        let companion = case
                            .expect
                            .matches_nonstream
                            .as_ref()
                            .and_then(|_| without_streaming(&request));
                        let skip = skip_reason(case, target, model, &vars);
                        cases.push(PlannedCase {
                            index: cases.len(),
                            name,
                            suite: suite_name.clone(),
                            case: case.clone(),
                            target: target.clone(),
                            model: model.clone(),
                            params: params.clone(),
                            vars,
                            request,
                            companion,
                            skip,
                        });
                    }
                }
            }
        }
    }
    dedupe_names(&mut cases);
    Plan { cases }
}

/// The cartesian product of the parametrized values, in the order written.
fn expand(parametrize: &[(String, Vec<Value>)]) -> Vec<Vec<(String, Value)>> {
    let mut out: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for (key, values) in parametrize {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((key.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    out
}

fn name(
    suite: &str,
    case: &Case,
    params: &[(String, Value)],
    target: &Target,
    model: &str,
) -> String {
    let mut name = format!("{suite}::{}", case.name);
    if !params.is_empty() {
        let parts: Vec<String> = params
            .iter()
            .map(|(k, v)| {
                let values = &case
                    .parametrize
                    .iter()
                    .find(|(pk, _)| pk == k)
                    .expect("params come from parametrize")
                    .1;
                format!("{k}={}", param_label(v, values))
            })
            .collect();
        name.push_str(&format!("({})", parts.join(",")));
    }
    let param_model = params.iter().any(|(k, _)| k == "model");
    if target.models.len() > 1 && !param_model {
        name.push_str(&format!("[{},{model}]", target.name));
    } else {
        name.push_str(&format!("[{}]", target.name));
    }
    name
}

/// A short, filter-friendly label: the scalar itself, or its position for lists and objects.
fn param_label(value: &Value, all: &[Value]) -> String {
    match value {
        Value::String(s) if s.len() <= 32 && !s.contains([' ', '[', ']', '(', ')', ',']) => {
            s.clone()
        }
        Value::Number(_) | Value::Bool(_) | Value::Null => value.to_string(),
        _ => format!("#{}", all.iter().position(|v| v == value).unwrap_or(0)),
    }
}

/// Identical names (a value repeated in `parametrize`) get `#2`, `#3` appended.
fn dedupe_names(cases: &mut [PlannedCase]) {
    let mut seen = HashSet::new();
    for case in cases {
        if !seen.insert(case.name.clone()) {
            let mut n = 2;
            while !seen.insert(format!("{}#{n}", case.name)) {
                n += 1;
            }
            case.name = format!("{}#{n}", case.name);
        }
    }
}

/// The sentence `${long_prompt}` repeats: 62 characters, at least 12 tokens in the usual
/// tokenizers.
const LONG_PROMPT_SENTENCE: &str = "Repeat after me: the quick brown fox jumps over the lazy dog. ";

/// A prompt longer than a context window of `tokens` (the profile's `context_window_tokens`),
/// counting 12 tokens a sentence and a quarter more for safety; by default, 5,000 sentences
/// (about 70,000 tokens).
fn long_prompt(tokens: Option<u64>) -> String {
    match tokens {
        None => {
            static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            TEXT.get_or_init(|| LONG_PROMPT_SENTENCE.repeat(5_000))
                .clone()
        }
        Some(t) => LONG_PROMPT_SENTENCE.repeat(
            usize::try_from(t.saturating_mul(5) / 48 + 1)
                .unwrap_or(usize::MAX)
                .min(1 << 20),
        ),
    }
}

/// The variables of one planned case: suite `vars`, then the built-ins and the target profile's
/// variables, then parameters (a case may parametrize `model` to run over models of its own
/// choosing).
fn variables(
    suite: &Suite,
    case: &Case,
    params: &[(String, Value)],
    target: &Target,
    model: &str,
) -> BTreeMap<String, Value> {
    let mut vars = suite.vars.clone();
    vars.insert("model".into(), Value::String(model.to_owned()));
    vars.insert("target".into(), Value::String(target.name.clone()));
    if let Some(profile) = profile::get(&target.profile) {
        vars.extend(profile.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    // The vision and image models default to the target's model.
    for name in ["vision_model", "image_model"] {
        vars.entry(name.into())
            .or_insert_with(|| Value::String(model.to_owned()));
    }
    if case.uses.contains("long_prompt") {
        let window = vars
            .get(crate::suite::CONTEXT_WINDOW_TOKENS)
            .and_then(Value::as_str)
            .and_then(|t| t.parse().ok());
        vars.insert("long_prompt".into(), Value::String(long_prompt(window)));
    }
    vars.extend(params.iter().cloned());
    vars
}

fn render(case: &Case, vars: &BTreeMap<String, Value>, target: &Target) -> PlannedRequest {
    let lookup = |name: &str| vars.get(name);
    let text = |s: &str| match template::render_str(s, &lookup) {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let spec = &case.request;
    let path = text(&spec.path);
    let mut headers: Vec<(String, String)> = spec
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    for (k, v) in &target.headers {
        if !headers.iter().any(|(hk, _)| hk.eq_ignore_ascii_case(k)) {
            headers.push((k.clone(), v.clone()));
        }
    }
    let (body, json) = match &spec.body {
        Body::None => (None, None),
        Body::Json(v) => {
            let rendered = template::render_value(v, &lookup);
            let bytes = serde_json::to_vec(&rendered).expect("a Value always serializes");
            (Some(bytes), Some(rendered))
        }
        Body::Raw(s) => (Some(text(s).into_bytes()), None),
    };
    PlannedRequest {
        method: spec.method,
        url: format!("{}{path}", target.base_url),
        path,
        headers,
        auth: spec.auth,
        body,
        json,
    }
}

/// The request with `stream` and `stream_options` removed.
fn without_streaming(request: &PlannedRequest) -> Option<PlannedRequest> {
    let mut json = request.json.clone()?;
    let obj = json.as_object_mut()?;
    obj.remove("stream");
    obj.remove("stream_options");
    let body = serde_json::to_vec(&json).expect("a Value always serializes");
    Some(PlannedRequest {
        body: Some(body),
        json: Some(json),
        ..request.clone()
    })
}

fn skip_reason(
    case: &Case,
    target: &Target,
    model: &str,
    vars: &BTreeMap<String, Value>,
) -> Option<String> {
    let profile = profile::get(&target.profile)?;
    let by_profile: Vec<&str> = case
        .requires
        .iter()
        .filter(|c| !profile.capabilities.contains(c) && !target.extra_capabilities.contains(c))
        .map(|c| c.as_str())
        .collect();
    if !by_profile.is_empty() {
        return Some(format!(
            "target `{}` (profile `{}`) lacks {}",
            target.name,
            profile.name,
            by_profile.join(", ")
        ));
    }
    let by_model: Vec<&str> = case
        .requires
        .iter()
        .filter(|c| profile.model_lacks(model, **c))
        .map(|c| c.as_str())
        .collect();
    if !by_model.is_empty() {
        return Some(format!(
            "model `{model}` lacks {} (profile `{}`: partial capabilities)",
            by_model.join(", "),
            profile.name
        ));
    }
    // A profile variable the case uses but the profile does not define.
    let unset: Vec<&str> = case
        .uses
        .iter()
        .filter(|v| {
            crate::suite::PROFILE_VARS.contains(&v.as_str()) && !vars.contains_key(v.as_str())
        })
        .map(String::as_str)
        .collect();
    (!unset.is_empty()).then(|| {
        format!(
            "profile `{}` names no {}",
            profile.name,
            unset
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;

    fn suite(text: &str) -> Suite {
        crate::suite::load_one(SourceFile::new("suites/s.yaml", text))
            .unwrap_or_else(|d| panic!("{}", d[0]))
            .0
    }

    fn target(name: &str, models: &[&str]) -> Arc<Target> {
        Arc::new(Target {
            name: name.into(),
            base_url: "https://app.example.com/api/openai/v1".into(),
            api_key_env: "OPENAI_API_KEY".into(),
            api_key: None,
            headers: vec![("X-Org".into(), "acme".into())],
            profile: "openai".into(),
            models: models.iter().map(|m| (*m).to_owned()).collect(),
            concurrency: None,
            rate_limit: None,
            extra_capabilities: Vec::new(),
        })
    }

    const SUITE: &str = "\
vars:
  prompt: Say hi
cases:
  - name: basic
    parametrize:
      temperature: [0, 1.5]
    request:
      path: /chat/completions
      body:
        model: ${model}
        temperature: ${temperature}
        messages: [{role: user, content: '${prompt} to ${target}'}]
  - name: vision
    requires: [image_output]
    request:
      path: /models
";

    #[test]
    fn expands_params_targets_and_models_in_a_stable_order() {
        let plan = build(
            &[suite(SUITE)],
            &[target("a", &["m1"]), target("b", &["m1", "m2"])],
        );
        let names: Vec<&str> = plan.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "s::basic(temperature=0)[a]",
                "s::basic(temperature=0)[b,m1]",
                "s::basic(temperature=0)[b,m2]",
                "s::basic(temperature=1.5)[a]",
                "s::basic(temperature=1.5)[b,m1]",
                "s::basic(temperature=1.5)[b,m2]",
                "s::vision[a]",
                "s::vision[b,m1]",
                "s::vision[b,m2]",
            ]
        );
        assert!(plan.cases.iter().enumerate().all(|(i, c)| c.index == i));
    }

    #[test]
    fn renders_variables_with_their_types_and_joins_the_base_url() {
        let plan = build(&[suite(SUITE)], &[target("a", &["gpt-4o"])]);
        let req = &plan.cases[1].request;
        assert_eq!(
            req.url,
            "https://app.example.com/api/openai/v1/chat/completions"
        );
        let json = req.json.as_ref().unwrap();
        assert_eq!(json["model"], "gpt-4o");
        assert_eq!(json["temperature"], 1.5);
        assert_eq!(json["messages"][0]["content"], "Say hi to a");
        assert_eq!(
            serde_json::from_slice::<Value>(req.body.as_ref().unwrap()).unwrap(),
            *json
        );
        assert_eq!(req.headers, vec![("X-Org".to_owned(), "acme".to_owned())]);
    }

    #[test]
    fn missing_capabilities_skip_with_the_reason() {
        let plan = build(&[suite(SUITE)], &[target("a", &["m"])]);
        assert_eq!(plan.cases[0].skip, None);
        assert_eq!(
            plan.cases[2].skip.as_deref(),
            Some("target `a` (profile `openai`) lacks image_output")
        );
    }

    #[test]
    fn a_case_can_parametrize_over_models() {
        let text = "cases:\n  - name: m\n    parametrize: {model: [a, b]}\n    request: {path: '/models/${model}'}\n";
        let plan = build(&[suite(text)], &[target("t", &["x", "y"])]);
        let names: Vec<(&str, &str)> = plan
            .cases
            .iter()
            .map(|c| (c.name.as_str(), c.request.path.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("s::m(model=a)[t]", "/models/a"),
                ("s::m(model=b)[t]", "/models/b")
            ]
        );
        assert_eq!(plan.cases[1].model, "b");
    }
}
