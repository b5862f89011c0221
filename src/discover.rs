//! What a target's `GET /models` says about availability, the live source the gateways document
//! (Router by MP: "/models ... sursa live"): which models it lists, and what vendor metadata says
//! each can do (OpenRouter-style `supported_parameters` and `architecture` modalities,
//! Mistral-style `capabilities` flags). A planned case whose model is not listed, or whose model
//! the metadata says lacks a capability the case requires, is skipped with the reason.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::config::Target;
use crate::plan::{Plan, PlannedRequest};
use crate::suite::{Auth, Capability, Method, PROFILE_VARS};
use crate::transport::Transport;

/// A target's model list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Listed model id -> what its metadata says it cannot do (empty without metadata).
    pub models: BTreeMap<String, BTreeSet<Capability>>,
}

/// Asks the target for its model list; the error says why there is none to go by.
pub async fn fetch(transport: &Transport, target: &Target) -> Result<Listing, String> {
    let request = PlannedRequest {
        method: Method::Get,
        path: "/models".into(),
        url: format!("{}/models", target.base_url),
        headers: target.headers.clone(),
        auth: Auth::Key,
        body: None,
        json: None,
    };
    let exchange = transport.send(&request, target).await;
    if let Some(e) = exchange.transport_error() {
        return Err(format!("GET /models failed: {}", e.message));
    }
    match exchange.status() {
        Some(200..=299) => {}
        Some(status) => return Err(format!("GET /models answered {status}")),
        None => return Err("GET /models got no answer".into()),
    }
    serde_json::from_slice(&exchange.body)
        .ok()
        .as_ref()
        .and_then(parse)
        .ok_or_else(|| "GET /models did not answer a model list".into())
}

/// Reads a `/models` body (`{"data": [{"id": ...}, ...]}`); `None` if it is not a model list.
pub fn parse(body: &Value) -> Option<Listing> {
    let data = body.get("data")?.as_array()?;
    let mut models = BTreeMap::new();
    for m in data {
        let Some(id) = m.get("id").and_then(Value::as_str) else {
            continue;
        };
        models.insert(id.to_owned(), lacks(m));
    }
    Some(Listing { models })
}

/// What one model entry's vendor metadata says it lacks.
fn lacks(m: &Value) -> BTreeSet<Capability> {
    use Capability::*;
    let mut out = BTreeSet::new();
    let strings = |v: Option<&Value>| -> Option<BTreeSet<String>> {
        Some(
            v?.as_array()?
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        )
    };
    // OpenRouter: the parameters the model's providers accept.
    if let Some(params) = strings(m.get("supported_parameters")) {
        if !params.contains("tools") {
            out.extend([Tools, ToolChoice, ParallelToolCalls]);
        } else if !params.contains("tool_choice") {
            out.insert(ToolChoice);
        }
        if !params.contains("response_format") {
            out.extend([JsonMode, JsonSchema]);
        } else if !params.contains("structured_outputs") {
            out.insert(JsonSchema);
        }
        if !params.contains("logprobs") {
            out.insert(Logprobs);
        }
    }
    // OpenRouter: input and output modalities.
    if let Some(input) = strings(m.pointer("/architecture/input_modalities"))
        && !input.contains("image")
    {
        out.insert(Vision);
    }
    if let Some(output) = strings(m.pointer("/architecture/output_modalities"))
        && !output.contains("image")
    {
        out.insert(ImageOutput);
    }
    // Mistral: capability flags.
    if let Some(caps) = m.get("capabilities").and_then(Value::as_object) {
        let off = |k: &str| caps.get(k).and_then(Value::as_bool) == Some(false);
        if off("function_calling") {
            out.extend([Tools, ToolChoice, ParallelToolCalls]);
        }
        if off("vision") {
            out.insert(Vision);
        }
    }
    out
}

/// Skips the cases of `target` that use a model the listing does not have, or that require what
/// the listing says their model lacks. Cases already skipped keep their reason.
pub fn apply(plan: &mut Plan, target: &str, listing: &Listing) {
    for case in plan
        .cases
        .iter_mut()
        .filter(|c| c.target.name == target && c.skip.is_none())
    {
        // The models the request names through variables: `${model}` and the profile's.
        let mut used: Vec<&str> = Vec::new();
        if case.case.uses.contains("model") {
            used.push(&case.model);
        }
        for var in PROFILE_VARS {
            if case.case.uses.contains(var)
                && let Some(m) = case.vars.get(var).and_then(Value::as_str)
            {
                used.push(m);
            }
        }
        let mut reason = None;
        for model in used {
            match listing.models.get(model) {
                None => {
                    reason = Some(format!(
                        "model `{model}` is not listed by GET /models of `{target}`"
                    ));
                }
                Some(lacks) => {
                    let missing: Vec<&str> = case
                        .case
                        .requires
                        .iter()
                        .filter(|c| lacks.contains(c))
                        .map(|c| c.as_str())
                        .collect();
                    if !missing.is_empty() {
                        reason = Some(format!(
                            "model `{model}` lacks {} (per the metadata in GET /models of `{target}`)",
                            missing.join(", ")
                        ));
                    }
                }
            }
            if reason.is_some() {
                break;
            }
        }
        case.skip = reason;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vendor_metadata_says_what_a_model_lacks() {
        let listing = parse(&json!({"object": "list", "data": [
            {"id": "plain", "object": "model"},
            {"id": "openrouter/text", "supported_parameters": ["tools", "tool_choice", "response_format"],
             "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]}},
            {"id": "openrouter/image", "supported_parameters": ["response_format", "structured_outputs", "logprobs"],
             "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["image", "text"]}},
            {"id": "mistral-small", "capabilities": {"function_calling": false, "vision": true}},
            {"object": "model"}
        ]}))
        .unwrap();
        use Capability::*;
        let lacks = |id: &str| listing.models[id].iter().copied().collect::<Vec<_>>();
        assert_eq!(
            listing.models.len(),
            4,
            "an entry without an id is not a model"
        );
        assert!(lacks("plain").is_empty(), "no metadata, no conclusions");
        assert_eq!(
            lacks("openrouter/text"),
            [JsonSchema, Vision, Logprobs, ImageOutput]
        );
        assert_eq!(
            lacks("openrouter/image"),
            [Tools, ToolChoice, ParallelToolCalls]
        );
        assert_eq!(
            lacks("mistral-small"),
            [Tools, ToolChoice, ParallelToolCalls]
        );
        assert_eq!(parse(&json!({"detail": "Not Found"})), None);
    }

    #[test]
    fn cases_skip_for_models_not_listed_or_lacking_what_they_require() {
        let text = "cases:
  - name: plain
    request: {path: /chat/completions, body: {model: '${model}', messages: []}}
  - name: tools
    requires: [tools]
    request: {path: /chat/completions, body: {model: '${model}', messages: []}}
  - name: fixed_model
    request: {path: /chat/completions, body: {model: nope, messages: []}}
  - name: list
    request: {method: GET, path: /models}
";
        let (suite, _) = crate::suite::load_one(crate::diag::SourceFile::new("s.yaml", text))
            .unwrap_or_else(|d| panic!("{}", d[0]));
        let target = std::sync::Arc::new(Target {
            name: "gw".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            api_key_env: "OPENAI_API_KEY".into(),
            api_key: None,
            headers: Vec::new(),
            profile: "openai".into(),
            models: vec!["listed".into(), "unlisted".into()],
            concurrency: None,
            rate_limit: None,
            extra_capabilities: Vec::new(),
        });
        let mut plan = crate::plan::build(&[suite], &[target]);
        let listing = parse(&json!({"data": [
            {"id": "listed", "supported_parameters": ["response_format"]}
        ]}))
        .unwrap();
        apply(&mut plan, "gw", &listing);
        let skips: Vec<(String, Option<String>)> = plan
            .cases
            .iter()
            .map(|c| (c.name.clone(), c.skip.clone()))
            .collect();
        let reason = |m: &str| Some(format!("model `{m}` is not listed by GET /models of `gw`"));
        let lacks =
            Some("model `listed` lacks tools (per the metadata in GET /models of `gw`)".to_owned());
        assert_eq!(
            skips,
            [
                ("s::plain[gw,listed]".to_owned(), None),
                ("s::plain[gw,unlisted]".to_owned(), reason("unlisted")),
                ("s::tools[gw,listed]".to_owned(), lacks),
                ("s::tools[gw,unlisted]".to_owned(), reason("unlisted")),
                // Cases that do not use `${model}` run whatever the list says.
                ("s::fixed_model[gw,listed]".to_owned(), None),
                ("s::fixed_model[gw,unlisted]".to_owned(), None),
                ("s::list[gw,listed]".to_owned(), None),
                ("s::list[gw,unlisted]".to_owned(), None),
            ]
        );
    }
}
