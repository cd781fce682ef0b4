//! The MSNP wire codec: framing, percent-encoding and typed notification-server commands.
//!
//! Received bytes go through a [`Framer`] into [`Frame`]s; [`parse`] turns a frame from the
//! notification server into an [`NsCommand`]. Outgoing commands are [`ClientCommand`]s written by
//! [`ClientCommand::encode`], usually through a [`TrIdAllocator`]. Nothing here does I/O.
#![warn(missing_docs)]

mod args;
mod client;
mod framer;
mod ns;
mod ns_list;
mod ns_presence;
mod ns_session;
pub mod percent;
mod server_error;
mod types;

#[cfg(test)]
mod tests_client;
#[cfg(test)]
mod tests_ns;
#[cfg(test)]
mod tests_transcripts;
#[cfg(test)]
pub(crate) mod transcript;

pub use args::ParseError;
pub use client::{ClientCommand, TrIdAllocator};
pub use framer::{Direction, Frame, FrameError, Framer, Limits};
pub use ns::{parse, NsCommand, RawCommand};
pub use ns_list::{
    Adc, Add, Adg, Blp, Bpr, Fqy, Gtc, ListCounts, ListEntry, ListUpdate, Lsg, Lst, Prp, Reg, Rem,
    Rmg, Syn,
};
pub use ns_presence::{Chg, Fln, Iln, Not, Presence, Rng, Ubn, Ubx};
pub use ns_session::{
    Ack, Chl, Cvr, Gcf, Inf, Msg, Out, OutReason, Qng, Sbs, Usr, UsrStep, Ver, Xfr, XfrTarget,
};
pub use server_error::ServerError;
pub use types::{
    AddPrompt, Capabilities, HostPort, List, ListSet, ListVersion, PrivacyMode, Status,
};
pub mod sb;
