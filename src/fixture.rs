//! Recorded exchanges on disk (`fixtures/exchanges/**/*.http`): a suite case, the raw HTTP
//! response it got, and the findings the judge must raise. The self-tests judge every fixture
//! and compare; the same files document, by example, what each check catches.
//!
//! ```text
//! # what this exchange shows, and where it comes from (one or more `#` lines)
//! # source: recorded from llmock 0.2.2 | hand-written after vllm-project/vllm#12886
//! === case
//! name: flat_error
//! request:
//!   path: /chat/completions
//!   body: {model: ${model}, messages: [{role: user, content: hi}]}
//! expect: {error: unknown_model}
//! === response
//! HTTP/1.1 404 Not Found
//! content-type: application/json
//!
//! {"object":"error","message":"...","code":404}
//! === findings
//! outcome: fail
//! err.envelope violation
//! ```
//!
//! The response section is kept byte for byte (the file is marked `-text` in `.gitattributes`);
//! the line break before the next `=== ` marker belongs to the marker, so a stream that ends in
//! a blank line is followed by one more empty line. In the case, `${model}` is `gpt-4o-mini` and
//! the target is `fixture`.
//!
//! An optional `=== reads` section (between response and findings) says how the body arrived:
//! one line per network read, `OFFSET MILLISECONDS` (the read starts at that byte of the body).
//! Without it the body arrives in one read at 0 ms.
//!
//! An optional `=== companion` section (after the reads) holds the raw answer to the same
//! request without streaming, for cases with `expect: {matches_nonstream: true}`.
//!
//! A fixture is judged under the `openai` profile unless a `# profile: NAME` line among the
//! leading comment lines names another one (a shipped profile; an unknown name is an error that
//! lists them): its variables fill the case (`${model}` stays `gpt-4o-mini`: write a namespaced
//! model literally), its documented deviations become `variant` and its `profile.*` checks run.
//! Such a fixture proves both directions with an optional `=== findings under openai` section
//! after `=== findings`, in the same syntax: what the strict judge (`Judging { strict: true, .. }`,
//! `--strict`) raises on the same exchange, where nothing is documented away.
//!
//! ```text
//! # meingpt's documented error body: a variant under meingpt, a violation under openai
//! # source: recorded from the reference gateway's meingpt dialect (`gatecheck serve`)
//! # profile: meingpt
//! === case
//! ...
//! === findings
//! outcome: pass
//! err.envelope variant
//! === findings under openai
//! outcome: fail
//! err.envelope violation
//! ```
//!
//! `tests/fixtures.rs` holds baselines (a `baseline/` folder) to this: under `openai` they raise
//! nothing; under another profile only `variant` and `info`, and their `=== findings under
//! openai` lists the same checks (the `profile.*` ones aside, which run only under a profile).

use std::path::Path;
use std::sync::Arc;

use crate::catalog::Severity;
use crate::check::{Judging, Outcome};
use crate::config::Target;
use crate::diag::SourceFile;
use std::time::Duration;

use crate::exchange::{Exchange, Read, SentRequest};
use crate::plan::{self, PlannedCase};

/// The model `${model}` stands for in fixtures.
pub const MODEL: &str = "gpt-4o-mini";

/// The profile a fixture is judged under unless it names one.
pub const DEFAULT_PROFILE: &str = "openai";

/// The marker of the optional section with the strict judge's findings.
const UNDER_OPENAI: &[u8] = b"\n=== findings under openai\n";

/// One parsed fixture.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub path: String,
    /// The leading `#` lines, without the `# ` (and without the `# profile:` line).
    pub description: Vec<String>,
    /// The profile the fixture is judged under (`# profile: NAME`, `openai` by default).
    pub profile: String,
    pub case: PlannedCase,
    pub exchange: Exchange,
    /// The non-stream answer, for `matches_nonstream` cases.
    pub companion: Option<Exchange>,
    /// What the judge raises under the fixture's profile.
    pub expected: Expected,
    /// What the strict `openai` judge raises on the same exchange (`=== findings under openai`).
    pub under_openai: Option<Expected>,
}

/// A findings section: the outcome and the findings, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub outcome: Outcome,
    /// `(check id, severity)` in the order the judge must report them.
    pub findings: Vec<(String, Severity)>,
}

impl Fixture {
    /// Each way the fixture is to be judged, with what it must raise: under its profile, then
    /// (when it says) under the strict `openai` judge.
    pub fn judgements(&self) -> Vec<(Judging, &Expected)> {
        let mut out = vec![(Judging::default(), &self.expected)];
        if let Some(strict) = &self.under_openai {
            out.push((
                Judging {
                    strict: true,
                    ..Judging::default()
                },
                strict,
            ));
        }
        out
    }

    /// Judges the recorded exchange (and its companion) as the runner would have.
    pub fn judge(&self, judging: Judging) -> crate::check::Verdict {
        use crate::check::{self, Observed};
        let report = check::streamed_answer(&self.case, &self.exchange).then(|| {
            check::stream::judge_recorded(
                self.case.request.json.as_ref(),
                &self.exchange.body,
                &self.exchange.reads,
                self.exchange.timing.total,
                None,
                check::stream::StreamLimits::default(),
            )
        });
        check::judge_observed(
            &self.case,
            Observed {
                exchange: &self.exchange,
                stream: report.as_ref(),
                companion: self.companion.as_ref(),
            },
            judging,
        )
    }
}

/// Reads and parses a fixture file.
pub fn load(path: &Path) -> Result<Fixture, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    parse(&path.display().to_string(), &bytes)
}

/// Parses fixture bytes.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Fixture, String> {
    let err = |m: &str| format!("{path}: {m}");
    let case_at = find(bytes, b"=== case\n").ok_or_else(|| err("no `=== case` section"))?;
    let response_at =
        find(bytes, b"\n=== response\n").ok_or_else(|| err("no `=== response` section"))?;
    let findings_at =
        find(bytes, b"\n=== findings\n").ok_or_else(|| err("no `=== findings` section"))?;
    if !(case_at < response_at && response_at < findings_at) {
        return Err(err(
            "sections must come in the order case, response, findings",
        ));
    }
    let under_openai_at = find(&bytes[response_at..], UNDER_OPENAI).map(|i| i + response_at);
    if under_openai_at.is_some_and(|at| at < findings_at) {
        return Err(err(
            "`=== findings under openai` comes after `=== findings`",
        ));
    }
    let findings_end = under_openai_at.unwrap_or(bytes.len());
    let companion_at =
        find(&bytes[response_at..findings_at], b"\n=== companion\n").map(|i| i + response_at);
    let response_end = companion_at.unwrap_or(findings_at);
    let reads_at =
        find(&bytes[response_at..response_end], b"\n=== reads\n").map(|i| i + response_at);
    let header =
        std::str::from_utf8(&bytes[..case_at]).map_err(|_| err("the header is not UTF-8"))?;
    let mut profile = None;
    let mut description = Vec::new();
    for line in header.lines().filter_map(|l| l.strip_prefix('#')) {
        match line.trim().strip_prefix("profile:") {
            Some(name) if profile.is_some() => {
                return Err(err(&format!(
                    "a second `# profile:` line (`{}`)",
                    name.trim()
                )));
            }
            Some(name) => profile = Some(known_profile(name.trim()).map_err(|m| err(&m))?),
            None => description.push(line.trim().to_owned()),
        }
    }
    let profile = profile.unwrap_or(DEFAULT_PROFILE).to_owned();
    if description.is_empty() {
        return Err(err(
            "start with `#` lines that say what the exchange shows and where it comes from",
        ));
    }
    if under_openai_at.is_some() && profile == DEFAULT_PROFILE {
        return Err(err(
            "`=== findings under openai` is for fixtures judged under another profile (`# profile: NAME`)",
        ));
    }
    let case_text = std::str::from_utf8(&bytes[case_at + "=== case\n".len()..response_at])
        .map_err(|_| err("the case is not UTF-8"))?;
    let response = &bytes[response_at + "\n=== response\n".len()..reads_at.unwrap_or(response_end)];
    let reads_text = match reads_at {
        Some(at) => std::str::from_utf8(&bytes[at + "\n=== reads\n".len()..response_end])
            .map_err(|_| err("the reads are not UTF-8"))?,
        None => "",
    };

    let case = plan_case(path, case_text, &profile)?;
    let mut exchange = parse_response(&case, response).map_err(|m| err(&m))?;
    if reads_at.is_some() {
        exchange.reads = parse_reads(reads_text, exchange.body.len()).map_err(|m| err(&m))?;
        exchange.timing.total = exchange.reads.last().map_or(Duration::ZERO, |r| r.at);
        exchange.timing.first_byte = exchange.reads.first().map(|r| r.at);
    }
    let companion = match companion_at {
        Some(at) => {
            let raw = &bytes[at + "\n=== companion\n".len()..findings_at];
            let mut plain = case.clone();
            plain.request = case
                .companion
                .clone()
                .ok_or_else(|| err("a companion needs `expect: {matches_nonstream: true}`"))?;
            Some(parse_response(&plain, raw).map_err(|m| err(&format!("companion: {m}")))?)
        }
        None => None,
    };
    let section = |from: usize, to: usize, name: &str| {
        std::str::from_utf8(&bytes[from..to])
            .map_err(|_| err(&format!("the {name} are not UTF-8")))
            .and_then(|text| parse_findings(text).map_err(|m| err(&format!("{name}: {m}"))))
    };
    let expected = section(
        findings_at + "\n=== findings\n".len(),
        findings_end,
        "findings",
    )?;
    let under_openai = under_openai_at
        .map(|at| {
            section(
                at + UNDER_OPENAI.len(),
                bytes.len(),
                "findings under openai",
            )
        })
        .transpose()?;
    Ok(Fixture {
        path: path.to_owned(),
        description,
        profile,
        case,
        exchange,
        companion,
        expected,
        under_openai,
    })
}

/// The shipped profile of that name, or an error listing them.
fn known_profile(name: &str) -> Result<&'static str, String> {
    crate::profile::get(name)
        .map(|p| p.name.as_str())
        .ok_or_else(|| {
            format!(
                "unknown profile `{name}` in `# profile:` (the profiles are {})",
                crate::profile::names().join(", ")
            )
        })
}

/// A findings section: an `outcome:` line and `check severity` lines (`#` lines are comments).
fn parse_findings(text: &str) -> Result<Expected, String> {
    let mut outcome = None;
    let mut findings = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if let Some(o) = line.strip_prefix("outcome:") {
            outcome = Some(
                parse_outcome(o.trim()).ok_or_else(|| format!("unknown outcome `{}`", o.trim()))?,
            );
            continue;
        }
        let (id, sev) = line
            .split_once(' ')
            .ok_or_else(|| format!("a finding line is `check severity`, not `{line}`"))?;
        if crate::catalog::lookup(id).is_none() {
            return Err(format!("unknown check `{id}`"));
        }
        let sev = Severity::parse(sev.trim()).ok_or_else(|| format!("unknown severity `{sev}`"))?;
        findings.push((id.to_owned(), sev));
    }
    Ok(Expected {
        outcome: outcome.ok_or("the section needs an `outcome:` line")?,
        findings,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn plan_case(path: &str, case_text: &str, profile: &str) -> Result<PlannedCase, String> {
    let mut suite_text = String::from("cases:\n");
    for (i, line) in case_text.lines().enumerate() {
        suite_text.push_str(if i == 0 { "  - " } else { "    " });
        suite_text.push_str(line);
        suite_text.push('\n');
    }
    let (suite, _) =
        crate::suite::load_one(SourceFile::new(path, suite_text)).map_err(|diags| {
            diags
                .iter()
                .map(|d| d.render(false))
                .collect::<Vec<_>>()
                .join("\n")
        })?;
    let target = Arc::new(fixture_target(profile));
    let mut plan = plan::build(&[suite], &[target]);
    if plan.cases.len() != 1 {
        return Err(format!(
            "{path}: a fixture holds exactly one case (no `parametrize`)"
        ));
    }
    Ok(plan.cases.remove(0))
}

/// The target fixtures are judged as, with the profile they name.
pub fn fixture_target(profile: &str) -> Target {
    Target {
        name: "fixture".into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        api_key_env: "OPENAI_API_KEY".into(),
        api_key: None,
        headers: Vec::new(),
        profile: profile.into(),
        models: vec![MODEL.into()],
        concurrency: None,
        rate_limit: None,
        extra_capabilities: Vec::new(),
    }
}

fn parse_response(case: &PlannedCase, raw: &[u8]) -> Result<Exchange, String> {
    let head_end = find(raw, b"\n\n").ok_or("the response needs a blank line after its headers")?;
    let head =
        std::str::from_utf8(&raw[..head_end]).map_err(|_| "the response head is not UTF-8")?;
    let body = raw[head_end + 2..].to_vec();
    let mut lines = head.lines();
    let status_line = lines.next().ok_or("the response has no status line")?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line `{status_line}` (write `HTTP/1.1 200 OK`)"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line `{line}`"))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let request = SentRequest {
        method: case.request.method.as_str().to_owned(),
        url: case.request.url.clone(),
        headers: Vec::new(),
        body: case.request.body.clone().unwrap_or_default(),
    };
    Ok(Exchange::from_parts(request, status, headers, body))
}

/// `OFFSET MILLISECONDS` lines into reads covering the whole body.
fn parse_reads(text: &str, body_len: usize) -> Result<Vec<Read>, String> {
    let mut starts: Vec<(usize, Duration)> = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (offset, ms) = line
            .split_once(' ')
            .ok_or_else(|| format!("a read is `OFFSET MILLISECONDS`, not `{line}`"))?;
        let offset: usize = offset
            .trim()
            .parse()
            .map_err(|_| format!("bad offset in `{line}`"))?;
        let ms: f64 = ms
            .trim()
            .parse()
            .map_err(|_| format!("bad milliseconds in `{line}`"))?;
        if offset > body_len || starts.last().is_some_and(|(o, _)| *o >= offset) {
            return Err(format!(
                "read offsets must increase and stay within the body (`{line}`)"
            ));
        }
        starts.push((offset, Duration::from_secs_f64(ms / 1000.0)));
    }
    if starts.first().is_some_and(|(o, _)| *o != 0) {
        return Err("the first read starts at offset 0".into());
    }
    Ok(starts
        .iter()
        .enumerate()
        .map(|(i, (offset, at))| {
            let end = starts.get(i + 1).map_or(body_len, |(o, _)| *o);
            Read {
                offset: *offset,
                len: end - offset,
                at: *at,
            }
        })
        .collect())
}

fn parse_outcome(s: &str) -> Option<Outcome> {
    [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::Error,
        Outcome::Inconclusive,
        Outcome::Skipped,
    ]
    .into_iter()
    .find(|o| o.as_str() == s)
}

/// Every fixture file under `dir`, sorted.
pub fn discover(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "http") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# a flat vLLM-style error
# source: hand-written after vllm-project/vllm#12886
=== case
name: flat_error
request:
  path: /chat/completions
  body: {model: '${model}', messages: [{role: user, content: hi}]}
expect: {error: unknown_model}
=== response
HTTP/1.1 404 Not Found
content-type: application/json

{\"object\":\"error\",\"message\":\"nope\",\"code\":404}
=== findings
outcome: fail
err.envelope violation
";

    #[test]
    fn parses_every_section() {
        let f = parse("x.http", SAMPLE.as_bytes()).unwrap();
        assert_eq!(
            f.description[1],
            "source: hand-written after vllm-project/vllm#12886"
        );
        assert_eq!(f.case.request.json.as_ref().unwrap()["model"], MODEL);
        assert_eq!(f.exchange.status(), Some(404));
        assert_eq!(
            f.exchange.body,
            br#"{"object":"error","message":"nope","code":404}"#
        );
        assert_eq!(f.profile, "openai");
        assert_eq!(f.expected.outcome, Outcome::Fail);
        assert_eq!(
            f.expected.findings,
            vec![("err.envelope".to_owned(), Severity::Violation)]
        );
        assert_eq!(f.under_openai, None);
        assert_eq!(f.judgements().len(), 1);
    }

    #[test]
    fn a_fixture_names_its_profile_and_what_openai_says() {
        let text = SAMPLE.replace("=== case", "# profile: meingpt\n=== case")
            + "=== findings under openai\noutcome: fail\n# the flat body\nerr.envelope violation\n";
        let f = parse("x.http", text.as_bytes()).unwrap();
        assert_eq!(f.profile, "meingpt");
        assert_eq!(f.case.target.profile, "meingpt");
        assert_eq!(
            f.description.len(),
            2,
            "the profile line is not description"
        );
        let strict = f.under_openai.as_ref().unwrap();
        assert_eq!(strict.outcome, Outcome::Fail);
        assert_eq!(
            strict.findings,
            [("err.envelope".to_owned(), Severity::Violation)]
        );
        assert_eq!(
            f.expected.findings.len(),
            1,
            "each section ends at the next"
        );
        let ways: Vec<bool> = f.judgements().iter().map(|(j, _)| j.strict).collect();
        assert_eq!(ways, [false, true]);
    }

    #[test]
    fn profiles_must_exist_and_the_openai_section_needs_one() {
        let bad = SAMPLE.replace("=== case", "# profile: ml_router\n=== case");
        let e = parse("x.http", bad.as_bytes()).unwrap_err();
        assert!(
            e.contains("unknown profile `ml_router`") && e.contains("openai, apigo, meingpt"),
            "{e}"
        );
        let bad = SAMPLE.to_owned() + "=== findings under openai\noutcome: fail\n";
        let e = parse("x.http", bad.as_bytes()).unwrap_err();
        assert!(e.contains("`# profile: NAME`"), "{e}");
        let bad = SAMPLE.replace("=== case", "# profile: apigo\n=== case")
            + "=== findings under openai\nerr.envelope violation\n";
        let e = parse("x.http", bad.as_bytes()).unwrap_err();
        assert!(
            e.contains("findings under openai: the section needs an `outcome:` line"),
            "{e}"
        );
    }

    #[test]
    fn rejects_unknown_checks_and_missing_outcomes() {
        let bad = SAMPLE.replace("err.envelope", "err.envelop");
        assert!(
            parse("x.http", bad.as_bytes())
                .unwrap_err()
                .contains("unknown check `err.envelop`")
        );
        let bad = SAMPLE.replace("outcome: fail\n", "");
        assert!(
            parse("x.http", bad.as_bytes())
                .unwrap_err()
                .contains("outcome")
        );
    }

    #[test]
    fn reads_say_when_each_piece_arrived() {
        let text = SAMPLE.replace("=== findings", "=== reads\n0 0\n10 5.5\n=== findings");
        let f = parse("x.http", text.as_bytes()).unwrap();
        let reads: Vec<(usize, usize, u128)> = f
            .exchange
            .reads
            .iter()
            .map(|r| (r.offset, r.len, r.at.as_micros()))
            .collect();
        assert_eq!(reads, [(0, 10, 0), (10, f.exchange.body.len() - 10, 5500)]);
        assert_eq!(f.exchange.timing.total, Duration::from_micros(5500));
    }
}
