//! `TokenStore` reading the auth token from SSM Parameter Store, served by a real `moto_server`
//! (PyPI `moto[server]`) started on a free local port per test.
//!
//! The SDK is pointed at moto through an explicit `SdkConfig` (`support/moto.rs` says why).

use std::sync::Arc;
use std::time::Duration;

use taskrouter_lambda::token::{
    Deadline, RETRY_AFTER_FAILURE, TokenError, TokenSource, TokenStore,
};

use crate::support::loopback::free_port;
use crate::support::moto::{Moto, sdk_config_loader};
use crate::support::twilio::{self, ASSIGNMENT, ToSign};
use crate::support::{Function, HttpAnswer};

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

async fn store(source: TokenSource, refresh_interval: Duration, endpoint: &str) -> Arc<TokenStore> {
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
async fn a_mismatch_within_half_the_refresh_interval_does_not_read_ssm_again() {
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
async fn a_rotated_token_is_picked_up_by_a_mismatch_once_half_the_refresh_interval_has_passed() {
    // Long enough that the set the mismatch reads is still young when it is asked for again,
    // however slow the machine; only half of it is waited for.
    let interval = Duration::from_secs(4);
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
    tokio::time::sleep(interval / 2).await;

    let fresh = store
        .refresh_after_mismatch(deadline())
        .await
        .expect("past half the interval the parameters are read again");
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

/// The refresh interval of the tests through the compiled function that wait for it: short, so
/// they wait seconds rather than the default minute.
const REFRESH_SECONDS: u64 = 2;

/// The compiled function reading its token from `moto`'s `primary` and `secondary` parameters,
/// with `AUTH_TOKEN_REFRESH_SECONDS` at [`REFRESH_SECONDS`].
async fn function_on(moto: &Moto, primary: &str, secondary: &str) -> Function {
    let mut env = moto.function_env();
    env.extend([
        ("TWILIO_AUTH_TOKEN_PARAMETER", primary.to_owned()),
        (
            "TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER",
            secondary.to_owned(),
        ),
        ("AUTH_TOKEN_REFRESH_SECONDS", REFRESH_SECONDS.to_string()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Function::start_with(&env).await
}

fn code(answer: &HttpAnswer) -> String {
    answer.json()["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn after_a_rotation_the_deleted_old_token_stops_verifying_within_the_refresh_interval_though_nothing_mismatches()
 {
    const PRIMARY: &str = "/taskrouter/auth-token";
    const SECONDARY: &str = "/taskrouter/auth-token-secondary";
    const OLD: &str = "old-token-perhaps-leaked";
    const NEW: &str = "new-token-promoted";
    // The README's rotation, steps 1 and 2: the new token stored as the secondary, and the
    // function deployed with both.
    let moto = Moto::start().await;
    moto.put_secure_string(PRIMARY, OLD).await;
    moto.put_secure_string(SECONDARY, NEW).await;
    let function = function_on(&moto, PRIMARY, SECONDARY).await;
    let signed = |token| ToSign {
        fixture: ASSIGNMENT,
        params: twilio::params(ASSIGNMENT),
        token,
    };
    let [old, new] =
        <[_; 2]>::try_from(twilio::signed_events(&[signed(OLD), signed(NEW)])).expect("two events");
    for (event, why) in [(&old, "the old token"), (&new, "the new one")] {
        let answer = function.http(event.clone()).await;
        assert_eq!(
            answer.status, 200,
            "during the rotation, {why}: {}",
            answer.body
        );
    }
    let started = std::time::Instant::now();

    // Steps 3 and 4: Twilio signs with the new token, which overwrites the primary; the
    // secondary is deleted. Twilio's callbacks match the secondary the instance holds, so none
    // of them ever mismatches.
    moto.put_secure_string(PRIMARY, NEW).await;
    moto.delete_parameter(SECONDARY).await;
    tokio::time::sleep(Duration::from_secs(REFRESH_SECONDS)).await;

    let cases = [
        (&new, 200, "Twilio's callback, signed with the new token"),
        (
            &old,
            403,
            "a callback forged with the old token, which SSM no longer holds",
        ),
        (&new, 200, "Twilio's callback again"),
    ];
    for (event, status, why) in cases {
        let answer = function.http(event.clone()).await;
        assert_eq!(
            answer.status,
            status,
            "{why}: {}\n{}",
            answer.body,
            function.output()
        );
        if status == 403 {
            assert_eq!(code(&answer), "invalid_signature", "{why}");
        }
    }

    let reads = moto.read_count(PRIMARY);
    let most = 1 + 2 * (started.elapsed().as_secs() / REFRESH_SECONDS + 1) as usize;
    assert!(
        (2..=most).contains(&reads),
        "the cold start's read and a re-read of the tokens as they aged, at most two per \
         interval: {reads} requests, {most} allowed"
    );
    let output = function.output();
    for token in [OLD, NEW] {
        assert!(!output.contains(token), "a token in the output");
    }
}
