//! The `X-MMS-IM-Format` header of `text/plain` messages (docs/protocol.md §7.5), and a received
//! message turned into the HTML Pidgin displays.
//!
//! `FN=<font, percent-encoded>; EF=<B I U S>; CO=<BBGGRR hex>; CS=<charset hex>; PF=<pitch and
//! family hex>[; RL=1]`. MSN has one format per message.

use crate::wire::percent;
use std::fmt::Write as _;

/// Longest font name kept, in characters.
pub const MAX_FONT: usize = 64;

/// A colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rgb {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
}

impl Rgb {
    /// Black, the default text colour.
    pub const BLACK: Rgb = Rgb { r: 0, g: 0, b: 0 };

    /// The `CO` value: hex of `0xBBGGRR`, leading zeros dropped (`ff` is red).
    pub fn to_msn(self) -> String {
        format!(
            "{:x}",
            u32::from(self.b) << 16 | u32::from(self.g) << 8 | u32::from(self.r)
        )
    }

    /// Parses a `CO` value: up to six hex digits of `BBGGRR`.
    pub fn from_msn(value: &str) -> Option<Rgb> {
        if value.is_empty() || value.len() > 6 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let [r, g, b, _] = u32::from_str_radix(value, 16).ok()?.to_le_bytes();
        Some(Rgb { r, g, b })
    }

    /// `#RRGGBB`.
    pub fn to_html(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.r, self.g, self.b)
    }
}

/// The `EF` effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Effects {
    /// `B`.
    pub bold: bool,
    /// `I`.
    pub italic: bool,
    /// `U`.
    pub underline: bool,
    /// `S`: strikethrough.
    pub strikethrough: bool,
}

impl Effects {
    /// The `EF` value, letters in the order `BIUS`.
    pub fn to_msn(self) -> String {
        [
            (self.bold, 'B'),
            (self.italic, 'I'),
            (self.underline, 'U'),
            (self.strikethrough, 'S'),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, c)| c)
        .collect()
    }

    /// Parses an `EF` value; unknown letters are ignored.
    pub fn from_msn(value: &str) -> Effects {
        let has = |c: char| value.chars().any(|v| v.eq_ignore_ascii_case(&c));
        Effects {
            bold: has('B'),
            italic: has('I'),
            underline: has('U'),
            strikethrough: has('S'),
        }
    }

    /// Both sets combined.
    pub fn union(self, other: Effects) -> Effects {
        Effects {
            bold: self.bold || other.bold,
            italic: self.italic || other.italic,
            underline: self.underline || other.underline,
            strikethrough: self.strikethrough || other.strikethrough,
        }
    }
}

/// A parsed or to-be-sent `X-MMS-IM-Format`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImFormat {
    /// `FN`: font face, decoded; empty for none. At most [`MAX_FONT`] characters are sent.
    pub font: String,
    /// `EF`.
    pub effects: Effects,
    /// `CO`.
    pub color: Rgb,
    /// `CS`: Windows charset number (informational with UTF-8 bodies).
    pub charset: u8,
    /// `PF`: pitch and family byte.
    pub pitch_family: u8,
    /// `RL=1`: right-to-left text.
    pub right_to_left: bool,
}

impl Default for ImFormat {
    /// What Windows Live Messenger sends unformatted: `FN=Segoe%20UI; EF=; CO=0; CS=0; PF=22`.
    fn default() -> Self {
        ImFormat {
            font: "Segoe UI".into(),
            effects: Effects::default(),
            color: Rgb::BLACK,
            charset: 0,
            pitch_family: 0x22,
            right_to_left: false,
        }
    }
}

impl ImFormat {
    /// Parses a header value. Never fails: unknown keys are ignored, malformed values and missing
    /// keys leave the field empty (no font, no effects, black, 0).
    pub fn parse(value: &[u8]) -> ImFormat {
        let value = String::from_utf8_lossy(value);
        let mut format = ImFormat {
            font: String::new(),
            effects: Effects::default(),
            color: Rgb::BLACK,
            charset: 0,
            pitch_family: 0,
            right_to_left: false,
        };
        for field in value.split(';') {
            let Some((key, v)) = field.split_once('=') else {
                continue;
            };
            let v = v.trim();
            match key.trim().to_ascii_uppercase().as_str() {
                "FN" => {
                    format.font = percent::decode(v.as_bytes())
                        .chars()
                        .take(MAX_FONT)
                        .collect()
                }
                "EF" => format.effects = Effects::from_msn(v),
                "CO" => format.color = Rgb::from_msn(v).unwrap_or(Rgb::BLACK),
                "CS" => format.charset = u8::from_str_radix(v, 16).unwrap_or(0),
                "PF" => format.pitch_family = u8::from_str_radix(v, 16).unwrap_or(0),
                "RL" => format.right_to_left = v == "1",
                _ => {}
            }
        }
        format
    }

    /// The header value (`FN=Segoe%20UI; EF=; CO=0; CS=0; PF=22`), `; RL=1` appended for
    /// right-to-left. The font is cut to [`MAX_FONT`] characters and fully percent-encoded
    /// except for letters, digits and `-_.~`, so the value is one line of ASCII.
    pub fn to_header(&self) -> String {
        let mut out = String::from("FN=");
        for c in self.font.chars().take(MAX_FONT) {
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    out.push(char::from(b));
                } else {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
        let _ = write!(
            out,
            "; EF={}; CO={}; CS={:x}; PF={:x}",
            self.effects.to_msn(),
            self.color.to_msn(),
            self.charset,
            self.pitch_family
        );
        if self.right_to_left {
            out.push_str("; RL=1");
        }
        out
    }
}

/// Escapes text for HTML: `& < > " '` become entities.
pub fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// A font name reduced to letters, digits, spaces, `-` and `_`, so it can be quoted in an
/// attribute with no way to end the quote or the tag.
pub fn sanitize_font(font: &str) -> String {
    font.chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .take(MAX_FONT)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Converts a received message to Pidgin HTML: text escaped, line breaks as `<br>`, control
/// characters other than tab removed, and the format as `<font face color>`, `<b><i><u><s>` and
/// `<span dir="rtl">`. Black, the default colour, is left to the theme.
pub fn to_html(text: &str, format: &ImFormat) -> String {
    let face = sanitize_font(&format.font);
    let color = (format.color != Rgb::BLACK).then(|| format.color.to_html());
    let effects = format.effects;
    let styles = [
        (effects.bold, "b"),
        (effects.italic, "i"),
        (effects.underline, "u"),
        (effects.strikethrough, "s"),
    ];
    let mut out = String::with_capacity(text.len() + 64);
    if format.right_to_left {
        out.push_str("<span dir=\"rtl\">");
    }
    let has_font = !face.is_empty() || color.is_some();
    if has_font {
        out.push_str("<font");
        if !face.is_empty() {
            let _ = write!(out, " face=\"{face}\"");
        }
        if let Some(color) = &color {
            let _ = write!(out, " color=\"{color}\"");
        }
        out.push('>');
    }
    for (_, tag) in styles.iter().filter(|(on, _)| *on) {
        let _ = write!(out, "<{tag}>");
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => out.push_str("<br>"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => escape_html(c.encode_utf8(&mut [0u8; 4]), &mut out),
        }
    }
    for (_, tag) in styles.iter().rev().filter(|(on, _)| *on) {
        let _ = write!(out, "</{tag}>");
    }
    if has_font {
        out.push_str("</font>");
    }
    if format.right_to_left {
        out.push_str("</span>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_vector_headers() {
        assert_eq!(
            ImFormat::default().to_header(),
            "FN=Segoe%20UI; EF=; CO=0; CS=0; PF=22"
        );
        let comic = ImFormat {
            font: "Comic Sans MS".into(),
            effects: Effects {
                bold: true,
                italic: true,
                ..Effects::default()
            },
            color: Rgb {
                r: 0xff,
                g: 0,
                b: 0,
            },
            ..ImFormat::default()
        };
        assert_eq!(
            comic.to_header(),
            "FN=Comic%20Sans%20MS; EF=BI; CO=ff; CS=0; PF=22"
        );
        let rtl = ImFormat {
            font: "a;b=c\r\n\u{e9}".into(),
            right_to_left: true,
            charset: 0xb1,
            ..comic
        };
        assert_eq!(
            rtl.to_header(),
            "FN=a%3Bb%3Dc%0D%0A%C3%A9; EF=BI; CO=ff; CS=b1; PF=22; RL=1"
        );
    }

    #[test]
    fn parses_what_clients_send() {
        let f = ImFormat::parse(b"FN=Segoe%20UI; EF=; CO=0; CS=1; PF=0");
        assert_eq!(
            (
                f.font.as_str(),
                f.effects,
                f.color,
                f.charset,
                f.pitch_family
            ),
            ("Segoe UI", Effects::default(), Rgb::BLACK, 1, 0)
        );
        let f = ImFormat::parse(b"FN=MS%20Sans%20Serif; EF=BUS; CO=ff8000; CS=0; PF=22; RL=1");
        assert_eq!(
            f.effects,
            Effects {
                bold: true,
                italic: false,
                underline: true,
                strikethrough: true
            }
        );
        assert_eq!(
            f.color,
            Rgb {
                r: 0x00,
                g: 0x80,
                b: 0xff
            }
        );
        assert_eq!(f.color.to_html(), "#0080FF");
        assert!(f.right_to_left);
        assert_eq!(
            ImFormat::parse(b"CO=ff00").color,
            Rgb {
                r: 0,
                g: 0xff,
                b: 0
            }
        );
    }

    #[test]
    fn parse_then_build_round_trips() {
        for header in [
            "FN=Segoe%20UI; EF=; CO=0; CS=0; PF=22",
            "FN=Comic%20Sans%20MS; EF=BI; CO=ff; CS=0; PF=22",
            "FN=Arial; EF=BIUS; CO=123456; CS=80; PF=31; RL=1",
        ] {
            assert_eq!(ImFormat::parse(header.as_bytes()).to_header(), header);
        }
    }

    #[test]
    fn hostile_values_never_fail() {
        for junk in [
            &b""[..],
            b";;;",
            b"FN",
            b"CO=zzzzzz; CS=1ff; PF=-1",
            b"CO=1234567",
            b"FN=%ZZ%0d%0a\xff",
            b"=;=;EF",
        ] {
            let f = ImFormat::parse(junk);
            assert_eq!(f.color, Rgb::BLACK, "{junk:?}");
            assert!(!f.font.contains(['\r', '\n']));
        }
        let long = format!("FN={}", "x".repeat(10_000));
        assert_eq!(ImFormat::parse(long.as_bytes()).font.len(), MAX_FONT);
    }

    #[test]
    fn html_escapes_text_and_maps_the_format() {
        let f = ImFormat::parse(b"FN=Comic%20Sans%20MS; EF=BI; CO=ff; CS=0; PF=22");
        assert_eq!(
            to_html("a<b> & \"c\" 'd'\r\nline2\n", &f),
            "<font face=\"Comic Sans MS\" color=\"#FF0000\"><b><i>a&lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;<br>line2<br></i></b></font>"
        );
        assert_eq!(to_html("x", &ImFormat::parse(b"")), "x");
        assert_eq!(
            to_html("x\0y\u{7}", &ImFormat::parse(b"RL=1; EF=US")),
            "<span dir=\"rtl\"><u><s>xy</s></u></span>"
        );
    }

    #[test]
    fn a_font_name_cannot_inject_markup() {
        let f = ImFormat::parse(b"FN=x%22%3E%3Cscript%3Ealert(1)%3C/script%3E%3Cfont%20a=%22");
        let html = to_html("hi", &f);
        assert_eq!(html, "<font face=\"xscriptalert1scriptfont a\">hi</font>");
        assert_eq!(to_html("hi", &ImFormat::parse(b"FN=%22%3C%3E")), "hi");
        assert_eq!(
            sanitize_font("  Noto Sans CJK \u{65e5}\u{672c}  "),
            "Noto Sans CJK \u{65e5}\u{672c}"
        );
    }
}
