//! Running a plan in a test and keeping every case report.

use std::sync::{Arc, Mutex};

use gatecheck::plan::Plan;
use gatecheck::run::{self, CaseReport, Event, Reporter, RunOptions};
use gatecheck::transport::Transport;

/// Collects case reports.
#[derive(Default, Clone)]
pub struct Collect(pub Arc<Mutex<Vec<CaseReport>>>);

impl Reporter for Collect {
    fn event(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        if let Event::CaseFinished(r) = event {
            self.0.lock().unwrap().push((*r).clone());
        }
        Ok(())
    }
}

/// Runs every case of the plan and returns the reports, in plan order.
pub async fn execute(plan: &Plan, transport: &Transport, options: &RunOptions) -> Vec<CaseReport> {
    let selected: Vec<usize> = (0..plan.cases.len()).collect();
    let collect = Collect::default();
    let mut reporter = collect.clone();
    run::execute(
        plan,
        &selected,
        transport,
        options,
        &mut reporter,
        std::future::pending(),
    )
    .await
    .unwrap();
    drop(reporter);
    std::mem::take(&mut *collect.0.lock().unwrap())
}
