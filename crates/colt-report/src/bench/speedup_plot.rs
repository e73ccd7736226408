//! A workload's plot in a bench: best speedup over naive versus trials, a
//! line per strategy (the median repeat) and a band from the worst to the
//! best repeat; a dashed level line per peer measured on the same machine
//! (a tuner's best kernel's speedup, reached after its own trials; a
//! library's, torch's or numpy's, at any budget).

use crate::bench::{best_within, median, PeerResult, WorkloadReport};
use crate::plot::{self, Drawn};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The plot of `w` over trials 1 to `max_trials`, with `peers`' levels, as
/// an SVG document.
pub fn speedup_plot_svg(w: &WorkloadReport, peers: &[&PeerResult], max_trials: usize) -> Result<String, String> {
    let series = speedup_series(w, max_trials);
    let levels = peer_levels(w, peers);
    plot::svg(|root| draw_speedups(root, w, &series, &levels, max_trials))
}

/// The same plot as [`speedup_plot_svg`], as a PNG file's bytes.
pub fn speedup_plot_png(w: &WorkloadReport, peers: &[&PeerResult], max_trials: usize) -> Result<Vec<u8>, String> {
    let series = speedup_series(w, max_trials);
    let levels = peer_levels(w, peers);
    plot::png(|root| draw_speedups(root, w, &series, &levels, max_trials))
}

/// (label, speedup over naive) of each peer with a latency.
fn peer_levels(w: &WorkloadReport, peers: &[&PeerResult]) -> Vec<(String, f64)> {
    peers.iter().filter_map(|p| Some((format!("{} (peer)", p.label()), w.naive_ms / p.best_ms?))).collect()
}

/// (trial, median, worst, best) speedup over the repeats.
type SpeedupPoint = (usize, f64, f64, f64);

/// Per strategy, its best speedup after each trial: the median repeat, the
/// worst and the best; a trial where a repeat has no verified kernel yet is
/// left out.
fn speedup_series(w: &WorkloadReport, max_trials: usize) -> Vec<(String, Vec<SpeedupPoint>)> {
    w.strategies
        .iter()
        .map(|s| {
            let points = (1..=max_trials)
                .filter_map(|t| {
                    let xs: Vec<f64> =
                        s.runs.iter().filter_map(|r| best_within(&r.curve, t)).map(|b| w.naive_ms / b).collect();
                    if xs.len() != s.runs.len() || xs.is_empty() {
                        return None;
                    }
                    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = xs.iter().copied().fold(0.0, f64::max);
                    Some((t, median(xs)?, lo, hi))
                })
                .collect();
            (s.strategy.clone(), points)
        })
        .collect()
}

/// Line and band colours, a strategy each in turn (matplotlib's tab10, red first).
const COLOURS: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn draw_speedups<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    w: &WorkloadReport,
    series: &[(String, Vec<SpeedupPoint>)],
    levels: &[(String, f64)],
    max_trials: usize,
) -> Drawn {
    let top =
        series.iter().flat_map(|(_, p)| p.iter().map(|x| x.3)).chain(levels.iter().map(|l| l.1)).fold(1.0, f64::max)
            * 1.1;
    {
        let mut chart = ChartBuilder::on(root)
            .caption(format!("{}: best speedup over naive versus trials", w.workload), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(1..max_trials, 0.0..top)
            .map_err(plot::error)?;
        chart.configure_mesh().x_desc("trials").y_desc("speedup (x)").draw().map_err(plot::error)?;
        for (i, (name, points)) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let band: Vec<(usize, f64)> =
                points.iter().map(|p| (p.0, p.3)).chain(points.iter().rev().map(|p| (p.0, p.2))).collect();
            if points.len() > 1 {
                chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.15)))).map_err(plot::error)?;
            }
            chart
                .draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), colour.stroke_width(2)))
                .map_err(plot::error)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
        }
        for (i, (name, speedup)) in levels.iter().enumerate() {
            // After the strategies' colours, so that no level looks like one.
            let colour = COLOURS[(series.len() + i) % COLOURS.len()];
            let style = colour.stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new([(1, *speedup), (max_trials, *speedup)], 8, 5, style))
                .map_err(plot::error)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(plot::error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::tables::tests::report;
    use crate::bench::{RunRecord, METASCHEDULE, NUMPY, TORCH_COMPILE, TORCH_EAGER};

    #[test]
    fn a_point_per_trial_once_every_repeat_has_a_kernel() {
        let mut w = report().workloads.remove(0);
        w.strategies[1].runs.push(RunRecord {
            seed: 2,
            curve: vec![Some(50.0), Some(25.0)],
            wall_s: 1.0,
            probes: Vec::new(),
        });
        let series = speedup_series(&w, 4);
        assert_eq!(
            series[0].1,
            [(1, 5.0, 5.0, 5.0), (2, 5.0, 5.0, 5.0), (3, 100.0 / 9.0, 100.0 / 9.0, 100.0 / 9.0), (4, 12.5, 12.5, 12.5)]
        );
        let random: Vec<usize> = series[1].1.iter().map(|p| p.0).collect();
        assert_eq!(random, [3, 4], "the first repeat has no kernel before trial 3");
        assert_eq!(series[1].1[0], (3, (100.0 / 9.0 + 4.0) / 2.0, 4.0, 100.0 / 9.0));
    }

    #[test]
    fn the_plot_names_each_strategy_in_both_formats() {
        let w = report().workloads.remove(0);
        let svg = speedup_plot_svg(&w, &[], 4).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("speedup (x)") && svg.contains("random"), "{svg}");
        let ((width, height), rgb) = crate::plot::decode_png(&speedup_plot_png(&w, &[], 4).unwrap());
        assert_eq!((width, height), crate::plot::SIZE);
        assert!(crate::plot::count_pixels(&rgb, COLOURS[0]) > 50, "no colt line in the PNG");
    }

    #[test]
    fn each_peer_with_a_latency_is_a_dashed_level_in_the_legend() {
        use crate::bench::peers::tests::peer;
        let w = report().workloads.remove(0);
        let failed = PeerResult { error: Some("no C++ compiler".into()), ..peer(TORCH_COMPILE, 0, None) };
        let peers =
            [peer(METASCHEDULE, 64, Some(5.0)), failed, peer(TORCH_EAGER, 0, Some(2.0)), peer(NUMPY, 64, Some(4.0))];
        let peers: Vec<&PeerResult> = peers.iter().collect();
        assert_eq!(
            peer_levels(&w, &peers),
            [
                ("MetaSchedule@64 (peer)".to_string(), 20.0),
                ("torch eager (peer)".into(), 50.0),
                ("numpy (peer)".into(), 25.0)
            ]
        );
        let svg = speedup_plot_svg(&w, &peers, 4).unwrap();
        assert!(svg.contains("MetaSchedule@64 (peer)") && svg.contains("torch eager (peer)"), "{svg}");
        assert!(!svg.contains("torch.compile"), "a failed peer has no level: {svg}");
        let (_, rgb) = crate::plot::decode_png(&speedup_plot_png(&w, &peers, 4).unwrap());
        assert!(crate::plot::count_pixels(&rgb, COLOURS[2]) > 50, "no peer level in the PNG");
    }
}
