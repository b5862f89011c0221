//! What the target's profile documents, checked both ways: the gateway must do what its
//! documentation promises (`profile.*` checks: documented response fields, id styles, error bodies
//! and codes, extra endpoints), and a finding the documentation announces becomes a `variant`
//! (reported, not failed). Under the strict `openai` profile nothing is documented, so the same
//! exchange keeps its full severities.

use serde_json::Value;

use super::{Cx, Endpoint, Finding};
use crate::catalog::Severity::{self, Info, Variant, Violation, Warning};
use crate::profile::{DocumentedError, EndpointReport, Profile, VariantRule};
use crate::schema::short;

/// The `profile.*` checks for one exchange.
pub(super) fn check(cx: &mut Cx, profile: &'static Profile) {
    if cx.is_success() {
        match cx.endpoint {
            Endpoint::ChatCompletions => {
                response_fields(cx, profile);
                response_id(cx, profile);
            }
            Endpoint::ListModels => model_ids(cx, profile),
            Endpoint::RetrieveModel => {}
            Endpoint::Other => {}
        }
    } else {
        error_body(cx, profile);
    }
    error_code(cx, profile);
    endpoint(cx, profile);
    parameters_accepted(cx, profile);
}

/// `profile.parameter_accepted`: a 400 or 422 to a request whose parameters the profile
/// documents, when the case does not provoke an error on purpose. `model`, `messages` and
/// `stream` are left out: every request has them, and a broken one is the errors suite's.
fn parameters_accepted(cx: &mut Cx, profile: &'static Profile) {
    if cx.endpoint != Endpoint::ChatCompletions || !matches!(cx.status, 400 | 422) {
        return;
    }
    let expect = &cx.case.case.expect;
    if expect.error.is_some()
        || expect
            .status
            .as_ref()
            .is_some_and(|(s, _)| s.accepts(cx.status))
    {
        return;
    }
    let Some(Value::Object(body)) = cx.req.json else {
        return;
    };
    let p = &profile.parameters;
    let documented = p.promised(body);
    if documented.is_empty() {
        return;
    }
    let why = cx
        .error_message()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let promise = if p.accepts_unlisted {
        "documents that a request is accepted whatever parameters it carries"
    } else {
        "documents these parameters"
    };
    cx.rejection_explained = true;
    cx.push(
        Finding::new(
            "profile.parameter_accepted",
            Violation,
            format!(
                "{} {promise} ({}); this request got {}{why}",
                profile.name,
                super::code_list(documented),
                cx.status
            ),
        )
        .expected("2xx")
        .actual(cx.status),
    );
}

/// Every place a documented field pattern (`/choices/*/message/images`) names in the body, with
/// the value there if there is one.
fn resolve<'v>(body: &'v Value, pattern: &str) -> Vec<(String, Option<&'v Value>)> {
    let mut out = Vec::new();
    let segments: Vec<&str> = pattern.split('/').skip(1).collect();
    fn walk<'v>(
        value: &'v Value,
        at: String,
        rest: &[&str],
        out: &mut Vec<(String, Option<&'v Value>)>,
    ) {
        let Some((head, tail)) = rest.split_first() else {
            out.push((at, Some(value)));
            return;
        };
        if *head == "*" {
            for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                walk(item, format!("{at}/{i}"), tail, out);
            }
            return;
        }
        let key = head.replace("~1", "/").replace("~0", "~");
        let next = format!("{at}/{head}");
        match value.get(&key) {
            Some(v) => walk(v, next, tail, out),
            // Only the last segment may be missing: a field, not its parent, is documented.
            None if tail.is_empty() => out.push((next, None)),
            None => {}
        }
    }
    walk(body, String::new(), &segments, &mut out);
    out
}

/// `profile.response_field`: documented response fields are there when required and have the
/// documented shape.
fn response_fields(cx: &mut Cx, profile: &'static Profile) {
    let Some(body) = cx.json().cloned() else {
        return;
    };
    for field in &profile.response_fields {
        for (at, value) in resolve(&body, &field.path) {
            let documented = field
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            match value {
                None if field.required => cx.push(
                    Finding::new(
                        "profile.response_field",
                        match field.when_missing {
                            crate::profile::WhenMissing::Violation => Violation,
                            crate::profile::WhenMissing::Warning => Warning,
                        },
                        format!(
                            "`{at}` is missing: {} documents it {}{documented}",
                            profile.name,
                            match field.when_missing {
                                crate::profile::WhenMissing::Violation => "on every answer",
                                crate::profile::WhenMissing::Warning =>
                                    "in words, though its own example leaves it out",
                            }
                        ),
                    )
                    .at(at.clone())
                    .expected(short(&field.schema)),
                ),
                None => {}
                Some(v) => {
                    if let Some(e) = crate::schema::validate_static(&field.schema, v)
                        .into_iter()
                        .next()
                    {
                        cx.push(
                            Finding::new(
                                "profile.response_field",
                                Violation,
                                format!(
                                    "`{at}` does not have the shape {} documents: {}",
                                    profile.name, e.message
                                ),
                            )
                            .at(format!("{at}{}", e.instance_path))
                            .expected(short(&field.schema))
                            .actual(short(v)),
                        );
                    }
                }
            }
        }
    }
}

/// `profile.response_id`: the completion id has the documented style (`gen-...`).
fn response_id(cx: &mut Cx, profile: &'static Profile) {
    let Some(spec) = &profile.response_ids else {
        return;
    };
    let Some(id) = cx.json().and_then(|b| b.get("id")).and_then(Value::as_str) else {
        return; // resp.envelope reports a missing id
    };
    if !matches(&spec.pattern, id) {
        let id = id.to_owned();
        let style = spec.example.clone().unwrap_or_else(|| spec.pattern.clone());
        cx.push(
            Finding::new(
                "profile.response_id",
                Warning,
                format!(
                    "the completion id {} is not in the style {} documents (`{style}`)",
                    short(&Value::String(id.clone())),
                    profile.name
                ),
            )
            .at("/id")
            .expected(style)
            .actual(id),
        );
    }
}

/// `profile.model_id`: `/models` lists ids in the documented style (`provider/model`).
fn model_ids(cx: &mut Cx, profile: &'static Profile) {
    let Some(pattern) = &profile.models.pattern else {
        return;
    };
    let Some(data) = cx
        .json()
        .and_then(|b| b.get("data"))
        .and_then(Value::as_array)
    else {
        return;
    };
    let odd: Vec<(usize, String)> = data
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((i, m.get("id")?.as_str()?.to_owned())))
        .filter(|(_, id)| !matches(pattern, id))
        .collect();
    let Some((first, _)) = odd.first() else {
        return;
    };
    let listed: Vec<String> = odd
        .iter()
        .take(3)
        .map(|(_, id)| format!("`{id}`"))
        .collect();
    let more = odd.len().saturating_sub(3);
    cx.push(
        Finding::new(
            "profile.model_id",
            Warning,
            format!(
                "{} model id(s) not in the style {} documents: {}{}",
                odd.len(),
                profile.name,
                listed.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        )
        .at(format!("/data/{first}/id"))
        .expected(
            profile
                .models
                .example
                .clone()
                .unwrap_or_else(|| pattern.clone()),
        ),
    );
}

/// `profile.error_body`: an error answers in the documented body (meingpt's
/// `{"status": "error", "message": ...}`), when the profile documents one.
fn error_body(cx: &mut Cx, profile: &'static Profile) {
    let Some(schema) = &profile.errors.body_schema else {
        return;
    };
    let (problem, at) = match cx.json() {
        None => ("the body is not JSON".to_owned(), String::new()),
        Some(body) => match crate::schema::validate_static(schema, body)
            .into_iter()
            .next()
        {
            None => return,
            Some(e) => (e.message, e.instance_path),
        },
    };
    let actual = cx.json().map_or_else(
        || {
            short(&Value::String(
                String::from_utf8_lossy(&cx.ex.body).into_owned(),
            ))
        },
        short,
    );
    cx.push(
        Finding::new(
            "profile.error_body",
            Violation,
            format!(
                "a {} error is not in the body {} documents: {problem}",
                cx.status, profile.name
            ),
        )
        .at(at)
        .expected(short(schema))
        .actual(actual),
    );
}

/// `profile.error_code`: an error the case provokes on purpose, which the profile documents,
/// comes with the documented status and code.
fn error_code(cx: &mut Cx, profile: &'static Profile) {
    let Some((kind, loc)) = cx.case.case.expect.error.clone() else {
        return;
    };
    let Some(doc) = profile.documented_error(kind) else {
        return;
    };
    let code = cx
        .json()
        .and_then(|b| b.pointer("/error/code"))
        .cloned()
        .unwrap_or(Value::Null);
    let what = doc
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let finding = if cx.status != doc.status {
        Finding::new(
            "profile.error_code",
            Warning,
            format!(
                "{} documents {} for {}{what}; got {}",
                profile.name,
                doc.status,
                kind.as_str(),
                cx.status
            ),
        )
        .expected(doc.status)
        .actual(cx.status)
    } else if let Some(want) = doc.code.as_deref().filter(|w| code.as_str() != Some(*w)) {
        Finding::new(
            "profile.error_code",
            Warning,
            format!(
                "{} documents the code `{want}` for {}{what}; got {}",
                profile.name,
                kind.as_str(),
                short(&code)
            ),
        )
        .at("/error/code")
        .expected(want)
        .actual(short(&code))
    } else {
        return;
    };
    cx.push(finding.source(&loc));
}

/// `profile.endpoint`: an extra endpoint the profile documents answers, in its documented shape;
/// an endpoint documented as a recommendation is only reported (info).
fn endpoint(cx: &mut Cx, profile: &'static Profile) {
    if cx.endpoint != Endpoint::Other {
        return;
    }
    let path = cx.case.request.path.split('?').next().unwrap_or("");
    let method = cx.case.request.method.as_str();
    let Some(spec) = profile
        .endpoints
        .iter()
        .find(|e| e.method.eq_ignore_ascii_case(method) && e.path == path.trim_end_matches('/'))
    else {
        return;
    };
    let note = spec
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let status = cx.status;
    if spec.report == EndpointReport::Info {
        let exists = !matches!(status, 404 | 405 | 501);
        cx.push(
            Finding::new(
                "profile.endpoint",
                Info,
                if exists {
                    format!("{method} {path} exists (answered {status}){note}")
                } else {
                    format!("{method} {path} does not exist (answered {status}){note}")
                },
            )
            .actual(status),
        );
        return;
    }
    if !cx.is_success() {
        cx.push(
            Finding::new(
                "profile.endpoint",
                Violation,
                format!(
                    "{method} {path}, which {} documents{note}, answered {status}",
                    profile.name
                ),
            )
            .expected("2xx")
            .actual(status),
        );
        return;
    }
    let (Some(schema), Some(body)) = (&spec.schema, cx.json().cloned()) else {
        if spec.schema.is_some() {
            cx.push(Finding::new(
                "profile.endpoint",
                Violation,
                format!("{method} {path} did not answer JSON"),
            ));
        }
        return;
    };
    if let Some(e) = crate::schema::validate_static(schema, &body)
        .into_iter()
        .next()
    {
        cx.push(
            Finding::new(
                "profile.endpoint",
                Violation,
                format!(
                    "{method} {path} does not have the shape {} documents: {}",
                    profile.name, e.message
                ),
            )
            .at(e.instance_path)
            .expected(short(schema)),
        );
    }
}

fn matches(pattern: &str, text: &str) -> bool {
    // Patterns are validated when the profile loads, and compiled once.
    type Cache = std::sync::Mutex<std::collections::HashMap<String, Option<regex::Regex>>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .expect("not poisoned");
    cache
        .entry(pattern.to_owned())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .as_ref()
        .is_some_and(|r| r.is_match(text))
}

/// Findings the profile documents become `variant`, saying which document and why: the profile's
/// `variants` rules, a documented error body, and a documented status for a provoked error.
pub(super) fn apply_variants(cx: &mut Cx, profile: &'static Profile) {
    // What the profile documents beyond OpenAI's word is held at full severity: a stream that
    // a gateway says ends with `[DONE]` and does not is breaking its own contract.
    if profile.sse.done {
        for f in &mut cx.findings {
            if f.check == "sse.done_sentinel" && f.severity < Violation {
                let was = f.severity;
                f.severity = Violation;
                f.message.push_str(&format!(
                    " ({} documents that its streams end with `data: [DONE]`; {was} under the openai profile)",
                    profile.name
                ));
            }
        }
    }
    let body_documented = !cx.is_success()
        && profile.errors.body_schema.as_ref().is_some_and(|schema| {
            cx.json()
                .is_some_and(|b| crate::schema::validate_static(schema, b).is_empty())
        });
    let expected = cx.case.case.expect.error.as_ref().map(|(k, _)| *k);
    let status_documented = expected
        .and_then(|k| profile.documented_error(k))
        .filter(|d| d.status == cx.status);
    let status = cx.status;
    let req = cx.req.json;
    // The request's parameters OpenAI does not know, when the profile names every one of them.
    let extra: Vec<&str> = if cx
        .req
        .unknown_params
        .iter()
        .all(|p| profile.parameters.extra.iter().any(|e| e == p))
    {
        cx.req.unknown_params.clone()
    } else {
        Vec::new()
    };
    for f in &mut cx.findings {
        if f.severity == Variant {
            continue;
        }
        let because = if body_documented && matches!(f.check, "err.envelope" | "err.schema") {
            Some("its documented error body".to_owned())
        } else if let (Some(doc), "err.status_mapping") = (status_documented, f.check) {
            Some(documented_answer(doc))
        } else if f.check == "req.unknown_param_policy" && !extra.is_empty() {
            // Parameters the document names are not unknown to it, whatever it says of the rest.
            let names: Vec<String> = extra.iter().map(|p| format!("`{p}`")).collect();
            Some(if let [one] = names.as_slice() {
                format!("it documents {one} as a request field")
            } else {
                format!("it documents {} as request fields", names.join(", "))
            })
        } else if let Some(rule) = profile
            .variants
            .iter()
            .find(|r| rule_matches(r, f, req, status))
        {
            // The profile's own rules first: they quote the document.
            Some(rule.because.clone())
        } else if f.check == "chunk.unknown_fields_tolerated"
            && !profile.sse.fields.is_empty()
            && f.actual.as_deref().is_some_and(|keys| {
                keys.split(", ")
                    .all(|k| profile.sse.fields.iter().any(|d| d == k))
            })
        {
            Some(format!(
                "it documents {} in its chunks",
                f.actual.as_deref().unwrap_or_default()
            ))
        } else if f.check == "sse.comments_ignored" && profile.sse.comments {
            Some("it documents keep-alive comments in its streams".to_owned())
        } else if f.check == "req.unknown_param_policy" && profile.parameters.forwarded {
            Some("it forwards parameters it does not know upstream".to_owned())
        } else if let Some(p) = unchecked_value(profile, req, f, status, expected) {
            Some(format!(
                "`{p}` is not among the parameters it honours: accepted and ignored, its value unchecked"
            ))
        } else if let Some(p) = ignored_cause(profile, req, f) {
            Some(format!(
                "`{p}` is not among the parameters it honours: accepted and ignored"
            ))
        } else if f.check == "resp.schema"
            && let Some(path) = f
                .path
                .as_deref()
                .filter(|p| profile.omitted_fields.iter().any(|o| o == p))
        {
            Some(format!(
                "its documented response has no `{}`",
                path.trim_start_matches('/')
            ))
        } else {
            None
        };
        if let Some(because) = because {
            document(f, profile, &because);
        }
    }
}

/// The ignored parameter an invalid value was sent in, when the case provoked
/// `invalid_parameter` and got a 2xx: a value is not checked for a parameter ignored anyway.
fn unchecked_value<'r>(
    profile: &Profile,
    req: Option<&'r Value>,
    f: &Finding,
    status: u16,
    expected: Option<crate::suite::ErrorKind>,
) -> Option<&'r str> {
    if f.check != "err.status_mapping"
        || !(200..300).contains(&status)
        || expected != Some(crate::suite::ErrorKind::InvalidParameter)
    {
        return None;
    }
    req?.as_object()?
        .keys()
        .map(String::as_str)
        .find(|k| profile.parameters.ignores(k))
}

/// A check id, and the place its finding is about when not the whole answer.
type Effect = (&'static str, Option<&'static str>);

/// What a server that accepts a parameter and ignores it is seen to do: the findings that
/// follow (check id, and the place they are about when not the whole answer).
const IGNORED_EFFECTS: &[(&str, &[Effect])] = &[
    (
        "n",
        &[
            ("req.n_parameter", None),
            ("chunk.n_choices", None),
            ("assert.pointer", Some("/choices/1")),
        ],
    ),
    ("stop", &[("req.stop_sequences", None)]),
    (
        "max_tokens",
        &[
            ("req.max_completion_tokens", None),
            ("assert.pointer", Some("/choices/0/finish_reason")),
        ],
    ),
    (
        "max_completion_tokens",
        &[
            ("req.max_completion_tokens", None),
            ("assert.pointer", Some("/choices/0/finish_reason")),
        ],
    ),
    ("logprobs", &[("req.logprobs_params", None)]),
    ("top_logprobs", &[("req.logprobs_params", None)]),
    (
        "stream_options",
        &[
            ("usage.include_usage_trailer", None),
            ("usage.stream_options_acceptance", None),
            ("assert.pointer", Some("/usage")),
        ],
    ),
    (
        "parallel_tool_calls",
        &[("tools.parallel_tool_calls_param", None)],
    ),
    ("functions", &[("tools.legacy_functions", None)]),
];

/// The parameter the request sends and the profile documents as ignored that explains the
/// finding, if one does.
fn ignored_cause(profile: &Profile, req: Option<&Value>, f: &Finding) -> Option<&'static str> {
    let sent = |p: &str| req.is_some_and(|j| j.get(p).is_some_and(|v| !v.is_null()));
    IGNORED_EFFECTS.iter().find_map(|(param, effects)| {
        let documented = profile.parameters.ignores(param);
        let effect = effects.iter().any(|(check, at)| {
            *check == f.check
                && at.is_none_or(|at| {
                    f.path
                        .as_deref()
                        .is_some_and(|p| p == at || p.starts_with(&format!("{at}/")))
                })
        });
        (documented && sent(param) && effect).then_some(*param)
    })
}

/// "402 insufficient_funds is its documented answer (баланс ниже $0.10)".
fn documented_answer(doc: &DocumentedError) -> String {
    let code = doc
        .code
        .as_deref()
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    let note = doc
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!("{}{code} is its documented answer{note}", doc.status)
}

fn rule_matches(rule: &VariantRule, f: &Finding, req: Option<&Value>, status: u16) -> bool {
    rule.matches(f.check, f.path.as_deref(), req, status)
}

fn document(f: &mut Finding, profile: &Profile, because: &str) {
    let was: Severity = f.severity;
    f.message = format!(
        "{} (documented by {}: {because}; {was} under the openai profile)",
        f.message, profile.name
    );
    f.severity = Variant;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::*;
    use serde_json::json;

    const ML_ROUTER_CHAT: &str =
        "{model: openai/gpt-4o-mini, messages: [{role: user, content: hi}]}";

    /// Found writing fixtures/exchanges/profiles/meingpt_openai_shaped_error.http: the message
    /// said "at `/status`: missing required property `status`"; the place is the finding's path.
    #[test]
    fn an_undocumented_error_body_says_what_is_missing_once() {
        let c = under(
            "meingpt",
            chat_case(
                "{model: nope, messages: [{role: user, content: hi}]}",
                "    expect: {error: unknown_model}\n",
            ),
        );
        let body = r#"{"error":{"message":"no","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
        let v = judge(&c, 404, "application/json", body);
        assert_eq!(ids(&v), ["profile.error_body violation"]);
        let f = &v.findings[0];
        assert_eq!(
            f.message,
            "a 404 error is not in the body meingpt documents: missing required property `status`"
        );
        assert_eq!(f.path.as_deref(), Some("/status"));
    }

    /// Found writing fixtures/exchanges/profiles/baseline/rout_my_max_output_tokens.http:
    /// `max_output_tokens`, a field rout.my documents, was excused as an unknown field it forwards.
    #[test]
    fn documented_request_fields_are_excused_as_such() {
        let judge_under = |profile: &str, body: &str| {
            let v = judge(
                &under(profile, chat_case(body, "")),
                200,
                "application/json",
                OK_BODY,
            );
            let f = v
                .findings
                .iter()
                .find(|f| f.check == "req.unknown_param_policy")
                .cloned();
            f.unwrap()
        };
        let f = judge_under(
            "rout-my",
            "{model: m, max_output_tokens: 5, messages: [{role: user, content: hi}]}",
        );
        assert_eq!(f.severity, Variant);
        assert!(
            f.message.contains(
                "documented by rout-my: it documents `max_output_tokens` as a request field;"
            ),
            "{}",
            f.message
        );
        // With a parameter it does not name, the forwarding rule speaks for all of them.
        let f = judge_under(
            "rout-my",
            "{model: m, max_output_tokens: 5, x_probe: 1, messages: [{role: user, content: hi}]}",
        );
        assert!(f.message.contains("пробрасываются дальше"), "{}", f.message);
        // A profile that names no extra field and forwards nothing leaves it as it was.
        let f = judge_under(
            "router-by-mp",
            "{model: m, max_output_tokens: 5, messages: [{role: user, content: hi}]}",
        );
        assert_eq!(f.severity, Info);
    }

    /// meingpt ignores `stop`: the stop string in the answer is its documented behaviour, but
    /// only when the request sent `stop`; apigo leaves out `created`, not `id`.
    #[test]
    fn ignored_parameters_and_omitted_fields_come_from_the_profile_data() {
        let answer = OK_BODY.replace(r#""content":"hi""#, r#""content":"alpha STOP beta""#);
        let stop = "{model: m, stop: STOP, messages: [{role: user, content: hi}]}";
        let v = judge(
            &under("meingpt", chat_case(stop, "")),
            200,
            "application/json",
            &answer,
        );
        let f = v
            .findings
            .iter()
            .find(|f| f.check == "req.stop_sequences")
            .unwrap();
        assert_eq!(f.severity, Variant, "{}", f.message);
        assert!(
            f.message
                .contains("`stop` is not among the parameters it honours"),
            "{}",
            f.message
        );
        let v = judge(
            &under("openai", chat_case(stop, "")),
            200,
            "application/json",
            &answer,
        );
        let f = v
            .findings
            .iter()
            .find(|f| f.check == "req.stop_sequences")
            .unwrap();
        assert_eq!(f.severity, Warning);

        let body = OK_BODY.replace(r#""created":1700000000,"#, "");
        for (profile, want) in [("apigo", Variant), ("openai", Violation)] {
            let v = judge(
                &under(profile, chat_case(ML_ROUTER_CHAT, "")),
                200,
                "application/json",
                &body,
            );
            let f = v
                .findings
                .iter()
                .find(|f| f.check == "resp.schema")
                .unwrap();
            assert_eq!(
                (f.path.as_deref(), f.severity),
                (Some("/created"), want),
                "{profile}"
            );
        }
    }

    #[test]
    fn a_documented_answer_without_a_code_reads_cleanly() {
        let doc = DocumentedError {
            status: 400,
            code: None,
            note: Some("tools on a model without tool support".into()),
            kinds: Vec::new(),
        };
        assert_eq!(
            documented_answer(&doc),
            "400 is its documented answer (tools on a model without tool support)"
        );
        let ml_router = crate::profile::get("ml-router").unwrap();
        assert_eq!(
            documented_answer(&ml_router.errors.documented[0]),
            "402 insufficient_funds is its documented answer (баланс ниже $0.10)"
        );
    }

    /// Found writing fixtures/exchanges/profiles/ml_router_chatcmpl_id.http: the id was quoted
    /// twice (`"chatcmpl-1"`) and the message did not say which style was documented.
    #[test]
    fn a_foreign_id_style_names_the_documented_one() {
        let c = under("ml-router", chat_case(ML_ROUTER_CHAT, ""));
        let body = OK_BODY.replace(r#""usage":{"#, r#""usage":{"cost":0.1,"#);
        let v = judge(&c, 200, "application/json", &body);
        let f = v
            .findings
            .iter()
            .find(|f| f.check == "profile.response_id")
            .unwrap();
        assert_eq!(
            f.message,
            "the completion id \"chatcmpl-1\" is not in the style ml-router documents (`gen-1234567890-abcdef`)"
        );
    }

    #[test]
    fn patterns_resolve_every_place_they_name() {
        let body = json!({"choices": [{"message": {"images": []}}, {"message": {}}], "usage": {}});
        let got: Vec<(String, bool)> = resolve(&body, "/choices/*/message/images")
            .into_iter()
            .map(|(p, v)| (p, v.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                ("/choices/0/message/images".to_owned(), true),
                ("/choices/1/message/images".to_owned(), false)
            ]
        );
        assert_eq!(resolve(&body, "/usage/cost")[0].0, "/usage/cost");
        assert!(
            resolve(&json!({}), "/usage/cost").is_empty(),
            "no usage, nothing to say"
        );
    }
}
