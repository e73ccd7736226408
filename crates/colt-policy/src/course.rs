//! Course alteration: when small models keep proposing regressions, ask the
//! largest model to correct the last proposal.
//!
//! A *regression* is a child of a small-model expansion (any model but the
//! largest, see [`Roster::is_small`]) that scores below its parent. The
//! streak counts consecutive small-model regressions in the order the search
//! threads report them; a small-model expansion that does not regress ends
//! it. The largest model's own expansions neither count nor end it: they
//! say nothing about whether the small models are on course. After every
//! K-th regression of a streak (K, 2K, ...), [`CourseAlteration::observe`]
//! answers [`Course::Escalate`]; the caller asks the largest model to
//! correct that proposal and keeps its child if it scores at least as well
//! ([`keep`]).

use crate::error::PolicyError;
use crate::roster::Roster;
use colt_tree::ModelId;
use parking_lot::Mutex;
use std::sync::Arc;

/// The reference implementation's K.
pub const DEFAULT_STREAK: u32 = 2;

/// What the search does after an expansion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Course {
    Continue,
    /// Ask `to` (the largest model) to correct the proposal just observed.
    Escalate {
        to: ModelId,
    },
}

/// Which child stays after a correction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// The small model's child (the correction scored below it).
    Proposal,
    /// The largest model's child.
    Correction,
}

/// The corrected child replaces the small model's if it scores at least as
/// well: on a tie the larger model's judgement wins, since the small
/// model's proposal was the one under suspicion.
pub fn keep(proposal_score: f64, correction_score: f64) -> Kept {
    if correction_score >= proposal_score {
        Kept::Correction
    } else {
        Kept::Proposal
    }
}

/// The regression streak of one search (shared by its threads).
pub struct CourseAlteration {
    roster: Arc<Roster>,
    k: u32,
    streak: Mutex<u32>,
}

impl CourseAlteration {
    /// `k` ≥ 1 regressions in a row trigger an escalation.
    pub fn new(roster: Arc<Roster>, k: u32) -> Result<CourseAlteration, PolicyError> {
        if k == 0 {
            return Err(PolicyError::OutOfRange { name: "K", value: 0.0, range: "at least 1" });
        }
        Ok(CourseAlteration { roster, k, streak: Mutex::new(0) })
    }

    pub fn k(&self) -> u32 {
        self.k
    }

    /// Consecutive small-model regressions so far.
    pub fn streak(&self) -> u32 {
        *self.streak.lock()
    }

    /// Reports an expansion by `model` whose child scored `child_score`
    /// against its parent's `parent_score` (predicted or measured, the same
    /// kind for both).
    pub fn observe(&self, model: ModelId, parent_score: f64, child_score: f64) -> Course {
        if !self.roster.is_small(model) {
            return Course::Continue;
        }
        let mut streak = self.streak.lock();
        // NaN (an unscorable child) is a regression: it is not progress.
        let regressed = child_score < parent_score || child_score.is_nan();
        if !regressed {
            *streak = 0;
            return Course::Continue;
        }
        *streak += 1;
        if (*streak).is_multiple_of(self.k) {
            Course::Escalate { to: self.roster.largest() }
        } else {
            Course::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::ModelSpec;

    const BIG: ModelId = ModelId(0);
    const SMALL: ModelId = ModelId(1);
    const MID: ModelId = ModelId(2);

    fn course(k: u32) -> CourseAlteration {
        let roster =
            Roster::new(vec![ModelSpec::new("big", 27), ModelSpec::new("small", 1), ModelSpec::new("mid", 4)]).unwrap();
        CourseAlteration::new(Arc::new(roster), k).unwrap()
    }

    #[test]
    fn every_kth_consecutive_small_regression_escalates_to_the_largest() {
        let c = course(DEFAULT_STREAK);
        let script = [
            // (model, parent, child, expected course, streak after)
            (SMALL, 0.5, 0.4, Course::Continue, 1),
            (BIG, 0.5, 0.1, Course::Continue, 1), // the largest neither counts nor resets
            (MID, 0.5, 0.45, Course::Escalate { to: BIG }, 2),
            (SMALL, 0.5, 0.3, Course::Continue, 3),
            (SMALL, 0.5, 0.3, Course::Escalate { to: BIG }, 4),
            (SMALL, 0.5, 0.5, Course::Continue, 0), // equal is not a regression
            (SMALL, 0.5, f64::NAN, Course::Continue, 1),
            (MID, 0.2, 0.9, Course::Continue, 0),
        ];
        for (i, (model, parent, child, expected, streak)) in script.into_iter().enumerate() {
            assert_eq!(c.observe(model, parent, child), expected, "step {i}");
            assert_eq!(c.streak(), streak, "step {i}");
        }
    }

    #[test]
    fn k_of_one_escalates_every_regression_and_k_zero_is_refused() {
        let c = course(1);
        assert_eq!(c.observe(SMALL, 1.0, 0.0), Course::Escalate { to: BIG });
        assert_eq!(c.observe(SMALL, 1.0, 0.0), Course::Escalate { to: BIG });
        assert!(CourseAlteration::new(c.roster.clone(), 0).is_err());
    }

    #[test]
    fn a_single_model_never_escalates() {
        let roster = Arc::new(Roster::new(vec![ModelSpec::new("only", 8)]).unwrap());
        let c = CourseAlteration::new(roster, 1).unwrap();
        assert_eq!(c.observe(ModelId(0), 1.0, 0.0), Course::Continue);
    }

    #[test]
    fn the_correction_is_kept_when_at_least_as_good() {
        assert_eq!(keep(0.4, 0.4), Kept::Correction);
        assert_eq!(keep(0.4, 0.5), Kept::Correction);
        assert_eq!(keep(0.4, 0.39), Kept::Proposal);
        assert_eq!(keep(0.4, f64::NAN), Kept::Proposal);
    }
}
