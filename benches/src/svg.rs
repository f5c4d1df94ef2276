//! A small SVG line-chart writer (no dependencies, no fonts to embed: viewers render the text).

use std::fmt::Write;

/// One line (with point markers) on a chart.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(f64, f64)>,
    /// Draw only the markers (a single highlighted point, for instance).
    pub markers_only: bool,
}

/// A chart: linear y from 0, linear or log10 x.
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub series: Vec<Series>,
}

const W: f64 = 720.0;
const H: f64 = 420.0;
const L: f64 = 70.0;
const R: f64 = 190.0;
const T: f64 = 40.0;
const B: f64 = 55.0;

fn nice_step(range: f64) -> f64 {
    let raw = range / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let n = raw / mag;
    let f = if n < 1.5 {
        1.0
    } else if n < 3.0 {
        2.0
    } else if n < 7.0 {
        5.0
    } else {
        10.0
    };
    f * mag
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

impl Chart {
    pub fn render(&self) -> String {
        let pts = self.series.iter().flat_map(|s| s.points.iter());
        let tx = |x: f64| if self.log_x { x.max(1e-9).log10() } else { x };
        let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0f64);
        for &(x, y) in pts {
            if x.is_finite() && y.is_finite() {
                x0 = x0.min(tx(x));
                x1 = x1.max(tx(x));
                y1 = y1.max(y);
            }
        }
        if x0 > x1 {
            (x0, x1) = (0.0, 1.0);
        }
        if self.log_x {
            x0 = x0.floor();
            x1 = x1.ceil().max(x0 + 1.0);
        } else {
            x0 = x0.min(0.0);
            if x1 <= x0 {
                x1 = x0 + 1.0;
            }
        }
        let ystep = nice_step(if y1 > 0.0 { y1 } else { 1.0 });
        let ymax = (y1 / ystep).ceil().max(1.0) * ystep;
        let px = |x: f64| L + (tx(x) - x0) / (x1 - x0) * (W - L - R);
        let py = |y: f64| H - B - y / ymax * (H - T - B);
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="14" font-weight="bold">{}</text>"#,
            (L + W - R) / 2.0,
            esc(&self.title)
        );
        // Grid and ticks.
        let mut y = 0.0;
        while y <= ymax + ystep / 2.0 {
            let _ = writeln!(
                s,
                r##"<line x1="{L}" y1="{py:.1}" x2="{x2}" y2="{py:.1}" stroke="#ddd"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{label}</text>"##,
                py = py(y),
                x2 = W - R,
                tx = L - 6.0,
                ty = py(y) + 4.0,
                label = fmt_num(y)
            );
            y += ystep;
        }
        let xticks: Vec<f64> = if self.log_x {
            (x0 as i32..=x1 as i32).map(|e| 10f64.powi(e)).collect()
        } else {
            let step = nice_step(x1 - x0);
            let mut v = Vec::new();
            let mut x = (x0 / step).ceil() * step;
            while x <= x1 + step / 2.0 {
                v.push(x);
                x += step;
            }
            v
        };
        for x in xticks {
            let _ = writeln!(
                s,
                r##"<line x1="{p:.1}" y1="{T}" x2="{p:.1}" y2="{yb}" stroke="#eee"/><text x="{p:.1}" y="{ty}" text-anchor="middle">{label}</text>"##,
                p = px(x),
                yb = H - B,
                ty = H - B + 16.0,
                label = fmt_num(x)
            );
        }
        let _ = writeln!(
            s,
            r##"<rect x="{L}" y="{T}" width="{w}" height="{h}" fill="none" stroke="#444"/>"##,
            w = W - L - R,
            h = H - T - B
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            (L + W - R) / 2.0,
            H - 14.0,
            esc(&self.x_label)
        );
        let _ = writeln!(
            s,
            r#"<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"#,
            (T + H - B) / 2.0,
            (T + H - B) / 2.0,
            esc(&self.y_label)
        );
        for (i, ser) in self.series.iter().enumerate() {
            let pts: Vec<(f64, f64)> = ser
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            if !ser.markers_only && pts.len() > 1 {
                let path: Vec<String> = pts
                    .iter()
                    .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
                    .collect();
                let _ = writeln!(
                    s,
                    r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
                    ser.color,
                    path.join(" ")
                );
            }
            let r = if ser.markers_only { 6.0 } else { 3.5 };
            for &(x, y) in &pts {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="{r}" fill="{}"/>"#,
                    px(x),
                    py(y),
                    ser.color
                );
            }
            let ly = T + 10.0 + 20.0 * i as f64;
            let lx = W - R + 14.0;
            let _ = writeln!(
                s,
                r#"<rect x="{lx}" y="{}" width="14" height="4" fill="{}"/><text x="{}" y="{}">{}</text>"#,
                ly - 2.0,
                ser.color,
                lx + 20.0,
                ly + 4.0,
                esc(&ser.name)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}
