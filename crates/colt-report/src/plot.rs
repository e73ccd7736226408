//! Plots as SVG and as PNG from the same drawing code. Text is laid out
//! (and, in a PNG, rasterised) with DejaVu Sans embedded in the binary, so a
//! plot looks the same on a machine with no fonts installed: colt runs on
//! servers, where there often are none.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;

/// Every plot's size in pixels (SVG user units).
pub const SIZE: (u32, u32) = (800, 480);

/// A drawing on a backend; fails with a message.
pub type Drawn = Result<(), String>;

/// plotters' errors, as the message of a [`Drawn`].
pub fn error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Makes the embedded font plotters' "sans-serif", which every plot's text
/// names. Both backends need it: the SVG one measures text with it to
/// place labels.
fn register_font() {
    static FONT: Once = Once::new();
    FONT.call_once(|| {
        // The bytes are DejaVu Sans as the dejavu crate ships it, which
        // parses; were it ever rejected, text would be left out of the
        // plots and `draw` would say so.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    });
}

/// The drawing as an SVG document.
pub fn svg(draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(error)?;
        draw(&root)?;
        root.present().map_err(error)?;
    }
    Ok(svg)
}

/// The drawing as a PNG file's bytes (8-bit RGB).
pub fn png(draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Drawn) -> Result<Vec<u8>, String> {
    register_font();
    let (width, height) = SIZE;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(error)?;
        draw(&root)?;
        root.present().map_err(error)?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(error)?;
    writer.write_image_data(&rgb).map_err(error)?;
    writer.finish().map_err(error)?;
    Ok(bytes)
}

/// A PNG's size and pixels (8-bit RGB), for tests that look at a plot.
#[cfg(test)]
pub fn decode_png(bytes: &[u8]) -> ((u32, u32), Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
    pixels.truncate(info.buffer_size());
    ((info.width, info.height), pixels)
}

/// How many pixels have exactly this colour.
#[cfg(test)]
pub fn count_pixels(rgb: &[u8], colour: RGBColor) -> usize {
    rgb.chunks_exact(3).filter(|p| p[0] == colour.0 && p[1] == colour.1 && p[2] == colour.2).count()
}

#[cfg(test)]
// `|root| labelled_line(root)` is not redundant: the closure is generic over
// every backend lifetime, the function item only over one.
#[allow(clippy::redundant_closure)]
mod tests {
    use super::*;

    fn labelled_line<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> Drawn {
        let mut chart = ChartBuilder::on(root)
            .caption("a caption", ("sans-serif", 20))
            .x_label_area_size(30)
            .y_label_area_size(30)
            .build_cartesian_2d(0..10, 0..10)
            .map_err(error)?;
        chart.configure_mesh().draw().map_err(error)?;
        chart.draw_series(LineSeries::new((0..10).map(|x| (x, x)), RED.stroke_width(3))).map_err(error)?;
        Ok(())
    }

    #[test]
    fn one_drawing_gives_an_svg_and_a_png_of_the_same_size() {
        let svg = svg(|root| labelled_line(root)).unwrap();
        assert!(svg.contains(r#"width="800""#) && svg.contains(r#"height="480""#), "{}", &svg[..200]);
        assert!(svg.contains("a caption"));
        let ((w, h), rgb) = decode_png(&png(|root| labelled_line(root)).unwrap());
        assert_eq!((w, h), SIZE);
        assert!(count_pixels(&rgb, RED) > 100, "the line is not in the PNG");
    }

    #[test]
    fn png_text_is_rasterised_with_the_embedded_font() {
        // The same chart with and without its caption differ in dark
        // pixels where the caption goes (centred, above the chart) only if
        // the caption's glyphs were drawn.
        let dark = |rgb: &[u8]| {
            let width = SIZE.0 as usize;
            (0..25)
                .flat_map(|row| (100..width - 100).map(move |column| (row * width + column) * 3))
                .filter(|&i| rgb[i..i + 3].iter().all(|&c| c < 128))
                .count()
        };
        let (_, with) = decode_png(&png(|root| labelled_line(root)).unwrap());
        let (_, without) = decode_png(
            &png(|root| {
                let mut chart = ChartBuilder::on(root)
                    .x_label_area_size(30)
                    .y_label_area_size(30)
                    .margin_top(30)
                    .build_cartesian_2d(0..10, 0..10)
                    .map_err(error)?;
                chart.configure_mesh().draw().map_err(error)?;
                Ok(())
            })
            .unwrap(),
        );
        assert!(dark(&with) > 50, "no caption glyphs in the PNG ({} dark pixels)", dark(&with));
        assert_eq!(dark(&without), 0);
    }
}
