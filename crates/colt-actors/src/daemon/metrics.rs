//! The daemon's Prometheus metrics: the database's live workers (jobs held,
//! heartbeat age), jobs and model jobs by state, trials, model calls and
//! tokens per model, failed trials by kind.

use super::{Daemon, JobError};
use colt_db::JobState;
use std::collections::HashMap;
use std::fmt::Write;

impl Daemon {
    /// The metrics in Prometheus' text format (version 0.0.4).
    pub fn metrics(&self) -> Result<String, JobError> {
        let jobs = self.read(|db| db.jobs())?;
        let model_jobs = self.read(|db| db.model_jobs())?;
        let failures = self.read(|db| db.failure_counts())?;
        let mut by_state: HashMap<&str, u64> = JobState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        for j in &jobs {
            *by_state.entry(j.state.as_str()).or_default() += 1;
        }
        let (mut calls, mut tokens, live) = {
            let s = self.state.lock();
            (s.calls.clone(), s.tokens.clone(), s.running.as_ref().and_then(|r| r.progress.clone()))
        };
        let trials: u64 = jobs.iter().map(|j| j.trials_done).sum();
        if let Some(p) = live {
            for (m, n) in &p.llm_calls {
                *calls.entry(m.clone()).or_default() += n;
            }
            for (m, n) in &p.llm_tokens {
                *tokens.entry(m.clone()).or_default() += n;
            }
        }
        let workers = self.read(|db| db.live_workers(colt_db::LEASE))?;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP colt_worker_jobs Unfinished jobs each live worker of the database holds.\n# TYPE colt_worker_jobs gauge"
        );
        let held = |w: &colt_db::WorkerRow| {
            jobs.iter().filter(|j| j.state.is_unfinished() && j.owner.as_ref() == Some(&w.worker)).count()
        };
        for w in &workers {
            let _ = writeln!(out, "colt_worker_jobs{{worker=\"{}\"}} {}", label(&w.worker.to_string()), held(w));
        }
        let _ = writeln!(
            out,
            "# HELP colt_worker_heartbeat_age_seconds Seconds since each live worker's last heartbeat.\n# TYPE colt_worker_heartbeat_age_seconds gauge"
        );
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        for w in &workers {
            let age = (now - w.heartbeat_unix).max(0.0);
            let _ = writeln!(
                out,
                "colt_worker_heartbeat_age_seconds{{worker=\"{}\"}} {age:.3}",
                label(&w.worker.to_string())
            );
        }
        let _ = writeln!(out, "# HELP colt_jobs Jobs in the tuning database, by state.\n# TYPE colt_jobs gauge");
        let mut states: Vec<_> = by_state.into_iter().collect();
        states.sort();
        for (state, n) in states {
            let _ = writeln!(out, "colt_jobs{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP colt_model_jobs Model jobs in the tuning database, by state.\n# TYPE colt_model_jobs gauge"
        );
        for state in JobState::ALL {
            let n = model_jobs.iter().filter(|j| j.state == state).count();
            let _ = writeln!(out, "colt_model_jobs{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP colt_trials_total Measured candidates of all jobs.\n# TYPE colt_trials_total counter"
        );
        let _ = writeln!(out, "colt_trials_total {trials}");
        let _ = writeln!(
            out,
            "# HELP colt_llm_calls_total Model calls since the daemon started.\n# TYPE colt_llm_calls_total counter"
        );
        for (m, n) in &calls {
            let _ = writeln!(out, "colt_llm_calls_total{{model=\"{}\"}} {n}", label(m));
        }
        let _ = writeln!(out, "# HELP colt_llm_tokens_total Prompt and generated tokens since the daemon started.\n# TYPE colt_llm_tokens_total counter");
        for (m, n) in &tokens {
            let _ = writeln!(out, "colt_llm_tokens_total{{model=\"{}\"}} {n}", label(m));
        }
        let _ = writeln!(out, "# HELP colt_measurement_failures_total Failed trials of all jobs, by kind.\n# TYPE colt_measurement_failures_total counter");
        for (kind, n) in &failures {
            let _ = writeln!(out, "colt_measurement_failures_total{{kind=\"{}\"}} {n}", label(kind));
        }
        Ok(out)
    }
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn prometheus_labels_are_escaped() {
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
