//! Offline messages (docs/protocol.md §9; MSNP11+, where the server announces them): the
//! `Mail-Data` announcements, fetching each message with RSI `GetMessage`, showing them in order
//! with their original time, deleting them only once shown; and storing texts for contacts who
//! are offline (OIM `Store2` with its lock-key challenge). MSNP13+ use the SSO tickets; MSNP11-12
//! the Passport 1.4 ticket of `USR TWN`, which the services take as well.

use std::collections::VecDeque;
use std::time::Instant;

use rand_chacha::rand_core::RngCore;

use crate::auth::challenge;
use crate::auth::rst::Token;
use crate::http::HttpResponse;
use crate::message::{to_html, ImFormat};
use crate::mime::Mime;
use crate::session::{HttpId, Output, Session};
use crate::soap::oim::{self, MailData, OfflineMessage, OimMeta};
use crate::soap::oim_store::{self, StoreOutcome, StoreParams};
use crate::soap::{with_status, Endpoints, SoapError};

use super::{ChatEvent, Conversation};

/// Most message ids remembered (announced again while being handled are not fetched twice).
const MAX_KNOWN: usize = 2 * oim::MAX_MESSAGES;
/// Most offline messages being stored at once.
const MAX_STORES: usize = 64;
/// Most offline conversations (recipients) with a run id in one session.
const MAX_RUNS: usize = 256;

/// Content types of the NS messages that announce offline messages.
const ANNOUNCEMENTS: [&str; 2] = [
    "text/x-msmsgsinitialmdatanotification",
    "text/x-msmsgsoimnotification",
];

/// One offline message being stored.
#[derive(Debug)]
struct Store {
    http: HttpId,
    to: String,
    text: String,
    run_id: String,
    sequence: u32,
    /// Already sent again with a fresh lock key.
    retried: bool,
}

/// Offline-message state of a session.
#[derive(Debug, Default)]
pub(super) struct Offline {
    /// Message ids already queued, fetched or shown.
    known: VecDeque<String>,
    to_fetch: VecDeque<OimMeta>,
    fetching: Option<(HttpId, OimMeta)>,
    metadata: Option<HttpId>,
    /// Fetched, waiting for the rest of the batch to be shown in order.
    fetched: Vec<(OimMeta, OfflineMessage)>,
    deleting: Vec<HttpId>,
    lock_key: Option<String>,
    /// Per recipient: run id and the next sequence number.
    runs: Vec<(String, String, u32)>,
    stores: Vec<Store>,
}

/// Whether an `MSG Hotmail Hotmail` payload announces offline messages.
pub(super) fn is_announcement(payload: &[u8]) -> bool {
    Mime::parse(payload)
        .content_type()
        .is_some_and(|t| ANNOUNCEMENTS.contains(&t.as_str()))
}

impl Session {
    /// A `Mail-Data` announcement: fetch every message not seen yet.
    pub(super) fn offline_announcement(&mut self, payload: &[u8], now: Instant) {
        let Some(value) = oim::mail_data(payload) else {
            return log::debug!("mail notification without Mail-Data");
        };
        match oim::parse_mail_data(value) {
            Ok(MailData::Messages(list)) => self.offline_queue(list, now),
            Ok(MailData::TooLarge) => self.offline_metadata(),
            Err(e) => log::warn!("unreadable Mail-Data: {e}"),
        }
    }

    /// Whether texts for an offline contact can be stored on the server.
    pub(super) fn can_store_offline(&self) -> bool {
        self.speaks().offline_messages() && self.store_ticket().is_some()
    }

    /// Stores `text` for `to`, who is offline; the result is reported in `to`'s conversation.
    pub(super) fn store_offline(&mut self, to: &str, text: String, now: Instant) {
        let _ = now;
        if self.switchboards.offline.stores.len() >= MAX_STORES {
            return self.store_failed(to, &text, "too many offline messages are being stored");
        }
        let (run_id, sequence) = self.next_in_run(to);
        let store = Store {
            http: HttpId(0),
            to: to.to_owned(),
            text,
            run_id,
            sequence,
            retried: false,
        };
        self.send_store(store);
    }

    /// An HTTP answer or failure; false when it is not for an offline-message request.
    pub(super) fn offline_http(
        &mut self,
        id: HttpId,
        result: Result<&[u8], &str>,
        now: Instant,
    ) -> bool {
        let offline = &mut self.switchboards.offline;
        if offline.fetching.as_ref().is_some_and(|(h, _)| *h == id) {
            let Some((_, meta)) = offline.fetching.take() else {
                return true;
            };
            match parse(result, oim::parse_get_message) {
                Ok(message) => offline.fetched.push((meta, message)),
                Err(e) => log::warn!("offline message {} not retrieved: {e}", meta.id),
            }
            self.offline_next(now);
        } else if offline.metadata == Some(id) {
            offline.metadata = None;
            match parse(result, oim::parse_get_metadata) {
                Ok(list) => self.offline_queue(list, now),
                Err(e) => log::warn!("offline message list not retrieved: {e}"),
            }
        } else if let Some(at) = offline.deleting.iter().position(|h| *h == id) {
            offline.deleting.remove(at);
            if let Err(e) = parse(result, crate::soap::envelope::parse_empty_response) {
                log::warn!("offline messages not deleted: {e}");
            }
        } else if let Some(at) = offline.stores.iter().position(|s| s.http == id) {
            let store = offline.stores.remove(at);
            self.store_answer(store, parse(result, oim_store::parse_store));
        } else {
            return false;
        }
        true
    }

    /// Queues announced messages not seen yet and starts fetching.
    fn offline_queue(&mut self, list: Vec<OimMeta>, now: Instant) {
        let offline = &mut self.switchboards.offline;
        for meta in list {
            if offline.known.contains(&meta.id) {
                continue;
            }
            if offline.to_fetch.len() >= oim::MAX_MESSAGES {
                log::warn!("too many offline messages announced; the rest wait for next time");
                break;
            }
            if offline.known.len() >= MAX_KNOWN {
                offline.known.pop_front();
            }
            offline.known.push_back(meta.id.clone());
            offline.to_fetch.push_back(meta);
        }
        if offline.fetching.is_none() {
            self.offline_next(now);
        }
    }

    /// `GetMetadata`, for a `Mail-Data: too-large`.
    fn offline_metadata(&mut self) {
        if self.switchboards.offline.metadata.is_some() {
            return;
        }
        let (Some(endpoints), Some(ticket)) = (self.oim_endpoints(), self.rsi_ticket()) else {
            return log::info!("offline messages waiting, but no ticket to fetch them");
        };
        let id = self.next_http_id();
        let request = oim::get_metadata_request(&endpoints, &ticket);
        self.out.push_back(Output::Http { id, request });
        self.switchboards.offline.metadata = Some(id);
    }

    /// Fetches the next queued message, or shows the batch when none is left.
    fn offline_next(&mut self, now: Instant) {
        let (Some(endpoints), Some(ticket)) = (self.oim_endpoints(), self.rsi_ticket()) else {
            self.switchboards.offline.to_fetch.clear();
            return log::info!("offline messages waiting, but no ticket to fetch them");
        };
        while let Some(meta) = self.switchboards.offline.to_fetch.pop_front() {
            match oim::get_message_request(&endpoints, &ticket, &meta.id) {
                Ok(request) => {
                    let id = self.next_http_id();
                    self.out.push_back(Output::Http { id, request });
                    self.switchboards.offline.fetching = Some((id, meta));
                    return;
                }
                Err(e) => log::warn!("offline message {:?} cannot be fetched: {e}", meta.id),
            }
        }
        self.offline_show(now);
    }

    /// Shows the fetched messages, oldest first (a sender's run in sequence order), then
    /// deletes them from the server.
    fn offline_show(&mut self, _now: Instant) {
        let mut batch = std::mem::take(&mut self.switchboards.offline.fetched);
        if batch.is_empty() {
            return;
        }
        batch.sort_by_key(|(meta, m)| {
            (
                m.date.or(meta.received).unwrap_or(0),
                m.run_id.clone(),
                m.sequence.unwrap_or(0),
            )
        });
        let plain = ImFormat::parse(b"");
        let mut shown = Vec::new();
        for (meta, message) in batch {
            let from = match message.sender.is_empty() {
                true => meta.sender.to_ascii_lowercase(),
                false => message.sender.to_ascii_lowercase(),
            };
            let friendly = match message.friendly.is_empty() {
                true => meta.friendly.clone(),
                false => message.friendly.clone(),
            };
            self.chat_event(ChatEvent::Message {
                conversation: Conversation::Im(from.clone()),
                from,
                friendly,
                html: to_html(&message.text, &plain),
                timestamp: message.date.or(meta.received),
            });
            shown.push(meta.id);
        }
        self.offline_delete(&shown);
    }

    /// `DeleteMessages` for messages already shown.
    fn offline_delete(&mut self, ids: &[String]) {
        let (Some(endpoints), Some(ticket)) = (self.oim_endpoints(), self.rsi_ticket()) else {
            return;
        };
        for chunk in ids.chunks(oim::MAX_DELETE_IDS) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            match oim::delete_messages_request(&endpoints, &ticket, &refs) {
                Ok(request) => {
                    let id = self.next_http_id();
                    self.out.push_back(Output::Http { id, request });
                    self.switchboards.offline.deleting.push(id);
                }
                Err(e) => log::warn!("offline messages cannot be deleted: {e}"),
            }
        }
    }

    /// The session ends: offline messages not yet confirmed stored are reported.
    pub(super) fn offline_abandon(&mut self, reason: &str) {
        for store in std::mem::take(&mut self.switchboards.offline.stores) {
            self.store_failed(&store.to, &store.text, reason);
        }
    }

    /// Sends (or re-sends) a `Store2` request.
    fn send_store(&mut self, mut store: Store) {
        let (Some(endpoints), Some(ticket)) = (self.oim_endpoints(), self.store_ticket()) else {
            return self.store_failed(&store.to, &store.text, "offline messages are not available");
        };
        let dialect = self.speaks();
        let product = dialect.challenge_product();
        let lock_key = self
            .switchboards
            .offline
            .lock_key
            .clone()
            .unwrap_or_default();
        let msnp = dialect.to_string();
        let params = StoreParams {
            from: &self.config.account,
            friendly_name: "",
            to: &store.to,
            ticket: &ticket,
            product_id: product.id,
            lock_key: &lock_key,
            run_id: &store.run_id,
            sequence: store.sequence,
            msnp_version: &msnp,
            build_version: dialect.oim_build_version(),
        };
        match oim_store::store_request(&endpoints, &params, &store.text) {
            Ok(request) => {
                let id = self.next_http_id();
                self.out.push_back(Output::Http { id, request });
                store.http = id;
                self.switchboards.offline.stores.push(store);
            }
            Err(e) => {
                log::warn!("offline message cannot be stored: {e}");
                self.store_failed(
                    &store.to,
                    &store.text,
                    "it cannot be stored as an offline message",
                );
            }
        }
    }

    /// The store service's answer.
    fn store_answer(&mut self, mut store: Store, outcome: Result<StoreOutcome, String>) {
        match outcome {
            Ok(StoreOutcome::Stored) => self.chat_event(ChatEvent::Notice {
                conversation: Conversation::Im(store.to.clone()),
                text: format!(
                    "{} is offline; the message was stored and will be delivered when they sign in",
                    store.to
                ),
            }),
            Ok(StoreOutcome::LockKeyRequired { challenge }) if !store.retried => {
                match challenge::answer(&challenge, self.speaks()) {
                    Ok((_, key)) => {
                        self.switchboards.offline.lock_key = Some(key);
                        store.retried = true;
                        self.send_store(store);
                    }
                    Err(e) => {
                        log::warn!("offline message lock key: {e}");
                        self.store_failed(
                            &store.to,
                            &store.text,
                            "the offline message service refused it",
                        );
                    }
                }
            }
            Ok(StoreOutcome::LockKeyRequired { .. }) => self.store_failed(
                &store.to,
                &store.text,
                "the offline message service refused it",
            ),
            Err(e) => {
                log::warn!("offline message not stored: {e}");
                self.store_failed(
                    &store.to,
                    &store.text,
                    "it could not be stored as an offline message",
                );
            }
        }
    }

    fn store_failed(&mut self, to: &str, text: &str, reason: &str) {
        self.chat_event(ChatEvent::Undelivered {
            conversation: Conversation::Im(to.to_owned()),
            text: text.to_owned(),
            reason: format!("the contact is offline and {reason}"),
        });
    }

    /// The run id of the offline conversation with `to` and the next sequence number in it.
    fn next_in_run(&mut self, to: &str) -> (String, u32) {
        let runs = &mut self.switchboards.offline.runs;
        if let Some(run) = runs.iter_mut().find(|(who, _, _)| who == to) {
            run.2 = run.2.saturating_add(1);
            return (run.1.clone(), run.2);
        }
        if runs.len() >= MAX_RUNS {
            runs.remove(0);
        }
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        let run_id = crate::auth::sso::guid_from_bytes(bytes);
        runs.push((to.to_owned(), run_id.clone(), 1));
        (run_id, 1)
    }

    /// The SOAP endpoints: under the services URL, else on the host of the RST URL.
    fn oim_endpoints(&self) -> Option<Endpoints> {
        Endpoints::new(&self.config.sso_url, self.config.services_url.as_deref())
            .map_err(|e| log::warn!("no offline-message service: {e}"))
            .ok()
    }

    /// The `messenger.msn.com` ticket (RSI), or the Passport 1.4 ticket before SSO.
    fn rsi_ticket(&self) -> Option<Token> {
        match &self.login.tokens {
            Some(tokens) => tokens.messenger.clone(),
            None => self.login.passport.clone(),
        }
    }

    /// The `messengersecure.live.com` ticket (`Store2`), or the Passport 1.4 ticket before
    /// SSO.
    fn store_ticket(&self) -> Option<Token> {
        match &self.login.tokens {
            Some(tokens) => tokens.messenger_secure.clone(),
            None => self.login.passport.clone(),
        }
    }
}

/// Parses an HTTP result with a SOAP parser, the status taken into account.
fn parse<T>(
    result: Result<&[u8], &str>,
    parser: impl FnOnce(&[u8]) -> Result<T, SoapError>,
) -> Result<T, String> {
    let raw = result.map_err(str::to_owned)?;
    let response = HttpResponse::parse(raw).map_err(|e| e.to_string())?;
    with_status(response.status, parser(&response.body)).map_err(|e| e.to_string())
}
