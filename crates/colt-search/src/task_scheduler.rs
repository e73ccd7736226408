//! The task scheduler of a whole-model job (`colt tune-model`): one trial
//! budget, many tasks (a model's distinct layers, each run `count` times a
//! forward pass); which task gets the next round of trials.
//!
//! The objective is the estimated forward-pass time, Σ count × latency.
//! [`Allocation::Gradient`] is Ansor's task scheduler (Zheng et al., OSDI
//! 2020, §6), as MetaSchedule's `GradientBased` scheduler keeps it: after
//! one warm-up round per task, the next round goes to the task whose
//! objective gradient with respect to its trials is the most negative,
//!
//!   ∂f/∂tᵢ ≈ countᵢ · (α · backwardᵢ + (1 − α) · forwardᵢ),
//!
//! backward: the latency's change per trial over the task's last `window`
//! rounds (recent improvement), forward: −latencyᵢ / tᵢ (the optimistic
//! guess that more trials keep paying as they have on average), with α =
//! 0.2 and a window of 3 rounds (MetaSchedule's defaults). Ansor's third
//! term (the latency similar tasks reached) is left out: colt's tasks are
//! one model's, rarely similar enough to bound one another. With
//! probability ε = 0.05 a random task gets the round instead, so a task
//! whose first rounds found nothing is not starved for good.
//! [`Allocation::Equal`] gives tasks rounds in turn: the baseline to beat.

/// How rounds are given out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocation {
    Gradient,
    Equal,
}

impl std::str::FromStr for Allocation {
    type Err = String;
    fn from_str(s: &str) -> Result<Allocation, String> {
        match s {
            "gradient" => Ok(Allocation::Gradient),
            "equal" => Ok(Allocation::Equal),
            other => Err(format!("unknown task scheduler `{other}`: expected gradient or equal")),
        }
    }
}

impl std::fmt::Display for Allocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Allocation::Gradient => "gradient",
            Allocation::Equal => "equal",
        })
    }
}

/// MetaSchedule's `GradientBased` defaults.
const ALPHA: f64 = 0.2;
const WINDOW: usize = 3;
const EPSILON: f64 = 0.05;

/// One task as the scheduler sees it.
#[derive(Clone, Debug)]
struct TaskState {
    count: u64,
    /// Latency before any trial (the naive kernel's), when known.
    naive_ms: Option<f64>,
    /// `(trials so far, best latency)` after each of its rounds.
    history: Vec<(usize, Option<f64>)>,
    /// Its space has nothing left to measure.
    retired: bool,
}

impl TaskState {
    fn trials(&self) -> usize {
        self.history.last().map_or(0, |(t, _)| *t)
    }

    fn latency(&self) -> Option<f64> {
        self.history.last().and_then(|(_, b)| *b).or(self.naive_ms)
    }
}

/// Gives rounds of trials to tasks.
#[derive(Clone, Debug)]
pub struct TaskScheduler {
    tasks: Vec<TaskState>,
    allocation: Allocation,
    rng: u64,
    turn: usize,
}

impl TaskScheduler {
    /// Tasks by their count per forward pass.
    pub fn new(counts: &[u64], allocation: Allocation, seed: u64) -> TaskScheduler {
        let tasks = counts
            .iter()
            .map(|&count| TaskState { count, naive_ms: None, history: Vec::new(), retired: false })
            .collect();
        TaskScheduler { tasks, allocation, rng: seed | 1, turn: 0 }
    }

    /// The task's naive latency (the objective's value before tuning).
    pub fn set_naive(&mut self, task: usize, ms: f64) {
        self.tasks[task].naive_ms = Some(ms);
    }

    /// The task that gets the next round; `None` once every task is
    /// retired.
    pub fn next_task(&mut self) -> Option<usize> {
        let live: Vec<usize> = (0..self.tasks.len()).filter(|&t| !self.tasks[t].retired).collect();
        if live.is_empty() {
            return None;
        }
        // Warm-up: every task once, in order; the equal split stays so.
        if let Some(&fresh) = live.iter().find(|&&t| self.tasks[t].history.is_empty()) {
            return Some(fresh);
        }
        if self.allocation == Allocation::Equal {
            self.turn += 1;
            return Some(live[(self.turn - 1) % live.len()]);
        }
        if self.random() < EPSILON {
            let pick = (self.random() * live.len() as f64) as usize;
            return Some(live[pick.min(live.len() - 1)]);
        }
        live.into_iter().min_by(|&a, &b| self.gradient(a).total_cmp(&self.gradient(b)))
    }

    /// Takes `task` out: its space has nothing left to measure.
    pub fn retire(&mut self, task: usize) {
        self.tasks[task].retired = true;
    }

    /// Records a round of `task`: its trials so far and its best latency.
    pub fn record(&mut self, task: usize, trials: usize, best_ms: Option<f64>) {
        self.tasks[task].history.push((trials, best_ms));
    }

    /// ∂f/∂tᵢ as the module docs give it (negative: more trials help).
    pub fn gradient(&self, task: usize) -> f64 {
        let t = &self.tasks[task];
        let (Some(now), trials) = (t.latency(), t.trials()) else { return 0.0 };
        if trials == 0 {
            return f64::NEG_INFINITY;
        }
        let back = t.history.len().saturating_sub(WINDOW + 1);
        let (then_trials, then) = match t.history.get(back) {
            Some(&(tr, b)) if t.history.len() > 1 => (tr, b.or(t.naive_ms).unwrap_or(now)),
            _ => (0, t.naive_ms.unwrap_or(now)),
        };
        let backward = if trials > then_trials { (now - then) / (trials - then_trials) as f64 } else { 0.0 };
        let forward = -now / trials as f64;
        t.count as f64 * (ALPHA * backward + (1.0 - ALPHA) * forward)
    }

    /// Σ count × latency (naive where a task has none yet; None when a
    /// task has neither).
    pub fn estimated_pass_ms(&self) -> Option<f64> {
        self.tasks.iter().map(|t| t.latency().map(|l| t.count as f64 * l)).sum()
    }

    /// Trials each task has had.
    pub fn trials(&self) -> Vec<usize> {
        self.tasks.iter().map(TaskState::trials).collect()
    }

    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tasks, the first run 10 times a pass: after the warm-up, the one
    /// whose weighted latency still falls gets the rounds.
    #[test]
    fn rounds_go_where_the_weighted_latency_falls_most() {
        let mut s = TaskScheduler::new(&[10, 1], Allocation::Gradient, 7);
        s.set_naive(0, 4.0);
        s.set_naive(1, 4.0);
        assert_eq!(s.next_task(), Some(0));
        s.record(0, 8, Some(2.0));
        assert_eq!(s.next_task(), Some(1));
        s.record(1, 8, Some(2.0));
        let picks: Vec<usize> = (0..20)
            .map(|_| {
                let task = s.next_task().unwrap();
                let trials = s.trials()[task] + 8;
                // Task 0 keeps improving; task 1 is stuck.
                let best = if task == 0 { 2.0 * 0.9f64.powi((trials / 8) as i32) } else { 2.0 };
                s.record(task, trials, Some(best));
                task
            })
            .collect();
        // The equal split would give each 10; the stuck task still gets a
        // few (the forward term's optimism about an untried task).
        let to_first = picks.iter().filter(|&&t| t == 0).count();
        assert!(to_first >= 14, "{picks:?}");
        assert!(s.gradient(0) < s.gradient(1));
    }

    #[test]
    fn the_equal_split_takes_turns_and_the_pass_estimate_weighs_by_count() {
        let mut s = TaskScheduler::new(&[3, 1, 2], Allocation::Equal, 1);
        let picks: Vec<usize> = (0..6)
            .map(|_| {
                let t = s.next_task().unwrap();
                s.record(t, s.trials()[t] + 4, Some(1.0 + t as f64));
                t
            })
            .collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        s.retire(1);
        assert_eq!((0..4).map(|_| s.next_task().unwrap()).collect::<Vec<_>>(), [2, 0, 2, 0]);
        s.retire(0);
        s.retire(2);
        assert_eq!(s.next_task(), None);
        assert_eq!(s.estimated_pass_ms(), Some(3.0 * 1.0 + 2.0 + 2.0 * 3.0));
        assert_eq!("equal".parse::<Allocation>(), Ok(Allocation::Equal));
        assert!("greedy".parse::<Allocation>().unwrap_err().contains("gradient or equal"));
    }
}
