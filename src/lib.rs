//! gatecheck: a conformance and compatibility harness for OpenAI-compatible Chat Completions APIs.

pub mod gateway;
