//! The loss curves of a specialist's training (`colt train`'s report): one
//! line a series of (step, loss) points, in nats per answer token.

use crate::plot::{error as plot_error, Drawn};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One named series of `(step, loss)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct LossSeries {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

const COLOURS: [RGBColor; 4] =
    [RGBColor(0x1F, 0x77, 0xB4), RGBColor(0xD6, 0x27, 0x28), RGBColor(0x2C, 0xA0, 0x2C), BLACK];

/// The series as an SVG document, losses on a linear axis from zero.
pub fn loss_curves_svg(series: &[LossSeries], title: &str) -> Result<String, String> {
    crate::plot::svg(|root| draw_losses(root, series, title))
}

fn draw_losses<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, series: &[LossSeries], title: &str) -> Drawn {
    let finite = |&&(x, y): &&(f64, f64)| x.is_finite() && y.is_finite();
    let points = || series.iter().flat_map(|s| s.points.iter().filter(finite));
    let last_step = points().map(|p| p.0).fold(1.0_f64, f64::max);
    let top = points().map(|p| p.1).fold(0.0_f64, f64::max).max(1e-3) * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..last_step, 0.0..top)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("training steps")
        .y_desc("loss (nats per answer token)")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(plot_error)?;
    for (s, colour) in series.iter().zip(COLOURS.iter().cycle()) {
        let line: Vec<(f64, f64)> = s.points.iter().filter(finite).copied().collect();
        chart
            .draw_series(LineSeries::new(line, colour.stroke_width(2)))
            .map_err(plot_error)?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_series_is_a_line_with_its_name_in_the_legend() {
        let series = [
            LossSeries { name: "training".into(), points: vec![(1.0, 4.0), (50.0, 2.0), (100.0, 1.0)] },
            LossSeries { name: "held-out".into(), points: vec![(0.0, 5.9), (100.0, f64::NAN), (100.0, 1.5)] },
        ];
        let svg = loss_curves_svg(&series, "specialist").unwrap();
        let texts: Vec<&str> =
            svg.split("<text").skip(1).filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim())).collect();
        for text in ["specialist", "training", "held-out", "training steps"] {
            assert!(texts.contains(&text), "{text} in {texts:?}");
        }
        assert!(svg.contains("#1F77B4") && svg.contains("#D62728"));
    }
}
