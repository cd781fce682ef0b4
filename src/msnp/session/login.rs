//! Sign-in: `VER`, `CVR`, `USR` with Passport 1.4 (MSNP8-12) or SSO (MSNP15-18), `XFR NS`
//! redirects, and what follows `USR OK`.

use std::time::Instant;

use rand_chacha::rand_core::RngCore;

use crate::auth::{passport, rst, sso, AuthError};
use crate::dialect::Dialect;
use crate::http::HttpResponse;
use crate::mime::Mime;
use crate::secret::Secret;
use crate::wire::{Capabilities, ClientCommand, NsCommand, UsrStep, XfrTarget};

use super::cx::Tickets;
use super::{timers, EndReason, Event, HttpId, Output, Session, Timer};

/// Most `XFR NS` redirects (and Passport 302s) followed in one sign-in.
const MAX_REDIRECTS: u8 = 5;

/// Where sign-in stands.
#[derive(Debug, Default)]
enum Step {
    /// Waiting for the NS connection.
    #[default]
    Connecting,
    /// `VER` sent.
    Version,
    /// `CVR` sent.
    ClientVersion,
    /// `USR … I` sent.
    UserInitial,
    /// Fetching the Passport nexus for the TWN challenge.
    Nexus { http: HttpId, challenge: String },
    /// Logging in at the Passport DALogin URL.
    Passport { http: HttpId, challenge: String },
    /// Requesting the SSO security tokens.
    SecurityTokens { http: HttpId, nonce: String },
    /// `USR … S` sent.
    UserSubsequent,
    /// `USR OK` received: signed in.
    Done,
}

/// Sign-in state.
#[derive(Debug, Default)]
pub(super) struct Login {
    step: Step,
    redirects: u8,
    /// From the profile `MSG`: the MSPAuth cookie (offline messages, later issues).
    pub(super) mspauth: Option<Secret<String>>,
    /// Tokens for the SOAP services (MSNP15+), kept for later issues.
    pub(super) tokens: Option<rst::SecurityTokens>,
    /// The Passport 1.4 ticket of `USR TWN` (MSNP8-12): what the offline-message services
    /// take at those versions.
    pub(super) passport: Option<rst::Token>,
}

impl Login {
    pub(super) fn is_done(&self) -> bool {
        matches!(self.step, Step::Done)
    }

    pub(super) fn is_waiting_for(&self, id: HttpId) -> bool {
        matches!(self.step,
            Step::Nexus { http, .. } | Step::Passport { http, .. } | Step::SecurityTokens { http, .. } if http == id)
    }

    /// The tickets for the web services: the SSO tokens, or the Passport 1.4 ticket before SSO.
    pub(super) fn tickets(&self) -> Tickets<'_> {
        match &self.tokens {
            Some(tokens) => Tickets {
                rsi: tokens.messenger.as_ref(),
                store: tokens.messenger_secure.as_ref(),
            },
            None => Tickets {
                rsi: self.passport.as_ref(),
                store: self.passport.as_ref(),
            },
        }
    }
}

impl Session {
    /// The NS connection is up: offer versions.
    pub(super) fn login_connected(&mut self) {
        self.event(Event::Progress { step: 1 });
        let versions = self.config.offered_versions();
        self.send(ClientCommand::Ver { dialects: versions });
        self.login.step = Step::Version;
    }

    /// A server command while signing in.
    pub(super) fn login_command(&mut self, command: NsCommand, now: Instant) {
        match (&self.login.step, command) {
            (Step::Version, NsCommand::Ver(ver)) => {
                let offered = self.config.offered_versions();
                match ver.chosen().filter(|v| offered.contains(v)) {
                    Some(version) => {
                        let dialect = Dialect::new(version);
                        self.dialect = Some(dialect);
                        self.send(ClientCommand::Cvr {
                            locale: "0x0409".into(),
                            os_type: "winnt".into(),
                            os_version: "6.1.0".into(),
                            cpu: "i386".into(),
                            client_name: "MSNMSGR".into(),
                            client_version: dialect.cvr_client_version().into(),
                            brand: "msmsgs".into(),
                            login: self.config.account.clone(),
                        });
                        self.login.step = Step::ClientVersion;
                    }
                    None => self.end(EndReason::UnsupportedVersion {
                        offered: offered
                            .iter()
                            .map(|v| format!("MSNP{v}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
            (Step::ClientVersion, NsCommand::Cvr(_)) => {
                self.event(Event::Progress { step: 2 });
                let login = self.config.account.clone();
                let command = if self.speaks().sso_login() {
                    ClientCommand::UsrSsoInit { login }
                } else {
                    ClientCommand::UsrTwnInit { login }
                };
                self.send(command);
                self.login.step = Step::UserInitial;
            }
            (Step::UserInitial, NsCommand::Xfr(xfr)) => match xfr.target {
                XfrTarget::Ns { address } => self.redirect(&address.host, address.port, now),
                XfrTarget::Sb { .. } => log::warn!("switchboard referral while signing in ignored"),
            },
            (Step::UserInitial, NsCommand::Usr(usr)) => match usr.step {
                UsrStep::TwnChallenge { challenge } => {
                    self.event(Event::Progress { step: 3 });
                    let url = self.config.nexus_url.clone();
                    self.http(passport::nexus_request(&url), |http| Step::Nexus {
                        http,
                        challenge,
                    });
                }
                UsrStep::SsoChallenge { policy, nonce } => {
                    self.event(Event::Progress { step: 3 });
                    let request = rst::rst_request(
                        &self.config.sso_url,
                        &self.config.account,
                        &self.config.password,
                        &policy,
                    );
                    self.http(request, |http| Step::SecurityTokens { http, nonce });
                }
                other => self.end(EndReason::BadServerReply(format!(
                    "unexpected sign-in step {other:?}"
                ))),
            },
            (Step::UserSubsequent, NsCommand::Usr(usr))
                if matches!(usr.step, UsrStep::Ok { .. }) =>
            {
                self.signed_in(now)
            }
            (_, NsCommand::Error(e)) => {
                log::warn!("sign-in refused: error {} ({})", e.code, e.description());
                self.end(login_error(e.code, e.description()));
            }
            (_, NsCommand::Gcf(_)) => log::debug!("server policies received"),
            (step, other) => {
                log::warn!("unexpected command while signing in ({step:?}): {other:?}")
            }
        }
    }

    /// An HTTP answer during sign-in.
    pub(super) fn login_http_response(&mut self, id: HttpId, raw: &[u8], now: Instant) {
        if !self.login.is_waiting_for(id) {
            return;
        }
        let response = match HttpResponse::parse(raw) {
            Ok(response) => response,
            Err(e) => return self.end(EndReason::BadServerReply(format!("login server: {e}"))),
        };
        match std::mem::take(&mut self.login.step) {
            Step::Nexus { challenge, .. } => match passport::parse_nexus(&response) {
                Ok(dalogin) => self.passport_login(&dalogin, challenge),
                Err(e) => self.auth_failed(e),
            },
            Step::Passport { challenge, .. } => match passport::parse_login(&response) {
                Ok(ticket) => {
                    self.login.passport = Some(passport_token(&ticket));
                    self.send(ClientCommand::UsrTwnAuth { ticket });
                    self.login.step = Step::UserSubsequent;
                }
                Err(AuthError::Redirect(url)) if self.login.redirects < MAX_REDIRECTS => {
                    self.login.redirects += 1;
                    self.passport_login(&url, challenge);
                }
                Err(e) => self.auth_failed(e),
            },
            Step::SecurityTokens { nonce, .. } => match rst::parse_rst(&response) {
                Ok(tokens) => self.sso_answer(tokens, &nonce),
                Err(e) => self.auth_failed(e),
            },
            other => self.login.step = other,
        }
        let _ = now;
    }

    fn passport_login(&mut self, dalogin: &str, challenge: String) {
        let request = passport::login_request(
            dalogin,
            &self.config.account,
            &self.config.password,
            &challenge,
        );
        self.http(request, |http| Step::Passport { http, challenge });
    }

    fn sso_answer(&mut self, tokens: rst::SecurityTokens, nonce: &str) {
        let mut iv = [0u8; 8];
        self.rng.fill_bytes(&mut iv);
        let blob = match sso::mbi_response(tokens.binary_secret.expose(), nonce, iv) {
            Ok(blob) => blob,
            Err(e) => {
                return self.end(EndReason::BadServerReply(format!(
                    "cannot answer the SSO challenge: {e}"
                )))
            }
        };
        let guid = (self.speaks().endpoints()).then(|| self.config.machine_guid.clone());
        let ticket = tokens.messenger_clear.ticket.clone();
        self.send(ClientCommand::UsrSsoAuth {
            ticket,
            response: Some(Secret::new(blob)),
            machine_guid: guid,
        });
        self.login.tokens = Some(tokens);
        self.login.step = Step::UserSubsequent;
    }

    fn auth_failed(&mut self, error: AuthError) {
        log::warn!("login service: {error}");
        let reason = match error {
            AuthError::BadCredentials => EndReason::BadCredentials,
            other => EndReason::BadServerReply(other.to_string()),
        };
        self.end(reason);
    }

    /// Queues an HTTP request and moves to the step that waits for it.
    fn http(
        &mut self,
        request: Result<crate::http::HttpRequest, AuthError>,
        step: impl FnOnce(HttpId) -> Step,
    ) {
        match request {
            Ok(request) => {
                let id = self.next_http_id();
                self.out.push_back(Output::Http { id, request });
                self.login.step = step(id);
            }
            Err(e) => self.end(EndReason::BadServerReply(format!(
                "cannot build the login request: {e}"
            ))),
        }
    }

    /// `XFR NS`: sign in again at another notification server.
    fn redirect(&mut self, host: &str, port: u16, now: Instant) {
        if self.login.redirects >= MAX_REDIRECTS {
            return self.end(EndReason::BadServerReply("too many redirects".into()));
        }
        self.login.redirects += 1;
        log::info!("redirected to notification server {host}:{port}");
        if let Some(old) = self.ns.take() {
            self.out.push_back(Output::Close { conn: old.id });
        }
        self.dialect = None;
        self.login.step = Step::Connecting;
        self.timers.set(Timer::Login, now + timers::LOGIN_TIMEOUT);
        self.connect_ns(host.to_owned(), port);
    }

    /// `USR OK`: online. Sends what every client sends next and starts the keepalive.
    fn signed_in(&mut self, now: Instant) {
        self.login.step = Step::Done;
        self.timers.stop(Timer::Login);
        self.timers.set(Timer::Ping, now + self.ping_interval);
        self.event(Event::Progress { step: 4 });
        // What every client sends at once goes out before the UI hears it is online.
        self.contacts_signed_in(now);
        self.event(Event::SignedIn {
            version: self.speaks().version(),
        });
    }

    /// Keeps what later features need from the profile message.
    pub(super) fn profile_message(&mut self, payload: &[u8]) {
        let mime = Mime::parse(payload);
        if mime.content_type().as_deref() == Some("text/x-msmsgsprofile") {
            self.login.mspauth = mime.header("MSPAuth").map(|v| Secret::new(v.to_owned()));
        }
    }
}

/// Our capabilities for `CHG`: the MSNC generation of the protocol version plus multi-packet
/// messages; MSNP16+ adds the (empty) extended capabilities.
pub(super) fn client_caps(dialect: Dialect) -> Capabilities {
    Capabilities {
        client: (dialect.msnc_generation() << 28) | 0x20,
        extended: dialect.endpoints().then_some(0),
    }
}

/// A numeric error during sign-in, mapped to why the session ends.
fn login_error(code: u16, text: &'static str) -> EndReason {
    match code {
        911 | 917 | 928 | 931 | 205 | 208 => EndReason::BadCredentials,
        500 | 600..=605 | 910 | 912 | 914..=916 | 918..=922 => {
            EndReason::Unavailable { code, text }
        }
        _ => EndReason::Refused { code, text },
    }
}

/// The Passport 1.4 ticket as the offline-message services take it: `t=<token>[&p=…]`, the
/// `t=` added when the login server gave the bare token.
fn passport_token(ticket: &Secret<String>) -> rst::Token {
    let ticket = ticket.expose();
    let ticket = match ticket.starts_with("t=") {
        true => ticket.clone(),
        false => format!("t={ticket}"),
    };
    rst::Token {
        ticket: Secret::new(ticket),
    }
}
