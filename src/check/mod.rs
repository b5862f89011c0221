//! Stage 4, `check`: judges one exchange against the OpenAI contract, the catalog checks and
//! the suite's expectations. Pure and synchronous (no I/O, no async), so every rule is tested on
//! literal bytes.
//!
//! The judge first decides whether the run could tell at all (transport failure: error; 429,
//! 402, 503 or a rejected key: inconclusive), then runs every catalog check that fits the
//! exchange (or those the case selects), then the suite's assertions. Schema findings at a path
//! another check already explained are dropped, and so is an assertion about what a catalog
//! check already failed at the same path (`content_is_json`, `tool_args_valid`): one problem is
//! reported once.

pub mod applicable;
mod chat;
pub mod chunk;
mod documented;
mod errors;
mod expect;
mod models;
mod request;
pub mod sdk;
pub mod stream;

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{self, Severity};
use crate::diag::Location;
use crate::exchange::Exchange;
use crate::plan::PlannedCase;
use crate::suite::Method;

pub use request::RequestView;

/// The finish reasons OpenAI sends (CreateChatCompletionResponse and the stream chunks).
pub(crate) const FINISH_REASONS: [&str; 5] = [
    "stop",
    "length",
    "tool_calls",
    "content_filter",
    "function_call",
];

/// One thing the judge found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A catalog id (`resp.envelope`) or a suite assertion id (`assert.status`).
    pub check: &'static str,
    pub severity: Severity,
    pub message: String,
    /// JSON pointer into the response body, when the finding is about one place.
    pub path: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// Which official SDK breaks and how, when the deviation is SDK-breaking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<String>,
    /// The suite line that asked for it (assertions).
    #[serde(skip)]
    pub source: Option<Location>,
}

impl Finding {
    pub fn new(check: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        debug_assert!(catalog::lookup(check).is_some(), "unknown check id {check}");
        Finding {
            check,
            severity,
            message: message.into(),
            path: None,
            expected: None,
            actual: None,
            sdk: None,
            source: None,
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn expected(mut self, e: impl fmt::Display) -> Self {
        self.expected = Some(e.to_string());
        self
    }

    pub fn actual(mut self, a: impl fmt::Display) -> Self {
        self.actual = Some(a.to_string());
        self
    }

    /// Marks the finding SDK-breaking, with what happens in the SDKs.
    pub fn sdk(mut self, how: impl Into<String>) -> Self {
        self.sdk = Some(how.into());
        self
    }

    /// Marks the finding SDK-breaking with the catalog's description for its check.
    pub fn sdk_breaking(self) -> Self {
        let how = catalog::lookup(self.check).map_or("", |c| c.breaks);
        self.sdk(how)
    }

    pub fn source(mut self, location: &Location) -> Self {
        self.source = Some(location.clone());
        self
    }
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// The server answered and broke an expectation.
    Fail,
    /// Transport: refused, reset, timeout, TLS, body over the cap.
    Error,
    /// The server could not be judged: 429, 402, 503, a rejected key.
    Inconclusive,
    /// Not run: a capability is missing.
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The judge's verdict on one exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub outcome: Outcome,
    /// Why the case errored, was inconclusive or skipped.
    pub reason: Option<String>,
    pub findings: Vec<Finding>,
    /// For streamed answers: timing and the SDKs' fate.
    pub stream: Option<StreamInfo>,
    /// The checks that looked at the exchange ([`applicable`]); for a skipped case, those its
    /// expected answer would have exercised.
    pub checked: Vec<&'static str>,
    /// Checks that failed where another check had already reported the same defect at the same
    /// place (a schema error beside a specific finding, an assertion beside its catalog check):
    /// left out of `findings` (one defect, one finding), and given here with that finding's
    /// severity, so that reports by check (the matrix) do not show them passed.
    pub restated: Vec<(&'static str, Severity)>,
}

/// How strict the judge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judging {
    /// The least severity that fails a case (`violation` by default; `warning` is stricter).
    pub fail_on: Severity,
    /// Judge every target under the strict `openai` profile: nothing is documented away and no
    /// `profile.*` check runs (capabilities and variables still come from the target's profile).
    pub strict: bool,
}

impl Default for Judging {
    fn default() -> Self {
        Judging {
            fail_on: Severity::Violation,
            strict: false,
        }
    }
}

/// What kind of endpoint the request went to, from its method and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    ChatCompletions,
    ListModels,
    RetrieveModel,
    Other,
}

/// The response body, parsed once.
pub(crate) enum Body {
    Empty,
    Json(Value),
    /// Not JSON: the parser's complaint.
    NotJson(String),
}

/// Everything checks share while judging one exchange.
pub(crate) struct Cx<'a> {
    pub case: &'a PlannedCase,
    pub ex: &'a Exchange,
    pub req: RequestView<'a>,
    pub status: u16,
    pub body: Body,
    pub endpoint: Endpoint,
    findings: Vec<Finding>,
    /// The answer was judged as an event stream.
    pub streamed: bool,
    /// Set by request-handling checks that explain a rejection (so the generic "a valid request
    /// was rejected" assertion stays quiet).
    pub rejection_explained: bool,
    /// Checks left out because another finding already reports the same defect at the same
    /// place (a schema error beside a specific check's finding, an assertion beside its catalog
    /// check's), with the index of that finding.
    pub restated: Vec<(&'static str, usize)>,
}

impl<'a> Cx<'a> {
    /// Records a finding, unless the case selects checks and this one is not among them.
    pub fn push(&mut self, finding: Finding) {
        let selected = finding.check.starts_with("assert.")
            || self
                .case
                .case
                .checks
                .as_ref()
                .is_none_or(|patterns| patterns.iter().any(|p| p.matches(finding.check)));
        if selected {
            self.findings.push(finding);
        }
    }

    /// Notes that `check` is left out because `by` already reported the same defect (a finding
    /// above `info`), for reports by check.
    pub fn restate(&mut self, check: &'static str, by: &str) {
        if let Some(i) = self
            .findings
            .iter()
            .position(|f| f.check == by && f.severity > Severity::Info)
        {
            self.restated.push((check, i));
        }
    }

    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error message in the body, if the body is an error of any common shape.
    pub fn error_message(&self) -> Option<String> {
        let v = self.json()?;
        let text = v
            .pointer("/error/message")
            .or_else(|| v.get("error").filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))?;
        Some(match text {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    /// Schema findings: appended last, and dropped where a specific check already found a
    /// problem at the same place, an enclosing one or one inside it (an `anyOf` failing at a
    /// tool call because its arguments are an object is the same problem). An info finding
    /// there (vendor fields in `usage`, `error` or `data`) explains nothing away. A dropped one
    /// is noted in `restated`.
    fn push_schema_errors(&mut self, check: &'static str, schema_name: &str, instance: &Value) {
        for e in crate::schema::validate(schema_name, instance) {
            if tolerated_spec_gap(&e.instance_path, instance) {
                continue;
            }
            let related = |p: &str| {
                let q = e.instance_path.as_str();
                p == q
                    || (!q.is_empty() && p.starts_with(q) && p[q.len()..].starts_with('/'))
                    || (!p.is_empty() && q.starts_with(p) && q[p.len()..].starts_with('/'))
            };
            if let Some(i) = self
                .findings
                .iter()
                .position(|f| f.severity > Severity::Info && f.path.as_deref().is_some_and(related))
            {
                self.restated.push((check, i));
                continue;
            }
            self.push(Finding::new(check, Severity::Violation, e.message).at(e.instance_path));
        }
    }
}

/// The info finding naming the vendor members of an object (its `keys` not in `known`, each
/// once, sorted), if it has any: extras are worth knowing, not wrong.
pub(crate) fn vendor_fields<'k>(
    check: &'static str,
    whose: &str,
    at: &str,
    keys: impl IntoIterator<Item = &'k String>,
    known: &[&str],
) -> Option<Finding> {
    let extras: std::collections::BTreeSet<&str> = keys
        .into_iter()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    (!extras.is_empty()).then(|| {
        let list: Vec<&str> = extras.into_iter().collect();
        Finding::new(
            check,
            Severity::Info,
            format!("vendor fields {whose}: {}", list.join(", ")),
        )
        .at(at)
    })
}

/// Places where OpenAI's own API sends what its published schema does not allow, so that
/// clients already cope: a `null` there is not a finding.
const SPEC_GAPS: &[&str] = &[
    // Deprecated, typed `string`; OpenAI itself and vLLM, LiteLLM, OpenRouter send null
    // (compat-checks.md #55: "string or null").
    "/system_fingerprint",
    // Typed as objects; null is common and harmless (compat-checks.md #33: "objects (or
    // absent/null)").
    "/usage/prompt_tokens_details",
    "/usage/completion_tokens_details",
];

pub(crate) fn tolerated_spec_gap(path: &str, instance: &Value) -> bool {
    SPEC_GAPS.contains(&path) && instance.pointer(path).is_some_and(Value::is_null)
}

/// What the run observed for one case: the exchange, the stream judge's report when the answer
/// was streamed (judged as it arrived), and the non-stream companion when the case compares.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub exchange: &'a Exchange,
    pub stream: Option<&'a stream::StreamReport>,
    pub companion: Option<&'a Exchange>,
}

/// Judges one recorded exchange (fixtures, replay): a streamed answer is judged from its
/// recorded reads.
pub fn check(case: &PlannedCase, ex: &Exchange, judging: Judging) -> Verdict {
    let report = streamed_answer(case, ex).then(|| {
        stream::judge_recorded(
            case.request.json.as_ref(),
            &ex.body,
            &ex.reads,
            ex.timing.total,
            ex.transport_error().map(|e| e.message.as_str()),
            stream::StreamLimits::default(),
        )
    });
    judge_observed(
        case,
        Observed {
            exchange: ex,
            stream: report.as_ref(),
            companion: None,
        },
        judging,
    )
}

/// Whether the answer is to be judged as a stream: the request asked for one and a 2xx came.
pub fn streamed_answer(case: &PlannedCase, ex: &Exchange) -> bool {
    case.request.stream() && ex.status().is_some_and(|s| (200..300).contains(&s))
}

/// Judges what was observed for one case.
pub fn judge_observed(case: &PlannedCase, observed: Observed<'_>, judging: Judging) -> Verdict {
    let ex = observed.exchange;
    let Some(head) = &ex.response else {
        let e = ex.transport_error();
        return Verdict {
            outcome: Outcome::Error,
            reason: Some(e.map_or_else(
                || "no response".to_owned(),
                |e| format!("{}: {}", e.kind.as_str(), e.message),
            )),
            findings: Vec::new(),
            stream: None,
            checked: Vec::new(),
            restated: Vec::new(),
        };
    };
    // A broken transport leaves a non-stream body unjudgeable; a stream is judged as far as it
    // came (its findings stand), and the case still errors.
    let broken = ex.transport_error().map(|e| {
        format!(
            "{} after the response head ({} {} bytes in): {}",
            e.kind.as_str(),
            head.status,
            ex.received,
            e.message
        )
    });
    let stream_report = observed.stream.filter(|r| !r.not_sse);
    if broken.is_some() && stream_report.is_none() {
        return Verdict {
            outcome: Outcome::Error,
            reason: broken,
            findings: Vec::new(),
            stream: observed.stream.map(StreamInfo::from),
            checked: Vec::new(),
            restated: Vec::new(),
        };
    }
    let body = match stream_report {
        Some(r) => Body::Json(r.reassembled.clone()),
        None if ex.body.iter().all(u8::is_ascii_whitespace) => Body::Empty,
        None => match serde_json::from_slice::<Value>(&ex.body) {
            Ok(v) => Body::Json(v),
            Err(e) => Body::NotJson(e.to_string()),
        },
    };
    let endpoint = endpoint(case);
    let mut cx = Cx {
        case,
        ex,
        req: RequestView::new(case.request.json.as_ref()),
        status: head.status,
        body,
        endpoint,
        findings: Vec::new(),
        streamed: stream_report.is_some(),
        rejection_explained: false,
        restated: Vec::new(),
    };

    let inconclusive = inconclusive_reason(&cx);

    // Catalog checks that fit the exchange; schema checks come after the specific ones.
    chat::check_transport_shape(&mut cx);
    if cx.is_success() {
        match cx.endpoint {
            Endpoint::ChatCompletions if cx.req.stream => {
                if let Some(r) = stream_report {
                    for f in &r.findings {
                        cx.push(f.clone());
                    }
                    chat::check_reassembled(&mut cx);
                    if let Some(companion) = observed.companion {
                        stream::compare_with_nonstream(&mut cx, companion);
                    }
                }
            }
            Endpoint::ChatCompletions => chat::check_completion(&mut cx),
            Endpoint::ListModels => models::check_list(&mut cx),
            Endpoint::RetrieveModel => models::check_retrieve(&mut cx),
            Endpoint::Other => {}
        }
    } else {
        errors::check_error(&mut cx);
        models::check_retrieve_refused(&mut cx);
    }
    errors::check_status_mapping(&mut cx);
    errors::check_context_length(&mut cx);
    errors::check_azure_content_filter(&mut cx);
    request::check_request_handling(&mut cx);
    let profile = crate::profile::get(&case.target.profile).filter(|_| !judging.strict);
    if let Some(profile) = profile {
        documented::check(&mut cx, profile);
    }
    if cx.is_success() {
        match cx.endpoint {
            Endpoint::ChatCompletions if !cx.req.stream => chat::check_schema(&mut cx),
            Endpoint::ListModels | Endpoint::RetrieveModel => models::check_schema(&mut cx),
            _ => {}
        }
    } else {
        errors::check_schema(&mut cx);
    }

    // The suite's own expectations.
    // A stream cut short (broken connection, a limit) is not the answer the assertions are
    // about: only what was judged of the stream stands.
    let cut_short = broken.is_some() || stream_report.is_some_and(|r| r.aborted.is_some());
    expect::check_expectations(&mut cx, inconclusive.is_some() || cut_short, stream_report);
    if let Some(profile) = profile {
        documented::apply_variants(&mut cx, profile);
    }

    let carries = applicable::Carries::of(&cx.body, cx.streamed);
    let restated = cx
        .restated
        .iter()
        .map(|&(id, i)| (id, cx.findings[i].severity))
        .collect();
    let findings = cx.findings;
    let aborted = stream_report.and_then(|r| r.aborted.clone());
    let (outcome, reason) = if let Some(reason) = broken {
        (Outcome::Error, Some(reason))
    } else if let Some(reason) = aborted {
        (Outcome::Error, Some(format!("limit: {reason}")))
    } else if let Some(reason) = inconclusive {
        (Outcome::Inconclusive, Some(reason))
    } else if findings
        .iter()
        .any(|f| f.severity >= judging.fail_on && f.severity != Severity::Variant)
    {
        (Outcome::Fail, None)
    } else {
        (Outcome::Pass, None)
    };
    let kind = applicable::Kind {
        endpoint,
        status: cx.status,
        streamed: cx.streamed,
        compared: observed.companion.is_some(),
        profile,
        carries,
    };
    Verdict {
        outcome,
        reason,
        findings,
        stream: observed.stream.map(StreamInfo::from),
        checked: applicable::checked(case, kind),
        restated,
    }
}

/// What a report keeps of a stream: its timing and what the SDKs make of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StreamInfo {
    pub metrics: stream::StreamMetrics,
    pub sdk: sdk::SdkOutcome,
}

impl From<&stream::StreamReport> for StreamInfo {
    fn from(r: &stream::StreamReport) -> Self {
        StreamInfo {
            metrics: r.metrics,
            sdk: r.sdk.clone(),
        }
    }
}

fn endpoint(case: &PlannedCase) -> Endpoint {
    let path = case.request.path.split('?').next().unwrap_or("");
    let path = path.trim_end_matches('/');
    match case.request.method {
        Method::Post if path.ends_with("/chat/completions") => Endpoint::ChatCompletions,
        Method::Get if path.ends_with("/models") => Endpoint::ListModels,
        Method::Get
            if path
                .rsplit_once("/models/")
                .is_some_and(|(_, id)| !id.is_empty()) =>
        {
            Endpoint::RetrieveModel
        }
        _ => Endpoint::Other,
    }
}

/// Why the server could not be judged, if it could not.
fn inconclusive_reason(cx: &Cx) -> Option<String> {
    use crate::suite::{Auth, ErrorKind};
    let expected = cx.case.case.expect.error.as_ref().map(|(k, _)| *k);
    // An answer the case provokes on purpose is the answer it is about.
    let asked = match expected {
        Some(ErrorKind::InsufficientFunds | ErrorKind::RateLimited) => true,
        _ => cx
            .case
            .case
            .expect
            .status
            .as_ref()
            .is_some_and(|(s, _)| s.accepts(cx.status) && !s.accepts(200)),
    };
    if asked {
        return None;
    }
    let message = cx
        .error_message()
        .map(|m| format!(": {}", crate::schema::short(&Value::String(m))))
        .unwrap_or_default();
    match cx.status {
        429 => Some(format!("rate limited (429){message}")),
        402 => Some(format!(
            "payment required (402): the account is out of credits{message}"
        )),
        503 => Some(format!("service unavailable (503){message}")),
        401 | 403
            if cx.case.request.auth == Auth::Key
                && !matches!(expected, Some(ErrorKind::MissingKey | ErrorKind::WrongKey)) =>
        {
            let target = &cx.case.target;
            let hint = if target.api_key.is_some() {
                format!("check the key in ${}", target.api_key_env)
            } else {
                format!("no key was sent: set ${}", target.api_key_env)
            };
            Some(format!(
                "the server rejected the credentials ({}){message} (hint: {hint})",
                cx.status
            ))
        }
        _ => None,
    }
}

/// A JSON pointer segment for an object key.
/// Names as code, for a message: `` `a`, `b` ``.
pub(crate) fn code_list<T: std::fmt::Display>(names: impl IntoIterator<Item = T>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn ptr(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers to judge literal exchanges.
    use std::sync::Arc;

    use super::*;
    use crate::config::Target;
    use crate::diag::SourceFile;
    use crate::exchange::SentRequest;

    /// Plans the first case of a one-case suite against a test target.
    pub fn case(suite_yaml: &str) -> PlannedCase {
        let suite = crate::suite::load_one(SourceFile::new("suites/t.yaml", suite_yaml))
            .unwrap_or_else(|d| panic!("{}", d[0]))
            .0;
        let target = Arc::new(Target {
            name: "t".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            api_key_env: "OPENAI_API_KEY".into(),
            api_key: None,
            headers: vec![],
            profile: "openai".into(),
            models: vec!["m".into()],
            concurrency: None,
            rate_limit: None,
            extra_capabilities: Vec::new(),
        });
        crate::plan::build(&[suite], &[target]).cases.remove(0)
    }

    /// The same case planned for a target with another profile.
    pub fn under(profile: &str, mut case: PlannedCase) -> PlannedCase {
        let mut target = (*case.target).clone();
        target.profile = profile.into();
        case.target = Arc::new(target);
        case
    }

    /// A chat case whose body is `body_yaml` (a YAML flow mapping) plus `extra` case keys.
    pub fn chat_case(body_yaml: &str, extra: &str) -> PlannedCase {
        case(&format!(
            "cases:\n  - name: c\n    request:\n      path: /chat/completions\n      body: {body_yaml}\n{extra}"
        ))
    }

    pub fn exchange(case: &PlannedCase, status: u16, content_type: &str, body: &str) -> Exchange {
        Exchange::from_parts(
            SentRequest {
                method: case.request.method.as_str().into(),
                url: case.request.url.clone(),
                headers: vec![],
                body: case.request.body.clone().unwrap_or_default(),
            },
            status,
            vec![("content-type".into(), content_type.into())],
            body.as_bytes().to_vec(),
        )
    }

    pub fn judge(case: &PlannedCase, status: u16, content_type: &str, body: &str) -> Verdict {
        check(
            case,
            &exchange(case, status, content_type, body),
            Judging::default(),
        )
    }

    /// `check severity` of every finding, for compact assertions.
    pub fn ids(v: &Verdict) -> Vec<String> {
        v.findings
            .iter()
            .map(|f| format!("{} {}", f.check, f.severity))
            .collect()
    }

    pub const OK_BODY: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    const PLAIN: &str = "{model: m, messages: [{role: user, content: hi}]}";

    #[test]
    fn a_conformant_completion_passes_without_findings() {
        let v = judge(&chat_case(PLAIN, ""), 200, "application/json", OK_BODY);
        assert_eq!(ids(&v), Vec::<String>::new(), "{:#?}", v.findings);
        assert_eq!(v.outcome, Outcome::Pass);
    }

    #[test]
    fn rate_limits_and_rejected_keys_are_inconclusive() {
        let c = chat_case(PLAIN, "");
        let err = r#"{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        let v = judge(&c, 429, "application/json", err);
        assert_eq!(v.outcome, Outcome::Inconclusive);
        assert!(v.reason.unwrap().starts_with("rate limited (429)"));
        let v = judge(&c, 401, "application/json", err);
        assert_eq!(v.outcome, Outcome::Inconclusive);
        assert!(v.reason.unwrap().contains("set $OPENAI_API_KEY"));
    }

    #[test]
    fn no_response_is_an_error_not_a_failure() {
        let c = chat_case(PLAIN, "");
        let mut ex = exchange(&c, 200, "application/json", "");
        ex.response = None;
        ex.end = crate::exchange::End::Failed(crate::exchange::TransportError {
            kind: crate::exchange::TransportErrorKind::Connect,
            message: "connection refused".into(),
        });
        let v = check(&c, &ex, Judging::default());
        assert_eq!(v.outcome, Outcome::Error);
        assert_eq!(v.reason.as_deref(), Some("connect: connection refused"));
    }

    #[test]
    fn check_selection_limits_catalog_findings_but_not_assertions() {
        let c = chat_case(
            PLAIN,
            "    checks: [usage.arithmetic]\n    expect: {status: 201}\n",
        );
        let body = OK_BODY.replace(r#""object":"chat.completion","#, "");
        let v = judge(&c, 200, "application/json", &body);
        assert_eq!(ids(&v), ["assert.status violation"]);
    }

    /// Issue 4, item 6: side by side, LiteLLM's FastAPI `{"detail": ...}` error bodies showed
    /// `err.schema` as `pass` in the matrix: its error was left out for `err.envelope`'s at the
    /// same place. The verdict notes it, with that finding's severity.
    #[test]
    fn a_schema_error_left_out_for_a_specific_finding_is_noted() {
        let c = case(
            "cases:\n  - name: r\n    request: {path: /nope}\n    expect: {error: unknown_route}\n",
        );
        let v = judge(&c, 404, "application/json", r#"{"detail":"Not Found"}"#);
        assert_eq!(ids(&v), ["err.envelope violation"]);
        assert!(
            v.restated.contains(&("err.schema", Severity::Violation)),
            "{:?}",
            v.restated
        );
        let ok = r#"{"error":{"message":"no route","type":"invalid_request_error","param":null,"code":"unknown_url"}}"#;
        assert_eq!(judge(&c, 404, "application/json", ok).restated, []);
        // A 2xx completion that is not an object: the envelope's finding stands for the schema.
        let v = judge(&chat_case(PLAIN, ""), 200, "application/json", "[]");
        assert!(
            v.restated
                .iter()
                .any(|(id, s)| *id == "resp.schema" && *s == Severity::Violation),
            "{v:?}"
        );
    }

    /// An info finding about vendor fields in `usage` used to hide the schema's finding that
    /// a required member inside it is missing.
    #[test]
    fn info_findings_do_not_hide_schema_findings_under_them() {
        let body = OK_BODY.replace(r#","total_tokens":4"#, r#","cost":0.1"#);
        let v = judge(&chat_case(PLAIN, ""), 200, "application/json", &body);
        let found: Vec<String> = v
            .findings
            .iter()
            .map(|f| format!("{} {}", f.check, f.path.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            found,
            [
                "usage.details_shape /usage",
                "resp.schema /usage/total_tokens"
            ]
        );
    }

    #[test]
    fn warnings_fail_only_when_asked() {
        let c = chat_case(PLAIN, "");
        let body = OK_BODY.replace(r#""total_tokens":4"#, r#""total_tokens":5"#);
        let v = judge(&c, 200, "application/json", &body);
        assert_eq!(ids(&v), ["usage.arithmetic warning"]);
        assert_eq!(v.outcome, Outcome::Pass);
        let strict = Judging {
            fail_on: Severity::Warning,
            ..Judging::default()
        };
        let v = check(&c, &exchange(&c, 200, "application/json", &body), strict);
        assert_eq!(v.outcome, Outcome::Fail);
    }
}
