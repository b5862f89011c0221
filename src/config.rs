//! Targets and run settings, layered: defaults < config file (`gatecheck.yaml`) < environment <
//! flags. The environment is passed in as data so precedence is testable. Keys come from
//! environment variables named in config, never from files, and live in a [`Secret`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diag::{SourceFile, did_you_mean};
use crate::yaml::{self, Node, NodeKind};

/// An API key. Its `Debug` and `Display` print nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The key itself: only the transport calls this, to build the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The environment variable read for keys when a target names none.
pub const DEFAULT_KEY_ENV: &str = "OPENAI_API_KEY";

/// One server under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    /// Without a trailing slash; suite paths are appended (`{base_url}/chat/completions`).
    pub base_url: String,
    /// Which environment variable the key came from (for messages; never the key).
    pub api_key_env: String,
    pub api_key: Option<Secret>,
    pub headers: Vec<(String, String)>,
    pub profile: String,
    pub models: Vec<String>,
    /// At most this many requests in flight to this target.
    pub concurrency: Option<usize>,
    /// At most this many requests per second to this target: `targets.NAME.rate_limit` in the
    /// config file, else `--rate-limit` (no environment variable).
    pub rate_limit: Option<f64>,
    /// Capabilities beyond the profile's (the embedded gateway injects faults on request).
    pub extra_capabilities: Vec<crate::suite::Capability>,
}

/// Settings of a run after layering.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Empty: run against the embedded reference gateway.
    pub targets: Vec<Target>,
    pub jobs: usize,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    /// Streams: at most this long without a byte, or without a complete event.
    pub max_gap: Duration,
    /// Streams: at most this many bytes are read (only `max_body_bytes` are kept).
    pub max_stream_bytes: u64,
    /// Streams: at most this many events.
    pub max_events: usize,
    /// Requests per second for every target that sets no `rate_limit` of its own (`--rate-limit`);
    /// the targets above already carry it, this is for targets made later (the embedded ones).
    pub rate_limit: Option<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            targets: Vec::new(),
            jobs: 8,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            max_body_bytes: 16 * 1024 * 1024,
            max_gap: Duration::from_secs(30),
            max_stream_bytes: 256 * 1024 * 1024,
            max_events: 1_000_000,
            rate_limit: None,
        }
    }
}

/// What the command line says (already parsed by clap), before layering.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    /// `NAME=URL` or `NAME=URL@profile`, in order.
    pub targets: Vec<String>,
    pub models: Vec<String>,
    pub jobs: Option<usize>,
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
    pub max_body_bytes: Option<usize>,
    pub max_gap: Option<Duration>,
    pub max_stream_bytes: Option<u64>,
    pub max_events: Option<usize>,
    /// `--rate-limit`: requests per second, for every target without its own `rate_limit`.
    pub rate_limit: Option<f64>,
    /// `--profile-file`: profiles of the user's, registered by their `profile:` name.
    pub profile_files: Vec<PathBuf>,
}

/// A configuration problem: one line that says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default())]
pub struct ConfigError {
    pub message: String,
    pub hint: Option<String>,
}

impl ConfigError {
    fn new(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        ConfigError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// Layers defaults, the config file, the environment and the flags.
///
/// `env` is the process environment as data; `cwd` is where `gatecheck.yaml` is looked for when
/// no `--config`/`GATECHECK_CONFIG` names one.
pub fn resolve(
    flags: &Flags,
    env: &BTreeMap<String, String>,
    cwd: &Path,
) -> Result<Settings, ConfigError> {
    let mut settings = Settings::default();

    // 0. Profile files named on the command line, so that targets can name them.
    for path in &flags.profile_files {
        register_profile(&cwd.join(path), cwd, "--profile-file")?;
    }

    // 1. The config file.
    let explicit = flags
        .config
        .clone()
        .or_else(|| env.get("GATECHECK_CONFIG").map(PathBuf::from));
    let path = match explicit {
        Some(p) => Some(if p.is_absolute() { p } else { cwd.join(p) }),
        None => Some(cwd.join("gatecheck.yaml")).filter(|p| p.is_file()),
    };
    let mut file_targets: Vec<FileTarget> = Vec::new();
    if let Some(path) = path {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            ConfigError::new(
                format!("failed to read config `{}`: {e}", path.display()),
                Some("pass --config PATH to an existing file, or remove GATECHECK_CONFIG".into()),
            )
        })?;
        let shown = path
            .strip_prefix(cwd)
            .unwrap_or(&path)
            .display()
            .to_string();
        let dir = path.parent().unwrap_or(cwd).to_path_buf();
        let file = read_config(&SourceFile::new(shown, text), &dir, cwd)?;
        if let Some(j) = file.jobs {
            settings.jobs = j;
        }
        if let Some(t) = file.connect_timeout {
            settings.connect_timeout = t;
        }
        if let Some(t) = file.timeout {
            settings.timeout = t;
        }
        if let Some(b) = file.max_body_bytes {
            settings.max_body_bytes = b;
        }
        if let Some(g) = file.max_gap {
            settings.max_gap = g;
        }
        if let Some(b) = file.max_stream_bytes {
            settings.max_stream_bytes = b as u64;
        }
        if let Some(n) = file.max_events {
            settings.max_events = n;
        }
        file_targets = file.targets;
    }

    // 2. The environment.
    if let Some(j) = env.get("GATECHECK_JOBS") {
        settings.jobs = parse_positive(j).ok_or_else(|| {
            ConfigError::new(
                format!("GATECHECK_JOBS=`{j}` is not a positive integer"),
                Some("set it to e.g. 8, or unset it".into()),
            )
        })?;
    }
    if let Some(t) = env.get("GATECHECK_TIMEOUT") {
        settings.timeout = parse_duration(t).ok_or_else(|| {
            ConfigError::new(
                format!("GATECHECK_TIMEOUT=`{t}` is not a duration"),
                Some("write e.g. 30s, 1500ms or 2m".into()),
            )
        })?;
    }

    // 3. The flags.
    if let Some(j) = flags.jobs {
        settings.jobs = j;
    }
    if let Some(t) = flags.connect_timeout {
        settings.connect_timeout = t;
    }
    if let Some(t) = flags.timeout {
        settings.timeout = t;
    }
    if let Some(b) = flags.max_body_bytes {
        settings.max_body_bytes = b;
    }
    if let Some(g) = flags.max_gap {
        settings.max_gap = g;
    }
    if let Some(b) = flags.max_stream_bytes {
        settings.max_stream_bytes = b;
    }
    if let Some(n) = flags.max_events {
        settings.max_events = n;
    }
    if let Some(r) = flags.rate_limit {
        if !valid_rate(r) {
            return Err(ConfigError::new(
                format!("--rate-limit {r} is not a positive number of requests per second"),
                Some(
                    "pass e.g. --rate-limit 5, or --rate-limit 0.5 for one request every 2 s"
                        .to_owned(),
                ),
            ));
        }
        settings.rate_limit = Some(r);
    }
    if settings.jobs == 0 {
        return Err(ConfigError::new(
            "--jobs must be at least 1",
            Some("pass --jobs 1 to run one case at a time".to_owned()),
        ));
    }

    // Targets: flags select (and override file targets of the same name); else the file's;
    // else OPENAI_BASE_URL; else none, which means the embedded reference gateway.
    let mut chosen: Vec<FileTarget> = Vec::new();
    if !flags.targets.is_empty() {
        for spec in &flags.targets {
            let (name, url, profile) = parse_target_flag(spec)?;
            if chosen.iter().any(|t| t.name == name) {
                return Err(ConfigError::new(
                    format!("--target `{name}` is given twice"),
                    Some("give each target a distinct name".to_owned()),
                ));
            }
            let mut t = file_targets
                .iter()
                .find(|t| t.name == name)
                .cloned()
                .unwrap_or_else(|| FileTarget::named(&name));
            t.base_url = Some(url);
            if let Some(p) = profile {
                t.profile = Some(p);
            }
            chosen.push(t);
        }
    } else if !file_targets.is_empty() {
        chosen = file_targets;
    } else if let Some(url) = env.get("OPENAI_BASE_URL").filter(|u| !u.is_empty()) {
        let mut t = FileTarget::named("default");
        t.base_url = Some(check_url(url, "OPENAI_BASE_URL")?);
        chosen.push(t);
    }

    for t in chosen {
        let base_url = t.base_url.ok_or_else(|| {
            ConfigError::new(
                format!("target `{}` has no base_url", t.name),
                Some(format!(
                    "set `base_url` for it in the config file or pass --target {}=URL",
                    t.name
                )),
            )
        })?;
        let api_key_env = t.api_key_env.unwrap_or_else(|| DEFAULT_KEY_ENV.to_owned());
        let api_key = env
            .get(&api_key_env)
            .filter(|k| !k.is_empty())
            .map(|k| Secret::new(k.clone()));
        let models = if flags.models.is_empty() {
            t.models
        } else {
            flags.models.clone()
        };
        let models = if models.is_empty() {
            env.get("GATECHECK_MODEL")
                .map(|m| vec![m.clone()])
                .unwrap_or_default()
        } else {
            models
        };
        if models.is_empty() {
            return Err(ConfigError::new(
                format!("target `{}` has no model to test", t.name),
                Some(format!(
                    "pass --model NAME, or set `models:` for `{}` in gatecheck.yaml",
                    t.name
                )),
            ));
        }
        settings.targets.push(Target {
            name: t.name,
            base_url,
            api_key_env,
            api_key,
            headers: t.headers,
            profile: t.profile.unwrap_or_else(|| "openai".to_owned()),
            models,
            concurrency: t.concurrency,
            rate_limit: t.rate_limit.or(settings.rate_limit),
            extra_capabilities: Vec::new(),
        });
    }
    Ok(settings)
}

/// `NAME=URL` or `NAME=URL@profile`.
fn parse_target_flag(spec: &str) -> Result<(String, String, Option<String>), ConfigError> {
    let bad = |why: &str| {
        ConfigError::new(
            format!("invalid --target `{spec}`: {why}"),
            Some("write --target NAME=URL, e.g. --target prod=https://gw.example/v1".to_owned()),
        )
    };
    let (name, rest) = spec
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=URL"))?;
    if !is_target_name(name) {
        return Err(bad("the name may hold letters, digits, `_` and `-` only"));
    }
    let (url, profile) = match rest.rsplit_once('@') {
        Some((url, profile)) if !profile.contains('/') && !profile.contains(':') => {
            let profiles = crate::profile::names();
            if !profiles.contains(&profile) {
                let hint = match did_you_mean(profile, profiles.iter().copied()) {
                    Some(s) => format!("did you mean `@{s}`? profiles: {}", profiles.join(", ")),
                    None => format!("profiles: {}", profiles.join(", ")),
                };
                return Err(ConfigError::new(
                    format!("unknown profile `{profile}` in --target `{spec}`"),
                    Some(hint),
                ));
            }
            (url, Some(profile.to_owned()))
        }
        _ => (rest, None),
    };
    Ok((
        name.to_owned(),
        check_url(url, &format!("--target {name}"))?,
        profile,
    ))
}

fn is_target_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Validates an http(s) base URL and drops a trailing slash.
fn check_url(raw: &str, what: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(raw).map_err(|e| {
        ConfigError::new(
            format!("{what}: `{raw}` is not a URL ({e})"),
            Some("write the base URL with its scheme, e.g. https://gw.example/v1".to_owned()),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ConfigError::new(
            format!("{what}: `{raw}` is not an http(s) URL"),
            Some("use http:// or https://".to_owned()),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ConfigError::new(
            format!("{what}: `{raw}` has a query or fragment"),
            Some("give the base URL only, e.g. https://gw.example/v1".to_owned()),
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// Parses `30s`, `1500ms`, `2m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (num, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// A request rate: a positive, finite number of requests per second.
fn valid_rate(rate: f64) -> bool {
    rate.is_finite() && rate > 0.0
}

fn parse_positive(text: &str) -> Option<usize> {
    text.trim().parse().ok().filter(|&n| n > 0)
}

/// A target as the config file states it (all optional until layering).
#[derive(Debug, Clone, Default)]
struct FileTarget {
    name: String,
    base_url: Option<String>,
    api_key_env: Option<String>,
    headers: Vec<(String, String)>,
    profile: Option<String>,
    models: Vec<String>,
    concurrency: Option<usize>,
    rate_limit: Option<f64>,
}

impl FileTarget {
    fn named(name: &str) -> Self {
        FileTarget {
            name: name.to_owned(),
            ..FileTarget::default()
        }
    }
}

#[derive(Debug, Default)]
struct ConfigFile {
    jobs: Option<usize>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    max_body_bytes: Option<usize>,
    max_gap: Option<Duration>,
    max_stream_bytes: Option<usize>,
    max_events: Option<usize>,
    targets: Vec<FileTarget>,
}

/// Config keys: each names the flag and variable that override it (see README).
const TOP_KEYS: &[&str] = &[
    "profiles",
    "jobs",
    "connect_timeout",
    "timeout",
    "max_body_bytes",
    "max_gap",
    "max_stream_bytes",
    "max_events",
    "targets",
];
const TARGET_KEYS: &[&str] = &[
    "base_url",
    "api_key_env",
    "headers",
    "profile",
    "models",
    "concurrency",
    "rate_limit",
];

/// Reads a profile file and registers it (`crate::profile::register`); a broken one is one line
/// with the place and what to change.
pub fn register_profile(path: &Path, cwd: &Path, from: &str) -> Result<(), ConfigError> {
    let shown = path.strip_prefix(cwd).unwrap_or(path).display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            format!("failed to read profile `{shown}` ({from}): {e}"),
            Some("name an existing profile file (YAML, see schemas/profile.schema.json)".into()),
        )
    })?;
    crate::profile::register(SourceFile::new(shown, text))
        .map(|_| ())
        .map_err(|d| {
            let (line, col) = d.location.file.line_col(d.location.span.start);
            ConfigError::new(
                format!("{}:{line}:{col}: {}", d.location.file.path, d.message),
                d.hint.clone(),
            )
        })
}

fn read_config(file: &SourceFile, dir: &Path, cwd: &Path) -> Result<ConfigFile, ConfigError> {
    let at = |node: &Node, message: String, hint: Option<String>| {
        let (line, col) = file.line_col(node.span.start);
        ConfigError::new(format!("{}:{line}:{col}: {message}", file.path), hint)
    };
    let root = match yaml::parse(&file.text) {
        Ok(Some(root)) => root,
        Ok(None) => return Ok(ConfigFile::default()),
        Err(e) => {
            let (line, col) = file.line_col(e.span.start);
            return Err(ConfigError::new(
                format!("{}:{line}:{col}: {}", file.path, e.message),
                e.hint,
            ));
        }
    };
    let entries = root
        .as_map()
        .ok_or_else(|| at(&root, "the config file must be a mapping".into(), None))?;
    check_keys(entries, TOP_KEYS, "the config file", &at)?;
    let mut out = ConfigFile::default();
    let duration = |node: &Node, key: &str| -> Result<Duration, ConfigError> {
        let text = match &node.kind {
            NodeKind::Str(s) => s.clone(),
            NodeKind::Int(i) => i.to_string(),
            NodeKind::Float(f) => f.to_string(),
            _ => String::new(),
        };
        parse_duration(&text).ok_or_else(|| {
            at(
                node,
                format!("`{key}` must be a duration"),
                Some("write e.g. 30s, 1500ms or 2m".into()),
            )
        })
    };
    let positive = |node: &Node, key: &str| -> Result<usize, ConfigError> {
        match node.kind {
            NodeKind::Int(i) if i > 0 => Ok(i as usize),
            _ => Err(at(
                node,
                format!(
                    "`{key}` must be a positive integer, not {}",
                    node.type_name()
                ),
                None,
            )),
        }
    };
    // Profile files first (relative to the config file), so that targets can name them.
    if let Some(n) = root.get("profiles") {
        let paths = n.as_seq().ok_or_else(|| {
            at(
                n,
                format!(
                    "`profiles` must be a list of profile files, not {}",
                    n.type_name()
                ),
                Some("write e.g. profiles: [profiles/acme-gateway.yaml]".into()),
            )
        })?;
        for p in paths {
            let Some(rel) = p.as_str() else {
                return Err(at(
                    p,
                    format!("a profile file must be a path, not {}", p.type_name()),
                    None,
                ));
            };
            register_profile(&dir.join(rel), cwd, "`profiles` in the config file")?;
        }
    }
    if let Some(n) = root.get("jobs") {
        out.jobs = Some(positive(n, "jobs")?);
    }
    if let Some(n) = root.get("connect_timeout") {
        out.connect_timeout = Some(duration(n, "connect_timeout")?);
    }
    if let Some(n) = root.get("timeout") {
        out.timeout = Some(duration(n, "timeout")?);
    }
    if let Some(n) = root.get("max_body_bytes") {
        out.max_body_bytes = Some(positive(n, "max_body_bytes")?);
    }
    if let Some(n) = root.get("max_gap") {
        out.max_gap = Some(duration(n, "max_gap")?);
    }
    if let Some(n) = root.get("max_stream_bytes") {
        out.max_stream_bytes = Some(positive(n, "max_stream_bytes")?);
    }
    if let Some(n) = root.get("max_events") {
        out.max_events = Some(positive(n, "max_events")?);
    }
    if let Some(targets) = root.get("targets") {
        let entries = targets.as_map().ok_or_else(|| {
            at(
                targets,
                format!(
                    "`targets` must be a mapping of name to target, not {}",
                    targets.type_name()
                ),
                Some("write `targets:` then `  prod:` then `    base_url: https://...`".into()),
            )
        })?;
        for (k, v) in entries {
            let name = k
                .as_str()
                .filter(|n| is_target_name(n))
                .ok_or_else(|| {
                    at(
                        k,
                        "a target name holds letters, digits, `_` and `-` only".into(),
                        None,
                    )
                })?
                .to_owned();
            let what = format!("target `{name}`");
            let fields = v.as_map().ok_or_else(|| {
                at(
                    v,
                    format!("{what} must be a mapping, not {}", v.type_name()),
                    None,
                )
            })?;
            check_keys(fields, TARGET_KEYS, &what, &at)?;
            let mut t = FileTarget::named(&name);
            let string = |node: &Node, key: &str| -> Result<String, ConfigError> {
                node.as_str().map(str::to_owned).ok_or_else(|| {
                    at(
                        node,
                        format!(
                            "`{key}` of {what} must be a string, not {}",
                            node.type_name()
                        ),
                        None,
                    )
                })
            };
            if let Some(n) = v.get("base_url") {
                let raw = string(n, "base_url")?;
                t.base_url = Some(check_url(&raw, &what).map_err(|e| at(n, e.message, e.hint))?);
            }
            if let Some(n) = v.get("api_key_env") {
                let var = string(n, "api_key_env")?;
                if var.starts_with("sk-") || var.contains(' ') || var.is_empty() {
                    return Err(at(
                        n,
                        format!("`api_key_env` of {what} must name an environment variable"),
                        Some(
                            "write the variable's name (e.g. PROD_API_KEY), never the key itself"
                                .into(),
                        ),
                    ));
                }
                t.api_key_env = Some(var);
            }
            if let Some(n) = v.get("profile") {
                let p = string(n, "profile")?;
                let profiles = crate::profile::names();
                if !profiles.contains(&p.as_str()) {
                    let hint = match did_you_mean(&p, profiles.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? profiles: {}", profiles.join(", ")),
                        None => format!("profiles: {}", profiles.join(", ")),
                    };
                    return Err(at(
                        n,
                        format!("unknown profile `{p}` for {what}"),
                        Some(hint),
                    ));
                }
                t.profile = Some(p);
            }
            if let Some(n) = v.get("models") {
                let items = n.as_seq().ok_or_else(|| {
                    at(
                        n,
                        format!("`models` of {what} must be a list of model ids"),
                        Some("write `models: [gpt-4o-mini]`".into()),
                    )
                })?;
                for item in items {
                    t.models.push(string(item, "models")?);
                }
            }
            if let Some(n) = v.get("concurrency") {
                t.concurrency = Some(positive(n, "concurrency")?);
            }
            if let Some(n) = v.get("rate_limit") {
                let rate = match n.kind {
                    NodeKind::Int(i) => Some(i as f64),
                    NodeKind::Float(f) => Some(f),
                    _ => None,
                };
                t.rate_limit = Some(rate.filter(|&r| valid_rate(r)).ok_or_else(|| {
                    at(
                        n,
                        format!(
                            "`rate_limit` of {what} must be a positive number of requests per second, not {}",
                            describe_number(n)
                        ),
                        Some("write e.g. `rate_limit: 5`, or `rate_limit: 0.5` for one request every 2 s".into()),
                    )
                })?);
            }
            if let Some(n) = v.get("headers") {
                let items = n
                    .as_map()
                    .ok_or_else(|| at(n, format!("`headers` of {what} must be a mapping"), None))?;
                for (hk, hv) in items {
                    let name = string(hk, "headers")?;
                    if name.eq_ignore_ascii_case("authorization") {
                        return Err(at(
                            hk,
                            format!("{what} sets `Authorization` in `headers`"),
                            Some("keys never live in config files: set `api_key_env` to the variable that holds the key".into()),
                        ));
                    }
                    t.headers.push((name, string(hv, "headers")?));
                }
            }
            out.targets.push(t);
        }
    }
    Ok(out)
}

/// A value that was meant to be a number, for messages: the number itself, or its type.
fn describe_number(node: &Node) -> String {
    match node.kind {
        NodeKind::Int(i) => format!("`{i}`"),
        NodeKind::Float(f) => format!("`{f}`"),
        _ => node.type_name().to_owned(),
    }
}

fn check_keys(
    entries: &[(Node, Node)],
    allowed: &[&str],
    what: &str,
    at: &impl Fn(&Node, String, Option<String>) -> ConfigError,
) -> Result<(), ConfigError> {
    for (k, _) in entries {
        let name = k.as_str().unwrap_or("");
        if !allowed.contains(&name) {
            let hint = match did_you_mean(name, allowed.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("{what} takes: {}", allowed.join(", ")),
            };
            return Err(at(k, format!("unknown key `{name}` in {what}"), Some(hint)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn with_file(text: &str) -> (tempdir::Dir, Flags) {
        let dir = tempdir::Dir::new();
        std::fs::write(dir.path().join("gatecheck.yaml"), text).unwrap();
        (dir, Flags::default())
    }

    /// A throwaway directory, removed on drop.
    mod tempdir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static N: AtomicUsize = AtomicUsize::new(0);
                let p = std::env::temp_dir().join(format!(
                    "gatecheck-config-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn profile_files_of_ones_own_are_named_by_targets() {
        let (dir, mut flags) = with_file(
            "profiles: [gw/acme.yaml]\ntargets:\n  prod:\n    base_url: http://127.0.0.1:1/v1\n    profile: acme-config\n    models: [m]\n",
        );
        std::fs::create_dir_all(dir.path().join("gw")).unwrap();
        let profile = |name: &str| {
            format!(
                "profile: {name}\ntitle: Acme\nsource: our wiki\nsummary: s\ncapabilities: [chat]\n"
            )
        };
        std::fs::write(dir.path().join("gw/acme.yaml"), profile("acme-config")).unwrap();
        std::fs::write(dir.path().join("flag.yaml"), profile("acme-flag")).unwrap();
        flags.profile_files = vec!["flag.yaml".into()];
        flags.targets = vec!["other=http://127.0.0.1:2/v1@acme-flag".into()];
        flags.models = vec!["m".into()];
        let s = resolve(&flags, &env(&[]), dir.path()).unwrap();
        assert_eq!(s.targets[0].profile, "acme-flag");
        assert_eq!(
            crate::profile::get("acme-config").unwrap().source,
            "our wiki"
        );

        // A broken profile file: one line, its place, what to change.
        std::fs::write(
            dir.path().join("gw/acme.yaml"),
            "profile: acme-broken\ntitle: A\nsource: s\nsummary: s\ncapabilities: [chta]\n",
        )
        .unwrap();
        let e = resolve(&Flags::default(), &env(&[]), dir.path()).unwrap_err();
        let line = e.to_string();
        assert!(line.starts_with("gw/acme.yaml:5:"), "{line}");
        assert!(
            line.contains("did you mean") || line.contains("chta"),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn no_target_anywhere_means_the_embedded_gateway() {
        let dir = tempdir::Dir::new();
        let s = resolve(&Flags::default(), &env(&[]), dir.path()).unwrap();
        assert!(s.targets.is_empty());
        assert_eq!(s.jobs, 8);
    }

    #[test]
    fn openai_base_url_defines_a_default_target() {
        let dir = tempdir::Dir::new();
        let e = env(&[
            ("OPENAI_BASE_URL", "https://app.example.com/api/openai/v1/"),
            ("OPENAI_API_KEY", "sk-secret"),
            ("GATECHECK_MODEL", "m"),
        ]);
        let s = resolve(&Flags::default(), &e, dir.path()).unwrap();
        let t = &s.targets[0];
        assert_eq!(t.name, "default");
        assert_eq!(t.base_url, "https://app.example.com/api/openai/v1");
        assert_eq!(t.api_key, Some(Secret::new("sk-secret")));
    }

    #[test]
    fn layers_apply_in_order_defaults_file_env_flags() {
        let (dir, mut flags) = with_file(
            "jobs: 3\ntimeout: 5s\ntargets:\n  a:\n    base_url: http://127.0.0.1:1/v1\n    models: [m]\n",
        );
        let s = resolve(&flags, &env(&[]), dir.path()).unwrap();
        assert_eq!((s.jobs, s.timeout), (3, Duration::from_secs(5)));
        let e = env(&[("GATECHECK_JOBS", "5"), ("GATECHECK_TIMEOUT", "7s")]);
        let s = resolve(&flags, &e, dir.path()).unwrap();
        assert_eq!((s.jobs, s.timeout), (5, Duration::from_secs(7)));
        flags.jobs = Some(9);
        let s = resolve(&flags, &e, dir.path()).unwrap();
        assert_eq!((s.jobs, s.timeout), (9, Duration::from_secs(7)));
    }

    #[test]
    fn a_target_flag_overrides_the_file_target_of_the_same_name() {
        let (dir, mut flags) = with_file(
            "targets:\n  prod:\n    base_url: https://old.example/v1\n    api_key_env: PROD_KEY\n    models: [gpt-4o-mini]\n    headers: {X-Org: acme}\n  other:\n    base_url: https://other.example/v1\n    models: [x]\n",
        );
        flags.targets = vec!["prod=https://new.example/v1@openai".into()];
        let e = env(&[("PROD_KEY", "sk-prod")]);
        let s = resolve(&flags, &e, dir.path()).unwrap();
        assert_eq!(s.targets.len(), 1, "flags select targets");
        let t = &s.targets[0];
        assert_eq!(t.base_url, "https://new.example/v1");
        assert_eq!(t.api_key_env, "PROD_KEY");
        assert_eq!(t.api_key, Some(Secret::new("sk-prod")));
        assert_eq!(t.headers, vec![("X-Org".to_owned(), "acme".to_owned())]);
    }

    #[test]
    fn bad_target_flags_get_one_line_that_says_what_to_change() {
        let dir = tempdir::Dir::new();
        let run = |spec: &str| {
            let flags = Flags {
                targets: vec![spec.into()],
                models: vec!["m".into()],
                ..Flags::default()
            };
            resolve(&flags, &env(&[]), dir.path())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            run("prod"),
            "invalid --target `prod`: expected NAME=URL (hint: write --target NAME=URL, e.g. --target prod=https://gw.example/v1)"
        );
        assert!(run("prod=ftp://x").contains("not an http(s) URL"));
        assert!(run("prod=http://x/v1@opena").contains("did you mean `@openai`?"));
        assert!(!run("prod=nonsense").contains('\n'));
    }

    #[test]
    fn config_errors_name_the_line_and_the_fix() {
        let (dir, flags) = with_file("targets:\n  prod:\n    base_ur: https://x/v1\n");
        let e = resolve(&flags, &env(&[]), dir.path())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "gatecheck.yaml:3:5: unknown key `base_ur` in target `prod` (hint: did you mean `base_url`?)"
        );
        let (dir, flags) = with_file("targets:\n  prod:\n    base_url: https://x/v1\n");
        let e = resolve(&flags, &env(&[]), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no model") && e.contains("--model"), "{e}");
        let (dir, flags) =
            with_file("targets:\n  p:\n    base_url: https://x/v1\n    api_key_env: sk-live-123\n");
        let e = resolve(&flags, &env(&[]), dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("never the key itself") && !e.contains("sk-live-123"),
            "{e}"
        );
    }

    #[test]
    fn rate_limits_come_from_the_target_else_the_flag() {
        let (dir, mut flags) = with_file(
            "targets:\n  slow:\n    base_url: http://127.0.0.1:1/v1\n    models: [m]\n    rate_limit: 0.5\n  fast:\n    base_url: http://127.0.0.1:2/v1\n    models: [m]\n",
        );
        let rates =
            |s: &Settings| -> Vec<Option<f64>> { s.targets.iter().map(|t| t.rate_limit).collect() };
        let s = resolve(&flags, &env(&[]), dir.path()).unwrap();
        assert_eq!(rates(&s), [Some(0.5), None]);
        flags.rate_limit = Some(4.0);
        let s = resolve(&flags, &env(&[]), dir.path()).unwrap();
        assert_eq!(rates(&s), [Some(0.5), Some(4.0)]);
        assert_eq!(s.rate_limit, Some(4.0), "kept for the embedded targets");
        let (dir, flags) = with_file(
            "targets:\n  t:\n    base_url: http://127.0.0.1:1/v1\n    models: [m]\n    rate_limit: 3\n",
        );
        let s = resolve(&flags, &env(&[]), dir.path()).unwrap();
        assert_eq!(rates(&s), [Some(3.0)], "an integer is a rate too");
    }

    #[test]
    fn bad_rate_limits_get_one_line_that_says_what_to_change() {
        let file_error = |value: &str| {
            let (dir, flags) = with_file(&format!(
                "targets:\n  t:\n    base_url: http://127.0.0.1:1/v1\n    models: [m]\n    rate_limit: {value}\n"
            ));
            resolve(&flags, &env(&[]), dir.path())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            file_error("0"),
            "gatecheck.yaml:5:17: `rate_limit` of target `t` must be a positive number of requests per second, not `0` (hint: write e.g. `rate_limit: 5`, or `rate_limit: 0.5` for one request every 2 s)"
        );
        for bad in ["-2", ".inf", ".nan", "fast", "[1]"] {
            let e = file_error(bad);
            assert!(
                e.contains("must be a positive number") && !e.contains('\n'),
                "{bad}: {e}"
            );
        }
        let dir = tempdir::Dir::new();
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            let flags = Flags {
                rate_limit: Some(bad),
                ..Flags::default()
            };
            let e = resolve(&flags, &env(&[]), dir.path())
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("--rate-limit ") && e.contains("(hint: pass e.g. --rate-limit 5"),
                "{e}"
            );
        }
    }

    #[test]
    fn secrets_print_nothing() {
        let s = Secret::new("sk-very-secret");
        assert!(!format!("{s:?}").contains("very"));
        assert!(!format!("{s}").contains("very"));
        let t = Target {
            name: "t".into(),
            base_url: "http://x".into(),
            api_key_env: "K".into(),
            api_key: Some(s),
            headers: vec![],
            profile: "openai".into(),
            models: vec![],
            concurrency: None,
            rate_limit: None,
            extra_capabilities: Vec::new(),
        };
        assert!(!format!("{t:?}").contains("very"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("soon"), None);
    }
}
