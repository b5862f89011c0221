//! Stage 3, `run`: sends the planned requests with bounded concurrency (a global cap and a cap
//! per target), judges each exchange as it completes, and emits events in plan order for the
//! reporters. The runner never prints.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};

use crate::check::stream::{StreamJudge, StreamLimits};
use crate::check::{self, Judging, Observed, Outcome, Verdict};
use crate::exchange::Exchange;
use crate::plan::{Plan, PlannedCase};
use crate::transport::{Observer, Transport};

/// The result of one case, as reporters see it.
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub case: PlannedCase,
    pub verdict: Verdict,
    /// `None` for skipped cases.
    pub exchange: Option<Exchange>,
    /// Wall time of the exchange.
    pub elapsed: Duration,
}

/// Counts per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub inconclusive: usize,
    pub skipped: usize,
}

impl Counts {
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.pass += 1,
            Outcome::Fail => self.fail += 1,
            Outcome::Error => self.error += 1,
            Outcome::Inconclusive => self.inconclusive += 1,
            Outcome::Skipped => self.skipped += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.error + self.inconclusive + self.skipped
    }
}

/// What the whole run came to.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub counts: Counts,
    pub elapsed: Duration,
    /// Interrupted (Ctrl-C) before every case finished.
    pub interrupted: bool,
}

/// What happens during a run, in order: `Started`, one `CaseFinished` per selected case in plan
/// order, `Finished`.
#[derive(Debug)]
pub enum Event<'a> {
    Started {
        cases: &'a [PlannedCase],
        targets: Vec<String>,
    },
    CaseFinished(&'a CaseReport),
    Finished(&'a Summary),
}

/// A consumer of run events (terminal, JSON Lines, ...).
pub trait Reporter {
    fn event(&mut self, event: &Event<'_>) -> std::io::Result<()>;
}

/// Several reporters fed the same events.
#[derive(Default)]
pub struct FanOut(pub Vec<Box<dyn Reporter + Send>>);

impl Reporter for FanOut {
    fn event(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        for r in &mut self.0 {
            r.event(event)?;
        }
        Ok(())
    }
}

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// At most this many requests in flight overall.
    pub jobs: usize,
    pub judging: Judging,
    pub stream_limits: StreamLimits,
}

/// The stream judge, watching the body as the transport reads it.
struct StreamObserver<'a>(StreamJudge<'a>);

impl Observer for StreamObserver<'_> {
    fn on_read(&mut self, bytes: &[u8], at: Duration) -> Result<(), String> {
        if self.0.feed(bytes, at) {
            Ok(())
        } else {
            Err(self
                .0
                .aborted()
                .unwrap_or("the stream judge stopped reading")
                .to_owned())
        }
    }
}

/// Runs the selected cases of the plan (indices into `plan.cases`). When `interrupt` completes
/// (the CLI passes Ctrl-C), cases still in flight are abandoned and the ones that finished are
/// reported; pass `std::future::pending()` to run to the end.
pub async fn execute(
    plan: &Plan,
    selected: &[usize],
    transport: &Transport,
    options: &RunOptions,
    reporter: &mut dyn Reporter,
    interrupt: impl std::future::Future<Output = ()>,
) -> std::io::Result<Summary> {
    let started = Instant::now();
    // Compile the schemas before the first byte arrives: compiling inside the read loop of a
    // stream would delay the next read and show up as a gap that the server did not make.
    crate::schema::warm_up();
    let cases: Vec<PlannedCase> = selected.iter().map(|&i| plan.cases[i].clone()).collect();
    let mut targets: Vec<String> = Vec::new();
    for c in &cases {
        if !targets.contains(&c.target.name) {
            targets.push(c.target.name.clone());
        }
    }
    reporter.event(&Event::Started {
        cases: &cases,
        targets,
    })?;

    let global = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut per_target: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, CaseReport)>();
    let mut handles = Vec::with_capacity(cases.len());
    for (pos, case) in cases.iter().enumerate() {
        let tx = tx.clone();
        if let Some(reason) = &case.skip {
            let report = CaseReport {
                case: case.clone(),
                verdict: Verdict {
                    outcome: Outcome::Skipped,
                    reason: Some(reason.clone()),
                    findings: Vec::new(),
                    stream: None,
                },
                exchange: None,
                elapsed: Duration::ZERO,
            };
            let _ = tx.send((pos, report));
            continue;
        }
        let target_cap = case.target.concurrency.map(|n| {
            per_target
                .entry(case.target.name.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(n)))
                .clone()
        });
        let global = global.clone();
        let transport = transport.clone();
        let case = case.clone();
        let judging = options.judging;
        let stream_limits = options.stream_limits;
        handles.push(tokio::spawn(async move {
            let _target_permit = match &target_cap {
                Some(s) => Some(s.acquire().await.expect("semaphores are never closed")),
                None => None,
            };
            let _permit = global.acquire().await.expect("semaphores are never closed");
            let t0 = Instant::now();
            let (exchange, stream) = if case.request.stream() {
                // Judged as it arrives, in bounded memory.
                let mut judge =
                    StreamObserver(StreamJudge::new(case.request.json.as_ref(), stream_limits));
                let ex = transport
                    .send_observed(&case.request, &case.target, Some(&mut judge))
                    .await;
                let report = check::streamed_answer(&case, &ex).then(|| {
                    judge.0.finish(
                        ex.timing.total,
                        ex.transport_error().map(|e| e.message.as_str()),
                    )
                });
                (ex, report)
            } else {
                (transport.send(&case.request, &case.target).await, None)
            };
            let companion = match &case.companion {
                Some(request) => Some(transport.send(request, &case.target).await),
                None => None,
            };
            let elapsed = t0.elapsed();
            let observed = Observed {
                exchange: &exchange,
                stream: stream.as_ref(),
                companion: companion.as_ref(),
            };
            let verdict = check::judge_observed(&case, observed, judging);
            let _ = tx.send((
                pos,
                CaseReport {
                    case,
                    verdict,
                    exchange: Some(exchange),
                    elapsed,
                },
            ));
        }));
    }
    drop(tx);

    // Report in plan order: hold early finishers until their predecessors are done.
    let mut summary = Summary::default();
    let mut pending: BTreeMap<usize, CaseReport> = BTreeMap::new();
    let mut next = 0;
    let mut interrupt = std::pin::pin!(interrupt);
    loop {
        let received = tokio::select! {
            r = rx.recv() => r,
            _ = &mut interrupt => {
                summary.interrupted = true;
                for h in &handles {
                    h.abort();
                }
                None
            }
        };
        let Some((pos, report)) = received else {
            break;
        };
        pending.insert(pos, report);
        while let Some(report) = pending.remove(&next) {
            summary.counts.add(report.verdict.outcome);
            reporter.event(&Event::CaseFinished(&report))?;
            next += 1;
        }
    }
    // After an interrupt, report what did finish, in order, skipping the gaps.
    for report in pending.into_values() {
        summary.counts.add(report.verdict.outcome);
        reporter.event(&Event::CaseFinished(&report))?;
    }
    summary.elapsed = started.elapsed();
    reporter.event(&Event::Finished(&summary))?;
    Ok(summary)
}
