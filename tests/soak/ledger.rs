//! The soak's books: every message it sent, with a unique id in its text, correlated with what
//! the senders and receivers saw (purple-stub events), and the counts the invariants check.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use crate::common::conversations::text_of;

/// Where a message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An IM to this account.
    Im(String),
    /// The sender's open group chat.
    Chat,
}

/// One message the soak sent.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Its id (in its text as `[m<id>]`).
    pub id: u64,
    /// The sending account.
    pub from: String,
    /// Where it went.
    pub to: Target,
}

/// The text of message `id`.
pub fn message_text(id: u64, from: &str) -> String {
    format!("soak [m{id}] from {from}")
}

/// Every `[m<id>]` in `text`.
pub fn ids_in(text: &str) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[m") {
        rest = &rest[start + 2..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if rest[digits.len()..].starts_with(']') {
            ids.extend(digits.parse::<u64>().ok());
        }
    }
    ids
}

fn has_flag(event: &Value, flag: &str) -> bool {
    event["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == flag))
}

fn message_ids(event: &Value) -> Vec<u64> {
    ids_in(&text_of(event["message"].as_str().unwrap_or_default()))
}

/// What one account's events say about the soak's messages.
#[derive(Debug, Default)]
pub struct Seen {
    /// Ids libpurple took from this account (written to the conversation as sent).
    pub accepted: Vec<u64>,
    /// Ids this account reported as not delivered (an error line with the text).
    pub reported: Vec<u64>,
    /// Ids this account received (as an IM or a chat message from someone else), with the
    /// sender.
    pub received: Vec<(u64, String)>,
    /// Sends refused before reaching the plugin or refused by it without the text: the stub's
    /// "not signed on" errors and libpurple's "Unable to send message" lines.
    pub refusals: usize,
}

impl Seen {
    /// Reads `account`'s events.
    pub fn read(account: &str, events: &[Value]) -> Seen {
        let mut seen = Seen::default();
        for e in events {
            let name = e["event"].as_str().unwrap_or_default();
            let from = e["from"].as_str().unwrap_or_default();
            match name {
                "im-sent" => seen.accepted.extend(message_ids(e)),
                "chat-message" if from == account && has_flag(e, "send") => {
                    seen.accepted.extend(message_ids(e))
                }
                "im" | "chat-message" if from != account => {
                    seen.received
                        .extend(message_ids(e).into_iter().map(|id| (id, from.to_owned())));
                }
                "write" if has_flag(e, "error") => {
                    let ids = message_ids(e);
                    if ids.is_empty() {
                        seen.refusals += 1;
                    }
                    seen.reported.extend(ids);
                }
                "error"
                    if matches!(e["command"].as_str(), Some("send-im" | "chat-send"))
                        && e["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("not signed on")) =>
                {
                    seen.refusals += 1
                }
                _ => {}
            }
        }
        seen
    }
}

/// The soak's message counts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Messages the driver sent.
    pub sent: usize,
    /// Of which chat messages.
    pub chat: usize,
    /// Taken by libpurple and the plugin (written as sent).
    pub accepted: usize,
    /// Refused at once (account not signed on at that instant), the user told.
    pub refused: usize,
    /// Delivered to their receiver exactly once (chats: to at least one member, to none twice).
    pub delivered: usize,
    /// Reported as not delivered, with their text, and not delivered.
    pub reported: usize,
    /// Reported as not delivered, yet delivered (the drop hid the `ACK`): no loss.
    pub reported_but_delivered: usize,
    /// Accepted, neither delivered nor reported.
    pub lost: Vec<u64>,
    /// Delivered more than once to one receiver.
    pub duplicates: Vec<u64>,
    /// IMs also received by a third account: one who joined the switchboard while the IM was
    /// on its way (MSNP relays to whoever is in the session when the message arrives, and the
    /// sender hears of the newcomer only after).
    pub overheard: usize,
    /// Not accepted, not reported, more than the refusals the accounts saw.
    pub unexplained_refusals: usize,
}

impl Tally {
    /// Correlates `sent` with every account's events (account name, events).
    pub fn count(sent: &[Sent], accounts: &[(String, Vec<Value>)]) -> Tally {
        let seen: HashMap<&str, Seen> = accounts
            .iter()
            .map(|(name, events)| (name.as_str(), Seen::read(name, events)))
            .collect();
        let mut tally = Tally {
            sent: sent.len(),
            ..Tally::default()
        };
        let mut refused_by: HashMap<&str, usize> = HashMap::new();
        for m in sent {
            let Some(sender) = seen.get(m.from.as_str()) else {
                continue;
            };
            let accepted = sender.accepted.contains(&m.id);
            let reported = sender.reported.contains(&m.id);
            let copies: Vec<&str> = seen
                .iter()
                .flat_map(|(who, s)| {
                    s.received
                        .iter()
                        .filter(|(id, from)| *id == m.id && *from == m.from)
                        .map(move |_| *who)
                })
                .collect();
            let delivered = match &m.to {
                Target::Im(to) => {
                    let to_them = copies.iter().filter(|who| *who == to).count();
                    if to_them > 1 {
                        tally.duplicates.push(m.id);
                    }
                    if to_them < copies.len() {
                        tally.overheard += 1;
                    }
                    to_them > 0
                }
                Target::Chat => {
                    tally.chat += 1;
                    let mut sorted = copies.clone();
                    sorted.sort_unstable();
                    sorted.dedup();
                    if sorted.len() != copies.len() || copies.contains(&m.from.as_str()) {
                        tally.duplicates.push(m.id);
                    }
                    !copies.is_empty()
                }
            };
            tally.accepted += usize::from(accepted);
            match (delivered, reported, accepted) {
                (true, true, _) => tally.reported_but_delivered += 1,
                (true, false, _) => tally.delivered += 1,
                (false, true, _) => tally.reported += 1,
                (false, false, true) => tally.lost.push(m.id),
                (false, false, false) => {
                    tally.refused += 1;
                    *refused_by.entry(m.from.as_str()).or_default() += 1;
                }
            }
        }
        tally.unexplained_refusals = refused_by
            .iter()
            .map(|(who, n)| n.saturating_sub(seen.get(who).map_or(0, |s| s.refusals)))
            .sum();
        tally
    }
}

/// What happened to messages `ids`: each one's sender and target, then every event that
/// mentions it (account, event, from, flags), for a failure message.
pub fn trace(ids: &[u64], sent: &[Sent], accounts: &[(String, Vec<Value>)]) -> String {
    let mut out = String::new();
    for id in ids {
        if let Some(m) = sent.iter().find(|m| m.id == *id) {
            out.push_str(&format!("[m{id}] {} -> {:?}\n", m.from, m.to));
        }
        for (account, events) in accounts {
            for e in events.iter().filter(|e| message_ids(e).contains(id)) {
                out.push_str(&format!(
                    "  {account}: {} from={} conversation={} flags={}\n",
                    e["event"], e["from"], e["conversation"], e["flags"]
                ));
            }
        }
    }
    out
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "messages {} ({} in chats): accepted {}, delivered {}, reported {}, reported but \
             delivered {}, refused while signed off {}, lost {}, duplicates {} (also seen by \
             someone joining as it was sent: {})",
            self.sent,
            self.chat,
            self.accepted,
            self.delivered,
            self.reported,
            self.reported_but_delivered,
            self.refused,
            self.lost.len(),
            self.duplicates.len(),
            self.overheard
        )
    }
}
