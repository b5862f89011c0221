//! Exit codes, named and decided in one place. `main` returns them; the library never exits.

use crate::run::Summary;

/// Every selected case passed (or was skipped).
pub const SUCCESS: u8 = 0;
/// At least one case failed: the server broke an expectation.
pub const FAILED: u8 = 1;
/// The suite or the configuration is wrong; nothing was judged.
pub const SETUP_ERROR: u8 = 2;
/// No case failed, but some errored (transport) or were inconclusive (429, auth).
pub const NOT_JUDGED: u8 = 3;
/// The filter selected no case.
pub const NOTHING_SELECTED: u8 = 4;

/// The exit code a finished run deserves.
pub fn for_summary(summary: &Summary) -> u8 {
    let c = summary.counts;
    if c.fail > 0 {
        FAILED
    } else if c.error > 0 || c.inconclusive > 0 || summary.interrupted {
        NOT_JUDGED
    } else {
        SUCCESS
    }
}

/// The exit code of a run given what its snapshots came to. Held to a baseline or to waivers,
/// it fails when the gate does (a regression no waiver accepts, an expired waiver), not for
/// what the baseline already holds; `--unreferenced reject` with snapshots no case wrote fails.
pub fn for_run(summary: &Summary, snapshots: &crate::report::snapshot::Results) -> u8 {
    let code = match &snapshots.gate {
        None => for_summary(summary),
        Some(gate) => for_gate(summary, gate),
    };
    if snapshots.rejected && code == SUCCESS {
        FAILED
    } else {
        code
    }
}

fn for_gate(summary: &Summary, gate: &crate::report::snapshot::baseline::Gate) -> u8 {
    let c = summary.counts;
    if gate.failed() {
        FAILED
    } else if c.error > 0 || c.inconclusive > 0 || summary.interrupted {
        NOT_JUDGED
    } else {
        SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Counts;

    #[test]
    fn failures_beat_errors_beat_success() {
        let with = |counts: Counts| {
            for_summary(&Summary {
                counts,
                ..Summary::default()
            })
        };
        assert_eq!(
            with(Counts {
                pass: 3,
                skipped: 1,
                ..Counts::default()
            }),
            SUCCESS
        );
        assert_eq!(
            with(Counts {
                pass: 3,
                error: 1,
                ..Counts::default()
            }),
            NOT_JUDGED
        );
        assert_eq!(
            with(Counts {
                inconclusive: 1,
                ..Counts::default()
            }),
            NOT_JUDGED
        );
        assert_eq!(
            with(Counts {
                fail: 1,
                error: 1,
                ..Counts::default()
            }),
            FAILED
        );
    }
}
