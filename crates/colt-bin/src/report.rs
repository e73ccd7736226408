//! The report a tuning job leaves in its output folder: `report.md` for a person, `curve.svg` and `curve.png` (best
//! latency versus trials), `summary.json` for scripts, and the best kernel's `kernel.c` and `decisions.txt` when
//! there is one.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::{error as plot_error, Drawn};
use serde::{Deserialize, Serialize};

/// What a tuning job achieved, as `summary.json` and the one-line summary print it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TuneSummary {
    pub workload: String,
    pub strategy: String,
    pub target: String,
    /// Measured candidates.
    pub trials: usize,
    pub naive_ms: f64,
    /// Latency of the best verified kernel.
    pub best_ms: Option<f64>,
    /// `naive_ms / best_ms`.
    pub speedup: Option<f64>,
    pub verified: bool,
    /// Calls per model name.
    pub llm_calls: BTreeMap<String, u64>,
    /// Share of calls made by the largest model; `None` when no LLM was used.
    pub largest_model_share: Option<f64>,
    pub course_alterations: u64,
    pub wall_s: f64,
}

/// One measured trial of the search, in the order measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrialPoint {
    /// 1-based.
    pub trial: usize,
    /// `None` when the candidate failed to build, run or verify.
    pub latency_ms: Option<f64>,
    /// Best verified latency up to and including this trial.
    pub best_ms: Option<f64>,
}

/// A model's calls in the job (colt-actors' report of them).
pub use colt_search::ModelReport as ModelRow;

pub struct ReportInput<'a> {
    pub summary: &'a TuneSummary,
    pub curve: &'a [TrialPoint],
    pub models: &'a [ModelRow],
    /// C source of the best kernel.
    pub best_source: Option<&'a str>,
    pub best_decisions: Option<&'a str>,
    /// How the best kernel was reached, e.g. "seed 12, edits: ...".
    pub best_lineage: Option<&'a str>,
}

/// The files [`write_report`] wrote.
#[derive(Clone, Debug)]
// Every file is named so that callers can print or archive them; colt tune
// prints some.
#[allow(dead_code)]
pub struct ReportFiles {
    pub report_md: PathBuf,
    pub curve_svg: PathBuf,
    pub curve_png: PathBuf,
    pub kernel_c: Option<PathBuf>,
    pub decisions_txt: Option<PathBuf>,
    pub summary_json: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot draw the latency curve: {0}")]
    Plot(String),
    #[error("cannot serialize the summary for {}: {source}", path.display())]
    Json { path: PathBuf, source: serde_json::Error },
}

/// Writes the report into `dir`, creating it (and its parents) if missing.
pub fn write_report(dir: &Path, input: &ReportInput) -> Result<ReportFiles, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io { path: dir.to_path_buf(), source })?;
    let s = input.summary;
    let title = format!("{}: {} on {}", s.workload, s.strategy, s.target);
    let svg = plot_curve_svg(input.curve, s.naive_ms, &title)?;
    let png = plot_curve_png(input.curve, s.naive_ms, &title)?;
    let json_path = dir.join("summary.json");
    let json =
        serde_json::to_string_pretty(s).map_err(|source| ReportError::Json { path: json_path.clone(), source })?;
    // Fields initialise in order: report.md goes last, so its presence means every file it links to is there.
    Ok(ReportFiles {
        curve_svg: write_file(&dir.join("curve.svg"), &svg)?,
        curve_png: write_file(&dir.join("curve.png"), &png)?,
        kernel_c: input.best_source.map(|src| write_file(&dir.join(kernel_file(input)), src)).transpose()?,
        decisions_txt: input.best_decisions.map(|d| write_file(&dir.join("decisions.txt"), d)).transpose()?,
        summary_json: write_file(&json_path, json + "\n")?,
        report_md: write_file(&dir.join("report.md"), report_markdown(input))?,
    })
}

/// `kernel.cl` for an OpenCL target's kernels, `kernel.c` for the CPU's.
fn kernel_file(input: &ReportInput) -> &'static str {
    if input.summary.target.starts_with("opencl") {
        "kernel.cl"
    } else {
        "kernel.c"
    }
}

fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<PathBuf, ReportError> {
    std::fs::write(path, contents).map_err(|source| ReportError::Io { path: path.to_path_buf(), source })?;
    Ok(path.to_path_buf())
}

/// The summary's keys in the order scripts and `colt bench` read them; `target` comes last.
#[derive(Serialize)]
struct SummaryLine<'a> {
    workload: &'a str,
    strategy: &'a str,
    trials: usize,
    naive_ms: f64,
    best_ms: Option<f64>,
    speedup: Option<f64>,
    verified: bool,
    llm_calls: &'a BTreeMap<String, u64>,
    largest_model_share: Option<f64>,
    course_alterations: u64,
    wall_s: f64,
    target: &'a str,
}

/// The summary as one line of JSON, keys in a fixed order (see [`SummaryLine`]).
pub fn summary_line(summary: &TuneSummary) -> String {
    let line = SummaryLine {
        workload: &summary.workload,
        strategy: &summary.strategy,
        trials: summary.trials,
        naive_ms: summary.naive_ms,
        best_ms: summary.best_ms,
        speedup: summary.speedup,
        verified: summary.verified,
        llm_calls: &summary.llm_calls,
        largest_model_share: summary.largest_model_share,
        course_alterations: summary.course_alterations,
        wall_s: summary.wall_s,
        target: &summary.target,
    };
    // Invariant: every field is a string, a number (non-finite ones become null), a bool or a map keyed by
    // strings, none of which serde_json can fail to serialize; and compact output contains no newline.
    serde_json::to_string(&line).expect("a SummaryLine always serializes")
}

/// A y range spanning more than this factor is drawn on a log axis, so early slow trials don't flatten the rest.
const LOG_AXIS_SPAN: f64 = 10.0;

/// Best latency versus trials as an SVG document: a dot per measured trial (failed ones omitted), the best-so-far
/// step line, and a dashed line at the naive latency.
pub fn plot_curve_svg(curve: &[TrialPoint], naive_ms: f64, title: &str) -> Result<String, ReportError> {
    crate::plot::svg(|root| draw_latency_curve(root, curve, naive_ms, title)).map_err(ReportError::Plot)
}

/// The same plot as [`plot_curve_svg`], as a PNG file's bytes.
pub fn plot_curve_png(curve: &[TrialPoint], naive_ms: f64, title: &str) -> Result<Vec<u8>, ReportError> {
    crate::plot::png(|root| draw_latency_curve(root, curve, naive_ms, title)).map_err(ReportError::Plot)
}

fn draw_latency_curve<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    curve: &[TrialPoint],
    naive_ms: f64,
    title: &str,
) -> Drawn {
    let usable = |v: f64| v.is_finite() && v > 0.0;
    let x_of = |trial: usize| u32::try_from(trial).unwrap_or(u32::MAX);
    let measured: Vec<(u32, f64)> =
        curve.iter().filter_map(|p| p.latency_ms.filter(|&v| usable(v)).map(|v| (x_of(p.trial), v))).collect();
    let mut best_steps: Vec<(u32, f64)> = Vec::new();
    for (x, best) in curve.iter().filter_map(|p| p.best_ms.filter(|&v| usable(v)).map(|v| (x_of(p.trial), v))) {
        if let Some(&(_, previous)) = best_steps.last() {
            if previous != best {
                best_steps.push((x, previous));
            }
        }
        best_steps.push((x, best));
    }
    let naive = usable(naive_ms).then_some(naive_ms);
    let values = measured.iter().chain(&best_steps).map(|&(_, v)| v).chain(naive);
    let (lo, hi) = values.fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (1.0, 1.0) };
    let last_trial = curve.iter().map(|p| x_of(p.trial)).max().unwrap_or(1).max(1);
    let data = Curve { title, last_trial, measured: &measured, best_steps: &best_steps, naive };
    if hi / lo > LOG_AXIS_SPAN {
        let (lo, hi) = (lo / 1.25, hi * 1.25);
        draw_curve(root, (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)), &data)
    } else {
        let pad = if hi > lo { (hi - lo) * 0.1 } else { hi * 0.1 };
        draw_curve(root, (lo - pad).max(0.0)..hi + pad, &data)
    }
}

const BEST_LINE: RGBColor = RGBColor(0xD6, 0x27, 0x28);
/// How the SVG backend writes [`BEST_LINE`]: tests find the best-so-far line by it.
#[cfg(test)]
const BEST_LINE_HEX: &str = "#D62728";

/// Log-axis ticks at 1, 2 and 5 times powers of ten, or at powers of ten alone when that would crowd the axis;
/// plotters' own log ticks repeat the decade values and fill a short range with unlabelled lines.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = lo.log10().floor() as i32..=hi.log10().ceil() as i32;
    let ticks = |steps: &[f64]| -> Vec<f64> {
        let all = decades.clone().flat_map(|k| steps.iter().map(move |m| m * 10f64.powi(k)));
        all.filter(|v| (lo..=hi).contains(v)).collect()
    };
    let fine = ticks(&[1.0, 2.0, 5.0]);
    if fine.len() <= 10 {
        fine
    } else {
        ticks(&[1.0])
    }
}

/// Tick labels: millisecond precision without trailing zeros, so 1-2-5 ticks read "2", "50", "0.005".
fn axis_ms(v: f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

struct Curve<'a> {
    title: &'a str,
    last_trial: u32,
    measured: &'a [(u32, f64)],
    best_steps: &'a [(u32, f64)],
    naive: Option<f64>,
}

fn draw_curve<DB: DrawingBackend, Y>(root: &DrawingArea<DB, Shift>, y_range: Y, data: &Curve) -> Drawn
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(data.title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0..data.last_trial + 1, y_range)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("trials")
        .y_desc("latency (ms)")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .y_label_formatter(&|&v: &f64| axis_ms(v))
        .draw()
        .map_err(plot_error)?;
    let trial_style = BLUE.mix(0.5).filled();
    chart.draw_series(data.measured.iter().map(|&p| Circle::new(p, 3, trial_style))).map_err(plot_error)?;
    chart
        .draw_series(LineSeries::new(data.best_steps.iter().copied(), BEST_LINE.stroke_width(2)))
        .map_err(plot_error)?;
    if let Some(naive) = data.naive {
        let ends = [(0, naive), (data.last_trial + 1, naive)];
        chart.draw_series(DashedLineSeries::new(ends, 8, 6, BLACK.into())).map_err(plot_error)?;
        // At the right end, where the search has usually left the naive latency far behind.
        let style = TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Right, VPos::Bottom));
        let label = Text::new(format!("naive {naive:.3} ms"), (data.last_trial + 1, naive), style);
        chart.draw_series([label]).map_err(plot_error)?;
    }
    Ok(())
}

/// Beyond this many trials the trial table keeps only the improvements and the last trial.
const FULL_TRIAL_TABLE: usize = 20;

fn report_markdown(input: &ReportInput) -> String {
    let s = input.summary;
    let mut md = format!("# colt report: {} ({} on {})\n\n", s.workload, s.strategy, s.target);
    let share = s.largest_model_share.map_or_else(|| "— (no LLM)".to_string(), |f| format!("{:.1}%", f * 100.0));
    let rows = [
        ("trials", s.trials.to_string()),
        ("naive", format!("{} ms", ms(s.naive_ms))),
        ("best", s.best_ms.map_or_else(|| "none".to_string(), |b| format!("{} ms", ms(b)))),
        ("speedup", s.speedup.map_or_else(|| "—".to_string(), speedup)),
        ("verified", if s.verified { "yes" } else { "no" }.to_string()),
        ("wall time", format!("{:.1} s", s.wall_s)),
        ("course alterations", s.course_alterations.to_string()),
        ("largest-model share", share),
    ];
    md.push_str("| | |\n|---|---|\n");
    for (name, value) in rows {
        let _ = writeln!(md, "| {name} | {} |", cell(&value));
    }
    md.push_str("\n## Best latency versus trials\n\n![best latency versus trials](curve.svg)\n\n## LLM calls\n\n");
    if input.models.is_empty() {
        let _ = writeln!(md, "no LLM (strategy {})", s.strategy);
    } else {
        md.push_str("| model | parameters | calls | errors | hit rate | tokens | seconds |\n");
        md.push_str("|---|--:|--:|--:|--:|--:|--:|\n");
        for m in input.models {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.1}% | {} | {:.1} |",
                cell(&m.name),
                count(m.parameters),
                m.calls,
                m.errors,
                m.hit_rate * 100.0,
                m.tokens,
                m.seconds
            );
        }
    }
    md.push_str("\n## Best kernel\n\n");
    if input.best_lineage.is_none() && input.best_decisions.is_none() && input.best_source.is_none() {
        md.push_str("no verified kernel\n");
    }
    if let Some(lineage) = input.best_lineage {
        let _ = write!(md, "Lineage:\n\n{}\n", fenced(lineage));
    }
    if let Some(decisions) = input.best_decisions {
        let _ = write!(md, "Decisions ([decisions.txt](decisions.txt)):\n\n{}\n", fenced(decisions));
    }
    if input.best_source.is_some() {
        let file = kernel_file(input);
        let _ = writeln!(md, "Source: [{file}]({file})");
    }
    md.push_str("\n## Trials\n\n");
    let mut shown: Vec<&TrialPoint> = Vec::new();
    let mut previous_best = None;
    for (i, p) in input.curve.iter().enumerate() {
        let improved = p.best_ms.is_some() && p.best_ms != previous_best;
        if input.curve.len() <= FULL_TRIAL_TABLE || improved || i + 1 == input.curve.len() {
            shown.push(p);
        }
        previous_best = p.best_ms;
    }
    if shown.len() < input.curve.len() {
        let _ = writeln!(
            md,
            "{} of {} trials: those that improved the best, and the last.\n",
            shown.len(),
            input.curve.len()
        );
    }
    md.push_str("| trial | latency | best so far |\n|--:|--:|--:|\n");
    for p in shown {
        let latency = p.latency_ms.map_or_else(|| "failed".to_string(), |v| format!("{} ms", ms(v)));
        let best = p.best_ms.map_or_else(|| "—".to_string(), |v| format!("{} ms", ms(v)));
        let _ = writeln!(md, "| {} | {latency} | {best} |", p.trial);
    }
    md
}

fn ms(v: f64) -> String {
    format!("{v:.3}")
}

fn speedup(v: f64) -> String {
    format!("{v:.2}x")
}

/// Parameter counts the way model cards write them: 135M, 1.5B.
fn count(n: u64) -> String {
    let n = n as f64;
    match n {
        n if n >= 1e9 => format!("{:.1}B", n / 1e9),
        n if n >= 1e6 => format!("{:.0}M", n / 1e6),
        n if n >= 1e3 => format!("{:.0}K", n / 1e3),
        n => format!("{n}"),
    }
}

/// A table cell: a `|` inside would end the cell early.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A code block whose fence is longer than any run of backticks in `text`, so the text cannot close it.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> TuneSummary {
        TuneSummary {
            workload: "matmul-512".into(),
            strategy: "colt".into(),
            target: "x86_64-avx2".into(),
            trials: 3,
            naive_ms: 40.0,
            best_ms: Some(3.2),
            speedup: Some(12.5),
            verified: true,
            llm_calls: BTreeMap::from([("qwen-1.5b".into(), 7), ("smollm-135m".into(), 21)]),
            largest_model_share: Some(0.25),
            course_alterations: 2,
            wall_s: 81.25,
        }
    }

    fn bare(summary: &TuneSummary) -> ReportInput<'_> {
        ReportInput { summary, curve: &[], models: &[], best_source: None, best_decisions: None, best_lineage: None }
    }

    fn curve(latencies: &[Option<f64>]) -> Vec<TrialPoint> {
        let mut best: Option<f64> = None;
        let mut points = Vec::new();
        for (i, &latency_ms) in latencies.iter().enumerate() {
            best = match (best, latency_ms) {
                (Some(b), Some(l)) => Some(b.min(l)),
                (b, l) => b.or(l),
            };
            points.push(TrialPoint { trial: i + 1, latency_ms, best_ms: best });
        }
        points
    }

    /// Every opened tag is closed, in order: enough to catch a truncated or mangled document.
    fn assert_well_formed(svg: &str) {
        assert!(svg.trim_start().starts_with("<svg"), "{svg}");
        let mut open: Vec<&str> = Vec::new();
        for tag in svg.split('<').skip(1).map(|t| &t[..t.find('>').expect("tag closes")]) {
            let name = tag.trim_start_matches('/').split_whitespace().next().unwrap_or("");
            if tag.starts_with('/') {
                assert_eq!(open.pop(), Some(name), "in {svg}");
            } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
                open.push(name);
            }
        }
        assert!(open.is_empty(), "unclosed {open:?}");
    }

    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text").skip(1).filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim())).collect()
    }

    #[test]
    fn svg_has_axis_labels_trials_and_one_best_line() {
        let points = curve(&[Some(30.0), None, Some(12.0), Some(15.0), Some(9.5)]);
        let svg = plot_curve_svg(&points, 40.0, "matmul").unwrap();
        assert_well_formed(&svg);
        assert!(texts(&svg).contains(&"trials") && texts(&svg).contains(&"latency (ms)"), "{svg}");
        let best_lines = svg
            .split("<polyline")
            .skip(1)
            .filter(|p| p.starts_with(&format!(r#" fill="none" opacity="1" stroke="{BEST_LINE_HEX}""#)));
        assert_eq!(best_lines.count(), 1, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 4, "a dot per measured trial");
        assert!(texts(&svg).contains(&"naive 40.000 ms"), "{svg}");
    }

    #[test]
    fn png_is_the_same_plot() {
        let points = curve(&[Some(30.0), None, Some(12.0), Some(15.0), Some(9.5)]);
        let ((w, h), rgb) = crate::plot::decode_png(&plot_curve_png(&points, 40.0, "matmul").unwrap());
        assert_eq!((w, h), crate::plot::SIZE);
        assert!(crate::plot::count_pixels(&rgb, BEST_LINE) > 100, "no best-so-far line in the PNG");
        for points in [curve(&[None, None]), Vec::new()] {
            let ((_, _), rgb) = crate::plot::decode_png(&plot_curve_png(&points, 600.0, "edge").unwrap());
            assert_eq!(crate::plot::count_pixels(&rgb, BEST_LINE), 0, "a best line with nothing measured");
        }
    }

    #[test]
    fn svg_is_drawn_for_edge_cases() {
        let long: Vec<Option<f64>> = (0..64).map(|i| (i % 7 != 3).then(|| 500.0 / (1.0 + i as f64))).collect();
        for points in [curve(&[Some(5.0)]), curve(&[None, None, None]), curve(&long), Vec::new()] {
            let svg = plot_curve_svg(&points, 600.0, "edge").unwrap();
            assert_well_formed(&svg);
            assert!(texts(&svg).contains(&"trials") && texts(&svg).contains(&"latency (ms)"), "{svg}");
        }
    }

    #[test]
    fn log_ticks_are_one_two_five_unless_crowded() {
        assert_eq!(log_ticks(4.0, 437.5), [5.0, 10.0, 20.0, 50.0, 100.0, 200.0]);
        assert_eq!(log_ticks(0.05, 2000.0), [0.1, 1.0, 10.0, 100.0, 1000.0]);
    }

    #[test]
    fn summary_line_is_one_ordered_json_line() {
        let line = summary_line(&summary());
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["llm_calls"]["smollm-135m"], 21);
        let keys = "workload strategy trials naive_ms best_ms speedup verified llm_calls largest_model_share \
                    course_alterations wall_s target";
        let positions: Vec<usize> = keys.split_whitespace().map(|k| line.find(&format!("\"{k}\":")).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
    }

    #[test]
    fn report_lands_in_a_new_nested_dir_with_the_summary_figures() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("runs/matmul/colt");
        let (s, points) = (summary(), curve(&[Some(40.0), Some(3.2), None]));
        let models = [ModelRow {
            name: "smollm-135m".into(),
            parameters: 135_000_000,
            calls: 21,
            errors: 1,
            hit_rate: 0.8,
            tokens: 9700,
            seconds: 12.0,
        }];
        let input = ReportInput {
            summary: &s,
            curve: &points,
            models: &models,
            best_source: Some("void kernel(void) {}\n"),
            best_decisions: Some("tile i 32\nvectorize j 8"),
            best_lineage: Some("seed 12, edits: tile, vectorize"),
        };
        let files = write_report(&dir, &input).unwrap();
        let md = std::fs::read_to_string(&files.report_md).unwrap();
        for figure in
            ["12.50x", "40.000 ms", "3.200 ms", "81.2 s", "25.0%", "135M", "80.0%", "seed 12", "vectorize j 8"]
        {
            assert!(md.contains(figure), "{figure} missing from\n{md}");
        }
        assert!(md.contains("![best latency versus trials](curve.svg)"));
        assert!(md.contains("| 3 | failed | 3.200 ms |"), "{md}");
        assert_eq!(std::fs::read_to_string(files.kernel_c.unwrap()).unwrap(), "void kernel(void) {}\n");
        assert!(files.decisions_txt.unwrap().exists() && files.curve_svg.exists() && files.curve_png.exists());
        let json: TuneSummary = serde_json::from_str(&std::fs::read_to_string(files.summary_json).unwrap()).unwrap();
        assert_eq!(json.speedup, Some(12.5));
    }

    #[test]
    fn report_without_llm_or_kernel_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let s = TuneSummary {
            strategy: "random".into(),
            best_ms: None,
            speedup: None,
            largest_model_share: None,
            ..summary()
        };
        let files = write_report(tmp.path(), &bare(&s)).unwrap();
        assert!(files.kernel_c.is_none() && files.decisions_txt.is_none());
        let md = std::fs::read_to_string(files.report_md).unwrap();
        assert!(md.contains("no LLM (strategy random)") && md.contains("no verified kernel"), "{md}");
    }

    #[test]
    fn unwritable_dir_error_names_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let dir = file.join("report");
        let s = summary();
        let err = write_report(&dir, &bare(&s)).unwrap_err();
        assert!(matches!(err, ReportError::Io { .. }));
        assert!(err.to_string().contains(&dir.display().to_string()), "{err}");
    }
}
