//! Stored offline messages (docs/protocol.md §9, transcript `extra-oim/`): what `Store2` keeps, the
//! `Mail-Data` that announces them, and the mail text `GetMessage` returns.

use crate::clock;
use base64::Engine as _;

/// Most offline messages kept in all (the oldest go first).
const MAX_STORED: usize = 10_000;
/// More messages than this are announced as `Mail-Data: too-large`.
const MAX_LISTED: usize = 25;
/// The folder id Escargot gives offline messages.
const FOLDER: &str = "00000000-0000-0000-0000-000000000009";

/// One stored offline message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    /// Message id (upper-case GUID).
    pub(crate) id: String,
    /// Recipient.
    pub(crate) to: String,
    /// Sender.
    pub(crate) from: String,
    /// Sender's display name.
    pub(crate) from_friendly: String,
    /// `X-OIM-Run-Id`.
    pub(crate) run_id: String,
    /// `X-OIM-Sequence-Num`.
    pub(crate) sequence: u32,
    /// The base64 body as sent (line breaks removed).
    pub(crate) body: String,
    /// When it was stored (Unix seconds).
    pub(crate) received: u64,
}

/// Every stored offline message.
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    messages: Vec<Stored>,
}

impl Mailbox {
    /// Keeps a message.
    pub(crate) fn store(&mut self, message: Stored) {
        if self.messages.len() >= MAX_STORED {
            self.messages.remove(0);
        }
        self.messages.push(message);
    }

    /// `email`'s messages, oldest first.
    pub(crate) fn for_user(&self, email: &str) -> Vec<Stored> {
        self.messages
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(email))
            .cloned()
            .collect()
    }

    /// `email`'s message `id`.
    pub(crate) fn get(&self, email: &str, id: &str) -> Option<Stored> {
        self.messages
            .iter()
            .find(|m| m.to.eq_ignore_ascii_case(email) && m.id.eq_ignore_ascii_case(id))
            .cloned()
    }

    /// Deletes `email`'s messages among `ids`; returns how many went.
    pub(crate) fn delete(&mut self, email: &str, ids: &[String]) -> usize {
        let before = self.messages.len();
        self.messages.retain(|m| {
            !(m.to.eq_ignore_ascii_case(email) && ids.iter().any(|i| i.eq_ignore_ascii_case(&m.id)))
        });
        before - self.messages.len()
    }

    /// How many messages wait for `email`.
    pub(crate) fn count_for(&self, email: &str) -> usize {
        self.messages
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(email))
            .count()
    }
}

/// `=?utf-8?B?…?=` of a display name.
fn encoded_word(text: &str) -> String {
    format!(
        "=?utf-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

/// One `<M>` element announcing `message`.
fn meta(message: &Stored) -> String {
    format!(
        "<M><T>11</T><S>6</S><RT>{}</RT><RS>0</RS><SZ>{}</SZ><E>{}</E><I>{}</I><F>{FOLDER}</F><N>{}</N></M>",
        clock::iso8601(message.received),
        format_oim(message).len(),
        message.from,
        message.id,
        encoded_word(&message.from_friendly),
    )
}

/// The `Mail-Data` value listing `messages` (`too-large` past 25, as Escargot).
pub(crate) fn mail_data(messages: &[Stored], with_counters: bool) -> String {
    if messages.len() > MAX_LISTED {
        return "too-large".to_owned();
    }
    let mut out = String::from("<MD>");
    if with_counters {
        out.push_str("<E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E>");
    }
    out.push_str("<Q><QTM>409600</QTM><QNM>204800</QNM></Q>");
    for m in messages {
        out.push_str(&meta(m));
    }
    out.push_str("</MD>");
    out
}

/// The `MSG Hotmail Hotmail` payload of `content_type` (`text/x-msmsgsinitialmdatanotification`
/// or `text/x-msmsgsoimnotification`) carrying `mail_data`.
pub(crate) fn notification(content_type: &str, mail_data: &str) -> String {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: {content_type}; charset=UTF-8\r\n\r\nMail-Data: {mail_data}\r\n"
    )
}

/// The notification that `count` offline messages were deleted.
pub(crate) fn deleted_notification(count: usize) -> String {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsactivemailnotification; charset=UTF-8\r\n\r\n\
         Src-Folder: .!!OIM\r\nDest-Folder: .!!trAsH\r\nMessage-Delta: {count}\r\n"
    )
}

/// `24 Nov 2026 22:28:57 +0000`: the `Date:` of a stored message.
fn mail_date(secs: u64) -> String {
    let http = clock::http_date(secs);
    let without_day = http
        .split_once(", ")
        .map_or(http.as_str(), |(_, rest)| rest);
    without_day.replace(" GMT", " +0000")
}

/// The stored message as mail text, as `GetMessage` returns it (Escargot's `format_oim`).
pub(crate) fn format_oim(m: &Stored) -> String {
    let date = mail_date(m.received);
    format!(
        "X-Message-Info: cwRBnLifKNE8dVZlNj6AiX8142B67OTjG9BFMLMyzuui1H4Xx7m3NQ==\n\
         Received: from OIM-SSI02.phx.gbl ([65.54.237.206]) by oim1-f1.hotmail.com with Microsoft SMTPSVC(6.0.3790.211);\n\
         \t {date}\n\
         From: {} <{}>\n\
         To: {}\n\
         Subject: \n\
         X-OIM-originatingSource: 127.0.0.1\n\
         X-OIMProxy: MSNMSGR\n\
         MIME-Version: 1.0\n\
         Content-Type: text/plain; charset=UTF-8\n\
         Content-Transfer-Encoding: base64\n\
         X-OIM-Message-Type: OfflineMessage\n\
         X-OIM-Run-Id: {}\n\
         X-OIM-Sequence-Num: {}\n\
         Message-ID: <OIM-SSI02{}@OIM-SSI02.phx.gbl>\n\
         Date: {date}\n\
         Return-Path: ndr@oim.messenger.msn.com\n\
         \n\
         {}",
        encoded_word(&m.from_friendly),
        m.from,
        m.to,
        m.run_id,
        m.sequence,
        m.id.replace('-', "").to_ascii_lowercase(),
        m.body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(to: &str, id: &str) -> Stored {
        Stored {
            id: id.into(),
            to: to.into(),
            from: "alice@example.com".into(),
            from_friendly: "Alice".into(),
            run_id: "{3A3BE82C-684D-4F4F-8005-CBE8D4F82BAD}".into(),
            sequence: 1,
            body: "b2ZmbGluZSBoZWxsbyB0byBib2Ig4pyJ".into(),
            received: 1_795_559_337,
        }
    }

    #[test]
    fn mail_data_lists_like_escargot() {
        let m = stored("bob@example.com", "831F2871-4EDA-488A-9B7F-66800ED46E25");
        let md = mail_data(std::slice::from_ref(&m), true);
        assert!(md.starts_with("<MD><E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E><Q><QTM>409600</QTM><QNM>204800</QNM></Q><M><T>11</T><S>6</S><RT>2026-11-24T22:28:57Z</RT>"));
        assert!(md.ends_with("<E>alice@example.com</E><I>831F2871-4EDA-488A-9B7F-66800ED46E25</I><F>00000000-0000-0000-0000-000000000009</F><N>=?utf-8?B?QWxpY2U=?=</N></M></MD>"));
        let many: Vec<Stored> = (0..26)
            .map(|i| stored("bob@example.com", &format!("{i}")))
            .collect();
        assert_eq!(mail_data(&many, true), "too-large");
        assert!(format_oim(&m).ends_with("\n\nb2ZmbGluZSBoZWxsbyB0byBib2Ig4pyJ"));
    }

    #[test]
    fn messages_are_kept_per_recipient_until_deleted() {
        let mut box_ = Mailbox::default();
        box_.store(stored("bob@example.com", "A"));
        box_.store(stored("carol@example.com", "B"));
        assert_eq!(box_.count_for("BOB@example.com"), 1);
        assert!(box_.get("bob@example.com", "B").is_none());
        assert_eq!(box_.delete("bob@example.com", &["B".into(), "a".into()]), 1);
        assert_eq!(box_.count_for("bob@example.com"), 0);
        assert_eq!(box_.count_for("carol@example.com"), 1);
    }
}
