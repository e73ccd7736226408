//! A job as a client submits it, checked before it is queued.

use crate::colt::Colt;
use colt_db::NewJob;
use colt_measure::Target;
use colt_search::{SearchParams, StrategyChoice};
use serde::Deserialize;

/// Most trials one job may ask for (colt-search's bound, which every
/// front end checks).
pub use colt_search::MAX_TRIALS;

/// A job to submit: a built-in workload or a workload text, and how to
/// tune it (everything but the workload has a default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submit {
    /// A built-in workload's name, or...
    pub workload: Option<String>,
    /// ...a workload in colt's text format.
    pub workload_text: Option<String>,
    /// `cpu` (the default), or the daemon's OpenCL device: `opencl` or its
    /// label.
    pub target: Option<String>,
    pub strategy: Option<String>,
    pub trials: Option<usize>,
    pub seed: Option<u64>,
    pub llm_calls: Option<u64>,
    pub wall_s: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The request itself is wrong: a client error.
    #[error("{0}")]
    Invalid(String),
    #[error("{unfinished} jobs are queued or running (--max-jobs {max_jobs})")]
    TooMany { unfinished: usize, max_jobs: usize },
    /// The daemon could not queue it (its database failed).
    #[error(transparent)]
    Internal(#[from] super::JobError),
}

impl Submit {
    /// The job row to queue, if the request is one this daemon can run.
    pub(crate) fn into_job(self, colt: &Colt) -> Result<NewJob, SubmitError> {
        let invalid = |m: String| SubmitError::Invalid(m);
        let program = match (&self.workload, &self.workload_text) {
            (Some(name), None) => colt_ir::builtin(name)
                .map(|w| w.program(colt_ir::Size::Bench))
                .ok_or_else(|| invalid(format!("no built-in workload `{name}` (see `colt workloads`)")))?,
            (None, Some(text)) => named(
                colt_ir::parse_workload_as(text, "workload_text", "", colt_ir::Size::Bench)
                    .map_err(|e| invalid(format!("workload_text does not parse: {e}")))?,
            )
            .map_err(|e| invalid(format!("workload_text: {e}")))?,
            _ => return Err(invalid("give exactly one of `workload` (a built-in name) and `workload_text`".into())),
        };
        let serves = colt.target();
        let asked =
            match self.target.as_deref() {
                None | Some("cpu") => Target::Cpu,
                // The daemon's own OpenCL device, by its kind.
                Some("opencl") if serves != Target::Cpu => serves.clone(),
                Some("opencl") => return Err(invalid(
                    "target `opencl`: this daemon tunes only for its CPU (start it with `--target opencl` to serve \
                     an OpenCL device)"
                        .into(),
                )),
                Some(label) => label.parse::<Target>().map_err(|e| invalid(e.to_string()))?,
            };
        // The job is labelled with the device that serves it, driver named.
        let target = match asked {
            Target::Cpu => Target::Cpu,
            asked if asked.is_served_by(&serves) => serves.clone(),
            asked => {
                let cpu = Target::Cpu.label();
                return Err(invalid(format!("target `{asked}`: this daemon tunes for `{cpu}` and `{serves}`")));
            }
        };
        let strategy = submitted_strategy(self.strategy.as_deref(), colt)?;
        let trials =
            colt_search::check_count("trials", self.trials.unwrap_or(64), 1, MAX_TRIALS, "a job's trial budget")
                .map_err(|e| invalid(e.to_string()))?;
        if let Some(seconds) = self.wall_s {
            colt_search::wall_budget(seconds).map_err(|e| invalid(format!("wall_s: {e}")))?;
        }
        let options = serde_json::json!({
            "llm_calls": self.llm_calls,
            "wall_s": self.wall_s,
            "params": SearchParams::default(),
        });
        Ok(NewJob {
            workload: program.name().to_string(),
            workload_text: colt_ir::print_program(&program),
            workload_fingerprint: colt_ir::workload_fingerprint(&program),
            target: target.label(),
            strategy: strategy.to_string(),
            trials: trials as u64,
            seed: self.seed.unwrap_or(0),
            options_json: options.to_string(),
        })
    }
}

/// A submitted text's program under the name it declares, or, declaring
/// none, `unnamed-` and its fingerprint's first 8 digits: a database keeps
/// one program per name, so one default name for every unnamed text would
/// refuse the second; the same text is named alike each time.
fn named(program: colt_ir::Program) -> Result<colt_ir::Program, colt_ir::IrError> {
    if !program.name().is_empty() {
        return Ok(program);
    }
    let mut def = program.to_def();
    def.name = format!("unnamed-{}", &colt_ir::workload_fingerprint(&program)[..8]);
    colt_ir::Program::from_def(&def)
}

/// A submission's strategy: the one it names, else the default
/// (`colt_search::DEFAULT_STRATEGY`); one that calls models is refused by
/// a daemon that has none.
pub(crate) fn submitted_strategy(named: Option<&str>, colt: &Colt) -> Result<StrategyChoice, SubmitError> {
    let strategy: StrategyChoice =
        named.unwrap_or(colt_search::DEFAULT_STRATEGY).parse().map_err(|e| SubmitError::Invalid(format!("{e}")))?;
    if strategy.uses_models() && colt.models().is_empty() {
        return Err(SubmitError::Invalid(format!(
            "strategy `{strategy}` needs models and the daemon has none (start it with --models, or fetch the defaults)"
        )));
    }
    Ok(strategy)
}
