//! Shared by integration tests that run real software written by others (llmock, LiteLLM): a
//! Python venv under the build directory, created on first use from pinned requirements, and
//! servers started on a free 127.0.0.1 port and stopped on drop. `litellm::start` and
//! `llmock::start` start either gateway from any test.

#![allow(dead_code)] // each test binary uses part of it

pub mod litellm;
pub mod llmock;
pub mod runs;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to skip tests that need Python servers (offline machines). CI never sets it.
pub const SKIP_ENV: &str = "GATECHECK_SKIP_REAL_SERVERS";

pub fn skip_real_servers() -> bool {
    std::env::var_os(SKIP_ENV).is_some()
}

/// A venv with the pinned requirements installed, under the build directory; created once by
/// `tests/python/venv.sh` (the script `.ci/run` uses too), reused afterwards. Concurrent test
/// binaries wait on a lock directory.
pub fn venv(name: &str, requirements: &Path) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python");
    std::fs::create_dir_all(&base).unwrap();
    let dir = base.join(name);
    let lock = base.join(format!("{name}.lock"));
    let started = Instant::now();
    while std::fs::create_dir(&lock).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "stale lock {}",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let _unlock = RemoveOnDrop(lock);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/venv.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .arg(requirements)
        .output()
        .unwrap_or_else(|e| panic!("failed to run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}{}\n(set {SKIP_ENV}=1 to skip tests that need Python)",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A two-worker tokio runtime for a test that runs the reference gateway in-process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A free port on 127.0.0.1 (bound, then released for the server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed on drop.
pub struct Server {
    child: Child,
    pub base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` and waits (60 s at most) until `probe_path` (under `http://127.0.0.1:PORT`)
/// answers.
pub fn start(cmd: Command, port: u16, probe_path: &str, log: &Path) -> Server {
    start_within(cmd, port, probe_path, log, Duration::from_secs(60))
}

/// [`start`] with another bound on the wait.
pub fn start_within(
    mut cmd: Command,
    port: u16,
    probe_path: &str,
    log: &Path,
    within: Duration,
) -> Server {
    let log_file = std::fs::File::create(log).unwrap();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("failed to start {cmd:?}: {e}"));
    let mut server = Server {
        child,
        base_url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "{cmd:?} exited with {status}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if http_get_ok(port, probe_path) {
            return server;
        }
        assert!(
            started.elapsed() < within,
            "{cmd:?} did not answer on port {port} within {within:?}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A bare HTTP/1.1 GET: true on any response status line.
fn http_get_ok(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 ")
}

/// `gatecheck run --format json` output, one block per case: name and outcome, then `severity
/// check path` per finding (`-` without a path, `(body)` for the whole body). Messages are left
/// out: they quote the servers' random ids.
pub fn findings_summary(jsonl: &str) -> String {
    let mut out = String::new();
    for line in jsonl.lines() {
        let case: serde_json::Value = serde_json::from_str(line).expect("JSON Lines");
        out.push_str(&format!(
            "{} {}\n",
            case["name"].as_str().unwrap(),
            case["outcome"].as_str().unwrap()
        ));
        for f in case["findings"].as_array().unwrap() {
            out.push_str(&format!(
                "  {} {} {}\n",
                f["severity"].as_str().unwrap(),
                f["check"].as_str().unwrap(),
                match f["path"].as_str() {
                    None => "-",
                    Some("") => "(body)",
                    Some(p) => p,
                }
            ));
        }
    }
    out
}
