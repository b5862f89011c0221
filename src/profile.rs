//! Profiles: a gateway's documented dialect as data. Today only the strict `openai` profile
//! exists; it documents no variant, and has every capability of OpenAI's Chat Completions
//! (not image output or reasoning fields, which OpenAI's chat endpoint does not return).

use crate::suite::Capability;

/// A documented dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: &'static str,
    /// What targets with this profile can do; cases requiring anything else are skipped.
    pub capabilities: &'static [Capability],
}

/// The strict OpenAI profile.
pub const OPENAI: Profile = Profile {
    name: "openai",
    capabilities: &[
        Capability::Chat,
        Capability::Streaming,
        Capability::Tools,
        Capability::ToolChoice,
        Capability::ParallelToolCalls,
        Capability::JsonMode,
        Capability::JsonSchema,
        Capability::Vision,
        Capability::Logprobs,
        Capability::MultipleChoices,
        Capability::ModelsEndpoint,
        Capability::ModelRetrieve,
        Capability::DeveloperRole,
    ],
};

/// Looks up a profile by name.
pub fn get(name: &str) -> Option<&'static Profile> {
    [&OPENAI].into_iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_config_profile_exists() {
        for name in crate::config::PROFILES {
            assert!(get(name).is_some(), "{name}");
        }
    }
}
