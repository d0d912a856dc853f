//! Inline SVG: one timeline panel per implementation (fault lanes, one bar per probed name, the
//! applied generation per endpoint as a step chart), all on one shared time axis so that stacked
//! panels compare directly. Also the small stacked bar of probe counts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::format::{esc, ms};
use crate::probe::ProbeClass;
use crate::summary::{ImplementationSummary, FaultResult, Flip};

/// Every probe class, good first, in legend order.
pub(super) const CLASSES: [ProbeClass; 7] = [
    ProbeClass::Current,
    ProbeClass::Stale,
    ProbeClass::Empty,
    ProbeClass::Foreign,
    ProbeClass::Nxdomain,
    ProbeClass::Servfail,
    ProbeClass::Timeout,
];

/// Colour of a probe class (also used for the probe-count bar, keyed by the class name).
pub(super) fn class_colour(name: &str) -> &'static str {
    match name {
        "current" => "#9fdcae",
        "stale" => "#f2c94c",
        "empty" => "#dc2626",
        "foreign" => "#9333ea",
        "nxdomain" => "#f97316",
        "servfail" => "#7f1d1d",
        "timeout" => "#6b7280",
        _ => "#94a3b8",
    }
}

/// Colours and marks per enactor, assigned in name order over the whole summary so that one
/// enactor looks the same in every panel.
pub(super) struct Enactors(BTreeMap<String, usize>);

const ENACTOR_COLOURS: [&str; 6] = ["#2563eb", "#db2777", "#0d9488", "#ca8a04", "#4f46e5", "#65a30d"];
const SHAPES: [&str; 4] = ["circle", "square", "triangle", "diamond"];

impl Enactors {
    pub fn new<'a>(all: impl Iterator<Item = &'a ImplementationSummary>) -> Self {
        let names: BTreeSet<String> = all.flat_map(|e| e.generations.values().flatten().map(|f| f.enactor.clone())).collect();
        Enactors(names.into_iter().enumerate().map(|(i, n)| (n, i)).collect())
    }

    fn index(&self, name: &str) -> usize {
        self.0.get(name).copied().unwrap_or(0)
    }

    pub fn colour(&self, name: &str) -> &'static str {
        ENACTOR_COLOURS[self.index(name) % ENACTOR_COLOURS.len()]
    }

    /// A marker centred on (x, y).
    pub fn mark(&self, name: &str, x: f64, y: f64, r: f64) -> String {
        let fill = self.colour(name);
        match SHAPES[self.index(name) % SHAPES.len()] {
            "square" => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"/>", x - r, y - r, 2.0 * r, 2.0 * r),
            "triangle" => format!(
                "<path d=\"M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z\" fill=\"{fill}\"/>",
                x,
                y - r * 1.2,
                x + r * 1.1,
                y + r * 0.9,
                x - r * 1.1,
                y + r * 0.9
            ),
            "diamond" => format!(
                "<path d=\"M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z\" fill=\"{fill}\"/>",
                x,
                y - r * 1.3,
                x + r * 1.3,
                y,
                x,
                y + r * 1.3,
                x - r * 1.3,
                y
            ),
            _ => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"{fill}\"/>"),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }
}

/// The shared time axis: `[0, domain_ms]` mapped onto the plot area of a `WIDTH`-wide view box.
pub(super) struct Axis {
    pub domain_ms: u64,
}

pub(super) const WIDTH: f64 = 1320.0;
const LEFT: f64 = 168.0;
const RIGHT: f64 = 150.0;
const PLOT: f64 = WIDTH - LEFT - RIGHT;

impl Axis {
    fn x(&self, t_ms: u64) -> f64 {
        LEFT + (t_ms.min(self.domain_ms) as f64 / self.domain_ms.max(1) as f64) * PLOT
    }

    /// Tick step giving about ten ticks: 1, 2 or 5 times a power of ten, in ms.
    fn step(&self) -> u64 {
        let raw = (self.domain_ms.max(1) as f64 / 10.0).max(1.0);
        let pow = 10f64.powf(raw.log10().floor());
        let m = raw / pow;
        let nice = if m <= 1.0 {
            1.0
        } else if m <= 2.0 {
            2.0
        } else if m <= 5.0 {
            5.0
        } else {
            10.0
        };
        (nice * pow) as u64
    }
}

/// The names each endpoint is probed under, grouped: endpoint -> names (e.g. "regional" ->
/// ["regional A"]). Names come from every implementation's windows; endpoints from every
/// implementation's generations, so that a clean implementation still gets its rows.
pub(super) fn layout<'a>(all: impl Iterator<Item = &'a ImplementationSummary> + Clone) -> Vec<(String, Vec<String>)> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut endpoints: BTreeSet<String> = BTreeSet::new();
    for e in all {
        names.extend(e.windows.iter().map(|w| w.name.clone()));
        names.extend(e.empty_windows.iter().map(|w| w.name.clone()));
        endpoints.extend(e.generations.keys().cloned());
    }
    for n in &names {
        endpoints.insert(endpoint_of(n).to_string());
    }
    // Endpoints in a stable order: regional before dualstack reads like the probes do, but the
    // summary has no such order, so alphabetical it is, with names ordered A before AAAA.
    endpoints
        .into_iter()
        .map(|ep| {
            let mut mine: Vec<String> = names.iter().filter(|n| endpoint_of(n) == ep).cloned().collect();
            mine.sort_by_key(|n| (n.len(), n.clone()));
            (ep, mine)
        })
        .collect()
}

fn endpoint_of(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

#[derive(Clone, Copy)]
enum Place {
    Inside,
    After,
    Before,
}

const LANE_H: f64 = 17.0;
const ROW_H: f64 = 22.0;
const BAR_H: f64 = 14.0;
const GEN_H: f64 = 58.0;
const AXIS_H: f64 = 22.0;
const CHAR_W: f64 = 6.3;

/// One implementation's timeline panel.
pub(super) fn panel(idx: usize, e: &ImplementationSummary, groups: &[(String, Vec<String>)], axis: &Axis, enactors: &Enactors) -> String {
    let mut body = String::new();
    let mut y = 4.0;

    // Fault lanes: greedy packing so that neither bars nor labels overlap.
    let faults: Vec<&FaultResult> = e.faults.iter().filter(|f| f.start_ms.is_some()).collect();
    let mut lanes: Vec<f64> = Vec::new();
    let mut placed: Vec<(usize, &FaultResult, f64, f64, String, Place)> = Vec::new();
    for f in &faults {
        let s = f.start_ms.unwrap_or(0);
        let end = f.end_ms.unwrap_or(e.run_ms);
        let (x0, x1) = (axis.x(s), axis.x(end).max(axis.x(s) + 2.0));
        let label = format!("{} · {} → {}", f.id, f.kind, f.target);
        let label_w = label.chars().count() as f64 * CHAR_W;
        // Inside the bar when it fits, else after it, else before it (near the right edge).
        let place = if x1 - x0 >= label_w + 8.0 {
            Place::Inside
        } else if x1 + 4.0 + label_w <= WIDTH - 4.0 {
            Place::After
        } else {
            Place::Before
        };
        let (from, to) = match place {
            Place::Inside => (x0, x1),
            Place::After => (x0, x1 + 4.0 + label_w),
            Place::Before => (x0 - 4.0 - label_w, x1),
        };
        let lane = lanes.iter().position(|&free| free + 6.0 <= from).unwrap_or_else(|| {
            lanes.push(f64::MIN);
            lanes.len() - 1
        });
        lanes[lane] = to;
        placed.push((lane, f, x0, x1, label, place));
    }
    let fault_top = y;
    if !lanes.is_empty() {
        let _ = write!(body, "<text x=\"{:.1}\" y=\"{:.1}\" class=\"lbl\">faults</text>", LEFT - 10.0, y + 12.0);
    }
    for (lane, f, x0, x1, label, place) in &placed {
        let ly = fault_top + *lane as f64 * (LANE_H + 3.0);
        let fill = if !f.applicable {
            "#cbd5e1"
        } else if f.fired {
            "#475569"
        } else {
            "#b91c1c"
        };
        let (tx, class) = match place {
            Place::Inside => (x0 + 5.0, "fl in"),
            Place::After => (x1 + 4.0, "fl"),
            Place::Before => (x0 - 4.0, "fl end"),
        };
        let _ = write!(
            body,
            "<g><title>{}</title><rect x=\"{x0:.1}\" y=\"{ly:.1}\" width=\"{:.1}\" height=\"{LANE_H}\" rx=\"3\" fill=\"{fill}\"/><text x=\"{tx:.1}\" y=\"{:.1}\" class=\"{class}\">{}</text></g>",
            esc(&format!(
                "{} ({}) on {}: {}..{} ms, {}{}",
                f.id,
                f.kind,
                f.target,
                f.start_ms.unwrap_or(0),
                f.end_ms.map(|t| t.to_string()).unwrap_or_else(|| "end".into()),
                if f.fired { "fired" } else { "did NOT fire" },
                if f.evidence.is_empty() { String::new() } else { format!(": {}", f.evidence) }
            )),
            x1 - x0,
            ly + 12.5,
            esc(label)
        );
    }
    y = fault_top + lanes.len() as f64 * (LANE_H + 3.0) + 6.0;
    let rows_top = y;

    // Rows: per endpoint, its names, then its generation chart.
    let mut rows = String::new();
    for (ep, names) in groups {
        if names.is_empty() {
            row(&mut rows, &format!("{ep} (all names)"), None, e, axis, y);
            y += ROW_H;
        }
        for n in names {
            row(&mut rows, n, Some(n), e, axis, y);
            y += ROW_H;
        }
        y += 2.0;
        generations(&mut rows, ep, e.generations.get(ep).map(Vec::as_slice).unwrap_or(&[]), e.run_ms, axis, enactors, y);
        y += GEN_H + 10.0;
    }
    let rows_bottom = y - 10.0;

    // Fault shading behind the rows, with dashed edges.
    let mut shade = String::new();
    for (_, _, x0, x1, _, _) in &placed {
        let _ = write!(
            shade,
            "<rect x=\"{x0:.1}\" y=\"{rows_top:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"shade\"/><line x1=\"{x0:.1}\" x2=\"{x0:.1}\" y1=\"{:.1}\" y2=\"{rows_bottom:.1}\" class=\"edge\"/><line x1=\"{x1:.1}\" x2=\"{x1:.1}\" y1=\"{:.1}\" y2=\"{rows_bottom:.1}\" class=\"edge\"/>",
            x1 - x0,
            rows_bottom - rows_top,
            fault_top + LANE_H,
            fault_top + LANE_H
        );
    }

    // Grid and axis.
    let mut grid = String::new();
    let step = axis.step();
    let mut t = 0;
    while t <= axis.domain_ms {
        let x = axis.x(t);
        let _ = write!(
            grid,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" class=\"grid\"/><text x=\"{x:.1}\" y=\"{:.1}\" class=\"tick\">{}</text>",
            rows_top,
            y + 2.0,
            y + 15.0,
            tick_label(t, step)
        );
        t += step;
    }
    // Past the end of this implementation's run (when another ran longer).
    let mut after = String::new();
    if e.run_ms < axis.domain_ms {
        let x0 = axis.x(e.run_ms);
        let _ = write!(
            after,
            "<rect x=\"{x0:.1}\" y=\"{rows_top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"url(#after{idx})\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"after\">run ended at {}</text>",
            LEFT + PLOT - x0,
            rows_bottom - rows_top,
            x0 + 6.0,
            rows_top + 12.0,
            ms(e.run_ms)
        );
    }
    let height = y + AXIS_H;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"100%\" role=\"img\" aria-label=\"timeline of {impl_}\" class=\"tl\">\
<defs><pattern id=\"after{idx}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f1f5f9\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#cbd5e1\" stroke-width=\"2\"/></pattern></defs>\
{grid}{after}{shade}{body}{rows}</svg>",
        impl_ = esc(&e.implementation)
    )
}

fn tick_label(t: u64, step: u64) -> String {
    if step >= 1000 {
        format!("{} s", t / 1000)
    } else {
        format!("{:.1} s", t as f64 / 1000.0)
    }
}

/// One name's bar: good over `[0, run_ms]`, bad windows on top, a summary in the right gutter.
fn row(out: &mut String, label: &str, name: Option<&str>, e: &ImplementationSummary, axis: &Axis, y: f64) {
    let by = y + (ROW_H - BAR_H) / 2.0;
    let _ = write!(out, "<text x=\"{:.1}\" y=\"{:.1}\" class=\"lbl\">{}</text>", LEFT - 10.0, by + 11.0, esc(label));
    let _ = write!(
        out,
        "<rect x=\"{LEFT:.1}\" y=\"{by:.1}\" width=\"{:.1}\" height=\"{BAR_H}\" fill=\"{}\"><title>{}: good (current or stale) unless marked</title></rect>",
        axis.x(e.run_ms) - LEFT,
        class_colour("current"),
        esc(label)
    );
    let mine: Vec<&crate::summary::Window> = e.windows.iter().filter(|w| Some(w.name.as_str()) == name).collect();
    let mut bad_ms = 0;
    let mut open = false;
    let mut classes: BTreeMap<&str, u64> = BTreeMap::new();
    for w in &mine {
        let end = w.end_ms.unwrap_or(e.run_ms);
        let (x0, x1) = (axis.x(w.start_ms), axis.x(end));
        let c = w.class.as_str();
        bad_ms += w.duration_ms;
        *classes.entry(c).or_default() += w.duration_ms;
        open |= w.end_ms.is_none();
        let _ = write!(
            out,
            "<rect x=\"{x0:.1}\" y=\"{by:.1}\" width=\"{:.1}\" height=\"{BAR_H}\" fill=\"{}\"><title>{}: {c} from {} ms to {} ({} ms){}</title></rect>",
            (x1 - x0).max(1.5),
            class_colour(c),
            esc(&w.name),
            w.start_ms,
            w.end_ms.map(|t| format!("{t} ms")).unwrap_or_else(|| "the end of the run, never recovered".into()),
            w.duration_ms,
            w.recovery_ms.map(|r| format!(", recovered after {r} ms")).unwrap_or_default()
        );
        if w.end_ms.is_none() {
            // An arrow head at the end: the window was still open when the run stopped.
            let _ = write!(
                out,
                "<path d=\"M{:.1} {:.1}l7 {:.1}l-7 {:.1}z\" fill=\"{}\"/>",
                x1 + 1.0,
                by,
                BAR_H / 2.0,
                BAR_H / 2.0,
                class_colour(c)
            );
        }
    }
    let gutter = LEFT + PLOT + 14.0;
    if mine.is_empty() {
        let _ = write!(out, "<text x=\"{gutter:.1}\" y=\"{:.1}\" class=\"ok\">no bad window</text>", by + 11.0);
    } else {
        let main = classes.iter().max_by_key(|(_, v)| **v).map(|(c, _)| *c).unwrap_or("bad");
        let _ = write!(
            out,
            "<text x=\"{gutter:.1}\" y=\"{:.1}\" class=\"bad\">{} {main}{}</text>",
            by + 11.0,
            ms(bad_ms),
            if open { ", open" } else { "" }
        );
    }
}

/// The applied generation of one endpoint as a step line, a mark per flip coloured by the
/// enactor that flipped it, and flips backwards circled in red.
fn generations(out: &mut String, ep: &str, flips: &[Flip], run_ms: u64, axis: &Axis, enactors: &Enactors, y: f64) {
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"lbl\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\">applied generation</text>",
        LEFT - 10.0,
        y + GEN_H / 2.0 - 2.0,
        esc(ep),
        LEFT - 10.0,
        y + GEN_H / 2.0 + 11.0
    );
    let _ = write!(out, "<rect x=\"{LEFT:.1}\" y=\"{y:.1}\" width=\"{PLOT:.1}\" height=\"{GEN_H}\" class=\"genbg\"/>");
    if flips.is_empty() {
        let _ = write!(out, "<text x=\"{:.1}\" y=\"{:.1}\" class=\"sub\" text-anchor=\"start\">no flips recorded</text>", LEFT + 8.0, y + GEN_H / 2.0 + 4.0);
        return;
    }
    let mut sorted: Vec<&Flip> = flips.iter().collect();
    sorted.sort_by_key(|f| f.t_ms);
    let lo = sorted.iter().map(|f| f.generation).min().unwrap_or(0);
    let hi = sorted.iter().map(|f| f.generation).max().unwrap_or(0).max(lo + 1);
    let gy = |g: u64| y + GEN_H - 6.0 - (g - lo) as f64 / (hi - lo) as f64 * (GEN_H - 12.0);
    let mut d = String::new();
    for (i, f) in sorted.iter().enumerate() {
        if i == 0 {
            let _ = write!(d, "M{:.1} {:.1}", axis.x(f.t_ms), gy(f.generation));
        } else {
            let _ = write!(d, "H{:.1}V{:.1}", axis.x(f.t_ms), gy(f.generation));
        }
    }
    let _ = write!(d, "H{:.1}", axis.x(run_ms));
    let _ = write!(out, "<path d=\"{d}\" class=\"step\"/>");
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"gy\">g{hi}</text><text x=\"{:.1}\" y=\"{:.1}\" class=\"gy\">g{lo}</text>",
        LEFT + PLOT + 6.0,
        gy(hi) + 4.0,
        LEFT + PLOT + 6.0,
        gy(lo) + 4.0
    );
    let mut max_seen = 0;
    let backwards = {
        let mut m = 0;
        sorted.iter().filter(|f| {
            let back = f.generation < m;
            m = m.max(f.generation);
            back
        }).count()
    };
    let mut labelled = false;
    for f in &sorted {
        let (x, fy) = (axis.x(f.t_ms), gy(f.generation));
        let back = f.generation < max_seen;
        let _ = write!(
            out,
            "<g><title>{} ms: {} flipped {} to g{}{}</title>{}",
            f.t_ms,
            esc(&f.enactor),
            esc(ep),
            f.generation,
            if back { format!(" (BACKWARDS from g{max_seen})") } else { String::new() },
            enactors.mark(&f.enactor, x, fy, 3.2)
        );
        if back {
            let _ = write!(out, "<circle cx=\"{x:.1}\" cy=\"{fy:.1}\" r=\"7\" class=\"back\"/>");
            if !labelled {
                // One label per endpoint: the first backwards flip, and how many there were.
                let more = if backwards > 1 { format!(" ({backwards} backward flips)") } else { String::new() };
                let _ = write!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" class=\"backl\">g{max_seen}→g{} at {}{more}</text>",
                    x - 10.0,
                    fy + 4.0,
                    f.generation,
                    ms(f.t_ms)
                );
                labelled = true;
            }
        }
        out.push_str("</g>");
        max_seen = max_seen.max(f.generation);
    }
}

/// A thin stacked bar of probe counts by class.
pub(super) fn counts_bar(counts: &BTreeMap<String, u64>) -> String {
    let total: u64 = counts.values().sum();
    if total == 0 {
        return String::new();
    }
    let mut x = 0.0;
    let mut out = String::from("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1000 12\" width=\"100%\" height=\"12\" preserveAspectRatio=\"none\" class=\"cbar\">");
    let order = CLASSES.iter().map(|c| c.as_str().to_string()).chain(counts.keys().filter(|k| !CLASSES.iter().any(|c| c.as_str() == k.as_str())).cloned());
    for name in order {
        let Some(n) = counts.get(&name) else { continue };
        let w = *n as f64 / total as f64 * 1000.0;
        let _ = write!(out, "<rect x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"12\" fill=\"{}\"><title>{} {n}</title></rect>", class_colour(&name), esc(&name));
        x += w;
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        for (domain, step) in [(49_349, 5_000), (10_000, 1_000), (120_000, 20_000), (900, 100), (1, 1)] {
            assert_eq!(Axis { domain_ms: domain }.step(), step, "domain {domain}");
        }
    }
}
