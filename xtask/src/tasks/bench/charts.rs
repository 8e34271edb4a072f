//! SVG charts of the benchmark, drawn with `plotters` (SVG backend: text is left to the
//! viewer's fonts, so no font files are needed to draw them).

use anyhow::{anyhow, Result};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// One line: a value per run.
pub struct Line<'a> {
    pub label: &'a str,
    pub values: &'a [f64],
}

/// One bar.
pub struct Bar<'a> {
    pub label: &'a str,
    pub value: f64,
}

const SIZE: (u32, u32) = (900, 500);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing a chart: {e}")
}

/// The whole decades around `low..high` (1..100 for 2..60), so that a log axis shows labelled
/// powers of ten at both ends.
fn decades(low: f64, high: f64) -> std::ops::Range<f64> {
    let low = 10f64.powf(low.max(f64::MIN_POSITIVE).log10().floor());
    let high = 10f64.powf(high.max(low).log10().ceil());
    low..if high > low { high } else { low * 10.0 }
}

/// Values per run, one line per series, run numbers from 1 on the x axis; `log` puts the y axis
/// on a logarithmic scale (for series orders of magnitude apart, such as native and emulated).
pub fn lines_svg(title: &str, y_label: &str, lines: &[Line], log: bool) -> Result<String> {
    let runs = lines
        .iter()
        .map(|l| l.values.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let highest = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let lowest = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(highest);
    let x_range = 0.5_f64..runs as f64 + 0.5;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut builder = ChartBuilder::on(&root);
        builder
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70);
        if log {
            let chart = builder
                .build_cartesian_2d(x_range, decades(lowest, highest).log_scale())
                .map_err(plot_error)?;
            draw_lines(chart, runs, y_label, lines)?;
        } else {
            let chart = builder
                .build_cartesian_2d(x_range, 0.0_f64..highest * 1.15)
                .map_err(plot_error)?;
            draw_lines(chart, runs, y_label, lines)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

fn draw_lines<'a, Y>(
    mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    runs: usize,
    y_label: &str,
    lines: &[Line],
) -> Result<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("run")
        .y_desc(y_label)
        .x_labels(runs.min(20))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(plot_error)?;
    for (index, line) in lines.iter().enumerate() {
        let color = PALETTE[index % PALETTE.len()];
        let points: Vec<(f64, f64)> = line
            .values
            .iter()
            .enumerate()
            .map(|(run, &v)| (run as f64 + 1.0, v))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(plot_error)?
            .label(line.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, color.filled())),
            )
            .map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

/// One bar per program on a logarithmic axis (the values span orders of magnitude), each
/// labelled with its value.
pub fn bars_svg(title: &str, y_label: &str, bars: &[Bar]) -> Result<String> {
    let positive: Vec<f64> = bars.iter().map(|b| b.value).filter(|v| *v > 0.0).collect();
    let low = positive.iter().copied().fold(f64::INFINITY, f64::min);
    // Room above the tallest bar for its label.
    let high = positive.iter().copied().fold(f64::MIN_POSITIVE, f64::max) * 1.5;
    let axis = decades(low.min(high), high);
    let low = axis.start;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let labels: Vec<String> = bars.iter().map(|b| b.label.to_string()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0_f64..bars.len().max(1) as f64, axis.log_scale())
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(y_label)
            .x_labels(bars.len().max(1) * 2 + 1)
            .x_label_formatter(&|x| {
                let slot = x.floor();
                let centred = (x - slot - 0.5).abs() < 1e-6;
                if centred && slot >= 0.0 {
                    labels.get(slot as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(plot_error)?;
        for (index, bar) in bars.iter().enumerate() {
            let color = PALETTE[index % PALETTE.len()];
            let x = index as f64;
            let value = bar.value.max(low);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.2, low), (x + 0.8, value)],
                    color.filled(),
                )))
                .map_err(plot_error)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{:.1} ms", bar.value),
                    (x + 0.3, value * 1.2),
                    ("sans-serif", 16),
                )))
                .map_err(plot_error)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_span_whole_decades() {
        assert_eq!(decades(2.0, 60.0), 1.0..100.0);
        assert_eq!(decades(20.2, 113.5), 10.0..1000.0);
        assert_eq!(decades(10.0, 10.0), 10.0..100.0);
        assert_eq!(
            decades(0.0, 0.0).start,
            10f64.powf(f64::MIN_POSITIVE.log10().floor())
        );
    }

    #[test]
    fn line_chart_is_an_svg_with_the_labels() {
        let svg = lines_svg(
            "Duration per run",
            "ms",
            &[
                Line {
                    label: "x86_64",
                    values: &[10.0, 9.5, 9.7],
                },
                Line {
                    label: "arm64 (emulated)",
                    values: &[90.0, 85.0],
                },
            ],
            false,
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        for says in [
            "Duration per run",
            "x86_64",
            "arm64 (emulated)",
            "run",
            "<circle",
        ] {
            assert!(svg.contains(says), "{says}");
        }
    }

    #[test]
    fn bar_chart_labels_each_program() {
        let svg = bars_svg(
            "10,000 digits",
            "ms (log scale)",
            &[
                Bar {
                    label: "function",
                    value: 9.0,
                },
                Bar {
                    label: "baseline musl",
                    value: 9600.0,
                },
                Bar {
                    label: "node",
                    value: 1300.0,
                },
            ],
        )
        .unwrap();
        for says in ["function", "baseline musl", "node", "9600.0 ms", "<rect"] {
            assert!(svg.contains(says), "{says}");
        }
        // No data still draws a chart, not an error.
        assert!(lines_svg("empty", "ms", &[], false)
            .unwrap()
            .contains("<svg"));
        assert!(lines_svg("empty", "ms", &[], true)
            .unwrap()
            .contains("<svg"));
        let log = lines_svg(
            "native and emulated",
            "ms (log scale)",
            &[Line {
                label: "x86_64",
                values: &[10.0, 900.0],
            }],
            true,
        )
        .unwrap();
        assert_eq!(log.matches("<circle").count(), 2, "{log}");
    }
}
