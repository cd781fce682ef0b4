//! Switchboard message payloads (docs/protocol.md §7.4–§7.8): what a received `MSG` carries
//! ([`MsgPayload::parse`]), the payloads we send ([`text_payloads`], [`typing_payload`],
//! [`nudge_payload`]), the `X-MMS-IM-Format` and its HTML forms, charsets, and the reassembly of
//! chunked messages.
//!
//! Every parser here takes bytes from a peer and never fails: anything it does not understand is
//! [`MsgPayload::Unknown`] or a flagged lossy decoding.

mod charset;
mod chunks;
pub mod emoticons;
mod format;
mod html;
pub mod ink;
mod text;

use crate::mime::Mime;

pub use charset::{charset_parameter, decode, CharsetIssue, DecodedText};
pub use chunks::{ChunkError, ChunkLimits, ChunkPart, ChunkPosition, ChunkReassembler};
pub use emoticons::{Emoticon, EmoticonList, EmoticonListError};
pub use format::{escape_html, sanitize_font, to_html, Effects, ImFormat, Rgb, MAX_FONT};
pub use html::from_html;
pub use ink::Ink;
pub use text::{nudge_payload, text_payload, text_payloads, typing_payload};

/// Largest `MSG` payload a switchboard accepts from a client; Escargot closes the connection
/// on a bigger one.
pub const MAX_PAYLOAD: usize = 1664;

/// Longest content type kept in [`MsgPayload::Unknown`].
const MAX_CONTENT_TYPE: usize = 100;

/// A received `text/plain` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMessage {
    /// The text, line breaks as `\n`.
    pub text: String,
    /// The `X-MMS-IM-Format`, when sent.
    pub format: Option<ImFormat>,
    /// Set when the text could not be decoded faithfully; show it anyway, with a notice.
    pub charset_issue: Option<CharsetIssue>,
}

impl TextMessage {
    /// The message as Pidgin HTML (see [`to_html`]); unformatted text gets no font markup.
    pub fn to_html(&self) -> String {
        let plain = ImFormat::parse(b"");
        to_html(&self.text, self.format.as_ref().unwrap_or(&plain))
    }
}

/// What a switchboard `MSG` payload is, by its `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgPayload {
    /// `text/plain`: an instant message.
    Text(TextMessage),
    /// `text/x-msmsgscontrol` with `TypingUser`: someone is typing.
    Typing {
        /// The `TypingUser` value.
        user: String,
    },
    /// `text/x-msnmsgr-datacast` with `ID: 1`.
    Nudge,
    /// Any other datacast: 2 wink, 3 voice clip, 4 action message; `None` when `ID` is missing
    /// or not a number.
    Datacast {
        /// The `ID` value.
        id: Option<u32>,
        /// The `Data` value (an MSNObject or text), if any.
        data: Option<String>,
    },
    /// `text/x-mms-emoticon` or `text/x-mms-animemoticon`: custom emoticons for the next text.
    Emoticons {
        /// Whether animated (`text/x-mms-animemoticon`).
        animated: bool,
        /// The declarations (see [`emoticons::parse`]).
        list: Result<EmoticonList, EmoticonListError>,
    },
    /// `image/gif` or `application/x-ms-ink`: a handwritten message (group chats send it this
    /// way; one-to-one conversations over P2P).
    Ink(Ink),
    /// `application/x-msnmsgrp2p`: a P2P (MSNSLP) packet, not parsed here.
    P2p {
        /// The `P2P-Src` header (MSNP16+): the sender's endpoint, `address;{guid}`.
        source: Option<String>,
        /// The `P2P-Dest` header: addressee (others in the switchboard must ignore the packet).
        destination: Option<String>,
        /// The binary body.
        body: Vec<u8>,
    },
    /// `text/x-clientcaps`: the peer's client information (`Client-Name`, `Chat-Logging`, …).
    ClientCaps {
        /// The `name: value` lines of the body.
        fields: Vec<(String, String)>,
    },
    /// `text/x-keepalive`.
    KeepAlive,
    /// One part of a chunked message: feed it to a [`ChunkReassembler`].
    Chunk(ChunkPart),
    /// Anything else (including `text/x-msmsgscontrol` without `TypingUser`, and payloads
    /// without headers).
    Unknown {
        /// The media type, lower-cased (at most 100 characters), if there was one.
        content_type: Option<String>,
    },
}

impl MsgPayload {
    /// Classifies a received payload. Never fails.
    pub fn parse(payload: &[u8]) -> MsgPayload {
        let mime = Mime::parse(payload);
        match ChunkPart::from_mime(&mime) {
            Some(part) => MsgPayload::Chunk(part),
            None => classify(mime),
        }
    }
}

/// Classifies a whole (not chunked) message.
fn classify(mime: Mime) -> MsgPayload {
    // The media type ends at `;` or, when a sender forgot the `;`, at whitespace.
    let media = mime
        .content_type()
        .and_then(|t| t.split_whitespace().next().map(str::to_owned));
    let Some(content_type) = media else {
        return MsgPayload::Unknown { content_type: None };
    };
    match content_type.as_str() {
        "text/plain" => {
            let charset = mime
                .header("Content-Type")
                .and_then(|v| charset_parameter(v.as_bytes()));
            let decoded = decode(&mime.body, charset.as_deref());
            MsgPayload::Text(TextMessage {
                // CRLF and lone CR alike (`\r\r\n` is two breaks, as `to_html` shows it).
                text: decoded.text.replace("\r\n", "\n").replace('\r', "\n"),
                format: mime
                    .header("X-MMS-IM-Format")
                    .map(|v| ImFormat::parse(v.as_bytes())),
                charset_issue: decoded.issue,
            })
        }
        "text/x-msmsgscontrol" => match mime.header("TypingUser") {
            Some(user) => MsgPayload::Typing {
                user: user.to_owned(),
            },
            None => MsgPayload::Unknown {
                content_type: Some(content_type),
            },
        },
        "text/x-msnmsgr-datacast" => {
            let body = Mime::parse(&mime.body);
            let id = body.header("ID").and_then(|v| v.parse().ok());
            match id {
                Some(1) => MsgPayload::Nudge,
                _ => MsgPayload::Datacast {
                    id,
                    data: body.header("Data").map(str::to_owned),
                },
            }
        }
        "text/x-mms-emoticon" | "text/x-mms-animemoticon" => MsgPayload::Emoticons {
            animated: content_type == "text/x-mms-animemoticon",
            list: emoticons::parse(&mime.body),
        },
        "image/gif" => MsgPayload::Ink(Ink::from_gif_body(&mime.body)),
        "application/x-ms-ink" => MsgPayload::Ink(Ink::Isf),
        "application/x-msnmsgrp2p" => MsgPayload::P2p {
            source: mime.header("P2P-Src").map(str::to_owned),
            destination: mime.header("P2P-Dest").map(str::to_owned),
            body: mime.body,
        },
        "text/x-clientcaps" => MsgPayload::ClientCaps {
            fields: Mime::parse(&mime.body).headers,
        },
        "text/x-keepalive" => MsgPayload::KeepAlive,
        _ => MsgPayload::Unknown {
            content_type: Some(content_type.chars().take(MAX_CONTENT_TYPE).collect()),
        },
    }
}

#[cfg(test)]
mod tests;
