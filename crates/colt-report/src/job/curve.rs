//! A job's latency curve: its trials in the order measured, and the plot of
//! best latency versus trials (`curve.svg`, `curve.png`).

use crate::job::ReportError;
use crate::plot::{error as plot_error, Drawn};
use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

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

impl TrialPoint {
    /// The points of a job's latencies per trial (`None` = failed), with the
    /// best so far.
    pub fn curve(latencies: &[Option<f64>]) -> Vec<TrialPoint> {
        let mut best: Option<f64> = None;
        latencies
            .iter()
            .enumerate()
            .map(|(i, &latency_ms)| {
                if let Some(ms) = latency_ms {
                    best = Some(best.map_or(ms, |b| b.min(ms)));
                }
                TrialPoint { trial: i + 1, latency_ms, best_ms: best }
            })
            .collect()
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn curve(latencies: &[Option<f64>]) -> Vec<TrialPoint> {
        TrialPoint::curve(latencies)
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
    fn points_carry_the_best_so_far_past_failures() {
        let points = curve(&[None, Some(30.0), None, Some(35.0), Some(12.0)]);
        let best: Vec<Option<f64>> = points.iter().map(|p| p.best_ms).collect();
        assert_eq!(best, [None, Some(30.0), Some(30.0), Some(30.0), Some(12.0)]);
        assert_eq!(points.iter().map(|p| p.trial).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
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
}
