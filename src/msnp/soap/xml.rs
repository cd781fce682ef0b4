//! A resumable, hardened XML event stream shared by the SOAP and list-XML parsers.
//!
//! The stream owns the document, refuses DOCTYPEs (so no entity can be declared), caps nesting
//! depth, matches elements by local name (any namespace prefix works) and hands at most `budget`
//! events to a sink per [`XmlStream::step`], so a multi-megabyte answer can be parsed a slice at
//! a time between main-loop iterations. SOAP fault texts are collected on the way.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::Reader;

use super::SoapError;

/// Deepest element nesting accepted.
pub(crate) const MAX_DEPTH: usize = 64;
/// Most attributes accepted on one element whose attributes are read.
pub(crate) const MAX_ATTRIBUTES: usize = 32;
/// Longest fault code, fault string or lock-key challenge kept.
const MAX_FAULT_TEXT: usize = 200;

/// Why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum XmlError {
    /// Not well-formed, not UTF-8, has a DOCTYPE, or lacks something the caller needs.
    Malformed(&'static str),
    /// A size, depth or count limit was exceeded.
    TooLarge(&'static str),
}

impl From<XmlError> for SoapError {
    fn from(e: XmlError) -> SoapError {
        match e {
            XmlError::Malformed(what) => SoapError::Malformed(what),
            XmlError::TooLarge(what) => SoapError::TooLarge(what),
        }
    }
}

/// One thing the stream found. An empty element (`<a/>`) is reported as `Open` then `Close`.
pub(crate) enum Node<'a> {
    /// An element opened; it is already the last entry of the [`Path`].
    Open(&'a BytesStart<'a>),
    /// Unescaped character data (text or CDATA) of the element last in the [`Path`].
    Text(&'a str),
    /// The element last in the [`Path`] closes (it is removed after the sink returns).
    Close,
}

/// The local names of the open elements, outermost first.
#[derive(Default)]
pub(crate) struct Path {
    /// Name buffers, reused between elements; only the first `depth` are live.
    names: Vec<Vec<u8>>,
    depth: usize,
}

impl Path {
    /// The innermost open element's local name (empty outside the root).
    pub(crate) fn last(&self) -> &[u8] {
        self.depth
            .checked_sub(1)
            .and_then(|i| self.names.get(i))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether the innermost elements are exactly `tail` (outermost of them first).
    pub(crate) fn ends_with(&self, tail: &[&[u8]]) -> bool {
        tail.len() <= self.depth
            && self.names[self.depth - tail.len()..self.depth]
                .iter()
                .zip(tail)
                .all(|(name, want)| name.as_slice() == *want)
    }

    /// Whether any open element is called `name`.
    pub(crate) fn contains(&self, name: &[u8]) -> bool {
        self.names[..self.depth]
            .iter()
            .any(|n| n.as_slice() == name)
    }

    /// Number of open elements.
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    fn push(&mut self, name: &[u8]) {
        match self.names.get_mut(self.depth) {
            Some(slot) => {
                slot.clear();
                slot.extend_from_slice(name);
            }
            None => self.names.push(name.to_vec()),
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
}

/// The texts of a SOAP `Fault`, collected wherever it appears.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct FaultParts {
    /// `faultcode`.
    pub(crate) code: String,
    /// `faultstring`.
    pub(crate) text: String,
    /// `errorcode` from the fault's `detail` (address-book services).
    pub(crate) error_code: String,
    /// `LockKeyChallenge` from the fault's `detail` (OIM store).
    pub(crate) lock_key_challenge: String,
}

impl FaultParts {
    /// The fault as a [`SoapError::Fault`], texts trimmed.
    pub(crate) fn to_error(&self) -> SoapError {
        let code = match self.error_code.trim() {
            "" => self.code.trim(),
            specific => specific,
        };
        SoapError::Fault {
            code: code.to_owned(),
            text: self.text.trim().to_owned(),
        }
    }

    fn collect(&mut self, element: &[u8], text: &str) {
        let target = match element {
            b"faultcode" => &mut self.code,
            b"faultstring" => &mut self.text,
            b"errorcode" => &mut self.error_code,
            b"LockKeyChallenge" => &mut self.lock_key_challenge,
            _ => return,
        };
        let room = MAX_FAULT_TEXT.saturating_sub(target.chars().count());
        target.extend(text.chars().filter(|c| !c.is_control()).take(room));
    }
}

/// A zero-copy reader over a borrowed document.
type SliceReader<'a> = Reader<&'a [u8]>;

self_cell::self_cell!(
    /// The document together with the reader borrowing it, so events are slices of the
    /// document rather than copies, and the reader's state (open elements for the end-name
    /// check, position) carries over from one step to the next.
    struct Document {
        owner: Vec<u8>,
        #[covariant]
        dependent: SliceReader,
    }
);

/// A document being read event by event. See the module documentation.
pub(crate) struct XmlStream {
    document: Document,
    walk: Walk,
}

/// Everything but the document: what has been read so far.
struct Walk {
    path: Path,
    root: &'static [u8],
    saw_root: bool,
    done: bool,
    fault: Option<FaultParts>,
    /// Events read so far.
    events: usize,
}

impl XmlStream {
    /// Starts reading `body`, whose root element must have the local name `root`.
    /// Fails with [`XmlError::TooLarge`] if `body` is longer than `max_len`.
    pub(crate) fn new(
        body: Vec<u8>,
        root: &'static [u8],
        max_len: usize,
    ) -> Result<XmlStream, XmlError> {
        if body.len() > max_len {
            return Err(XmlError::TooLarge("document exceeds the size limit"));
        }
        Ok(XmlStream {
            document: Document::new(body, |body| Reader::from_reader(body.as_slice())),
            walk: Walk {
                path: Path::default(),
                root,
                saw_root: false,
                done: false,
                fault: None,
                events: 0,
            },
        })
    }

    /// How many events have been read so far (what the steps cost).
    pub(crate) fn events(&self) -> usize {
        self.walk.events
    }

    /// The SOAP fault seen in the document, if any.
    pub(crate) fn fault(&self) -> Option<&FaultParts> {
        self.walk.fault.as_ref()
    }

    /// Feeds at most `budget` events to `sink`; `Ok(true)` once the whole document has been
    /// read and found well-formed. After `Ok(true)` or an error, further calls do nothing.
    pub(crate) fn step<F>(&mut self, budget: usize, sink: F) -> Result<bool, XmlError>
    where
        F: FnMut(&Path, Node<'_>) -> Result<(), XmlError>,
    {
        let walk = &mut self.walk;
        self.document
            .with_dependent_mut(|_, reader| walk.step(reader, budget, sink))
    }

    /// Reads the rest of the document in one go (small documents, fuzz entry points).
    pub(crate) fn run<F>(&mut self, mut sink: F) -> Result<(), XmlError>
    where
        F: FnMut(&Path, Node<'_>) -> Result<(), XmlError>,
    {
        while !self.step(usize::MAX, &mut sink)? {}
        Ok(())
    }
}

impl Walk {
    fn step<F>(
        &mut self,
        reader: &mut SliceReader<'_>,
        budget: usize,
        mut sink: F,
    ) -> Result<bool, XmlError>
    where
        F: FnMut(&Path, Node<'_>) -> Result<(), XmlError>,
    {
        for _ in 0..budget {
            if self.done {
                return Ok(true);
            }
            self.events += 1;
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(_) => return self.fail(XmlError::Malformed("not well-formed XML")),
            };
            let result = match event {
                Event::Start(e) => Self::open(
                    &mut self.path,
                    &mut self.saw_root,
                    &mut self.fault,
                    self.root,
                    &e,
                    &mut sink,
                ),
                Event::Empty(e) => Self::open(
                    &mut self.path,
                    &mut self.saw_root,
                    &mut self.fault,
                    self.root,
                    &e,
                    &mut sink,
                )
                .and_then(|()| Self::close(&mut self.path, &mut sink)),
                Event::End(_) => Self::close(&mut self.path, &mut sink),
                Event::Text(e) => match unescape(&e) {
                    Some(text) => Self::text(&self.path, &mut self.fault, &text, &mut sink),
                    None => Err(XmlError::Malformed("bad text, escape or entity")),
                },
                Event::CData(e) => match std::str::from_utf8(&e) {
                    Ok(text) => Self::text(&self.path, &mut self.fault, text, &mut sink),
                    Err(_) => Err(XmlError::Malformed("CDATA is not UTF-8")),
                },
                Event::DocType(_) => Err(XmlError::Malformed("DOCTYPE is not allowed")),
                Event::Eof if self.path.depth() > 0 => Err(XmlError::Malformed("truncated")),
                Event::Eof if !self.saw_root => Err(XmlError::Malformed("no root element")),
                Event::Eof => {
                    self.done = true;
                    Ok(())
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => Ok(()),
            };
            if let Err(e) = result {
                return self.fail(e);
            }
        }
        Ok(self.done)
    }

    fn fail(&mut self, error: XmlError) -> Result<bool, XmlError> {
        self.done = true;
        Err(error)
    }

    fn open<F>(
        path: &mut Path,
        saw_root: &mut bool,
        fault: &mut Option<FaultParts>,
        root: &[u8],
        e: &BytesStart<'_>,
        sink: &mut F,
    ) -> Result<(), XmlError>
    where
        F: FnMut(&Path, Node<'_>) -> Result<(), XmlError>,
    {
        let name = e.local_name();
        if path.depth() == 0 {
            if *saw_root {
                return Err(XmlError::Malformed("more than one root element"));
            }
            if name.as_ref() != root {
                return Err(XmlError::Malformed("unexpected root element"));
            }
            *saw_root = true;
        }
        if path.depth() >= MAX_DEPTH {
            return Err(XmlError::TooLarge("elements nested too deeply"));
        }
        if name.as_ref() == b"Fault" && fault.is_none() {
            *fault = Some(FaultParts::default());
        }
        path.push(name.as_ref());
        sink(path, Node::Open(e))
    }

    fn close<F>(path: &mut Path, sink: &mut F) -> Result<(), XmlError>
    where
        F: FnMut(&Path, Node<'_>) -> Result<(), XmlError>,
    {
        let result = sink(path, Node::Close);
        path.pop();
        result
    }

    fn text<F>(
        path: &Path,
        fault: &mut Option<FaultParts>,
        text: &str,
        sink: &mut F,
    ) -> Result<(), XmlError>
    where
        F: FnMut(&Path, Node<'_>) -> Result<(), XmlError>,
    {
        if path.depth() == 0 {
            return match text.trim().is_empty() {
                true => Ok(()),
                false => Err(XmlError::Malformed("text outside the root element")),
            };
        }
        if let Some(fault) = fault.as_mut().filter(|_| path.contains(b"Fault")) {
            fault.collect(path.last(), text);
        }
        sink(path, Node::Text(text))
    }
}

/// The text of `e` with its escapes resolved, or `None` if it is not UTF-8 or has a bad escape.
/// What [`BytesText::unescape`] does (quick-xml's `encoding` feature is off, so decoding is a
/// UTF-8 check), minus its escape scan for the common text without `&`.
fn unescape<'a>(e: &'a BytesText<'_>) -> Option<Cow<'a, str>> {
    match e.contains(&b'&') {
        true => e.unescape().ok(),
        false => std::str::from_utf8(e).ok().map(Cow::Borrowed),
    }
}

/// The unescaped value of the attribute with local name `name`, if present. The whole tag is
/// checked: a malformed attribute, a repeated `name` or more than [`MAX_ATTRIBUTES`]
/// attributes is an error (which also keeps this linear on hostile tags).
pub(crate) fn attribute(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, XmlError> {
    let mut found = None;
    for (i, attr) in e.attributes().with_checks(false).enumerate() {
        if i >= MAX_ATTRIBUTES {
            return Err(XmlError::TooLarge("too many attributes"));
        }
        let attr = attr.map_err(|_| XmlError::Malformed("bad attribute"))?;
        if attr.key.local_name().as_ref() == name {
            if found.is_some() {
                return Err(XmlError::Malformed("repeated attribute"));
            }
            let value = attr
                .unescape_value()
                .map_err(|_| XmlError::Malformed("bad attribute value"))?;
            found = Some(value.into_owned());
        }
    }
    Ok(found)
}

/// Appends `text` to `target`, refusing to let it grow past `cap` bytes.
pub(crate) fn append(target: &mut String, text: &str, cap: usize) -> Result<(), XmlError> {
    if target.len() + text.len() > cap {
        return Err(XmlError::TooLarge("text value exceeds its limit"));
    }
    target.push_str(text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `(depth, innermost name, kind)` the stream reports, reading `budget` events a step.
    fn trace(doc: &str, budget: usize) -> Result<Vec<String>, XmlError> {
        let mut stream = XmlStream::new(doc.as_bytes().to_vec(), b"r", 1 << 20)?;
        let mut seen = Vec::new();
        let mut steps = 0;
        while !stream.step(budget, |path, node| {
            let name = String::from_utf8_lossy(path.last()).into_owned();
            seen.push(match node {
                Node::Open(_) => format!("{} <{name}", path.depth()),
                Node::Text(t) => format!("{} {name}:{t}", path.depth()),
                Node::Close => format!("{} {name}>", path.depth()),
            });
            Ok(())
        })? {
            steps += 1;
            assert!(steps < 1000, "stream never finishes");
        }
        Ok(seen)
    }

    #[test]
    fn events_come_with_their_path_and_resume_across_steps() {
        let doc = "<?xml version=\"1.0\"?>\n<x:r xmlns:x=\"u\"><a k=\"v\">1 &amp; 2</a><b/><![CDATA[<c>]]></x:r>\n";
        let whole = trace(doc, usize::MAX).unwrap();
        assert_eq!(
            whole,
            [
                "1 <r",
                "2 <a",
                "2 a:1 & 2",
                "2 a>",
                "2 <b",
                "2 b>",
                "1 r:<c>",
                "1 r>"
            ]
        );
        assert_eq!(trace(doc, 1).unwrap(), whole);
    }

    #[test]
    fn hostile_documents_are_refused() {
        let many_attributes: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!(" x{i}=\"\""))
            .collect();
        let many_attributes = format!("<r{many_attributes}/>");
        let deep = format!(
            "{}{}",
            "<r>".repeat(MAX_DEPTH + 1),
            "</r>".repeat(MAX_DEPTH + 1)
        );
        let cases = [
            ("", XmlError::Malformed("no root element")),
            ("<r><a></r>", XmlError::Malformed("not well-formed XML")),
            ("<r><a>", XmlError::Malformed("truncated")),
            ("<q/>", XmlError::Malformed("unexpected root element")),
            (
                "<r/><r/>",
                XmlError::Malformed("more than one root element"),
            ),
            (
                "junk<r/>",
                XmlError::Malformed("text outside the root element"),
            ),
            (
                "<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>",
                XmlError::Malformed("DOCTYPE is not allowed"),
            ),
            (
                "<r>&x;</r>",
                XmlError::Malformed("bad text, escape or entity"),
            ),
            (
                "<r a=\"1\" a=\"2\"/>",
                XmlError::Malformed("repeated attribute"),
            ),
            ("<r a=\"1\" b/>", XmlError::Malformed("bad attribute")),
            (
                many_attributes.as_str(),
                XmlError::TooLarge("too many attributes"),
            ),
            (
                deep.as_str(),
                XmlError::TooLarge("elements nested too deeply"),
            ),
        ];
        for (doc, expected) in cases {
            let result = trace(doc, 3).and_then(|_| {
                let mut s = XmlStream::new(doc.as_bytes().to_vec(), b"r", 1 << 20)?;
                s.run(|_, node| match node {
                    Node::Open(e) => attribute(e, b"a").map(drop),
                    _ => Ok(()),
                })
            });
            assert_eq!(result, Err(expected), "{doc}");
        }
        assert_eq!(
            XmlStream::new(vec![b' '; 11], b"r", 10).err(),
            Some(XmlError::TooLarge("document exceeds the size limit"))
        );
        let invalid_utf8 = b"<r>\xff\xfe</r>".to_vec();
        let mut stream = XmlStream::new(invalid_utf8, b"r", 100).unwrap();
        assert!(stream.run(|_, _| Ok(())).is_err());
    }

    #[test]
    fn faults_are_collected_and_capped() {
        let long = "x".repeat(5000);
        let doc = format!(
            "<Envelope><Body><Fault><faultcode>soap:Client</faultcode><faultstring>{long}</faultstring>\
             <detail><errorcode>ContactAlreadyExists</errorcode><LockKeyChallenge>123</LockKeyChallenge>\
             </detail></Fault></Body></Envelope>"
        );
        let mut stream = XmlStream::new(doc.into_bytes(), b"Envelope", 1 << 20).unwrap();
        stream.run(|_, _| Ok(())).unwrap();
        let fault = stream.fault().unwrap();
        assert_eq!(fault.code, "soap:Client");
        assert_eq!(fault.text.len(), MAX_FAULT_TEXT);
        assert_eq!(fault.lock_key_challenge, "123");
        assert_eq!(
            fault.to_error(),
            SoapError::Fault {
                code: "ContactAlreadyExists".into(),
                text: "x".repeat(MAX_FAULT_TEXT)
            }
        );
        let mut stream =
            XmlStream::new(b"<Envelope><Fault/></Envelope>".to_vec(), b"Envelope", 100).unwrap();
        stream.run(|_, _| Ok(())).unwrap();
        assert_eq!(
            stream.fault().map(FaultParts::to_error),
            Some(SoapError::Fault {
                code: String::new(),
                text: String::new()
            })
        );
    }

    #[test]
    fn append_enforces_its_cap() {
        let mut s = String::from("ab");
        assert!(append(&mut s, "cd", 4).is_ok());
        assert_eq!(
            append(&mut s, "e", 4),
            Err(XmlError::TooLarge("text value exceeds its limit"))
        );
        assert_eq!(s, "abcd");
    }
}
