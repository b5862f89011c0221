//! The checks gatecheck runs, as data: catalog id (from `compat-checks.md`), summary, the worst
//! severity the check reports, what it breaks, and where the rule comes from. `gatecheck explain`
//! prints these; every finding names one of them.

use std::fmt;

use serde::Serialize;

/// How bad a finding is. Ordered from mildest to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing: vendor extras, streaming granularity.
    Info,
    /// A deviation the target's profile documents: reported, not failed.
    Variant,
    /// Spec-valid, or outside the spec's letter, but breaks common clients.
    Warning,
    /// Breaks the OpenAI contract. Fails the case.
    Violation,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Variant => "variant",
            Severity::Warning => "warning",
            Severity::Violation => "violation",
        }
    }

    /// The severity a word names (`violation`, `warning`, `variant`, `info`).
    pub fn parse(word: &str) -> Option<Severity> {
        [
            Severity::Info,
            Severity::Variant,
            Severity::Warning,
            Severity::Violation,
        ]
        .into_iter()
        .find(|v| v.as_str() == word)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct CheckInfo {
    /// The id from `compat-checks.md` (or, for schema and suite checks, gatecheck's own).
    pub id: &'static str,
    /// One line: what the rule demands.
    pub summary: &'static str,
    /// The worst severity this check reports (single findings may be milder).
    pub severity: Severity,
    /// What a deviation does to real clients (section 0 of the catalog).
    pub breaks: &'static str,
    /// Where the rule comes from: spec path, provider documentation, issues.
    pub provenance: &'static str,
}

macro_rules! check {
    ($id:literal, $sev:ident, $summary:literal, breaks: $breaks:literal, provenance: $prov:literal $(,)?) => {
        CheckInfo {
            id: $id,
            summary: $summary,
            severity: Severity::$sev,
            breaks: $breaks,
            provenance: $prov,
        }
    };
}

/// Every check gatecheck implements, in catalog order.
pub static CHECKS: &[CheckInfo] = &[
    // 1. SSE framing, as far as it concerns non-stream requests.
    check!("sse.content_type", Violation,
        "a non-stream request is answered with `Content-Type: application/json`, a stream with `text/event-stream`",
        breaks: "openai-python returns the raw body as a `str` when the type is not JSON ('str' object has no attribute 'choices'); openai-node's JSON.parse path is skipped and a string is returned",
        provenance: "compat-checks.md #1; OpenAPI /chat/completions responses 200 (application/json | text/event-stream); decolua/9router#3492, microsoft/foundry-dev-tools#195, NEKOparapa/AiNiee#151"),
    check!("sse.stream_flag_honored", Violation,
        "`stream: false` (or absent) yields one JSON object, not an SSE stream",
        breaks: "openai-python and openai-node cannot parse `data:` lines as JSON and raise, or return a string",
        provenance: "compat-checks.md #2; diegosouzapw/OmniRoute#10239, tinyhumansai/tinyagents#56"),
    check!("sse.data_field_space", Warning,
        "`data:` is followed by one space (`data: {...}`); without it the stream is valid but risky",
        breaks: "hand-rolled `startswith(\"data: \")` parsers silently drop every chunk (old openai-python < 1.3 too)",
        provenance: "compat-checks.md #3; openai/openai-python#498 (fixed by #559), tashfeenahmed/freellmapi#1087"),
    check!("sse.line_endings", Warning,
        "events end in LF; CRLF and CR are valid SSE but break naive clients",
        breaks: "clients splitting on \"\\n\\n\" (BetterChatGPT, cc-switch); both official SDKs accept all three",
        provenance: "compat-checks.md #4; WHATWG HTML 9.2.6; abetlen/llama-cpp-python#1188, farion1231/cc-switch#1787"),
    check!("sse.event_terminated", Violation,
        "every event, the last one and `data: [DONE]` included, ends with a blank line",
        breaks: "openai-python and openai-node dispatch only on a blank line: an unterminated last event is silently dropped (often the finish_reason or usage chunk)",
        provenance: "compat-checks.md #5; openai/openai-node#2725 and PR #2726, darshi1337/apogee#139"),
    check!("sse.done_sentinel", Warning,
        "exactly one `data: [DONE]`, as the last event",
        breaks: "clients that wait for [DONE] report 'stream ended unexpectedly'; anything after it is never read by the SDKs",
        provenance: "compat-checks.md #6; OpenAPI CreateChatCompletionRequest.stream (\"terminated by a data: [DONE] message\"); Portkey-AI/gateway#55, BerriAI/litellm#39748"),
    check!("sse.comments_ignored", Info,
        "`:` comment lines (keep-alives) may appear anywhere; counted and timed",
        breaks: "clients that JSON.parse every line crash on them; the SDKs ignore them",
        provenance: "compat-checks.md #7; OpenRouter streaming docs, DeepSeek rate-limit docs, ggml-org/llama.cpp#24013, betalgo/openai#472"),
    check!("sse.no_data_keepalive", Violation,
        "keep-alives are comments, never data events (`data: `, `data: ping`) or named events without JSON data",
        breaks: "openai-python raises json.JSONDecodeError and openai-node JSON.parse's SyntaxError (an OpenAIError from the .stream() helper; it logs 'Could not parse message into JSON') on the keep-alive",
        provenance: "compat-checks.md #8; caozhiyuan/copilot-api#88, lanqian528/chat2api#25, abetlen/llama-cpp-python#85"),
    check!("sse.no_named_events", Violation,
        "chat completion chunks carry no `event:` field (only `event: error` is meaningful)",
        breaks: "current openai-python and openai-node (6.x) read a named event's data as a chunk unless the name starts with `thread.`, which they yield as `{event, data}`; older openai-node yielded that for any name: consumers see an object without `choices`",
        provenance: "compat-checks.md #9; anomalyco/opencode#38106, openai-node src/core/streaming.ts"),
    check!("sse.no_custom_fields", Violation,
        "only `data`, `event`, `id`, `retry` and comments; an error is never an `error:` field",
        breaks: "the SDKs drop unknown fields: an `error:` field's message is silently lost (openai-go dies with 'unexpected end of JSON input')",
        provenance: "compat-checks.md #10; ggml-org/llama.cpp#16104 and PR #16109, coddy-project/coddy-agent#106"),
    check!("sse.one_json_per_event", Violation,
        "each event's data is exactly one JSON value: not two glued together, not truncated",
        breaks: "openai-python raises json.JSONDecodeError ('Extra data'), openai-node a SyntaxError (an OpenAIError from the .stream() helper), and the stream ends there",
        provenance: "compat-checks.md #11; bentoml/OpenLLM#864, ggml-org/llama.cpp#14268, openai/openai-python#1230"),
    check!("sse.unicode_line_separators", Info,
        "raw U+2028, U+2029 or U+0085 inside the JSON are valid, but split by `str.splitlines()` readers",
        breaks: "httpx-sse <= 0.4.1 and other splitlines-based readers; current SDKs split on bytes and are safe",
        provenance: "compat-checks.md #12; openai-python tests/test_streaming.py::test_special_new_line_character, kagent-dev/kagent#1480"),
    check!("sse.byte_fragmentation", Violation,
        "every event's payload is valid UTF-8 (the harness reassembles events split anywhere, even inside a character)",
        breaks: "openai-python's SSE decoder raises UnicodeDecodeError; openai-node replaces the bytes with U+FFFD (mojibake in content); other decoders fail with 'Unexpected end of JSON input'",
        provenance: "compat-checks.md #13; openai-python tests/test_streaming.py::test_multi_byte_character_multiple_chunks, maxsagt/lambda-openai-stream#1"),
    check!("sse.incremental_delivery", Info,
        "a long answer arrives in several chunks spread over time, not all at once (fake or buffered streaming)",
        breaks: "time to first token and streaming UIs; clients that expect tool-call arguments to stream",
        provenance: "compat-checks.md #14; ollama/ollama#9092, jakobdylanc/llmcord#84, BerriAI/litellm#5803"),
    check!("sse.pre_stream_errors_use_http_status", Warning,
        "an error known before the first token is a 4xx/5xx JSON answer, not `200 text/event-stream` with an error event",
        breaks: "retry and error classification keyed on the HTTP status (LiteLLM turns it into a MidStreamFallbackError)",
        provenance: "compat-checks.md #15; ggml-org/llama.cpp#14566, BerriAI/litellm#25492"),
    // 2. Stream chunk semantics.
    check!("chunk.schema", Violation,
        "each chunk validates against OpenAPI CreateChatCompletionStreamResponse",
        breaks: "strongly typed clients; each finding names the event and the instance path",
        provenance: "OpenAPI #/components/schemas/CreateChatCompletionStreamResponse (openai/openai-openapi f85dbe2)"),
    check!("chunk.envelope", Warning,
        "every chunk has the same non-empty `id`, `object: \"chat.completion.chunk\"`, the same integer `created`, and `model`",
        breaks: "strongly typed decoders; clients keying on `id` (the SDKs do not validate)",
        provenance: "compat-checks.md #16; OpenAPI CreateChatCompletionStreamResponse.id (\"Each chunk has the same ID\"); BerriAI/litellm#12481, THU-MAIC/OpenMAIC#1556"),
    check!("chunk.choices_is_array", Violation,
        "`choices` is always present and an array, never null",
        breaks: "openai-python's stream helper iterates `chunk.choices` (TypeError); user code `chunk.choices[0]` fails",
        provenance: "compat-checks.md #17; cline/cline#1786, Portkey-AI/gateway#1629"),
    check!("chunk.empty_choices_only_when_allowed", Warning,
        "`choices: []` only in the include_usage trailer (or Azure's prompt_filter_results chunk)",
        breaks: "`chunk.choices[0]` raises IndexError, the most reported streaming crash",
        provenance: "compat-checks.md #18; Azure/azure-sdk-for-go#21086, pixeltable/pixeltable#1234"),
    check!("chunk.first_delta_has_role", Violation,
        "the first delta of each choice carries `role: \"assistant\"`, before or with the first content",
        breaks: "openai-node's ChatCompletionStream throws `missing role for choice N` when it never comes; LangChain drops content before the role",
        provenance: "compat-checks.md #19; agentgateway/agentgateway#3005, langchain-ai/langchainjs#11157"),
    check!("chunk.role_only_once", Violation,
        "`role` appears only in the first delta of each choice",
        breaks: "openai-python's stream helper concatenates every string delta: role becomes \"assistantassistant...\"",
        provenance: "compat-checks.md #20; BerriAI/litellm#9986, pydantic/logfire#545"),
    check!("chunk.delta_present", Violation,
        "every choice in a chunk has a `delta` object (may be `{}`) and an `index`",
        breaks: "openai-python's stream helper calls `choice.delta.to_dict()`; clients index choices by `index`",
        provenance: "compat-checks.md #21; microsoft/autogen#6465, envoyproxy/ai-gateway#2107"),
    check!("chunk.delta_is_incremental", Warning,
        "content (and tool arguments) deltas are increments, not the text so far",
        breaks: "every client concatenates deltas: cumulative ones repeat the text",
        provenance: "compat-checks.md #22; perplexityai/api-discussion#209"),
    check!("chunk.content_null_ok", Warning,
        "`delta.content` may be null or absent, but never the string \"null\"",
        breaks: "clients print \"null\" in the answer",
        provenance: "compat-checks.md #23; darshi1337/apogee#139, openai/openai-node#1206"),
    check!("chunk.finish_reason_once_at_end", Violation,
        "per choice, `finish_reason` is null on every chunk but exactly one, at the end",
        breaks: "openai-node's finalChatCompletion() throws `missing finish_reason for choice N`; agents stop at the first non-null value",
        provenance: "compat-checks.md #24; openai/openai-node#1292, su-kaka/gcli2api#403, dstackai/dstack#2229"),
    check!("chunk.finish_reason_enum", Violation,
        "a streamed finish_reason is one of stop, length, tool_calls, content_filter, function_call",
        breaks: "typed SDKs throw on unknown values (openai-dotnet ArgumentOutOfRangeException)",
        provenance: "compat-checks.md #25; openai/openai-dotnet#267, huggingface/text-generation-inference#2344"),
    check!("chunk.usage_field_discipline", Warning,
        "without include_usage chunks carry no usage; with it, every chunk but the trailer has `usage: null`",
        breaks: "consumers that treat a present usage as the end of the stream stop early",
        provenance: "compat-checks.md #26; OpenAPI ChatCompletionStreamOptions.include_usage; vllm-project/vllm#7262, AtomaAI/atoma-proxy#534"),
    check!("chunk.n_choices", Warning,
        "with `n > 1` every index 0..n-1 appears, each with its own role, content and finish_reason",
        breaks: "clients that sample several candidates",
        provenance: "compat-checks.md #27; ollama/ollama#4448 (a real OpenAI transcript), theopenco/llmgateway#3155"),
    check!("chunk.unknown_fields_tolerated", Info,
        "vendor fields in chunks are tolerated and reported",
        breaks: "nothing (OpenAI adds fields itself, e.g. `obfuscation`); typed clients with strict decoding",
        provenance: "compat-checks.md #28; vllm-project/vllm#7299, sgl-project/sglang#2877"),
    check!("chunk.stream_matches_nonstream", Warning,
        "the reassembled stream agrees with the same request without streaming: finish_reason, role, tool calls (and text at temperature 0 with a seed)",
        breaks: "agent loops that branch on finish_reason or tool calls behave differently when streaming",
        provenance: "compat-checks.md #29; googleapis/python-genai#2868, vllm-project/vllm#25054"),
    // 3. Usage accounting.
    check!("usage.include_usage_trailer", Warning,
        "with `stream_options.include_usage`, exactly one chunk with `choices: []` and the usage comes right before [DONE]",
        breaks: "cost tracking (LangChain and Dify always ask for it); clients that stop at finish_reason miss usage put elsewhere",
        provenance: "compat-checks.md #30; OpenAPI ChatCompletionStreamOptions.include_usage; ollama/ollama#5200, maximhq/bifrost#191"),
    check!("usage.stream_options_acceptance", Warning,
        "`stream_options` is accepted with `stream: true` (and rejected with 400 without it, as OpenAI does)",
        breaks: "clients that always send stream_options (LangChain, Dify)",
        provenance: "compat-checks.md #31; BerriAI/litellm#5803, feiskyer/chatgpt-copilot#173"),
    check!("usage.arithmetic", Warning,
        "usage counts are integers >= 0, total = prompt + completion, reasoning <= completion, cached <= prompt",
        breaks: "cost tracking and budgets computed by clients and gateways",
        provenance: "compat-checks.md #32; OpenAPI #/components/schemas/CompletionUsage; router-for-me/CLIProxyAPI#5733, Clarifai/clarifai-python#978"),
    check!("usage.details_shape", Warning,
        "`prompt_tokens_details` and `completion_tokens_details` are objects (or null) with integer members",
        breaks: "strongly typed clients decoding CompletionUsage",
        provenance: "compat-checks.md #33; OpenAPI #/components/schemas/CompletionUsage; OpenRouter usage-accounting docs"),
    // 4. Tool calling (non-stream).
    check!("tools.delta_index_present", Violation,
        "every streamed `delta.tool_calls[]` entry has an integer `index`",
        breaks: "openai-python's stream helper raises TypeError ('list indices must be integers or slices, not NoneType'), or RuntimeError 'Expected list delta entry to have an `index` key' once calls were accumulated; openai-node loses the call",
        provenance: "compat-checks.md #34; openai/openai-python#2806, THU-MAIC/OpenMAIC#1556, SamSaffron/term-llm#314"),
    check!("tools.identity_on_first_delta_only", Violation,
        "`id`, `type` and `function.name` appear on the first delta of each tool call only",
        breaks: "openai-python's stream helper concatenates them: \"call_1call_1\", \"get_weatherget_weather\"",
        provenance: "compat-checks.md #35; vllm-project/vllm#14951, SillyTavern/SillyTavern#5948"),
    check!("tools.id_stable", Warning,
        "a repeated tool-call id is the same across the deltas of its index",
        breaks: "clients that match arguments to calls by id",
        provenance: "compat-checks.md #36; poolsideai/pool#9"),
    check!("tools.arguments_streaming_granularity", Info,
        "whether tool-call arguments stream in pieces or arrive in one chunk",
        breaks: "UIs that show arguments as they stream (Open WebUI, Zed)",
        provenance: "compat-checks.md #40; ollama/ollama#11633, youssofal/MTPLX#9"),
    check!("tools.id_type_name_present", Violation,
        "each tool call has a non-empty `id`, `type: \"function\"`, a non-empty `function.name` and a `function.arguments` string",
        breaks: "openai-node finalizeChatCompletion throws `missing choices[0].tool_calls[0].id` / `.type`; agents cannot answer the call without its id",
        provenance: "compat-checks.md #37; OpenAPI #/components/schemas/ChatCompletionMessageToolCall; vllm-project/vllm#13078, vllm-project/vllm#31438"),
    check!("tools.arguments_is_string", Violation,
        "`function.arguments` is a JSON-encoded string, never an object",
        breaks: "typed as string in both SDKs; openai-node concatenates with `+=`, clients silently see empty arguments",
        provenance: "compat-checks.md #38; OpenAPI #/components/schemas/ChatCompletionMessageToolCall (function.arguments: string); ggml-org/llama.cpp#20198, mrdushidush/claudette#238"),
    check!("tools.arguments_valid_json", Violation,
        "`function.arguments` parses as a JSON object that validates against the tool's declared parameters",
        breaks: "every agent loop json-parses the arguments; strict tools promise schema adherence",
        provenance: "compat-checks.md #39; OpenAPI ChatCompletionMessageToolCall.function.arguments; vllm-project/vllm#13078, jundot/omlx#3153"),
    check!("tools.finish_reason_tool_calls", Warning,
        "a turn that ends in tool calls has `finish_reason: \"tool_calls\"` (OpenAI answers `stop` for a named tool_choice)",
        breaks: "agents decide whether to execute tools on finish_reason",
        provenance: "compat-checks.md #41; ollama/ollama#5995, googleapis/python-genai#2868, vllm-project/vllm#25054 (table of OpenAI's values)"),
    check!("tools.content_alongside_tool_calls", Warning,
        "a message with tool calls has `content: null` (or \"\"); assistant history with `content: null` + tool_calls is accepted",
        breaks: "multi-turn tool loops: clients and servers that reject or duplicate the text",
        provenance: "compat-checks.md #42; mistralai/mistral-common#324, SAIL-Research-Lab/cheetahclaws#72, vercel/ai#14950"),
    check!("tools.foreign_tool_call_ids", Warning,
        "a history with tool-call ids in other formats (`toolu_...`, UUIDs, another vendor's) is accepted",
        breaks: "agents that switch providers mid-conversation, or replay ids a server generated itself",
        provenance: "compat-checks.md #46; anomalyco/opencode#1680, langchain-ai/langchain#24668, jundot/omlx#1997"),
    check!("tools.legacy_functions", Info,
        "the legacy `functions` / `function_call` fields are supported (a `function_call` or tool call comes back) or refused with a clean 4xx, not accepted and ignored",
        breaks: "old clients that still send `functions` (deprecated by OpenAI) and wait for a call",
        provenance: "compat-checks.md #47; runpod-workers/worker-vllm#85, vllm-project/vllm#1869"),
    check!("tools.parallel_calls", Violation,
        "several tool calls in one turn have distinct ids",
        breaks: "tool results are matched to calls by id; colliding ids merge or misroute results",
        provenance: "compat-checks.md #43; SamSaffron/term-llm#314, vllm-project/vllm#21042"),
    check!("tools.parallel_tool_calls_param", Warning,
        "`parallel_tool_calls: false` is accepted and yields at most one call",
        breaks: "clients that disable parallel calls because they execute tools one at a time",
        provenance: "compat-checks.md #44; open-multi-agent/open-multi-agent#173, browser-use/web-ui#587"),
    check!("tools.tool_choice_modes", Warning,
        "`tool_choice` none -> no call, required -> at least one call, named -> exactly that function",
        breaks: "agents that force a tool (extraction, routing) or forbid one",
        provenance: "compat-checks.md #45; OpenAPI #/components/schemas/ChatCompletionToolChoiceOption; vllm-project/vllm#9426, Blaizzy/mlx-vlm#1070"),
    // 5. JSON mode.
    check!("json.object_mode_valid", Violation,
        "with `response_format: json_object` the content is bare JSON (an object), no Markdown fence, no prose",
        breaks: "openai-python `.parse()` helpers and every client that json-parses the content",
        provenance: "compat-checks.md #48; OpenAPI #/components/schemas/ResponseFormatJsonObject; decolua/9router#288, mealie-recipes/mealie#8133"),
    check!("json.schema_enforced_or_rejected", Violation,
        "`response_format: json_schema` with `strict: true` is enforced (content validates) or rejected with a 4xx, never ignored",
        breaks: "openai-python `client.chat.completions.parse()` raises on non-conforming content",
        provenance: "compat-checks.md #49; OpenAPI #/components/schemas/ResponseFormatJsonSchema; llm-exe/llm-exe#662, mealie-recipes/mealie#8133"),
    check!("json.refusal_field", Warning,
        "`message.refusal` is null or a string",
        breaks: "typed clients; refusals mixed into content are shown as answers",
        provenance: "compat-checks.md #50; OpenAPI ChatCompletionResponseMessage.refusal"),
    // 6. Non-standard fields.
    check!("ext.reasoning_round_trip", Warning,
        "assistant history messages carrying `reasoning_content` / `reasoning` are accepted (or ignored); a provider that requires them says so with a clean 400",
        breaks: "multi-turn with thinking models: clients send the reasoning back (DeepSeek requires it with tools)",
        provenance: "compat-checks.md #52; Simpleyyt/ai-manus#22, musistudio/claude-code-router#1041, ollama/ollama#18534"),
    check!("ext.opaque_passthrough_fields", Warning,
        "a history carrying the opaque fields a provider needs back (OpenRouter's `reasoning_details`, Gemini's `extra_content.google.thought_signature` on tool calls) is accepted, to be passed on",
        breaks: "the next turn of a thinking model: rejected, or its reasoning lost (Gemini 3 expects the thought signature back)",
        provenance: "compat-checks.md #53; THU-MAIC/OpenMAIC#1556, braintrustdata/braintrust-sdk-javascript#1883, prism-php/prism#954"),
    check!("ext.reasoning_field", Info,
        "which reasoning channel a target uses (`reasoning_content`, `reasoning`, inline `<think>`), and that content is free of it",
        breaks: "reasoning UIs; inline <think> text is shown to users as the answer",
        provenance: "compat-checks.md #51; musistudio/claude-code-router#1205, vercel-labs/ai-python#162"),
    check!("ext.images_array", Info,
        "image output arrives as `message.images[] = {type: image_url, image_url: {url}}`",
        breaks: "nothing in the official SDKs (they ignore it); image clients need the shape",
        provenance: "compat-checks.md #54; OpenRouter image-generation docs; rout.my chat completions docs"),
    check!("ext.system_fingerprint_service_tier", Warning,
        "`system_fingerprint` and `service_tier` are strings or null when present",
        breaks: "strongly typed clients",
        provenance: "compat-checks.md #55; OpenAPI CreateChatCompletionResponse.system_fingerprint, .service_tier"),
    check!("ext.logprobs_shape", Violation,
        "chat logprobs are `{content: [{token, logprob, bytes, top_logprobs}], refusal}` (not the legacy completions shape), finite numbers",
        breaks: "openai-python/node models; -Infinity/NaN is not JSON and fails to parse",
        provenance: "compat-checks.md #56; OpenAPI #/components/schemas/ChatCompletionTokenLogprob; vllm-project/vllm#3179, dphnAI/sonar#183"),
    // 7. Non-stream response shape.
    check!("resp.envelope", Violation,
        "a completion is `{id, object: \"chat.completion\", created, model, choices: [{index, message: {role: \"assistant\", content}, finish_reason}]}`",
        breaks: "openai-python builds the object without validation, so a missing `choices`/`message` fails later with AttributeError/TypeError in user code; openai-node the same with `Cannot read properties of undefined`",
        provenance: "compat-checks.md #57; OpenAPI #/components/schemas/CreateChatCompletionResponse; acon96/home-llm#72"),
    check!("resp.schema", Violation,
        "the response body validates against OpenAPI CreateChatCompletionResponse",
        breaks: "strongly typed clients; each finding names the instance path",
        provenance: "OpenAPI #/components/schemas/CreateChatCompletionResponse (openai/openai-openapi f85dbe2)"),
    check!("resp.finish_reason", Violation,
        "`finish_reason` is one of stop, length, tool_calls, content_filter, function_call",
        breaks: "typed SDKs throw on unknown values (openai-dotnet ArgumentOutOfRangeException); agents branch on it",
        provenance: "compat-checks.md #25; OpenAPI CreateChatCompletionResponse.choices[].finish_reason; openai/openai-dotnet#267, aws-samples/bedrock-access-gateway#11"),
    check!("resp.leading_whitespace_tolerated", Info,
        "a non-stream body may be preceded by whitespace while queued, and is still one JSON document",
        breaks: "naive streaming readers that expect `{` first",
        provenance: "compat-checks.md #58; DeepSeek API docs (empty lines while queued)"),
    // 8. Errors.
    check!("err.envelope", Violation,
        "an error is `{\"error\": {\"message\": str, \"type\": str, \"param\": str|null, \"code\": str|null}}` with a JSON content type",
        breaks: "openai-node reads only `error` and loses the message (openai/openai-node#1734); openai-python falls back to the whole body; `KeyError: 'error'` in clients",
        provenance: "compat-checks.md #59; OpenAPI #/components/schemas/ErrorResponse; vllm-project/vllm#12886, ray-project/ray#64833"),
    check!("err.schema", Violation,
        "the error body validates against OpenAPI ErrorResponse",
        breaks: "strongly typed clients; each finding names the instance path",
        provenance: "OpenAPI #/components/schemas/ErrorResponse and #/components/schemas/Error"),
    check!("err.code_and_type_types", Warning,
        "`error.code` and `error.type` are descriptive strings (or null), not integers, HTTP statuses or class names",
        breaks: "strongly typed clients (openai-dotnet, Go, Rust decoders)",
        provenance: "compat-checks.md #60; OpenAPI #/components/schemas/Error; vllm-project/vllm#58025, openai/openai-dotnet#55"),
    check!("err.status_mapping", Violation,
        "a client mistake gets the status OpenAI uses (400 invalid, 401 key, 404 unknown model or route), never 2xx or 5xx",
        breaks: "openai-python/node pick the exception class and the retry decision from the status: 5xx for a client mistake is retried needlessly, 2xx hides the error",
        provenance: "compat-checks.md #61; ollama/ollama#6646 (OpenAI answers 404 for an unknown model), cline/cline#230, BerriAI/litellm#3142"),
    check!("err.no_error_with_2xx_nonstream", Violation,
        "a non-stream 2xx body never carries `error` instead of `choices`",
        breaks: "openai-python returns a ChatCompletion with `choices=None`; clients show 'Error: OK'",
        provenance: "compat-checks.md #62; runpod-workers/worker-vllm#57, SillyTavern/SillyTavern#5945"),
    check!("err.azure_content_filter", Info,
        "Azure OpenAI's content filter, reported as its dialect: 400 `content_filter` with `innererror`, or `prompt_filter_results` / `content_filter_results` on a completion",
        breaks: "clients that expect OpenAI's moderation shapes; the stream-side breakages are sse.* and chunk.* findings",
        provenance: "compat-checks.md #66; openai/openai-dotnet#55, stanford-crfm/helm#3327, Oaklight/argo-proxy#91"),
    check!("err.retry_headers", Warning,
        "429 and 503 carry `Retry-After` (seconds, <= 60 for the SDKs to honour it) or `retry-after-ms`",
        breaks: "openai-python/node back off blindly without it and ignore values above 60 s",
        provenance: "compat-checks.md #63; openai-python _base_client.py (_calculate_retry_timeout); OpenRouter errors docs"),
    check!("err.in_band_stream_error_shape", Violation,
        "an error after streaming started is `data: {\"error\": {\"message\": ...}}`, then the stream ends",
        breaks: "openai-python/node raise APIError only for a top-level `error` object: flat fields or an error string pass as a chunk without choices, and the truncated answer looks successful",
        provenance: "compat-checks.md #64; BerriAI/litellm#40578, NousResearch/hermes-agent#22501, BerriAI/litellm#32237"),
    check!("err.finish_reason_error", Warning,
        "OpenRouter's `finish_reason: \"error\"` (with a chunk-level error) is a mid-stream failure, not success",
        breaks: "clients treat it as a normal end; typed SDKs reject the enum value",
        provenance: "compat-checks.md #65; OpenRouter streaming docs (errors mid-generation as data events)"),
    check!("err.context_length_message", Violation,
        "a prompt over the context window gets 400 with code `context_length_exceeded` and a message naming the context length",
        breaks: "clients that detect the overflow by code or by matching the message (to trim history and retry) treat it as a generic failure",
        provenance: "compat-checks.md #67; harbor-framework/harbor#996, vllm-project/vllm#33418"),
    // 9. Request handling.
    check!("req.max_completion_tokens", Warning,
        "`max_tokens` and `max_completion_tokens` are accepted and honoured (or rejected as `unsupported_parameter`)",
        breaks: "clients that send either; budgets that rely on the cap",
        provenance: "compat-checks.md #68; OpenAPI CreateChatCompletionRequest.max_completion_tokens; openai/openai-python#2046, voideditor/void#128"),
    check!("req.developer_role", Warning,
        "`role: \"developer\"` is accepted (treated like system)",
        breaks: "clients that send developer messages for reasoning models (pi, Cherry Studio)",
        provenance: "compat-checks.md #69; OpenAPI #/components/schemas/ChatCompletionRequestDeveloperMessage; can1357/oh-my-pi#843, QuantumNous/new-api#5330"),
    check!("req.message_name_field", Warning,
        "`messages[].name` is accepted or ignored",
        breaks: "multi-participant chat clients",
        provenance: "compat-checks.md #70; OpenAPI ChatCompletionRequestUserMessage.name; Groq OpenAI-compat docs"),
    check!("req.content_parts_everywhere", Warning,
        "`content` as an array of parts is accepted for system, developer, user, assistant and tool messages",
        breaks: "Cline, marimo and MCP clients that always send arrays",
        provenance: "compat-checks.md #71; OpenAPI ChatCompletionRequest*Message.content (oneOf string | array); cline/cline#230, microsoft/foundry-dev-tools#264"),
    check!("req.image_parts", Warning,
        "`image_url` content parts, as data URLs and as http(s) URLs, are accepted by a vision model",
        breaks: "vision clients: standard data URIs refused (LM Studio), remote URLs refused (Ollama), a deserialization error for images (DeepSeek)",
        provenance: "compat-checks.md #72; lmstudio-ai/lmstudio-bug-tracker#1752, posit-dev/chatlas#20, BoltAI/BoltAI#256"),
    check!("req.temperature_and_sampling", Warning,
        "`temperature` within 0..2 and `top_p` within 0..1 are accepted (a server-side rewrite is the server's business)",
        breaks: "clients that send temperature 0 for determinism, refused by servers with a narrower range (Kimi)",
        provenance: "compat-checks.md #75; Groq docs (temperature 0 becomes 1e-8), moona3k/macparakeet#1087"),
    check!("req.unknown_param_policy", Info,
        "what the target does with an unknown top-level parameter (OpenAI rejects it with 400)",
        breaks: "clients whose SDK defaults send parameters the target does not know",
        provenance: "compat-checks.md #73; feiskyer/chatgpt-copilot#173, FlashML-org/FreeToken#224"),
    check!("req.n_parameter", Warning,
        "`n: 2` returns two choices with indices 0 and 1, or a clean 400",
        breaks: "clients that sample several candidates",
        provenance: "compat-checks.md #74; OpenAPI CreateChatCompletionRequest.n; theopenco/llmgateway#3155"),
    check!("req.stop_sequences", Warning,
        "`stop` (string or up to 4 strings) cuts the output before the stop string, with `finish_reason: stop`",
        breaks: "prompt formats and agents that rely on stop sequences",
        provenance: "compat-checks.md #76; OpenAPI #/components/schemas/StopConfiguration; vllm-project/vllm#2976"),
    check!("req.logprobs_params", Warning,
        "`logprobs: true` (with `top_logprobs`) is honoured, or rejected cleanly, never silently dropped",
        breaks: "evaluation and confidence-scoring clients",
        provenance: "compat-checks.md #77; OpenAPI CreateChatCompletionRequest.logprobs; FlashML-org/FreeToken#224, ggml-org/llama.cpp#11346"),
    // 10. /v1/models.
    check!("models.list_shape", Violation,
        "`GET /models` answers `200 application/json {\"object\": \"list\", \"data\": [{id, object: \"model\", created, owned_by}]}`",
        breaks: "strict decoders (openai-api-rs, SwiftOpenAI); a bare array breaks the SDKs' page objects",
        provenance: "compat-checks.md #78; OpenAPI #/components/schemas/ListModelsResponse; songquanpeng/one-api#128, mostlygeek/llama-swap#154"),
    check!("models.schema", Violation,
        "the models list (or model) validates against OpenAPI ListModelsResponse (or Model)",
        breaks: "strongly typed clients; each finding names the instance path",
        provenance: "OpenAPI #/components/schemas/ListModelsResponse and #/components/schemas/Model"),
    check!("models.retrieve", Violation,
        "`GET /models/{id}` returns that model object; an unknown id gets a 404 JSON error",
        breaks: "clients that validate a model id before use",
        provenance: "compat-checks.md #79; OpenAPI /models/{model}; abetlen/llama-cpp-python#38, qualcomm/GenieX#640"),
    // The target's profile: what its gateway documents (profiles/*.yaml, read from
    // gateway-docs/).
    check!("profile.response_field", Violation,
        "a response field the profile documents (`usage.cost`, `message.images`) is there when documented as always present, and has the documented shape",
        breaks: "clients written against the gateway's documentation (billing that reads `usage.cost`, image output read from `images`)",
        provenance: "the target profile's `response_fields`, from the gateway's documentation (profiles/*.yaml cite the sentence)"),
    check!("profile.response_id", Warning,
        "the completion id has the style the profile documents (`gen-...`)",
        breaks: "clients that look generations up by id (ML Router's `gen-` ids)",
        provenance: "the target profile's `response_ids`, from the gateway's documentation"),
    check!("profile.model_id", Warning,
        "`/models` lists ids in the style the profile documents (`provider/model`)",
        breaks: "configurations that name models the documented way",
        provenance: "the target profile's `models.pattern`, from the gateway's documentation"),
    check!("profile.error_body", Violation,
        "an error body has the shape the profile documents (meingpt: `{\"status\": \"error\", \"message\": ...}`)",
        breaks: "clients written against the gateway's documented error body",
        provenance: "the target profile's `errors.body_schema`, from the gateway's documentation"),
    check!("profile.error_code", Warning,
        "an error the profile documents (402 insufficient_funds, 429 rate_limit, 400 for tools on a model without them) comes with the documented status and code",
        breaks: "clients that branch on the documented status or code (top up, back off, drop the tools)",
        provenance: "the target profile's `errors.documented`, from the gateway's documentation"),
    check!("profile.parameter_accepted", Violation,
        "a request parameter the profile documents (honoured, accepted and ignored, an extra field, or any when it promises to accept every request) is not refused with 400 or 422",
        breaks: "clients written against the gateway's documentation, which send what it says it takes",
        provenance: "the target profile's `parameters`, from the gateway's documentation (apigo's logprobs, meingpt's \"Anfragen werden trotzdem akzeptiert\")"),
    check!("profile.endpoint", Violation,
        "an extra endpoint the profile documents (`GET /prices`) answers in the documented shape; one documented as a recommendation (`/responses`) is reported as info",
        breaks: "clients that use the documented endpoint",
        provenance: "the target profile's `endpoints`, from the gateway's documentation"),
];

/// Suite assertions: expectations a suite states, reported like checks.
pub static ASSERTIONS: &[CheckInfo] = &[
    check!("assert.status", Violation,
        "the response status is the one the suite expects",
        breaks: "whatever the suite author relies on",
        provenance: "the suite's `expect.status`"),
    check!("assert.schema", Violation,
        "the response body validates against the schema the suite names",
        breaks: "whatever the suite author relies on",
        provenance: "the suite's `expect.schema`"),
    check!("assert.pointer", Violation,
        "the value at a JSON pointer equals, matches, exists, has a type or is one of given values",
        breaks: "whatever the suite author relies on",
        provenance: "the suite's `expect.assert`"),
    check!("assert.content_is_json", Violation,
        "every choice's `message.content` parses as JSON (and validates against a json_schema response_format)",
        breaks: "whatever the suite author relies on",
        provenance: "the suite's `expect.content_is_json`"),
    check!("assert.timing", Violation,
        "the stream's time to first token and gaps between events stay within the suite's limits",
        breaks: "whatever the suite author relies on",
        provenance: "the suite's `expect.max_ttft_ms` and `expect.max_gap_ms`"),
    check!("assert.tool_args_valid", Violation,
        "every tool call's arguments parse and validate against the declared tool parameters",
        breaks: "whatever the suite author relies on",
        provenance: "the suite's `expect.tool_args_valid`"),
];

/// Looks up a check or assertion by id.
pub fn lookup(id: &str) -> Option<&'static CheckInfo> {
    CHECKS.iter().chain(ASSERTIONS).find(|c| c.id == id)
}

/// Every id, checks first.
pub fn ids() -> impl Iterator<Item = &'static str> {
    CHECKS.iter().chain(ASSERTIONS).map(|c| c.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for id in ids() {
            assert!(seen.insert(id), "duplicate id {id}");
            let (area, rule) = id.split_once('.').expect("area.rule");
            assert!(!area.is_empty() && !rule.is_empty(), "{id}");
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase()
                    || b == b'.'
                    || b == b'_'
                    || b.is_ascii_digit()),
                "{id}"
            );
        }
    }

    /// Every catalog id that does not end in `.schema` (gatecheck's own) or belong to
    /// `assert.`/`resp.finish_reason` must appear in the shared catalog verbatim.
    #[test]
    fn ids_come_from_the_shared_catalog() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/compat-checks.md");
        let Ok(catalog) = std::fs::read_to_string(path) else {
            panic!("{path} is missing: the shared folder must sit beside the repository");
        };
        let own = [
            "resp.schema",
            "err.schema",
            "models.schema",
            "chunk.schema",
            "resp.finish_reason",
        ];
        for c in CHECKS {
            if own.contains(&c.id) || c.id.starts_with("profile.") {
                continue;
            }
            assert!(
                catalog.contains(&format!("`{}`", c.id)),
                "{} is not in compat-checks.md",
                c.id
            );
        }
    }
}
