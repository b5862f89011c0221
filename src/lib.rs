//! gatecheck: a conformance and compatibility harness for OpenAI-compatible Chat Completions
//! APIs.
//!
//! ```text
//! suites/*.yaml --suite::load--> Suite --plan::build--> Plan --run::execute--> Exchange --check::check--> Verdict --report--> terminal, JSON Lines
//!  (spans kept)                  (targets x cases x      (async HTTP via         (pure, sync:       (reporters consume
//!                                 models x params;        transport: raw bytes   schemas, catalog    run events)
//!                                 capability gating)      with arrival times)    checks, asserts)
//! ```
//!
//! Each stage is one module with one entry point and hands the next stage one data type. Only
//! `transport` imports reqwest; only `run` (and the reference gateway) is async; `check` does no
//! I/O. The reference gateway (`gateway`) shares no code with the judge.

pub mod atomic;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod config;
pub mod diag;
pub mod discover;
pub mod exchange;
pub mod exit;
pub mod fixture;
pub mod gateway;
pub mod plan;
pub mod profile;
pub mod recheck;
pub mod record;
pub mod report;
pub mod run;
pub mod schema;
pub mod sse;
pub mod suite;
pub mod transport;
pub mod yaml;
