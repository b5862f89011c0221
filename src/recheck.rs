//! `gatecheck check DIR`: the runner's offline counterpart. Judges recorded exchanges again
//! with the freshly planned cases, so new checks, changed expectations and another profile apply
//! to answers already received, without sending a request; emits the same events as
//! [`run::execute`](crate::run::execute), in plan order, for the same reporters.
//!
//! A streamed answer is judged again from its recorded reads, the way the runner judged it as it
//! arrived; the non-stream companion, when recorded, is compared with it as in the run.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::check::stream::StreamLimits;
use crate::check::{self, Judging, Observed};
use crate::exchange::{End, Exchange, TransportError, TransportErrorKind};
use crate::plan::{Plan, PlannedCase};
use crate::record::Recording;
use crate::run::{self, CaseReport, Event, Reporter, Summary};

/// Judges the selected cases of the plan (indices into `plan.cases`) on their recordings, by
/// case name, a stream within `limits` (the run's, from the manifest, unless overridden). A case
/// planned as skipped stays skipped; a case with no recording is skipped with `not_recorded` as
/// the reason.
pub fn execute(
    plan: &Plan,
    selected: &[usize],
    recordings: &HashMap<String, Recording>,
    judging: Judging,
    limits: StreamLimits,
    not_recorded: &str,
    reporter: &mut dyn Reporter,
) -> std::io::Result<Summary> {
    let started = Instant::now();
    crate::schema::warm_up();
    let cases: Vec<PlannedCase> = selected.iter().map(|&i| plan.cases[i].clone()).collect();
    reporter.event(&Event::Started {
        cases: &cases,
        targets: run::target_names(&cases),
    })?;
    let mut summary = Summary::default();
    for case in &cases {
        let report = match (&case.skip, recordings.get(&case.name)) {
            (Some(reason), _) => run::skipped(case, reason.clone()),
            (None, None) => run::skipped(case, not_recorded.to_owned()),
            (None, Some(rec)) => judge(case, rec, judging, limits),
        };
        summary.counts.add(report.verdict.outcome);
        reporter.event(&Event::CaseFinished(&report))?;
    }
    summary.elapsed = started.elapsed();
    reporter.event(&Event::Finished(&summary))?;
    Ok(summary)
}

/// One case judged on its recording, as the runner would have judged it live.
pub fn judge(
    case: &PlannedCase,
    rec: &Recording,
    judging: Judging,
    limits: StreamLimits,
) -> CaseReport {
    let mut exchange = with_url(&rec.exchange, &case.request.url);
    // A stream longer than `--max-body` was judged whole as it came, but only its beginning was
    // kept: judged again as far as it goes, and, like a stream cut short, the case errors
    // rather than be judged on an end the server never sent.
    if exchange.end == End::Complete && exchange.received > exchange.body.len() as u64 {
        exchange.end = End::Failed(TransportError {
            kind: TransportErrorKind::Limit,
            message: format!(
                "the recording keeps the first {} of the {} bytes received (--max-body)",
                exchange.body.len(),
                exchange.received
            ),
        });
    }
    if exchange.end == End::Complete {
        cut_at_stall(&mut exchange, limits.max_event_gap);
    }
    // A companion is compared only while the case still asks for it.
    let companion = case
        .companion
        .as_ref()
        .zip(rec.companion.as_ref())
        .map(|(request, ex)| with_url(ex, &request.url));
    let stream = check::streamed_answer(case, &exchange).then(|| {
        check::stream::judge_recorded(
            case.request.json.as_ref(),
            &exchange.body,
            &exchange.reads,
            exchange.timing.total,
            exchange.transport_error().map(|e| e.message.as_str()),
            limits,
        )
    });
    let verdict = check::judge_observed(
        case,
        Observed {
            exchange: &exchange,
            stream: stream.as_ref(),
            companion: companion.as_ref(),
        },
        judging,
    );
    let cost = [
        run::reported_cost(&case.request, &exchange, stream.as_ref()),
        companion
            .as_ref()
            .and_then(|ex| run::reported_cost(&case.request, ex, None)),
    ]
    .into_iter()
    .flatten()
    .reduce(|a, b| a + b);
    let elapsed = exchange.timing.total
        + companion
            .as_ref()
            .map_or(Duration::ZERO, |c| c.timing.total);
    CaseReport {
        case: case.clone(),
        verdict,
        exchange: Some(exchange),
        companion,
        elapsed,
        cost,
    }
}

/// Where the recorded body waited longer than `max_gap` for a byte (after the response head),
/// the live transport, given that bound, would have given up: the exchange is cut there and
/// ends in the same timeout. A bound looser than the run's changes nothing (a stall the run
/// timed out on is recorded as such).
fn cut_at_stall(exchange: &mut Exchange, max_gap: Duration) {
    let mut last = exchange.timing.headers.unwrap_or_default();
    let Some(stalled) = exchange.reads.iter().position(|r| {
        let stalled = r.at.saturating_sub(last) > max_gap;
        if !stalled {
            last = r.at;
        }
        stalled
    }) else {
        return;
    };
    exchange.timing.total = last + max_gap;
    let kept = exchange.reads[stalled].offset.min(exchange.body.len());
    exchange.reads.truncate(stalled);
    exchange.body.truncate(kept);
    exchange.received = kept as u64;
    exchange.end = End::Failed(TransportError {
        kind: TransportErrorKind::Timeout,
        message: format!(
            "no byte for {:.1} s (the server stalled after {kept} bytes)",
            max_gap.as_secs_f64()
        ),
    });
}

/// A recorded exchange (whose URL is relative to the base URL) with the planned URL.
fn with_url(ex: &Exchange, url: &str) -> Exchange {
    let mut ex = ex.clone();
    ex.request.url = url.to_owned();
    ex
}
