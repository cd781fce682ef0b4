//! Test helper: reads the HTTP exchanges recorded in `tests/transcripts/*/http.log`.

/// One recorded HTTP exchange.
pub struct Exchange {
    /// The label in parentheses after the URL, e.g. `SSO RST`.
    pub label: String,
    /// The request URL.
    pub url: String,
    /// Request headers as logged.
    pub request_headers: Vec<(String, String)>,
    /// Exact request body bytes.
    pub request_body: Vec<u8>,
    /// Response status code.
    pub status: u16,
    /// Response headers as logged.
    pub response_headers: Vec<(String, String)>,
    /// Exact response body bytes.
    pub response_body: Vec<u8>,
}

impl Exchange {
    /// The response rebuilt as raw HTTP/1.1 bytes, as libpurple's fetcher would hand it over.
    pub fn raw_response(&self) -> Vec<u8> {
        let mut raw = format!("HTTP/1.1 {} Whatever\r\n", self.status);
        for (name, value) in &self.response_headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        raw.push_str("\r\n");
        let mut raw = raw.into_bytes();
        raw.extend_from_slice(&self.response_body);
        raw
    }

    /// The parsed response.
    pub fn response(&self) -> crate::http::HttpResponse {
        crate::http::HttpResponse::parse(&self.raw_response()).expect("recorded response parses")
    }

    /// The path of the request URL (`/RST.srf`).
    pub fn url_path(&self) -> &str {
        let after_scheme = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, r)| r);
        after_scheme.find('/').map_or("/", |i| &after_scheme[i..])
    }

    /// The first request header called `name`.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// All exchanges of `tests/transcripts/<dir>/http.log`, in order.
pub fn load(dir: &str) -> Vec<Exchange> {
    let path = format!(
        "{}/../../tests/transcripts/{dir}/http.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out: Vec<Exchange> = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| pos + i);
        let line = String::from_utf8_lossy(&data[pos..end]).into_owned();
        pos = (end + 1).min(data.len());
        if let Some((_, rest)) = line.split_once(" ==== ") {
            let label = rest
                .rsplit_once(" (")
                .map_or("", |(_, l)| l.trim_end_matches(')'));
            let url = rest.split(' ').nth(1).unwrap_or_default();
            out.push(Exchange {
                label: label.to_owned(),
                url: url.to_owned(),
                request_headers: Vec::new(),
                request_body: Vec::new(),
                status: 0,
                response_headers: Vec::new(),
                response_body: Vec::new(),
            });
            continue;
        }
        let Some(ex) = out.last_mut() else { continue };
        let body_len = |l: &str| {
            l.split_once('(')
                .and_then(|(_, r)| r.split(' ').next()?.parse::<usize>().ok())
        };
        if let Some(rest) = line.strip_prefix(">>> ") {
            if rest.starts_with("request body (") {
                let n = body_len(rest).expect("body length");
                ex.request_body = data[pos..pos + n].to_vec();
                pos += n;
            } else if let Some((name, value)) = rest.split_once(": ") {
                ex.request_headers.push((name.to_owned(), value.to_owned()));
            }
        } else if let Some(rest) = line.strip_prefix("<<< ") {
            if let Some(code) = rest.strip_prefix("status ") {
                ex.status = code.trim().parse().expect("status code");
            } else if rest.starts_with("response body (") {
                let n = body_len(rest).expect("body length");
                ex.response_body = data[pos..pos + n].to_vec();
                pos += n;
            } else if let Some((name, value)) = rest.split_once(": ") {
                ex.response_headers
                    .push((name.to_owned(), value.to_owned()));
            }
        }
    }
    out
}
