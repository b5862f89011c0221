//! Stage 3, `run`: sends the planned requests with bounded concurrency (a global cap and a cap
//! per target) and, per target, at most `rate_limit` requests a second; judges each exchange as
//! it completes, and emits events in plan order for the reporters. The runner never prints.
//!
//! The plan interleaves targets (each case runs against every target before the next case), and
//! the global cap is first come, first served, so several targets are tested side by side; a
//! target held back by its own cap or rate waits without taking a global slot from the others.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore, SemaphorePermit, mpsc, oneshot};

use serde_json::Value;

use crate::check::stream::{StreamJudge, StreamLimits, StreamReport};
use crate::check::{self, Judging, Observed, Outcome, Verdict};
use crate::exchange::Exchange;
use crate::plan::{Plan, PlannedCase, PlannedRequest};
use crate::suite::Method;
use crate::transport::{Observer, Transport};

/// The result of one case, as reporters see it.
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub case: PlannedCase,
    pub verdict: Verdict,
    /// `None` for skipped cases.
    pub exchange: Option<Exchange>,
    /// The answer to the same request without streaming, for cases that compare the two.
    pub companion: Option<Exchange>,
    /// Wall time of the exchange (and of its companion, without the waits for a slot).
    pub elapsed: Duration,
    /// What the target charged, by its `usage.cost`, for the 2xx chat answers of the case (the
    /// companion's included); `None` when no answer reported a cost.
    pub cost: Option<f64>,
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

/// Spaces the requests to one target at least `interval` apart (its `rate_limit`).
///
/// A request takes the lock, sleeps until its slot, and holds the lock until it also has a
/// global permit: the requests to this target queue here, in order, without holding a global
/// permit while they wait, and the next slot is counted from the moment a request really leaves.
struct Pacer {
    interval: Duration,
    /// When the next request to this target may leave.
    next: Mutex<tokio::time::Instant>,
}

/// The longest interval a rate implies: below one request a day the arithmetic of instants could
/// overflow, and the difference does not matter.
const MAX_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

impl Pacer {
    /// `rate` is validated (positive, finite) by the config layer.
    fn new(rate: f64) -> Self {
        let interval = Duration::try_from_secs_f64(1.0 / rate)
            .unwrap_or(MAX_INTERVAL)
            .min(MAX_INTERVAL);
        Pacer {
            interval,
            next: Mutex::new(tokio::time::Instant::now()),
        }
    }
}

/// What a request to one target waits for before it leaves: the target's concurrency cap (held
/// for the whole case), its pacer, and a global permit. Locks are always taken in that order,
/// and a case gives its global permit back before its companion request waits for the pacer, so
/// no two requests can wait for each other.
struct Gates {
    global: Arc<Semaphore>,
    target: Option<Semaphore>,
    pacer: Option<Pacer>,
}

/// A case's turn to queue for its target's permits, in plan order: tasks are first polled in
/// no particular order, and without turns a late case of the plan could run before an early
/// one, holding every report after the early one back (the reports go out in plan order). Each
/// turn waits for the one before it and wakes only the one after it.
struct Turn {
    after: Option<oneshot::Receiver<()>>,
    then: oneshot::Sender<()>,
}

impl Turn {
    /// The next turn after `last` (a target's previous case, if any), and what the one after
    /// it will wait for.
    fn after(last: Option<oneshot::Receiver<()>>) -> (Turn, oneshot::Receiver<()>) {
        let (then, next) = oneshot::channel();
        (Turn { after: last, then }, next)
    }

    /// Waits for the previous case to have queued (or to be gone), queues with `acquire`, and
    /// hands the turn on.
    async fn take<T>(self, acquire: impl std::future::Future<Output = T>) -> T {
        if let Some(previous) = self.after {
            let _ = previous.await;
        }
        let out = acquire.await;
        let _ = self.then.send(());
        out
    }
}

impl Gates {
    fn new(global: Arc<Semaphore>, concurrency: Option<usize>, rate_limit: Option<f64>) -> Self {
        Gates {
            global,
            target: concurrency.map(Semaphore::new),
            pacer: rate_limit.map(Pacer::new),
        }
    }

    /// A place among this target's requests in flight, for a whole case.
    async fn case_permit(&self) -> Option<SemaphorePermit<'_>> {
        match &self.target {
            Some(s) => Some(s.acquire().await.expect("semaphores are never closed")),
            None => None,
        }
    }

    /// Waits until one request may leave: its slot in the target's pace, then a global permit,
    /// which the caller holds while the request is in flight.
    async fn request_permit(&self) -> SemaphorePermit<'_> {
        let acquire = async {
            self.global
                .acquire()
                .await
                .expect("semaphores are never closed")
        };
        let Some(pacer) = &self.pacer else {
            return acquire.await;
        };
        let mut next = pacer.next.lock().await;
        tokio::time::sleep_until(*next).await;
        let permit = acquire.await;
        *next = tokio::time::Instant::now() + pacer.interval;
        permit
    }
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

/// The report of a case that sends nothing: skipped, with the reason.
pub(crate) fn skipped(case: &PlannedCase, reason: String) -> CaseReport {
    CaseReport {
        case: case.clone(),
        verdict: Verdict {
            outcome: Outcome::Skipped,
            reason: Some(reason),
            findings: Vec::new(),
            stream: None,
            checked: check::applicable::expected(case),
            restated: Vec::new(),
        },
        exchange: None,
        companion: None,
        elapsed: Duration::ZERO,
        cost: None,
    }
}

/// `usage.cost` of a 2xx chat completion: from the reassembled stream when the answer was
/// judged as one, else from the JSON body. Gateways that bill per request (ml-router) report it;
/// OpenAI does not.
pub(crate) fn reported_cost(
    request: &PlannedRequest,
    exchange: &Exchange,
    stream: Option<&StreamReport>,
) -> Option<f64> {
    let path = request.path.split('?').next().unwrap_or("");
    let chat =
        request.method == Method::Post && path.trim_end_matches('/').ends_with("/chat/completions");
    if !chat || !exchange.status().is_some_and(|s| (200..300).contains(&s)) {
        return None;
    }
    let cost = |body: &Value| body.pointer("/usage/cost").and_then(Value::as_f64);
    match stream.filter(|r| !r.not_sse) {
        Some(r) => cost(&r.reassembled),
        // Most bodies hold no cost: look before parsing.
        None if memchr::memmem::find(&exchange.body, b"\"cost\"").is_none() => None,
        None => serde_json::from_slice(&exchange.body)
            .ok()
            .as_ref()
            .and_then(cost),
    }
}

/// The targets of `cases`, each once, in the order they first appear.
pub fn target_names<'a>(cases: impl IntoIterator<Item = &'a PlannedCase>) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    for c in cases {
        if !targets.contains(&c.target.name) {
            targets.push(c.target.name.clone());
        }
    }
    targets
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
    reporter.event(&Event::Started {
        cases: &cases,
        targets: target_names(&cases),
    })?;

    let global = Arc::new(Semaphore::new(options.jobs.max(1)));
    // Per target: its gates, and what its next case's turn waits for.
    let mut per_target: HashMap<String, (Arc<Gates>, Option<oneshot::Receiver<()>>)> =
        HashMap::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, CaseReport)>();
    let mut handles = Vec::with_capacity(cases.len());
    for (pos, case) in cases.iter().enumerate() {
        let tx = tx.clone();
        if let Some(reason) = &case.skip {
            let _ = tx.send((pos, skipped(case, reason.clone())));
            continue;
        }
        let (gates, last) = per_target
            .entry(case.target.name.clone())
            .or_insert_with(|| {
                let gates = Gates::new(
                    global.clone(),
                    case.target.concurrency,
                    case.target.rate_limit,
                );
                (Arc::new(gates), None)
            });
        let (turn, next) = Turn::after(last.take());
        *last = Some(next);
        let gates = gates.clone();
        let transport = transport.clone();
        let case = case.clone();
        let judging = options.judging;
        let stream_limits = options.stream_limits;
        handles.push(tokio::spawn(async move {
            let (_case_permit, permit) = turn
                .take(async {
                    let case_permit = gates.case_permit().await;
                    (case_permit, gates.request_permit().await)
                })
                .await;
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
            let mut elapsed = t0.elapsed();
            drop(permit);
            // The companion is a request like any other: it waits for its own slot.
            let companion = match &case.companion {
                Some(request) => {
                    let _permit = gates.request_permit().await;
                    let t1 = Instant::now();
                    let ex = transport.send(request, &case.target).await;
                    elapsed += t1.elapsed();
                    Some(ex)
                }
                None => None,
            };
            let observed = Observed {
                exchange: &exchange,
                stream: stream.as_ref(),
                companion: companion.as_ref(),
            };
            let verdict = check::judge_observed(&case, observed, judging);
            let cost = [
                reported_cost(&case.request, &exchange, stream.as_ref()),
                companion
                    .as_ref()
                    .and_then(|ex| reported_cost(&case.request, ex, None)),
            ]
            .into_iter()
            .flatten()
            .reduce(|a, b| a + b);
            let _ = tx.send((
                pos,
                CaseReport {
                    case,
                    verdict,
                    exchange: Some(exchange),
                    companion,
                    elapsed,
                    cost,
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    /// Tasks that come to the gates in reverse plan order still take the permit in plan order:
    /// the reports, which go out in plan order, are never held back behind a late case.
    #[tokio::test(start_paused = true)]
    async fn a_targets_cases_take_their_permits_in_plan_order() {
        let gates = Arc::new(Gates::new(Arc::new(Semaphore::new(1)), None, None));
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut last = None;
        let mut turns: Vec<(usize, Turn)> = (0..5)
            .map(|i| {
                let (turn, next) = Turn::after(last.take());
                last = Some(next);
                (i, turn)
            })
            .collect();
        turns.reverse();
        let tasks: Vec<_> = turns
            .into_iter()
            .map(|(ticket, turn)| {
                let (gates, order) = (gates.clone(), order.clone());
                tokio::spawn(async move {
                    let _permit = turn.take(gates.request_permit()).await;
                    order.lock().unwrap().push(ticket);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    }

    /// Starts one request per `(gates, hold)` pair, in order, each holding its global permit for
    /// `hold`; returns when each left, in milliseconds after the start. Time is paused, so the
    /// figures are exact.
    async fn starts(requests: Vec<(Arc<Gates>, Duration)>) -> Vec<u128> {
        let t0 = Instant::now();
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|(gates, hold)| {
                tokio::spawn(async move {
                    let _permit = gates.request_permit().await;
                    let left = t0.elapsed().as_millis();
                    tokio::time::sleep(hold).await;
                    left
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_spaces_requests_from_when_each_left() {
        let global = Arc::new(Semaphore::new(8));
        let paced = Arc::new(Gates::new(global, None, Some(4.0)));
        let ms = Duration::from_millis;
        let got = starts(vec![
            (paced.clone(), ms(10)),
            (paced.clone(), ms(10)),
            (paced.clone(), ms(10)),
            (paced, ms(10)),
        ])
        .await;
        assert_eq!(got, [0, 250, 500, 750]);
    }

    /// Regression guard for issue 4 (side by side): a paced target waits for its slot without
    /// holding one of the `--jobs` permits, so the other targets go on meanwhile.
    #[tokio::test(start_paused = true)]
    async fn a_paced_target_does_not_hold_back_the_others() {
        let global = Arc::new(Semaphore::new(1));
        let slow = Arc::new(Gates::new(global.clone(), None, Some(2.0)));
        let fast = Arc::new(Gates::new(global, None, None));
        let hold = Duration::from_millis(10);
        let got = starts(vec![
            (slow.clone(), hold),
            (fast.clone(), hold),
            (slow.clone(), hold),
            (fast.clone(), hold),
            (slow, hold),
            (fast, hold),
        ])
        .await;
        assert_eq!(got, [0, 10, 500, 20, 1000, 30]);
    }

    /// The pacer's slot is counted from when a request really left: a request that waited for
    /// a global permit pushes the next slot back (no burst after a wait).
    #[tokio::test(start_paused = true)]
    async fn a_slot_is_counted_from_the_global_permit() {
        let global = Arc::new(Semaphore::new(1));
        let paced = Arc::new(Gates::new(global.clone(), None, Some(10.0)));
        let other = Arc::new(Gates::new(global, None, None));
        let got = starts(vec![
            (other, Duration::from_millis(300)),
            (paced.clone(), Duration::ZERO),
            (paced, Duration::ZERO),
        ])
        .await;
        assert_eq!(got, [0, 300, 400]);
    }

    #[tokio::test(start_paused = true)]
    async fn absurdly_low_rates_stay_finite() {
        let gates = Gates::new(Arc::new(Semaphore::new(1)), None, Some(1e-300));
        assert_eq!(gates.pacer.as_ref().unwrap().interval, MAX_INTERVAL);
        drop(gates.request_permit().await);
    }
}
