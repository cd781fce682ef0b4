//! Offline messages (docs/protocol.md §9; MSNP11+, where the server announces them): the
//! `Mail-Data` announcements, fetching each message with RSI `GetMessage`, showing them in order
//! with their original time, deleting them only once shown; and storing texts for contacts who
//! are offline (OIM `Store2` with its lock-key challenge). MSNP13+ use the SSO tickets; MSNP11-12
//! the Passport 1.4 ticket of `USR TWN`, which the services take as well.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand_chacha::rand_core::RngCore;

use crate::auth::challenge;
use crate::http::HttpResponse;
use crate::message::{to_html, ImFormat};
use crate::mime::Mime;
use crate::session::cx::Cx;
use crate::session::{HttpId, Output};
use crate::soap::oim::{self, MailData, OfflineMessage, OimMeta};
use crate::soap::oim_store::{self, StoreOutcome, StoreParams};
use crate::soap::{with_status, Endpoints, SoapError};

use super::{chat_event, ChatEvent, Conversation};

/// Most message ids remembered (announced again while being handled are not fetched twice).
const MAX_KNOWN: usize = 2 * oim::MAX_MESSAGES;
/// Most offline messages being stored at once.
const MAX_STORES: usize = 64;
/// Most offline conversations (recipients) with a run id in one session.
const MAX_RUNS: usize = 256;
/// Times one offline message is asked for before it is left on the server for the next
/// sign-in.
pub(super) const MAX_FETCH_ATTEMPTS: u8 = 3;
/// The wait before asking again for a message the server failed to give; doubled each time.
pub(super) const FETCH_RETRY: Duration = Duration::from_secs(2);

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
    /// Messages the server failed to give, with the failures so far, asked for again at the
    /// time given.
    retry: Vec<(Instant, OimMeta, u8)>,
    /// Failures so far of the message being fetched (0 on its first try).
    fetch_failures: u8,
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

impl Offline {
    /// A `Mail-Data` announcement: fetch every message not seen yet.
    pub(super) fn announcement(&mut self, cx: &mut Cx, payload: &[u8], now: Instant) {
        let Some(value) = oim::mail_data(payload) else {
            return log::debug!("mail notification without Mail-Data");
        };
        match oim::parse_mail_data(value) {
            Ok(MailData::Messages(list)) => self.queue(cx, list, now),
            Ok(MailData::TooLarge) => self.metadata(cx),
            Err(e) => log::warn!("unreadable Mail-Data: {e}"),
        }
    }

    /// Whether texts for an offline contact can be stored on the server.
    pub(super) fn can_store(&self, cx: &Cx) -> bool {
        cx.dialect.offline_messages() && cx.tickets.store.is_some()
    }

    /// Stores `text` for `to`, who is offline; the result is reported in `to`'s conversation.
    pub(super) fn store(&mut self, cx: &mut Cx, to: &str, text: String, now: Instant) {
        let _ = now;
        if self.stores.len() >= MAX_STORES {
            return store_failed(cx, to, &text, "too many offline messages are being stored");
        }
        let (run_id, sequence) = self.next_in_run(cx, to);
        let store = Store {
            http: HttpId(0),
            to: to.to_owned(),
            text,
            run_id,
            sequence,
            retried: false,
        };
        self.send_store(cx, store);
    }

    /// An HTTP answer or failure; false when it is not for an offline-message request.
    pub(super) fn handle_http(
        &mut self,
        cx: &mut Cx,
        id: HttpId,
        result: Result<&[u8], &str>,
        now: Instant,
    ) -> bool {
        if self.fetching.as_ref().is_some_and(|(h, _)| *h == id) {
            let Some((_, meta)) = self.fetching.take() else {
                return true;
            };
            let failures = std::mem::take(&mut self.fetch_failures);
            match parse(result, oim::parse_get_message) {
                Ok(message) => self.fetched.push((meta, message)),
                Err(e) => self.fetch_failed(cx, meta, failures, &e, now),
            }
            self.next(cx, now);
        } else if self.metadata == Some(id) {
            self.metadata = None;
            match parse(result, oim::parse_get_metadata) {
                Ok(list) => self.queue(cx, list, now),
                Err(e) => log::warn!("offline message list not retrieved: {e}"),
            }
        } else if let Some(at) = self.deleting.iter().position(|h| *h == id) {
            self.deleting.remove(at);
            if let Err(e) = parse(result, crate::soap::envelope::parse_empty_response) {
                log::warn!("offline messages not deleted: {e}");
            }
        } else if let Some(at) = self.stores.iter().position(|s| s.http == id) {
            let store = self.stores.remove(at);
            self.store_answer(cx, store, parse(result, oim_store::parse_store));
        } else {
            return false;
        }
        true
    }

    /// Queues announced messages not seen yet and starts fetching.
    fn queue(&mut self, cx: &mut Cx, list: Vec<OimMeta>, now: Instant) {
        let mut shown_before = Vec::new();
        for meta in list {
            if self.known.contains(&meta.id) {
                continue;
            }
            if self.to_fetch.len() >= oim::MAX_MESSAGES {
                log::warn!("too many offline messages announced; the rest wait for next time");
                break;
            }
            if self.known.len() >= MAX_KNOWN {
                self.known.pop_front();
            }
            self.known.push_back(meta.id.clone());
            match cx.config.offline_shown.contains(&meta.id) {
                true => shown_before.push(meta.id),
                false => self.to_fetch.push_back(meta),
            }
        }
        if !shown_before.is_empty() {
            log::info!(
                "{} offline messages shown in an earlier session are still on the server; \
                 deleting them",
                shown_before.len()
            );
            self.delete(cx, &shown_before);
        }
        if self.fetching.is_none() {
            self.next(cx, now);
        }
    }

    /// `GetMetadata`, for a `Mail-Data: too-large`.
    fn metadata(&mut self, cx: &mut Cx) {
        if self.metadata.is_some() {
            return;
        }
        let (Some(endpoints), Some(ticket)) = (oim_endpoints(cx), cx.tickets.rsi) else {
            return log::info!("offline messages waiting, but no ticket to fetch them");
        };
        let id = cx.http_id();
        let request = oim::get_metadata_request(&endpoints, ticket);
        cx.output(Output::Http { id, request });
        self.metadata = Some(id);
    }

    /// A message the server did not give: asked for again later, with a bound and a growing
    /// wait; after the last try it stays on the server (not deleted) for the next sign-in,
    /// and the user is told.
    fn fetch_failed(
        &mut self,
        cx: &mut Cx,
        meta: OimMeta,
        failures: u8,
        error: &str,
        now: Instant,
    ) {
        let failures = failures.saturating_add(1);
        if failures < MAX_FETCH_ATTEMPTS {
            log::warn!(
                "offline message {} not retrieved ({error}); trying again",
                meta.id
            );
            let wait = FETCH_RETRY * 2u32.pow(u32::from(failures - 1));
            return self.retry.push((now + wait, meta, failures));
        }
        log::warn!("offline message {} not retrieved: {error}", meta.id);
        let from = meta.sender.to_ascii_lowercase();
        chat_event(
            cx,
            ChatEvent::Notice {
                conversation: Conversation::Im(from.clone()),
                text: format!(
                    "An offline message from {from} could not be retrieved ({error}); it stays \
                     on the server and comes at your next sign-in"
                ),
            },
        );
    }

    /// When the next message the server failed to give is asked for again.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.retry.iter().map(|(at, _, _)| *at).min()
    }

    /// Asks again for the messages whose wait is over (one at a time, as always).
    pub(super) fn handle_timeout(&mut self, cx: &mut Cx, now: Instant) {
        if self.fetching.is_some() || !self.retry.iter().any(|(at, _, _)| *at <= now) {
            return;
        }
        let at = self
            .retry
            .iter()
            .position(|(at, _, _)| *at <= now)
            .unwrap_or_default();
        let (_, meta, failures) = self.retry.remove(at);
        self.to_fetch.push_front(meta);
        self.fetch_failures = failures;
        self.next(cx, now);
    }

    /// Fetches the next queued message, or shows the batch when none is left.
    fn next(&mut self, cx: &mut Cx, now: Instant) {
        let (Some(endpoints), Some(ticket)) = (oim_endpoints(cx), cx.tickets.rsi) else {
            self.to_fetch.clear();
            return log::info!("offline messages waiting, but no ticket to fetch them");
        };
        while let Some(meta) = self.to_fetch.pop_front() {
            match oim::get_message_request(&endpoints, ticket, &meta.id) {
                Ok(request) => {
                    let id = cx.http_id();
                    cx.output(Output::Http { id, request });
                    self.fetching = Some((id, meta));
                    return;
                }
                Err(e) => log::warn!("offline message {:?} cannot be fetched: {e}", meta.id),
            }
        }
        self.show(cx, now);
    }

    /// Shows the fetched messages, oldest first (a sender's run in sequence order), then
    /// deletes them from the server.
    fn show(&mut self, cx: &mut Cx, _now: Instant) {
        let mut batch = std::mem::take(&mut self.fetched);
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
            chat_event(
                cx,
                ChatEvent::Message {
                    conversation: Conversation::Im(from.clone()),
                    from,
                    friendly,
                    html: to_html(&message.text, &plain),
                    timestamp: message.date.or(meta.received),
                },
            );
            shown.push(meta.id);
        }
        chat_event(cx, ChatEvent::OfflineShown { ids: shown.clone() });
        self.delete(cx, &shown);
    }

    /// `DeleteMessages` for messages already shown.
    fn delete(&mut self, cx: &mut Cx, ids: &[String]) {
        let (Some(endpoints), Some(ticket)) = (oim_endpoints(cx), cx.tickets.rsi) else {
            return;
        };
        for chunk in ids.chunks(oim::MAX_DELETE_IDS) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            match oim::delete_messages_request(&endpoints, ticket, &refs) {
                Ok(request) => {
                    let id = cx.http_id();
                    cx.output(Output::Http { id, request });
                    self.deleting.push(id);
                }
                Err(e) => log::warn!("offline messages cannot be deleted: {e}"),
            }
        }
    }

    /// The session ends: offline messages not yet confirmed stored are reported.
    pub(super) fn abandon(&mut self, cx: &mut Cx, reason: &str) {
        for store in std::mem::take(&mut self.stores) {
            store_failed(cx, &store.to, &store.text, reason);
        }
    }

    /// Sends (or re-sends) a `Store2` request.
    fn send_store(&mut self, cx: &mut Cx, mut store: Store) {
        let (Some(endpoints), Some(ticket)) = (oim_endpoints(cx), cx.tickets.store) else {
            return store_failed(
                cx,
                &store.to,
                &store.text,
                "offline messages are not available",
            );
        };
        let dialect = cx.dialect;
        let product = dialect.challenge_product();
        let lock_key = self.lock_key.clone().unwrap_or_default();
        let msnp = dialect.to_string();
        let params = StoreParams {
            from: &cx.config.account,
            friendly_name: "",
            to: &store.to,
            ticket,
            product_id: product.id,
            lock_key: &lock_key,
            run_id: &store.run_id,
            sequence: store.sequence,
            msnp_version: &msnp,
            build_version: dialect.oim_build_version(),
        };
        match oim_store::store_request(&endpoints, &params, &store.text) {
            Ok(request) => {
                let id = cx.http_id();
                cx.output(Output::Http { id, request });
                store.http = id;
                self.stores.push(store);
            }
            Err(e) => {
                log::warn!("offline message cannot be stored: {e}");
                store_failed(
                    cx,
                    &store.to,
                    &store.text,
                    "it cannot be stored as an offline message",
                );
            }
        }
    }

    /// The store service's answer.
    fn store_answer(
        &mut self,
        cx: &mut Cx,
        mut store: Store,
        outcome: Result<StoreOutcome, String>,
    ) {
        match outcome {
            Ok(StoreOutcome::Stored) => chat_event(
                cx,
                ChatEvent::Notice {
                    conversation: Conversation::Im(store.to.clone()),
                    text: format!(
                    "{} is offline; the message was stored and will be delivered when they sign in",
                    store.to
                ),
                },
            ),
            Ok(StoreOutcome::LockKeyRequired { challenge }) if !store.retried => {
                match challenge::answer(&challenge, cx.dialect) {
                    Ok((_, key)) => {
                        self.lock_key = Some(key);
                        store.retried = true;
                        self.send_store(cx, store);
                    }
                    Err(e) => {
                        log::warn!("offline message lock key: {e}");
                        store_failed(
                            cx,
                            &store.to,
                            &store.text,
                            "the offline message service refused it",
                        );
                    }
                }
            }
            Ok(StoreOutcome::LockKeyRequired { .. }) => store_failed(
                cx,
                &store.to,
                &store.text,
                "the offline message service refused it",
            ),
            Err(e) => {
                log::warn!("offline message not stored: {e}");
                store_failed(
                    cx,
                    &store.to,
                    &store.text,
                    "it could not be stored as an offline message",
                );
            }
        }
    }

    /// The run id of the offline conversation with `to` and the next sequence number in it.
    fn next_in_run(&mut self, cx: &mut Cx, to: &str) -> (String, u32) {
        let runs = &mut self.runs;
        if let Some(run) = runs.iter_mut().find(|(who, _, _)| who == to) {
            run.2 = run.2.saturating_add(1);
            return (run.1.clone(), run.2);
        }
        if runs.len() >= MAX_RUNS {
            runs.remove(0);
        }
        let mut bytes = [0u8; 16];
        cx.rng.fill_bytes(&mut bytes);
        let run_id = crate::auth::sso::guid_from_bytes(bytes);
        runs.push((to.to_owned(), run_id.clone(), 1));
        (run_id, 1)
    }
}

/// Reports a text for an offline contact as not delivered.
fn store_failed(cx: &mut Cx, to: &str, text: &str, reason: &str) {
    chat_event(
        cx,
        ChatEvent::Undelivered {
            conversation: Conversation::Im(to.to_owned()),
            text: text.to_owned(),
            reason: format!("the contact is offline and {reason}"),
        },
    );
}

/// The SOAP endpoints: under the services URL, else on the host of the RST URL.
fn oim_endpoints(cx: &Cx) -> Option<Endpoints> {
    Endpoints::new(&cx.config.sso_url, cx.config.services_url.as_deref())
        .map_err(|e| log::warn!("no offline-message service: {e}"))
        .ok()
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
