//! Arbitrary bytes as a form body: parsing, the typed callback and event views, and the signature
//! check over whatever pairs come out.
//!
//! Input layout: everything up to the first `\n` is the `X-Twilio-Signature` header value (also
//! tried as a second candidate URL, so the URL variant and credential-masking code sees arbitrary
//! text); the rest is the form body. Without a `\n` the whole input is the body and the header is
//! empty.

#![no_main]

use libfuzzer_sys::fuzz_target;
use taskrouter_lambda::callback::AssignmentCallback;
use taskrouter_lambda::event::WorkspaceEvent;
use taskrouter_lambda::form::{FormError, FormParams};
use taskrouter_lambda::signature::{self, SignatureError};

const TOKEN: &[u8] = b"fuzz-auth-token";
const URL: &str =
    "https://abc123defg.execute-api.us-east-1.amazonaws.com/taskrouter/assignment_callback";

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(newline) => (&data[..newline], &data[newline + 1..]),
        None => (&[][..], data),
    };
    let header = String::from_utf8_lossy(header);

    let params = match FormParams::parse(body) {
        Ok(params) => params,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };

    // Encoding and parsing again gives the same pairs, so what the CLI signs is what arrives.
    match FormParams::parse(params.encode().as_bytes()) {
        Ok(again) => assert_eq!(again, params, "encode → parse changed the pairs"),
        Err(FormError::Empty) => assert!(
            params.pairs().is_empty(),
            "non-empty pairs encoded to a blank body"
        ),
        Err(error) => panic!("an encoded body does not parse: {error}"),
    }

    match AssignmentCallback::try_from(params.clone()) {
        Ok(callback) => assert_eq!(callback.params, params, "the callback lost received pairs"),
        Err(error) => {
            let _ = (error.code(), error.to_string());
        }
    }

    match WorkspaceEvent::try_from(&params) {
        Ok(event) => {
            let line = serde_json::to_string(&event.log_fields()).expect("log fields serialise");
            serde_json::from_str::<serde_json::Value>(&line).expect("log fields are JSON");
            let _ = event.reservation_outcome().map(|outcome| outcome.as_str());
        }
        Err(error) => {
            let _ = (error.code(), error.to_string());
        }
    }

    let urls = [URL.to_owned(), header.clone().into_owned()];
    let pairs = params.pairs();
    match signature::verify_form(&[TOKEN], &urls, pairs, &header) {
        // Decoding is strict, so a header that verifies is exactly the signature of one of the
        // URL variants tried.
        Ok(verified) => assert_eq!(
            signature::sign(TOKEN, &verified.url, pairs),
            header,
            "a header verified that is not the signature it matched"
        ),
        Err(error) => {
            if let SignatureError::NoMatch { tried, .. } = &error {
                assert!(!tried.is_empty(), "no URL was tried");
            }
            let _ = error.to_string();
        }
    }

    // The genuine signature always verifies, whatever the pairs are.
    let genuine = signature::sign(TOKEN, URL, pairs);
    let verified = signature::verify_form(&[TOKEN], &urls, pairs, &genuine)
        .expect("the genuine signature verifies");
    assert_eq!(verified.url, URL);
    assert_eq!(verified.token_index, 0);
});
