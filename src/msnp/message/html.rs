//! Pidgin's outgoing HTML turned into MSN plain text plus one [`ImFormat`] for the whole message.
//!
//! Understands what libpurple hands a protocol plugin when the user sends an IM: `<b> <strong> <i> <em> <u>
//! <s> <strike> <del>`, `<font face color>`, `<span style dir>`, `<br>`, `<a href>`, `<img alt>`
//! and the entities `&amp; &lt; &gt; &quot; &apos; &nbsp; &#NNN; &#xHH;`. Any other tag is
//! dropped with its text kept. The first face and colour applied to visible text, and every
//! effect applied to it, become the message's format. Never fails, whatever the input: a `<`
//! that does not start a well-formed tag is text, unclosed tags end with the input, nesting is
//! capped, and the work per byte is bounded.

use super::format::{Effects, ImFormat, Rgb, MAX_FONT};

/// Deepest nesting of style tags tracked; deeper opening tags are ignored.
const MAX_DEPTH: usize = 32;
/// Longest tag looked for, from `<` to `>`; a longer one is text.
const MAX_TAG: usize = 2048;
/// Most attributes read from one tag.
const MAX_ATTRS: usize = 16;
/// Longest entity looked for, from `&` to `;`.
const MAX_ENTITY: usize = 12;

/// Converts Pidgin HTML to the text to send (line breaks as `\n`) and its format. Bytes that are
/// not UTF-8 become U+FFFD; control characters other than tab and line breaks are dropped.
pub fn from_html(html: &[u8]) -> (String, ImFormat) {
    let html = String::from_utf8_lossy(html);
    let mut conv = Converter::default();
    let mut rest: &str = &html;
    while let Some(c) = rest.chars().next() {
        let consumed = match c {
            '<' => conv.tag(rest),
            '&' => conv.entity(rest),
            _ => None,
        };
        let consumed = consumed.unwrap_or_else(|| {
            conv.emit(c);
            c.len_utf8()
        });
        rest = rest.get(consumed..).unwrap_or_default();
    }
    conv.finish()
}

/// What one open element changes.
#[derive(Debug, Default, Clone)]
struct Style {
    bold: Option<bool>,
    italic: Option<bool>,
    underline: Option<bool>,
    strikethrough: Option<bool>,
    face: Option<String>,
    color: Option<Rgb>,
    rtl: Option<bool>,
}

impl Style {
    /// `self` with the settings of `inner` on top.
    fn overlay(&mut self, inner: &Style) {
        let fields = [
            (&mut self.bold, inner.bold),
            (&mut self.italic, inner.italic),
            (&mut self.underline, inner.underline),
            (&mut self.strikethrough, inner.strikethrough),
            (&mut self.rtl, inner.rtl),
        ];
        for (field, value) in fields {
            if value.is_some() {
                *field = value;
            }
        }
        if inner.face.is_some() {
            self.face.clone_from(&inner.face);
        }
        if inner.color.is_some() {
            self.color = inner.color;
        }
    }

    fn effects(&self) -> Effects {
        Effects {
            bold: self.bold == Some(true),
            italic: self.italic == Some(true),
            underline: self.underline == Some(true),
            strikethrough: self.strikethrough == Some(true),
        }
    }
}

/// An element on the open-element stack.
#[derive(Debug)]
struct Open {
    name: String,
    style: Style,
    /// For `<a href>`: the link and where its text starts in the output.
    link: Option<(String, usize)>,
}

#[derive(Debug, Default)]
struct Converter {
    text: String,
    stack: Vec<Open>,
    /// The stack's styles combined.
    current: Style,
    effects: Effects,
    face: Option<String>,
    color: Option<Rgb>,
    rtl: bool,
    /// The previous character was a CR (a following LF is the same line break).
    after_cr: bool,
    /// A `<!--` found no `-->` after it, so no later one will: they are all text.
    unclosed_comment: bool,
}

impl Converter {
    fn emit(&mut self, c: char) {
        let after_cr = std::mem::replace(&mut self.after_cr, c == '\r');
        match c {
            '\r' => self.text.push('\n'),
            '\n' if after_cr => {}
            '\n' | '\t' => self.text.push(c),
            c if c.is_control() => {}
            c => {
                if !c.is_whitespace() {
                    self.effects = self.effects.union(self.current.effects());
                    if self.face.is_none() {
                        self.face.clone_from(&self.current.face);
                    }
                    self.color = self.color.or(self.current.color);
                    self.rtl |= self.current.rtl == Some(true);
                }
                self.text.push(c);
            }
        }
    }

    fn emit_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.emit(c));
    }

    /// Handles the tag at the start of `rest`; returns its length, or `None` if it is text.
    fn tag(&mut self, rest: &str) -> Option<usize> {
        if let Some(comment) = rest.strip_prefix("<!--") {
            if self.unclosed_comment {
                return None;
            }
            let end = comment.find("-->");
            self.unclosed_comment = end.is_none();
            return end.map(|end| 4 + end + 3);
        }
        let len = tag_len(rest)?;
        let inner = rest.get(1..len - 1)?;
        let (closing, inner) = match inner.strip_prefix('/') {
            Some(inner) => (true, inner),
            None => (false, inner),
        };
        let name_len = inner
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(inner.len());
        let name = inner.get(..name_len)?.to_ascii_lowercase();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        if closing {
            self.close(&name);
        } else {
            let self_closing = inner.trim_end().ends_with('/');
            self.open(
                &name,
                &attributes(inner.get(name_len..).unwrap_or_default()),
                self_closing,
            );
        }
        self.after_cr = false;
        Some(len)
    }

    fn open(&mut self, name: &str, attrs: &[(String, String)], self_closing: bool) {
        let attr = |key: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let mut style = Style::default();
        match name {
            "br" => return self.emit('\n'),
            "img" => return self.emit_str(attr("alt").unwrap_or_default()),
            "b" | "strong" => style.bold = Some(true),
            "i" | "em" => style.italic = Some(true),
            "u" | "ins" => style.underline = Some(true),
            "s" | "strike" | "del" => style.strikethrough = Some(true),
            "font" => {
                style.face = attr("face").and_then(first_family);
                style.color = attr("color").and_then(parse_color);
            }
            "span" | "a" => {}
            _ => return,
        }
        if let Some(css) = attr("style") {
            apply_css(css, &mut style);
        }
        if let Some(dir) = attr("dir") {
            style.rtl = Some(dir.eq_ignore_ascii_case("rtl"));
        }
        if self_closing || self.stack.len() >= MAX_DEPTH {
            return;
        }
        let link = (name == "a")
            .then(|| attr("href"))
            .flatten()
            .map(|href| (href.to_owned(), self.text.len()));
        self.stack.push(Open {
            name: name.to_owned(),
            style,
            link,
        });
        self.recompute();
    }

    /// Closes the innermost open element named `name` and everything inside it.
    fn close(&mut self, name: &str) {
        let name = canonical(name);
        let Some(at) = self.stack.iter().rposition(|o| canonical(&o.name) == name) else {
            return;
        };
        while self.stack.len() > at {
            self.pop();
        }
    }

    fn pop(&mut self) {
        let Some(open) = self.stack.pop() else { return };
        self.recompute();
        if let Some((href, start)) = open.link {
            let shown = self.text.get(start..).unwrap_or_default().trim();
            let bare = href.strip_prefix("mailto:").unwrap_or(&href);
            if shown.is_empty() {
                self.emit_str(bare);
            } else if shown != href && shown != bare {
                self.emit_str(&format!(" ({bare})"));
            }
        }
    }

    fn recompute(&mut self) {
        let mut current = Style::default();
        for open in &self.stack {
            current.overlay(&open.style);
        }
        self.current = current;
    }

    /// Decodes the entity at the start of `rest`; returns its length, or `None` if it is text.
    fn entity(&mut self, rest: &str) -> Option<usize> {
        let (c, len) = entity(rest)?;
        if let Some(c) = c {
            self.emit(c);
        }
        Some(len)
    }

    fn finish(mut self) -> (String, ImFormat) {
        while !self.stack.is_empty() {
            self.pop();
        }
        let mut format = ImFormat {
            effects: self.effects,
            right_to_left: self.rtl,
            ..ImFormat::default()
        };
        if let Some(face) = self.face.filter(|f| !f.is_empty()) {
            format.font = face;
        }
        if let Some(color) = self.color {
            format.color = color;
        }
        (self.text, format)
    }
}

/// The name a closing tag matches: `</strong>` closes `<b>`, and so on.
fn canonical(name: &str) -> &str {
    match name {
        "strong" => "b",
        "em" => "i",
        "ins" => "u",
        "strike" | "del" => "s",
        other => other,
    }
}

/// Length of the tag at the start of `rest` (through `>`), honouring quoted attribute values;
/// `None` if it does not close within [`MAX_TAG`] bytes.
fn tag_len(rest: &str) -> Option<usize> {
    let window = rest.as_bytes().get(..MAX_TAG.min(rest.len()))?;
    let mut quote = None;
    let mut prev_significant = 0u8;
    for (i, &b) in window.iter().enumerate().skip(1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'>' => return Some(i + 1),
            None if (b == b'"' || b == b'\'') && prev_significant == b'=' => quote = Some(b),
            None if b == b'<' => return None,
            None => {}
        }
        if !b.is_ascii_whitespace() {
            prev_significant = b;
        }
    }
    // An unterminated quote: end at the first `>` after all.
    window.iter().position(|&b| b == b'>').map(|i| i + 1)
}

/// Parses `name=value`, `name="value"`, `name='value'` and bare `name` attributes; names are
/// lower-cased, values entity-decoded.
fn attributes(mut s: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    while attrs.len() < MAX_ATTRS {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if s.is_empty() {
            break;
        }
        let name_len = s
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(s.len());
        let name = s.get(..name_len).unwrap_or_default().to_ascii_lowercase();
        s = s.get(name_len..).unwrap_or_default().trim_start();
        let mut value = String::new();
        if let Some(after_eq) = s.strip_prefix('=') {
            let after_eq = after_eq.trim_start();
            let (raw, remaining) = match after_eq.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = after_eq.get(1..).unwrap_or_default();
                    let end = body.find(q).unwrap_or(body.len());
                    (
                        body.get(..end).unwrap_or_default(),
                        body.get(end + 1..).unwrap_or_default(),
                    )
                }
                _ => {
                    let end = after_eq.find(char::is_whitespace).unwrap_or(after_eq.len());
                    (
                        after_eq.get(..end).unwrap_or_default(),
                        after_eq.get(end..).unwrap_or_default(),
                    )
                }
            };
            value = decode_entities(raw);
            s = remaining;
        }
        if !name.is_empty() {
            attrs.push((name, value));
        }
    }
    attrs
}

/// Replaces the entities in an attribute value.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let decoded = if c == '&' { entity(rest) } else { None };
        let len = match decoded {
            Some((c, len)) => {
                out.extend(c);
                len
            }
            None => {
                out.push(c);
                c.len_utf8()
            }
        };
        rest = rest.get(len..).unwrap_or_default();
    }
    out
}

/// The entity at the start of `rest` (which starts with `&`): the character (`None` for a valid
/// reference to nothing displayable, such as `&#0;`) and the entity's length.
fn entity(rest: &str) -> Option<(Option<char>, usize)> {
    let window = rest.get(..MAX_ENTITY.min(rest.len())).unwrap_or(rest);
    let end = window.find(';')?;
    let name = window.get(1..end)?;
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let number = name.strip_prefix('#')?;
            let value = match number.strip_prefix(['x', 'X']) {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()?
                }
                None if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => {
                    number.parse().ok()?
                }
                _ => return None,
            };
            match char::from_u32(value) {
                Some('\0') => None,
                Some(c) => Some(c),
                None => Some(char::REPLACEMENT_CHARACTER),
            }
        }
    };
    Some((c, end + 1))
}

/// The first family of a `face` or `font-family` list, unquoted and cut to [`MAX_FONT`].
fn first_family(list: &str) -> Option<String> {
    let first = list
        .split(',')
        .next()?
        .trim()
        .trim_matches(['"', '\''])
        .trim();
    let face: String = first
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FONT)
        .collect();
    (!face.is_empty()).then_some(face)
}

/// Applies the `style` properties Pidgin writes.
fn apply_css(css: &str, style: &mut Style) {
    for decl in css.split(';') {
        let Some((prop, raw)) = decl.split_once(':') else {
            continue;
        };
        let value = raw.trim().to_ascii_lowercase();
        match prop.trim().to_ascii_lowercase().as_str() {
            "font-family" => style.face = first_family(raw),
            "color" => style.color = parse_color(&value),
            "font-weight" => {
                let weight = value.parse::<u32>().ok();
                style.bold =
                    Some(value == "bold" || value == "bolder" || weight.is_some_and(|w| w >= 600));
            }
            "font-style" => style.italic = Some(value == "italic" || value == "oblique"),
            "text-decoration" | "text-decoration-line" => {
                style.underline = Some(value.contains("underline"));
                style.strikethrough = Some(value.contains("line-through"));
            }
            _ => {}
        }
    }
}

/// `#RRGGBB`, `#RGB`, `RRGGBB`, `rgb(r, g, b)` or one of the basic colour names.
fn parse_color(value: &str) -> Option<Rgb> {
    let value = value.trim().to_ascii_lowercase();
    let hex = value.strip_prefix('#').unwrap_or(&value);
    if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let digit = |i: usize| {
            hex.get(i..i + 1)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
        };
        let pair = |i: usize| {
            hex.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
        };
        return match hex.len() {
            6 => Some(Rgb {
                r: pair(0)?,
                g: pair(2)?,
                b: pair(4)?,
            }),
            3 => Some(Rgb {
                r: digit(0)? * 17,
                g: digit(1)? * 17,
                b: digit(2)? * 17,
            }),
            _ => None,
        };
    }
    if let Some(args) = value.strip_prefix("rgb(").and_then(|v| v.strip_suffix(')')) {
        let mut parts = args.split(',').map(|p| p.trim().parse::<u8>().ok());
        let (r, g, b) = (parts.next()??, parts.next()??, parts.next()??);
        return parts.next().is_none().then_some(Rgb { r, g, b });
    }
    const NAMES: [(&str, [u8; 3]); 16] = [
        ("black", [0, 0, 0]),
        ("silver", [0xc0, 0xc0, 0xc0]),
        ("gray", [0x80, 0x80, 0x80]),
        ("white", [0xff, 0xff, 0xff]),
        ("maroon", [0x80, 0, 0]),
        ("red", [0xff, 0, 0]),
        ("purple", [0x80, 0, 0x80]),
        ("fuchsia", [0xff, 0, 0xff]),
        ("green", [0, 0x80, 0]),
        ("lime", [0, 0xff, 0]),
        ("olive", [0x80, 0x80, 0]),
        ("yellow", [0xff, 0xff, 0]),
        ("navy", [0, 0, 0x80]),
        ("blue", [0, 0, 0xff]),
        ("teal", [0, 0x80, 0x80]),
        ("aqua", [0, 0xff, 0xff]),
    ];
    NAMES
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, [r, g, b])| Rgb {
            r: *r,
            g: *g,
            b: *b,
        })
}

#[cfg(test)]
mod tests {
    use super::super::format::to_html;
    use super::*;

    fn conv(html: &str) -> (String, ImFormat) {
        from_html(html.as_bytes())
    }

    #[test]
    fn plain_text_gets_the_default_format() {
        assert_eq!(
            conv("Hello world"),
            ("Hello world".into(), ImFormat::default())
        );
        assert_eq!(conv(""), (String::new(), ImFormat::default()));
    }

    #[test]
    fn pidgin_markup_becomes_one_format() {
        let (text, f) = conv("<FONT FACE=\"Comic Sans MS\" COLOR=\"#FF0000\"><B><I>h&#233;llo &#x263A;</I></B></FONT>");
        assert_eq!(text, "h\u{e9}llo \u{263a}");
        assert_eq!(f.font, "Comic Sans MS");
        assert_eq!(
            f.color,
            Rgb {
                r: 0xff,
                g: 0,
                b: 0
            }
        );
        assert_eq!(
            f.effects,
            Effects {
                bold: true,
                italic: true,
                ..Effects::default()
            }
        );
        // The vector's header, from Pidgin's HTML.
        assert_eq!(
            f.to_header(),
            "FN=Comic%20Sans%20MS; EF=BI; CO=ff; CS=0; PF=22"
        );

        let (text, f) = conv("<span style=\"font-family: 'DejaVu Sans', serif; color: rgb(0, 128, 255); font-weight: bold; text-decoration: underline line-through\">x</span> y<strike>z</strike>");
        assert_eq!(text, "x yz");
        assert_eq!(
            (f.font.as_str(), f.color),
            (
                "DejaVu Sans",
                Rgb {
                    r: 0,
                    g: 128,
                    b: 255
                }
            )
        );
        assert_eq!(
            f.effects,
            Effects {
                bold: true,
                italic: false,
                underline: true,
                strikethrough: true
            }
        );
    }

    #[test]
    fn the_first_face_and_colour_on_visible_text_win() {
        let (_, f) = conv(
            "<font face=\"Empty\"> </font><font face=Arial color=blue>a</font><font face=Courier color=red>b</font>",
        );
        assert_eq!(
            (f.font.as_str(), f.color),
            (
                "Arial",
                Rgb {
                    r: 0,
                    g: 0,
                    b: 0xff
                }
            )
        );
        let (_, f) = conv("<b></b><i> </i>plain");
        assert_eq!(f.effects, Effects::default());
    }

    #[test]
    fn entities_line_breaks_and_links() {
        let (text, _) = conv("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;&nbsp;&#65;&#x42;<br>2<BR/>3\r\n4 &bogus; &amp &#xZZ; &#0;|");
        assert_eq!(
            text,
            "a & b <c> \"d\" 'e' AB\n2\n3\n4 &bogus; &amp &#xZZ; |"
        );
        let (text, _) =
            conv("see <a href=\"http://x.example/?a=1&amp;b=2\">http://x.example/?a=1&amp;b=2</a>");
        assert_eq!(text, "see http://x.example/?a=1&b=2");
        let (text, _) = conv("<a href='http://x.example/'>site</a>, <A HREF=\"mailto:bob@example.com\">bob@example.com</A>, <a href=\"http://y\"></a>");
        assert_eq!(text, "site (http://x.example/), bob@example.com, http://y");
        let (text, _) = conv("<img src=\"smile.png\" alt=\":)\"> ok");
        assert_eq!(text, ":) ok");
    }

    #[test]
    fn broken_html_keeps_the_text() {
        assert_eq!(conv("a < b and c > d").0, "a < b and c > d");
        assert_eq!(conv("1<2").0, "1<2");
        assert_eq!(conv("<b>unclosed <i>tags").0, "unclosed tags");
        assert!(conv("<b>bold</i> still").1.effects.bold);
        assert_eq!(conv("</b>x").0, "x");
        assert_eq!(conv("<font face=\"unterminated>x").0, "x");
        assert_eq!(
            conv("<font face=unquoted color=#00ff00>x</font>").1.color,
            Rgb {
                r: 0,
                g: 0xff,
                b: 0
            }
        );
        assert_eq!(conv("x<!-- note -->y<!-- open").0, "xy<!-- open");
        assert_eq!(conv("<script>alert(1)</script>").0, "alert(1)");
        assert_eq!(conv("nul\0bell\u{7}tab\t").0, "nulbelltab\t");
        assert_eq!(from_html(b"bad \xff utf8").0, "bad \u{FFFD} utf8");
    }

    #[test]
    fn huge_and_deep_input_is_bounded() {
        let deep = "<b>".repeat(10_000) + "x" + &"</b>".repeat(10_000);
        assert_eq!(
            conv(&deep),
            (
                "x".into(),
                ImFormat {
                    effects: Effects {
                        bold: true,
                        ..Effects::default()
                    },
                    ..ImFormat::default()
                }
            )
        );
        let opens = "<".repeat(200_000);
        assert_eq!(conv(&opens).0, opens);
        let quotes = "<a x=\"".repeat(50_000);
        assert_eq!(conv(&quotes).0.len(), quotes.len());
        let long_tag = format!("<font face=\"{}\">x", "f".repeat(100_000));
        assert!(conv(&long_tag).0.ends_with("\">x"));
        let long_face = format!("<font face=\"{}\">x", "f".repeat(1_000));
        assert_eq!(conv(&long_face).1.font.len(), MAX_FONT);
    }

    /// Fuzzing finding (`html_format`): every unclosed `<!--` searched the rest of the input
    /// for `-->`, so a run of them took quadratic time (200 KB: 45 s). This input would take
    /// many minutes that way.
    #[test]
    fn unclosed_comments_are_text_in_linear_time() {
        let html = "<!--".repeat(250_000);
        assert_eq!(conv(&html).0, html);
        assert_eq!(conv("<!--a<!--b-->c<!--d").0, "c<!--d");
    }

    #[test]
    fn received_html_round_trips() {
        let cases = [
            ("Hello world", "FN=Segoe%20UI; EF=; CO=0; CS=0; PF=22"),
            (
                "h\u{e9}llo \u{263a}\nsecond <line> & \"quotes\" 'too'",
                "FN=Comic%20Sans%20MS; EF=BI; CO=ff; CS=0; PF=22",
            ),
            (
                "tab\there",
                "FN=Arial; EF=BIUS; CO=123456; CS=0; PF=22; RL=1",
            ),
            (
                "a < b > c && d",
                "FN=Times%20New%20Roman; EF=U; CO=ff00; CS=0; PF=22",
            ),
        ];
        for (text, header) in cases {
            let format = ImFormat::parse(header.as_bytes());
            let html = to_html(text, &format);
            assert_eq!(conv(&html), (text.to_owned(), format), "{html}");
        }
    }
}
