//! Timeline charts: how many /24s of an origin are visible over time, with
//! outage events shaded (feature `plot`).
//!
//! A [`Chart`] holds one or more [`Series`] of `(time, value)` points; the
//! first is the headline, drawn thicker in a stronger colour. [`render()`]
//! draws it as SVG or PNG bytes, [`write()`] to a file named `*.svg` or `*.png`.
//!
//! What is drawn, back to front:
//!
//! - the title, centred in a band [`TITLE_HEIGHT`] pixels high;
//! - the axes: x is time in UTC (label "time (UTC)"; ticks on round
//!   minutes, hours or days, read `HH:MM` within a day, `MM-DD HH:MM` up to
//!   ten days, `YYYY-MM-DD` beyond), y runs from 0 (or the least value, if
//!   negative) to a tenth above the greatest value, at least 1, with light
//!   horizontal grid lines;
//! - spans with no data ([`Chart::missing`]) in [`MISSING`] grey, then
//!   outage events ([`Chart::shaded`]) in [`SHADE`] red, full height;
//! - the series as lines, broken wherever a point is `None`, NaN or
//!   infinite (a lone point between gaps is a dot);
//! - a legend of the series' labels, top right, when there is more than one.
//!
//! The plotting area is placed by fixed margins ([`Layout`]), so a pixel of
//! a PNG can be traced to a time. The PNG text is drawn with DejaVu Sans,
//! embedded (`assets/fonts`, Bitstream Vera license); the SVG names the
//! generic `sans-serif` family and leaves the glyphs to the viewer.
//!
//! # Panics
//!
//! Never: empty charts draw empty axes (over the times given, or one hour
//! from 0 when there are none), and bad sizes are an error.

use std::fmt;
use std::io::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Background of the image.
pub const BACKGROUND: (u8, u8, u8) = (255, 255, 255);
/// Fill of the [`Chart::shaded`] spans (outage events).
pub const SHADE: (u8, u8, u8) = (250, 205, 205);
/// Fill of the [`Chart::missing`] spans (no data).
pub const MISSING: (u8, u8, u8) = (225, 225, 225);
/// Colour of the headline series (the first).
pub const HEADLINE: (u8, u8, u8) = (20, 60, 160);
/// Colours of the other series, in turn.
pub const PALETTE: [(u8, u8, u8); 5] = [(230, 120, 20), (40, 150, 60), (150, 60, 170), (120, 120, 120), (0, 160, 170)];
/// Height in pixels of the title band at the top.
pub const TITLE_HEIGHT: u32 = 40;
/// Width and height of [`write()`]'s images.
pub const DEFAULT_SIZE: (u32, u32) = (1200, 500);
/// Smallest image [`render()`] draws.
pub const MIN_SIZE: (u32, u32) = (200, 160);
/// Largest width or height [`render()`] draws.
pub const MAX_SIDE: u32 = 8192;

const MARGIN: u32 = 10;
/// Room for the last x label, centred on the right edge.
const MARGIN_RIGHT: u32 = 40;
const X_LABEL_AREA: u32 = 50;
const Y_LABEL_AREA: u32 = 90;
const FAMILY: &str = "sans-serif";
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// One line of a plot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Name in the legend.
    pub label: String,
    /// `(Unix time, value)` in time order; `None` is no data: the line breaks.
    pub points: Vec<(u32, Option<f64>)>,
}

/// A timeline chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chart {
    /// Text of the title band.
    pub title: String,
    /// Description of the y axis.
    pub y_label: String,
    /// The lines; the first is the headline.
    pub series: Vec<Series>,
    /// `[start, end)` spans shaded in [`SHADE`] (outage events).
    pub shaded: Vec<(u32, u32)>,
    /// `[start, end)` spans with no data, shaded in [`MISSING`].
    pub missing: Vec<(u32, u32)>,
}

/// An image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics (text).
    Svg,
    /// An 8-bit RGB PNG.
    Png,
}

impl Format {
    /// The format of a file name's extension, `.svg` or `.png` in any case.
    pub fn from_path(p: &Path) -> Option<Format> {
        let ext = p.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("svg") {
            Some(Format::Svg)
        } else if ext.eq_ignore_ascii_case("png") {
            Some(Format::Png)
        } else {
            None
        }
    }
}

/// Why a chart was not drawn or written.
#[derive(Debug)]
pub enum PlotError {
    /// The file name ends neither in `.svg` nor in `.png`.
    UnknownExtension(PathBuf),
    /// The drawing failed, or the size is out of range.
    Draw(String),
    /// Writing the file failed.
    Io {
        /// The file written (the temporary one when the write failed).
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::UnknownExtension(p) => {
                write!(f, "{}: unknown chart format (the name must end in .svg or .png)", p.display())
            }
            PlotError::Draw(m) => write!(f, "drawing the chart: {m}"),
            PlotError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for PlotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlotError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn draw_err(e: impl fmt::Display) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// Where [`render()`] puts the plotting area of a chart and what it spans.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layout {
    /// Pixel columns of the plotting area, `left..right`.
    pub left: i32,
    /// End (exclusive) of the plotting area's columns.
    pub right: i32,
    /// Pixel rows of the plotting area, `top..bottom`.
    pub top: i32,
    /// End (exclusive) of the plotting area's rows.
    pub bottom: i32,
    /// Times at the left and right edges (Unix seconds).
    pub x_range: (i64, i64),
    /// Values at the bottom and top edges.
    pub y_range: (f64, f64),
}

impl Layout {
    /// The layout of `chart` in a `width` × `height` image; `None` when the
    /// size is outside [`MIN_SIZE`]..=[`MAX_SIDE`].
    pub fn new(chart: &Chart, width: u32, height: u32) -> Option<Layout> {
        if width < MIN_SIZE.0 || height < MIN_SIZE.1 || width > MAX_SIDE || height > MAX_SIDE {
            return None;
        }
        let points = chart.series.iter().flat_map(|s| s.points.iter());
        let times = points.clone().map(|p| p.0);
        let spans = chart.shaded.iter().chain(&chart.missing).flat_map(|s| [s.0, s.1]);
        let (lo, hi) = match (times.clone().min(), times.max()) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => (spans.clone().min().unwrap_or(0), spans.max().unwrap_or(0)),
        };
        let (lo, hi) = (i64::from(lo), i64::from(hi));
        let values = points.filter_map(|p| p.1).filter(|v| v.is_finite());
        let (vmin, vmax) = values.fold((0f64, 0f64), |(a, b), v| (a.min(v), b.max(v)));
        let pad = |v: f64| (v * 1.1).clamp(-f64::MAX / 4.0, f64::MAX / 4.0);
        let (w, h) = (width as i32, height as i32);
        let (m, top) = (MARGIN as i32, TITLE_HEIGHT as i32);
        Some(Layout {
            left: m + Y_LABEL_AREA as i32,
            right: w - MARGIN_RIGHT as i32,
            top: top + m,
            bottom: h - m - X_LABEL_AREA as i32,
            x_range: (lo, if hi > lo { hi } else { lo + 3600 }),
            y_range: (pad(vmin), pad(vmax).max(1.0)),
        })
    }

    /// The pixel column of a time (outside the area for times outside the range).
    pub fn x(&self, t: u32) -> i32 {
        TimeAxis(self.x_range.0, self.x_range.1).map(&i64::from(t), (self.left, self.right))
    }
}

/// Tick steps of the time axis in minutes: 1 minute to 12 hours, 1, 2, 7,
/// 30 and 90 days, 1, 10 and 50 years of 365 days.
const STEP_MINUTES: [i64; 18] = [
    1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10_080, 43_200, 129_600, 525_600, 5_256_000, 26_280_000,
];

/// The x axis: Unix seconds, ticks on round UTC steps.
struct TimeAxis(i64, i64);

impl Ranged for TimeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = i64;

    fn map(&self, v: &i64, limit: (i32, i32)) -> i32 {
        let frac = (v - self.0) as f64 / (self.1 - self.0).max(1) as f64;
        let px = (frac * f64::from(limit.1 - limit.0)).round();
        limit.0.saturating_add(px.clamp(-1e6, 1e6) as i32)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<i64> {
        let most = hint.max_num_points() as i64;
        let span = self.1 - self.0;
        let Some(step) = STEP_MINUTES.iter().map(|m| m * 60).find(|&s| span / s < most) else {
            return Vec::new();
        };
        let first = self.0 + (step - self.0.rem_euclid(step)) % step;
        (0..).map(|i| first + i * step).take_while(|&t| t <= self.1).collect()
    }

    fn range(&self) -> Range<i64> {
        self.0..self.1
    }
}

/// The x tick label of `t` on an axis spanning `span` seconds.
fn time_label(t: i64, span: i64) -> String {
    let (_, m, d) = crate::fmt::civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    match span {
        ..=86_400 => format!("{:02}:{:02}", s / 3600, s / 60 % 60),
        86_401..=864_000 => format!("{m:02}-{d:02} {:02}:{:02}", s / 3600, s / 60 % 60),
        _ => crate::fmt::utc_date(t),
    }
}

/// The y tick label: up to three decimals, trailing zeros dropped.
fn value_label(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Draw `chart` as a `width` × `height` image and return the file's bytes.
///
/// # Errors
///
/// [`PlotError::Draw`] when the size is outside [`MIN_SIZE`]..=[`MAX_SIDE`]
/// or plotters fails.
pub fn render(chart: &Chart, format: Format, width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    let layout = Layout::new(chart, width, height).ok_or_else(|| {
        PlotError::Draw(format!(
            "image size {width}x{height} outside {}x{}..={MAX_SIDE}x{MAX_SIDE}",
            MIN_SIZE.0, MIN_SIZE.1
        ))
    })?;
    match format {
        Format::Svg => {
            let mut svg = String::new();
            draw(
                SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area(),
                chart,
                &layout,
            )?;
            Ok(svg.into_bytes())
        }
        Format::Png => {
            let mut rgb = vec![0u8; width as usize * height as usize * 3];
            draw(
                BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area(),
                chart,
                &layout,
            )?;
            let mut png = Vec::new();
            let mut enc = png::Encoder::new(&mut png, width, height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(draw_err)?;
            w.write_image_data(&rgb).map_err(draw_err)?;
            w.finish().map_err(draw_err)?;
            Ok(png)
        }
    }
}

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Draw onto `root`; returns the plotting area's pixel ranges (for the tests).
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
    layout: &Layout,
) -> Result<(Range<i32>, Range<i32>), PlotError> {
    // plotters keeps its fonts in a process-wide table: register ours once.
    static FONT_READY: OnceLock<bool> = OnceLock::new();
    if !*FONT_READY.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok()) {
        return Err(PlotError::Draw("the embedded font does not load".into()));
    }
    root.fill(&rgb(BACKGROUND)).map_err(draw_err)?;
    let (top, body) = root.split_vertically(TITLE_HEIGHT);
    let width = root.dim_in_pixel().0 as i32;
    let title = (FAMILY, 26).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
    top.draw_text(&chart.title, &title, (width / 2, TITLE_HEIGHT as i32 / 2))
        .map_err(draw_err)?;

    let (x0, x1) = layout.x_range;
    let (y0, y1) = layout.y_range;
    let mut ctx = ChartBuilder::on(&body)
        .margin(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(TimeAxis(x0, x1), y0..y1)
        .map_err(draw_err)?;
    let span = x1 - x0;
    let x_fmt = |t: &i64| time_label(*t, span);
    let y_fmt = |v: &f64| value_label(*v);
    ctx.configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .bold_line_style(BLACK.mix(0.12))
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc("time (UTC)")
        .y_desc(chart.y_label.as_str())
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(draw_err)?;

    for (spans, colour) in [(&chart.missing, MISSING), (&chart.shaded, SHADE)] {
        let boxes = spans.iter().filter_map(|&(a, b)| {
            let (a, b) = (i64::from(a).max(x0), i64::from(b).min(x1));
            (a < b).then(|| Rectangle::new([(a, y0), (b, y1)], rgb(colour).filled()))
        });
        ctx.draw_series(boxes).map_err(draw_err)?;
    }

    for (i, series) in chart.series.iter().enumerate() {
        let (colour, stroke) = match i {
            0 => (rgb(HEADLINE), 2),
            _ => (rgb(PALETTE[(i - 1) % PALETTE.len()]), 1),
        };
        let style = colour.stroke_width(stroke);
        let runs: Vec<Vec<(i64, f64)>> = series
            .points
            .split(|p| !p.1.is_some_and(f64::is_finite))
            .map(|run| run.iter().filter_map(|&(t, v)| Some((i64::from(t), v?))).collect())
            .collect();
        let dots: Vec<(i64, f64)> = runs.iter().filter(|r| r.len() == 1).map(|r| r[0]).collect();
        ctx.draw_series(dots.into_iter().map(|p| Circle::new(p, stroke + 1, colour.filled())))
            .map_err(draw_err)?;
        let lines = runs.into_iter().filter(|r| r.len() > 1).map(|r| PathElement::new(r, style));
        let anno = ctx.draw_series(lines).map_err(draw_err)?;
        if chart.series.len() > 1 {
            anno.label(series.label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
    }
    if chart.series.len() > 1 {
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE)
            .border_style(BLACK)
            .label_font((FAMILY, 15))
            .draw()
            .map_err(draw_err)?;
    }
    let area = ctx.plotting_area().get_pixel_range();
    root.present().map_err(draw_err)?;
    Ok(area)
}

/// Draw `chart` at [`DEFAULT_SIZE`] into `path`, in the format of its
/// extension. The image goes to a temporary file in the same directory,
/// renamed over `path` once complete: `path` is never half written.
///
/// # Errors
///
/// [`PlotError::UnknownExtension`] (nothing is written), a drawing failure,
/// or the I/O error of the write or the rename (the temporary file removed).
pub fn write(chart: &Chart, path: &Path) -> Result<(), PlotError> {
    let (Some(format), Some(name)) = (Format::from_path(path), path.file_name()) else {
        return Err(PlotError::UnknownExtension(path.to_path_buf()));
    };
    let bytes = render(chart, format, DEFAULT_SIZE.0, DEFAULT_SIZE.1)?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    tmp_name.push(format!(".{}.{serial}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(&bytes)?;
        f.sync_all()
    });
    let result = written
        .map_err(|source| PlotError::Io { path: tmp.clone(), source })
        .and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|source| PlotError::Io {
                path: path.to_path_buf(),
                source,
            })
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_the_drawn_area() {
        let chart = Chart {
            series: vec![Series {
                label: "a".into(),
                points: vec![(0, Some(3.0))],
            }],
            ..Chart::default()
        };
        for (w, h) in [MIN_SIZE, DEFAULT_SIZE, (777, 333)] {
            let l = Layout::new(&chart, w, h).unwrap();
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            let (xs, ys) = draw(root, &chart, &l).unwrap();
            assert_eq!((xs, ys), (l.left..l.right, l.top..l.bottom), "{w}x{h}");
        }
    }

    #[test]
    fn ticks_and_labels() {
        let day = 1_419_206_400; // 2014-12-22T00:00Z
        assert_eq!(time_label(day + 58_500, 3600), "16:15");
        assert_eq!(time_label(day + 57_600, 2 * 86_400), "12-22 16:00");
        assert_eq!(time_label(day, 30 * 86_400), "2014-12-22");
        let ticks = TimeAxis(day + 1, day + 2 * 86_400).key_points(10usize);
        assert_eq!(ticks, (1..=8).map(|i| day + i * 21_600).collect::<Vec<_>>());
        assert_eq!(TimeAxis(0, i64::from(u32::MAX)).key_points(10usize).len(), 3);
        assert_eq!(TimeAxis(0, 3600).key_points(0usize), Vec::<i64>::new());
        assert_eq!([0.5, 4.0, -0.0, 1.25].map(value_label), ["0.5", "4", "0", "1.25"]);
    }
}
