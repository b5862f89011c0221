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
    // 3. Usage accounting.
    check!("usage.arithmetic", Warning,
        "usage counts are integers >= 0, total = prompt + completion, reasoning <= completion, cached <= prompt",
        breaks: "cost tracking and budgets computed by clients and gateways",
        provenance: "compat-checks.md #32; OpenAPI #/components/schemas/CompletionUsage; router-for-me/CLIProxyAPI#5733, Clarifai/clarifai-python#978"),
    check!("usage.details_shape", Warning,
        "`prompt_tokens_details` and `completion_tokens_details` are objects (or null) with integer members",
        breaks: "strongly typed clients decoding CompletionUsage",
        provenance: "compat-checks.md #33; OpenAPI #/components/schemas/CompletionUsage; OpenRouter usage-accounting docs"),
    // 4. Tool calling (non-stream).
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
    check!("err.retry_headers", Warning,
        "429 and 503 carry `Retry-After` (seconds, <= 60 for the SDKs to honour it) or `retry-after-ms`",
        breaks: "openai-python/node back off blindly without it and ignore values above 60 s",
        provenance: "compat-checks.md #63; openai-python _base_client.py (_calculate_retry_timeout); OpenRouter errors docs"),
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
            "resp.finish_reason",
        ];
        for c in CHECKS {
            if own.contains(&c.id) {
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
