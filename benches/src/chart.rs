//! The SVG bar chart: per operation, ours, vodozemac and the limit side by side on a log time
//! axis. Drawn with plotters' SVG backend in pixel coordinates (no system fonts needed).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::Report;

const WIDTH: i32 = 1200;
const LABEL_RIGHT: i32 = 330;
const PLOT_LEFT: i32 = 340;
const PLOT_RIGHT: i32 = WIDTH - 120;
const TOP: i32 = 80;
const BAR: i32 = 7;
const ROW: i32 = 3 * BAR + 9;
const BOTTOM: i32 = 60;

const OURS: RGBColor = RGBColor(31, 119, 180);
const PEER: RGBColor = RGBColor(255, 127, 14);
const LIMIT: RGBColor = RGBColor(140, 140, 140);

/// Renders the chart as an SVG document.
pub fn svg(report: &Report) -> Result<String, String> {
    let rows: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.ours.is_some() || r.peer.is_some())
        .collect();
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r.ours, r.peer, r.limit])
        .flatten()
        .filter(|v| *v > 0.0)
        .collect();
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(0.0, f64::max);
    if values.is_empty() {
        return Err("nothing to chart".into());
    }
    let lo = min.log10().floor();
    let hi = max.log10().ceil().max(lo + 1.0);
    let x_of = |ns: f64| -> i32 {
        let t = (ns.max(10f64.powf(lo)).log10() - lo) / (hi - lo);
        PLOT_LEFT + (t * f64::from(PLOT_RIGHT - PLOT_LEFT)).round() as i32
    };
    let row_count = i32::try_from(rows.len()).map_err(|e| e.to_string())?;
    let height = TOP + row_count * ROW + BOTTOM;

    let mut out = String::new();
    {
        let size = (
            WIDTH as u32,
            u32::try_from(height).map_err(|e| e.to_string())?,
        );
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let err = |e: DrawingAreaErrorKind<_>| format!("chart: {e:?}");
        root.fill(&WHITE).map_err(err)?;
        let text = |size: f64| ("sans-serif", size).into_font().color(&BLACK);
        let left = Pos::new(HPos::Left, VPos::Center);
        let right = Pos::new(HPos::Right, VPos::Center);
        let center = Pos::new(HPos::Center, VPos::Top);

        root.draw(&Text::new(
            format!(
                "Time per operation, ours vs vodozemac vs limit ({} run, medians, log scale)",
                report.mode
            ),
            (20, 22),
            text(18.0).pos(left),
        ))
        .map_err(err)?;
        root.draw(&Text::new(
            "labels: ours time ÷ vodozemac time (voz), ours time ÷ limit (lim); below 1 is faster",
            (640, 50),
            text(12.0).pos(left),
        ))
        .map_err(err)?;
        for (i, (name, color)) in [
            ("ours (target-impl)", OURS),
            ("vodozemac", PEER),
            ("limit (primitives)", LIMIT),
        ]
        .into_iter()
        .enumerate()
        {
            let x = 20 + 200 * i as i32;
            root.draw(&Rectangle::new([(x, 44), (x + 14, 56)], color.filled()))
                .map_err(err)?;
            root.draw(&Text::new(name, (x + 20, 50), text(13.0).pos(left)))
                .map_err(err)?;
        }

        // Decade grid with labels.
        let axis_y = TOP + row_count * ROW + 4;
        let mut decade = lo as i32;
        while f64::from(decade) <= hi {
            for (mult, major) in [(1.0, true), (2.0, false), (5.0, false)] {
                let ns = mult * 10f64.powi(decade);
                if ns.log10() > hi + 1e-9 {
                    continue;
                }
                let x = x_of(ns);
                let grid = if major {
                    RGBColor(200, 200, 200)
                } else {
                    RGBColor(235, 235, 235)
                };
                root.draw(&PathElement::new(vec![(x, TOP - 6), (x, axis_y)], grid))
                    .map_err(err)?;
                if major {
                    root.draw(&Text::new(
                        decade_label(decade),
                        (x, axis_y + 6),
                        text(12.0).pos(center),
                    ))
                    .map_err(err)?;
                }
            }
            decade += 1;
        }
        root.draw(&Text::new(
            "time per operation (log scale)",
            ((PLOT_LEFT + PLOT_RIGHT) / 2, axis_y + 28),
            text(13.0).pos(center),
        ))
        .map_err(err)?;

        for (i, r) in rows.iter().enumerate() {
            let y0 = TOP + i as i32 * ROW;
            root.draw(&Text::new(
                r.op.label.clone(),
                (LABEL_RIGHT, y0 + ROW / 2 - 2),
                text(11.0).pos(right),
            ))
            .map_err(err)?;
            for (j, (value, color)) in [(r.ours, OURS), (r.peer, PEER), (r.limit, LIMIT)]
                .into_iter()
                .enumerate()
            {
                let Some(v) = value else { continue };
                let top = y0 + j as i32 * BAR;
                root.draw(&Rectangle::new(
                    [
                        (PLOT_LEFT, top),
                        (x_of(v).max(PLOT_LEFT + 1), top + BAR - 1),
                    ],
                    color.filled(),
                ))
                .map_err(err)?;
            }
            let note = match (r.ours_over_peer(), r.ours_over_limit()) {
                (Some(p), Some(l)) => format!("{p:.2}× voz, {l:.2}× lim"),
                (Some(p), None) => format!("{p:.2}× voz"),
                (None, Some(l)) => format!("{l:.2}× lim"),
                (None, None) => String::new(),
            };
            let end = [r.ours, r.peer, r.limit]
                .into_iter()
                .flatten()
                .map(x_of)
                .max();
            if let Some(end) = end
                && !note.is_empty()
            {
                root.draw(&Text::new(
                    note,
                    (end + 6, y0 + ROW / 2 - 2),
                    text(10.0).pos(left),
                ))
                .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// `10^decade` ns as a round label: 10 ns, 1 µs, 100 ms.
fn decade_label(decade: i32) -> String {
    let (unit, base) = match decade {
        i32::MIN..=2 => ("ns", 0),
        3..=5 => ("µs", 3),
        6..=8 => ("ms", 6),
        _ => ("s", 9),
    };
    format!("{} {unit}", 10u64.pow((decade - base).clamp(0, 9) as u32))
}
