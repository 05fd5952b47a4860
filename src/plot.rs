//! SVG line charts (plotters), written atomically beside the CSV/JSON they show.

use crate::files::write_string_atomic;
use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One named curve.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (x, y) points in order of x.
    pub points: Vec<(f64, f64)>,
}

/// One chart of a figure.
#[derive(Clone, Debug)]
pub struct Panel {
    /// Caption above the chart.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Curves.
    pub series: Vec<Series>,
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// The axis range of `vals`: 5 % of the span added on each side; a single value (one
/// epoch) or equal values get a span of their own, 10 % of the value or at least 0.5, so
/// the axis has readable ticks instead of a range of 2e-9.
fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) =
        vals.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= 1e-9 * hi.abs().max(lo.abs()).max(1.0) {
        let pad = (0.1 * hi.abs()).max(0.5);
        return (lo - pad, hi + pad);
    }
    (lo - 0.05 * span, hi + 0.05 * span)
}

/// Draws the panels side by side into an SVG file.
pub fn write_svg(path: &Path, panels: &[Panel]) -> Result<()> {
    write_string_atomic(path, &render_svg(panels)?)
}

/// The panels side by side, as SVG text.
pub fn render_svg(panels: &[Panel]) -> Result<String> {
    let mut svg = String::new();
    {
        let width = 520 * panels.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("plot: {e}"))?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (panel, area) in panels.iter().zip(&areas) {
            let pts = || panel.series.iter().flat_map(|s| s.points.iter());
            let (x0, x1) = range(pts().map(|p| p.0));
            let (y0, y1) = range(pts().map(|p| p.1));
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| anyhow!("plot: {e}"))?;
            chart
                .configure_mesh()
                .x_desc(&panel.x_label)
                .y_desc(&panel.y_label)
                .draw()
                .map_err(|e| anyhow!("plot: {e}"))?;
            // Series of one label share a colour and a legend entry (a policy's seeds).
            let mut labels: Vec<&str> = Vec::new();
            for s in &panel.series {
                if !labels.contains(&s.label.as_str()) {
                    labels.push(&s.label);
                }
            }
            let mut in_legend = vec![false; labels.len()];
            for s in &panel.series {
                let li = labels.iter().position(|l| *l == s.label).unwrap_or(0);
                let color = COLORS[li % COLORS.len()];
                let finite: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| p.1.is_finite()).collect();
                let drawn = chart
                    .draw_series(LineSeries::new(finite.clone(), color.stroke_width(2)))
                    .map_err(|e| anyhow!("plot: {e}"))?;
                if !std::mem::replace(&mut in_legend[li], true) {
                    drawn
                        .label(&s.label)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
                }
                if finite.len() <= 40 {
                    chart
                        .draw_series(finite.iter().map(|&p| Circle::new(p, 3, color.filled())))
                        .map_err(|e| anyhow!("plot: {e}"))?;
                }
            }
            legend(&mut chart, legend_corner(panel, (x0, x1), (y0, y1)))?;
        }
        root.present().map_err(|e| anyhow!("plot: {e}"))?;
    }
    Ok(svg)
}

/// Where the legend hides the fewest points: the upper or the lower right of the chart
/// (accuracy curves end high, loss curves low).
fn legend_corner(panel: &Panel, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let (mut upper, mut lower) = (0, 0);
    for &(x, y) in panel.series.iter().flat_map(|s| s.points.iter()) {
        let (u, v) = ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0));
        if u > 0.5 {
            if v > 0.5 {
                upper += 1;
            } else {
                lower += 1;
            }
        }
    }
    if lower < upper {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    }
}

/// The legend, boxed, at `position`.
fn legend<'a, 'b: 'a>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("plot: {e}"))
}

/// A chart of one unit-wide column per category, labelled under its centre; `signed`
/// values get signed tick labels and no fine grid.
fn category_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    y_label: &str,
    categories: &[String],
    y: std::ops::Range<f64>,
    signed: bool,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..categories.len() as f64, y)
        .map_err(|e| anyhow!("plot: {e}"))?;
    let centre = |x: &f64| {
        let i = x.floor() as usize;
        if (x - x.floor() - 0.5).abs() < 1e-6 && i < categories.len() {
            categories[i].clone()
        } else {
            String::new()
        }
    };
    let signed_tick = |y: &f64| if y.abs() < 1e-9 { "0".into() } else { format!("{y:+.1}") };
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh().x_labels(categories.len() * 2 + 1).x_label_formatter(&centre).y_desc(y_label);
    if signed {
        mesh.y_label_formatter(&signed_tick).light_line_style(WHITE);
    }
    mesh.draw().map_err(|e| anyhow!("plot: {e}"))?;
    Ok(chart)
}

/// Grouped bars: one group per category, one bar per series, into an SVG file.
pub fn write_bars(
    path: &Path,
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
) -> Result<()> {
    write_string_atomic(path, &render_bars(title, y_label, categories, series)?)
}

/// [`write_bars`]' chart as SVG text.
pub fn render_bars(title: &str, y_label: &str, categories: &[String], series: &[(String, Vec<f64>)]) -> Result<String> {
    let mut svg = String::new();
    {
        let width = (140 + 36 * categories.len() * series.len().max(1)).clamp(520, 1600) as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("plot: {e}"))?;
        let top = series.iter().flat_map(|s| s.1.iter()).copied().filter(|v| v.is_finite()).fold(0.0, f64::max) * 1.1;
        let mut chart = category_chart(&root, title, y_label, categories, 0f64..top.max(1e-9), false)?;
        let w = 0.8 / series.len().max(1) as f64;
        for (si, (label, vals)) in series.iter().enumerate() {
            let color = COLORS[si % COLORS.len()];
            chart
                .draw_series(vals.iter().enumerate().map(|(ci, &v)| {
                    let x0 = ci as f64 + 0.1 + si as f64 * w;
                    Rectangle::new([(x0, 0.0), (x0 + w, if v.is_finite() { v } else { 0.0 })], color.filled())
                }))
                .map_err(|e| anyhow!("plot: {e}"))?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::MiddleRight)?;
        root.present().map_err(|e| anyhow!("plot: {e}"))?;
    }
    Ok(svg)
}

/// One series of [`render_intervals`]: a label and, per category, a value with the
/// half-width of its interval (`None`: no value in that category).
pub type Intervals = (String, Vec<Option<(f64, f64)>>);

/// Values with vertical intervals, one group per category and one marker per series, over
/// dashed horizontal reference lines (a bound, zero), as SVG text.
pub fn render_intervals(
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[Intervals],
    references: &[f64],
) -> Result<String> {
    let mut svg = String::new();
    {
        let width = (160 + 170 * categories.len()).clamp(520, 1600) as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("plot: {e}"))?;
        let ends = series
            .iter()
            .flat_map(|s| s.1.iter().flatten())
            .flat_map(|&(v, h)| [v - h, v + h])
            .chain(references.iter().copied());
        let (y0, y1) = range(ends);
        // Headroom above the data for the legend.
        let y1 = y1 + 0.25 * (y1 - y0);
        let n = categories.len() as f64;
        let mut chart = category_chart(&root, title, y_label, categories, y0..y1, true)?;
        for &r in references {
            let dash = DashedLineSeries::new([(0.0, r), (n, r)], 6, 4, BLACK.mix(0.6).stroke_width(1));
            chart.draw_series(dash).map_err(|e| anyhow!("plot: {e}"))?;
        }
        // Markers of one category side by side, centred on it.
        let step = 0.6 / series.len().max(1) as f64;
        for (si, (label, vals)) in series.iter().enumerate() {
            let color = COLORS[si % COLORS.len()];
            let x = |ci: usize| ci as f64 + 0.2 + step * (si as f64 + 0.5);
            let present = || vals.iter().enumerate().filter_map(|(ci, v)| v.map(|v| (x(ci), v)));
            chart
                .draw_series(
                    present().map(|(x, (v, h))| ErrorBar::new_vertical(x, v - h, v, v + h, color.stroke_width(2), 10)),
                )
                .map_err(|e| anyhow!("plot: {e}"))?;
            chart
                .draw_series(present().map(|(x, (v, _))| Circle::new((x, v), 4, color.filled())))
                .map_err(|e| anyhow!("plot: {e}"))?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 5, y), 4, color.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(|e| anyhow!("plot: {e}"))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Series of one label (a policy's seeds) share a colour and one legend entry; the
    /// legend goes where the curves are not.
    #[test]
    fn one_legend_entry_per_label_and_out_of_the_way() {
        let curve = |label: &str, ys: &[f64]| Series {
            label: label.into(),
            points: ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
        };
        let rising = Panel {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![
                curve("daa", &[0.1, 0.5, 0.9]),
                curve("daa", &[0.2, 0.6, 0.95]),
                curve("single", &[0.1, 0.4, 0.9]),
            ],
        };
        let svg = render_svg(std::slice::from_ref(&rising)).unwrap();
        assert_eq!(svg.matches("\ndaa\n</text>").count(), 1, "one legend entry for two seeds");
        assert_eq!(svg.matches("\nsingle\n</text>").count(), 1);
        assert!(matches!(legend_corner(&rising, (0.0, 2.0), (0.0, 1.0)), SeriesLabelPosition::LowerRight));
        let falling = Panel { series: vec![curve("loss", &[2.0, 1.0, 0.1])], ..rising };
        assert!(matches!(legend_corner(&falling, (0.0, 2.0), (0.0, 2.0)), SeriesLabelPosition::UpperRight));
    }

    #[test]
    fn single_values_get_a_readable_axis() {
        assert_eq!(range([1.0].into_iter()), (0.5, 1.5));
        let (lo, hi) = range([0.85, 0.85].into_iter());
        assert!(lo < 0.85 - 0.4 && hi > 0.85 + 0.4, "{lo} {hi}");
        assert_eq!(range([0.0, 10.0].into_iter()), (-0.5, 10.5));
        assert_eq!(range([f64::NAN].into_iter()), (0.0, 1.0));
    }
}
