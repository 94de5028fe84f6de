//! `TokenStore` reading the auth token from SSM Parameter Store, served by a real `moto_server`
//! (PyPI `moto[server]`) started on a free local port per test.
//!
//! The SDK is pointed at moto through an explicit `SdkConfig` (`support/moto.rs` says why).

use std::time::Duration;

use taskrouter_lambda::token::{
    Deadline, RETRY_AFTER_FAILURE, TokenError, TokenSource, TokenStore,
};

use crate::support::loopback::free_port;
use crate::support::moto::{Moto, sdk_config_loader};

fn endpoint(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

fn parameter(name: &str, secondary: Option<&str>) -> TokenSource {
    TokenSource::parameter(name.to_owned(), secondary.map(str::to_owned))
        .expect("a valid parameter name")
}

/// The deadline of a callback arriving now.
fn deadline() -> Deadline {
    Deadline::after(std::time::Instant::now())
}

async fn store(source: TokenSource, refresh_interval: Duration, endpoint: &str) -> TokenStore {
    let sdk_config = sdk_config_loader(endpoint).load().await;
    TokenStore::with_sdk_config(source, refresh_interval, &sdk_config, deadline()).await
}

/// The tokens of a set as text, primary first.
async fn keys(store: &TokenStore) -> Vec<String> {
    store
        .tokens(deadline())
        .await
        .expect("the tokens are loaded")
        .as_keys()
        .into_iter()
        .map(|key| String::from_utf8_lossy(key).into_owned())
        .collect()
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn a_secure_string_and_its_secondary_are_both_loaded_primary_first() {
    let moto = Moto::start().await;
    moto.put_secure_string("/taskrouter/auth-token", "primary-token")
        .await;
    moto.put_secure_string("/taskrouter/auth-token-next", "secondary-token")
        .await;

    let source = parameter(
        "/taskrouter/auth-token",
        Some("/taskrouter/auth-token-next"),
    );
    let store = store(source, HOUR, &moto.endpoint()).await;

    assert_eq!(keys(&store).await, ["primary-token", "secondary-token"]);
    assert_eq!(store.reads(), 1, "read once, at construction");
    let description = store.describe_source();
    assert_eq!(
        description,
        "ssm parameter /taskrouter/auth-token (secondary /taskrouter/auth-token-next)"
    );
    assert!(!format!("{store:?}").contains("primary-token"), "{store:?}");
}

#[tokio::test]
async fn a_secondary_parameter_that_does_not_exist_means_no_secondary() {
    let moto = Moto::start().await;
    moto.put_secure_string("/taskrouter/auth-token", "primary-token")
        .await;

    let source = parameter("/taskrouter/auth-token", Some("/taskrouter/never-created"));
    let store = store(source, HOUR, &moto.endpoint()).await;

    assert_eq!(keys(&store).await, ["primary-token"]);
}

#[tokio::test]
async fn a_missing_parameter_is_an_error_naming_it_and_the_store_recovers_once_it_exists() {
    let moto = Moto::start().await;
    let store = store(
        parameter("/taskrouter/auth-token", None),
        HOUR,
        &moto.endpoint(),
    )
    .await;

    let error = store
        .tokens(deadline())
        .await
        .expect_err("the parameter does not exist yet");
    assert_eq!(
        error,
        TokenError::ParameterNotFound {
            name: "/taskrouter/auth-token".to_owned()
        }
    );
    assert!(
        error
            .to_string()
            .starts_with("ssm parameter `/taskrouter/auth-token` not found"),
        "{error}"
    );

    moto.put_secure_string("/taskrouter/auth-token", "created-later")
        .await;
    // The failure is answered from memory for this long; past it the next call reads again.
    tokio::time::sleep(RETRY_AFTER_FAILURE).await;
    assert_eq!(keys(&store).await, ["created-later"]);
}

#[tokio::test]
async fn an_unreachable_endpoint_at_cold_start_fails_closed_and_the_same_store_recovers() {
    let port = free_port();
    let store = store(
        parameter("/taskrouter/auth-token", None),
        HOUR,
        &endpoint(port),
    )
    .await;

    match store.tokens(deadline()).await {
        Err(TokenError::Unavailable { name, cause }) => {
            assert_eq!(name, "/taskrouter/auth-token");
            assert!(!cause.is_empty(), "the cause says what failed");
        }
        other => panic!("nothing listens on port {port}, yet: {other:?}"),
    }

    let moto = Moto::start_on(port).await;
    moto.put_secure_string("/taskrouter/auth-token", "after-the-outage")
        .await;
    tokio::time::sleep(RETRY_AFTER_FAILURE).await;
    assert_eq!(keys(&store).await, ["after-the-outage"]);
    assert_eq!(
        store.reads(),
        2,
        "the cold-start read and the one that recovered"
    );
}

#[tokio::test]
async fn a_mismatch_within_the_refresh_interval_does_not_read_ssm_again() {
    let moto = Moto::start().await;
    moto.put_secure_string("/taskrouter/auth-token", "before-rotation")
        .await;
    let store = store(
        parameter("/taskrouter/auth-token", None),
        HOUR,
        &moto.endpoint(),
    )
    .await;
    moto.put_secure_string("/taskrouter/auth-token", "after-rotation")
        .await;

    assert!(
        store.refresh_after_mismatch(deadline()).await.is_none(),
        "the cold-start read was less than an hour ago"
    );
    assert_eq!(store.reads(), 1);
    assert_eq!(keys(&store).await, ["before-rotation"]);
}

#[tokio::test]
async fn a_rotated_token_is_picked_up_by_a_mismatch_once_the_refresh_interval_has_passed() {
    let interval = Duration::from_millis(200);
    let moto = Moto::start().await;
    moto.put_secure_string("/taskrouter/auth-token", "old-token")
        .await;
    let source = parameter("/taskrouter/auth-token", Some("/taskrouter/auth-token-old"));
    let store = store(source, interval, &moto.endpoint()).await;
    assert_eq!(keys(&store).await, ["old-token"]);

    // A rotation: the new token becomes primary, the old one stays valid as secondary.
    moto.put_secure_string("/taskrouter/auth-token", "new-token")
        .await;
    moto.put_secure_string("/taskrouter/auth-token-old", "old-token")
        .await;
    tokio::time::sleep(interval).await;

    let fresh = store
        .refresh_after_mismatch(deadline())
        .await
        .expect("past the interval the parameters are read again");
    assert_eq!(fresh.as_keys(), [b"new-token".as_slice(), b"old-token"]);
    assert_eq!(keys(&store).await, ["new-token", "old-token"]);
    assert_eq!(store.reads(), 2);
}

#[tokio::test]
async fn a_secrets_manager_secret_is_read_through_its_parameter_store_reference() {
    let moto = Moto::start().await;
    moto.create_secret("taskrouter/auth-token", "secret-token")
        .await;

    let source = parameter("/aws/reference/secretsmanager/taskrouter/auth-token", None);
    let store = store(source, HOUR, &moto.endpoint()).await;

    assert_eq!(keys(&store).await, ["secret-token"]);
}

#[tokio::test]
async fn a_blank_parameter_value_is_refused_naming_the_parameter() {
    let moto = Moto::start().await;
    moto.put_secure_string("/taskrouter/auth-token", "  ").await;

    let store = store(
        parameter("/taskrouter/auth-token", None),
        HOUR,
        &moto.endpoint(),
    )
    .await;

    assert_eq!(
        store
            .tokens(deadline())
            .await
            .expect_err("a blank token is no token"),
        TokenError::Empty {
            origin: "ssm parameter `/taskrouter/auth-token`".to_owned()
        }
    );
}

#[tokio::test]
async fn the_function_answers_503_while_ssm_is_down_and_recovers_without_a_restart() {
    let port = free_port();
    let endpoint = endpoint(port);
    let function = crate::support::Function::start_with(&[
        ("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"),
        ("AWS_ENDPOINT_URL", &endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ])
    .await;
    let callback = crate::support::fixture("assignment-http-api");

    let down = function.http(callback.clone()).await;
    assert_eq!(
        down.status, 503,
        "fail closed while SSM is unreachable: {}",
        down.body
    );
    assert_eq!(down.json()["error"]["code"], "token_unavailable");

    let moto = Moto::start_on(port).await;
    moto.put_secure_string("/taskrouter/auth-token", crate::support::DEV_TOKEN)
        .await;
    let answer = function.http_once_recovered(callback).await;
    assert_eq!(
        answer.status,
        200,
        "the same process recovers: {}\n{}",
        answer.body,
        function.output()
    );
    assert_eq!(answer.body, "{}");
}
