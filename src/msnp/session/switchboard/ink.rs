//! Handwritten messages (ink) received on a switchboard or over P2P: a GIF is shown inline, ink
//! in ISF (which no libpurple front end can draw) and unreadable ink as a notice naming the
//! sender, so nothing a contact draws is dropped silently.

use crate::message::Ink;
use crate::session::Session;

use super::{ChatEvent, Conversation};

impl Session {
    /// Ink from `from` (shown as `friendly`) for `conversation`.
    pub(in crate::session) fn ink_received(
        &mut self,
        conversation: Conversation,
        from: &str,
        friendly: &str,
        ink: Ink,
    ) {
        self.typing_stopped(from);
        let text = match ink {
            Ink::Gif(gif) => {
                return self.chat_event(ChatEvent::Ink {
                    conversation,
                    from: from.to_owned(),
                    gif,
                })
            }
            Ink::Isf => format!(
                "{friendly} sent a handwritten message (ink in ISF format), which cannot be shown"
            ),
            Ink::Unreadable => {
                format!("{friendly} sent a handwritten message (ink) that could not be read")
            }
        };
        self.chat_event(ChatEvent::Notice { conversation, text });
    }
}
