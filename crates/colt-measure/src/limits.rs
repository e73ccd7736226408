//! What this machine can do at most, measured: the FP32 FMA peak of the
//! measured cores, the cost of the operations that are not FMAs (exp, max,
//! division, ...) in FMA slots, and the read bandwidth of each cache level
//! and of memory. A kernel's roofline bound ([`MachineLimits::bound`]) is
//! the time its necessary work ([`colt_ir::work::NecessaryWork`]) takes at
//! these limits; reports give each best kernel's share of it.
//!
//! Measured once per hardware label and kept in the tuning database
//! (`colt machine` shows them, `--remeasure` measures again) by
//! [`MachineLimits::measure`]: probes in colt's own vector C, built and
//! run like every kernel on all measured cores at once (`probes.rs`), and
//! the cache sizes Linux lists for those cores (`caches.rs`).

use crate::buffers::Fill;
use crate::build::Builder;
use crate::measurer::CpuConfig;
use crate::runner::RunPlan;
use probes::{Effort, Op};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

mod caches;
mod probes;

pub use caches::{cache_levels, CacheLevel, SYSFS_CPUS};

/// One level of the memory hierarchy as the measured cores see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryLevel {
    /// `L1d`, `L2`, `L3`, `memory`.
    pub name: String,
    /// What all measured cores together can keep at this level (private
    /// caches times the cores, a shared cache once); None for memory.
    pub bytes: Option<u64>,
    /// Read bandwidth of all measured cores together, bytes per second.
    pub read_bytes_per_s: f64,
}

/// The limits of one hardware label on its measured cores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MachineLimits {
    /// The target's label (`cpu:MODEL [FEATURES]`).
    pub label: String,
    /// How many cores ran the probes.
    pub cores: usize,
    /// FP32 FLOP/s of all measured cores with every FMA unit busy
    /// (an FMA counts 2 FLOPs).
    pub peak_flops_per_s: f64,
    /// Cost of one f32 operation, in FMA slots (1.0: as fast as an FMA
    /// instruction, vectorized the way colt's kernels are compiled).
    pub op_cost: OpCosts,
    /// Inner to outer; the last is memory.
    pub levels: Vec<MemoryLevel>,
    /// Unix seconds of the measurement.
    pub measured_at: u64,
}

/// Per-element cost of the operations a kernel computes besides FMAs, in
/// FMA slots (the time of one FMA at peak is 2 / peak_flops_per_s).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpCosts {
    /// add, sub, mul (one slot each on every x86 part colt targets; kept
    /// as a measured figure all the same).
    pub add: f64,
    pub max: f64,
    pub div: f64,
    pub exp: f64,
    pub sqrt: f64,
}

/// Why the limits could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    #[error("cannot read the caches of core {core} from `{}`: {reason}", path.display())]
    CacheTopology { core: usize, path: PathBuf, reason: String },
    #[error("no cores to measure the machine's limits on")]
    NoCores,
    #[error("machine-limits probe `{probe}`: {detail}")]
    Probe { probe: String, detail: String },
}

/// How each probe runs: warm-up (caches, the vector unit's frequency
/// licence), then the median of at least 9 runs of ~10 ms, at most a
/// second of them.
const PLAN: RunPlan = RunPlan { warmup_runs: 2, min_runs: 9, min_seconds: 0.1, max_seconds: 1.0 };

/// A memory probe's run is one pass over gigabytes (a tenth of a second
/// and more): fewer runs. Its buffers were just written (poisoned), so
/// one warm-up run is enough to settle the TLB and the prefetchers.
const MEMORY_PLAN: RunPlan = RunPlan { warmup_runs: 1, min_runs: 3, min_seconds: 0.0, max_seconds: 2.0 };

/// The memory probe reads this many times the last cache level's bytes,
/// so that what the cache still holds of it is a small share.
pub const MEMORY_OVER_LAST_LEVEL: u64 = 8;

impl MachineLimits {
    /// Measures this host on `config`'s cores with `builder`'s compiler
    /// and flags (see the module docs); a few seconds. Label: this CPU's
    /// ([`crate::Target::Cpu`]).
    pub fn measure(builder: &Builder, config: &CpuConfig) -> Result<MachineLimits, LimitsError> {
        MachineLimits::measure_with(builder, &config.cores, Path::new(SYSFS_CPUS), Effort::MEASURE)
    }

    fn measure_with(
        builder: &Builder,
        cores: &[usize],
        sysfs: &Path,
        effort: Effort,
    ) -> Result<MachineLimits, LimitsError> {
        if cores.is_empty() {
            return Err(LimitsError::NoCores);
        }
        let tasks = cores.len();
        let caches = cache_levels(sysfs, cores)?;
        let (lanes, registers) = crate::vector_unit();
        let mut probes = vec![probes::fma(lanes, registers, tasks, effort)];
        probes.extend(Op::ALL.iter().map(|&op| probes::op(op, lanes, tasks, effort)));
        // Half of each level's share per core: the level holds it with room
        // for the code, the stack and what the level above evicts into it.
        for level in &caches {
            let floats = (level.bytes / tasks as u64 / 2 / 4) as usize;
            // Huge pages, as kernels' buffers have: a cache level's sets are
            // then filled evenly, not as 4 KiB pages happen to land.
            probes.push(probes::read(&level.name, floats, lanes, tasks, effort, Fill::Poison));
        }
        let last = caches.last().map_or(0, |l| l.bytes);
        let memory_floats = (MEMORY_OVER_LAST_LEVEL * last / tasks as u64 / 4) as usize;
        probes.push(probes::read("memory", memory_floats, lanes, tasks, effort, Fill::PoisonPlainPages));

        let images = probes.iter().map(|p| probes::build(builder, p)).collect::<Result<Vec<_>, _>>()?;
        let _permit = builder.gate().timing();
        let mut seconds = Vec::with_capacity(probes.len());
        for (i, (probe, image)) in probes.iter().zip(&images).enumerate() {
            let plan = if i + 1 == probes.len() { &MEMORY_PLAN } else { &PLAN };
            seconds.push(probes::time(probe, image, cores, plan)?);
        }
        let rate = |i: usize| probes[i].work / seconds[i];
        let peak_flops_per_s = rate(0);
        // An element's seconds over an FMA lane's at peak (2 FLOPs).
        // The operation probes follow the FMA probe in `Op::ALL`'s order.
        let cost = |k: usize| peak_flops_per_s / (2.0 * rate(1 + k));
        let op_cost = OpCosts { add: cost(0), max: cost(1), div: cost(2), exp: cost(3), sqrt: cost(4) };
        let first_level = 1 + Op::ALL.len();
        let mut levels: Vec<MemoryLevel> = caches
            .iter()
            .enumerate()
            .map(|(k, c)| MemoryLevel {
                name: c.name.clone(),
                bytes: Some(c.bytes),
                read_bytes_per_s: rate(first_level + k),
            })
            .collect();
        levels.push(MemoryLevel { name: "memory".into(), bytes: None, read_bytes_per_s: rate(probes.len() - 1) });
        let measured_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Ok(MachineLimits {
            label: crate::Target::Cpu.label(),
            cores: tasks,
            peak_flops_per_s,
            op_cost,
            levels,
            measured_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ArtifactCache, Compiler, TimingGate};

    #[test]
    fn every_probe_builds_runs_and_gives_plausible_limits_on_a_small_cache_tree() {
        let cores: Vec<usize> = crate::affinity::available_cores().into_iter().take(2).collect();
        let sysfs = tempfile::tempdir().unwrap();
        for &core in &cores {
            let own = core.to_string();
            let all: Vec<String> = cores.iter().map(|c| c.to_string()).collect();
            caches::tests::fake_cache(sysfs.path(), core, 0, 1, "Data", "32K", &own);
            caches::tests::fake_cache(sysfs.path(), core, 1, 2, "Unified", "256K", &own);
            caches::tests::fake_cache(sysfs.path(), core, 2, 3, "Unified", "1024K", &all.join(","));
        }
        let cache = tempfile::tempdir().unwrap();
        let builder = Builder::new(Compiler::system(), ArtifactCache::new(cache.path()), TimingGate::new());
        // A hundredth of the real work: this asserts what holds on a busy
        // machine, not the figures.
        let effort = Effort { fma_flops: 2.5e7, op_elements: 1e7, level_bytes: 8e6 };
        let limits = MachineLimits::measure_with(&builder, &cores, sysfs.path(), effort).unwrap();
        assert_eq!((limits.cores, limits.label.clone()), (cores.len(), crate::Target::Cpu.label()));
        assert!(limits.peak_flops_per_s > 1e8, "{limits:?}");
        let c = &limits.op_cost;
        for (name, cost) in [("add", c.add), ("max", c.max), ("div", c.div), ("exp", c.exp), ("sqrt", c.sqrt)] {
            assert!(cost.is_finite() && cost > 0.0, "{name}: {limits:?}");
        }
        // colt_vexp is a dozen vector operations and more.
        assert!(c.exp > c.add, "{limits:?}");
        let names: Vec<&str> = limits.levels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["L1d", "L2", "L3", "memory"]);
        let n = cores.len() as u64;
        let bytes: Vec<Option<u64>> = limits.levels.iter().map(|l| l.bytes).collect();
        assert_eq!(bytes, [Some(n * (32 << 10)), Some(n * (256 << 10)), Some(1 << 20), None]);
        assert!(limits.levels.iter().all(|l| l.read_bytes_per_s > 1e8), "{limits:?}");
        assert!(limits.measured_at > 1_700_000_000);
    }

    #[test]
    fn a_machine_without_cache_listing_is_an_error_naming_the_folder() {
        let sysfs = tempfile::tempdir().unwrap();
        let builder = Builder::new(Compiler::system(), ArtifactCache::new(sysfs.path().join("k")), TimingGate::new());
        let e = MachineLimits::measure_with(&builder, &[0], sysfs.path(), Effort::MEASURE).unwrap_err();
        assert!(matches!(e, LimitsError::CacheTopology { core: 0, .. }), "{e}");
        assert!(e.to_string().contains(&sysfs.path().join("cpu0/cache").display().to_string()), "{e}");
        assert!(matches!(
            MachineLimits::measure_with(&builder, &[], sysfs.path(), Effort::MEASURE),
            Err(LimitsError::NoCores)
        ));
    }
}
