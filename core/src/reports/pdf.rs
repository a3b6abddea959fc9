//! A tiny page writer for the printable papers, on `pdf-writer`: A4 pages of lines of
//! text in the PDF base-14 fonts (Helvetica, Helvetica-Bold), which every PDF reader
//! has, so no font file is embedded. Text is encoded as WinAnsi (Latin-1 plus the
//! dashes and quotes); a character outside it prints as `?`.
//!
//! Charts are stacked bars drawn with the PDF's own path operators (`re`, `f`), not a
//! charting crate: a bar chart is a handful of rectangles, and drawing them here keeps
//! the papers on the one well-kept crate (docs/ARCHITECTURE.md, "The papers").

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// One line of a paper.
pub(crate) enum Line {
    Title(String),
    Heading(String),
    Text(String),
    /// Cells at the given x offsets (points from the left margin).
    Row(Vec<(f32, String)>, bool),
    /// A line to sign on, with a label under it.
    Signature(String),
    /// A stacked bar chart.
    Chart(Chart),
    Gap,
}

/// A stacked bar chart: one bar per group (e.g. a week), one coloured segment per series
/// (e.g. an hour type). A segment of `None` is left out (e.g. a figure suppressed
/// because it is about fewer than 5 people) and its group label gets a `*`.
pub(crate) struct Chart {
    /// Series names with their fill colour (RGB 0..1), shown in the legend.
    pub series: Vec<(String, [f32; 3])>,
    /// Group label and one value per series.
    pub groups: Vec<(String, Vec<Option<f32>>)>,
    /// What the values are, printed by the axis (e.g. "hours").
    pub unit: String,
}

const CHART_HEIGHT: f32 = 170.0;
const CHART_BLOCK: f32 = CHART_HEIGHT + 70.0;

impl Chart {
    /// The largest stacked bar, rounded up to a readable axis maximum.
    fn axis_max(&self) -> f32 {
        let top = self
            .groups
            .iter()
            .map(|(_, v)| v.iter().flatten().sum::<f32>())
            .fold(0.0f32, f32::max);
        // 1, 2, 5, 10, 20, 50, ...: the first at or above the tallest bar.
        let mut magnitude = 1.0f32;
        loop {
            for k in [1.0, 2.0, 5.0] {
                if k * magnitude >= top {
                    return k * magnitude;
                }
            }
            magnitude *= 10.0;
        }
    }

    /// Draw the chart with its top-left corner at (x, top).
    fn draw(&self, content: &mut Content, x: f32, top: f32) {
        let width = WIDTH - 2.0 * MARGIN - 40.0;
        let (left, bottom) = (x + 40.0, top - CHART_HEIGHT);
        let max = self.axis_max();
        // Axes and the gridline at the maximum.
        content
            .set_stroke_gray(0.3)
            .set_line_width(0.6)
            .move_to(left, bottom)
            .line_to(left + width, bottom)
            .move_to(left, bottom)
            .line_to(left, top)
            .stroke();
        content
            .set_stroke_gray(0.8)
            .set_line_width(0.4)
            .move_to(left, top)
            .line_to(left + width, top)
            .stroke();
        content.set_fill_gray(0.0);
        text(content, REGULAR, 7.5, x, top - 3.0, &format_axis(max));
        text(content, REGULAR, 7.5, x, bottom - 3.0, "0");
        text(content, REGULAR, 7.5, x, top + 6.0, &self.unit);
        let n = self.groups.len().max(1) as f32;
        let slot = width / n;
        let bar = (slot * 0.7).min(40.0);
        // Label every group if they fit, else every k-th.
        let every = ((30.0 / slot).ceil() as usize).max(1);
        for (i, (label, values)) in self.groups.iter().enumerate() {
            let bx = left + slot * i as f32 + (slot - bar) / 2.0;
            let mut y = bottom;
            let mut gap = false;
            for (value, (_, rgb)) in values.iter().zip(&self.series) {
                match value {
                    Some(v) if *v > 0.0 => {
                        let h = v / max * CHART_HEIGHT;
                        content
                            .set_fill_rgb(rgb[0], rgb[1], rgb[2])
                            .rect(bx, y, bar, h)
                            .fill_nonzero();
                        y += h;
                    }
                    Some(_) => {}
                    None => gap = true,
                }
            }
            content.set_fill_gray(0.0);
            if i % every == 0 || gap {
                let l = if gap {
                    format!("{label}*")
                } else {
                    label.clone()
                };
                text(content, REGULAR, 6.5, bx, bottom - 10.0, &l);
            }
        }
        // The legend under the axis.
        let mut lx = left;
        let ly = bottom - 30.0;
        for (name, rgb) in &self.series {
            content
                .set_fill_rgb(rgb[0], rgb[1], rgb[2])
                .rect(lx, ly, 9.0, 9.0)
                .fill_nonzero();
            content.set_fill_gray(0.0);
            text(content, REGULAR, 8.5, lx + 13.0, ly + 1.0, name);
            lx += 20.0 + 5.0 * name.len() as f32;
        }
        if self
            .groups
            .iter()
            .any(|(_, v)| v.iter().any(Option::is_none))
        {
            text(
                content,
                REGULAR,
                7.5,
                left,
                ly - 14.0,
                "* a part of the bar is left out: it is about fewer than 5 people",
            );
        }
    }
}

fn format_axis(v: f32) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Lay the lines out on as many A4 pages as they need; every page carries `footer`
/// and its page number.
pub(crate) fn render(title: &str, footer: &str, lines: &[Line]) -> Vec<u8> {
    let mut pages: Vec<Content> = Vec::new();
    let mut content = Content::new();
    let mut y = HEIGHT - MARGIN;
    for line in lines {
        let height = match line {
            Line::Title(_) => 26.0,
            Line::Heading(_) => 22.0,
            Line::Signature(_) => 56.0,
            Line::Chart(_) => CHART_BLOCK,
            Line::Gap => 10.0,
            _ => 15.0,
        };
        if y - height < MARGIN + 30.0 {
            pages.push(std::mem::replace(&mut content, Content::new()));
            y = HEIGHT - MARGIN;
        }
        y -= height;
        match line {
            Line::Title(t) => text(&mut content, BOLD, 16.0, MARGIN, y, t),
            Line::Heading(t) => text(&mut content, BOLD, 12.0, MARGIN, y, t),
            Line::Text(t) => text(&mut content, REGULAR, 10.0, MARGIN, y, t),
            Line::Row(cells, bold) => {
                for (x, t) in cells {
                    let font = if *bold { BOLD } else { REGULAR };
                    text(&mut content, font, 9.5, MARGIN + x, y, t);
                }
            }
            Line::Signature(label) => {
                content
                    .set_line_width(0.7)
                    .move_to(MARGIN, y + 14.0)
                    .line_to(MARGIN + 260.0, y + 14.0)
                    .move_to(MARGIN + 300.0, y + 14.0)
                    .line_to(MARGIN + 420.0, y + 14.0)
                    .stroke();
                text(&mut content, REGULAR, 9.0, MARGIN, y, label);
                text(&mut content, REGULAR, 9.0, MARGIN + 300.0, y, "Date");
            }
            Line::Chart(chart) => chart.draw(&mut content, MARGIN, y + CHART_BLOCK - 20.0),
            Line::Gap => {}
        }
    }
    pages.push(content);

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let count = pages.len();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids((0..count).map(|i| Ref::new(first + 2 * i as i32)))
        .count(count as i32);
    for (font, base) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
        pdf.type1_font(font)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("Co-op Logbook"));
    for (i, mut content) in pages.into_iter().enumerate() {
        let page_ref = Ref::new(first + 2 * i as i32);
        let content_ref = Ref::new(first + 2 * i as i32 + 1);
        text(
            &mut content,
            REGULAR,
            8.0,
            MARGIN,
            MARGIN,
            &format!("{footer} - page {} of {count}", i + 1),
        );
        {
            let mut page = pdf.page(page_ref);
            page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT))
                .parent(tree)
                .contents(content_ref);
            page.resources()
                .fonts()
                .pair(REGULAR, regular)
                .pair(BOLD, bold);
        }
        pdf.stream(content_ref, &content.finish());
    }
    pdf.finish()
}

fn text(content: &mut Content, font: Name, size: f32, x: f32, y: f32, s: &str) {
    content
        .begin_text()
        .set_font(font, size)
        .next_line(x, y)
        .show(Str(&win_ansi(s)))
        .end_text();
}

/// WinAnsiEncoding bytes for a string: Latin-1 as is, the common punctuation mapped,
/// anything else `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{20ac}' => 0x80,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_win_ansi_and_a_long_paper_breaks_into_pages() {
        assert_eq!(win_ansi("Café – 3"), b"Caf\xe9 \x96 3".to_vec());
        assert_eq!(win_ansi("日"), b"?".to_vec());
        let lines: Vec<Line> = (0..200).map(|i| Line::Text(format!("line {i}"))).collect();
        let pdf = render("t", "f", &lines);
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(String::from_utf8_lossy(&pdf).contains("/Count 5"));
    }
}
