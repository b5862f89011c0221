//! `gatecheck run --record DIR`: each case's exchange, raw bytes and arrival times, one file
//! per case under `DIR/<target>/` as the case finishes, and `DIR/manifest.json`, written at the
//! start and again at the end (the format is `crate::record`'s). Skipped cases send nothing and
//! are not recorded. Every file is written to a temporary name and renamed into place.

use std::io;
use std::path::{Path, PathBuf};

use crate::config::{Secret, Target};
use crate::exchange::{Exchange, Read};
use crate::record::{self, Manifest, ManifestCase, ManifestTarget, Recording};
use crate::run::{CaseReport, Event, Reporter};

pub struct RecordReporter {
    dir: PathBuf,
    secrets: Vec<String>,
    manifest: Manifest,
}

impl RecordReporter {
    /// A reporter recording into `dir`, which must be new, empty, or an earlier recording (a
    /// folder with other things and no manifest is refused: it is not ours to empty). Nothing
    /// is touched before the run starts.
    pub fn create(dir: &Path) -> io::Result<Self> {
        let foreign = !dir.join(record::MANIFEST).is_file()
            && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
        if foreign || dir.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "`{}` is not empty and holds no {}: not a gatecheck recording\n(hint: name a new or empty folder for --record)",
                    dir.display(),
                    record::MANIFEST
                ),
            ));
        }
        Ok(RecordReporter {
            dir: dir.to_owned(),
            secrets: Vec::new(),
            manifest: Manifest {
                format: record::MANIFEST_FORMAT,
                gatecheck: env!("CARGO_PKG_VERSION").to_owned(),
                targets: Vec::new(),
                suites: Vec::new(),
                finished: false,
                interrupted: false,
                cases: Vec::new(),
                stream_limits: None,
            },
        })
    }

    /// The keys to mask wherever they appear.
    pub fn secrets(mut self, secrets: &[Secret]) -> Self {
        self.secrets = secrets
            .iter()
            .map(|s| s.expose().to_owned())
            .filter(|s| s.len() >= 4)
            .collect();
        self
    }

    /// The stream bounds the run judges with, kept in the manifest for `check`.
    pub fn stream_limits(mut self, limits: &crate::check::stream::StreamLimits) -> Self {
        self.manifest.stream_limits = Some(record::RecordedLimits {
            max_events: limits.max_events,
            max_gap_ms: u64::try_from(limits.max_event_gap.as_millis()).unwrap_or(u64::MAX),
        });
        self
    }

    /// Creates the folder, or takes over an earlier recording there: its `*.rec` files go, so
    /// that it holds this run only (under the same file names).
    fn prepare(&self) -> io::Result<()> {
        let context = |e: io::Error| {
            io::Error::new(
                e.kind(),
                format!(
                    "failed to prepare `{}` for recording: {e}",
                    self.dir.display()
                ),
            )
        };
        if self.dir.join(record::MANIFEST).is_file() {
            for entry in std::fs::read_dir(&self.dir).map_err(context)?.flatten() {
                let sub = entry.path();
                if !sub.is_dir() {
                    continue;
                }
                for file in std::fs::read_dir(&sub).map_err(context)?.flatten() {
                    let path = file.path();
                    if path.extension().is_some_and(|x| x == record::EXTENSION) {
                        std::fs::remove_file(&path).map_err(context)?;
                    }
                }
            }
        }
        std::fs::create_dir_all(&self.dir).map_err(context)
    }

    fn write_manifest(&self) -> io::Result<()> {
        record::write_manifest(&self.dir, &self.manifest).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "failed to write `{}`: {e}",
                    self.dir.join(record::MANIFEST).display()
                ),
            )
        })
    }

    fn record(&mut self, r: &CaseReport) -> io::Result<()> {
        let Some(exchange) = &r.exchange else {
            return Ok(());
        };
        let target = &r.case.target;
        let folder = record::dir_name(&target.name);
        let name = record::file_name(&r.case.name);
        let taken = |file: &str| {
            self.manifest
                .cases
                .iter()
                .any(|c| c.file == format!("{folder}/{file}"))
        };
        // Names are distinct by construction; a hash collision still must not overwrite.
        let mut file = name.clone();
        let mut n = 2;
        while taken(&file) {
            let stem = name.trim_end_matches(&format!(".{}", record::EXTENSION));
            file = format!("{stem}-{n}.{}", record::EXTENSION);
            n += 1;
        }
        let mut recording = Recording {
            case: r.case.name.clone(),
            target: target.name.clone(),
            exchange: relative(exchange, target, &r.case.request.path),
            companion: r
                .companion
                .as_ref()
                .zip(r.case.companion.as_ref())
                .map(|(ex, request)| relative(ex, target, &request.path)),
        };
        for secret in &self.secrets {
            redact(&mut recording.exchange, secret);
            if let Some(c) = &mut recording.companion {
                redact(c, secret);
            }
        }
        let path = self.dir.join(&folder).join(&file);
        std::fs::create_dir_all(self.dir.join(&folder))
            .and_then(|()| crate::atomic::write(&path, &record::encode(&recording)))
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("failed to write `{}`: {e}", path.display()),
                )
            })?;
        self.manifest.cases.push(ManifestCase {
            name: r.case.name.clone(),
            target: target.name.clone(),
            file: format!("{folder}/{file}"),
        });
        Ok(())
    }
}

/// The path of a base URL, without a trailing slash: no scheme, host or credentials.
pub fn base_path(base_url: &str) -> String {
    url::Url::parse(base_url)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// The exchange with its URL made relative to the target's base URL (the planned path when the
/// URL does not start with it).
fn relative(ex: &Exchange, target: &Target, planned_path: &str) -> Exchange {
    let mut ex = ex.clone();
    let base = target.base_url.trim_end_matches('/');
    ex.request.url = match ex.request.url.strip_prefix(base) {
        Some(rest) if rest.is_empty() || rest.starts_with(['/', '?']) => rest.to_owned(),
        _ => planned_path.to_owned(),
    };
    ex
}

/// Replaces a secret wherever it is (the transport scrubs what the server echoes; this guards
/// the rest): in every text field and in the bodies, whose reads keep their arrival times.
fn redact(ex: &mut Exchange, secret: &str) {
    const MASK: &str = "[redacted]";
    let text = |s: &mut String| {
        if s.contains(secret) {
            *s = s.replace(secret, MASK);
        }
    };
    text(&mut ex.request.url);
    for (k, v) in &mut ex.request.headers {
        text(k);
        text(v);
    }
    if let Some(head) = &mut ex.response {
        for (k, v) in &mut head.headers {
            text(k);
            text(v);
        }
    }
    if let crate::exchange::End::Failed(e) = &mut ex.end {
        text(&mut e.message);
    }
    ex.request.body = replace_bytes(
        &ex.request.body,
        secret.as_bytes(),
        MASK.as_bytes(),
        &mut [],
    );
    let mut bounds: Vec<usize> = ex.reads.iter().map(|r| r.offset).collect();
    let old_len = ex.body.len();
    ex.body = replace_bytes(&ex.body, secret.as_bytes(), MASK.as_bytes(), &mut bounds);
    ex.received = (ex.received + ex.body.len() as u64).saturating_sub(old_len as u64);
    let mut reads: Vec<Read> = Vec::with_capacity(ex.reads.len());
    for (i, (r, &offset)) in ex.reads.iter().zip(&bounds).enumerate() {
        // Two reads that began inside one secret now begin at the same place: one read.
        if reads.last().is_some_and(|last| last.offset == offset) {
            continue;
        }
        let end = bounds[i + 1..]
            .iter()
            .copied()
            .find(|&b| b > offset)
            .unwrap_or(ex.body.len());
        reads.push(Read {
            offset,
            len: end - offset,
            at: r.at,
        });
    }
    ex.reads = reads;
}

/// `haystack` with every `needle` replaced; `bounds` (sorted offsets) are moved along.
fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8], bounds: &mut [usize]) -> Vec<u8> {
    if needle.is_empty() || memchr::memmem::find(haystack, needle).is_none() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut old = 0;
    let mut b = 0;
    for at in memchr::memmem::find_iter(haystack, needle) {
        if at < old {
            continue;
        }
        while b < bounds.len() && bounds[b] <= at {
            bounds[b] = bounds[b] - old + out.len();
            b += 1;
        }
        out.extend_from_slice(&haystack[old..at]);
        // A read that began inside the secret begins at the mask.
        while b < bounds.len() && bounds[b] < at + needle.len() {
            bounds[b] = out.len();
            b += 1;
        }
        out.extend_from_slice(with);
        old = at + needle.len();
    }
    for bound in &mut bounds[b..] {
        *bound = *bound - old + out.len();
    }
    out.extend_from_slice(&haystack[old..]);
    out
}

impl Reporter for RecordReporter {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started { cases, .. } => {
                self.prepare()?;
                for case in *cases {
                    let t = &case.target;
                    if !self.manifest.targets.iter().any(|m| m.name == t.name) {
                        self.manifest.targets.push(ManifestTarget {
                            name: t.name.clone(),
                            dir: record::dir_name(&t.name),
                            profile: t.profile.clone(),
                            base_path: base_path(&t.base_url),
                            models: t.models.clone(),
                            capabilities: t
                                .extra_capabilities
                                .iter()
                                .map(|c| c.as_str().to_owned())
                                .collect(),
                        });
                    }
                    if !self.manifest.suites.iter().any(|s| **s == *case.suite) {
                        self.manifest.suites.push(case.suite.to_string());
                    }
                }
                self.write_manifest()
            }
            Event::CaseFinished(r) => self.record(r),
            Event::Finished(summary) => {
                self.manifest.finished = true;
                self.manifest.interrupted = summary.interrupted;
                self.write_manifest()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{End, ResponseHead, SentRequest, Timing};
    use std::time::Duration;

    #[test]
    fn base_paths_keep_no_host_or_credentials() {
        assert_eq!(
            base_path("https://user:pw@gw.example/api/openai/v1/"),
            "/api/openai/v1"
        );
        assert_eq!(base_path("http://127.0.0.1:8089"), "");
    }

    #[test]
    fn a_secret_is_masked_and_the_reads_follow() {
        let body = b"aaSECRETbbSECRETcc".to_vec();
        let mut ex = Exchange {
            request: SentRequest {
                method: "POST".into(),
                url: "/x?key=SECRET".into(),
                headers: vec![("x-key".into(), "SECRET".into())],
                body: b"{\"k\":\"SECRET\"}".to_vec(),
            },
            response: Some(ResponseHead {
                status: 200,
                headers: vec![],
            }),
            received: body.len() as u64,
            reads: [(0, 0), (4, 1), (10, 2), (17, 3)]
                .iter()
                .zip([4, 6, 7, 1])
                .map(|(&(offset, ms), len)| Read {
                    offset,
                    len,
                    at: Duration::from_millis(ms),
                })
                .collect(),
            body,
            timing: Timing::default(),
            end: End::Complete,
        };
        redact(&mut ex, "SECRET");
        assert_eq!(ex.body, b"aa[redacted]bb[redacted]cc");
        assert_eq!(ex.received, ex.body.len() as u64);
        assert_eq!(ex.request.url, "/x?key=[redacted]");
        assert_eq!(ex.request.headers[0].1, "[redacted]");
        assert_eq!(ex.request.body, b"{\"k\":\"[redacted]\"}");
        let reads: Vec<(usize, usize)> = ex.reads.iter().map(|r| (r.offset, r.len)).collect();
        assert_eq!(reads, [(0, 2), (2, 12), (14, 11), (25, 1)]);
        assert_eq!(reads.iter().map(|r| r.1).sum::<usize>(), ex.body.len());
    }
}
