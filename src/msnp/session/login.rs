//! Sign-in: `VER`, `CVR`, `USR` with Passport 1.4 (MSNP8-12) or SSO (MSNP15-18), `XFR NS`
//! redirects, and what follows `USR OK`.

use rand_chacha::rand_core::RngCore;

use crate::auth::{passport, rst, sso, AuthError};
use crate::dialect::Dialect;
use crate::http::HttpResponse;
use crate::mime::Mime;
use crate::secret::Secret;
use crate::wire::{Capabilities, ClientCommand, NsCommand, UsrStep, XfrTarget};

use super::cx::{Cx, Tickets};
use super::{EndReason, Event, HttpId, Output};

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
                contacts: tokens.contacts.as_ref(),
            },
            None => Tickets {
                rsi: self.passport.as_ref(),
                store: self.passport.as_ref(),
                contacts: None,
            },
        }
    }
}

impl Login {
    /// The NS connection is up: offer versions.
    pub(super) fn handle_connected(&mut self, cx: &mut Cx) {
        cx.event(Event::Progress { step: 1 });
        let versions = cx.config.offered_versions();
        cx.send_ns(ClientCommand::Ver { dialects: versions });
        self.step = Step::Version;
    }

    /// A server command while signing in.
    pub(super) fn handle_command(&mut self, cx: &mut Cx, command: NsCommand) -> Next {
        match (&self.step, command) {
            (Step::Version, NsCommand::Ver(ver)) => {
                let offered = cx.config.offered_versions();
                match ver.chosen().filter(|v| offered.contains(v)) {
                    Some(version) => {
                        let dialect = Dialect::new(version);
                        cx.send_ns(ClientCommand::Cvr {
                            locale: "0x0409".into(),
                            os_type: "winnt".into(),
                            os_version: "6.1.0".into(),
                            cpu: "i386".into(),
                            client_name: "MSNMSGR".into(),
                            client_version: dialect.cvr_client_version().into(),
                            brand: "msmsgs".into(),
                            login: cx.config.account.clone(),
                        });
                        self.step = Step::ClientVersion;
                        Next::Negotiated(dialect)
                    }
                    None => Next::End(EndReason::UnsupportedVersion {
                        offered: offered
                            .iter()
                            .map(|v| format!("MSNP{v}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
            (Step::ClientVersion, NsCommand::Cvr(_)) => {
                cx.event(Event::Progress { step: 2 });
                let login = cx.config.account.clone();
                let command = if cx.dialect.sso_login() {
                    ClientCommand::UsrSsoInit { login }
                } else {
                    ClientCommand::UsrTwnInit { login }
                };
                cx.send_ns(command);
                self.step = Step::UserInitial;
                Next::Wait
            }
            (Step::UserInitial, NsCommand::Xfr(xfr)) => match xfr.target {
                XfrTarget::Ns { address } => self.redirect(address.host, address.port),
                XfrTarget::Sb { .. } => {
                    log::warn!("switchboard referral while signing in ignored");
                    Next::Wait
                }
            },
            (Step::UserInitial, NsCommand::Usr(usr)) => match usr.step {
                UsrStep::TwnChallenge { challenge } => {
                    cx.event(Event::Progress { step: 3 });
                    let request = passport::nexus_request(&cx.config.nexus_url);
                    self.http(cx, request, |http| Step::Nexus { http, challenge })
                }
                UsrStep::SsoChallenge { policy, nonce } => {
                    cx.event(Event::Progress { step: 3 });
                    let request = rst::rst_request(
                        &cx.config.sso_url,
                        &cx.config.account,
                        &cx.config.password,
                        &policy,
                    );
                    self.http(cx, request, |http| Step::SecurityTokens { http, nonce })
                }
                other => Next::End(EndReason::BadServerReply(format!(
                    "unexpected sign-in step {other:?}"
                ))),
            },
            (Step::UserSubsequent, NsCommand::Usr(usr))
                if matches!(usr.step, UsrStep::Ok { .. }) =>
            {
                self.step = Step::Done;
                Next::SignedIn
            }
            (_, NsCommand::Error(e)) => {
                log::warn!("sign-in refused: error {} ({})", e.code, e.description());
                Next::End(login_error(e.code, e.description()))
            }
            (_, NsCommand::Gcf(_)) => {
                log::debug!("server policies received");
                Next::Wait
            }
            (step, other) => {
                log::warn!("unexpected command while signing in ({step:?}): {other:?}");
                Next::Wait
            }
        }
    }

    /// An HTTP answer during sign-in.
    pub(super) fn handle_http(&mut self, cx: &mut Cx, id: HttpId, raw: &[u8]) -> Next {
        if !self.is_waiting_for(id) {
            return Next::Wait;
        }
        let response = match HttpResponse::parse(raw) {
            Ok(response) => response,
            Err(e) => return Next::End(EndReason::BadServerReply(format!("login server: {e}"))),
        };
        match std::mem::take(&mut self.step) {
            Step::Nexus { challenge, .. } => match passport::parse_nexus(&response) {
                Ok(dalogin) => self.passport_login(cx, &dalogin, challenge),
                Err(e) => auth_failed(e),
            },
            Step::Passport { challenge, .. } => match passport::parse_login(&response) {
                Ok(ticket) => {
                    self.passport = Some(passport_token(&ticket));
                    cx.send_ns(ClientCommand::UsrTwnAuth { ticket });
                    self.step = Step::UserSubsequent;
                    Next::Wait
                }
                Err(AuthError::Redirect(url)) if self.redirects < MAX_REDIRECTS => {
                    self.redirects += 1;
                    self.passport_login(cx, &url, challenge)
                }
                Err(e) => auth_failed(e),
            },
            Step::SecurityTokens { nonce, .. } => match rst::parse_rst(&response) {
                Ok(tokens) => self.sso_answer(cx, tokens, &nonce),
                Err(e) => auth_failed(e),
            },
            other => {
                self.step = other;
                Next::Wait
            }
        }
    }

    fn passport_login(&mut self, cx: &mut Cx, dalogin: &str, challenge: String) -> Next {
        let request =
            passport::login_request(dalogin, &cx.config.account, &cx.config.password, &challenge);
        self.http(cx, request, |http| Step::Passport { http, challenge })
    }

    fn sso_answer(&mut self, cx: &mut Cx, tokens: rst::SecurityTokens, nonce: &str) -> Next {
        let mut iv = [0u8; 8];
        cx.rng.fill_bytes(&mut iv);
        let blob = match sso::mbi_response(tokens.binary_secret.expose(), nonce, iv) {
            Ok(blob) => blob,
            Err(e) => {
                return Next::End(EndReason::BadServerReply(format!(
                    "cannot answer the SSO challenge: {e}"
                )))
            }
        };
        let guid = (cx.dialect.endpoints()).then(|| cx.config.machine_guid.clone());
        let ticket = tokens.messenger_clear.ticket.clone();
        cx.send_ns(ClientCommand::UsrSsoAuth {
            ticket,
            response: Some(Secret::new(blob)),
            machine_guid: guid,
        });
        self.tokens = Some(tokens);
        self.step = Step::UserSubsequent;
        Next::Wait
    }

    /// Queues an HTTP request and moves to the step that waits for it.
    fn http(
        &mut self,
        cx: &mut Cx,
        request: Result<crate::http::HttpRequest, AuthError>,
        step: impl FnOnce(HttpId) -> Step,
    ) -> Next {
        match request {
            Ok(request) => {
                let id = cx.http_id();
                cx.output(Output::Http { id, request });
                self.step = step(id);
                Next::Wait
            }
            Err(e) => Next::End(EndReason::BadServerReply(format!(
                "cannot build the login request: {e}"
            ))),
        }
    }

    /// `XFR NS`: sign in again at another notification server.
    fn redirect(&mut self, host: String, port: u16) -> Next {
        if self.redirects >= MAX_REDIRECTS {
            return Next::End(EndReason::BadServerReply("too many redirects".into()));
        }
        self.redirects += 1;
        log::info!("redirected to notification server {host}:{port}");
        self.step = Step::Connecting;
        Next::Redirect { host, port }
    }

    /// Keeps what later features need from the profile message.
    pub(super) fn profile_message(&mut self, payload: &[u8]) {
        let mime = Mime::parse(payload);
        if mime.content_type().as_deref() == Some("text/x-msmsgsprofile") {
            self.mspauth = mime.header("MSPAuth").map(|v| Secret::new(v.to_owned()));
        }
    }
}

/// What the session does after the login part handled an input.
#[derive(Debug)]
pub(super) enum Next {
    /// Nothing more; sign-in goes on.
    Wait,
    /// The server chose this dialect.
    Negotiated(Dialect),
    /// Sign in again at this notification server.
    Redirect { host: String, port: u16 },
    /// `USR OK`: signed in.
    SignedIn,
    /// Sign-in failed.
    End(EndReason),
}

/// The login service refused or answered something unusable.
fn auth_failed(error: AuthError) -> Next {
    log::warn!("login service: {error}");
    Next::End(match error {
        AuthError::BadCredentials => EndReason::BadCredentials,
        other => EndReason::BadServerReply(other.to_string()),
    })
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
