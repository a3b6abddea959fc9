//! A tiny page writer for the printable papers, on `pdf-writer`: A4 pages of lines of
//! text in the PDF base-14 fonts (Helvetica, Helvetica-Bold), which every PDF reader
//! has, so no font file is embedded. Text is encoded as WinAnsi (Latin-1 plus the
//! dashes and quotes); a character outside it prints as `?`.

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
    Gap,
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
