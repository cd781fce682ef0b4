//! Messages on their way out: the payload, the acknowledgement asked for, and what the user is
//! shown if the message cannot be delivered.

use crate::message::{nudge_payload, text_payloads, ImFormat};
use crate::mime::Mime;
use crate::wire::sb::AckMode;

/// What a queued message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum What {
    /// (One part of) a text message; the plain text, line breaks as `\n`.
    Text(String),
    /// A nudge.
    Nudge,
    /// A declaration of our custom emoticons, sent before the text that uses them.
    Emoticons,
}

/// One `MSG` to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Outgoing {
    /// The MIME payload, at most 1,664 bytes.
    pub(super) payload: Vec<u8>,
    /// What it is.
    pub(super) what: What,
    /// Switchboards it was on that were lost (a message is re-sent on a new one once).
    pub(super) attempts: u8,
}

impl Outgoing {
    /// A text as one or more messages that each fit a switchboard `MSG`, in order.
    pub(super) fn texts(text: &str, format: &ImFormat) -> Vec<Outgoing> {
        text_payloads(text, format)
            .into_iter()
            .map(|payload| {
                let part = body_text(&payload);
                Outgoing {
                    payload,
                    what: What::Text(part),
                    attempts: 0,
                }
            })
            .collect()
    }

    /// A nudge.
    pub(super) fn nudge() -> Outgoing {
        Outgoing {
            payload: nudge_payload(),
            what: What::Nudge,
            attempts: 0,
        }
    }

    /// A custom emoticon declaration (see `message::emoticons::payloads`).
    pub(super) fn emoticons(payload: Vec<u8>) -> Outgoing {
        Outgoing {
            payload,
            what: What::Emoticons,
            attempts: 0,
        }
    }

    /// The acknowledgement mode: texts are always acknowledged so a loss is noticed; nudges
    /// and emoticon declarations (as Pidgin's `msn.c` sends them) only report failure.
    pub(super) fn ack(&self) -> AckMode {
        match self.what {
            What::Text(_) => AckMode::Always,
            What::Nudge | What::Emoticons => AckMode::NakOnly,
        }
    }

    /// What the user is shown when it is not delivered.
    pub(super) fn description(&self) -> String {
        match &self.what {
            What::Text(text) => text.clone(),
            What::Nudge => "(nudge)".to_owned(),
            What::Emoticons => "(custom emoticons)".to_owned(),
        }
    }
}

/// The body of a payload we built (after its header block), line breaks as `\n`.
fn body_text(payload: &[u8]) -> String {
    String::from_utf8_lossy(&Mime::parse(payload).body).replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MAX_PAYLOAD;

    #[test]
    fn long_text_splits_into_parts_that_fit_and_join_to_the_whole() {
        let text: String = "ünïcödé text, ".repeat(400);
        let parts = Outgoing::texts(&text, &ImFormat::default());
        assert!(parts.len() > 3);
        assert!(parts.iter().all(|p| p.payload.len() <= MAX_PAYLOAD));
        let joined: String = parts
            .iter()
            .map(|p| match &p.what {
                What::Text(t) => t.as_str(),
                What::Nudge | What::Emoticons => panic!("not a text"),
            })
            .collect();
        assert_eq!(joined, text);
        assert!(parts.iter().all(|p| p.ack() == AckMode::Always));
    }

    #[test]
    fn line_breaks_come_back_as_newlines() {
        let parts = Outgoing::texts("one\ntwo", &ImFormat::default());
        assert_eq!(parts.len(), 1);
        assert!(parts[0].payload.ends_with(b"one\r\ntwo"));
        assert_eq!(parts[0].description(), "one\ntwo");
    }

    #[test]
    fn nudges_ask_only_for_failures() {
        let n = Outgoing::nudge();
        assert_eq!(n.ack(), AckMode::NakOnly);
        assert_eq!(n.description(), "(nudge)");
    }
}
