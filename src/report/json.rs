//! JSON Lines: one object per case, in plan order, with stable field names:
//!
//! ```text
//! {"target", "suite", "case", "name", "model", "params", "outcome", "reason", "status",
//!  "findings": [{"check", "severity", "message", "path", "expected", "actual", "sdk", "source"}],
//!  "timing_ms", "timing": {"headers_ms", "first_byte_ms", "total_ms",
//!                           streams also: "first_token_ms", "gap_p50_ms", "gap_p95_ms", "gap_max_ms"},
//!  "stream": null | {"events", "chunks", "comments", "bytes", "sdk": {"python", "node"}},
//!  "cost": null | the `usage.cost` the target reported for the case's answers}
//! ```
//!
//! Fields are never removed or renamed; new ones may be added.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::run::{CaseReport, Event, Reporter};

pub struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }
}

/// The JSON object for one finding.
pub fn finding_object(f: &crate::check::Finding) -> Value {
    json!({
        "check": f.check,
        "severity": f.severity,
        "message": f.message,
        "path": f.path,
        "expected": f.expected,
        "actual": f.actual,
        "sdk": f.sdk,
        "source": f.source.as_ref().map(|s| s.display()),
    })
}

/// The JSON object for one case.
pub fn case_object(r: &CaseReport) -> Value {
    let findings: Vec<Value> = r.verdict.findings.iter().map(finding_object).collect();
    let params: Map<String, Value> = r.case.params.iter().cloned().collect();
    let ms = |d: Option<std::time::Duration>| {
        d.map(|d| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0)
    };
    let stream = r.verdict.stream.as_ref();
    let timing = r.exchange.as_ref().map(|ex| {
        let mut t = json!({
            "headers_ms": ms(ex.timing.headers),
            "first_byte_ms": ms(ex.timing.first_byte),
            "total_ms": ms(Some(ex.timing.total)),
        });
        if let Some(s) = stream {
            let m = &s.metrics;
            t["first_token_ms"] = json!(m.first_token_ms);
            t["gap_p50_ms"] = json!(m.gap_p50_ms);
            t["gap_p95_ms"] = json!(m.gap_p95_ms);
            t["gap_max_ms"] = json!(m.gap_max_ms);
        }
        t
    });
    let stream_object = stream.map(|s| {
        json!({
            "events": s.metrics.events,
            "chunks": s.metrics.chunks,
            "comments": s.metrics.comments,
            "bytes": s.metrics.bytes,
            "sdk": {"python": s.sdk.python, "node": s.sdk.node},
        })
    });
    json!({
        "target": r.case.target.name,
        "suite": &*r.case.suite,
        "case": r.case.case.name,
        "name": r.case.name,
        "model": r.case.model,
        "params": params,
        "outcome": r.verdict.outcome,
        "reason": r.verdict.reason,
        "status": r.exchange.as_ref().and_then(|e| e.status()),
        "findings": findings,
        "timing_ms": ms(Some(r.elapsed)),
        "timing": timing,
        "stream": stream_object,
        "cost": r.cost,
    })
}

impl<W: Write> Reporter for JsonLines<W> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::Started { .. } => Ok(()),
            Event::CaseFinished(r) => {
                serde_json::to_writer(&mut self.out, &case_object(r))?;
                self.out.write_all(b"\n")
            }
            Event::Finished(_) => self.out.flush(),
        }
    }
}
