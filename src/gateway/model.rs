//! The deterministic fake model: what the assistant "says" for a validated request (echoes,
//! tool calls, JSON), how many tokens that costs, and where `stop` and `max_tokens` cut it.
//! The same request always yields the same text and arguments; only ids differ.

use serde_json::json;

use super::request::{ChatRequest, Message, ResponseFormat, Role, ToolChoice};
use super::schema_gen;

/// Fixed prompt-token overhead per message (OpenAI's chat format spends a few tokens on each
/// message's role and delimiters; 3 is what its cookbook counts for current models).
const TOKENS_PER_MESSAGE: u64 = 3;

/// Everything the encoders need to answer: one output per choice, plus usage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Generation {
    pub(crate) choices: Vec<Choice>,
    pub(crate) prompt_tokens: u64,
    pub(crate) completion_tokens: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Choice {
    pub(crate) output: Output,
    pub(crate) finish_reason: FinishReason,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    /// Assistant text; `logprobs` (when requested) has one entry per [`token_pieces`] piece.
    Content {
        text: String,
        logprobs: Option<Vec<TokenLogprob>>,
    },
    /// `message.tool_calls` (content is null).
    ToolCalls(Vec<ToolCall>),
    /// Legacy `message.function_call` (content is null).
    FunctionCall(ToolCall),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolCall {
    pub(crate) id: String,
    pub(crate) name: String,
    /// The compact JSON text of the arguments (it may be cut short by `max_tokens`).
    pub(crate) arguments: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    FunctionCall,
}

impl FinishReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
            Self::FunctionCall => "function_call",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TokenLogprob {
    pub(crate) token: String,
    pub(crate) logprob: f64,
    /// The alternatives, most likely first; the chosen token leads.
    pub(crate) top: Vec<(String, f64)>,
}

/// Runs the fake model. `next_call_id` hands out tool-call ids (distinct for every call and
/// every choice).
pub(crate) fn generate(
    request: &ChatRequest,
    next_call_id: &mut dyn FnMut() -> String,
) -> Generation {
    let prompt_tokens = prompt_tokens(&request.messages);
    let calls = select_tools(request);
    let text = if calls.is_empty() {
        Some(reply_text(request))
    } else {
        None
    };

    let mut choices = Vec::with_capacity(request.n);
    let mut completion_tokens = 0;
    for _ in 0..request.n {
        let (choice, tokens) = match &text {
            Some(text) => content_choice(request, text),
            None => call_choice(request, &calls, next_call_id),
        };
        completion_tokens += tokens;
        choices.push(choice);
    }
    Generation {
        choices,
        prompt_tokens,
        completion_tokens,
    }
}

/// What the messages cost as a prompt: their tokens plus a fixed overhead per message.
pub(crate) fn prompt_tokens(messages: &[Message]) -> u64 {
    messages
        .iter()
        .map(|m| count_tokens(&m.text) + TOKENS_PER_MESSAGE)
        .sum()
}

/// The prompt: the last user message, or the last developer/system one when there is no user.
fn prompt(request: &ChatRequest) -> &str {
    let last_of = |roles: &[Role]| {
        request
            .messages
            .iter()
            .rev()
            .find(|m| roles.contains(&m.role))
            .map(|m| m.text.as_str())
    };
    last_of(&[Role::User])
        .or_else(|| last_of(&[Role::Developer, Role::System]))
        .unwrap_or("")
}

fn after_tool_result(request: &ChatRequest) -> Option<&str> {
    request
        .messages
        .last()
        .filter(|m| matches!(m.role, Role::Tool | Role::Function))
        .map(|m| m.text.as_str())
}

/// The untruncated assistant text.
fn reply_text(request: &ChatRequest) -> String {
    let plain = match after_tool_result(request) {
        Some(result) => format!("Tool result: {result}"),
        None => format!("You said: {}", prompt(request)),
    };
    match &request.response_format {
        ResponseFormat::Text => plain,
        ResponseFormat::JsonObject => json!({"echo": prompt(request)}).to_string(),
        ResponseFormat::JsonSchema(schema) => schema_gen::instance(schema).to_string(),
    }
}

/// Applies `stop`, then `max_tokens`; returns the choice and its completion tokens.
fn content_choice(request: &ChatRequest, full: &str) -> (Choice, u64) {
    let mut text = cut_at_stop(full, &request.stop);
    let mut finish_reason = FinishReason::Stop;
    if let Some(limit) = request.max_tokens
        && let Some(cut) = truncate_tokens(text, limit)
    {
        text = cut;
        finish_reason = FinishReason::Length;
    }
    let logprobs = request
        .logprobs
        .then(|| token_logprobs(text, request.top_logprobs));
    let tokens = count_tokens(text);
    (
        Choice {
            output: Output::Content {
                text: text.to_owned(),
                logprobs,
            },
            finish_reason,
        },
        tokens,
    )
}

/// Builds the calls of one choice (fresh ids), applying `max_tokens` to their arguments.
fn call_choice(
    request: &ChatRequest,
    calls: &[(&str, String)],
    next_call_id: &mut dyn FnMut() -> String,
) -> (Choice, u64) {
    let mut budget = request.max_tokens.map(|n| n.saturating_mul(4));
    let mut truncated = false;
    let mut built = Vec::with_capacity(calls.len());
    for (name, arguments) in calls {
        let mut arguments = arguments.clone();
        if let Some(left) = budget.as_mut() {
            if *left == 0 {
                truncated = true;
                break;
            }
            if arguments.len() as u64 > *left {
                arguments.truncate(floor_char_boundary(&arguments, *left as usize));
                truncated = true;
            }
            *left -= arguments.len() as u64;
        }
        built.push(ToolCall {
            id: next_call_id(),
            name: (*name).to_owned(),
            arguments,
        });
        if truncated {
            break;
        }
    }
    let bytes: usize = built.iter().map(|c| c.arguments.len()).sum();
    let tokens = match (truncated, request.max_tokens) {
        (true, Some(limit)) => limit,
        _ => (bytes as u64).div_ceil(4),
    };
    let finish_reason = if truncated {
        FinishReason::Length
    } else {
        match (&request.tool_choice, request.legacy_functions) {
            // OpenAI reports "stop" when the caller forced a particular function.
            (ToolChoice::Named(_), _) => FinishReason::Stop,
            (_, true) => FinishReason::FunctionCall,
            _ => FinishReason::ToolCalls,
        }
    };
    let output = if request.legacy_functions {
        match built.into_iter().next() {
            Some(call) => Output::FunctionCall(call),
            None => Output::Content {
                text: String::new(),
                logprobs: None,
            },
        }
    } else {
        Output::ToolCalls(built)
    };
    (
        Choice {
            output,
            finish_reason,
        },
        tokens,
    )
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The functions to call, in order, each with its generated arguments (compact JSON).
///
/// `required`/named always call (named: that function; `required`: the mentioned functions,
/// or the first tool when none is mentioned). `auto` calls the functions the prompt mentions,
/// never after a tool result. `parallel_tool_calls: false` keeps only the first call.
fn select_tools(request: &ChatRequest) -> Vec<(&str, String)> {
    let tools = &request.tools;
    let (candidates, required): (Vec<usize>, bool) = match &request.tool_choice {
        ToolChoice::None => return Vec::new(),
        ToolChoice::Named(name) => {
            let index = tools.iter().position(|t| &t.name == name);
            (index.into_iter().collect(), true)
        }
        ToolChoice::Auto => ((0..tools.len()).collect(), false),
        ToolChoice::Required => ((0..tools.len()).collect(), true),
        ToolChoice::Allowed { required, names } => (
            (0..tools.len())
                .filter(|&i| names.contains(&tools[i].name))
                .collect(),
            *required,
        ),
    };
    let mut chosen: Vec<usize> = if let ToolChoice::Named(_) = request.tool_choice {
        candidates
    } else {
        if !required && after_tool_result(request).is_some() {
            return Vec::new();
        }
        let prompt = prompt(request);
        let mut mentioned: Vec<(usize, usize)> = candidates
            .iter()
            .filter_map(|&i| first_mention(prompt, &tools[i].name).map(|at| (at, i)))
            .collect();
        mentioned.sort();
        let mut chosen: Vec<usize> = mentioned.into_iter().map(|(_, i)| i).collect();
        if chosen.is_empty() && required {
            chosen.extend(candidates.first());
        }
        chosen
    };
    if !request.parallel_tool_calls {
        chosen.truncate(1);
    }
    chosen
        .into_iter()
        .map(|i| {
            let tool = &tools[i];
            let arguments = match &tool.parameters {
                Some(schema) => schema_gen::instance(schema),
                None => json!({}),
            };
            (tool.name.as_str(), arguments.to_string())
        })
        .collect()
}

/// Byte offset of the first mention of a function name in `text`: the name itself, or with `_`
/// read as a space, case-insensitively, as a whole word (not inside a longer identifier).
/// Function names are ASCII (`^[a-zA-Z0-9_-]+$`), so ASCII case folding is enough and keeps
/// byte offsets.
pub(crate) fn first_mention(text: &str, name: &str) -> Option<usize> {
    let haystack = text.to_ascii_lowercase();
    let exact = name.to_ascii_lowercase();
    let spaced = exact.replace('_', " ");
    [exact, spaced]
        .iter()
        .filter_map(|needle| find_word(&haystack, needle))
        .min()
}

fn find_word(haystack: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    haystack
        .match_indices(needle)
        .map(|(at, _)| at)
        .find(|&at| {
            let before = haystack[..at].chars().next_back();
            let after = haystack[at + needle.len()..].chars().next();
            !before.is_some_and(is_word) && !after.is_some_and(is_word)
        })
}

/// Number of tokens: maximal runs of non-whitespace characters.
pub(crate) fn count_tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// The text split into token pieces that concatenate back to it: each piece is a run of
/// non-whitespace and the whitespace after it; leading whitespace joins the first piece. A
/// text of whitespace only is one piece (of zero tokens).
pub(crate) fn token_pieces(text: &str) -> Vec<&str> {
    let mut starts = Vec::new();
    let mut previous_is_space = true;
    let mut seen_token = false;
    for (at, c) in text.char_indices() {
        let space = c.is_whitespace();
        if !space && previous_is_space {
            // The first token's piece starts at 0, taking any leading whitespace with it.
            starts.push(if seen_token { at } else { 0 });
            seen_token = true;
        }
        previous_is_space = space;
    }
    if starts.is_empty() {
        return if text.is_empty() {
            Vec::new()
        } else {
            vec![text]
        };
    }
    let mut pieces = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        pieces.push(&text[start..end]);
    }
    pieces
}

/// The first `limit` tokens without the trailing whitespace, or `None` if the text is not
/// longer than that.
pub(crate) fn truncate_tokens(text: &str, limit: u64) -> Option<&str> {
    if count_tokens(text) <= limit {
        return None;
    }
    let kept: usize = token_pieces(text)
        .iter()
        .take(limit as usize)
        .map(|piece| piece.len())
        .sum();
    Some(text[..kept].trim_end())
}

/// The text up to (not including) the earliest occurrence of any stop string.
pub(crate) fn cut_at_stop<'a>(text: &'a str, stops: &[String]) -> &'a str {
    let end = stops
        .iter()
        .filter(|stop| !stop.is_empty())
        .filter_map(|stop| text.find(stop.as_str()))
        .min()
        .unwrap_or(text.len());
    &text[..end]
}

/// Deterministic, finite log probabilities, one per piece: the chosen token scores between
/// -0.0001 and -0.1, each alternative one nat less than the one before.
fn token_logprobs(text: &str, top: usize) -> Vec<TokenLogprob> {
    token_pieces(text)
        .into_iter()
        .map(|piece| {
            let hash = piece.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            let logprob = -((hash % 1000) as f64 + 1.0) / 10_000.0;
            let alternatives = (0..top)
                .map(|k| {
                    if k == 0 {
                        (piece.to_owned(), logprob)
                    } else {
                        (format!("{}{k}", piece.trim_end()), logprob - k as f64)
                    }
                })
                .collect();
            TokenLogprob {
                token: piece.to_owned(),
                logprob,
                top: alternatives,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::request::Tool;

    fn request(prompt: &str) -> ChatRequest {
        ChatRequest {
            model: "gatecheck-echo".into(),
            messages: vec![Message {
                role: Role::User,
                text: prompt.into(),
            }],
            stream: false,
            include_usage: false,
            n: 1,
            stop: Vec::new(),
            max_tokens: None,
            logprobs: false,
            top_logprobs: 0,
            tools: Vec::new(),
            tool_choice: ToolChoice::None,
            parallel_tool_calls: true,
            legacy_functions: false,
            response_format: ResponseFormat::Text,
        }
    }

    fn with_tools(prompt: &str, choice: ToolChoice) -> ChatRequest {
        let weather = json!({"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"], "additionalProperties": false});
        ChatRequest {
            tools: vec![
                Tool {
                    name: "get_weather".into(),
                    parameters: Some(weather),
                },
                Tool {
                    name: "get_time".into(),
                    parameters: None,
                },
            ],
            tool_choice: choice,
            ..request(prompt)
        }
    }

    fn run(request: &ChatRequest) -> Generation {
        let mut n = 0;
        generate(request, &mut || {
            n += 1;
            format!("call_{n}")
        })
    }

    fn text_of(choice: &Choice) -> &str {
        match &choice.output {
            Output::Content { text, .. } => text,
            other => panic!("expected content, got {other:?}"),
        }
    }

    fn calls_of(choice: &Choice) -> Vec<(&str, &str, &str)> {
        match &choice.output {
            Output::ToolCalls(calls) => calls
                .iter()
                .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str()))
                .collect(),
            other => panic!("expected tool calls, got {other:?}"),
        }
    }

    #[test]
    fn counts_tokens_as_whitespace_separated_runs() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("   "), 0);
        assert_eq!(count_tokens("You said: hello  world\n"), 4);
    }

    #[test]
    fn pieces_concatenate_back() {
        for text in ["You said: hi", "  lead", "a  b\n\nc ", "", " ", "é ü"] {
            assert_eq!(token_pieces(text).concat(), text);
        }
        assert_eq!(token_pieces("  a b "), vec!["  a ", "b "]);
    }

    #[test]
    fn plain_echo_and_usage() {
        let generation = run(&request("hello world"));
        assert_eq!(text_of(&generation.choices[0]), "You said: hello world");
        assert_eq!(generation.choices[0].finish_reason, FinishReason::Stop);
        assert_eq!(generation.prompt_tokens, 2 + TOKENS_PER_MESSAGE);
        assert_eq!(generation.completion_tokens, 4);
    }

    #[test]
    fn max_tokens_cuts_and_reports_length() {
        let generation = run(&ChatRequest {
            max_tokens: Some(3),
            ..request("one two three")
        });
        assert_eq!(text_of(&generation.choices[0]), "You said: one");
        assert_eq!(generation.choices[0].finish_reason, FinishReason::Length);
        assert_eq!(generation.completion_tokens, 3);
        // A limit the text fits in changes nothing.
        let generation = run(&ChatRequest {
            max_tokens: Some(5),
            ..request("one two three")
        });
        assert_eq!(generation.choices[0].finish_reason, FinishReason::Stop);
    }

    #[test]
    fn stop_cuts_before_the_earliest_stop_string() {
        let generation = run(&ChatRequest {
            stop: vec!["three".into(), "two".into()],
            ..request("one two three")
        });
        assert_eq!(text_of(&generation.choices[0]), "You said: one ");
        assert_eq!(generation.choices[0].finish_reason, FinishReason::Stop);
        assert_eq!(generation.completion_tokens, 3);
        assert_eq!(cut_at_stop("abc", &["x".into()]), "abc");
    }

    #[test]
    fn n_choices_share_the_text() {
        let generation = run(&ChatRequest {
            n: 3,
            ..request("hi")
        });
        assert_eq!(generation.choices.len(), 3);
        assert!(
            generation
                .choices
                .iter()
                .all(|c| text_of(c) == "You said: hi")
        );
        assert_eq!(generation.completion_tokens, 3 * 3);
    }

    #[test]
    fn tool_results_are_echoed() {
        let mut req = with_tools("What is the weather?", ToolChoice::Auto);
        req.messages.push(Message {
            role: Role::Tool,
            text: "sunny".into(),
        });
        let generation = run(&req);
        assert_eq!(text_of(&generation.choices[0]), "Tool result: sunny");
    }

    #[test]
    fn auto_calls_mentioned_functions_in_order() {
        let generation = run(&with_tools(
            "Use get time, then get_weather please",
            ToolChoice::Auto,
        ));
        assert_eq!(
            calls_of(&generation.choices[0]),
            vec![
                ("call_1", "get_time", "{}"),
                ("call_2", "get_weather", r#"{"city":"gatecheck"}"#)
            ]
        );
        assert_eq!(generation.choices[0].finish_reason, FinishReason::ToolCalls);
        assert_eq!(generation.completion_tokens, (2 + 20_u64).div_ceil(4));
        // Not mentioned: plain text.
        let generation = run(&with_tools("hello", ToolChoice::Auto));
        assert_eq!(text_of(&generation.choices[0]), "You said: hello");
        // Part of a longer word is not a mention.
        let generation = run(&with_tools("get_weathers", ToolChoice::Auto));
        assert_eq!(text_of(&generation.choices[0]), "You said: get_weathers");
    }

    #[test]
    fn parallel_false_keeps_the_first_call() {
        let generation = run(&ChatRequest {
            parallel_tool_calls: false,
            ..with_tools("GET_WEATHER and get_time", ToolChoice::Auto)
        });
        assert_eq!(calls_of(&generation.choices[0]).len(), 1);
        assert_eq!(calls_of(&generation.choices[0])[0].1, "get_weather");
    }

    #[test]
    fn required_named_and_none() {
        let generation = run(&with_tools("hello", ToolChoice::Required));
        assert_eq!(calls_of(&generation.choices[0])[0].1, "get_weather");
        assert_eq!(generation.choices[0].finish_reason, FinishReason::ToolCalls);

        let generation = run(&with_tools(
            "get_weather",
            ToolChoice::Named("get_time".into()),
        ));
        assert_eq!(
            calls_of(&generation.choices[0]),
            vec![("call_1", "get_time", "{}")]
        );
        assert_eq!(generation.choices[0].finish_reason, FinishReason::Stop);

        let generation = run(&with_tools("get_weather", ToolChoice::None));
        assert_eq!(text_of(&generation.choices[0]), "You said: get_weather");
    }

    #[test]
    fn allowed_tools_restrict_the_choice() {
        let allowed = |required: bool| ToolChoice::Allowed {
            required,
            names: vec!["get_time".into()],
        };
        // get_weather is mentioned but not allowed.
        let generation = run(&with_tools("get_weather", allowed(false)));
        assert_eq!(text_of(&generation.choices[0]), "You said: get_weather");
        let generation = run(&with_tools("get_weather", allowed(true)));
        assert_eq!(calls_of(&generation.choices[0])[0].1, "get_time");
        assert_eq!(generation.choices[0].finish_reason, FinishReason::ToolCalls);
    }

    #[test]
    fn legacy_functions_answer_with_function_call() {
        let generation = run(&ChatRequest {
            legacy_functions: true,
            parallel_tool_calls: false,
            ..with_tools("get_time and get_weather", ToolChoice::Auto)
        });
        let choice = &generation.choices[0];
        assert_eq!(
            choice.output,
            Output::FunctionCall(ToolCall {
                id: "call_1".into(),
                name: "get_time".into(),
                arguments: "{}".into(),
            })
        );
        assert_eq!(choice.finish_reason, FinishReason::FunctionCall);
    }

    #[test]
    fn call_ids_differ_per_choice() {
        let generation = run(&ChatRequest {
            n: 2,
            ..with_tools("get_time", ToolChoice::Auto)
        });
        assert_eq!(calls_of(&generation.choices[0])[0].0, "call_1");
        assert_eq!(calls_of(&generation.choices[1])[0].0, "call_2");
    }

    #[test]
    fn json_modes() {
        let generation = run(&ChatRequest {
            response_format: ResponseFormat::JsonObject,
            ..request("say \"hi\" in json")
        });
        assert_eq!(
            text_of(&generation.choices[0]),
            r#"{"echo":"say \"hi\" in json"}"#
        );
        let generation = run(&ChatRequest {
            response_format: ResponseFormat::JsonSchema(json!({"type": "object",
                "properties": {"n": {"type": "integer"}}})),
            ..request("x")
        });
        assert_eq!(text_of(&generation.choices[0]), r#"{"n":1}"#);
    }

    #[test]
    fn logprobs_follow_pieces() {
        let generation = run(&ChatRequest {
            logprobs: true,
            top_logprobs: 2,
            ..request("hi")
        });
        let Output::Content {
            logprobs: Some(logprobs),
            ..
        } = &generation.choices[0].output
        else {
            panic!("logprobs expected");
        };
        let tokens: Vec<&str> = logprobs.iter().map(|l| l.token.as_str()).collect();
        assert_eq!(tokens, vec!["You ", "said: ", "hi"]);
        assert!(
            logprobs
                .iter()
                .all(|l| l.logprob < 0.0 && l.logprob.is_finite())
        );
        assert_eq!(logprobs[0].top.len(), 2);
        assert_eq!(logprobs[0].top[0].0, "You ");
    }

    #[test]
    fn max_tokens_cuts_tool_arguments() {
        let generation = run(&ChatRequest {
            max_tokens: Some(2),
            ..with_tools("get_weather", ToolChoice::Auto)
        });
        let calls = calls_of(&generation.choices[0]);
        assert_eq!(calls[0].2, r#"{"city":"#); // 2 tokens = 8 bytes
        assert_eq!(generation.choices[0].finish_reason, FinishReason::Length);
        assert_eq!(generation.completion_tokens, 2);
    }

    #[test]
    fn prompt_falls_back_to_system() {
        let mut req = request("");
        req.messages = vec![Message {
            role: Role::System,
            text: "be brief".into(),
        }];
        assert_eq!(text_of(&run(&req).choices[0]), "You said: be brief");
    }
}
