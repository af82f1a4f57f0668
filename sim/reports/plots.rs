//! SVG plots of a run (plotters, SVG backend only, no system fonts needed): the latency
//! percentile distribution, phones by state over virtual time with fault windows shaded, and
//! throughput over time. Each function returns the SVG text, to inline in `report.html` or to
//! write beside it.
//!
//! Readable at page size: fonts of 14–22 px, the legend in a strip right of the data, every
//! series with its own colour, dash pattern and staggered markers (so a line drawn exactly over
//! another stays visible, and the legend says "same as"), whole numbers on phone axes, operator
//! steps numbered and fault windows tagged with letters that the page's tables explain.

use super::metrics::Timeline;
use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// A fault active over `[from_ms, until_ms)` of virtual time (instants have `until == from`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub from_ms: u64,
    pub until_ms: u64,
    pub label: String,
}

/// Page-wide plots; the legend takes the right-hand strip, outside the data.
const W: u32 = 1060;
const H: u32 = 460;
const LEGEND_W: u32 = 270;
const FONT: &str = "sans-serif";
/// Captions, axis descriptions, tick labels, legend and marks, as plotters takes them: its
/// SVG backend writes `font-size` = size ÷ 1.24, so these are 21, 16, 14.5, 15 and 14.5 px on
/// the page (checked in Chromium).
const CAPTION_PX: u32 = 26;
const DESC_PX: u32 = 20;
const TICK_PX: u32 = 18;
const LEGEND_PX: u32 = 19;
const MARK_PX: u32 = 18;

fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    C[i % C.len()]
}

/// Dash pattern of series `i` (dash, gap in px; `None`: solid), so that lines on top of each
/// other stay visible.
fn dash(i: usize) -> Option<(u32, u32)> {
    [
        None,
        Some((10, 5)),
        Some((3, 4)),
        Some((14, 4)),
        Some((6, 6)),
    ][i % 5]
}

/// The marker of series `i`, centred on `c`.
fn marker<DB: DrawingBackend>(
    i: usize,
    c: (i32, i32),
    color: RGBColor,
) -> DynElement<'static, DB, (i32, i32)> {
    let style = color.stroke_width(2);
    match i % 4 {
        0 => Circle::new(c, 4, color.filled()).into_dyn(),
        1 => TriangleMarker::new(c, 6, style).into_dyn(),
        2 => Rectangle::new([(c.0 - 4, c.1 - 4), (c.0 + 4, c.1 + 4)], style).into_dyn(),
        _ => Cross::new(c, 5, style).into_dyn(),
    }
}

/// A fault window's tag on the plots (`A`, `B`, …): the page lists what each one is.
pub fn fault_tag(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    match letters.get(i) {
        Some(&l) => char::from(l).to_string(),
        None => format!("F{}", i + 1),
    }
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

/// Legend names, with "(same as …)" where a series repeats an earlier one point for point.
fn legend_names(series: &[(&str, Vec<(f64, f64)>)]) -> Vec<String> {
    series
        .iter()
        .enumerate()
        .map(
            |(i, (name, pts))| match series[..i].iter().find(|(_, p)| p == pts) {
                Some((first, _)) => format!("{name} (same as {first})"),
                None => name.to_string(),
            },
        )
        .collect()
}

/// One line per series, each with its colour, dash pattern and markers (about nine, at
/// positions staggered by series so identical lines show every marker).
fn draw_lines<'a, 'b: 'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    series: &[(&str, Vec<(f64, f64)>)],
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let n = series.len().max(1);
    for (i, (_, pts)) in series.iter().enumerate() {
        let color = palette(i);
        let style = color.stroke_width(2);
        match dash(i) {
            None => chart.draw_series(LineSeries::new(pts.iter().copied(), style)),
            Some((on, off)) => {
                chart.draw_series(DashedLineSeries::new(pts.iter().copied(), on, off, style))
            }
        }
        .map_err(err)?;
        let every = (pts.len() / 9).max(1);
        let offset = every * i / n;
        let marks = pts.iter().skip(offset).step_by(every).copied();
        chart
            .draw_series(marks.map(|p| EmptyElement::at(p) + marker(i, (0, 0), color)))
            .map_err(err)?;
    }
    Ok(())
}

/// The legend in its own strip right of the plot: sample line with marker, then the name.
fn draw_legend(area: &DrawingArea<SVGBackend, Shift>, names: &[String]) -> Result<(), String> {
    let font = (FONT, LEGEND_PX).into_font();
    let mut y = 70;
    for (i, name) in names.iter().enumerate() {
        let color = palette(i);
        let style = color.stroke_width(2);
        let (x0, x1) = (8, 44);
        match dash(i) {
            None => area.draw(&PathElement::new(vec![(x0, y), (x1, y)], style)),
            Some((on, off)) => area.draw(&DashedPathElement::new(
                vec![(x0, y), (x1, y)],
                on,
                off,
                style,
            )),
        }
        .map_err(err)?;
        area.draw(&(EmptyElement::at((26, y)) + marker(i, (0, 0), color)))
            .map_err(err)?;
        // Long names wrap onto more lines rather than run off the strip.
        let lines = wrap(name, 24);
        for (k, line) in lines.iter().enumerate() {
            let top = y - 8 + 20 * k as i32;
            area.draw(&Text::new(line.as_str(), (52, top), font.clone()))
                .map_err(err)?;
        }
        y += 32 + 20 * (lines.len() as i32 - 1);
    }
    Ok(())
}

/// `text` in lines of at most `width` characters, cut at spaces (a longer word keeps a line
/// of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Latency by percentile, one line per histogram (values in `unit_per_ms` units per ms); the
/// x axis is 1/(1-p) on a log scale, as HdrHistogram's plotter draws it.
pub fn latency_svg(title: &str, series: &[(&str, &Histogram<u64>, f64)]) -> Result<String, String> {
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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plot, legend) = root.split_horizontally(W - LEGEND_W);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, CAPTION_PX))
            .margin(12)
            .margin_right(40)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d((1.0f64..x_max).log_scale(), (y_min..y_max).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("percentile (log scale of 1/(1−p))")
            .y_desc("latency, ms (log scale)")
            .axis_desc_style((FONT, DESC_PX))
            .label_style((FONT, TICK_PX))
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| ms_label(*y))
            .draw()
            .map_err(err)?;
        draw_lines(&mut chart, &points)?;
        draw_legend(&legend, &legend_names(&points))?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// `0%`, `90%`, `99.9%` for a point 1/(1-p) of the percentile axis.
fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    format!("{p:.4}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
        + "%"
}

/// A latency tick: `0.5`, `20`, `1,000`, `60,000` ms.
fn ms_label(y: f64) -> String {
    if y < 10.0 {
        return format!("{y:.1}").trim_end_matches(".0").to_string();
    }
    let n = y.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A tick label without trailing zeros: `0`, `2.5`, `0.25`, `12`.
fn number_label(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What a time plot shows beyond its lines.
struct Frame<'a> {
    title: &'a str,
    y_desc: &'a str,
    /// Whole numbers only on the y axis (phones).
    integer_y: bool,
    windows: &'a [Window],
    steps: &'a [Window],
}

/// Lines over virtual time (`series` share `t_ms`), with fault windows shaded and tagged and
/// operator steps as numbered lines; the legend outside, right.
fn over_time(f: &Frame, t_ms: &[u64], series: &[(&str, Vec<f64>)]) -> Result<String, String> {
    let end_ms = t_ms.last().copied().unwrap_or(1).max(1);
    let (div, unit) = time_unit(end_ms);
    let x_max = end_ms as f64 / div;
    let top = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1.0);
    // Headroom above the data for the step numbers and fault tags.
    let y_max = if f.integer_y {
        (top * 1.22).ceil().max(top + 1.0)
    } else {
        top * 1.22
    };
    let lines: Vec<(&str, Vec<(f64, f64)>)> = series
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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plot, legend) = root.split_horizontally(W - LEGEND_W);
        let mut chart = ChartBuilder::on(&plot)
            .caption(f.title, (FONT, CAPTION_PX))
            .margin(12)
            .margin_right(24)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0f64..x_max, 0.0f64..y_max)
            .map_err(err)?;
        let integer = |y: &f64| {
            if (y - y.round()).abs() < 1e-6 {
                format!("{}", y.round() as u64)
            } else {
                String::new()
            }
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(format!("virtual time ({unit})"))
            .y_desc(f.y_desc)
            .axis_desc_style((FONT, DESC_PX))
            .label_style((FONT, TICK_PX))
            .x_label_formatter(&|x| number_label(*x));
        if f.integer_y {
            mesh.y_labels((y_max as usize + 1).min(11))
                .y_label_formatter(&integer);
        } else {
            mesh.y_label_formatter(&|y| number_label(*y));
        }
        mesh.draw().map_err(err)?;
        marks(&mut chart, f.windows, f.steps, div, (x_max, y_max))?;
        draw_lines(&mut chart, &lines)?;
        draw_legend(&legend, &legend_names(&lines))?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Fault windows shaded and tagged `A`, `B`, … at the top; operator steps as numbered grey
/// lines, the number at the top beside the line (the page lists what each is).
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
    let red = RGBColor(150, 20, 20);
    for (i, w) in windows.iter().enumerate() {
        let (a, b) = (w.from_ms as f64 / div, w.until_ms as f64 / div);
        let b = if b > a { b } else { a + x_max / 400.0 };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, 0.0), (b.min(x_max), y_max)],
                RGBColor(214, 39, 40).mix(0.13).filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((a, y_max))
                    + Text::new(
                        fault_tag(i),
                        (4, 4),
                        (FONT, MARK_PX).into_font().color(&red),
                    ),
            ))
            .map_err(err)?;
    }
    let grey = RGBColor(70, 70, 70);
    for (i, step) in steps.iter().enumerate() {
        let x = step.from_ms as f64 / div;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, y_max)],
                grey.mix(0.7).stroke_width(1),
            )))
            .map_err(err)?;
        // Staggered in two rows so steps close together keep readable numbers.
        let dy = 24 + 18 * (i % 2) as i32;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, y_max))
                    + Text::new(
                        format!("{}", i + 1),
                        (3, dy),
                        (FONT, MARK_PX).into_font().color(&grey),
                    ),
            ))
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
    let frame = Frame {
        title: "Phones by state",
        y_desc: "phones",
        integer_y: true,
        windows,
        steps,
    };
    over_time(&frame, &tl.t_ms, &series)
}

/// Events per second of virtual time, fault windows shaded, operator steps marked.
pub fn throughput_svg(
    tl: &Timeline,
    windows: &[Window],
    steps: &[Window],
) -> Result<String, String> {
    let series: Vec<(&str, Vec<f64>)> = tl.rates.iter().map(|(k, v)| (*k, v.clone())).collect();
    let frame = Frame {
        title: "Throughput",
        y_desc: "events per second (virtual time)",
        integer_y: false,
        windows,
        steps,
    };
    over_time(&frame, &tl.t_ms, &series)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_drawn_over_another_is_named_in_the_legend() {
        let a = vec![(0.0, 1.0), (1.0, 2.0)];
        let names = legend_names(&[
            ("registrations/s", a.clone()),
            ("TVS queries/s", vec![(0.0, 0.0)]),
            ("trust lists installed/s", a),
        ]);
        assert_eq!(names[1], "TVS queries/s");
        assert_eq!(
            names[2],
            "trust lists installed/s (same as registrations/s)"
        );
    }

    #[test]
    fn legend_names_wrap_at_spaces_and_ticks_drop_trailing_zeros() {
        let lines = wrap("trust lists installed/s (same as registrations/s)", 24);
        assert!(lines.iter().all(|l| l.chars().count() <= 24), "{lines:?}");
        assert_eq!(
            lines.join(" "),
            "trust lists installed/s (same as registrations/s)"
        );
        assert_eq!(number_label(20.0), "20");
        assert_eq!(number_label(2.5), "2.5");
        assert_eq!(fault_tag(0), "A");
        assert_eq!(fault_tag(30), "F31");
    }

    #[test]
    fn phone_axes_carry_whole_numbers_only() {
        let tl = Timeline {
            t_ms: vec![1000, 2000, 3000],
            states: [("Registered".to_string(), vec![0, 1, 3])].into(),
            rates: Default::default(),
        };
        let svg = states_svg(&tl, &[], &[]).unwrap();
        // The y tick labels (right-aligned against the axis) of 3 phones: whole numbers.
        let y_ticks: Vec<&str> = svg
            .split("<text ")
            .filter(|t| t.contains("text-anchor=\"end\""))
            .filter_map(|t| t.split('>').nth(1))
            .map(|t| t.trim_end_matches("</text").trim())
            .collect();
        assert!(y_ticks.contains(&"3"), "{y_ticks:?}");
        assert!(
            y_ticks.iter().all(|t| t.parse::<u64>().is_ok()),
            "{y_ticks:?}"
        );
        assert!(svg.contains("Registered"));
    }
}
