//! The analytical prior: a roofline-style estimate of a candidate's time
//! from its features alone, so the cost model ranks candidates before the
//! first measurement.
//!
//! Time = Amdahl(max(compute time, memory time)) + pack time where
//! - compute = flops at a scalar rate times the lanes actually used (flops
//!   in edge tiles run scalar), slowed when sums live in memory, and slowed
//!   when the register tile issues more load cycles than FMA cycles;
//! - memory = for each block level (`reg`, `l1`, `l2`, `l3`, see colt-ir's
//!   features) the bytes that level's blocks bring in (flops / the block's
//!   flops per byte) over the bandwidth of the level that serves them, one
//!   level further out when the block does not fit where it should;
//! - the parallel share of the work is split over the cores, weighted by
//!   its balance;
//! - pack time = the bytes the pack passes read and write over the
//!   bandwidth of the level the packed operand fits in, on every core.
//!
//! Throughput is the program's flops (each stage computed once) over that
//! time, not the flops the candidate executes: a sketch that inlines an
//! `exp` into a consumer with reuse executes more flops in about the time
//! they take, and counting them would rank the recomputation as fast as
//! the kernel that stores the stage once (it did: evolutionary search
//! bred only `inline(H)` SwiGLU candidates, 3–5x slower than `H` kept).
//!
//! A job on a machine whose limits `colt machine` has measured (the tuning
//! database keeps them per hardware label) runs the prior on those limits
//! ([`Roofline::measured`]); elsewhere on [`Roofline::default`]'s
//! constants, a typical x86 server core's orders of magnitude. The prior
//! only has to rank, and the learned model corrects its biases as
//! measurements arrive. On a Zen 5 part (evolutionary@64, four repeats,
//! `bench/roofline/zen5-2026-12-08-limits-prior/`), the measured limits
//! together with colt-ir's register block counting a tile's sums once per
//! reduction gave 0.93-0.98x the generic prior's median latency on five
//! suite workloads (gemm-512 from 93% to 97% of its roofline bound,
//! flux-conv from 89% to 93%) and 1.06x on flux-attn, whose repeats span
//! 2.3-2.9 ms.

use colt_ir::features::Features;

// Indices into colt-ir's FEATURE_NAMES.
const LOG_FLOPS: usize = 0;
const MEAN_LANES: usize = 4;
const STRIDED_LOADS: usize = 7;
const PARALLEL_SHARE: usize = 8;
const PARALLEL_BALANCE: usize = 10;
const REGISTER_SHARE: usize = 16;
const BLOCK_BYTES: usize = 18; // reg, l1, l2, l3
const BLOCK_INTENSITY: usize = 22; // reg, l1, l2, l3
const FULL_TILES: usize = 26;
const RECOMPUTATION: usize = 32;
const REG_BROADCASTS: usize = 37;
const REG_VECTOR_LOADS: usize = 38;
const PACK_BYTES: usize = 39;

/// Issue cycles per vector FMA, per broadcast scalar and per loaded
/// vector in a register tile's step: two FMAs and two vector loads a
/// cycle, one broadcast. Measured on a Zen 5 part (gemm-512 by hand,
/// `bench/vs-metaschedule/zen5-2026-12-04/hand-gemm.txt`): 16 rows of 1 vector ran 2.3x
/// slower than 8 rows of 2, and 6 rows of 2 1.2x, which these costs put
/// at 1.8x and 1.04x, where a broadcast costing what a vector load costs
/// would put them at 1.06x and 1.0x.
const FMA_CYCLES: f64 = 0.5;
const BROADCAST_CYCLES: f64 = 1.0;
const VECTOR_LOAD_CYCLES: f64 = 0.5;

/// The machine the prior assumes.
#[derive(Clone, Debug, PartialEq)]
pub struct Roofline {
    pub cores: usize,
    /// Scalar flops per second of one core (≈ 1 flop a cycle at 3 GHz).
    pub scalar_flops: f64,
    /// Bytes per second one core reads from L1, L2, L3 and DRAM.
    pub bandwidth: [f64; 4],
    /// Bytes that fit in the registers, L1, L2 and L3.
    pub capacity: [f64; 4],
}

impl Default for Roofline {
    fn default() -> Roofline {
        Roofline {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            scalar_flops: 3e9,
            bandwidth: [200e9, 80e9, 40e9, 15e9],
            // 16 vector registers of 64 bytes, 32 KiB, 1 MiB, 16 MiB.
            capacity: [1024.0, 32768.0, 1048576.0, 16777216.0],
        }
    }
}

/// One cache level of a machine as `colt machine` measures it: what all
/// the measured cores together keep in it and read from it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeasuredLevel {
    pub bytes: f64,
    pub read_bytes_per_s: f64,
}

/// A machine's measured limits, all cores together (colt-measure's
/// `MachineLimits`, read without depending on colt-measure).
#[derive(Clone, Debug, PartialEq)]
pub struct MeasuredMachine {
    pub cores: usize,
    /// f32 lanes of a vector register, and vector registers.
    pub lanes: usize,
    pub registers: usize,
    /// FP32 FLOP/s with every FMA unit of every core busy.
    pub peak_flops_per_s: f64,
    /// The caches, inner first.
    pub caches: Vec<MeasuredLevel>,
    pub memory_read_bytes_per_s: f64,
}

impl Roofline {
    /// The prior on a measured machine, per core as the prior counts:
    /// the scalar rate that the machine's lanes multiply into its peak,
    /// each level's bandwidth and size shared evenly by the cores (a
    /// shared L3 too: the other core's blocks live in it as well), and the
    /// register file's bytes. A machine with two cache levels has its L3
    /// slot take memory's bandwidth and its L2's size, so that a block
    /// beyond L2 is served by memory; one with four keeps the inner three
    /// and memory. None where a figure is missing or not positive.
    pub fn measured(m: &MeasuredMachine) -> Option<Roofline> {
        let cores = m.cores.max(1);
        let per_core = |x: f64| x / cores as f64;
        // Written so that NaN is refused too.
        let positive = |x: f64| x > 0.0;
        if m.lanes == 0 || m.caches.is_empty() || !positive(m.peak_flops_per_s) || !positive(m.memory_read_bytes_per_s)
        {
            return None;
        }
        let mut bandwidth = [per_core(m.memory_read_bytes_per_s); 4];
        let mut capacity = [(m.registers * m.lanes * 4) as f64; 4];
        for level in 1..4 {
            let cache = m.caches.get(level - 1).or(m.caches.last()).copied()?;
            if !positive(cache.read_bytes_per_s) || !positive(cache.bytes) {
                return None;
            }
            capacity[level] = per_core(cache.bytes);
            if level <= m.caches.len() {
                bandwidth[level - 1] = per_core(cache.read_bytes_per_s);
            }
        }
        Some(Roofline { cores, scalar_flops: m.peak_flops_per_s / (cores * m.lanes) as f64, bandwidth, capacity })
    }
}

/// What the prior reads off a candidate's features.
#[derive(Clone, Debug, PartialEq)]
pub struct RooflineReading {
    pub seconds: f64,
    /// Memory time over compute time: above 1, memory-bound.
    pub memory_over_compute: f64,
    /// The level (0 registers, 1 L1, 2 L2, 3 L3 or DRAM) whose traffic
    /// takes the longest.
    pub busiest_level: usize,
    /// Vector lanes a flop uses on average.
    pub lanes: f64,
    /// Share of the sums kept in registers.
    pub register_share: f64,
    /// Share of the work in parallel loops, and their balance over cores.
    pub parallel_share: f64,
    pub balance: f64,
    /// Executed flops over the program's (1: nothing recomputed).
    pub recomputation: f64,
}

impl RooflineReading {
    /// One line for a prompt.
    pub fn text(&self) -> String {
        const LEVELS: [&str; 4] = ["registers", "L1", "L2", "L3/DRAM"];
        let bound = if self.memory_over_compute > 1.0 {
            format!("memory-bound ({} traffic slowest)", LEVELS[self.busiest_level.min(3)])
        } else {
            "compute-bound".to_string()
        };
        format!(
            "{bound}, memory/compute time {:.2}, {:.1} vector lanes a flop, {:.0}% of sums in registers, \
             {:.0}% of work parallel (balance {:.2}), recomputation {:.2}x",
            self.memory_over_compute,
            self.lanes,
            100.0 * self.register_share,
            100.0 * self.parallel_share,
            self.balance,
            self.recomputation
        )
    }
}

/// Inverse of colt-ir's `log2p`: the feature is log2(1 + x).
fn unlog(f: f32) -> f64 {
    (f64::from(f).exp2() - 1.0).max(0.0)
}

impl Roofline {
    /// Estimated seconds of a candidate.
    pub fn seconds(&self, f: &Features) -> f64 {
        self.parts(f).seconds
    }

    /// The estimate's parts: what a prompt tells a model of a candidate
    /// (its bound, the lanes and registers it uses, its parallel work).
    pub fn reading(&self, f: &Features) -> RooflineReading {
        self.parts(f)
    }

    fn parts(&self, f: &Features) -> RooflineReading {
        let f = &f.0;
        let flops = unlog(f[LOG_FLOPS]).max(1.0);
        // Mean lanes per flop (scalar statements count 1); strided loads
        // gather lane by lane, so they waste part of the vector.
        let lanes = (16.0 * f64::from(f[MEAN_LANES])).max(1.0) * (1.0 - 0.5 * f64::from(f[STRIDED_LOADS]));
        let full = f64::from(f[FULL_TILES]).clamp(0.0, 1.0);
        // Sums kept in memory cost a load and a store per step: about half
        // the rate of register accumulation.
        let registers = f64::from(f[REGISTER_SHARE]).clamp(0.0, 1.0);
        let rate = self.scalar_flops * (0.5 + 0.5 * registers);
        // A register tile that issues more load cycles than FMA cycles runs
        // at the loads' pace.
        let loads = BROADCAST_CYCLES * f64::from(f[REG_BROADCASTS]).max(0.0)
            + VECTOR_LOAD_CYCLES * f64::from(f[REG_VECTOR_LOADS]).max(0.0);
        let in_core = (loads / FMA_CYCLES).max(1.0);
        let compute = in_core * flops * (full / (rate * lanes.max(1.0)) + (1.0 - full) / rate);
        let mut memory = 0.0;
        let mut slowest = (0.0, 0);
        for level in 0..4 {
            let intensity = unlog(f[BLOCK_INTENSITY + level]).max(1e-3);
            let bytes = unlog(f[BLOCK_BYTES + level]);
            let served_by = if bytes > self.capacity[level] { (level + 1).min(3) } else { level };
            let t = flops / intensity / self.bandwidth[served_by];
            if t > slowest.0 {
                slowest = (t, served_by);
            }
            memory += t;
        }
        let single = compute.max(memory);
        let share = f64::from(f[PARALLEL_SHARE]).clamp(0.0, 1.0);
        let balance = f64::from(f[PARALLEL_BALANCE]).clamp(0.1, 1.0);
        let cores = self.cores.max(1) as f64;
        // The pack passes copy their operands before the stage runs, in
        // parallel, each float read from wherever the operand fits and
        // written once; a copy of a large operand read once by the stage
        // is all loss (measured on a Zen 5 part, `bench/vs-metaschedule/zen5-2026-12-04`:
        // llama4-scout-mlp's best kernel with a packed weight 2.59 ms, with
        // none 1.96; deepseek-r1-moe 0.89 against 0.82).
        let copied = unlog(f[PACK_BYTES]);
        let source = copied / 2.0;
        let from = (1..4).find(|&level| source <= self.capacity[level]).map_or(3, |level| level - 1);
        let packing = copied / (self.bandwidth[from] * cores);
        RooflineReading {
            seconds: single * ((1.0 - share) + share / (cores * balance).max(1.0)) + packing,
            memory_over_compute: memory / compute.max(f64::MIN_POSITIVE),
            busiest_level: slowest.1,
            lanes,
            register_share: registers,
            parallel_share: share,
            balance,
            recomputation: f64::from(f[RECOMPUTATION]).max(0.0).exp2(),
        }
    }

    /// Estimated useful flops per second: the prior's throughput (the
    /// executed flops less what recomputation adds, over the time).
    pub fn throughput(&self, f: &Features) -> f64 {
        let useful = unlog(f.0[LOG_FLOPS]).max(1.0) / f64::from(f.0[RECOMPUTATION]).max(0.0).exp2();
        useful.max(1.0) / self.seconds(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colt_ir::features::FEATURE_COUNT;

    fn base() -> [f32; FEATURE_COUNT] {
        let mut f = [0.0f32; FEATURE_COUNT];
        f[LOG_FLOPS] = (1.0f64 + 1e9).log2() as f32;
        f[MEAN_LANES] = 1.0 / 16.0;
        f[FULL_TILES] = 1.0;
        f[PARALLEL_BALANCE] = 1.0;
        for level in 0..4 {
            f[BLOCK_BYTES + level] = 9.0; // 511 bytes: fits everywhere
            f[BLOCK_INTENSITY + level] = 10.0; // 1023 flops per byte: compute bound
        }
        f
    }

    fn machine() -> Roofline {
        Roofline { cores: 2, ..Roofline::default() }
    }

    #[test]
    fn compute_bound_time_is_hand_computed() {
        // 1e9 flops at 3e9 × 0.5 (sums in memory) scalar: 0.6667 s.
        let r = machine();
        let t = r.seconds(&Features(base()));
        assert!((t - 1e9 / 1.5e9).abs() < 1e-3, "{t}");
        // All in registers and 8 lanes: 1e9 / (3e9 · 8) = 0.041667 s.
        let mut f = base();
        f[REGISTER_SHARE] = 1.0;
        f[MEAN_LANES] = 0.5;
        assert!((r.seconds(&Features(f)) - 1e9 / 24e9).abs() < 1e-4);
        // Fully parallel and balanced on 2 cores halves it.
        f[PARALLEL_SHARE] = 1.0;
        assert!((r.seconds(&Features(f)) - 1e9 / 48e9).abs() < 1e-4);
    }

    #[test]
    fn a_pack_pass_costs_its_copy_at_the_bandwidth_of_where_the_operand_fits() {
        let r = machine();
        let free = r.seconds(&Features(base()));
        let with_copy = |bytes: f64| {
            let mut f = base();
            f[PACK_BYTES] = (1.0 + bytes).log2() as f32;
            r.seconds(&Features(f)) - free
        };
        // A 10 MB operand (20 MB copied) fits the 16 MiB L3: 40 GB/s a
        // core, 2 cores, 0.25 ms.
        assert!((with_copy(20e6) - 20e6 / 80e9).abs() < 1e-7, "{}", with_copy(20e6));
        // 100 MB from DRAM at 15 GB/s a core: 6.67 ms.
        assert!((with_copy(200e6) - 200e6 / 30e9).abs() < 1e-6, "{}", with_copy(200e6));
        // 16 KB fits L1: 200 GB/s a core.
        assert!((with_copy(32e3) - 32e3 / 400e9).abs() < 1e-9, "{}", with_copy(32e3));
    }

    #[test]
    fn a_register_tile_that_issues_more_loads_than_fmas_runs_at_the_loads_pace() {
        let r = machine();
        let mut f = base();
        f[REGISTER_SHARE] = 1.0;
        f[MEAN_LANES] = 1.0;
        let free = r.seconds(&Features(f));
        // 8 rows of 2 vectors: 8 broadcasts and 2 loads for 16 FMAs,
        // 0.5 + 0.0625 load cycles for 0.5 FMA cycles a FMA.
        f[REG_BROADCASTS] = 0.5;
        f[REG_VECTOR_LOADS] = 0.125;
        assert!((r.seconds(&Features(f)) / free - 1.125).abs() < 1e-6);
        // 16 rows of 1 vector: 16 broadcasts and 1 load for 16 FMAs.
        f[REG_BROADCASTS] = 1.0;
        f[REG_VECTOR_LOADS] = 1.0 / 16.0;
        assert!((r.seconds(&Features(f)) / free - 2.0625).abs() < 1e-6);
        // 8 rows of 4 vectors: fewer load cycles than FMA cycles.
        f[REG_BROADCASTS] = 0.25;
        f[REG_VECTOR_LOADS] = 0.125;
        assert!((r.seconds(&Features(f)) - free).abs() < 1e-12);
    }

    #[test]
    fn low_intensity_blocks_are_memory_bound_and_spills_cost_a_level() {
        let r = machine();
        let mut f = base();
        f[REGISTER_SHARE] = 1.0;
        f[MEAN_LANES] = 1.0;
        // l3 block at 1 flop per byte (log2(2) = 1): 1e9 bytes from DRAM
        // at 15e9 B/s = 0.0667 s; the other levels add ~1e-5 s.
        f[BLOCK_INTENSITY + 3] = 1.0;
        let t = r.seconds(&Features(f));
        assert!((t - 1e9 / 15e9).abs() < 1e-3, "{t}");
        // An l1 block of 1 MiB does not fit L1: its traffic comes from L3.
        let mut g = f;
        g[BLOCK_INTENSITY + 1] = 1.0;
        let before = r.seconds(&Features(g));
        g[BLOCK_BYTES + 1] = 20.0;
        assert!(r.seconds(&Features(g)) > before);
    }

    #[test]
    fn the_reading_says_what_bounds_the_estimate() {
        let r = machine();
        let mut f = base();
        f[REGISTER_SHARE] = 1.0;
        f[MEAN_LANES] = 1.0;
        let compute = r.reading(&Features(f));
        assert!(compute.memory_over_compute < 1.0 && compute.text().starts_with("compute-bound"), "{compute:?}");
        assert_eq!(compute.seconds, r.seconds(&Features(f)));
        f[BLOCK_INTENSITY + 3] = 1.0;
        let memory = r.reading(&Features(f));
        assert_eq!(memory.busiest_level, 3);
        assert!(memory.text().starts_with("memory-bound (L3/DRAM traffic slowest), "), "{}", memory.text());
        assert!(memory.text().contains("16.0 vector lanes a flop, 100% of sums in registers"), "{}", memory.text());
    }

    #[test]
    fn recomputation_lowers_throughput_in_the_time_it_costs() {
        let r = machine();
        let mut f = base();
        f[REGISTER_SHARE] = 1.0;
        let once = r.throughput(&Features(f));
        // Four times the flops executed, of which three quarters recompute
        // (log2 4 = 2): four times the time for the same useful work.
        f[LOG_FLOPS] = (1.0f64 + 4e9).log2() as f32;
        f[RECOMPUTATION] = 2.0;
        let recomputed = r.throughput(&Features(f));
        assert!((once / recomputed - 4.0).abs() < 0.01, "{once} {recomputed}");
    }

    /// The SwiGLU MLP's `H = silu(G)·U` inlined into the down projection is
    /// recomputed once per output column tile; the prior must rank those
    /// samples below the ones that keep `H` (measured 3–5x slower).
    /// This Zen 5 part's limits as `colt machine` measured them
    /// (2026-12-07, 2 cores): peak, then L1d, L2, L3 and memory.
    fn zen5() -> MeasuredMachine {
        let level = |bytes: f64, gb_s: f64| MeasuredLevel { bytes, read_bytes_per_s: gb_s * 1e9 };
        MeasuredMachine {
            cores: 2,
            lanes: 16,
            registers: 32,
            peak_flops_per_s: 537.4e9,
            caches: vec![level(98304.0, 1058.0), level(2097152.0, 509.0), level(33554432.0, 232.0)],
            memory_read_bytes_per_s: 76.5e9,
        }
    }

    #[test]
    fn measured_limits_become_per_core_rates_and_sizes() {
        let r = Roofline::measured(&zen5()).unwrap();
        assert_eq!(r.cores, 2);
        // 537.4 GFLOP/s over 2 cores x 16 lanes.
        assert!((r.scalar_flops - 16.79375e9).abs() < 1e3, "{}", r.scalar_flops);
        assert_eq!(r.bandwidth, [529e9, 254.5e9, 116e9, 38.25e9]);
        // 32 registers of 64 bytes; each core's share of L1d, L2 and L3.
        assert_eq!(r.capacity, [2048.0, 49152.0, 1048576.0, 16777216.0]);
    }

    #[test]
    fn a_machine_without_l3_is_served_by_memory_beyond_l2() {
        let mut m = zen5();
        m.caches.truncate(2);
        let r = Roofline::measured(&m).unwrap();
        assert_eq!(r.bandwidth, [529e9, 254.5e9, 38.25e9, 38.25e9]);
        assert_eq!(r.capacity, [2048.0, 49152.0, 1048576.0, 1048576.0]);
    }

    #[test]
    fn limits_with_a_missing_figure_give_no_prior() {
        let broken: [fn(&mut MeasuredMachine); 5] = [
            |m| m.caches.clear(),
            |m| m.peak_flops_per_s = 0.0,
            |m| m.memory_read_bytes_per_s = f64::NAN,
            |m| m.caches[1].read_bytes_per_s = -1.0,
            |m| m.lanes = 0,
        ];
        for (i, breaks) in broken.iter().enumerate() {
            let mut m = zen5();
            breaks(&mut m);
            assert_eq!(Roofline::measured(&m), None, "case {i}");
        }
    }

    #[test]
    fn the_prior_ranks_an_inlined_exp_with_reuse_below_the_kept_stage() {
        for prior in [machine(), Roofline::measured(&zen5()).unwrap()] {
            inlined_exp_with_reuse_ranks_below_the_kept_stage(&prior);
        }
    }

    fn inlined_exp_with_reuse_ranks_below_the_kept_stage(prior: &Roofline) {
        use colt_ir::schedule::{Machine, Placement, Sampler, Target};
        use std::sync::Arc;
        let program = Arc::new(colt_ir::builtin("deepseek-r1-moe").unwrap().program(colt_ir::Size::Bench));
        let h = program.buffer_id("H").unwrap();
        let h_stage = program.stages().iter().position(|s| s.output == h).unwrap();
        let sampler = Sampler::Informed(Machine { lanes: 16, registers: 32, cores: 2 });
        let (mut inlined, mut kept) = (Vec::new(), Vec::new());
        for seed in 0..400 {
            let c = sampler.sample(program.clone(), Target::Cpu, seed);
            let f = colt_ir::features::features(&c);
            let ln = prior.throughput(&f).ln();
            if c.stages()[h_stage].placement == Placement::Inlined {
                assert!(f.0[RECOMPUTATION] > 1.0, "seed {seed}: inlined H recomputes: {}", f.0[RECOMPUTATION]);
                inlined.push(ln);
            } else {
                kept.push(ln);
            }
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        assert!(inlined.len() >= 20 && kept.len() >= 20, "{} inlined, {} kept", inlined.len(), kept.len());
        let (i, k) = (median(&mut inlined), median(&mut kept));
        assert!(i < k - 0.5, "median ln throughput: inlined {i:.2}, kept {k:.2}");
    }
}
