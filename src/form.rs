//! The raw `application/x-www-form-urlencoded` body, kept losslessly.
//!
//! Twilio signs every parameter it sends, including ones it adds without notice (contract §1), so
//! the body is kept as the ordered list of decoded pairs exactly as received, repeated keys and
//! all. Typed views ([`crate::callback`], [`crate::event`]) are built from it afterwards.

/// A form body that cannot be read as parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// The body is empty; TaskRouter always sends parameters.
    #[error("the request body is empty: expected form-encoded TaskRouter parameters")]
    Empty,
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
    /// # Errors
    ///
    /// [`FormError::Empty`] for an empty body, [`FormError::NotUtf8`] when a decoded key or value is
    /// not UTF-8 (decoding it lossily would change what was signed).
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(FormError::Empty);
        }
        let mut pairs = Vec::new();
        for raw in body.split(|&b| b == b'&').filter(|raw| !raw.is_empty()) {
            let mut decoded = form_urlencoded::parse(raw);
            let Some((key, value)) = decoded.next() else {
                continue;
            };
            // `form_urlencoded` replaces invalid UTF-8 with U+FFFD; a replacement character that
            // was not literally in the input means the bytes were not UTF-8.
            let replaced = |text: &str| text.contains('\u{FFFD}');
            if (replaced(&key) || replaced(&value))
                && !String::from_utf8_lossy(raw).contains('\u{FFFD}')
            {
                return Err(FormError::NotUtf8 {
                    key: key.chars().take(40).collect(),
                });
            }
            pairs.push((key.into_owned(), value.into_owned()));
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

#[cfg(test)]
mod tests {
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
}
