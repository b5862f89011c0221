//! Waivers: deviations a team has accepted for a while, each with a reason and an expiry date.
//! A finding (or, against a baseline, a regression) that a waiver matches does not fail the
//! run; a waiver past its date fails it, so nothing stays accepted by accident.
//!
//! ```yaml
//! # reports/baselines/waivers.yaml (read with --baseline DIR, or named with --waivers PATH)
//! waivers:
//!   - target: llmock              # a target name, or `*`
//!     check: resp.schema          # a check id, an area (`err.*`), or `shape` (a changed shape)
//!     case: "core::*"             # optional: the case names it covers (`*` matches anything)
//!     path: /choices/*/logprobs   # optional: the finding's JSON pointer (`*` likewise)
//!     reason: llmock 0.2 omits logprobs; fixed upstream (ACME-123)
//!     expires: 2027-03-31
//! ```

use std::path::Path;

use crate::diag::SourceFile;
use crate::yaml::{self, Node};

/// One accepted deviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// `file:line:col` of the entry, to name it in messages.
    pub at: String,
    pub target: String,
    pub check: String,
    pub case: Option<String>,
    pub path: Option<String>,
    pub reason: String,
    pub expires: Date,
}

/// A calendar date (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Date {
    /// `YYYY-MM-DD`, a real day.
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let date = Date {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let leap = date.year % 4 == 0 && (date.year % 100 != 0 || date.year % 400 == 0);
        let days = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        ((1..=12).contains(&date.month)
            && date.day >= 1
            && date.day <= days[date.month as usize - 1])
            .then_some(date)
    }

    /// Today, in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days((secs / 86_400) as i64)
    }

    /// The civil date `days` after 1970-01-01 (Howard Hinnant's algorithm).
    fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

/// A waiver file that cannot be used: one line that says where and what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default())]
pub struct WaiverError {
    pub message: String,
    pub hint: Option<String>,
}

const KEYS: &[&str] = &["target", "check", "case", "path", "reason", "expires"];

/// Reads a waiver file.
pub fn load(path: &Path) -> Result<Vec<Waiver>, WaiverError> {
    let text = std::fs::read_to_string(path).map_err(|e| WaiverError {
        message: format!("failed to read the waivers `{}`: {e}", path.display()),
        hint: Some("pass --waivers PATH to a YAML file with a `waivers:` list".into()),
    })?;
    parse(&SourceFile::new(path.display().to_string(), text))
}

/// Parses a waiver file's text.
pub fn parse(file: &SourceFile) -> Result<Vec<Waiver>, WaiverError> {
    let at = |node: &Node, message: String, hint: Option<&str>| {
        let (line, col) = file.line_col(node.span.start);
        WaiverError {
            message: format!("{}:{line}:{col}: {message}", file.path),
            hint: hint.map(str::to_owned),
        }
    };
    let root = match yaml::parse(&file.text) {
        Ok(Some(root)) => root,
        Ok(None) => return Ok(Vec::new()),
        Err(e) => {
            let (line, col) = file.line_col(e.span.start);
            return Err(WaiverError {
                message: format!("{}:{line}:{col}: {}", file.path, e.message),
                hint: e.hint,
            });
        }
    };
    let top = root.as_map().ok_or_else(|| {
        at(
            &root,
            "a waiver file is a mapping with a `waivers:` list".into(),
            Some("start the file with `waivers:`"),
        )
    })?;
    let mut list = None;
    for (k, v) in top {
        match k.as_str() {
            Some("waivers") => list = Some(v),
            other => {
                let name = other.unwrap_or("?");
                let hint = crate::diag::did_you_mean(name, ["waivers"])
                    .map(|s| format!("did you mean `{s}`?"));
                return Err(at(
                    k,
                    format!("unknown key `{name}` in the waiver file"),
                    Some(hint.as_deref().unwrap_or("the only key is `waivers`")),
                ));
            }
        }
    }
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    if matches!(list.kind, yaml::NodeKind::Null) {
        return Ok(Vec::new());
    }
    let items = list.as_seq().ok_or_else(|| {
        at(
            list,
            "`waivers` must be a list of waivers".into(),
            Some("write each waiver as `- target: ...` on its own line"),
        )
    })?;
    let mut out = Vec::new();
    for item in items {
        let entries = item.as_map().ok_or_else(|| {
            at(
                item,
                "a waiver is a mapping (target, check, reason, expires)".into(),
                None,
            )
        })?;
        for (k, _) in entries {
            let name = k.as_str().unwrap_or("?");
            if !KEYS.contains(&name) {
                let hint = crate::diag::did_you_mean(name, KEYS.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("the keys are {}", KEYS.join(", ")));
                return Err(at(
                    k,
                    format!("unknown key `{name}` in a waiver"),
                    Some(&hint),
                ));
            }
        }
        let text = |key: &str, required: bool| -> Result<Option<String>, WaiverError> {
            match item.get(key) {
                Some(n) => match n.as_str() {
                    Some(s) if !s.trim().is_empty() => Ok(Some(s.to_owned())),
                    _ => Err(at(
                        n,
                        format!("`{key}` of a waiver must be a non-empty string"),
                        None,
                    )),
                },
                None if required => Err(at(
                    item,
                    format!("this waiver has no `{key}`"),
                    Some(match key {
                        "reason" => "say why the deviation is accepted: `reason: ...`",
                        "expires" => "give it an end: `expires: YYYY-MM-DD`",
                        "target" => "name the target, or `*` for every one",
                        _ => "name the check id, an area such as `err.*`, or `shape`",
                    }),
                )),
                None => Ok(None),
            }
        };
        let check = text("check", true)?.unwrap_or_default();
        let check_node = item.get("check").expect("checked above");
        let known = check == "shape"
            || check
                .strip_suffix(".*")
                .map_or(crate::catalog::lookup(&check).is_some(), |area| {
                    crate::catalog::ids().any(|id| id.starts_with(&format!("{area}.")))
                });
        if !known {
            let hint = crate::diag::did_you_mean(&check, crate::catalog::ids().chain(["shape"]))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| "`gatecheck explain --list` prints every check id".into());
            return Err(at(
                check_node,
                format!("unknown check `{check}` in a waiver"),
                Some(&hint),
            ));
        }
        let expires_node = item.get("expires");
        let expires_text = text("expires", true)?.unwrap_or_default();
        let expires = Date::parse(&expires_text).ok_or_else(|| {
            at(
                expires_node.expect("checked above"),
                format!("`{expires_text}` is not a date"),
                Some("write the day the waiver ends as YYYY-MM-DD, e.g. 2027-03-31"),
            )
        })?;
        let (line, col) = file.line_col(item.span.start);
        out.push(Waiver {
            at: format!("{}:{line}:{col}", file.path),
            target: text("target", true)?.unwrap_or_default(),
            check,
            case: text("case", false)?,
            path: text("path", false)?,
            reason: text("reason", true)?.unwrap_or_default(),
            expires,
        });
    }
    Ok(out)
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

impl Waiver {
    /// Whether this waiver covers a finding (or a changed shape, `check` = `shape`) of `case`
    /// (its name without the target) on `target`.
    pub fn covers(&self, target: &str, case: &str, check: &str, path: Option<&str>) -> bool {
        let check_ok = if self.check == "shape" {
            check == "shape"
        } else {
            crate::suite::CheckPattern(self.check.clone()).matches(check)
        };
        check_ok
            && (self.target == "*" || self.target == target)
            && self.case.as_deref().is_none_or(|p| glob(p, case))
            && self
                .path
                .as_deref()
                .is_none_or(|p| path.is_some_and(|path| glob(p, path)))
    }

    pub fn expired(&self, today: Date) -> bool {
        today > self.expires
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<Waiver>, String> {
        parse(&SourceFile::new("waivers.yaml", text)).map_err(|e| e.to_string())
    }

    #[test]
    fn a_waiver_file_reads() {
        let w = parse_str(
            "waivers:\n  - target: llmock\n    check: resp.schema\n    case: 'core::*'\n    path: /choices/*/logprobs\n    reason: llmock omits logprobs\n    expires: 2027-03-31\n",
        )
        .unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].at, "waivers.yaml:2:5");
        assert_eq!(w[0].expires.to_string(), "2027-03-31");
        assert!(w[0].covers(
            "llmock",
            "core::plain_text",
            "resp.schema",
            Some("/choices/0/logprobs")
        ));
        assert!(!w[0].covers(
            "other",
            "core::plain_text",
            "resp.schema",
            Some("/choices/0/logprobs")
        ));
        assert!(!w[0].covers(
            "llmock",
            "tools::named",
            "resp.schema",
            Some("/choices/0/logprobs")
        ));
        assert!(!w[0].covers("llmock", "core::plain_text", "resp.schema", None));
        assert!(!w[0].covers(
            "llmock",
            "core::plain_text",
            "resp.envelope",
            Some("/choices/0/logprobs")
        ));
    }

    #[test]
    fn mistakes_get_one_line_with_the_place_and_the_fix() {
        let cases = [
            (
                "waivers:\n  - target: a\n    check: resp.schema\n    reson: x\n    expires: 2027-01-01\n",
                "waivers.yaml:4:5: unknown key `reson` in a waiver (hint: did you mean `reason`?)",
            ),
            (
                "waivers:\n  - target: a\n    check: resp.shema\n    reason: x\n    expires: 2027-01-01\n",
                "waivers.yaml:3:12: unknown check `resp.shema` in a waiver (hint: did you mean `resp.schema`?)",
            ),
            (
                "waivers:\n  - target: a\n    check: resp.schema\n    reason: x\n    expires: 2027-02-30\n",
                "waivers.yaml:5:14: `2027-02-30` is not a date (hint: write the day the waiver ends as YYYY-MM-DD, e.g. 2027-03-31)",
            ),
            (
                "waivers:\n  - target: a\n    check: resp.schema\n    expires: 2027-01-01\n",
                "waivers.yaml:2:5: this waiver has no `reason` (hint: say why the deviation is accepted: `reason: ...`)",
            ),
            (
                "waiver:\n  - target: a\n",
                "waivers.yaml:1:1: unknown key `waiver` in the waiver file (hint: did you mean `waivers`?)",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_str(text).unwrap_err(), expected, "{text}");
        }
    }

    #[test]
    fn dates_and_days() {
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(20_428).to_string(), "2025-12-06");
        assert_eq!(Date::from_days(11_016).to_string(), "2000-02-29");
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2027-1-01").is_none());
        let w = parse_str(
            "waivers:\n  - {target: '*', check: shape, reason: r, expires: 2026-12-05}\n",
        )
        .unwrap();
        assert!(w[0].expired(Date::parse("2026-12-06").unwrap()));
        assert!(!w[0].expired(Date::parse("2026-12-05").unwrap()));
    }

    #[test]
    fn globs() {
        assert!(glob("core::*", "core::plain_text"));
        assert!(glob("*::named*", "tools::named(temperature=0)"));
        assert!(glob("/choices/*/logprobs", "/choices/0/logprobs"));
        assert!(!glob("/choices/*/logprobs", "/choices/0/message"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
    }
}
