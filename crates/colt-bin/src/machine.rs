//! `colt machine`: this host's limits — FP32 FMA peak, the cost of the
//! operations that are not FMAs, each cache level's and memory's read
//! bandwidth — measured once per hardware label and kept in the tuning
//! database ([`limits_for`], which the commands that report a roofline
//! bound call too).

use anyhow::{bail, Context, Result};
use colt_db::{MachineLimitsRecord, TuningDb, TuningStore};
use colt_measure::limits::MachineLimits;
use colt_measure::{Builder, CpuConfig, Target};
use std::fmt::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct MachineArgs {
    /// The tuning database that keeps the limits: a SQLite file, or a
    /// PostgreSQL server (`postgres://user@host:port/db`).
    #[arg(long, default_value = "colt.db", env = "COLT_DB")]
    pub db: PathBuf,
    /// Measure again (a few seconds) and replace what the database holds
    /// for this hardware.
    #[arg(long)]
    pub remeasure: bool,
    /// Print the limits as one line of JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &MachineArgs) -> Result<String> {
    let shown = TuningDb::display(&args.db);
    // Every error of opening names the database already.
    let mut db = TuningDb::open(&args.db)?;
    let builder = Builder::system();
    let limits = limits_for(&mut *db, &builder, &CpuConfig::default(), args.remeasure)?;
    if args.json {
        return Ok(format!("{}\n", serde_json::to_string(&limits)?));
    }
    Ok(render(&limits, &shown))
}

/// This host's limits on `cpu`'s cores: the ones `store` holds for its
/// hardware label, measured on as many cores; else the ones this machine
/// measured before for another database (kept beside the kernel cache, see
/// [`remembered`]); else (or with `remeasure`) measured now with
/// `builder`'s compiler and flags. Stored in `store` either way, replacing
/// the label's earlier ones.
pub(crate) fn limits_for(
    store: &mut dyn TuningStore,
    builder: &Builder,
    cpu: &CpuConfig,
    remeasure: bool,
) -> Result<MachineLimits> {
    let label = Target::Cpu.label();
    let db = store.path().display().to_string();
    if !remeasure {
        if let Some(record) = store.machine_limits(&label)? {
            let stored: MachineLimits = serde_json::from_str(&record.limits_json).with_context(|| {
                format!(
                    "the machine limits the tuning database `{db}` holds for `{label}` cannot be read \
                     (`colt machine --remeasure` measures them again)"
                )
            })?;
            if stored.label != label {
                bail!(
                    "the tuning database `{db}` holds limits of `{}` under the label `{label}` \
                     (`colt machine --remeasure` measures them again)",
                    stored.label
                );
            }
            // Limits of all cores together hold for that many cores only.
            if stored.cores == cpu.cores.len() {
                return Ok(stored);
            }
        }
    }
    let limits = match remembered(&label, cpu.cores.len()).filter(|_| !remeasure) {
        Some(limits) => limits,
        None => {
            let limits = MachineLimits::measure(builder, cpu).context("cannot measure this machine's limits")?;
            remember(&limits);
            limits
        }
    };
    let record = MachineLimitsRecord {
        label: label.clone(),
        limits_json: serde_json::to_string(&limits)?,
        measured_unix: limits.measured_at,
    };
    store
        .save_machine_limits(&record)
        .with_context(|| format!("cannot store this machine's limits in the tuning database `{db}`"))?;
    Ok(limits)
}

/// Where this machine keeps the limits it measured, one file per hardware
/// label and core count, so that a new database (every `colt bench --out`,
/// every test) does not cost another measurement: `limits/` beside the
/// kernel cache (`$COLT_CACHE_DIR/limits`, else `~/.cache/colt/limits`).
fn limits_dir() -> PathBuf {
    colt_measure::ArtifactCache::default_dir().with_file_name("limits")
}

fn limits_file(dir: &Path, label: &str, cores: usize) -> PathBuf {
    // The label holds spaces, slashes and brackets: a file name of its hash.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&label, &mut hasher);
    dir.join(format!("{:016x}-{cores}.json", std::hash::Hasher::finish(&hasher)))
}

/// The limits this machine measured for `label` on `cores` cores, if any
/// (an unreadable or mislabelled file is as good as none: it is measured
/// again and replaced).
pub(crate) fn remembered(label: &str, cores: usize) -> Option<MachineLimits> {
    usable(&std::fs::read_to_string(limits_file(&limits_dir(), label, cores)).ok()?, label, cores)
}

/// Kept limits (a file's, a database record's) if they read and are
/// `label`'s on `cores` cores: every figure is of all cores together.
pub(crate) fn usable(json: &str, label: &str, cores: usize) -> Option<MachineLimits> {
    let limits: MachineLimits = serde_json::from_str(json).ok()?;
    (limits.label == label && limits.cores == cores).then_some(limits)
}

/// Keeps `limits` for the next database on this machine. Best effort: the
/// database holds them either way, and failing here costs only a
/// measurement later.
fn remember(limits: &MachineLimits) {
    let dir = limits_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(json) = serde_json::to_string(limits) {
        let _ = colt_report::write_atomically(&limits_file(&dir, &limits.label, limits.cores), json.as_bytes());
    }
}

fn render(limits: &MachineLimits, db: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", limits.label);
    let _ = writeln!(
        out,
        "measured on {} cores at {} (kept in `{db}`; `--remeasure` measures again)",
        limits.cores,
        utc(limits.measured_at)
    );
    let _ = writeln!(out, "FP32 FMA peak   {:.1} GFLOP/s", limits.peak_flops_per_s / 1e9);
    let c = &limits.op_cost;
    let _ = writeln!(
        out,
        "op cost         add {:.2}  max {:.2}  div {:.2}  exp {:.2}  sqrt {:.2}  (FMA slots per element)",
        c.add, c.max, c.div, c.exp, c.sqrt
    );
    for level in &limits.levels {
        let size = level.bytes.map(bytes).unwrap_or_default();
        let _ = writeln!(out, "{:<8}{size:>8}  {:.1} GB/s read", level.name, level.read_bytes_per_s / 1e9);
    }
    out
}

/// `48 KiB`, `2 MiB`, `480 MiB`.
fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

/// `2026-12-07 01:40:00 UTC` (Howard Hinnant's days-to-civil algorithm).
fn utc(unix: u64) -> String {
    let (days, secs) = ((unix / 86_400) as i64, unix % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_sizes_read_as_people_write_them() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_606_399), "2026-12-07 01:19:59 UTC");
        assert_eq!(
            (bytes(48 << 10), bytes(2 << 20), bytes(480 << 20), bytes(2 << 30)),
            ("48 KiB".into(), "2 MiB".into(), "480 MiB".into(), "2 GiB".into())
        );
    }

    fn limits(cores: usize, json_label: &str) -> MachineLimitsRecord {
        let limits = MachineLimits {
            label: json_label.into(),
            cores,
            peak_flops_per_s: 1e9,
            op_cost: colt_measure::limits::OpCosts { add: 1.0, max: 1.0, div: 9.0, exp: 15.0, sqrt: 9.0 },
            levels: vec![colt_measure::limits::MemoryLevel {
                name: "memory".into(),
                bytes: None,
                read_bytes_per_s: 1e9,
            }],
            measured_at: 7,
        };
        MachineLimitsRecord {
            label: Target::Cpu.label(),
            limits_json: serde_json::to_string(&limits).unwrap(),
            measured_unix: 7,
        }
    }

    #[test]
    fn stored_limits_of_this_label_and_core_count_are_reused_without_measuring() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let cpu = CpuConfig { cores: vec![0, 1], ..CpuConfig::default() };
        db.save_machine_limits(&limits(2, &Target::Cpu.label())).unwrap();
        // A builder whose compiler does not exist: measuring would fail.
        let builder = Builder::new(
            colt_measure::Compiler::new("/nonexistent/cc"),
            colt_measure::ArtifactCache::new("/nonexistent/cache"),
            colt_measure::TimingGate::new(),
        );
        assert_eq!(limits_for(&mut *db, &builder, &cpu, false).unwrap().measured_at, 7);
        // Another core count, or --remeasure: measured (and here failing, by name).
        let one = CpuConfig { cores: vec![0], ..cpu.clone() };
        let e = format!("{:#}", limits_for(&mut *db, &builder, &one, false).unwrap_err());
        assert!(e.contains("cannot measure this machine's limits") && e.contains("/nonexistent/cc"), "{e}");
        let e = format!("{:#}", limits_for(&mut *db, &builder, &cpu, true).unwrap_err());
        assert!(e.contains("/nonexistent/cc"), "{e}");
    }

    #[test]
    fn unreadable_or_mislabelled_stored_limits_name_the_database_and_the_way_out() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let cpu = CpuConfig { cores: vec![0, 1], ..CpuConfig::default() };
        let builder = Builder::system();
        let label = Target::Cpu.label();
        db.save_machine_limits(&MachineLimitsRecord {
            label: label.clone(),
            limits_json: "{\"peak\":".into(),
            measured_unix: 1,
        })
        .unwrap();
        let e = format!("{:#}", limits_for(&mut *db, &builder, &cpu, false).unwrap_err());
        assert!(e.contains(":memory:") && e.contains(&label) && e.contains("--remeasure"), "{e}");
        db.save_machine_limits(&limits(2, "cpu:Another Part")).unwrap();
        let e = format!("{:#}", limits_for(&mut *db, &builder, &cpu, false).unwrap_err());
        assert!(e.contains("`cpu:Another Part`") && e.contains("--remeasure"), "{e}");
    }
}
