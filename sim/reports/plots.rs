//! SVG plots of a run (plotters, SVG backend only, no system fonts needed): the latency
//! percentile distribution, phones by state over virtual time with fault windows shaded, and
//! throughput over time. Each function returns the SVG text, to inline in `report.html` or to
//! write beside it.

use super::metrics::Timeline;
use hdrhistogram::Histogram;
use plotters::prelude::*;

/// A fault active over `[from_ms, until_ms)` of virtual time (instants have `until == from`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub from_ms: u64,
    pub until_ms: u64,
    pub label: String,
}

const W: u32 = 900;
const H: u32 = 420;

fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    C[i % C.len()]
}

/// A unit for a time axis spanning `end_ms`: (divisor in ms, name).
fn time_unit(end_ms: u64) -> (f64, &'static str) {
    match end_ms {
        0..=120_000 => (1000.0, "s"),
        120_001..=7_200_000 => (60_000.0, "min"),
        7_200_001..=172_800_000 => (3_600_000.0, "h"),
        _ => (86_400_000.0, "days"),
    }
}

fn err(e: impl std::fmt::Display) -> String {
    format!("plot: {e}")
}

/// One coloured line per series, and the legend.
fn draw_lines<'a, 'b: 'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    series: Vec<(&str, Vec<(f64, f64)>)>,
    legend_at: SeriesLabelPosition,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, (name, pts)) in series.into_iter().enumerate() {
        let color = palette(i);
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(legend_at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// Latency by percentile, one line per histogram (values in `unit_per_ms` units per ms); the
/// x axis is 1/(1-p) on a log scale, as HdrHistogram's plotter draws it.
pub fn latency_svg(title: &str, series: &[(&str, &Histogram<u64>, f64)]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let points: Vec<(&str, Vec<(f64, f64)>)> = series
            .iter()
            .filter(|(_, h, _)| !h.is_empty())
            .map(|(name, h, unit)| {
                let pts = h
                    .iter_quantiles(4)
                    .map(|v| {
                        let p = v.quantile_iterated_to().min(0.999_999);
                        (1.0 / (1.0 - p), v.value_iterated_to() as f64 / unit)
                    })
                    .collect();
                (*name, pts)
            })
            .collect();
        // Log y: a run's latencies span ms (LAN round trips) to minutes (TVS outages).
        const FLOOR_MS: f64 = 0.5;
        let ys = || points.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y));
        let y_max = ys().fold(1.0f64, f64::max) * 1.5;
        let y_min = ys()
            .fold(f64::MAX, f64::min)
            .clamp(FLOOR_MS, (y_max / 10.0).max(FLOOR_MS))
            * 0.8;
        let points: Vec<(&str, Vec<(f64, f64)>)> = points
            .into_iter()
            .map(|(n, p)| (n, p.into_iter().map(|(x, y)| (x, y.max(y_min))).collect()))
            .collect();
        // The x axis ends one decade past the deepest percentile the data reaches.
        let count = series
            .iter()
            .map(|(_, h, _)| h.len())
            .max()
            .unwrap_or(1)
            .max(10);
        let x_max = 10f64.powi((count as f64).log10().ceil() as i32);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((1.0f64..x_max).log_scale(), (y_min..y_max).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ms, virtual time, log scale)")
            .x_label_formatter(&|x| {
                let p = 100.0 * (1.0 - 1.0 / x);
                format!("{p:.4}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
                    + "%"
            })
            .draw()
            .map_err(err)?;
        draw_lines(&mut chart, points, SeriesLabelPosition::UpperLeft)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Lines over virtual time (`series` share `tl.t_ms`), with fault windows shaded.
fn over_time(
    title: &str,
    y_desc: &str,
    t_ms: &[u64],
    series: &[(&str, Vec<f64>)],
    windows: &[Window],
    steps: &[Window],
) -> Result<String, String> {
    let end_ms = t_ms.last().copied().unwrap_or(1).max(1);
    let (div, unit) = time_unit(end_ms);
    let x_max = end_ms as f64 / div;
    let y_max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.08;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0f64..x_max, 0.0f64..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("virtual time ({unit})"))
            .y_desc(y_desc)
            .draw()
            .map_err(err)?;
        marks(&mut chart, windows, steps, div, (x_max, y_max))?;
        let lines = series
            .iter()
            .map(|(name, values)| {
                let pts = t_ms
                    .iter()
                    .zip(values)
                    .map(|(t, v)| (*t as f64 / div, *v))
                    .collect();
                (*name, pts)
            })
            .collect();
        draw_lines(&mut chart, lines, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Fault windows shaded and labelled; operator steps as numbered vertical lines.
fn marks<'a, 'b: 'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    windows: &[Window],
    steps: &[Window],
    div: f64,
    (x_max, y_max): (f64, f64),
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for w in windows {
        let (a, b) = (w.from_ms as f64 / div, w.until_ms as f64 / div);
        let b = if b > a { b } else { a + x_max / 400.0 };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, 0.0), (b.min(x_max), y_max)],
                RGBColor(214, 39, 40).mix(0.15).filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                w.label.clone(),
                (a, y_max * 0.97),
                ("sans-serif", 11).into_font().color(&RGBColor(150, 20, 20)),
            )))
            .map_err(err)?;
    }
    for (i, step) in steps.iter().enumerate() {
        let x = step.from_ms as f64 / div;
        let grey = RGBColor(110, 110, 110);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, y_max)],
                grey.stroke_width(1),
            )))
            .map_err(err)?;
        // Numbered; the page lists what each number is (labels would overlap).
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{}", i + 1),
                (x, y_max * 0.04),
                ("sans-serif", 10).into_font().color(&grey),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// Phones per state over virtual time, fault windows shaded, operator steps marked.
pub fn states_svg(tl: &Timeline, windows: &[Window], steps: &[Window]) -> Result<String, String> {
    let series: Vec<(&str, Vec<f64>)> = tl
        .states
        .iter()
        .map(|(s, v)| (s.as_str(), v.iter().map(|&n| n as f64).collect()))
        .collect();
    over_time(
        "Phones by state over virtual time (shaded: faults; grey: numbered operator steps)",
        "phones",
        &tl.t_ms,
        &series,
        windows,
        steps,
    )
}

/// Events per second of virtual time, fault windows shaded, operator steps marked.
pub fn throughput_svg(
    tl: &Timeline,
    windows: &[Window],
    steps: &[Window],
) -> Result<String, String> {
    let series: Vec<(&str, Vec<f64>)> = tl.rates.iter().map(|(k, v)| (*k, v.clone())).collect();
    over_time(
        "Throughput over virtual time",
        "events per second",
        &tl.t_ms,
        &series,
        windows,
        steps,
    )
}
