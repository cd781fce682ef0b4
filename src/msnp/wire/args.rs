//! Splitting a command line into tokens, reading them one by one, and the parse error type.

use super::percent;
use thiserror::Error;

/// What was wrong with a command that could not be parsed. The session logs it and ignores the
/// command; none of these is fatal for the connection by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The line is empty.
    #[error("empty command line")]
    Empty,
    /// The first token is not three upper-case letters or three digits.
    #[error("invalid command verb")]
    InvalidVerb,
    /// The line contains a CR, LF or NUL byte.
    #[error("control character in command line")]
    ControlCharacter,
    /// A required argument is missing.
    #[error("missing argument")]
    MissingArgument,
    /// A number (TrID, count, length, version) is not a plain decimal that fits.
    #[error("invalid number")]
    InvalidNumber,
    /// An argument has an unexpected value (unknown keyword, flag, mode or list name).
    #[error("invalid argument")]
    InvalidArgument,
    /// An unknown presence status code.
    #[error("invalid status code")]
    InvalidStatus,
    /// A capability field that is not `caps` or `caps:capsex`.
    #[error("invalid capabilities")]
    InvalidCapabilities,
    /// A `host:port` that does not parse.
    #[error("invalid server address")]
    InvalidAddress,
    /// A payload command arrived without its payload.
    #[error("missing payload")]
    MissingPayload,
    /// The payload does not have the length announced on the line.
    #[error("payload length does not match the command line")]
    PayloadLengthMismatch,
    /// A payload came with a command that never has one.
    #[error("unexpected payload")]
    UnexpectedPayload,
    /// A client command verb this codec does not encode.
    #[error("unknown command")]
    UnknownCommand,
    /// The command uses a shape of a protocol version this codec does not support (MSNP2–7 lists).
    #[error("command shape not supported in this protocol version")]
    UnsupportedDialect,
}

/// Checks the verb and splits a line into its verb and argument tokens.
///
/// Tokens are separated by spaces; empty tokens (doubled or trailing spaces, as in Escargot's
/// `LST … 11 1 `) are skipped.
pub(crate) fn split_line(line: &[u8]) -> Result<(&str, Args<'_>), ParseError> {
    if line.iter().any(|&b| matches!(b, b'\r' | b'\n' | b'\0')) {
        return Err(ParseError::ControlCharacter);
    }
    let mut tokens = line.split(|&b| b == b' ').filter(|t| !t.is_empty());
    let verb = tokens.next().ok_or(ParseError::Empty)?;
    let valid = verb.len() == 3
        && (verb.iter().all(u8::is_ascii_uppercase) || verb.iter().all(u8::is_ascii_digit));
    if !valid {
        return Err(ParseError::InvalidVerb);
    }
    let verb = std::str::from_utf8(verb).map_err(|_| ParseError::InvalidVerb)?;
    Ok((
        verb,
        Args {
            tokens: tokens.collect(),
            pos: 0,
        },
    ))
}

/// A cursor over the argument tokens of one line.
#[derive(Debug)]
pub(crate) struct Args<'a> {
    tokens: Vec<&'a [u8]>,
    pos: usize,
}

impl<'a> Args<'a> {
    /// Number of tokens not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.tokens.len().saturating_sub(self.pos)
    }

    /// The next token, without consuming it.
    pub(crate) fn peek(&self) -> Option<&'a [u8]> {
        self.tokens.get(self.pos).copied()
    }

    /// The next token as raw bytes.
    pub(crate) fn raw(&mut self) -> Result<&'a [u8], ParseError> {
        let token = self.peek().ok_or(ParseError::MissingArgument)?;
        self.pos += 1;
        Ok(token)
    }

    /// The next token, percent-decoded.
    pub(crate) fn text(&mut self) -> Result<String, ParseError> {
        self.raw().map(percent::decode)
    }

    /// The next token percent-decoded, if there is one.
    pub(crate) fn opt_text(&mut self) -> Option<String> {
        self.text().ok()
    }

    /// The next token exactly as sent (no percent-decoding), for opaque strings such as the
    /// Passport challenge that must be passed on verbatim. Invalid UTF-8 becomes U+FFFD.
    pub(crate) fn verbatim(&mut self) -> Result<String, ParseError> {
        self.raw().map(|t| String::from_utf8_lossy(t).into_owned())
    }

    /// The next token as a decimal `u32`.
    pub(crate) fn number(&mut self) -> Result<u32, ParseError> {
        number(self.raw()?)
    }

    /// The next token as a decimal `u32` if it is one (consumed only then).
    pub(crate) fn opt_number(&mut self) -> Option<u32> {
        let n = number(self.peek()?).ok()?;
        self.pos += 1;
        Some(n)
    }

    /// The next token if it equals `keyword` (consumed only then).
    pub(crate) fn keyword(&mut self, keyword: &str) -> bool {
        let found = self.peek() == Some(keyword.as_bytes());
        if found {
            self.pos += 1;
        }
        found
    }

    /// The last token, consumed, leaving the ones before it.
    pub(crate) fn pop_last(&mut self) -> Result<&'a [u8], ParseError> {
        if self.remaining() == 0 {
            return Err(ParseError::MissingArgument);
        }
        self.tokens.pop().ok_or(ParseError::MissingArgument)
    }
}

/// A decimal `u32` made of digits only (no sign, no spaces).
pub(crate) fn number(token: &[u8]) -> Result<u32, ParseError> {
    if token.is_empty() || token.len() > 10 || !token.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::InvalidNumber);
    }
    token
        .iter()
        .try_fold(0u32, |acc, &d| {
            acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
        .ok_or(ParseError::InvalidNumber)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_verb_and_skips_empty_tokens() {
        let (verb, mut args) = split_line(b"LST N=a F=b  11 1 ").unwrap();
        assert_eq!(verb, "LST");
        assert_eq!(args.remaining(), 4);
        assert_eq!(args.raw().unwrap(), b"N=a");
        assert_eq!(args.pop_last().unwrap(), b"1");
        assert_eq!(args.remaining(), 2);
    }

    #[test]
    fn rejects_bad_verbs_and_control_characters() {
        assert_eq!(split_line(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(split_line(b"   ").unwrap_err(), ParseError::Empty);
        assert_eq!(split_line(b"usr 1").unwrap_err(), ParseError::InvalidVerb);
        assert_eq!(split_line(b"US 1").unwrap_err(), ParseError::InvalidVerb);
        assert_eq!(split_line(b"9A1 1").unwrap_err(), ParseError::InvalidVerb);
        assert_eq!(
            split_line(b"USR\xff 1").unwrap_err(),
            ParseError::InvalidVerb
        );
        assert_eq!(
            split_line(b"MSG a\nb 1").unwrap_err(),
            ParseError::ControlCharacter
        );
        assert_eq!(
            split_line(b"MSG a\0b 1").unwrap_err(),
            ParseError::ControlCharacter
        );
        assert!(split_line(b"911 4").is_ok());
    }

    #[test]
    fn numbers_are_plain_decimal_u32() {
        assert_eq!(number(b"0"), Ok(0));
        assert_eq!(number(b"4294967295"), Ok(u32::MAX));
        for bad in [
            &b""[..],
            b"4294967296",
            b"+1",
            b"-1",
            b"1 ",
            b"0x10",
            b"12345678901",
        ] {
            assert_eq!(number(bad), Err(ParseError::InvalidNumber), "{bad:?}");
        }
    }

    #[test]
    fn optional_readers_consume_only_on_match() {
        let (_, mut args) = split_line(b"XFR 5 SB host:1").unwrap();
        assert!(!args.keyword("NS"));
        assert_eq!(args.opt_number(), Some(5));
        assert_eq!(args.opt_number(), None);
        assert!(args.keyword("SB"));
        assert_eq!(args.text().unwrap(), "host:1");
        assert_eq!(args.opt_text(), None);
        assert_eq!(args.raw(), Err(ParseError::MissingArgument));
    }
}
