//! llmock (PyPI, pinned in `tests/python/llmock-requirements.txt`), a spec-faithful OpenAI mock,
//! for the tests that run it (`tests/side_by_side.rs`, `tests/llmock.rs`).

use super::Server;
use std::path::Path;
use std::process::Command;

/// Creates the venv (first use only) and starts `llmock serve` on a free 127.0.0.1 port; ready
/// when `/v1/models` answers. It takes any key or none. Killed on drop; its output goes to
/// `target/tmp/llmock-NAME.log`.
pub fn start(name: &str) -> Server {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = super::venv("llmock", &root.join("tests/python/llmock-requirements.txt"));
    let port = super::free_port();
    let mut cmd = Command::new(venv.join("bin/llmock"));
    cmd.args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()]);
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("llmock-{name}.log"));
    super::start(cmd, port, "/v1/models", &log)
}
