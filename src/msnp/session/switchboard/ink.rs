//! Handwritten messages (ink) received on a switchboard or over P2P: a GIF is shown inline, ink
//! in ISF (which no libpurple front end can draw) and unreadable ink as a notice naming the
//! sender, so nothing a contact draws is dropped silently.

use crate::message::Ink;

use super::{ChatEvent, Conversation};

/// What the user interface is shown for `ink` from `from` (named `friendly`) in
/// `conversation`.
pub(in crate::session) fn ink_event(
    conversation: Conversation,
    from: &str,
    friendly: &str,
    ink: Ink,
) -> ChatEvent {
    let text = match ink {
        Ink::Gif(gif) => {
            return ChatEvent::Ink {
                conversation,
                from: from.to_owned(),
                gif,
            }
        }
        Ink::Isf => format!(
            "{friendly} sent a handwritten message (ink in ISF format), which cannot be shown"
        ),
        Ink::Unreadable => {
            format!("{friendly} sent a handwritten message (ink) that could not be read")
        }
    };
    ChatEvent::Notice { conversation, text }
}
