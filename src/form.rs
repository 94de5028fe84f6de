//! The raw `application/x-www-form-urlencoded` body, kept losslessly.
//!
//! Twilio signs every parameter it sends, including ones it adds without notice
//! (docs/taskrouter.md §1), so the body is kept as the ordered list of decoded pairs exactly as
//! received, repeated keys and all. Typed views ([`crate::callback`], [`crate::event`]) are built
//! from it afterwards.
//!
//! A body longer than any TaskRouter callback can be ([`MAX_BODY_BYTES`]) is refused before it is
//! looked at: decoded into pairs, a body can take some forty times its size in memory (a pair of
//! two one-letter strings for every two bytes of `a&a&…`), and every byte of it is hashed again
//! for each URL the signature is checked against.

/// The longest form body accepted, in bytes: 128 KiB.
///
/// What a TaskRouter callback can need (docs/taskrouter.md §1, docs/taskrouter.md §6): the two
/// attribute documents (`TaskAttributes`, `WorkerAttributes`; a workspace event carries at most
/// these two) are at most 4,096 characters each (docs/taskrouter.md §12, "Limits"); a character is
/// at most 4 bytes of UTF-8 and every byte at most 3 once percent-encoded (`%XX`), so together they
/// take at most 2 × 4,096 × 12 = 96 KiB. The other parameters are SIDs, names, numbers and a
/// timestamp, under 2 KiB in every callback and event of `events/`; 32 KiB are left for them and
/// for the parameters Twilio adds without notice. A callback of realistic attributes (ASCII JSON of
/// a few hundred characters) is a few KB.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// A form body that cannot be read as parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// The body is empty; TaskRouter always sends parameters.
    #[error("the request body is empty: expected form-encoded TaskRouter parameters")]
    Empty,
    /// The body is longer than [`MAX_BODY_BYTES`].
    #[error(
        "the request body is {length} bytes, more than any TaskRouter callback can need \
         ({MAX_BODY_BYTES}: two attribute documents of at most 4,096 characters and a few SIDs): \
         send only the callback's parameters"
    )]
    TooLarge {
        /// The body's length in bytes.
        length: usize,
    },
    /// A percent-decoded key or value is not UTF-8.
    #[error("form parameter `{key}` is not valid UTF-8 once percent-decoded")]
    NotUtf8 {
        /// The parameter's key as far as it decodes, cut to 40 characters (never its value,
        /// which may hold customer data).
        key: String,
    },
}

/// Decoded form parameters in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormParams {
    pairs: Vec<(String, String)>,
}

impl FormParams {
    /// Decodes a form body (`+` as space, percent escapes as UTF-8).
    ///
    /// Pairs are split on `&` and then on the first `=`; empty pairs are skipped and a `%` that
    /// starts no valid escape is kept as it is, exactly as `application/x-www-form-urlencoded`
    /// parsing is specified (<https://url.spec.whatwg.org/#urlencoded-parsing>).
    ///
    /// # Errors
    ///
    /// [`FormError::TooLarge`] for a body longer than [`MAX_BODY_BYTES`], before any of it is
    /// read; [`FormError::Empty`] for an empty body; [`FormError::NotUtf8`] when a decoded key or
    /// value is not UTF-8, whether its bytes were sent raw or percent-encoded (decoding it lossily
    /// would change what was signed). A literal U+FFFD, raw or encoded as `%EF%BF%BD`, is valid
    /// text.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(FormError::TooLarge { length: body.len() });
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(FormError::Empty);
        }
        let mut pairs = Vec::new();
        for raw in body.split(|&b| b == b'&').filter(|raw| !raw.is_empty()) {
            let (raw_key, raw_value) = match raw.iter().position(|&b| b == b'=') {
                Some(equals) => (&raw[..equals], &raw[equals + 1..]),
                None => (raw, &[][..]),
            };
            // Decoded to bytes and checked strictly: `form_urlencoded::parse` would replace
            // invalid UTF-8 with U+FFFD, which cannot be told apart from a U+FFFD that was sent.
            match (decode(raw_key), decode(raw_value)) {
                (Ok(key), Ok(value)) => pairs.push((key, value)),
                (key, _) => {
                    let key = key.unwrap_or_else(|lossy| lossy);
                    return Err(FormError::NotUtf8 {
                        key: key.chars().take(40).collect(),
                    });
                }
            }
        }
        Ok(Self { pairs })
    }

    /// Builds parameters from pairs, e.g. for signing in tests and the CLI.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Every pair, in the order received.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Encodes the parameters as a form body, in order.
    pub fn encode(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.pairs.iter())
            .finish()
    }
}

/// `+` as space, then `%XX` as the byte it encodes (a `%` that starts no escape stays), then a
/// strict UTF-8 check.
fn decode(raw: &[u8]) -> Result<String, String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn pairs_keep_their_order_repeats_and_decoding() {
        let params = FormParams::parse(b"B=2&A=1+2&A=%C3%B1&Empty=&Flag").expect("valid body");
        assert_eq!(
            params.pairs(),
            &[
                ("B".into(), "2".into()),
                ("A".into(), "1 2".into()),
                ("A".into(), "ñ".into()),
                ("Empty".into(), String::new()),
                ("Flag".into(), String::new()),
            ]
        );
        assert_eq!(params.get("A"), Some("1 2"));
        assert_eq!(params.get("Missing"), None);
    }

    #[test]
    fn an_empty_or_blank_body_is_rejected() {
        assert_eq!(FormParams::parse(b""), Err(FormError::Empty));
        assert_eq!(FormParams::parse(b" \n"), Err(FormError::Empty));
    }

    #[test]
    fn a_body_at_the_limit_is_read_and_one_byte_more_is_refused_unread() {
        let at_limit = format!("Padding={}", "x".repeat(MAX_BODY_BYTES - "Padding=".len()));
        let params = FormParams::parse(at_limit.as_bytes()).expect("a body at the limit");
        assert_eq!(params.pairs().len(), 1);
        // One byte more, and not UTF-8 either: the length is what is reported, nothing is decoded.
        let mut over = at_limit.into_bytes();
        over.push(0xFF);
        let error = FormParams::parse(&over).expect_err("one byte over");
        assert_eq!(
            error,
            FormError::TooLarge {
                length: MAX_BODY_BYTES + 1
            }
        );
        insta::assert_snapshot!(error, @"the request body is 131073 bytes, more than any TaskRouter callback can need (131072: two attribute documents of at most 4,096 characters and a few SIDs): send only the callback's parameters");
    }

    #[test]
    fn the_limit_holds_two_attribute_documents_of_the_longest_encoding() {
        // docs/taskrouter.md §12: attributes are at most 4,096 characters. The longest encoding of
        // a character is four bytes of UTF-8, each percent-encoded.
        let longest = "\u{1F600}".repeat(4096);
        let params = FormParams::from_pairs([
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("TaskAttributes", longest.as_str()),
            ("WorkerAttributes", longest.as_str()),
        ]);
        let body = params.encode();
        assert!(
            body.len() <= MAX_BODY_BYTES - 30 * 1024,
            "{} bytes",
            body.len()
        );
        assert_eq!(FormParams::parse(body.as_bytes()), Ok(params));
    }

    #[test]
    fn percent_escapes_that_are_not_utf8_are_rejected_not_replaced() {
        let error = FormParams::parse(b"A=%FF%FE").expect_err("invalid UTF-8");
        assert!(matches!(error, FormError::NotUtf8 { .. }), "{error:?}");
    }

    #[test]
    fn encode_round_trips_through_parse() {
        let params =
            FormParams::from_pairs([("Message", "Hello & goodbye! @#$%^*()"), ("To", "+1 800")]);
        assert_eq!(
            FormParams::parse(params.encode().as_bytes()).expect("round trip"),
            params
        );
    }

    #[test]
    fn a_raw_byte_that_is_not_utf8_is_rejected_not_replaced() {
        // Found by the `form_callback` fuzz target: a raw 0xFF was decoded as U+FFFD and accepted,
        // and the encoded body (`%EF%BF%BD`) was then rejected.
        let cases: &[(&[u8], &str)] = &[
            (b"\xff", "a lone invalid byte"),
            (
                b"AccountSid=AC0123456789abcdef0123456789abcdef&WorkflowS\xbbd=WW2123456789abcdef2123456789abcdef",
                "an invalid byte inside a key",
            ),
            (b"TaskAttributes=%7B%7D\xc3", "a truncated sequence at the end of a value"),
        ];
        for (body, case) in cases {
            let error = FormParams::parse(body).expect_err(case);
            assert!(
                matches!(error, FormError::NotUtf8 { .. }),
                "{case}: {error:?}"
            );
        }
    }

    #[test]
    fn a_replacement_character_that_was_sent_is_text_not_an_error() {
        let params = FormParams::parse(b"CustomerName=Dana+%EF%BF%BD&Raw=\xef\xbf\xbd")
            .expect("U+FFFD is valid UTF-8, raw or percent-encoded");
        assert_eq!(params.get("CustomerName"), Some("Dana \u{FFFD}"));
        assert_eq!(params.get("Raw"), Some("\u{FFFD}"));
    }

    #[test]
    fn a_sent_replacement_character_does_not_excuse_an_invalid_escape_beside_it() {
        let error = FormParams::parse(b"A=\xef\xbf\xbd%FF").expect_err("0xFF is not UTF-8");
        assert_eq!(
            error,
            FormError::NotUtf8 {
                key: "A".to_owned()
            }
        );
    }

    #[test]
    fn the_error_names_the_key_as_far_as_it_decodes() {
        let error = FormParams::parse(b"Bad%FFKey=1").expect_err("0xFF is not UTF-8");
        assert_eq!(
            error,
            FormError::NotUtf8 {
                key: "Bad\u{FFFD}Key".to_owned()
            }
        );
    }

    #[test]
    fn a_percent_that_starts_no_escape_and_an_equals_in_a_value_are_kept() {
        let params = FormParams::parse(b"A=100%&B=%zz&C=%4&D=b=c&%41=%4a%4A").expect("valid body");
        assert_eq!(
            params.pairs(),
            &[
                ("A".into(), "100%".into()),
                ("B".into(), "%zz".into()),
                ("C".into(), "%4".into()),
                ("D".into(), "b=c".into()),
                ("A".into(), "JJ".into()),
            ]
        );
    }

    proptest! {
        #[test]
        fn every_body_that_parses_round_trips_through_encode(body in proptest::collection::vec(any::<u8>(), 1..64)) {
            if let Ok(params) = FormParams::parse(&body) {
                let encoded = params.encode();
                if params.pairs().is_empty() {
                    prop_assert_eq!(FormParams::parse(encoded.as_bytes()), Err(FormError::Empty));
                } else {
                    prop_assert_eq!(FormParams::parse(encoded.as_bytes()), Ok(params));
                }
            }
        }
    }
}
