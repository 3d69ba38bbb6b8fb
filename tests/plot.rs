//! Charts drawn by `mrtsnap::plot`: the SVG's text, the PNG's size and the
//! colours at known places, and inputs that must not panic.

use std::path::Path;

use mrtsnap::plot::{self, Chart, Format, Layout, PlotError, Series, BACKGROUND, MISSING, SHADE, TITLE_HEIGHT};

/// 2014-12-22T00:00Z.
const START: u32 = 1_419_206_400;
/// The outage: values are 0 from 16:15 to 01:45 the next day (both bins included).
const OUT_FROM: u32 = START + 16 * 3600 + 15 * 60;
const OUT_TO: u32 = START + 86_400 + 3600 + 45 * 60;
/// No data from 2014-12-23T12:00Z to 14:00Z.
const GAP: (u32, u32) = (START + 86_400 + 12 * 3600, START + 86_400 + 14 * 3600);

/// Two days at 5-min bins, 4.0 except 0.0 in the outage, `None` in the gap.
fn points() -> Vec<(u32, Option<f64>)> {
    (START..START + 2 * 86_400)
        .step_by(300)
        .map(|t| match t {
            _ if (GAP.0..GAP.1).contains(&t) => (t, None),
            _ if (OUT_FROM..=OUT_TO).contains(&t) => (t, Some(0.0)),
            _ => (t, Some(4.0)),
        })
        .collect()
}

fn chart() -> Chart {
    Chart {
        title: "AS131279 — route-views2, rrc00".into(),
        y_label: "/24s visible to ≥50% of full-feed peer ASNs".into(),
        series: vec![
            Series {
                label: "AS131279".into(),
                points: points(),
            },
            Series {
                label: "AS131279 (rrc00)".into(),
                points: points(),
            },
        ],
        shaded: vec![(OUT_FROM, OUT_TO + 300)],
        missing: vec![GAP],
    }
}

#[test]
fn svg_has_root_title_and_time_labels() {
    let svg = String::from_utf8(plot::render(&chart(), Format::Svg, 1200, 500).unwrap()).unwrap();
    let root = svg.find("<svg").expect("no <svg root");
    assert!(svg[..root].trim().is_empty(), "{}", &svg[..root]);
    assert!(svg.trim_end().ends_with("</svg>"));
    let texts = texts(&svg);
    for text in [
        "AS131279 — route-views2, rrc00",
        "/24s visible to ≥50% of full-feed peer ASNs",
        "time (UTC)",
    ] {
        assert!(texts.contains(&text), "no text {text:?} in {texts:?}");
    }
    // Two days: 6-hour ticks read MM-DD HH:MM; the y ticks are whole /24s.
    let ticks: Vec<String> = (0..8).map(|i| format!("12-{} {:02}:00", 22 + i / 4, i % 4 * 6)).collect();
    assert_eq!(texts[3..8], ["0", "1", "2", "3", "4"]);
    assert_eq!(texts[8..16], ticks);
    // The legend names both series.
    assert_eq!(texts[16..], ["AS131279", "AS131279 (rrc00)"]);
}

/// The contents of the `<text>` elements, in order, trimmed.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            t.split_once('>')
                .and_then(|(_, rest)| rest.split_once("</text>"))
                .expect("unclosed <text")
                .0
                .trim()
        })
        .collect()
}

fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn pixel(rgb: &[u8], width: u32, x: i32, y: i32) -> (u8, u8, u8) {
    let i = (y as usize * width as usize + x as usize) * 3;
    (rgb[i], rgb[i + 1], rgb[i + 2])
}

#[test]
fn png_size_colours_and_title() {
    let (w, h) = (1000, 420);
    let chart = chart();
    let (width, height, rgb) = decode(&plot::render(&chart, Format::Png, w, h).unwrap());
    assert_eq!((width, height), (w, h));
    let l = Layout::new(&chart, w, h).unwrap();
    assert_eq!(l.x_range, (i64::from(START), i64::from(START + 2 * 86_400 - 300)));
    assert_eq!(l.y_range.0, 0.0);
    assert_eq!(l.y_range.1, 4.0 * 1.1);
    let mid_y = (l.top + l.bottom) / 2;
    let mid = |a: u32, b: u32| (l.x(a) + l.x(b)) / 2;
    assert_eq!(pixel(&rgb, w, mid(OUT_FROM, OUT_TO), mid_y), SHADE);
    assert_eq!(pixel(&rgb, w, mid(GAP.0, GAP.1), mid_y), MISSING);
    // 2014-12-22 08:00, between the 06:00 and 12:00 ticks, no vertical grid.
    assert_eq!(pixel(&rgb, w, l.x(START + 8 * 3600), mid_y), BACKGROUND);
    // Outside the plotting area, below the title: the background.
    assert_eq!(pixel(&rgb, w, 2, h as i32 / 2), BACKGROUND);
    let title_ink = (0..TITLE_HEIGHT as i32)
        .flat_map(|y| (0..w as i32).map(move |x| (x, y)))
        .filter(|&(x, y)| pixel(&rgb, w, x, y) != BACKGROUND)
        .count();
    assert!(title_ink > 200, "title pixels drawn: {title_ink}");
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let none = Series {
        label: "none".into(),
        points: vec![(START, None), (START + 300, None)],
    };
    let odd = Series {
        label: "odd".into(),
        points: vec![
            (START, Some(f64::NAN)),
            (START + 60, Some(f64::INFINITY)),
            (START + 120, Some(f64::MAX)),
            (START + 180, Some(-f64::MAX)),
            (START, Some(1.0)),
        ],
    };
    let empty = Series::default();
    let charts = [
        Chart::default(),
        Chart {
            series: vec![empty.clone()],
            ..Chart::default()
        },
        Chart {
            series: vec![none.clone()],
            ..Chart::default()
        },
        Chart {
            series: vec![empty, none],
            shaded: vec![(5, 1), (0, u32::MAX)],
            missing: vec![(u32::MAX, u32::MAX)],
            ..Chart::default()
        },
        Chart {
            series: vec![odd.clone(), odd],
            title: "<&>\"'\u{0}漢\u{202e}".into(),
            ..Chart::default()
        },
        Chart {
            series: vec![
                Series {
                    label: "x".repeat(500),
                    points: points()
                };
                60
            ],
            title: "t".repeat(5000),
            y_label: "y".repeat(5000),
            ..Chart::default()
        },
    ];
    for chart in &charts {
        for format in [Format::Svg, Format::Png] {
            for (w, h) in [plot::MIN_SIZE, (640, 480)] {
                let bytes = plot::render(chart, format, w, h).unwrap();
                assert!(!bytes.is_empty());
            }
        }
        let l = Layout::new(chart, 640, 480).unwrap();
        assert!(l.x_range.0 < l.x_range.1 && l.y_range.0 < l.y_range.1, "{l:?}");
    }
    assert_eq!(Layout::new(&Chart::default(), 640, 480).unwrap().x_range, (0, 3600));
    for (w, h) in [(0, 0), (199, 500), (1200, 159), (8193, 500)] {
        assert!(
            matches!(plot::render(&chart(), Format::Png, w, h), Err(PlotError::Draw(_))),
            "{w}x{h}"
        );
    }
}

#[test]
fn formats_by_extension() {
    let cases = [
        ("a.svg", Some(Format::Svg)),
        ("b.PNG", Some(Format::Png)),
        ("c.Svg", Some(Format::Svg)),
        ("d.jpg", None),
        ("svg", None),
        (".png", None),
    ];
    for (name, want) in cases {
        assert_eq!(Format::from_path(Path::new(name)), want, "{name}");
    }
}

#[test]
fn write_renames_into_place_and_refuses_unknown_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("chart.jpg");
    let err = plot::write(&chart(), &bad).unwrap_err();
    assert!(matches!(err, PlotError::UnknownExtension(ref p) if p == &bad), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    for name in ["chart.svg", "chart.png"] {
        plot::write(&chart(), &dir.path().join(name)).unwrap();
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["chart.png", "chart.svg"]);
    let (w, h, _) = decode(&std::fs::read(dir.path().join("chart.png")).unwrap());
    assert_eq!((w, h), plot::DEFAULT_SIZE);

    let missing_dir = dir.path().join("no/such/dir/chart.svg");
    assert!(matches!(plot::write(&chart(), &missing_dir), Err(PlotError::Io { .. })));
}
