//! Issue 5, item 7: no secret in any report. Two targets whose keys go in the `Authorization`
//! header and in a custom header (`x-api-key`, by a profile of their own) run every shipped
//! suite against a server that echoes each request's headers back: in the body of every answer
//! (JSON and streamed), in response headers, and in error messages. Every file the run writes
//! (snapshots, matrix, answers compared, JUnit, HTML, recordings) and all of stdout and stderr
//! are scanned for the keys, and for any 12 characters of them in a row.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

const KEY_A: &str = "sk-test-AUTHORIZATION-5e1f0a9b7c3d2e4f";
const KEY_B: &str = "sk-test-CUSTOMHEADER-8a7b6c5d4e3f2a1b";

/// Serves on a free port until the process ends: every request is answered with its own
/// headers echoed back.
fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = answer(stream);
            });
        }
    });
    port
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let echoed: String = headers
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let key_header = headers
        .iter()
        .find(|(k, _)| k == "authorization" || k == "x-api-key")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let stream_asked = String::from_utf8_lossy(&body).contains("\"stream\":true");
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let content = serde_json::to_string(&format!("you sent: {echoed}")).unwrap();
    let (status, content_type, payload) = if path.ends_with("/models") {
        (
            "200 OK",
            "application/json",
            format!(
                r#"{{"object":"list","data":[{{"id":"echo","object":"model","created":0,"owned_by":{content}}}]}}"#
            ),
        )
    } else if headers
        .iter()
        .any(|(k, v)| k == "authorization" && v.contains("invalid"))
    {
        (
            "401 Unauthorized",
            "application/json",
            format!(
                r#"{{"error":{{"message":"Incorrect API key provided: {key_header}. {echoed}","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}}}"#
            ),
        )
    } else if stream_asked {
        let chunk = |delta: &str, finish: &str| {
            format!(
                "data: {{\"id\":\"chatcmpl-echo\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"echo\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
            )
        };
        let mut sse = chunk(r#"{"role":"assistant","content":""}"#, "null");
        sse.push_str(&chunk(&format!(r#"{{"content":{content}}}"#), "null"));
        sse.push_str(&chunk("{}", r#""stop""#));
        sse.push_str(&format!(": {echoed}\n\n"));
        sse.push_str("data: [DONE]\n\n");
        ("200 OK", "text/event-stream", sse)
    } else {
        (
            "200 OK",
            "application/json",
            format!(
                r#"{{"id":"chatcmpl-echo","object":"chat.completion","created":1,"model":"echo","choices":[{{"index":0,"message":{{"role":"assistant","content":{content},"refusal":null}},"logprobs":null,"finish_reason":"stop"}}],"usage":{{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}}}"#
            ),
        )
    };
    let header_echo = key_header.replace(['\r', '\n'], " ");
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nx-echo-key: {header_echo}\r\nconnection: close\r\n\r\n{payload}",
        payload.len()
    )?;
    stream.flush()
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Any run of 12 characters of either key.
fn leaks(text: &[u8]) -> Option<String> {
    for key in [KEY_A, KEY_B] {
        for window in key.as_bytes().windows(12) {
            if text.windows(12).any(|w| w == window) {
                return Some(String::from_utf8_lossy(window).into_owned());
            }
        }
    }
    None
}

#[test]
fn no_key_reaches_any_output_or_file() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("secrets");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = echo_server();
    // A profile of one's own that puts the key in `x-api-key` with no scheme.
    std::fs::write(
        dir.join("custom.yaml"),
        "profile: custom-header\ntitle: Custom header\nsource: a test\nsummary: The key goes in x-api-key.\nauth: {header: x-api-key, scheme: ''}\ncapabilities: [chat, streaming, tools, tool_choice, json_mode, models_endpoint]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("gatecheck.yaml"),
        format!(
            "profiles: [custom.yaml]\ntargets:\n  bearer:\n    base_url: http://127.0.0.1:{port}/v1\n    api_key_env: KEY_A\n    models: [echo]\n  custom:\n    base_url: http://127.0.0.1:{port}/v1\n    api_key_env: KEY_B\n    profile: custom-header\n    models: [echo]\n"
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let mut outputs = Vec::new();
    for format in ["human", "json"] {
        let o = Command::new(env!("CARGO_BIN_EXE_gatecheck"))
            .current_dir(&dir)
            .args(["run", "--config", "gatecheck.yaml", "--format", format])
            .args(["--snapshots", "out/snapshots", "--update", "always"])
            .args(["--matrix", "out/matrix.md", "--compare", "out/compare.md"])
            .args(["--junit", "out/junit.xml", "--html", "out/report.html"])
            .args(["--record", &format!("out/recording-{format}")])
            .args(["--color", "always", "--verbose"])
            .env("KEY_A", KEY_A)
            .env("KEY_B", KEY_B)
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .output()
            .expect("gatecheck runs");
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "exit {:?}: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
        outputs.push((format!("stdout ({format})"), o.stdout));
        outputs.push((format!("stderr ({format})"), o.stderr));
    }
    let written = files(&out);
    assert!(
        written.len() > 100,
        "the run wrote {} files: {written:?}",
        written.len()
    );
    for p in &written {
        outputs.push((p.display().to_string(), std::fs::read(p).unwrap()));
    }
    let mut echoed_somewhere = false;
    for (name, bytes) in &outputs {
        if let Some(leak) = leaks(bytes) {
            panic!("`{leak}` (part of a key) is in {name}");
        }
        echoed_somewhere |= String::from_utf8_lossy(bytes).contains("[redacted]");
    }
    // The server did echo: what it echoed shows as `[redacted]`.
    assert!(
        echoed_somewhere,
        "nothing was echoed: the test tests nothing"
    );
    let snapshot =
        std::fs::read_to_string(out.join("snapshots/custom/core__plain_text.snap")).unwrap();
    assert!(snapshot.contains("x-api-key: \"[redacted]\""), "{snapshot}");
    let snapshot =
        std::fs::read_to_string(out.join("snapshots/bearer/core__plain_text.snap")).unwrap();
    assert!(
        snapshot.contains("authorization: \"Bearer [redacted]\""),
        "{snapshot}"
    );
}
