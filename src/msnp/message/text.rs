//! Builders for the payloads we send on a switchboard: text (split to fit [`MAX_PAYLOAD`]),
//! typing notifications and nudges (docs/protocol.md §7.5, §7.6).

use super::format::ImFormat;
use super::MAX_PAYLOAD;

/// A `text/plain` payload: `MIME-Version`, `Content-Type: text/plain; charset=UTF-8`,
/// `X-MMS-IM-Format`, a blank line, then `text` with every line break as CRLF. It may exceed
/// [`MAX_PAYLOAD`]; send [`text_payloads`] instead.
pub fn text_payload(text: &str, format: &ImFormat) -> Vec<u8> {
    let mut out = text_headers(format);
    out.extend_from_slice(crlf_lines(text).as_bytes());
    out
}

/// `text` as consecutive `text/plain` payloads of at most [`MAX_PAYLOAD`] bytes each, cut only
/// between UTF-8 characters (never inside a CRLF), at the last whitespace of a part when that
/// keeps the part at least half full. The bodies joined give the whole text back (line breaks as
/// CRLF). An empty text gives one payload with an empty body.
pub fn text_payloads(text: &str, format: &ImFormat) -> Vec<Vec<u8>> {
    let headers = text_headers(format);
    // The font is at most 64 characters of at most 12 encoded bytes: headers stay far below.
    let budget = MAX_PAYLOAD.saturating_sub(headers.len()).max(4);
    let body = crlf_lines(text);
    let mut rest = body.as_str();
    let mut payloads = Vec::new();
    loop {
        let cut = if rest.len() <= budget {
            rest.len()
        } else {
            cut_point(rest, budget)
        };
        let (part, tail) = rest.split_at(cut);
        let mut payload = headers.clone();
        payload.extend_from_slice(part.as_bytes());
        payloads.push(payload);
        rest = tail;
        if rest.is_empty() {
            return payloads;
        }
    }
}

/// A typing notification, sent with ack mode `U` every few seconds while typing:
/// `TypingUser: <user>` (control characters removed).
pub fn typing_payload(user: &str) -> Vec<u8> {
    let user: String = user.chars().filter(|c| !c.is_control()).collect();
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: {user}\r\n\r\n\r\n"
    )
    .into_bytes()
}

/// A nudge: the datacast with `ID: 1`, sent with ack mode `N`.
pub fn nudge_payload() -> Vec<u8> {
    b"MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n".to_vec()
}

fn text_headers(format: &ImFormat) -> Vec<u8> {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: {}\r\n\r\n",
        format.to_header()
    )
    .into_bytes()
}

/// `text` with every line break (`\n`, `\r` or `\r\n`) written as `\r\n`.
fn crlf_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// Where to end a part of `s` (longer than `limit`, `limit` ≥ 4): after its last whitespace if
/// that leaves the part at least half full, else at the last character boundary within `limit`.
fn cut_point(s: &str, limit: usize) -> usize {
    let mut end = limit.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    if end > 1 && s.as_bytes().get(end - 1) == Some(&b'\r') && s.as_bytes().get(end) == Some(&b'\n')
    {
        end -= 1;
    }
    let head = s.get(..end).unwrap_or_default();
    head.char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, c)| i + c.len_utf8())
        .filter(|&cut| cut >= end / 2)
        .unwrap_or(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::format::{Effects, Rgb};
    use crate::message::{MsgPayload, TextMessage};

    /// The payloads of the `SB client->server` vectors, by name.
    fn vector_payload(name: &str) -> Vec<u8> {
        use base64::Engine as _;
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/msg_payloads.json"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("vector file"))
                .expect("json");
        let v = json["vectors"]
            .as_array()
            .expect("vectors")
            .iter()
            .find(|v| v["name"] == name)
            .expect(name);
        let wire = base64::engine::general_purpose::STANDARD
            .decode(v["wire_b64"].as_str().expect("b64"))
            .expect("b64");
        let line = v["command_line"].as_str().expect("line");
        let payload = wire.get(line.len() + 2..).expect("payload").to_vec();
        assert_eq!(
            payload.len() as u64,
            v["payload_byte_length"].as_u64().expect("length")
        );
        payload
    }

    #[test]
    fn reproduces_the_vectors() {
        assert_eq!(
            text_payload("Hello world", &ImFormat::default()),
            vector_payload("text/plain, default format")
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
        let wanted = vector_payload("text/plain, bold+italic red Comic Sans");
        assert_eq!(text_payload("h\u{e9}llo \u{263a}", &comic), wanted);
        assert_eq!(text_payloads("h\u{e9}llo \u{263a}", &comic), [wanted]);
        assert_eq!(
            typing_payload("alice@example.com"),
            vector_payload("typing notification")
        );
        assert_eq!(nudge_payload(), vector_payload("nudge"));
    }

    #[test]
    fn line_breaks_are_sent_as_crlf() {
        let body = |p: Vec<u8>| {
            String::from_utf8(p)
                .unwrap()
                .split_once("\r\n\r\n")
                .unwrap()
                .1
                .to_owned()
        };
        assert_eq!(
            body(text_payload("a\nb\r\nc\rd\n", &ImFormat::default())),
            "a\r\nb\r\nc\r\nd\r\n"
        );
        assert_eq!(
            typing_payload("evil\r\nX-Injected: 1"),
            typing_payload("evilX-Injected: 1")
        );
    }

    fn bodies(payloads: &[Vec<u8>]) -> Vec<String> {
        payloads
            .iter()
            .map(|p| {
                assert!(p.len() <= MAX_PAYLOAD, "payload of {} bytes", p.len());
                match MsgPayload::parse(p) {
                    MsgPayload::Text(TextMessage {
                        text,
                        charset_issue: None,
                        ..
                    }) => text,
                    other => panic!("not clean text: {other:?}"),
                }
            })
            .collect()
    }

    #[test]
    fn a_long_non_ascii_message_arrives_whole() {
        let unit = "h\u{e9}llo w\u{f6}rld \u{263a} \u{65e5}\u{672c}\u{8a9e} \u{1d11e}\n";
        let text: String = unit.chars().cycle().take(5000).collect();
        let payloads = text_payloads(&text, &ImFormat::default());
        assert!(payloads.len() >= 5, "{} parts", payloads.len());
        let joined: String = bodies(&payloads).concat();
        assert_eq!(joined, text);
        for p in &payloads[..payloads.len() - 1] {
            // Cut at whitespace: every part but the last ends with a space or a line break.
            let s = String::from_utf8(p.clone()).unwrap();
            assert!(
                s.ends_with(' ') || s.ends_with("\r\n"),
                "{:?}",
                &s[s.len() - 10..]
            );
            assert!(p.len() > MAX_PAYLOAD / 2);
        }
    }

    #[test]
    fn text_without_whitespace_is_cut_at_character_boundaries() {
        let text = "\u{1d11e}".repeat(1000) + &"\r\n".repeat(2000);
        let format = ImFormat {
            font: "\u{65e5}".repeat(200),
            ..ImFormat::default()
        };
        let payloads = text_payloads(&text, &format);
        assert_eq!(bodies(&payloads).concat(), text.replace("\r\n", "\n"));
        for p in &payloads[..payloads.len() - 1] {
            assert!(p.len() > MAX_PAYLOAD - 4, "parts are filled: {}", p.len());
        }
        for p in &payloads {
            let body = String::from_utf8(p.clone()).unwrap();
            assert!(!body.ends_with('\r'));
        }
    }

    #[test]
    fn empty_text_is_one_payload() {
        let payloads = text_payloads("", &ImFormat::default());
        assert_eq!(payloads, [text_payload("", &ImFormat::default())]);
    }
}
