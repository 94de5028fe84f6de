//! Which URL TaskRouter actually called, worked out from the facts of a request.
//!
//! Twilio signs the callback URL exactly as it is configured in the Workflow
//! (docs/taskrouter.md §4), but a Lambda behind API Gateway never sees that URL whole: REST APIs
//! (payload v1) leave the stage out of `path`, custom domains add a base-path mapping, v1 events
//! keep only parsed query maps, and tunnels and local emulators see their own scheme and host
//! (docs/taskrouter.md §4, "where signatures break in practice"). So this module lists the URLs
//! Twilio may have signed, most likely first, and [`crate::signature`] tries each one (and its port
//! variants). The guesses a REST API's query forces (its pairs in every order) are listed apart,
//! and tried only within a fixed budget of bytes hashed ([`REORDERED_QUERY_BUDGET`]), so that no
//! request can buy more work with its query.
//!
//! The reliable answer is configuration: [`PublicBase`], the `PUBLIC_BASE_URL` an operator copies
//! from the Workflow's `AssignmentCallbackUrl`. Without it the URL is rebuilt from the request.
//! Nothing is normalised on the way: no lower-casing, no slash fixing, no re-escaping, because each
//! of those changes the bytes that were signed.

use std::fmt;
use std::str::FromStr;

use crate::form::MAX_BODY_BYTES;

/// A public base URL that cannot be used to rebuild the callback URL.
///
/// Each variant names the rejected input (credentials masked) and says how to fix it. Raised when
/// configuration is read, so an invalid `PUBLIC_BASE_URL` stops the function from starting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    /// Whitespace or control characters, usually a stray newline or space from copying.
    #[error(
        "public base URL {input:?} contains whitespace or control characters: copy the Workflow's \
         AssignmentCallbackUrl without surrounding spaces or line breaks"
    )]
    Whitespace {
        /// The rejected input.
        input: String,
    },
    /// No `scheme://` at the start.
    #[error(
        "public base URL `{input}` has no scheme: write it as https://host[:port][/prefix], the \
         start of the Workflow's AssignmentCallbackUrl"
    )]
    MissingScheme {
        /// The rejected input.
        input: String,
    },
    /// A scheme other than `http` or `https`.
    #[error(
        "public base URL `{input}` uses the scheme `{scheme}`: TaskRouter calls only http:// or \
         https:// URLs"
    )]
    UnsupportedScheme {
        /// The rejected input.
        input: String,
        /// The scheme found.
        scheme: String,
    },
    /// A `?` query: the query of the callback comes from each request.
    #[error(
        "public base URL `{input}` has a query string: give only scheme, host, port and path \
         prefix; the query is taken from each request as received"
    )]
    Query {
        /// The rejected input.
        input: String,
    },
    /// A `#` fragment, which is never sent to a server.
    #[error("public base URL `{input}` has a #fragment: remove it, it is never sent to a server")]
    Fragment {
        /// The rejected input.
        input: String,
    },
    /// `user:password@` in the authority.
    #[error(
        "public base URL `{input}` carries credentials (user:password@): remove them; this URL is \
         logged and must not hold secrets"
    )]
    Credentials {
        /// The rejected input with its credentials masked.
        input: String,
    },
    /// Nothing between `://` and the port or path.
    #[error(
        "public base URL `{input}` has an empty host: write it as https://host[:port][/prefix]"
    )]
    EmptyHost {
        /// The rejected input.
        input: String,
    },
    /// A port that is not a number from 1 to 65535.
    #[error(
        "public base URL `{input}` has the port `{port}`: use a number from 1 to 65535, or none"
    )]
    InvalidPort {
        /// The rejected input.
        input: String,
        /// The port text found.
        port: String,
    },
}

/// A validated public base URL (`PUBLIC_BASE_URL`): scheme `http` or `https`, a host, an optional
/// port and an optional path prefix; no query, no fragment, no credentials.
///
/// Trailing slashes are dropped so that appending the route's path (which starts with `/`) gives
/// the URL back. Everything else is kept as written, host case included.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicBase {
    /// The URL without trailing slashes.
    text: String,
    /// Where the path prefix starts in `text` (`text.len()` when there is none).
    path_start: usize,
}

impl PublicBase {
    /// Parses and validates a public base URL, e.g. `https://api.example.com/contact-center`.
    ///
    /// # Errors
    ///
    /// A [`PublicUrlError`] naming the input and what is wrong with it: whitespace, a missing or
    /// unsupported scheme, a query, a fragment, credentials, an empty host or an invalid port.
    pub fn parse(text: &str) -> Result<Self, PublicUrlError> {
        let input = || text.to_owned();
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(PublicUrlError::Whitespace { input: input() });
        }
        let Some((scheme, rest)) = text.split_once("://").filter(|(s, _)| !s.is_empty()) else {
            return Err(PublicUrlError::MissingScheme { input: input() });
        };
        if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
            return Err(PublicUrlError::UnsupportedScheme {
                input: input(),
                scheme: scheme.to_owned(),
            });
        }
        if text.contains('#') {
            return Err(PublicUrlError::Fragment { input: input() });
        }
        if text.contains('?') {
            return Err(PublicUrlError::Query { input: input() });
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if let Some((_, host_port)) = authority.rsplit_once('@') {
            return Err(PublicUrlError::Credentials {
                input: format!("{scheme}://***@{host_port}{}", &rest[authority.len()..]),
            });
        }
        let (host, port) = split_port(authority);
        if host.is_empty() || host == "[]" {
            return Err(PublicUrlError::EmptyHost { input: input() });
        }
        if let Some(port) = port
            && !port
                .parse::<u16>()
                .is_ok_and(|n| n != 0 && port.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(PublicUrlError::InvalidPort {
                input: input(),
                port: port.to_owned(),
            });
        }
        let trimmed = text.trim_end_matches('/');
        Ok(Self {
            text: trimmed.to_owned(),
            path_start: scheme.len() + "://".len() + authority.len(),
        })
    }

    /// The base URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `scheme://host[:port]`, without the path prefix.
    fn origin(&self) -> &str {
        &self.text[..self.path_start]
    }

    /// The path prefix, e.g. `/contact-center`, or `""`.
    fn path_prefix(&self) -> &str {
        &self.text[self.path_start..]
    }
}

impl fmt::Display for PublicBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for PublicBase {
    type Err = PublicUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The kind of event a request arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// API Gateway HTTP API, payload version 2.0; also Lambda function URLs.
    HttpApi,
    /// API Gateway REST API, payload version 1.0.
    RestApi,
    /// Anything else (e.g. an ALB); rebuilt like a REST API without stage handling.
    #[default]
    Unknown,
}

/// What a request tells about where it arrived, filled by the transport from the Lambda event.
///
/// All text is as received: nothing here is decoded or normalised, except `query_pairs`, which API
/// Gateway has already decoded for payload v1.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// The kind of event.
    pub kind: Origin,
    /// `requestContext.domainName`: the host the client called (custom domain or default host).
    pub domain_name: Option<&'a str>,
    /// `requestContext.stage`, e.g. `Prod` or `$default`.
    pub stage: Option<&'a str>,
    /// The `Host` header.
    pub host_header: Option<&'a str>,
    /// The `X-Forwarded-Proto` header.
    pub forwarded_proto: Option<&'a str>,
    /// The route's path: v2 `rawPath`, or v1 `path` (without the stage), as received.
    pub raw_path: &'a str,
    /// v1 `requestContext.path`: the path as called, with the stage on execute-api hosts or the
    /// base-path mapping on custom domains.
    pub context_path: Option<&'a str>,
    /// v2 `rawQueryString`, exactly as received (`Some("")` when there is none).
    pub raw_query: Option<&'a str>,
    /// v1 `multiValueQueryStringParameters` flattened into pairs: decoded, original order lost.
    pub query_pairs: &'a [(String, String)],
}

/// Pairs up to this many are tried in every order (4! = 24 queries); more only as received.
const MAX_PERMUTED_PAIRS: usize = 4;

/// The most queries [`Candidates::reordered`] can hold per path: every order of
/// [`MAX_PERMUTED_PAIRS`] pairs in both encodings, less the received order's two.
const MOST_REORDERED_QUERIES: usize = factorial(MAX_PERMUTED_PAIRS) * 2 - 2;

/// How many bytes one signature check may hash for [`Candidates::reordered`]: 24 MiB, on the
/// order of 15 ms of HMAC-SHA1 on one core (`BENCHMARKS.md`).
///
/// A request chooses its own query, so without a bound a REST API event with four query
/// parameters makes every check 24 times (48 with a space in a value) as long as without them,
/// before anything is verified. With it, what a check costs is the URLs as received plus at most
/// this, whatever the query. It is sized so that every callback Twilio can send still verifies in
/// any order: it covers every other order and encoding of four pairs (4! × 2 − 2 = 46 queries)
/// at both port variants of the most likely path, with a primary and a secondary token, for a
/// body of [`MAX_BODY_BYTES`] and a URL of up to 4 KiB: 46 × 2 × 2 × (128 + 4) KiB ≈ 23.7 MiB.
/// The other paths' orders come next, as far as the rest goes: for a callback of a few KB, which
/// is what real attributes make, that is all of them.
pub const REORDERED_QUERY_BUDGET: usize = 24 * 1024 * 1024;

// The guarantee above, held by the compiler.
const _: () =
    assert!(REORDERED_QUERY_BUDGET >= MOST_REORDERED_QUERIES * 2 * 2 * (MAX_BODY_BYTES + 4 * 1024));

const fn factorial(n: usize) -> usize {
    if n <= 1 { 1 } else { n * factorial(n - 1) }
}

/// The URLs TaskRouter may have called, most likely first, without duplicates, in two tiers.
///
/// Port variants are not listed: [`crate::signature`] adds them to every URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Every path with the query as received: an HTTP API's raw query byte for byte, or a REST
    /// API's decoded pairs in the order the event lists them, in both encodings. Always tried.
    pub as_received: Vec<String>,
    /// A REST API's 2 to 4 query pairs in every other order and encoding, all of the first path's
    /// before the second's. Guesses the request forces, tried within
    /// [`REORDERED_QUERY_BUDGET`] ([`crate::signature::verify_form_within`]).
    pub reordered: Vec<String>,
}

/// The URLs TaskRouter may have called, most likely first, without duplicates.
///
/// - With a `base`: the base followed by the route's path (`raw_path`). When the route's path
///   already starts with the base's path prefix (some API Gateway set-ups keep the base-path
///   mapping in the path), the base's origin followed by the route's path is tried second.
/// - Then, with or without a base, the URL rebuilt from the request (a function reached through
///   a custom domain is still reachable at its API Gateway address, and the fixtures in `events/`
///   are signed for that address). Scheme: `X-Forwarded-Proto`, else `https`
///   when API Gateway or a function URL reports a domain name (both are https-only), else `http`.
///   Host: the domain name, else the `Host` header; the header is not consulted when a domain name
///   is known, because the client controls it and API Gateway does not. Path: for an HTTP API the
///   raw path, which already carries a named stage; for a REST API the context path first (stage
///   or base-path mapping included), then on an `execute-api` host `/{stage}` + path unless the
///   path already starts with it, otherwise the path as received.
/// - Query: v2's raw query byte for byte. For v1 the original bytes and order are gone; the query
///   is rebuilt `key=value&…` from the decoded pairs, percent-encoded both the way a form (and a
///   browser) encodes (`+` for a space) and the strict RFC 3986 way (`%20`), in the received order
///   and, for 2 to 4 pairs, in every other order ([`Candidates::reordered`]). A query written
///   with other escapes (lower-case hex, a literal `'` or `:`) cannot be recovered from a v1
///   event: use an HTTP API, or keep the callback URL's query to plain letters and digits. An
///   empty query adds no `?`.
pub fn candidates(base: Option<&PublicBase>, facts: &RequestFacts<'_>) -> Candidates {
    let (as_received, reordered) = queries(facts);
    // The function is reachable at its public base *and* at the address API Gateway reports
    // (e.g. the execute-api URL behind a custom domain); Twilio may have been given either.
    let mut prefixes = base.map_or_else(Vec::new, |base| from_base(base, facts.raw_path));
    for prefix in from_request(facts) {
        push_new(&mut prefixes, prefix);
    }
    let with_query = |prefix: &String, query: &String| {
        if query.is_empty() {
            prefix.clone()
        } else {
            format!("{prefix}?{query}")
        }
    };
    let mut candidates = Candidates::default();
    for prefix in &prefixes {
        for query in &as_received {
            push_new(&mut candidates.as_received, with_query(prefix, query));
        }
    }
    for prefix in &prefixes {
        for query in &reordered {
            let url = with_query(prefix, query);
            if !candidates.as_received.contains(&url) {
                push_new(&mut candidates.reordered, url);
            }
        }
    }
    candidates
}

/// Scheme, host and path from the configured base.
fn from_base(base: &PublicBase, raw_path: &str) -> Vec<String> {
    let mut prefixes = vec![format!("{}{raw_path}", base.as_str())];
    let prefix = base.path_prefix();
    if !prefix.is_empty() && starts_with_segments(raw_path, prefix) {
        push_new(&mut prefixes, format!("{}{raw_path}", base.origin()));
    }
    prefixes
}

/// Scheme, host and path rebuilt from the request.
fn from_request(facts: &RequestFacts<'_>) -> Vec<String> {
    let domain_name = non_empty(facts.domain_name);
    let Some(host) = domain_name.or(non_empty(facts.host_header)) else {
        return Vec::new();
    };
    let scheme = non_empty(facts.forwarded_proto)
        .and_then(|header| header.split(',').next())
        .map(str::trim)
        .and_then(|proto| {
            if proto.eq_ignore_ascii_case("https") {
                Some("https")
            } else if proto.eq_ignore_ascii_case("http") {
                Some("http")
            } else {
                None
            }
        })
        .unwrap_or(if domain_name.is_some() {
            "https"
        } else {
            "http"
        });

    let mut paths = Vec::new();
    match facts.kind {
        Origin::HttpApi => paths.push(facts.raw_path.to_owned()),
        Origin::RestApi | Origin::Unknown => {
            if let Some(context_path) = non_empty(facts.context_path) {
                paths.push(context_path.to_owned());
            }
            let stage = non_empty(facts.stage).filter(|_| facts.kind == Origin::RestApi);
            match stage {
                // The default execute-api host serves a REST API only under its stage.
                Some(stage) if is_execute_api(host) => {
                    let path = if starts_with_segments(facts.raw_path, &format!("/{stage}")) {
                        facts.raw_path.to_owned()
                    } else {
                        format!("/{stage}{}", facts.raw_path)
                    };
                    push_new(&mut paths, path);
                }
                _ => push_new(&mut paths, facts.raw_path.to_owned()),
            }
        }
    }
    paths
        .into_iter()
        .map(|path| format!("{scheme}://{host}{path}"))
        .collect()
}

/// The query strings to try, without the `?` (`""` for none): as received, then in the other
/// orders (only for 2 to [`MAX_PERMUTED_PAIRS`] decoded pairs).
fn queries(facts: &RequestFacts<'_>) -> (Vec<String>, Vec<String>) {
    if let Some(raw) = facts.raw_query {
        return (vec![raw.to_owned()], Vec::new());
    }
    let pairs = facts.query_pairs;
    let encodings = |order: &[usize]| {
        [encode_form, encode_strict].map(|encode| {
            order
                .iter()
                .map(|&i| format!("{}={}", encode(&pairs[i].0), encode(&pairs[i].1)))
                .collect::<Vec<_>>()
                .join("&")
        })
    };
    let received: Vec<usize> = (0..pairs.len()).collect();
    let mut as_received = Vec::new();
    for query in encodings(&received) {
        push_new(&mut as_received, query);
    }
    let mut reordered = Vec::new();
    if (2..=MAX_PERMUTED_PAIRS).contains(&pairs.len()) {
        for order in permutations(pairs.len()) {
            for query in encodings(&order) {
                if !as_received.contains(&query) {
                    push_new(&mut reordered, query);
                }
            }
        }
    }
    (as_received, reordered)
}

/// Every ordering of `0..n`, in lexicographic order, so the received order comes first.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn extend(current: &mut Vec<usize>, n: usize, out: &mut Vec<Vec<usize>>) {
        if current.len() == n {
            out.push(current.clone());
            return;
        }
        for i in 0..n {
            if !current.contains(&i) {
                current.push(i);
                extend(current, n, out);
                current.pop();
            }
        }
    }
    let mut out = Vec::new();
    extend(&mut Vec::with_capacity(n), n, &mut out);
    out
}

/// `application/x-www-form-urlencoded` encoding, as a browser builds a query: space as `+`.
fn encode_form(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// RFC 3986 encoding: only unreserved characters stay, everything else as upper-case `%XX`.
fn encode_strict(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether `host` is a default API Gateway host, `{id}.execute-api.{region}.amazonaws.com`.
fn is_execute_api(host: &str) -> bool {
    let (name, _) = split_port(host);
    let name = name.to_ascii_lowercase();
    name.contains(".execute-api.") && name.ends_with(".amazonaws.com")
}

/// Whether `path` is `prefix` or starts with `prefix` followed by `/`.
fn starts_with_segments(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `host[:port]` split at the port colon (an IPv6 literal keeps its own colons).
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let colon = if authority.starts_with('[') {
        authority
            .find(']')
            .filter(|&close| authority[close + 1..].starts_with(':'))
            .map(|close| close + 1)
    } else {
        authority.rfind(':')
    };
    match colon {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    }
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|text| !text.is_empty())
}

fn push_new(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature;

    const EXECUTE_API: &str = "abc123.execute-api.us-east-1.amazonaws.com";
    const ROUTE: &str = "/taskrouter/assignment_callback";

    /// Every candidate, in the order they are tried: as received, then reordered.
    fn all_candidates(base: Option<&PublicBase>, facts: &RequestFacts<'_>) -> Vec<String> {
        let Candidates {
            as_received,
            reordered,
        } = candidates(base, facts);
        [as_received, reordered].concat()
    }

    fn base(text: &str) -> PublicBase {
        PublicBase::parse(text).expect("valid base URL")
    }

    fn http_api<'a>(domain: &'a str, stage: &'a str, raw_path: &'a str) -> RequestFacts<'a> {
        RequestFacts {
            kind: Origin::HttpApi,
            domain_name: Some(domain),
            stage: Some(stage),
            host_header: Some(domain),
            forwarded_proto: Some("https"),
            raw_path,
            raw_query: Some(""),
            ..RequestFacts::default()
        }
    }

    #[test]
    fn each_topology_yields_the_url_twilio_called_first() {
        let pairs: Vec<(String, String)> = Vec::new();
        let ngrok = base("https://abcd-1-2-3-4.ngrok-free.app");
        let custom = base("https://api.example.com/contact-center");
        let cases: Vec<(&str, Option<&PublicBase>, RequestFacts<'_>, &str)> = vec![
            (
                "HTTP API, default stage",
                None,
                http_api(EXECUTE_API, "$default", ROUTE),
                "https://abc123.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback",
            ),
            (
                "HTTP API, named stage: rawPath already carries it",
                None,
                http_api(EXECUTE_API, "dev", "/dev/taskrouter/assignment_callback"),
                "https://abc123.execute-api.us-east-1.amazonaws.com/dev/taskrouter/assignment_callback",
            ),
            (
                "REST API, stage Prod: the context path carries the stage",
                None,
                RequestFacts {
                    kind: Origin::RestApi,
                    domain_name: Some(EXECUTE_API),
                    stage: Some("Prod"),
                    host_header: Some(EXECUTE_API),
                    forwarded_proto: Some("https"),
                    raw_path: ROUTE,
                    context_path: Some("/Prod/taskrouter/assignment_callback"),
                    raw_query: None,
                    query_pairs: &pairs,
                },
                "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/taskrouter/assignment_callback",
            ),
            (
                "REST API without a context path: the stage is added on execute-api hosts",
                None,
                RequestFacts {
                    kind: Origin::RestApi,
                    domain_name: Some(EXECUTE_API),
                    stage: Some("Prod"),
                    raw_path: ROUTE,
                    ..RequestFacts::default()
                },
                "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/taskrouter/assignment_callback",
            ),
            (
                "REST API on a custom domain: the context path carries the base-path mapping",
                None,
                RequestFacts {
                    kind: Origin::RestApi,
                    domain_name: Some("api.example.com"),
                    stage: Some("Prod"),
                    raw_path: ROUTE,
                    context_path: Some("/contact-center/taskrouter/assignment_callback"),
                    ..RequestFacts::default()
                },
                "https://api.example.com/contact-center/taskrouter/assignment_callback",
            ),
            (
                "custom domain with a base-path mapping, via PUBLIC_BASE_URL",
                Some(&custom),
                http_api("api.example.com", "$default", ROUTE),
                "https://api.example.com/contact-center/taskrouter/assignment_callback",
            ),
            (
                "Lambda function URL",
                None,
                http_api(
                    "x7k2mq4rbd5uv3wz6yea1cfghj0nopst.lambda-url.us-east-1.on.aws",
                    "$default",
                    ROUTE,
                ),
                "https://x7k2mq4rbd5uv3wz6yea1cfghj0nopst.lambda-url.us-east-1.on.aws/taskrouter/assignment_callback",
            ),
            (
                "cargo lambda watch reached by curl: plain http at the Host header",
                None,
                RequestFacts {
                    kind: Origin::HttpApi,
                    host_header: Some("127.0.0.1:9000"),
                    raw_path: ROUTE,
                    raw_query: Some(""),
                    ..RequestFacts::default()
                },
                "http://127.0.0.1:9000/taskrouter/assignment_callback",
            ),
            (
                "ngrok tunnel to cargo lambda watch, via PUBLIC_BASE_URL",
                Some(&ngrok),
                RequestFacts {
                    kind: Origin::HttpApi,
                    host_header: Some("abcd-1-2-3-4.ngrok-free.app"),
                    forwarded_proto: Some("https"),
                    raw_path: ROUTE,
                    raw_query: Some(""),
                    ..RequestFacts::default()
                },
                "https://abcd-1-2-3-4.ngrok-free.app/taskrouter/assignment_callback",
            ),
        ];
        for (case, base, facts, expected) in cases {
            let urls = all_candidates(base, &facts);
            assert_eq!(
                urls.first().map(String::as_str),
                Some(expected),
                "{case}: {urls:?}"
            );
        }
    }

    #[test]
    fn a_rest_api_on_execute_api_lists_only_the_staged_url() {
        let facts = RequestFacts {
            kind: Origin::RestApi,
            domain_name: Some(EXECUTE_API),
            stage: Some("Prod"),
            raw_path: ROUTE,
            context_path: Some("/Prod/taskrouter/assignment_callback"),
            ..RequestFacts::default()
        };
        assert_eq!(
            all_candidates(None, &facts),
            [
                "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/taskrouter/assignment_callback"
            ]
        );
    }

    #[test]
    fn a_rest_api_path_that_already_carries_the_stage_is_not_prefixed_twice() {
        let facts = RequestFacts {
            kind: Origin::RestApi,
            domain_name: Some(EXECUTE_API),
            stage: Some("Prod"),
            raw_path: "/Prod/taskrouter/assignment_callback",
            ..RequestFacts::default()
        };
        assert_eq!(
            all_candidates(None, &facts),
            [
                "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/taskrouter/assignment_callback"
            ]
        );
    }

    #[test]
    fn a_rest_api_on_a_custom_domain_tries_the_mapped_path_then_the_bare_one() {
        let facts = RequestFacts {
            kind: Origin::RestApi,
            domain_name: Some("api.example.com"),
            stage: Some("Prod"),
            raw_path: ROUTE,
            context_path: Some("/contact-center/taskrouter/assignment_callback"),
            ..RequestFacts::default()
        };
        assert_eq!(
            all_candidates(None, &facts),
            [
                "https://api.example.com/contact-center/taskrouter/assignment_callback",
                "https://api.example.com/taskrouter/assignment_callback",
            ]
        );
    }

    #[test]
    fn a_base_whose_prefix_is_already_in_the_path_is_tried_both_ways() {
        let custom = base("https://api.example.com/contact-center");
        let facts = http_api(
            "api.example.com",
            "$default",
            "/contact-center/taskrouter/assignment_callback",
        );
        assert_eq!(
            all_candidates(Some(&custom), &facts),
            [
                "https://api.example.com/contact-center/contact-center/taskrouter/assignment_callback",
                "https://api.example.com/contact-center/taskrouter/assignment_callback",
            ]
        );
    }

    #[test]
    fn a_base_prefix_matches_whole_segments_only() {
        let custom = base("https://api.example.com/contact");
        let facts = http_api("api.example.com", "$default", "/contact-center/x");
        assert_eq!(
            all_candidates(Some(&custom), &facts),
            [
                "https://api.example.com/contact/contact-center/x",
                // The request-derived URL comes after the base's, whatever the base.
                "https://api.example.com/contact-center/x",
            ]
        );
    }

    #[test]
    fn a_v2_query_is_kept_byte_for_byte() {
        let raw_query = "b=2&a=%7e+x&c='q'&d=%2F&&e";
        let facts = RequestFacts {
            raw_query: Some(raw_query),
            ..http_api(EXECUTE_API, "$default", ROUTE)
        };
        let ngrok = base("https://abcd-1-2-3-4.ngrok-free.app");
        let derived = "https://abc123.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback?b=2&a=%7e+x&c='q'&d=%2F&&e";
        let cases: [(&str, Option<&PublicBase>, &[&str]); 2] = [
            ("rebuilt from the request", None, &[derived]),
            (
                "from PUBLIC_BASE_URL, then rebuilt from the request",
                Some(&ngrok),
                &[
                    "https://abcd-1-2-3-4.ngrok-free.app/taskrouter/assignment_callback?b=2&a=%7e+x&c='q'&d=%2F&&e",
                    derived,
                ],
            ),
        ];
        for (case, base, expected) in cases {
            assert_eq!(all_candidates(base, &facts), expected, "{case}");
        }
    }

    #[test]
    fn no_query_adds_no_question_mark() {
        let urls = all_candidates(None, &http_api(EXECUTE_API, "$default", ROUTE));
        assert!(urls.iter().all(|url| !url.contains('?')), "{urls:?}");
    }

    #[test]
    fn a_v1_query_is_rebuilt_in_every_order_and_both_encodings() {
        let pairs = vec![
            ("mode".to_owned(), "strict".to_owned()),
            ("team".to_owned(), "tier 2".to_owned()),
        ];
        let facts = RequestFacts {
            kind: Origin::RestApi,
            domain_name: Some(EXECUTE_API),
            stage: Some("Prod"),
            raw_path: ROUTE,
            context_path: Some("/Prod/taskrouter/assignment_callback"),
            query_pairs: &pairs,
            ..RequestFacts::default()
        };
        let prefix = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/taskrouter/assignment_callback";
        assert_eq!(
            all_candidates(None, &facts),
            [
                format!("{prefix}?mode=strict&team=tier+2"),
                format!("{prefix}?mode=strict&team=tier%202"),
                format!("{prefix}?team=tier+2&mode=strict"),
                format!("{prefix}?team=tier%202&mode=strict"),
            ]
        );
    }

    #[test]
    fn v1_orderings_are_bounded() {
        let pairs_of = |n: usize| -> Vec<(String, String)> {
            (0..n).map(|i| (format!("k{i}"), format!("v{i}"))).collect()
        };
        let cases = [
            ("one pair: one order", 1, 1),
            ("two pairs: both orders", 2, 2),
            ("four pairs: all 24 orders", 4, 24),
            ("five pairs: the received order only", 5, 1),
        ];
        for (case, n, expected) in cases {
            let pairs = pairs_of(n);
            let facts = RequestFacts {
                kind: Origin::RestApi,
                host_header: Some("localhost:3000"),
                raw_path: ROUTE,
                query_pairs: &pairs,
                ..RequestFacts::default()
            };
            let urls = all_candidates(None, &facts);
            assert_eq!(urls.len(), expected, "{case}: {urls:?}");
            let received: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            assert_eq!(
                urls[0],
                format!("http://localhost:3000{ROUTE}?{}", received.join("&")),
                "{case}: received order first"
            );
        }
    }

    #[test]
    fn nothing_is_normalised() {
        let facts = RequestFacts {
            kind: Origin::HttpApi,
            domain_name: Some("API.Example.com"),
            raw_path: "/TaskRouter//Callback/",
            raw_query: Some("Q=%7E"),
            ..RequestFacts::default()
        };
        assert_eq!(
            all_candidates(None, &facts),
            ["https://API.Example.com/TaskRouter//Callback/?Q=%7E"]
        );
        assert_eq!(
            base("https://API.Example.com/O'Brien/").as_str(),
            "https://API.Example.com/O'Brien",
            "only the trailing slash goes"
        );
    }

    #[test]
    fn the_scheme_follows_the_forwarded_proto_then_the_domain_name() {
        let cases = [
            (
                "forwarded https wins over a bare host",
                Some("https"),
                None,
                "https://h:1/p",
            ),
            (
                "forwarded http wins over a domain name",
                Some("http"),
                Some("d.example"),
                "http://d.example/p",
            ),
            (
                "a list takes its first entry",
                Some("https, http"),
                None,
                "https://h:1/p",
            ),
            ("garbage is ignored", Some("gopher"), None, "http://h:1/p"),
            (
                "a domain name means https",
                None,
                Some("d.example"),
                "https://d.example/p",
            ),
            ("a bare Host header means http", None, None, "http://h:1/p"),
        ];
        for (case, forwarded_proto, domain_name, expected) in cases {
            let facts = RequestFacts {
                kind: Origin::HttpApi,
                domain_name,
                host_header: Some("h:1"),
                forwarded_proto,
                raw_path: "/p",
                ..RequestFacts::default()
            };
            assert_eq!(all_candidates(None, &facts), [expected], "{case}");
        }
    }

    #[test]
    fn no_host_at_all_yields_no_candidates() {
        let facts = RequestFacts {
            kind: Origin::HttpApi,
            raw_path: ROUTE,
            ..RequestFacts::default()
        };
        assert!(all_candidates(None, &facts).is_empty());
    }

    #[test]
    fn a_rest_api_request_verifies_against_the_url_twilio_signed() {
        let token: &[u8] = b"12345";
        let signed_url = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/taskrouter/assignment_callback?team=tier+2&mode=strict";
        let params = vec![(
            "ReservationSid".to_owned(),
            "WR0123456789abcdef0123456789abcdef".to_owned(),
        )];
        let signature = signature::sign(token, signed_url, &params);
        // API Gateway hands over the decoded query in an order of its own.
        let pairs = vec![
            ("mode".to_owned(), "strict".to_owned()),
            ("team".to_owned(), "tier 2".to_owned()),
        ];
        let facts = RequestFacts {
            kind: Origin::RestApi,
            domain_name: Some(EXECUTE_API),
            stage: Some("Prod"),
            raw_path: ROUTE,
            context_path: Some("/Prod/taskrouter/assignment_callback"),
            query_pairs: &pairs,
            ..RequestFacts::default()
        };
        let verified =
            signature::verify_form(&[token], &all_candidates(None, &facts), &params, &signature)
                .expect("one of the candidates is the signed URL");
        assert_eq!(verified.url, signed_url);
    }

    /// A REST API request on a custom domain whose base-path mapping leads to the API (two paths)
    /// with `pairs` as its decoded query.
    fn rest_api_on_custom_domain(pairs: &[(String, String)]) -> RequestFacts<'_> {
        RequestFacts {
            kind: Origin::RestApi,
            domain_name: Some("api.example.com"),
            stage: Some("Prod"),
            raw_path: ROUTE,
            context_path: Some("/contact-center/taskrouter/assignment_callback"),
            query_pairs: pairs,
            ..RequestFacts::default()
        }
    }

    #[test]
    fn every_path_with_the_query_as_received_comes_before_any_reordering() {
        let pairs = vec![
            ("mode".to_owned(), "strict".to_owned()),
            ("team".to_owned(), "tier 2".to_owned()),
        ];
        let mapped = "https://api.example.com/contact-center/taskrouter/assignment_callback";
        let bare = "https://api.example.com/taskrouter/assignment_callback";
        assert_eq!(
            candidates(None, &rest_api_on_custom_domain(&pairs)),
            Candidates {
                as_received: vec![
                    format!("{mapped}?mode=strict&team=tier+2"),
                    format!("{mapped}?mode=strict&team=tier%202"),
                    format!("{bare}?mode=strict&team=tier+2"),
                    format!("{bare}?mode=strict&team=tier%202"),
                ],
                reordered: vec![
                    format!("{mapped}?team=tier+2&mode=strict"),
                    format!("{mapped}?team=tier%202&mode=strict"),
                    format!("{bare}?team=tier+2&mode=strict"),
                    format!("{bare}?team=tier%202&mode=strict"),
                ],
            }
        );
    }

    #[test]
    fn a_callback_at_the_size_limit_verifies_in_the_last_order_tried_within_the_budget() {
        let pairs: Vec<(String, String)> = [
            ("tenant", "acme"),
            ("region", "us1"),
            ("team", "tier 2"),
            ("mode", "strict"),
        ]
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
        let candidates = candidates(None, &rest_api_on_custom_domain(&pairs));
        let mapped = "https://api.example.com/contact-center/taskrouter/assignment_callback?";
        let first_path = candidates
            .reordered
            .iter()
            .take_while(|url| url.starts_with(mapped))
            .count();
        assert_eq!(
            first_path, MOST_REORDERED_QUERIES,
            "{:#?}",
            candidates.reordered
        );
        // The worst place for a genuine callback: the last order of the most likely path, its
        // port variant, the secondary token, the largest body there is.
        let last = &candidates.reordered[first_path - 1];
        let signed_over = signature::url_variants(last)[1].clone();
        assert_eq!(
            signed_over,
            "https://api.example.com:443/contact-center/taskrouter/assignment_callback?mode=strict&team=tier%202&region=us1&tenant=acme"
        );
        let params = vec![(
            "Padding".to_owned(),
            "x".repeat(MAX_BODY_BYTES - "Padding=".len()),
        )];
        let primary: &[u8] = b"12345";
        let secondary: &[u8] = b"67890";
        let header = signature::sign(secondary, &signed_over, &params);
        let verified = signature::verify_form_within(
            &[primary, secondary],
            &candidates.as_received,
            &candidates.reordered,
            REORDERED_QUERY_BUDGET,
            &params,
            &signature::Signature::parse(&header).expect("well formed"),
        )
        .expect("within the budget");
        assert_eq!((verified.url, verified.token_index), (signed_over, 1));
    }

    #[test]
    fn a_tunnelled_request_verifies_only_through_the_public_base() {
        let token: &[u8] = b"12345";
        let signed_url = "https://abcd-1-2-3-4.ngrok-free.app/taskrouter/assignment_callback";
        let signature = signature::sign(token, signed_url, &[]);
        let facts = RequestFacts {
            kind: Origin::HttpApi,
            host_header: Some("127.0.0.1:9000"),
            raw_path: ROUTE,
            raw_query: Some(""),
            ..RequestFacts::default()
        };
        let without =
            signature::verify_form(&[token], &all_candidates(None, &facts), &[], &signature);
        assert!(without.is_err(), "the local URL is not what was signed");
        let ngrok = base("https://abcd-1-2-3-4.ngrok-free.app/");
        let with = signature::verify_form(
            &[token],
            &all_candidates(Some(&ngrok), &facts),
            &[],
            &signature,
        );
        assert_eq!(with.map(|v| v.url), Ok(signed_url.to_owned()));
    }

    #[test]
    fn public_base_accepts_what_a_workflow_url_starts_with() {
        let cases = [
            (
                "host only",
                "https://api.example.com",
                "https://api.example.com",
            ),
            (
                "trailing slash dropped",
                "https://api.example.com/",
                "https://api.example.com",
            ),
            (
                "path prefix kept",
                "https://api.example.com/contact-center",
                "https://api.example.com/contact-center",
            ),
            (
                "port kept",
                "http://127.0.0.1:9000",
                "http://127.0.0.1:9000",
            ),
            (
                "IPv6 with a port",
                "http://[::1]:9000/x/",
                "http://[::1]:9000/x",
            ),
            (
                "scheme case kept",
                "HTTPS://Api.Example.com",
                "HTTPS://Api.Example.com",
            ),
        ];
        for (case, input, expected) in cases {
            assert_eq!(base(input).as_str(), expected, "{case}");
            assert_eq!(
                input.parse::<PublicBase>().map(|b| b.to_string()),
                Ok(expected.to_owned()),
                "{case}"
            );
        }
    }

    #[test]
    fn public_base_errors_name_the_input_and_the_problem() {
        let cases = [
            "api.example.com/contact-center",
            "ftp://api.example.com",
            "https://api.example.com/cb?workspace=WS1",
            "https://api.example.com/cb#top",
            "https:///contact-center",
            "https://api.example.com:99999",
            "https://api.example.com/cb\n",
            " https://api.example.com",
            "https://user:s3cret@api.example.com/cb",
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|input| PublicBase::parse(input).expect_err(input).to_string())
            .collect();
        assert!(
            messages.iter().all(|m| !m.contains("s3cret")),
            "a password leaked: {messages:#?}"
        );
        insta::assert_snapshot!(messages.join("\n"), @r#"
        public base URL `api.example.com/contact-center` has no scheme: write it as https://host[:port][/prefix], the start of the Workflow's AssignmentCallbackUrl
        public base URL `ftp://api.example.com` uses the scheme `ftp`: TaskRouter calls only http:// or https:// URLs
        public base URL `https://api.example.com/cb?workspace=WS1` has a query string: give only scheme, host, port and path prefix; the query is taken from each request as received
        public base URL `https://api.example.com/cb#top` has a #fragment: remove it, it is never sent to a server
        public base URL `https:///contact-center` has an empty host: write it as https://host[:port][/prefix]
        public base URL `https://api.example.com:99999` has the port `99999`: use a number from 1 to 65535, or none
        public base URL "https://api.example.com/cb\n" contains whitespace or control characters: copy the Workflow's AssignmentCallbackUrl without surrounding spaces or line breaks
        public base URL " https://api.example.com" contains whitespace or control characters: copy the Workflow's AssignmentCallbackUrl without surrounding spaces or line breaks
        public base URL `https://***@api.example.com/cb` carries credentials (user:password@): remove them; this URL is logged and must not hold secrets
        "#);
    }

    #[test]
    fn public_base_rejects_edge_cases_with_the_right_variant() {
        type Expected = fn(&PublicUrlError) -> bool;
        let cases: [(&str, &str, Expected); 5] = [
            ("empty text", "", |e| {
                matches!(e, PublicUrlError::MissingScheme { .. })
            }),
            ("empty scheme", "://host", |e| {
                matches!(e, PublicUrlError::MissingScheme { .. })
            }),
            ("port zero", "https://host:0", |e| {
                matches!(e, PublicUrlError::InvalidPort { .. })
            }),
            ("signed port", "https://host:+80", |e| {
                matches!(e, PublicUrlError::InvalidPort { .. })
            }),
            ("empty IPv6 host", "https://[]:80", |e| {
                matches!(e, PublicUrlError::EmptyHost { .. })
            }),
        ];
        for (case, input, expected) in cases {
            let error = PublicBase::parse(input).expect_err(case);
            assert!(expected(&error), "{case}: {error:?}");
        }
    }
}
