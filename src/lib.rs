//! gatecheck: a conformance and compatibility harness for OpenAI-compatible Chat Completions APIs.
pub mod catalog;
pub mod check;
pub mod config;
pub mod diag;
pub mod exchange;
pub mod plan;
pub mod profile;
pub mod schema;
pub mod suite;
pub mod yaml;
