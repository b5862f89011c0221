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
//! `tools.*` count only for requests that offer tools (a tool call nobody asked for is still
//! judged, and shows as a finding), `json.*` only for a `response_format` (except
//! `json.refusal_field`, which reads every message), each `req.*` only for a request that uses
//! its parameter, `chunk.stream_matches_nonstream` only with a companion, `err.status_mapping`
//! only for a case that makes a mistake on purpose, `err.retry_headers` only on 429 and 503, and
//! the stream-only and non-stream-only rules only where they run (`resp.*` reads non-stream
//! bodies; chunks have their own rules). A check listed here
//! may still have found nothing to look at inside the body (no `logprobs`, no usage); a check
//! that fires is always listed (`tests/fixtures.rs` holds the two together over every recorded
//! exchange, `tests/reference.rs` over every shipped case and dialect). A case's `checks:` selection narrows the list as it narrows findings.

use super::{Endpoint, RequestView, endpoint};
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
/// expects (the expected status, or 2xx; a stream when one is asked for and 2xx is expected):
/// what a skipped case leaves unexercised.
pub fn expected(case: &PlannedCase) -> Vec<&'static str> {
    let status = match &case.case.expect.status {
        Some((want, _)) => (100..600).find(|s| want.accepts(*s)).unwrap_or(200),
        None if case.case.expect.error.is_some() => 400,
        None => 200,
    };
    let streamed = case.request.stream() && (200..300).contains(&status);
    let kind = Kind {
        endpoint: endpoint(case),
        status,
        streamed,
        compared: streamed && case.companion.is_some(),
        profile: crate::profile::get(&case.target.profile),
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
    match id {
        "sse.content_type" | "sse.stream_flag_honored" => chat && ok,
        "chunk.stream_matches_nonstream" => streamed && kind.compared,
        "usage.stream_options_acceptance" => {
            read && req.json.is_some_and(|j| j.get("stream_options").is_some())
        }
        "usage.include_usage_trailer" => streamed,
        "tools.delta_index_present"
        | "tools.identity_on_first_delta_only"
        | "tools.id_stable"
        | "tools.arguments_streaming_granularity" => streamed && offers_tools,
        "tools.content_alongside_tool_calls" => {
            (answer && offers_tools) || (read && req.null_content_with_tool_calls)
        }
        "tools.tool_choice_modes" => {
            answer && !matches!(req.tool_choice, super::request::ToolChoice::Absent)
        }
        "tools.parallel_tool_calls_param" => answer && req.parallel_tool_calls.is_some(),
        "json.refusal_field" => answer,
        "err.status_mapping" => expect.error.is_some(),
        "err.retry_headers" => matches!(kind.status, 429 | 503),
        "err.no_error_with_2xx_nonstream" => nonstream,
        "err.in_band_stream_error_shape" | "err.finish_reason_error" => streamed,
        "req.max_completion_tokens" => read && req.max_tokens.is_some(),
        "req.developer_role" => read && req.has_developer,
        "req.message_name_field" => read && req.has_name_field,
        "req.content_parts_everywhere" => read && !req.part_roles.is_empty(),
        "req.unknown_param_policy" => read && !req.unknown_params.is_empty(),
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
            "tools" => answer && offers_tools,
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
        let ids = checked(&c, kind(&c, 200, true));
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
}
