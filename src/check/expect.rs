//! The suite's own expectations (`expect:`), reported as `assert.*` findings that point back at
//! the suite line that asked for them.

use serde_json::Value;

use super::{Cx, Finding};
use crate::catalog::Severity::Violation;
use crate::check::stream::StreamReport;
use crate::schema::short;
use crate::suite::{AssertOp, Assertion, template};

pub(super) fn check_expectations(cx: &mut Cx, inconclusive: bool, stream: Option<&StreamReport>) {
    let expect = cx.case.case.expect.clone();
    if inconclusive {
        return; // the body is a rate-limit or auth error: the case's assertions cannot be judged
    }
    if !status(cx) {
        return; // the body is not the answer the assertions are about; the status says why
    }
    if let Some(r) = stream {
        stream_failure(cx, r);
        timing(cx, r);
    }
    if let Some((name, loc)) = &expect.schema {
        match cx.json().cloned() {
            Some(body) => {
                for e in crate::schema::validate(name, &body) {
                    cx.push(
                        Finding::new(
                            "assert.schema",
                            Violation,
                            format!("not a valid {name}: {}", e.message),
                        )
                        .at(e.instance_path)
                        .source(loc),
                    );
                }
            }
            None => cx.push(
                Finding::new(
                    "assert.schema",
                    Violation,
                    format!("the body is not JSON, so not a valid {name}"),
                )
                .source(loc),
            ),
        }
    }
    for a in &expect.asserts {
        assertion(cx, a);
    }
    if let Some(loc) = &expect.content_is_json {
        content_is_json(cx, loc);
    }
    if let Some(loc) = &expect.tool_args_valid {
        tool_args_valid(cx, loc);
    }
}

/// `expect.status`, or by default: a 2xx for a request that makes no mistake on purpose.
/// Returns whether the status was as expected.
fn status(cx: &mut Cx) -> bool {
    let got = cx.status;
    let expect = &cx.case.case.expect;
    let detail = cx
        .error_message()
        .filter(|_| got >= 400)
        .map(|m| format!(": {}", short(&Value::String(m))))
        .unwrap_or_default();
    if let Some((want, loc)) = &expect.status {
        if !want.accepts(got) {
            let f = Finding::new(
                "assert.status",
                Violation,
                format!("expected status {want}, got {got}{detail}"),
            )
            .expected(want)
            .actual(got)
            .source(loc);
            cx.push(f);
            return false;
        }
        return true;
    }
    if expect.error.is_some() || (200..300).contains(&got) {
        return true;
    }
    if cx.rejection_explained {
        return false; // a request-handling check reported the rejection
    }
    let loc = cx.case.case.request.location.clone();
    cx.push(
        Finding::new(
            "assert.status",
            Violation,
            format!("a valid request was answered {got}{detail}"),
        )
        .expected("2xx (the case sets no `expect.status`)")
        .actual(got)
        .source(&loc),
    );
    false
}

fn assertion(cx: &mut Cx, a: &Assertion) {
    let Some(body) = cx.json() else {
        cx.push(
            Finding::new(
                "assert.pointer",
                Violation,
                format!("cannot read `{}`: the body is not JSON", a.pointer),
            )
            .at(a.pointer.clone())
            .source(&a.location),
        );
        return;
    };
    let found = body.pointer(&a.pointer).cloned();
    // Expected values may hold `${variables}`: render them for this planned case.
    let vars = &cx.case.vars;
    let lookup = |name: &str| vars.get(name);
    let op = match &a.op {
        AssertOp::Equals(v) => AssertOp::Equals(template::render_value(v, &lookup)),
        AssertOp::OneOf(vs) => AssertOp::OneOf(
            vs.iter()
                .map(|v| template::render_value(v, &lookup))
                .collect(),
        ),
        other => other.clone(),
    };
    let fail: Option<(String, String, String)> = match (&op, &found) {
        (AssertOp::Exists(true), None) => {
            Some(("is missing".into(), "present".into(), "missing".into()))
        }
        (AssertOp::Exists(false), Some(v)) => {
            Some(("should be absent".into(), "absent".into(), short(v)))
        }
        (AssertOp::Exists(_), _) => None,
        (_, None) => Some(("is missing".into(), describe_op(&op), "missing".into())),
        (AssertOp::Equals(want), Some(v)) => {
            (!json_eq(want, v)).then(|| ("differs".into(), short(want), short(v)))
        }
        (AssertOp::OneOf(options), Some(v)) => {
            (!options.iter().any(|o| json_eq(o, v))).then(|| {
                (
                    "is not one of the allowed values".into(),
                    short(&Value::Array(options.clone())),
                    short(v),
                )
            })
        }
        (AssertOp::Type(t), Some(v)) => (!t.matches(v)).then(|| {
            (
                "has the wrong type".into(),
                t.as_str().to_owned(),
                crate::schema::type_name(v).to_owned(),
            )
        }),
        (AssertOp::Matches(re), Some(v)) => match v.as_str() {
            Some(s) if re.is_match(s) => None,
            Some(s) => Some((
                format!("does not match /{}/", re.as_str()),
                format!("/{}/", re.as_str()),
                short(&Value::String(s.to_owned())),
            )),
            None => Some((
                "is not a string".into(),
                format!("a string matching /{}/", re.as_str()),
                short(v),
            )),
        },
    };
    if let Some((what, expected, actual)) = fail {
        let shown = if a.pointer.is_empty() {
            "the body"
        } else {
            a.pointer.as_str()
        };
        cx.push(
            Finding::new("assert.pointer", Violation, format!("`{shown}` {what}"))
                .at(a.pointer.clone())
                .expected(expected)
                .actual(actual)
                .source(&a.location),
        );
    }
}

/// A stream that carried an error (in band, or `finish_reason: error`) did not answer the valid
/// request, like a 5xx would not have.
fn stream_failure(cx: &mut Cx, r: &StreamReport) {
    let Some(failure) = &r.failure else {
        return;
    };
    if cx.case.case.expect.error.is_some() {
        return;
    }
    let loc = cx.case.case.request.location.clone();
    cx.push(
        Finding::new(
            "assert.status",
            Violation,
            format!("a valid request was answered with a failed stream: {failure}"),
        )
        .expected("a complete stream")
        .actual("an error in the stream")
        .source(&loc),
    );
}

/// `expect.max_ttft_ms` and `expect.max_gap_ms`.
fn timing(cx: &mut Cx, r: &StreamReport) {
    let expect = cx.case.case.expect.clone();
    if let Some((limit, loc)) = &expect.max_ttft_ms {
        match r.metrics.first_token_ms {
            Some(t) if t > *limit as f64 => cx.push(
                Finding::new(
                    "assert.timing",
                    Violation,
                    format!("the first token came after {t:.0} ms"),
                )
                .expected(format!("<= {limit} ms"))
                .actual(format!("{t:.1} ms"))
                .source(loc),
            ),
            Some(_) => {}
            None => cx.push(
                Finding::new(
                    "assert.timing",
                    Violation,
                    "the stream carried no token, so no time to first token",
                )
                .expected(format!("<= {limit} ms"))
                .source(loc),
            ),
        }
    }
    if let Some((limit, loc)) = &expect.max_gap_ms
        && let Some(gap) = r.metrics.gap_max_ms
        && gap > *limit as f64
    {
        cx.push(
            Finding::new(
                "assert.timing",
                Violation,
                format!("a gap of {gap:.0} ms between two chunks"),
            )
            .expected(format!("<= {limit} ms"))
            .actual(format!("{gap:.1} ms"))
            .source(loc),
        );
    }
}

/// Numbers compare by value (`1` equals `1.0`), everything else structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn describe_op(op: &AssertOp) -> String {
    match op {
        AssertOp::Equals(v) => short(v),
        AssertOp::Matches(re) => format!("/{}/", re.as_str()),
        AssertOp::Exists(_) => "present".into(),
        AssertOp::Type(t) => t.as_str().into(),
        AssertOp::OneOf(vs) => short(&Value::Array(vs.clone())),
    }
}

/// The catalog checks that judge what `expect.content_is_json` asks, when the request set a
/// `response_format`.
const CONTENT_CHECKS: [&str; 2] = ["json.object_mode_valid", "json.schema_enforced_or_rejected"];
/// The catalog checks that judge what `expect.tool_args_valid` asks.
const ARGUMENT_CHECKS: [&str; 2] = ["tools.arguments_valid_json", "tools.arguments_is_string"];

/// The finding by which one of `checks` already failed the case at `path`, if one did: then an
/// assertion about the same thing there says nothing new, and is left out so that one defect is
/// reported once (it is noted in `cx.restated`, for reports by check). The
/// catalog finding is the one kept: it names the rule (which reports compare across targets),
/// what it breaks in the SDKs, and why it is as bad as it is. A milder catalog finding (JSON cut
/// by the token cap: info; a non-strict schema: warning) does not fail the case, so the suite's
/// stricter expectation still speaks.
fn failed_by_catalog(cx: &mut Cx, assertion: &'static str, checks: &[&str], path: &str) -> bool {
    let found = cx.findings.iter().position(|f| {
        f.severity >= Violation && checks.contains(&f.check) && f.path.as_deref() == Some(path)
    });
    if let Some(i) = found {
        cx.restated.push((assertion, i));
    }
    found.is_some()
}

fn content_is_json(cx: &mut Cx, loc: &crate::diag::Location) {
    let schema = match &cx.req.response_format {
        crate::check::request::ResponseFormat::JsonSchema { schema, .. } => schema.cloned(),
        _ => None,
    };
    let Some(choices) = cx
        .json()
        .and_then(|b| b.get("choices"))
        .and_then(Value::as_array)
        .cloned()
    else {
        cx.push(
            Finding::new(
                "assert.content_is_json",
                Violation,
                "there are no choices whose content could be JSON",
            )
            .source(loc),
        );
        return;
    };
    for (i, choice) in choices.iter().enumerate() {
        let at = format!("/choices/{i}/message/content");
        if failed_by_catalog(cx, "assert.content_is_json", &CONTENT_CHECKS, &at) {
            continue;
        }
        let content = choice.pointer("/message/content");
        let Some(Value::String(text)) = content else {
            cx.push(
                Finding::new(
                    "assert.content_is_json",
                    Violation,
                    "the content is not a string",
                )
                .at(at)
                .actual(content.map_or("missing".to_owned(), short))
                .source(loc),
            );
            continue;
        };
        match serde_json::from_str::<Value>(text) {
            Err(e) => cx.push(
                Finding::new(
                    "assert.content_is_json",
                    Violation,
                    format!("the content is not JSON: {e}"),
                )
                .at(at)
                .actual(short(&Value::String(text.clone())))
                .source(loc),
            ),
            Ok(parsed) => {
                if let Some(schema) = &schema {
                    for e in crate::schema::validate_adhoc(schema, &parsed) {
                        cx.push(
                            Finding::new(
                                "assert.content_is_json",
                                Violation,
                                format!(
                                    "the content does not match the json_schema at `{}`: {}",
                                    e.instance_path, e.message
                                ),
                            )
                            .at(at.clone())
                            .source(loc),
                        );
                    }
                }
            }
        }
    }
}

fn tool_args_valid(cx: &mut Cx, loc: &crate::diag::Location) {
    let choices = cx
        .json()
        .and_then(|b| b.get("choices"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut seen = 0;
    for (i, choice) in choices.iter().enumerate() {
        let calls = choice
            .pointer("/message/tool_calls")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (j, call) in calls.iter().enumerate() {
            seen += 1;
            let at = format!("/choices/{i}/message/tool_calls/{j}/function/arguments");
            if failed_by_catalog(cx, "assert.tool_args_valid", &ARGUMENT_CHECKS, &at) {
                continue;
            }
            let name = call
                .pointer("/function/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str) else {
                cx.push(
                    Finding::new(
                        "assert.tool_args_valid",
                        Violation,
                        format!("the arguments of `{name}` are not a string"),
                    )
                    .at(at)
                    .source(loc),
                );
                continue;
            };
            let parsed = match serde_json::from_str::<Value>(args) {
                Ok(v) => v,
                Err(e) => {
                    cx.push(
                        Finding::new(
                            "assert.tool_args_valid",
                            Violation,
                            format!("the arguments of `{name}` are not JSON: {e}"),
                        )
                        .at(at)
                        .actual(short(&Value::String(args.to_owned())))
                        .source(loc),
                    );
                    continue;
                }
            };
            let Some(tool) = cx.req.tool(name).cloned() else {
                cx.push(
                    Finding::new(
                        "assert.tool_args_valid",
                        Violation,
                        format!("`{name}` is not a declared tool"),
                    )
                    .at(at)
                    .source(loc),
                );
                continue;
            };
            let params = tool
                .parameters
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object"}));
            for e in crate::schema::validate_adhoc(&params, &parsed) {
                cx.push(
                    Finding::new(
                        "assert.tool_args_valid",
                        Violation,
                        format!(
                            "the arguments of `{name}` do not match its parameters at `{}`: {}",
                            e.instance_path, e.message
                        ),
                    )
                    .at(at.clone())
                    .actual(short(&Value::String(args.to_owned())))
                    .source(loc),
                );
            }
        }
    }
    if seen == 0 {
        cx.push(
            Finding::new(
                "assert.tool_args_valid",
                Violation,
                "the case expects tool calls to validate, but there are none",
            )
            .at("/choices/0/message/tool_calls")
            .source(loc),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const PLAIN: &str = "{model: m, messages: [{role: user, content: hi}]}";

    fn with_expect(expect: &str) -> crate::plan::PlannedCase {
        chat_case(PLAIN, &format!("    expect:\n{expect}"))
    }

    #[test]
    fn pointer_assertions() {
        let c = with_expect(
            "      assert:\n        - {pointer: /choices/0/message/role, equals: assistant}\n        - {pointer: /id, matches: '^chatcmpl-'}\n        - {pointer: /created, type: integer}\n        - {pointer: /choices/0/finish_reason, one_of: [stop, length]}\n        - {pointer: /nope, exists: false}\n",
        );
        assert_eq!(
            ids(&judge(&c, 200, "application/json", OK_BODY)),
            Vec::<String>::new()
        );
        let c = with_expect(
            "      assert:\n        - {pointer: /model, equals: other}\n        - {pointer: /id, matches: '^gen-'}\n",
        );
        let v = judge(&c, 200, "application/json", OK_BODY);
        assert_eq!(
            ids(&v),
            ["assert.pointer violation", "assert.pointer violation"]
        );
        let f = &v.findings[0];
        assert_eq!(
            (f.expected.as_deref(), f.actual.as_deref()),
            (Some("\"other\""), Some("\"m\""))
        );
        assert!(
            f.source
                .as_ref()
                .unwrap()
                .display()
                .starts_with("suites/t.yaml:")
        );
    }

    #[test]
    fn a_rejected_valid_request_fails_by_default() {
        let c = chat_case(PLAIN, "");
        let body = r#"{"error":{"message":"nope","type":"invalid_request_error","param":null,"code":null}}"#;
        let v = judge(&c, 400, "application/json", body);
        assert_eq!(ids(&v), ["assert.status violation"]);
        assert!(v.findings[0].message.contains("nope"));
    }

    /// `json.object_mode_valid` and `assert.content_is_json` used to both report the same fenced
    /// content at the same place (LiteLLM review): the catalog's violation stands alone; a
    /// milder catalog finding leaves the suite's assertion in place.
    #[test]
    fn an_assertion_does_not_repeat_a_catalog_violation_at_the_same_place() {
        let fenced = OK_BODY.replace(
            r#""content":"hi""#,
            r#""content":"```json\n{\"a\":1}\n```""#,
        );
        let findings = |req: &str, expect: &str, body: &str| {
            ids(&judge(
                &chat_case(req, expect),
                200,
                "application/json",
                body,
            ))
        };
        let expect = "    expect: {content_is_json: true}\n";
        let json_object = "{model: m, response_format: {type: json_object}, messages: [{role: user, content: json}]}";
        assert_eq!(
            findings(json_object, expect, &fenced),
            ["json.object_mode_valid violation"]
        );
        let strict = "{model: m, response_format: {type: json_schema, json_schema: {name: s, strict: true, schema: {type: object}}}, messages: [{role: user, content: json}]}";
        assert_eq!(
            findings(strict, expect, &fenced),
            ["json.schema_enforced_or_rejected violation"]
        );
        // Not strict: the catalog only warns, the suite still expects JSON.
        let loose = strict.replace("strict: true", "strict: false");
        assert_eq!(
            findings(&loose, expect, &fenced),
            [
                "json.schema_enforced_or_rejected warning",
                "assert.content_is_json violation"
            ]
        );
        // Cut by the token cap: the catalog says info (OpenAI cuts JSON too), the suite fails.
        let cut = fenced.replace(r#""finish_reason":"stop""#, r#""finish_reason":"length""#);
        assert_eq!(
            findings(json_object, expect, &cut),
            [
                "json.object_mode_valid info",
                "assert.content_is_json violation"
            ]
        );

        // The same rule for tool arguments: a strict tool's broken arguments are the catalog's
        // violation, a non-strict tool's only its warning.
        let tools = |strict: bool| {
            format!(
                "{{model: m, tools: [{{type: function, function: {{name: f, strict: {strict}, parameters: {{type: object}}}}}}], messages: [{{role: user, content: hi}}]}}"
            )
        };
        let call = OK_BODY
            .replace(
                r#""content":"hi""#,
                r#""content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]"#,
            )
            .replace(r#""finish_reason":"stop""#, r#""finish_reason":"tool_calls""#);
        let expect = "    expect: {tool_args_valid: true}\n";
        assert_eq!(
            findings(&tools(true), expect, &call),
            ["tools.arguments_valid_json violation"]
        );
        assert_eq!(
            findings(&tools(false), expect, &call),
            [
                "tools.arguments_valid_json warning",
                "assert.tool_args_valid violation"
            ]
        );
    }

    /// Issue 4, item 6: side by side, the matrix showed LiteLLM's `assert.content_is_json` as
    /// `pass`: its JSON-mode content is not JSON, but the assertion was left out for the
    /// catalog's `json.object_mode_valid` violation. The verdict notes it, with that severity.
    #[test]
    fn an_assertion_left_out_is_noted_with_the_catalog_severity() {
        let fenced = OK_BODY.replace(r#""content":"hi""#, r#""content":"not JSON""#);
        let json_object = "{model: m, response_format: {type: json_object}, messages: [{role: user, content: json}]}";
        let c = chat_case(json_object, "    expect: {content_is_json: true}\n");
        let v = judge(&c, 200, "application/json", &fenced);
        assert_eq!(ids(&v), ["json.object_mode_valid violation"]);
        assert_eq!(
            v.restated,
            [(
                "assert.content_is_json",
                crate::catalog::Severity::Violation
            )]
        );
        assert!(v.checked.contains(&"assert.content_is_json"));
        // An assertion that speaks for itself is not noted.
        let cut = fenced.replace(r#""finish_reason":"stop""#, r#""finish_reason":"length""#);
        let v = judge(&c, 200, "application/json", &cut);
        assert_eq!(
            ids(&v),
            [
                "json.object_mode_valid info",
                "assert.content_is_json violation"
            ]
        );
        assert_eq!(v.restated, []);
    }

    #[test]
    fn content_is_json_and_tool_args_valid() {
        let c = with_expect("      content_is_json: true\n");
        assert_eq!(
            ids(&judge(&c, 200, "application/json", OK_BODY)),
            ["assert.content_is_json violation"]
        );
        let c = with_expect("      tool_args_valid: true\n");
        assert_eq!(
            ids(&judge(&c, 200, "application/json", OK_BODY)),
            ["assert.tool_args_valid violation"]
        );
    }
}
