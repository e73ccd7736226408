//! The named bound of every number a job's submitter gives: the strategy
//! options (`screen=N`, `transfer=N`, `cheap=N`, `lambda=X`,
//! `model-share=S`) and the job's own settings (trials, threads, batch,
//! expansions). Each is refused where it is read — `--strategy` text as it
//! parses, the rest by [`check_count`] in every front end (`colt tune`,
//! `colt bench`, `colt tune-model`, the daemon's jobs and model jobs) —
//! with a message naming the option, its value and its bound. The bounds
//! are far above anything a real job asks for: they exist so that no
//! request can make a job run for hours before its first measurement, or
//! make the daemon spawn or allocate without limit.

/// Most samples screened by the cost model per draw of fresh samples
/// (`screen=N`). A draw of 65,536 is 128 times the default (512) and
/// takes minutes on the largest built-in workload; every screening loop
/// also polls the job's stop flag, so even this much is cancellable.
pub const MAX_SCREEN: usize = 65_536;

/// Most candidates of the transfer round (`transfer=N`): it measures one
/// per style other workloads agree on, and a machine's records hold a few
/// dozen styles; the job's trial budget bounds it too.
pub const MAX_TRANSFER: usize = 1024;

/// Most random-edit expansions `colt:cheap=N` asks for a round: 128 times
/// the default (32); each costs a few rollouts of the cost model.
pub const MAX_CHEAP_EXPANSIONS: usize = 4096;

/// Largest `colt:model-share=S`: the models may take 100 times the rest of
/// the job's time. Above it the share is no budget at all (say `none`),
/// and a share near `f64::MAX` overflowed the model phase's deadline.
pub const MAX_MODEL_SHARE: f64 = 100.0;

/// Most trials one job (or one model job, over all its tasks) may ask
/// for: about a day of measurements at a second each; the largest
/// published tuning budgets (Ansor, MetaSchedule) are 20,000 per model.
pub const MAX_TRIALS: usize = 100_000;

/// Most search threads of a job (`--threads`): each is an OS thread per
/// expansion phase, and the machines colt tunes have at most a few
/// hundred cores.
pub const MAX_THREADS: usize = 256;

/// Most candidates measured per round (`--batch`): the `random` strategy
/// draws this many samples a round; 512 times the default (8).
pub const MAX_BATCH: usize = 4096;

/// Most model expansions between two measurement rounds
/// (`--expansions`): each is one model call, seconds on a CPU.
pub const MAX_EXPANSIONS: usize = 4096;

/// A number outside its bound: the option as its submitter named it, the
/// value as given, and what is accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{option} {value}: {accepted}")]
pub struct BoundError {
    pub option: String,
    pub value: String,
    pub accepted: String,
}

/// `value` when it lies in `min..=max`; otherwise an error naming `option`
/// (as the caller's front end spells it: `--trials`, `trials`, `screen`)
/// and `what` it counts.
pub fn check_count(option: &str, value: usize, min: usize, max: usize, what: &str) -> Result<usize, BoundError> {
    if (min..=max).contains(&value) {
        return Ok(value);
    }
    Err(BoundError {
        option: option.to_string(),
        value: value.to_string(),
        accepted: format!("{what} is a whole number from {min} to {max}"),
    })
}

/// [`check_count`] of a number in text (a strategy option's value): one
/// that does not parse as a whole number is refused the same way.
pub fn parse_count(option: &str, text: &str, min: usize, max: usize, what: &str) -> Result<usize, BoundError> {
    let not_a_count = || BoundError {
        option: option.to_string(),
        value: text.to_string(),
        accepted: format!("{what} is a whole number from {min} to {max}"),
    };
    let value = text.parse::<usize>().map_err(|_| not_a_count())?;
    check_count(option, value, min, max, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_outside_its_bound_is_named_with_the_bound() {
        assert_eq!(check_count("--trials", 5, 1, MAX_TRIALS, "a job's trial budget"), Ok(5));
        let e = check_count("--trials", 0, 1, MAX_TRIALS, "a job's trial budget").unwrap_err();
        assert_eq!(e.to_string(), "--trials 0: a job's trial budget is a whole number from 1 to 100000");
        let e = parse_count("screen", "99999999999", 0, MAX_SCREEN, "the samples screened").unwrap_err();
        assert!(e.to_string().contains("screen 99999999999") && e.to_string().contains("65536"), "{e}");
        let e = parse_count("screen", "-1", 0, MAX_SCREEN, "the samples screened").unwrap_err();
        assert!(e.to_string().starts_with("screen -1:"), "{e}");
    }
}
