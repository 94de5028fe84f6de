//! Twilio's request signature, `X-Twilio-Signature`, computed and checked as text.
//!
//! The algorithm (docs/taskrouter.md §4, [Twilio's webhook security
//! page](https://www.twilio.com/docs/usage/webhooks/webhooks-security)):
//!
//! 1. start from the full URL Twilio called, exactly as configured: scheme through query, byte for
//!    byte (host case kept, `'` not re-escaped, no trailing slash added);
//! 2. for a form POST append every parameter as `key` + `value` (decoded, no separators), sorted by
//!    key byte-wise; a repeated key contributes its values sorted and de-duplicated;
//! 3. HMAC-SHA1 keyed with the auth token, encoded as standard base64 with padding;
//! 4. compare with the header in constant time.
//!
//! A JSON body is signed differently: Twilio appends `bodySHA256=<hex sha256 of the body>` to the
//! query and signs the URL alone ([`verify_json`]).
//!
//! Everything here is pure: the caller supplies the tokens, the candidate URLs (see
//! [`crate::public_url`]) and the parameters exactly as received. No URL parser is involved, because
//! parsing and re-serialising a URL changes the bytes that were signed (docs/taskrouter.md §4,
//! "Rust trap").
//!
//! # What a check costs
//!
//! Each URL variant and token tried is one HMAC over the URL *and every parameter*, so a check
//! costs (URL variants × tokens × the body's length), and an unverified request chooses the body
//! and, through a REST API's query, how many URLs there are (see [`crate::public_url`]). The
//! parameters are sorted and concatenated once per check, but their hashing cannot be shared
//! between URLs: HMAC-SHA1 is keyed and the URL comes first in the signed string, so the hash
//! state after the parameters differs for every URL and token. What bounds the work instead:
//! [`Signature::parse`] lets the caller refuse a header that cannot be a signature before
//! anything else is done, and [`verify_form_within`] tries the URLs beyond the likely ones only
//! while a fixed budget of bytes hashed lasts.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha1 = Hmac<Sha1>;

/// Length of an HMAC-SHA1 tag in bytes.
const MAC_LEN: usize = 20;

/// The query parameter Twilio adds to the URL of a signed JSON request (docs/taskrouter.md §4).
const BODY_HASH_PARAM: &str = "bodySHA256";

/// How many characters of a malformed header are echoed in an error: enough to recognise it, too
/// few to be a usable signature of any algorithm.
const ECHO_LIMIT: usize = 6;

/// A request whose signature does not check out.
///
/// A missing header is not one of these: the transport reports it before calling this module.
/// None of the variants carries an auth token or an expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not the base64 of a 20-byte HMAC-SHA1, so it cannot match any URL.
    #[error(
        "the X-Twilio-Signature header ({length} characters, starting {received:?}) is not the \
         base64 of a 20-byte HMAC-SHA1: \
         the request was not signed by Twilio, or something between Twilio and this function \
         altered the header"
    )]
    Malformed {
        /// The start of the received header (never the whole of it).
        received: String,
        /// The header's length in characters.
        length: usize,
    },
    /// The signature matches no token over any of the URLs tried.
    #[error(
        "the X-Twilio-Signature matches none of the {} URL(s) tried ({}) with the configured auth \
         token(s){}: set PUBLIC_BASE_URL to the Workflow's AssignmentCallbackUrl exactly as \
         configured in Twilio, and check that the auth token belongs to the account that sent it",
        .tried.len(),
        .tried.join(", "),
        untried_note(*.not_tried)
    )]
    NoMatch {
        /// Every URL variant the signature was checked against, in order, credentials masked.
        tried: Vec<String>,
        /// How many of the URLs beyond the likely ones (a REST API query in its other orders)
        /// were not tried because the budget of [`verify_form_within`] was spent.
        not_tried: usize,
    },
    /// A JSON body arrived at URLs that carry no `bodySHA256` query parameter.
    #[error(
        "a JSON body arrived but none of the URL(s) tried ({}) carries `bodySHA256` in its query: \
         Twilio adds it to every JSON request it signs, so this request was not signed by Twilio \
         (form-encoded callbacks must be sent as application/x-www-form-urlencoded)",
        .urls.join(", ")
    )]
    MissingBodyHash {
        /// The candidate URLs, credentials masked.
        urls: Vec<String>,
    },
    /// The `bodySHA256` in the URL is not the SHA-256 of the body received.
    #[error(
        "the body's SHA-256 is {of_body} but the URL's `bodySHA256` says {in_url}: the body was \
         altered after Twilio signed it (or re-encoded on the way)"
    )]
    BodyHashMismatch {
        /// The value of `bodySHA256` in the URL (public: it is part of the URL).
        in_url: String,
        /// The lower-case hex SHA-256 of the body received.
        of_body: String,
    },
}

/// What [`SignatureError::NoMatch`] says about the URLs left untried, if any.
fn untried_note(not_tried: usize) -> String {
    if not_tried == 0 {
        String::new()
    } else {
        format!(
            "; {not_tried} more URL(s) with the query in another order were not tried, to bound \
             the work a request can cause before it is verified (an HTTP API passes the query as \
             sent, so nothing has to be guessed)"
        )
    }
}

/// An `X-Twilio-Signature` header that can be a signature: the base64 of an HMAC-SHA1's 20 bytes.
///
/// Parsed on its own, before the body, so that a request whose header cannot match anything costs
/// no parsing, no token and no hashing. Its `Debug` shows no byte of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature([u8; MAC_LEN]);

impl Signature {
    /// Decodes the header strictly (standard base64, padding required, non-canonical trailing bits
    /// rejected), so that every distinct header is a distinct tag.
    ///
    /// # Errors
    ///
    /// [`SignatureError::Malformed`] when `header` is not the base64 of 20 bytes; it echoes only
    /// the first few characters.
    pub fn parse(header: &str) -> Result<Self, SignatureError> {
        decode_signature(header).map(Self)
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signature(..)")
    }
}

/// A signature that checked out, and what it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The URL variant the signature was made over (a candidate URL, or its port variant).
    pub url: String,
    /// Which token signed it: the index into the `tokens` given (0 primary, 1 secondary).
    pub token_index: usize,
}

/// Computes `base64(HMAC-SHA1(token, url + sorted params))`, the value of `X-Twilio-Signature`.
///
/// Parameters are sorted by key byte-wise, case-sensitive; a repeated key's values are sorted and
/// de-duplicated, each appended as key + value. This is what twilio-node's
/// `getExpectedTwilioSignature` does (`src/webhooks/webhooks.ts`: `Object.keys(params).sort()`, then
/// `Array.from(new Set(values)).sort()`), and twilio-python's `RequestValidator.compute_signature`
/// (`twilio/request_validator.py`: `sorted(set(params))`, then `sorted(values)`) agrees except that
/// it keeps duplicate values; docs/taskrouter.md §4 follows the de-duplicating libraries.
///
/// `url` is used byte for byte; `params` are the decoded form pairs in any order.
pub fn sign(token: &[u8], url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(token, url, &params_suffix(params)))
}

/// The lower-case hex SHA-256 of `body`, as Twilio writes it in `bodySHA256`
/// (docs/taskrouter.md §4).
pub fn body_sha256(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The URL variants a signature may have been made over, de-duplicated, `url` itself first.
///
/// Twilio signs inconsistently with respect to ports, so every official Twilio helper library
/// accepts a match on the URL with its port removed, or with the scheme's default port (`:443` for
/// https, `:80` for http) added when it has none (docs/taskrouter.md §4; twilio-python
/// `remove_port` and `add_port`). Nothing else is changed: host case, escapes, `'`, trailing
/// slashes and the query stay byte for byte.
/// The URL is taken apart as text, never through a URL parser.
///
/// A URL without `://` yields only itself. A port that is not all digits is left alone.
pub fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some(parts) = UrlParts::split(url) else {
        return variants;
    };
    let other = match parts.port_colon {
        // `host:1234` → `host`; a bare `host:` loses its colon.
        Some(colon) if parts.port_is_numeric(url) => {
            Some(format!("{}{}", &url[..colon], &url[parts.authority_end..]))
        }
        Some(_) => None,
        None => default_port(&url[..parts.scheme_end]).map(|port| {
            format!(
                "{}{port}{}",
                &url[..parts.authority_end],
                &url[parts.authority_end..]
            )
        }),
    };
    if let Some(other) = other
        && other != url
    {
        variants.push(other);
    }
    variants
}

/// Checks a form-encoded request's signature.
///
/// `params` are the decoded form pairs exactly as received (every one of them: Twilio signs
/// parameters it adds without notice). Each token is tried over every candidate URL and its port
/// variants ([`url_variants`]), most likely URL first; each comparison is constant-time. The first
/// match wins.
///
/// # Errors
///
/// [`SignatureError::Malformed`] when `signature` is not the base64 of 20 bytes;
/// [`SignatureError::NoMatch`] when no token and URL variant reproduce it.
pub fn verify_form(
    tokens: &[&[u8]],
    urls: &[String],
    params: &[(String, String)],
    signature: &str,
) -> Result<Verified, SignatureError> {
    let received = Signature::parse(signature)?;
    verify_form_within(tokens, urls, &[], 0, params, &received)
}

/// Checks a form-encoded request's signature as [`verify_form`] does, with a bound on the work:
/// every URL of `urls` is tried, then the URLs of `more`, in order, for as long as the bytes they
/// hash stay within `budget`.
///
/// A URL of `more` costs the length of each of its variants ([`url_variants`]) plus the
/// parameters' (their signing string), times the number of tokens; it is tried with all of them
/// or not at all, and once one does not fit, neither do the ones after it (they are in order of
/// likelihood). So what `more` costs is at most `budget` bytes hashed, whatever its length: the
/// work of one check is that of `urls` plus a constant. `urls` are the URLs a request is most
/// likely to have been signed for, `more` the guesses an event forces (see
/// [`crate::public_url::Candidates`]).
///
/// # Errors
///
/// [`SignatureError::NoMatch`] when no token and URL variant tried reproduce `signature`; its
/// `not_tried` counts the URLs of `more` the budget left out.
pub fn verify_form_within(
    tokens: &[&[u8]],
    urls: &[String],
    more: &[String],
    budget: usize,
    params: &[(String, String)],
    signature: &Signature,
) -> Result<Verified, SignatureError> {
    let suffix = params_suffix(params);
    let mut tried = Vec::new();
    for url in urls {
        if let Some(verified) =
            check_variants(tokens, url_variants(url), &suffix, signature, &mut tried)
        {
            return Ok(verified);
        }
    }
    let mut spent = 0_usize;
    for (index, url) in more.iter().enumerate() {
        let variants = url_variants(url);
        let cost = variants
            .iter()
            .map(|variant| (variant.len() + suffix.len()) * tokens.len())
            .sum::<usize>();
        if spent.saturating_add(cost) > budget {
            return Err(SignatureError::NoMatch {
                tried,
                not_tried: more.len() - index,
            });
        }
        spent += cost;
        if let Some(verified) = check_variants(tokens, variants, &suffix, signature, &mut tried) {
            return Ok(verified);
        }
    }
    Err(SignatureError::NoMatch {
        tried,
        not_tried: 0,
    })
}

/// Checks a JSON request's signature.
///
/// Twilio appends `bodySHA256=<hex sha256 of the raw body>` to the URL and signs the URL alone,
/// with no parameters (docs/taskrouter.md §4; twilio-python `RequestValidator.validate`). Only
/// candidate URLs whose `bodySHA256` equals the body's hash are tried; the hash is compared as
/// lower-case hex, exactly as Twilio's helper libraries compare it.
///
/// # Errors
///
/// [`SignatureError::Malformed`] when `signature` is not the base64 of 20 bytes;
/// [`SignatureError::MissingBodyHash`] when no candidate URL carries `bodySHA256`;
/// [`SignatureError::BodyHashMismatch`] when they carry a hash other than the body's;
/// [`SignatureError::NoMatch`] when the hash matches but no token and URL variant reproduce the
/// signature.
pub fn verify_json(
    tokens: &[&[u8]],
    urls: &[String],
    body: &[u8],
    signature: &str,
) -> Result<Verified, SignatureError> {
    let received = Signature::parse(signature)?;
    let of_body = body_sha256(body);
    let mut matching = Vec::new();
    let mut mismatch = None;
    for url in urls {
        let Some(in_url) = body_hash_param(url) else {
            continue;
        };
        if bool::from(in_url.as_bytes().ct_eq(of_body.as_bytes())) {
            matching.push(url.as_str());
        } else if mismatch.is_none() {
            mismatch = Some(in_url);
        }
    }
    if matching.is_empty() {
        return Err(match mismatch {
            Some(in_url) => SignatureError::BodyHashMismatch { in_url, of_body },
            None => SignatureError::MissingBodyHash {
                urls: urls.iter().map(|url| mask_credentials(url)).collect(),
            },
        });
    }
    let mut tried = Vec::new();
    for url in matching {
        if let Some(verified) = check_variants(tokens, url_variants(url), "", &received, &mut tried)
        {
            return Ok(verified);
        }
    }
    Err(SignatureError::NoMatch {
        tried,
        not_tried: 0,
    })
}

/// Tries every token over each of `variants` (a URL's, [`url_variants`]); returns the first
/// match, and adds the variants that did not match to `tried`.
fn check_variants(
    tokens: &[&[u8]],
    variants: Vec<String>,
    suffix: &str,
    received: &Signature,
    tried: &mut Vec<String>,
) -> Option<Verified> {
    for variant in variants {
        for (token_index, token) in tokens.iter().enumerate() {
            // Constant time per comparison, so the time taken says nothing about how many
            // leading bytes of a forged signature were right.
            if bool::from(mac(token, &variant, suffix).ct_eq(&received.0)) {
                return Some(Verified {
                    url: variant,
                    token_index,
                });
            }
        }
        let masked = mask_credentials(&variant);
        if !tried.contains(&masked) {
            tried.push(masked);
        }
    }
    None
}

/// The parameters as they are appended to the URL: sorted by key, then value; duplicates dropped.
///
/// Sorting whole `(key, value)` pairs and removing equal neighbours is the same as grouping by key
/// (sorted byte-wise: `str`'s order is byte order) with each key's values sorted and de-duplicated.
/// It is not the same as sorting the concatenation `key + value` (docs/taskrouter.md §4 has the
/// vector).
fn params_suffix(params: &[(String, String)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut suffix = String::with_capacity(sorted.iter().map(|(k, v)| k.len() + v.len()).sum());
    for (key, value) in sorted {
        suffix.push_str(key);
        suffix.push_str(value);
    }
    suffix
}

/// HMAC-SHA1 of `url` followed by `suffix`, keyed with `token`.
fn mac(token: &[u8], url: &str, suffix: &str) -> [u8; MAC_LEN] {
    // HMAC takes keys of any length (long ones are hashed, short ones padded), so this cannot fail.
    let mut mac = HmacSha1::new_from_slice(token).expect("HMAC accepts a key of any length");
    mac.update(url.as_bytes());
    mac.update(suffix.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Decodes the header into the 20 bytes of an HMAC-SHA1, strictly (padding required,
/// non-canonical trailing bits rejected), so that every distinct header is a distinct tag.
fn decode_signature(signature: &str) -> Result<[u8; MAC_LEN], SignatureError> {
    STANDARD
        .decode(signature)
        .ok()
        .and_then(|bytes| <[u8; MAC_LEN]>::try_from(bytes).ok())
        .ok_or_else(|| SignatureError::Malformed {
            received: signature.chars().take(ECHO_LIMIT).collect(),
            length: signature.chars().count(),
        })
}

/// The first `bodySHA256` value in the URL's query, if any.
fn body_hash_param(url: &str) -> Option<String> {
    let after_mark = url.split_once('?')?.1;
    let query = after_mark
        .split_once('#')
        .map_or(after_mark, |(query, _)| query);
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == BODY_HASH_PARAM)
        .map(|(_, value)| value.into_owned())
}

/// `user:password@` in a URL replaced by `***@`, so that errors and logs never carry credentials.
fn mask_credentials(url: &str) -> String {
    match UrlParts::split(url) {
        Some(UrlParts {
            authority_start,
            userinfo_end: Some(at),
            ..
        }) => format!("{}***{}", &url[..authority_start], &url[at..]),
        _ => url.to_owned(),
    }
}

/// The default port of a scheme, with its colon, for the schemes Twilio calls.
fn default_port(scheme: &str) -> Option<&'static str> {
    if scheme.eq_ignore_ascii_case("https") {
        Some(":443")
    } else if scheme.eq_ignore_ascii_case("http") {
        Some(":80")
    } else {
        None
    }
}

/// Byte offsets of the pieces of `scheme://[userinfo@]host[:port]/path?query#fragment` that the
/// port variants need, found by scanning the text.
struct UrlParts {
    /// End of the scheme (the index of `://`).
    scheme_end: usize,
    /// Start of the authority (just after `://`).
    authority_start: usize,
    /// Index of the `@` ending the userinfo, when there is one.
    userinfo_end: Option<usize>,
    /// Index of the `:` before the port, when there is one.
    port_colon: Option<usize>,
    /// End of the authority: the first `/`, `?` or `#` after it, or the end of the URL.
    authority_end: usize,
}

impl UrlParts {
    fn split(url: &str) -> Option<Self> {
        let scheme_end = url.find("://")?;
        let scheme = &url[..scheme_end];
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return None;
        }
        let authority_start = scheme_end + 3;
        let authority_end = url[authority_start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |offset| authority_start + offset);
        let authority = &url[authority_start..authority_end];
        let userinfo_end = authority.rfind('@').map(|at| authority_start + at);
        let host_start = userinfo_end.map_or(authority_start, |at| at + 1);
        let host_port = &url[host_start..authority_end];
        // An IPv6 literal has colons of its own: the port colon can only follow its `]`.
        let port_colon = if host_port.starts_with('[') {
            host_port
                .find(']')
                .filter(|&close| host_port[close + 1..].starts_with(':'))
                .map(|close| host_start + close + 1)
        } else {
            host_port.rfind(':').map(|colon| host_start + colon)
        };
        Some(Self {
            scheme_end,
            authority_start,
            userinfo_end,
            port_colon,
            authority_end,
        })
    }

    /// Whether the port after the colon is all ASCII digits (an empty port counts: `host:`).
    fn port_is_numeric(&self, url: &str) -> bool {
        self.port_colon.is_some_and(|colon| {
            url[colon + 1..self.authority_end]
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    const TOKEN: &[u8] = b"12345";
    const BASE: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const BODY: &[u8] = br#"{"property": "value", "boolean": true}"#;
    const BODY_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn common() -> Vec<(String, String)> {
        pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    fn common_and(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = common();
        all.extend(pairs(extra));
        all
    }

    /// One official vector: what it shows, the URL signed, the parameters, the signature.
    type Vector = (&'static str, String, Vec<(String, String)>, &'static str);

    /// The official vectors of docs/taskrouter.md §4 that sign a URL and parameters directly.
    fn signing_vectors() -> Vec<Vector> {
        vec![
            (
                "base URL with the common parameters",
                BASE.to_owned(),
                common(),
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            ),
            (
                "http with a non-default port",
                "http://mycompany.com:1234/myapp.php?foo=1&bar=2".to_owned(),
                common(),
                "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            ),
            (
                "https with the default port written out",
                "https://mycompany.com:443/myapp.php?foo=1&bar=2".to_owned(),
                common(),
                "kvajT1Ptam85bY51eRf/AJRuM3w=",
            ),
            (
                "http with the default port written out",
                "http://mycompany.com:80/myapp.php?foo=1&bar=2".to_owned(),
                common(),
                "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            ),
            (
                "JSON body: base URL plus bodySHA256, no parameters",
                format!("{BASE}&bodySHA256={BODY_HASH}"),
                Vec::new(),
                "a9nBmqA0ju/hNViExpshrM61xv4=",
            ),
            (
                "JSON body: bodySHA256 as the only query parameter",
                format!("https://mycompany.com/myapp.php?bodySHA256={BODY_HASH}"),
                Vec::new(),
                "y77kIzt2vzLz71DgmJGsen2scGs=",
            ),
            (
                "a repeated key's values are sorted and de-duplicated",
                BASE.to_owned(),
                pairs(&[
                    ("Sid", "CA123"),
                    ("SidAccount", "AC123"),
                    ("Digits", "5678"),
                    ("Digits", "1234"),
                    ("Digits", "1234"),
                ]),
                "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
            ),
            (
                "parameters are sorted by key, not by key + value",
                BASE.to_owned(),
                common_and(&[("ReasonConferenceEnded", "test"), ("Reason", "Participant")]),
                "vOEb5UThFn24KEfnOFLQY2AE5FY=",
            ),
            (
                "no parameters at all",
                BASE.to_owned(),
                Vec::new(),
                "zYQTYrRWXE7LtzbG4PfP7/bkkGo=",
            ),
            (
                "a URL without a query string",
                "https://mycompany.com/myapp.php".to_owned(),
                common(),
                "1xaxFBvyzXYvWplzNOSs28HWO94=",
            ),
            (
                "the host's case is kept",
                "https://MyCompany.com/myapp.php?foo=1&bar=2".to_owned(),
                common(),
                "g9IN/x4Cft2g517EjYvEvM/W7LU=",
            ),
            (
                "values with spaces, punctuation and unicode are appended decoded",
                BASE.to_owned(),
                pairs(&[
                    ("Message", "Hello & goodbye! @#$%^*()"),
                    ("From", "+1 (415) 867-5309"),
                    ("Special", "unicode: ñáéíóú"),
                ]),
                "dCPiR4WtQ6QFN6pJh81CtlCcWLQ=",
            ),
            (
                "empty values are appended as just the key",
                BASE.to_owned(),
                pairs(&[
                    ("Digits", ""),
                    ("CallSid", "CA1234567890ABCDE"),
                    ("EmptyParam", ""),
                ]),
                "9HHp/OqQMEwdrVebHDdA/+tqjX8=",
            ),
            (
                "parameters received out of order",
                BASE.to_owned(),
                pairs(&[
                    ("Zebra", "last"),
                    ("Alpha", "first"),
                    ("Beta", "second"),
                    ("Gamma", "third"),
                ]),
                "enveUe73ZTVLAekHxez3Qx6JuuQ=",
            ),
            (
                "raw UTF-8 in the path and query",
                "https://mycompany.com/webhook/España?año=2023".to_owned(),
                common(),
                "G/Hx6mqqnjUNlPAoi2Sp9bGst0g=",
            ),
            (
                "keys differing only in case sort byte-wise",
                BASE.to_owned(),
                pairs(&[
                    ("callSid", "lowercase"),
                    ("CallSid", "uppercase"),
                    ("CALLSID", "allcaps"),
                ]),
                "jDK7WKT8wiNrwggd4ceTv4e1MJ4=",
            ),
            (
                "a percent-encoded query is kept as written",
                "https://mycompany.com/myapp.php?foo=hello%20world&bar=test%2Bvalue".to_owned(),
                common(),
                "er2tvAP1Wx+iuTTE2BPgvEaN1cs=",
            ),
        ]
    }

    #[test]
    fn sign_reproduces_every_official_vector() {
        for (case, url, params, expected) in signing_vectors() {
            assert_eq!(sign(TOKEN, &url, &params), expected, "{case}");
        }
    }

    #[test]
    fn verify_form_accepts_every_official_vector_at_its_own_url() {
        for (case, url, params, expected) in signing_vectors() {
            let verified = verify_form(&[TOKEN], std::slice::from_ref(&url), &params, expected)
                .unwrap_or_else(|error| panic!("{case}: {error}"));
            assert_eq!(
                verified,
                Verified {
                    url,
                    token_index: 0
                },
                "{case}"
            );
        }
    }

    #[test]
    fn sorting_by_key_plus_value_would_give_the_wrong_signature() {
        let params = common_and(&[("ReasonConferenceEnded", "test"), ("Reason", "Participant")]);
        // docs/taskrouter.md §4: the signature a key+value sort produces for this input.
        assert_ne!(sign(TOKEN, BASE, &params), "95+Bu0JVPi0r/SsESZCVf0dWAjw=");
    }

    #[test]
    fn verify_form_accepts_official_signatures_at_a_port_variant_of_the_url() {
        let cases = [
            (
                "a port on the received URL is removed to match the signature over the base URL",
                "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                BASE,
            ),
            (
                "a signature made over :443 matches at the base URL",
                BASE,
                "kvajT1Ptam85bY51eRf/AJRuM3w=",
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            ),
            (
                "a signature made over :80 matches at the http URL without a port",
                "http://mycompany.com/myapp.php?foo=1&bar=2",
                "0ZXoZLH/DfblKGATFgpif+LLRf4=",
                "http://mycompany.com:80/myapp.php?foo=1&bar=2",
            ),
        ];
        for (case, received_at, signature, matched) in cases {
            let verified = verify_form(&[TOKEN], &[received_at.to_owned()], &common(), signature)
                .unwrap_or_else(|error| panic!("{case}: {error}"));
            assert_eq!(verified.url, matched, "{case}");
        }
    }

    #[test]
    fn verify_json_accepts_the_official_body_hash_vectors() {
        assert_eq!(
            body_sha256(BODY),
            BODY_HASH,
            "the body hash of docs/taskrouter.md §4"
        );
        let cases = [
            (
                "bodySHA256 appended to an existing query",
                format!("{BASE}&bodySHA256={BODY_HASH}"),
                "a9nBmqA0ju/hNViExpshrM61xv4=",
            ),
            (
                "bodySHA256 as the only query parameter",
                format!("https://mycompany.com/myapp.php?bodySHA256={BODY_HASH}"),
                "y77kIzt2vzLz71DgmJGsen2scGs=",
            ),
            (
                "bodySHA256 with a port to remove",
                format!("https://mycompany.com:8443/myapp.php?bodySHA256={BODY_HASH}"),
                "y77kIzt2vzLz71DgmJGsen2scGs=",
            ),
        ];
        for (case, url, signature) in cases {
            let verified = verify_json(&[TOKEN], &[url], BODY, signature)
                .unwrap_or_else(|error| panic!("{case}: {error}"));
            assert_eq!(verified.token_index, 0, "{case}");
        }
    }

    #[test]
    fn verify_json_rejects_a_url_without_body_hash_even_with_a_valid_url_signature() {
        let signature = sign(TOKEN, BASE, &[]);
        let error =
            verify_json(&[TOKEN], &[BASE.to_owned()], BODY, &signature).expect_err("no bodySHA256");
        insta::assert_snapshot!(error, @"a JSON body arrived but none of the URL(s) tried (https://mycompany.com/myapp.php?foo=1&bar=2) carries `bodySHA256` in its query: Twilio adds it to every JSON request it signs, so this request was not signed by Twilio (form-encoded callbacks must be sent as application/x-www-form-urlencoded)");
    }

    #[test]
    fn verify_json_rejects_a_body_that_does_not_match_the_url_hash() {
        let url = format!("{BASE}&bodySHA256={BODY_HASH}");
        let altered = br#"{"property": "value", "boolean": false}"#;
        let error = verify_json(&[TOKEN], &[url], altered, "a9nBmqA0ju/hNViExpshrM61xv4=")
            .expect_err("altered body");
        assert!(
            matches!(&error, SignatureError::BodyHashMismatch { in_url, .. } if in_url == BODY_HASH),
            "{error:?}"
        );
    }

    #[test]
    fn verify_json_compares_the_body_hash_as_lower_case_hex_like_twilio_libraries() {
        let url = format!("{BASE}&bodySHA256={}", BODY_HASH.to_uppercase());
        let signature = sign(TOKEN, &url, &[]);
        let error = verify_json(&[TOKEN], &[url], BODY, &signature).expect_err("upper-case hash");
        assert!(
            matches!(error, SignatureError::BodyHashMismatch { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn verify_json_skips_candidates_whose_hash_differs_and_tries_the_rest() {
        let stale = format!("{BASE}&bodySHA256={}", body_sha256(b"{}"));
        let right = format!("{BASE}&bodySHA256={BODY_HASH}");
        let verified = verify_json(
            &[TOKEN],
            &[stale, right.clone()],
            BODY,
            "a9nBmqA0ju/hNViExpshrM61xv4=",
        )
        .expect("the second candidate carries the right hash");
        assert_eq!(verified.url, right);
    }

    #[test]
    fn a_signature_by_the_secondary_token_reports_index_one() {
        let signature = sign(b"secondary", BASE, &common());
        let tokens: [&[u8]; 2] = [TOKEN, b"secondary"];
        let verified = verify_form(&tokens, &[BASE.to_owned()], &common(), &signature)
            .expect("secondary token signed it");
        assert_eq!(verified.token_index, 1);
    }

    #[test]
    fn the_most_likely_candidate_url_that_matches_is_reported() {
        let urls = [
            "https://abc123.execute-api.us-east-1.amazonaws.com/taskrouter".to_owned(),
            "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/taskrouter".to_owned(),
        ];
        let signature = sign(TOKEN, &urls[1], &common());
        let verified =
            verify_form(&[TOKEN], &urls, &common(), &signature).expect("second candidate");
        assert_eq!(verified.url, urls[1]);
    }

    #[test]
    fn malformed_signatures_are_told_apart_from_mismatches() {
        let cases = [
            ("an empty header", String::new()),
            ("not base64 at all", "not base64!".to_owned()),
            (
                "base64 without padding",
                "RSOYDt4T1cUTdK1PDd93/VVr8B8".to_owned(),
            ),
            ("base64 of 19 bytes", STANDARD.encode([7u8; 19])),
            ("base64 of 21 bytes", STANDARD.encode([7u8; 21])),
            ("base64 of an HMAC-SHA256", STANDARD.encode([7u8; 32])),
            ("URL-safe base64", "RSOYDt4T1cUTdK1PDd93_VVr8B8=".to_owned()),
            (
                "non-canonical trailing bits",
                "RSOYDt4T1cUTdK1PDd93/VVr8B9=".to_owned(),
            ),
            (
                "surrounding whitespace",
                " RSOYDt4T1cUTdK1PDd93/VVr8B8=".to_owned(),
            ),
        ];
        for (case, signature) in cases {
            let error =
                verify_form(&[TOKEN], &[BASE.to_owned()], &common(), &signature).expect_err(case);
            assert!(
                matches!(error, SignatureError::Malformed { .. }),
                "{case}: {error:?}"
            );
        }
    }

    #[test]
    fn a_malformed_header_is_echoed_cut_short() {
        let error = verify_form(&[TOKEN], &[BASE.to_owned()], &[], &"x".repeat(500))
            .expect_err("malformed");
        insta::assert_snapshot!(error, @r#"the X-Twilio-Signature header (500 characters, starting "xxxxxx") is not the base64 of a 20-byte HMAC-SHA1: the request was not signed by Twilio, or something between Twilio and this function altered the header"#);
    }

    #[test]
    fn a_mismatch_lists_the_urls_tried_and_never_the_token_or_expected_signature() {
        let urls = [
            "https://user:hunter2@mycompany.com/myapp.php".to_owned(),
            BASE.to_owned(),
        ];
        let wrong = sign(b"another account", BASE, &common());
        let error = verify_form(&[TOKEN], &urls, &common(), &wrong).expect_err("wrong token");
        let text = error.to_string();
        for url in urls.iter().flat_map(|url| url_variants(url)) {
            assert!(
                !text.contains(&sign(TOKEN, &url, &common())),
                "expected signature over {url} leaked"
            );
        }
        assert!(!text.contains("12345"), "token leaked: {text}");
        insta::assert_snapshot!(text, @"the X-Twilio-Signature matches none of the 4 URL(s) tried (https://***@mycompany.com/myapp.php, https://***@mycompany.com:443/myapp.php, https://mycompany.com/myapp.php?foo=1&bar=2, https://mycompany.com:443/myapp.php?foo=1&bar=2) with the configured auth token(s): set PUBLIC_BASE_URL to the Workflow's AssignmentCallbackUrl exactly as configured in Twilio, and check that the auth token belongs to the account that sent it");
    }

    #[test]
    fn a_body_hash_mismatch_names_both_hashes() {
        let url = format!("https://mycompany.com/cb?bodySHA256={}", body_sha256(b"{}"));
        let error = verify_json(&[TOKEN], &[url], b"[]", "a9nBmqA0ju/hNViExpshrM61xv4=")
            .expect_err("mismatch");
        insta::assert_snapshot!(error, @"the body's SHA-256 is 4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945 but the URL's `bodySHA256` says 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a: the body was altered after Twilio signed it (or re-encoded on the way)");
    }

    #[test]
    fn no_tokens_or_no_urls_never_verify() {
        let signature = sign(TOKEN, BASE, &[]);
        assert_eq!(
            verify_form(&[], &[BASE.to_owned()], &[], &signature),
            Err(SignatureError::NoMatch {
                tried: url_variants(BASE),
                not_tried: 0,
            }),
            "no tokens"
        );
        assert_eq!(
            verify_form(&[TOKEN], &[], &[], &signature),
            Err(SignatureError::NoMatch {
                tried: Vec::new(),
                not_tried: 0,
            }),
            "no URLs"
        );
    }

    #[test]
    fn a_parsed_signature_shows_none_of_its_bytes() {
        let header = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        let parsed = Signature::parse(header).expect("the base64 of 20 bytes");
        assert_eq!(format!("{parsed:?}"), "Signature(..)");
        assert_eq!(
            Signature::parse("RSOYDt4T1cUTdK1PDd93/VVr8B8"),
            Err(SignatureError::Malformed {
                received: "RSOYDt".to_owned(),
                length: 27
            }),
            "no padding"
        );
    }

    /// `BASE` with its query in other orders: the URLs a REST API event makes a check guess.
    fn reordered() -> Vec<String> {
        ["bar=2&foo=1", "foo=1&bar=2&x=1", "bar=2&foo=1&x=1"]
            .iter()
            .map(|query| format!("https://mycompany.com/myapp.php?{query}"))
            .collect()
    }

    /// What trying `url` costs under [`verify_form_within`]: each variant and the signing string
    /// of `params`, once per token.
    fn cost(url: &str, params: &[(String, String)], tokens: usize) -> usize {
        url_variants(url)
            .iter()
            .map(|variant| (variant.len() + params_suffix(params).len()) * tokens)
            .sum()
    }

    #[test]
    fn the_likely_urls_are_tried_whatever_the_budget() {
        let signature = Signature::parse(&sign(TOKEN, BASE, &common())).expect("well formed");
        let verified = verify_form_within(
            &[TOKEN],
            &[BASE.to_owned()],
            &reordered(),
            0,
            &common(),
            &signature,
        )
        .expect("a likely URL needs no budget");
        assert_eq!(verified.url, BASE);
    }

    #[test]
    fn more_urls_are_tried_in_order_while_the_budget_lasts() {
        let more = reordered();
        let params = common();
        let tokens: [&[u8]; 2] = [TOKEN, b"secondary"];
        let first_two = cost(&more[0], &params, 2) + cost(&more[1], &params, 2);
        for (case, index, budget, verifies) in [
            (
                "the first guess, with just its cost",
                0,
                cost(&more[0], &params, 2),
                true,
            ),
            (
                "the second guess, with the first two's cost",
                1,
                first_two,
                true,
            ),
            ("the second guess, a byte short", 1, first_two - 1, false),
            (
                "the third guess, with the first two's cost",
                2,
                first_two,
                false,
            ),
        ] {
            // Signed with the secondary token over the port variant: the last thing tried for
            // its URL.
            let signed_over = url_variants(&more[index])[1].clone();
            let signature =
                Signature::parse(&sign(b"secondary", &signed_over, &params)).expect("well formed");
            let outcome = verify_form_within(
                &tokens,
                &[BASE.to_owned()],
                &more,
                budget,
                &params,
                &signature,
            );
            match outcome {
                Ok(verified) => {
                    assert!(verifies, "{case}: verified {verified:?}");
                    assert_eq!(
                        (verified.url, verified.token_index),
                        (signed_over, 1),
                        "{case}"
                    );
                }
                Err(SignatureError::NoMatch { tried, not_tried }) => {
                    assert!(!verifies, "{case}: not verified");
                    let tried_more = tried.len() / 2 - 1;
                    assert_eq!(tried_more + not_tried, more.len(), "{case}: {tried:?}");
                    assert!(not_tried > 0, "{case}: something was left out");
                }
                Err(other) => panic!("{case}: {other}"),
            }
        }
    }

    #[test]
    fn a_forged_signature_hashes_the_likely_urls_and_at_most_the_budget_more() {
        let params = pairs(&[("Padding", &"x".repeat(10_000))]);
        let likely = [BASE.to_owned()];
        // Many guesses, far more than the budget covers.
        let more: Vec<String> = (0..1000)
            .map(|i| format!("https://mycompany.com/myapp.php?guess={i}"))
            .collect();
        let budget = 100_000;
        let forged = Signature::parse(&STANDARD.encode([0u8; 20])).expect("well formed");
        let error = verify_form_within(&[TOKEN], &likely, &more, budget, &params, &forged)
            .expect_err("forged");
        let SignatureError::NoMatch { tried, not_tried } = &error else {
            panic!("{error:?}");
        };
        let hashed: usize = tried
            .iter()
            .map(|url| url.len() + params_suffix(&params).len())
            .sum();
        let likely_cost = cost(BASE, &params, 1);
        assert!(hashed <= likely_cost + budget, "{hashed} bytes hashed");
        assert!(
            hashed + cost(&more[tried.len() / 2 - 1], &params, 1) > likely_cost + budget,
            "the budget was used up to the last guess that fits"
        );
        assert_eq!(tried.len() / 2 - 1 + not_tried, more.len());
        assert!(
            error.to_string().contains(&format!(
                "{not_tried} more URL(s) with the query in another order"
            )),
            "the message says how many were left out: {error}"
        );
    }

    #[test]
    fn url_variants_add_or_remove_only_the_port() {
        let cases: [(&str, &str, &[&str]); 12] = [
            (
                "https without a port gains :443",
                "https://mycompany.com/myapp.php?foo=1",
                &[
                    "https://mycompany.com/myapp.php?foo=1",
                    "https://mycompany.com:443/myapp.php?foo=1",
                ],
            ),
            (
                "http without a port gains :80",
                "http://mycompany.com/a",
                &["http://mycompany.com/a", "http://mycompany.com:80/a"],
            ),
            (
                "a default port is removed",
                "https://mycompany.com:443/a",
                &["https://mycompany.com:443/a", "https://mycompany.com/a"],
            ),
            (
                "any other port is removed, never swapped for the default",
                "http://127.0.0.1:9000/taskrouter",
                &[
                    "http://127.0.0.1:9000/taskrouter",
                    "http://127.0.0.1/taskrouter",
                ],
            ),
            (
                "no path: the port goes before the query",
                "https://Host.Example?x=1",
                &["https://Host.Example?x=1", "https://Host.Example:443?x=1"],
            ),
            (
                "no path and no query: the port goes at the end",
                "https://host",
                &["https://host", "https://host:443"],
            ),
            (
                "a colon in the query is not a port",
                "https://host/p?t=12:30",
                &["https://host/p?t=12:30", "https://host:443/p?t=12:30"],
            ),
            (
                "credentials stay, the port after them goes",
                "https://user:pw@host:8443/p",
                &["https://user:pw@host:8443/p", "https://user:pw@host/p"],
            ),
            (
                "an IPv6 literal keeps its own colons",
                "http://[::1]/p",
                &["http://[::1]/p", "http://[::1]:80/p"],
            ),
            (
                "an IPv6 literal loses only its port",
                "http://[::1]:9000/p",
                &["http://[::1]:9000/p", "http://[::1]/p"],
            ),
            (
                "other schemes gain no default port",
                "ftp://host/p",
                &["ftp://host/p"],
            ),
            (
                "text that is not a URL is kept alone",
                "not a url",
                &["not a url"],
            ),
        ];
        for (case, url, expected) in cases {
            assert_eq!(url_variants(url), expected, "{case}");
        }
    }

    #[test]
    fn url_variants_never_normalise_case_escapes_quotes_or_slashes() {
        let url = "https://MyCompany.com/O'Brien/%7euser/?q=a%2Fb&r='x'";
        let variants = url_variants(url);
        assert_eq!(
            variants,
            [
                url.to_owned(),
                "https://MyCompany.com:443/O'Brien/%7euser/?q=a%2Fb&r='x'".to_owned()
            ]
        );
    }

    #[test]
    fn parameters_without_separators_can_collide_by_design() {
        // Twilio's scheme concatenates keys and values without separators, so `a`=`bc` and
        // `ab`=`c` sign alike. The property tests below therefore treat such inputs as unchanged.
        assert_eq!(
            sign(TOKEN, BASE, &pairs(&[("a", "bc")])),
            sign(TOKEN, BASE, &pairs(&[("ab", "c")]))
        );
    }

    /// A URL as Twilio could be configured with: http(s), a host, maybe a port, a path and query
    /// drawn from printable ASCII and a little unicode.
    fn any_url() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["http", "https", "HTTPS"]),
            "[A-Za-z0-9.-]{1,20}",
            prop::option::of(0u16..=65535),
            "(/[A-Za-z0-9._~%!$&'()*+,;=:@ñé-]{0,12}){0,3}",
            prop::option::of("[A-Za-z0-9=&%+.ñ'-]{0,20}"),
        )
            .prop_map(|(scheme, host, port, path, query)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                let query = query.map(|q| format!("?{q}")).unwrap_or_default();
                format!("{scheme}://{host}{port}{path}{query}")
            })
    }

    fn any_params() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::vec(("[A-Za-z]{1,8}", "\\PC{0,10}"), 0..8)
    }

    fn any_token() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 1..80)
    }

    /// `text` with the character at `index` (modulo its length) replaced by `with`.
    fn replace_char(text: &str, index: usize, with: char) -> String {
        let count = text.chars().count();
        let at = index % count;
        text.chars()
            .enumerate()
            .map(|(i, c)| if i == at { with } else { c })
            .collect()
    }

    /// Whether two URLs sign alike: they share a port variant, so the change was no change.
    fn equivalent_urls(a: &str, b: &str) -> bool {
        let theirs = url_variants(b);
        url_variants(a)
            .iter()
            .any(|variant| theirs.contains(variant))
    }

    proptest! {
        #[test]
        fn sign_then_verify_holds(
            url in any_url(),
            params in any_params(),
            token in any_token(),
        ) {
            let signature = sign(&token, &url, &params);
            let verified =
                verify_form(&[&token], std::slice::from_ref(&url), &params, &signature);
            prop_assert_eq!(verified, Ok(Verified { url, token_index: 0 }));
        }

        #[test]
        fn a_signature_over_any_port_variant_verifies_at_the_url_received(
            url in any_url(),
            params in any_params(),
        ) {
            for signed_over in url_variants(&url) {
                let signature = sign(TOKEN, &signed_over, &params);
                let verified =
                    verify_form(&[TOKEN], std::slice::from_ref(&url), &params, &signature);
                prop_assert_eq!(verified.map(|v| v.url), Ok(signed_over));
            }
        }

        #[test]
        fn json_sign_then_verify_holds(
            url in any_url(),
            body in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let separator = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{separator}bodySHA256={}", body_sha256(&body));
            let signature = sign(TOKEN, &url, &[]);
            prop_assert!(verify_json(&[TOKEN], &[url], &body, &signature).is_ok());
        }

        #[test]
        fn changing_a_url_character_fails(
            url in any_url(),
            params in any_params(),
            index in any::<usize>(),
            with in prop::char::any(),
        ) {
            let changed = replace_char(&url, index, with);
            prop_assume!(!equivalent_urls(&url, &changed));
            let signature = sign(TOKEN, &url, &params);
            prop_assert!(verify_form(&[TOKEN], &[changed], &params, &signature).is_err());
        }

        #[test]
        fn changing_a_key_or_value_character_fails(
            params in any_params().prop_filter("needs a parameter", |p| !p.is_empty()),
            which in any::<usize>(),
            in_key in any::<bool>(),
            index in any::<usize>(),
            with in prop::char::any(),
        ) {
            let mut changed = params.clone();
            let pair = &mut changed[which % params.len()];
            let target = if in_key { &mut pair.0 } else { &mut pair.1 };
            *target = if target.is_empty() {
                with.to_string()
            } else {
                replace_char(target, index, with)
            };
            // Equivalent inputs are not changes: the same pairs in another order or with a
            // duplicate, or (no separators) pairs whose concatenation is unchanged.
            prop_assume!(params_suffix(&changed) != params_suffix(&params));
            let signature = sign(TOKEN, BASE, &params);
            let verified = verify_form(&[TOKEN], &[BASE.to_owned()], &changed, &signature);
            prop_assert!(verified.is_err());
        }

        #[test]
        fn changing_a_token_byte_fails(
            url in any_url(),
            params in any_params(),
            token in any_token(),
            index in any::<usize>(),
            flip in 1u8..=255,
        ) {
            let mut other = token.clone();
            let at = index % other.len();
            other[at] ^= flip;
            let signature = sign(&token, &url, &params);
            prop_assert!(verify_form(&[&other], &[url], &params, &signature).is_err());
        }

        #[test]
        fn changing_a_signature_character_fails(
            url in any_url(),
            params in any_params(),
            index in any::<usize>(),
            with in prop::char::any(),
        ) {
            let signature = sign(TOKEN, &url, &params);
            let changed = replace_char(&signature, index, with);
            prop_assume!(changed != signature);
            prop_assert!(verify_form(&[TOKEN], &[url], &params, &changed).is_err());
        }

        #[test]
        fn changing_a_body_byte_fails(
            body in prop::collection::vec(any::<u8>(), 1..200),
            index in any::<usize>(),
            flip in 1u8..=255,
        ) {
            let url = format!("https://example.com/cb?bodySHA256={}", body_sha256(&body));
            let signature = sign(TOKEN, &url, &[]);
            let mut changed = body.clone();
            let at = index % changed.len();
            changed[at] ^= flip;
            prop_assert!(verify_json(&[TOKEN], &[url], &changed, &signature).is_err());
        }

        #[test]
        fn verify_never_panics_on_any_signature_text(
            signature in "\\PC*|[A-Za-z0-9+/=]{0,40}",
            url in any_url(),
            body in "\\PC{0,40}",
        ) {
            let _ = verify_form(&[TOKEN], std::slice::from_ref(&url), &[], &signature);
            let _ = verify_json(&[TOKEN], &[url], body.as_bytes(), &signature);
        }
    }
}
