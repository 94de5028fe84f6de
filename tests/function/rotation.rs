//! Rotating an account's auth token without a human: the Accounts API client against Twilio's
//! own description of it (Stoplight Prism serving `twilio_accounts_v1.json`).

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use taskrouter_lambda::rest::accounts::{AccountsClient, suppress};
use taskrouter_lambda::rest::{Credentials, RetryPolicy};
use taskrouter_lambda::sid::AccountSid;

use crate::support::cli::ACCOUNT;
use crate::support::prism::{Prism, accounts_spec};

/// The operation `id` of the Accounts API's description.
fn operation<'s>(spec: &'s Value, id: &str) -> &'s Value {
    spec["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("a path item").values())
        .find(|operation| operation["operationId"] == id)
        .unwrap_or_else(|| panic!("{id} is in the description"))
}

/// The account of every example in the Accounts API's description.
const EXAMPLE_ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn accounts_client(url: &str, account: &str, token: &str) -> AccountsClient {
    let credentials = Credentials::auth_token(
        AccountSid::parse(account).expect("sid"),
        SecretString::from(token),
    );
    AccountsClient::new(credentials, url.to_owned(), RetryPolicy::default()).expect("a client")
}

#[test]
fn the_accounts_client_makes_each_of_its_three_requests_as_twilios_description_says() {
    let prism = Prism::accounts_mock();
    let client = accounts_client(
        &prism.url,
        EXAMPLE_ACCOUNT,
        "prism-token-that-must-stay-secret",
    );
    for suppress_email in [false, true] {
        let secondary = client
            .create_secondary_auth_token(suppress_email)
            .unwrap_or_else(|error| panic!("CreateSecondaryAuthToken: {error}\n{}", prism.log()));
        assert_eq!(
            secondary.expose_secret(),
            "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "the description's example token"
        );
        client
            .promote_auth_token(suppress_email)
            .unwrap_or_else(|error| panic!("UpdateAuthTokenPromotion: {error}\n{}", prism.log()));
        let deleted = client
            .delete_secondary_auth_token(suppress_email)
            .unwrap_or_else(|error| panic!("DeleteSecondaryAuthToken: {error}\n{}", prism.log()));
        assert!(deleted, "a 204 means one was deleted");
    }
    // An answer for another account than the one logged in is not taken for its token.
    let error = accounts_client(&prism.url, ACCOUNT, "token")
        .create_secondary_auth_token(true)
        .expect_err("another account's token");
    assert!(
        error.to_string().contains(&format!(
            "the answer is for account {EXAMPLE_ACCOUNT}, not {ACCOUNT}"
        )),
        "{error}"
    );
    let log = prism.log();
    assert!(
        !log.contains("prism-token-that-must-stay-secret"),
        "the token is never in a URL: {log}"
    );
}

#[test]
fn every_key_the_accounts_client_sends_exists_in_its_operations_description() {
    let spec = accounts_spec();
    for id in ["CreateSecondaryAuthToken", "UpdateAuthTokenPromotion"] {
        let properties = &operation(&spec, id)["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"]["properties"];
        for (key, value) in suppress(true) {
            assert_eq!(
                properties[key]["type"], "boolean",
                "{id}: `{key}` is a boolean parameter of its body"
            );
            assert_eq!(value, "true");
        }
    }
    let parameters = operation(&spec, "DeleteSecondaryAuthToken")["parameters"]
        .as_array()
        .expect("parameters");
    for (key, _) in suppress(true) {
        assert!(
            parameters
                .iter()
                .any(|parameter| parameter["name"] == key && parameter["in"] == "query"),
            "DeleteSecondaryAuthToken: `{key}` is a query parameter"
        );
    }
    assert_eq!(
        spec["servers"][0]["url"],
        taskrouter_lambda::rest::accounts::DEFAULT_ACCOUNTS_URL
    );
}
