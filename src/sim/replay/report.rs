//! `--report report.html`: one self-contained page (no script, font or style from anywhere
//! else) with the replay's figures and three charts drawn here as inline SVG: the mean wait
//! per queue over the day, the service level per queue per interval, and the occupancy of the
//! staffed workers. With `--compare` both configurations share each chart's axes, the second
//! dashed.
//!
//! A small inline script counts the lines drawn in each chart into `data-` attributes of
//! `<body>` (and any script error into `data-errors`), so a headless browser's DOM says
//! whether the page loaded and drew.

use std::fmt::Write as _;

use super::Outcome;
use super::stats::{INTERVAL_MS, IntervalTally};

/// Each chart has at most this many points per line; longer replays merge intervals.
const MAX_POINTS: usize = 192;
/// Queue colours, in order (Okabe–Ito, readable by colour-blind eyes).
const COLOURS: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 40.0;

/// One line of a chart: its label, colour, whether dashed, and its points (x in hours; `None`
/// where there is nothing to show, which breaks the line).
struct Line {
    label: String,
    colour: &'static str,
    dashed: bool,
    points: Vec<Option<f64>>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page for `runs` (each a name and its outcome, the first the baseline).
pub fn html(runs: &[(String, &Outcome)]) -> String {
    let intervals = runs
        .iter()
        .flat_map(|(_, outcome)| {
            outcome
                .series
                .queues
                .iter()
                .map(Vec::len)
                .chain([outcome.series.busy_ms.len()])
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let merge = intervals.div_ceil(MAX_POINTS);
    let points = intervals.div_ceil(merge);
    #[allow(clippy::cast_precision_loss)]
    let hours_per_point = (merge as f64) * (INTERVAL_MS as f64) / 3_600_000.0;
    let mut waits = Vec::new();
    let mut levels = Vec::new();
    let mut occupancy = Vec::new();
    for (run, (name, outcome)) in runs.iter().enumerate() {
        let dashed = run > 0;
        for (q, (queue, series)) in outcome
            .queues
            .iter()
            .zip(&outcome.series.queues)
            .enumerate()
        {
            if queue.offered == 0 {
                continue;
            }
            let merged = merged(series, merge, points);
            let label = if runs.len() > 1 {
                format!("{} ({name})", queue.friendly_name)
            } else {
                queue.friendly_name.clone()
            };
            let colour = COLOURS[q % COLOURS.len()];
            #[allow(clippy::cast_precision_loss)]
            waits.push(Line {
                label: label.clone(),
                colour,
                dashed,
                points: merged
                    .iter()
                    .map(|i| {
                        (i.answered > 0).then(|| i.wait_ms as f64 / i.answered as f64 / 1000.0)
                    })
                    .collect(),
            });
            #[allow(clippy::cast_precision_loss)]
            levels.push(Line {
                label,
                colour,
                dashed,
                points: merged
                    .iter()
                    .map(|i| {
                        (i.offered > 0).then(|| 100.0 * i.answered_within as f64 / i.offered as f64)
                    })
                    .collect(),
            });
        }
        let staffed = outcome.series.staffed;
        #[allow(clippy::cast_precision_loss)]
        occupancy.push(Line {
            label: if runs.len() > 1 {
                format!("all staffed workers ({name})")
            } else {
                "all staffed workers".to_owned()
            },
            colour: COLOURS[COLOURS.len() - 1],
            dashed,
            points: (0..points)
                .map(|p| {
                    let busy: u64 = outcome
                        .series
                        .busy_ms
                        .iter()
                        .skip(p * merge)
                        .take(merge)
                        .sum();
                    (staffed > 0).then(|| {
                        100.0 * busy as f64 / (staffed as f64 * merge as f64 * INTERVAL_MS as f64)
                    })
                })
                .collect(),
        });
    }
    let mut page = String::new();
    page.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>TaskRouter replay</title>\n<style>\n\
         body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}\n\
         table{border-collapse:collapse;margin:1em 0}td,th{padding:.25em .6em;text-align:right;border-bottom:1px solid #ddd}\n\
         td:first-child,th:first-child{text-align:left}svg{display:block;margin:1em 0}\n\
         .legend span{display:inline-block;margin-right:1.2em}\n</style></head>\n<body>\n\
         <h1>TaskRouter replay</h1>\n",
    );
    for (name, outcome) in runs {
        let _ = writeln!(
            page,
            "<h2>{}</h2>\n<p>{} tasks over {:.1} hours; service level: answered within {} s.</p>",
            escape(name),
            outcome.tasks,
            outcome.simulated_seconds / 3600.0,
            outcome.service_level_seconds
        );
        page.push_str(
            "<table><tr><th>queue</th><th>offered</th><th>answered</th><th>abandoned</th>\
             <th>canceled</th><th>service level</th><th>wait mean</th><th>p90</th><th>p99</th><th>max</th></tr>\n",
        );
        let rows = outcome
            .queues
            .iter()
            .chain([&outcome.overall])
            .map(|queue| (queue.friendly_name.clone(), queue))
            .chain(
                outcome
                    .filters
                    .iter()
                    .map(|filter| (format!("filter {}", filter.friendly_name), filter)),
            );
        for (name, queue) in rows {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} %</td>\
                 <td>{:.1} s</td><td>{:.1} s</td><td>{:.1} s</td><td>{:.1} s</td></tr>",
                escape(&name),
                queue.offered,
                queue.answered,
                queue.abandoned,
                queue.canceled,
                queue.service_level * 100.0,
                queue.wait_seconds.mean,
                queue.wait_seconds.p90,
                queue.wait_seconds.p99,
                queue.wait_seconds.max
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str(&chart(
        "waits",
        "Mean wait of answered tasks, by arrival interval (seconds)",
        &waits,
        hours_per_point,
        None,
    ));
    page.push_str(&chart(
        "service-level",
        "Service level by arrival interval (%)",
        &levels,
        hours_per_point,
        Some(100.0),
    ));
    page.push_str(&chart(
        "occupancy",
        "Occupancy of the staffed workers (%)",
        &occupancy,
        hours_per_point,
        Some(100.0),
    ));
    page.push_str(
        "<script>\n\
         window.addEventListener('error', function (e) {\n\
           document.body.dataset.errors = (document.body.dataset.errors || '') + e.message + ';';\n\
         });\n\
         window.addEventListener('load', function () {\n\
           document.querySelectorAll('svg[data-chart]').forEach(function (svg) {\n\
             var drawn = Array.prototype.filter.call(svg.querySelectorAll('polyline'), function (line) {\n\
               return line.points.length > 1 && line.getTotalLength() > 0;\n\
             }).length;\n\
             document.body.setAttribute('data-drawn-' + svg.dataset.chart, String(drawn));\n\
           });\n\
           document.body.setAttribute('data-loaded', 'yes');\n\
         });\n\
         </script>\n</body></html>\n",
    );
    page
}

/// `series` merged `merge` intervals to a point, `points` points.
fn merged(series: &[IntervalTally], merge: usize, points: usize) -> Vec<IntervalTally> {
    (0..points)
        .map(|p| {
            series.iter().skip(p * merge).take(merge).fold(
                IntervalTally::default(),
                |mut sum, i| {
                    sum.offered += i.offered;
                    sum.answered += i.answered;
                    sum.answered_within += i.answered_within;
                    sum.abandoned += i.abandoned;
                    sum.wait_ms += i.wait_ms;
                    sum
                },
            )
        })
        .collect()
}

/// A line chart of `lines` over hours, y from 0 to `y_max` (or the largest value).
fn chart(
    id: &str,
    title: &str,
    lines: &[Line],
    hours_per_point: f64,
    y_max: Option<f64>,
) -> String {
    let points = lines
        .iter()
        .map(|line| line.points.len())
        .max()
        .unwrap_or(1);
    #[allow(clippy::cast_precision_loss)]
    let x_max = (points as f64 * hours_per_point).max(hours_per_point);
    let largest = lines
        .iter()
        .flat_map(|line| line.points.iter().flatten())
        .fold(0.0_f64, |a, &b| a.max(b));
    let y_max = y_max.unwrap_or_else(|| nice(largest.max(1.0)));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |hours: f64| LEFT + plot_w * hours / x_max;
    let y = |value: f64| TOP + plot_h * (1.0 - value / y_max);
    let mut svg = String::new();
    let _ = writeln!(svg, "<h3>{}</h3>", escape(title));
    let _ = writeln!(
        svg,
        "<svg data-chart=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    for step in 0..=4 {
        let value = y_max * f64::from(step) / 4.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            y(value),
            y(value),
            LEFT - 6.0,
            y(value) + 4.0,
            label(value)
        );
    }
    let hour_step = nice(x_max / 8.0).max(1.0);
    let mut hour = 0.0;
    while hour <= x_max + 1e-9 {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}h</text>",
            x(hour),
            HEIGHT - BOTTOM + 16.0,
            label(hour)
        );
        hour += hour_step;
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\" stroke=\"#888\"/><line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>",
        HEIGHT - BOTTOM,
        WIDTH - RIGHT,
        HEIGHT - BOTTOM,
        HEIGHT - BOTTOM
    );
    for line in lines {
        let dash = if line.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        // One polyline per unbroken run of points.
        let mut run = String::new();
        let flush = |run: &mut String, svg: &mut String| {
            if !run.is_empty() {
                let _ = writeln!(
                    svg,
                    "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{dash} points=\"{}\"><title>{}</title></polyline>",
                    line.colour,
                    run.trim_end(),
                    escape(&line.label)
                );
                run.clear();
            }
        };
        for (index, point) in line.points.iter().enumerate() {
            match point {
                Some(value) => {
                    #[allow(clippy::cast_precision_loss)]
                    let hours = (index as f64 + 0.5) * hours_per_point;
                    let _ = write!(run, "{:.1},{:.1} ", x(hours), y(value.min(y_max)));
                }
                None => flush(&mut run, &mut svg),
            }
        }
        flush(&mut run, &mut svg);
    }
    svg.push_str("</svg>\n<p class=\"legend\">");
    for line in lines {
        let style = if line.dashed { "dashed" } else { "solid" };
        let _ = write!(
            svg,
            "<span><svg width=\"24\" height=\"10\" style=\"display:inline;margin:0\"><line x1=\"0\" x2=\"24\" y1=\"5\" y2=\"5\" stroke=\"{}\" stroke-width=\"2\"{}/></svg> {} ({style})</span>",
            line.colour,
            if line.dashed {
                " stroke-dasharray=\"6 4\""
            } else {
                ""
            },
            escape(&line.label)
        );
    }
    svg.push_str("</p>\n");
    svg
}

/// A round number at or above `value`: 1, 2 or 5 times a power of ten.
fn nice(value: f64) -> f64 {
    let power = 10_f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&candidate| candidate >= value)
        .unwrap_or(10.0 * power)
}

/// A tick label: whole numbers without decimals.
fn label(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}
