//! Which checks looked at an exchange, for reports that say `pass` only where a check had
//! something to judge (the checks x targets matrix).
//!
//! Derived from the kind of exchange, not recorded by each check as it runs, so the rules stay
//! in one place and cost nothing while judging. By catalog area:
//!
//! | area | looks at |
//! | --- | --- |
//! | `sse.*`, `chunk.*` | a 2xx chat answer judged as a stream (`sse.content_type` and `sse.stream_flag_honored`: every 2xx chat answer) |
//! | `resp.*`, `usage.*`, `ext.*`, `json.*`, `tools.*` | a 2xx chat answer: the JSON body, or the stream reassembled |
//! | `err.*` | a non-2xx answer, any endpoint |
//! | `models.*` | `GET /models` and `GET /models/{id}` |
//! | `req.*` | a chat request that reached the server (not a 401, 402, 403, 429 or 503) |
//! | `assert.*` | the case's own `expect:` |
//!
//! It is an approximation, narrowed where a check is plainly about one feature of the request:
//! `tools.*` count only for requests that offer tools or answers that call one anyway, `json.*`
//! only for a `response_format` (except `json.refusal_field`, below), each `req.*` only for a
//! request that uses its parameter, `chunk.stream_matches_nonstream` only with a companion,
//! `err.status_mapping` only for a case that makes a mistake on purpose, `err.retry_headers`
//! only on 429 and 503, and the stream-only and non-stream-only rules only where they run
//! (`resp.*` reads non-stream bodies; chunks have their own rules).
//!
//! The checks that judge one optional part of the answer count only where the answer
//! ([`Carries`]) has it: the tool-call rules only for an answer with a tool call (offered or
//! not), `ext.logprobs_shape` for logprobs, `ext.images_array` for `images`, `json.refusal_field`
//! for a `refusal`, `usage.arithmetic` and `usage.details_shape` for a `usage`. Otherwise a
//! gateway that never returned a tool call would show `pass` for every tool-call rule. Other
//! checks may still have found little to look at (`ext.system_fingerprint_service_tier` on an
//! answer without either field); a check that fires is always listed (`tests/fixtures.rs` holds
//! the two together over every recorded exchange, `tests/reference.rs` over every shipped case
//! and dialect). A case's `checks:` selection narrows the list as it narrows findings.

use serde_json::Value;

use super::{Body, Endpoint, RequestView, endpoint};
use crate::catalog;
use crate::plan::PlannedCase;

/// What kind of exchange was judged.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kind {
    pub endpoint: Endpoint,
    pub status: u16,
    /// The answer was judged as an event stream.
    pub streamed: bool,
    /// The same request without streaming was sent too, and compared.
    pub compared: bool,
    /// The profile the exchange was judged under (`None` under `--strict`).
    pub profile: Option<&'static crate::profile::Profile>,
    /// What the judged answer has of the optional parts some checks are about.
    pub carries: Carries,
}

/// The optional parts of a chat answer that some checks judge, found in the judged body (a
/// stream's reassembled answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Carries {
    /// A message with at least one tool call (a stream: any tool-call delta).
    pub tool_calls: bool,
    /// A choice with non-null `logprobs`, or a body that is not JSON (scanned for the
    /// `Infinity` and `NaN` that logprobs bring).
    pub logprobs: bool,
    /// A message with `images`.
    pub images: bool,
    /// A message with a `refusal` member (a stream: refusal text, since its reassembled answer
    /// always has the member).
    pub refusal: bool,
    /// A `usage` object.
    pub usage: bool,
}

impl Carries {
    /// Every part.
    pub const ANY: Carries = Carries {
        tool_calls: true,
        logprobs: true,
        images: true,
        refusal: true,
        usage: true,
    };

    /// What an answer to `req` not yet seen (a skipped case) may carry: a tool call when tools
    /// are offered, logprobs when they are asked for, and the other parts always.
    fn asked(req: &RequestView) -> Carries {
        Carries {
            tool_calls: !req.tools.is_empty(),
            logprobs: req.logprobs,
            ..Carries::ANY
        }
    }

    /// What a judged body has; `streamed` when it is a stream's reassembled answer.
    pub fn of(body: &Body, streamed: bool) -> Carries {
        let mut c = Carries {
            tool_calls: false,
            logprobs: matches!(body, Body::NotJson(_)),
            images: false,
            refusal: false,
            usage: false,
        };
        let Body::Json(body) = body else {
            return c;
        };
        c.usage = body.get("usage").is_some_and(Value::is_object);
        for choice in body
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            c.logprobs |= choice.get("logprobs").is_some_and(|l| !l.is_null());
            let Some(message) = choice.get("message") else {
                continue;
            };
            c.tool_calls |= message
                .get("tool_calls")
                .and_then(Value::as_array)
                .is_some_and(|calls| !calls.is_empty());
            c.images |= message.get("images").is_some();
            c.refusal |= match message.get("refusal") {
                Some(r) if streamed => !r.is_null(),
                r => r.is_some(),
            };
        }
        c
    }
}

/// The checks (catalog ids, then `assert.*`) that looked at an exchange of this kind, in catalog
/// order.
pub(super) fn checked(case: &PlannedCase, kind: Kind) -> Vec<&'static str> {
    let req = RequestView::new(case.request.json.as_ref());
    catalog::ids()
        .filter(|id| applies(id, case, &req, kind) && selected(case, id))
        .collect()
}

/// The checks that would look at this case's exchange if the server answered as the case
/// expects (the expected status; for a mistake made on purpose, the status the profile documents
/// for it, else OpenAI's; else 2xx; a stream when one is asked for and 2xx is expected; the
/// optional parts of the answer the request may bring): what a skipped case leaves unexercised.
pub fn expected(case: &PlannedCase) -> Vec<&'static str> {
    let profile = crate::profile::get(&case.target.profile);
    let status = match (&case.case.expect.status, &case.case.expect.error) {
        (Some((want, _)), _) => (100..600).find(|s| want.accepts(*s)).unwrap_or(200),
        (None, Some((kind, _))) => profile
            .and_then(|p| p.documented_error(*kind))
            .map_or_else(|| kind.openai_status(), |d| d.status),
        (None, None) => 200,
    };
    let streamed = case.request.stream() && (200..300).contains(&status);
    let kind = Kind {
        endpoint: endpoint(case),
        status,
        streamed,
        compared: streamed && case.companion.is_some(),
        profile,
        carries: Carries::asked(&RequestView::new(case.request.json.as_ref())),
    };
    checked(case, kind)
}

fn selected(case: &PlannedCase, id: &str) -> bool {
    id.starts_with("assert.")
        || case
            .case
            .checks
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| p.matches(id)))
}

fn applies(id: &str, case: &PlannedCase, req: &RequestView, kind: Kind) -> bool {
    let ok = (200..300).contains(&kind.status);
    let chat = kind.endpoint == Endpoint::ChatCompletions;
    let models = matches!(
        kind.endpoint,
        Endpoint::ListModels | Endpoint::RetrieveModel
    );
    // A chat answer whose body was judged: JSON for a non-stream request, events for a stream
    // (a stream request answered with JSON gets only `sse.stream_flag_honored`).
    let answer = chat && ok && (kind.streamed || !req.stream);
    let streamed = answer && kind.streamed;
    let nonstream = answer && !req.stream;
    let offers_tools = !req.tools.is_empty() || req.null_content_with_tool_calls;
    let json_mode = !matches!(
        req.response_format,
        super::request::ResponseFormat::Absent | super::request::ResponseFormat::Text
    );
    // The server read the request (it did not stop at auth, credit or load).
    let read = chat && req.json.is_some() && !matches!(kind.status, 401 | 402 | 403 | 429 | 503);
    let expect = &case.case.expect;
    let carries = kind.carries;
    // An answer with a tool call, for the rules about the calls themselves.
    let calls = answer && carries.tool_calls;
    match id {
        "sse.content_type" | "sse.stream_flag_honored" => chat && ok,
        "chunk.stream_matches_nonstream" => streamed && kind.compared,
        "usage.stream_options_acceptance" => {
            read && req.json.is_some_and(|j| j.get("stream_options").is_some())
        }
        "usage.include_usage_trailer" => streamed,
        "usage.arithmetic" | "usage.details_shape" => answer && carries.usage,
        "tools.delta_index_present"
        | "tools.identity_on_first_delta_only"
        | "tools.id_stable"
        | "tools.arguments_streaming_granularity" => streamed && calls,
        "tools.id_type_name_present"
        | "tools.arguments_is_string"
        | "tools.arguments_valid_json"
        | "tools.parallel_calls" => calls,
        "tools.content_alongside_tool_calls" => calls || (read && req.null_content_with_tool_calls),
        "tools.tool_choice_modes" => {
            answer && !matches!(req.tool_choice, super::request::ToolChoice::Absent)
        }
        "tools.parallel_tool_calls_param" => calls && req.parallel_tool_calls.is_some(),
        "json.refusal_field" => answer && carries.refusal,
        "ext.logprobs_shape" => answer && carries.logprobs,
        "ext.images_array" => answer && carries.images,
        "err.status_mapping" => expect.error.is_some(),
        "err.retry_headers" => matches!(kind.status, 429 | 503),
        "err.azure_content_filter" => (chat && kind.status == 400) || nonstream,
        "err.no_error_with_2xx_nonstream" => nonstream,
        "err.in_band_stream_error_shape" | "err.finish_reason_error" => streamed,
        "req.max_completion_tokens" => read && req.max_tokens.is_some(),
        "req.developer_role" => read && req.has_developer,
        "req.message_name_field" => read && req.has_name_field,
        "req.content_parts_everywhere" => read && !req.part_roles.is_empty(),
        "req.unknown_param_policy" => read && !req.unknown_params.is_empty(),
        "req.image_parts" => read && !req.image_parts.is_empty(),
        "req.temperature_and_sampling" => {
            read && req
                .json
                .is_some_and(|j| j.get("temperature").is_some() || j.get("top_p").is_some())
        }
        "tools.foreign_tool_call_ids" => read && !req.foreign_tool_ids.is_empty(),
        "ext.reasoning_round_trip" => read && req.reasoning_in_history,
        "ext.opaque_passthrough_fields" => read && !req.opaque_fields.is_empty(),
        "tools.legacy_functions" => read && req.legacy_functions,
        "req.n_parameter" => read && req.n.is_some_and(|n| n > 1),
        "req.stop_sequences" => read && !req.stop.is_empty(),
        "req.logprobs_params" => read && (req.logprobs || req.top_logprobs.is_some()),
        "err.context_length_message" => {
            !ok && matches!(
                expect.error,
                Some((crate::suite::ErrorKind::ContextLength, _))
            )
        }
        "models.list_shape" => kind.endpoint == Endpoint::ListModels && ok,
        // What the target's profile documents, where it documents it.
        "profile.response_field" => {
            answer && kind.profile.is_some_and(|p| !p.response_fields.is_empty())
        }
        "profile.response_id" => answer && kind.profile.is_some_and(|p| p.response_ids.is_some()),
        "profile.model_id" => {
            kind.endpoint == Endpoint::ListModels
                && ok
                && kind.profile.is_some_and(|p| p.models.pattern.is_some())
        }
        "profile.error_body" => !ok && kind.profile.is_some_and(|p| p.errors.body_schema.is_some()),
        "profile.error_code" => kind.profile.is_some_and(|p| {
            expect
                .error
                .as_ref()
                .is_some_and(|(k, _)| p.documented_error(*k).is_some())
        }),
        "profile.parameter_accepted" => {
            read && kind.endpoint == Endpoint::ChatCompletions
                && expect.error.is_none()
                && expect.status.as_ref().is_none_or(|(s, _)| s.accepts(200))
                && kind.profile.is_some_and(|p| {
                    req.json
                        .and_then(Value::as_object)
                        .is_some_and(|body| !p.parameters.promised(body).is_empty())
                })
        }
        "profile.endpoint" => {
            let path = case
                .request
                .path
                .split('?')
                .next()
                .unwrap_or("")
                .trim_end_matches('/');
            kind.endpoint == Endpoint::Other
                && kind.profile.is_some_and(|p| {
                    p.endpoints.iter().any(|e| {
                        e.method.eq_ignore_ascii_case(case.request.method.as_str())
                            && e.path == path
                    })
                })
        }
        "models.retrieve" => kind.endpoint == Endpoint::RetrieveModel,
        "assert.status" => true,
        "assert.schema" => expect.schema.is_some(),
        "assert.pointer" => !expect.asserts.is_empty(),
        "assert.content_is_json" => expect.content_is_json.is_some(),
        "assert.tool_args_valid" => expect.tool_args_valid.is_some(),
        "assert.timing" => {
            kind.streamed && (expect.max_ttft_ms.is_some() || expect.max_gap_ms.is_some())
        }
        _ => match id.split_once('.').map_or(id, |(area, _)| area) {
            "sse" | "chunk" => streamed,
            "tools" => answer && (offers_tools || carries.tool_calls),
            "json" => answer && json_mode,
            "resp" => nonstream,
            "usage" | "ext" => answer,
            "err" => !ok,
            "models" => models && ok,
            "req" => read,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const PLAIN: &str = "{model: m, messages: [{role: user, content: hi}]}";

    fn kind(case: &PlannedCase, status: u16, streamed: bool) -> Kind {
        Kind {
            endpoint: endpoint(case),
            status,
            streamed,
            compared: false,
            profile: None,
            // A text answer with every optional part but a tool call.
            carries: Carries {
                tool_calls: false,
                ..Carries::ANY
            },
        }
    }

    fn areas(ids: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = ids
            .iter()
            .map(|id| id.split_once('.').unwrap().0.to_owned())
            .collect();
        out.dedup();
        out
    }

    #[test]
    fn a_plain_completion_is_looked_at_by_the_answer_areas() {
        let c = chat_case(PLAIN, "");
        let ids = checked(&c, kind(&c, 200, false));
        assert_eq!(
            areas(&ids),
            ["sse", "usage", "json", "ext", "resp", "err", "assert"]
        );
        assert!(ids.contains(&"resp.schema") && ids.contains(&"err.no_error_with_2xx_nonstream"));
        assert!(!ids.contains(&"sse.done_sentinel"), "no stream: {ids:?}");
        assert!(
            !ids.contains(&"json.object_mode_valid"),
            "no response_format"
        );
        assert!(
            !ids.iter().any(|id| id.starts_with("tools.")),
            "no tools offered"
        );
        assert!(
            !ids.iter().any(|id| id.starts_with("req.")),
            "no special parameter"
        );
        assert!(!ids.contains(&"assert.pointer"), "no assertion");
    }

    #[test]
    fn a_stream_adds_framing_and_chunks_and_drops_the_nonstream_envelope() {
        let c = chat_case(
            "{model: m, stream: true, max_tokens: 5, tools: [{type: function, function: {name: f, parameters: {type: object}}}], messages: [{role: user, content: hi}]}",
            "",
        );
        let calls = Kind {
            carries: Carries::ANY,
            ..kind(&c, 200, true)
        };
        let ids = checked(&c, calls);
        for id in [
            "sse.done_sentinel",
            "chunk.first_delta_has_role",
            "usage.include_usage_trailer",
            "tools.delta_index_present",
            "tools.id_type_name_present",
            "err.in_band_stream_error_shape",
            "req.max_completion_tokens",
        ] {
            assert!(ids.contains(&id), "{id} in {ids:?}");
        }
        for id in [
            "resp.envelope",
            "resp.schema",
            "err.no_error_with_2xx_nonstream",
            "chunk.stream_matches_nonstream",
        ] {
            assert!(!ids.contains(&id), "{id} in {ids:?}");
        }
        let compared = Kind {
            compared: true,
            ..kind(&c, 200, true)
        };
        assert!(checked(&c, compared).contains(&"chunk.stream_matches_nonstream"));
        // The same request answered with JSON: only whether the stream was honoured.
        let ids = checked(&c, kind(&c, 200, false));
        assert_eq!(
            ids,
            [
                "sse.content_type",
                "sse.stream_flag_honored",
                "req.max_completion_tokens",
                "assert.status"
            ]
        );
    }

    #[test]
    fn errors_are_looked_at_by_err_and_the_case_mistake_by_status_mapping() {
        let c = chat_case(PLAIN, "    expect: {status: 404, error: unknown_model}\n");
        let ids = checked(&c, kind(&c, 404, false));
        assert_eq!(
            ids,
            [
                "err.envelope",
                "err.schema",
                "err.code_and_type_types",
                "err.status_mapping",
                "assert.status"
            ]
        );
        let ids = checked(&c, kind(&c, 200, false));
        assert!(
            ids.contains(&"err.status_mapping") && ids.contains(&"resp.schema"),
            "{ids:?}"
        );
        let plain = chat_case(PLAIN, "");
        let ids = checked(&plain, kind(&plain, 429, false));
        assert_eq!(
            ids,
            [
                "err.envelope",
                "err.schema",
                "err.code_and_type_types",
                "err.retry_headers",
                "assert.status"
            ]
        );
    }

    #[test]
    fn models_endpoints_get_models_checks() {
        let list = case("cases:\n  - name: l\n    request: {path: /models}\n");
        assert_eq!(
            checked(&list, kind(&list, 200, false)),
            ["models.list_shape", "models.schema", "assert.status"]
        );
        let one = case("cases:\n  - name: r\n    request: {path: /models/m}\n");
        assert_eq!(
            checked(&one, kind(&one, 404, false)),
            [
                "err.envelope",
                "err.schema",
                "err.code_and_type_types",
                "models.retrieve",
                "assert.status"
            ]
        );
    }

    #[test]
    fn the_case_selection_narrows_checks_but_not_assertions() {
        let c = chat_case(
            PLAIN,
            "    checks: ['usage.*', resp.envelope]\n    expect:\n      assert: [{pointer: /id, exists: true}]\n",
        );
        assert_eq!(
            checked(&c, kind(&c, 200, false)),
            [
                "usage.arithmetic",
                "usage.details_shape",
                "resp.envelope",
                "assert.status",
                "assert.pointer"
            ]
        );
    }

    #[test]
    fn a_skipped_case_counts_what_its_expected_answer_would_exercise() {
        let c = chat_case(
            "{model: m, stream: true, messages: [{role: user, content: hi}]}",
            "",
        );
        let ids = expected(&c);
        assert!(ids.contains(&"sse.done_sentinel"), "{ids:?}");
        let e = chat_case(PLAIN, "    expect: {status: 4xx}\n");
        let ids = expected(&e);
        assert!(
            ids.contains(&"err.envelope") && !ids.contains(&"resp.schema"),
            "{ids:?}"
        );
    }

    /// Issue 4, item 6: side by side, LiteLLM's mock (which never calls a tool) showed `pass`
    /// for every tool-call rule, and both llmock and LiteLLM (neither returns logprobs) for
    /// `ext.logprobs_shape`. Such a rule looks only at an answer that has what it judges.
    #[test]
    fn rules_about_one_part_of_the_answer_count_only_where_it_is() {
        let c = chat_case(
            "{model: m, stream: true, parallel_tool_calls: false, tools: [{type: function, function: {name: f, parameters: {type: object}}}], messages: [{role: user, content: hi}]}",
            "",
        );
        let text = Body::Json(serde_json::json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi", "refusal": null},
                         "finish_reason": "stop", "logprobs": null}]
        }));
        let carries = Carries::of(&text, true);
        assert_eq!(
            carries,
            Carries {
                tool_calls: false,
                logprobs: false,
                images: false,
                refusal: false,
                usage: false
            },
            "a stream's reassembled `refusal: null` is no refusal"
        );
        let without = checked(
            &c,
            Kind {
                carries,
                ..kind(&c, 200, true)
            },
        );
        let call_rules = [
            "tools.delta_index_present",
            "tools.identity_on_first_delta_only",
            "tools.id_stable",
            "tools.arguments_streaming_granularity",
            "tools.id_type_name_present",
            "tools.arguments_is_string",
            "tools.arguments_valid_json",
            "tools.content_alongside_tool_calls",
            "tools.parallel_calls",
            "tools.parallel_tool_calls_param",
        ];
        for id in call_rules.iter().chain(&[
            "json.refusal_field",
            "ext.logprobs_shape",
            "usage.arithmetic",
        ]) {
            assert!(!without.contains(id), "{id} in {without:?}");
        }
        // Offered tools are still judged for whether one had to be called, and how it ended.
        assert!(
            without.contains(&"tools.finish_reason_tool_calls"),
            "{without:?}"
        );

        let call = Body::Json(serde_json::json!({
            "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": {"content": []},
                         "message": {"role": "assistant", "content": null,
                                     "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        }));
        let with = checked(
            &c,
            Kind {
                carries: Carries::of(&call, true),
                ..kind(&c, 200, true)
            },
        );
        for id in call_rules
            .iter()
            .chain(&["ext.logprobs_shape", "usage.arithmetic"])
        {
            assert!(with.contains(id), "{id} not in {with:?}");
        }

        // A tool call nobody asked for is judged too; a non-stream `refusal: null` is a refusal
        // member to judge.
        let plain = chat_case(PLAIN, "");
        let mut carries = Carries::of(&call, false);
        carries.refusal = Carries::of(
            &Body::Json(serde_json::json!({"choices": [{"message": {"refusal": null}}]})),
            false,
        )
        .refusal;
        let ids = checked(
            &plain,
            Kind {
                carries,
                ..kind(&plain, 200, false)
            },
        );
        for id in [
            "tools.id_type_name_present",
            "tools.finish_reason_tool_calls",
            "json.refusal_field",
        ] {
            assert!(ids.contains(&id), "{id} not in {ids:?}");
        }
        // A body that is not JSON is scanned for the non-JSON numbers logprobs bring.
        let garbled = Carries::of(&Body::NotJson("expected value".into()), false);
        assert!(garbled.logprobs && !garbled.tool_calls);
    }

    /// A skipped case that provokes a 429 on purpose would have exercised `err.retry_headers`:
    /// its expected status is OpenAI's for the mistake (or the profile's), not a blanket 400.
    #[test]
    fn a_skipped_case_expects_the_status_openai_answers_and_what_its_request_brings() {
        let c = chat_case(PLAIN, "    expect: {error: rate_limited}\n");
        let ids = expected(&c);
        assert!(ids.contains(&"err.retry_headers"), "{ids:?}");
        let c = chat_case(PLAIN, "    expect: {error: unknown_model}\n");
        let ids = expected(&c);
        assert!(
            !ids.contains(&"err.retry_headers") && ids.contains(&"err.envelope"),
            "{ids:?}"
        );
        // A skipped text completion would not have exercised the tool-call rules.
        let ids = expected(&chat_case(
            "{model: m, stream: true, messages: [{role: user, content: hi}]}",
            "",
        ));
        assert!(
            !ids.contains(&"tools.delta_index_present") && !ids.contains(&"ext.logprobs_shape"),
            "{ids:?}"
        );
        assert!(ids.contains(&"json.refusal_field"), "{ids:?}");
    }
}
