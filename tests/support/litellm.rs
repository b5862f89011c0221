//! LiteLLM proxy (PyPI `litellm[proxy]` 1.106.2 with `prisma`, pinned with every dependency in
//! `tests/python/litellm-requirements.txt`) as a gateway under test, answering from the
//! config-level `mock_response` models of `tests/litellm/config.yaml`: no upstream, no upstream
//! key, no database.
//!
//! By hand, from the repository root:
//!
//! ```sh
//! bash tests/python/venv.sh target/tmp/python/litellm tests/python/litellm-requirements.txt
//! LITELLM_LOCAL_MODEL_COST_MAP=True target/tmp/python/litellm/bin/litellm \
//!     --config tests/litellm/config.yaml --host 127.0.0.1 --port 4000
//! OPENAI_API_KEY=sk-gatecheck-litellm gatecheck run --target litellm=http://127.0.0.1:4000/v1 --model gpt-4o-mini
//! ```

use super::Server;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `general_settings.master_key` in the config: the key gatecheck sends (through
/// `OPENAI_API_KEY`, never on a command line).
pub const MASTER_KEY: &str = "sk-gatecheck-litellm";

/// Text-only mock (`mock_response`).
pub const MODEL: &str = "gpt-4o-mini";

/// Non-stream answers carry one tool call (`mock_tool_calls`: `get_weather`, `{"city": "Paris"}`).
pub const TOOLS_MODEL: &str = "gpt-4o-tools";

/// Variables that would change what the proxy does: a database (then it sets up `prisma`),
/// Redis, an upstream key or base URL; every `LITELLM_*` variable is cleared too (another
/// master key, say).
const CLEARED: [&str; 6] = [
    "DATABASE_URL",
    "DIRECT_URL",
    "REDIS_HOST",
    "REDIS_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
];

/// Creates the venv (first use only) and starts the proxy on a free 127.0.0.1 port; ready when
/// `/health/liveliness` answers (about 8 s on two cores: the imports are heavy). Killed on drop;
/// its output goes to `target/tmp/litellm-NAME.log`.
pub fn start(name: &str) -> Server {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = super::venv(
        "litellm",
        &root.join("tests/python/litellm-requirements.txt"),
    );
    let port = super::free_port();
    let mut cmd = Command::new(venv.join("bin/litellm"));
    cmd.arg("--config")
        .arg(root.join("tests/litellm/config.yaml"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(tmp);
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("LITELLM_")) {
            cmd.env_remove(&k);
        }
    }
    for k in CLEARED {
        cmd.env_remove(k);
    }
    // The one thing the proxy fetches from the internet (at import, so at start-up): the model
    // price map from GitHub, three tries with back-off. This uses the copy in the wheel; with it,
    // the proxy makes no outbound connection at all (strace: no connect() but loopback).
    cmd.env("LITELLM_LOCAL_MODEL_COST_MAP", "True");
    let log = tmp.join(format!("litellm-{name}.log"));
    super::start_within(
        cmd,
        port,
        "/health/liveliness",
        &log,
        Duration::from_secs(180),
    )
}
