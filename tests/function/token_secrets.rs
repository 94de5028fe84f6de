//! The auth token from AWS Secrets Manager, served by a real `moto_server`: a secret whose
//! `SecretString` is `{"account_sid": …, "auth_token": …}`, its staged versions followed through
//! a rotation callback by callback (callbacks signed by Twilio's Python helper), a secret per
//! account under a name prefix with the flood guarantees of the parameter prefix, and the
//! requests counted by moto's own recorder (`support/moto.rs`).
//!
//! The Secrets Manager stand-in that throttles (`support/secretsmanager.rs`, the storm's) is
//! checked here against the real SDK and the token store's read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use taskrouter_lambda::token::{Deadline, TokenError, TokenSource, TokenStore};

use crate::support::moto::{Moto, sdk_config_loader};
use crate::support::secretsmanager::SecretsStandIn;
use crate::support::ssm::{Answer, Limit};
use crate::support::twilio::{self, ASSIGNMENT, ToSign};
use crate::support::{Function, HttpAnswer, json_lines};

/// The account of the `events/` fixtures.
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const SECRET: &str = "taskrouter/auth-token";
const OLD: &str = "token-before-the-rotation";
const NEW: &str = "token-after-the-rotation";

/// The secret's value for `account` and `token`.
fn value(account: &str, token: &str) -> String {
    serde_json::json!({"account_sid": account, "auth_token": token}).to_string()
}

/// The deadline of a callback arriving now.
fn deadline() -> Deadline {
    Deadline::after(Instant::now())
}

fn code(answer: &HttpAnswer) -> String {
    answer.json()["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// The compiled function reading the secret [`SECRET`] from `moto`, plus `extra`.
async fn function_on(moto: &Moto, extra: &[(&str, &str)]) -> Function {
    let mut env: Vec<(&str, String)> = moto.function_env();
    env.push(("TWILIO_AUTH_TOKEN_SECRET_ID", SECRET.to_owned()));
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Function::start_with(&env).await
}

/// The assignment callback signed with each of `tokens`.
fn signed_with(tokens: &[&str]) -> Vec<Value> {
    let callbacks: Vec<ToSign> = tokens
        .iter()
        .map(|token| ToSign {
            fixture: ASSIGNMENT,
            params: twilio::params(ASSIGNMENT),
            token,
        })
        .collect();
    twilio::signed_events(&callbacks)
}

async fn store(moto: &Moto, grace: Duration, refresh: Duration) -> Arc<TokenStore> {
    let source = TokenSource::secret(SECRET.to_owned(), grace).expect("a usable secret id");
    let sdk_config = moto.sdk_config().await;
    TokenStore::with_sdk_config(source, refresh, &sdk_config, deadline()).await
}

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
async fn a_secret_is_read_with_two_requests_sent_together_current_and_pending() {
    let moto = Moto::start().await;
    moto.create_secret(SECRET, &value(ACCOUNT, OLD)).await;
    let store = store(&moto, Duration::ZERO, HOUR).await;

    assert_eq!(keys(&store).await, [OLD]);
    // Sent together: moto may receive either first.
    let mut reads = moto.secret_reads(SECRET);
    reads.sort();
    assert_eq!(
        reads,
        [
            (SECRET.to_owned(), "AWSCURRENT".to_owned()),
            (SECRET.to_owned(), "AWSPENDING".to_owned())
        ],
        "no AWSPREVIOUS asked for outside a grace"
    );
    assert_eq!(
        store.describe_source(),
        format!("secrets manager secret {SECRET}")
    );
    assert!(!format!("{store:?}").contains(OLD));
}

#[tokio::test]
async fn a_rotation_is_followed_callback_by_callback_and_the_old_token_stops_at_the_end_of_the_grace()
 {
    let moto = Moto::start().await;
    moto.create_secret(SECRET, &value(ACCOUNT, OLD)).await;
    let grace = 12;
    let function = function_on(
        &moto,
        &[
            ("AUTH_TOKEN_REFRESH_SECONDS", "2"),
            ("AUTH_TOKEN_PREVIOUS_GRACE_SECONDS", &grace.to_string()),
        ],
    )
    .await;
    let [old, new] = <[Value; 2]>::try_from(signed_with(&[OLD, NEW])).expect("two events");
    let answer = |event: &Value| {
        let event = event.clone();
        let function = &function;
        async move { function.http(event).await }
    };

    let status = answer(&old).await.status;
    assert_eq!(status, 200, "before the rotation: the current token");
    let refused = answer(&new).await;
    assert_eq!(
        (refused.status, code(&refused).as_str()),
        (403, "invalid_signature"),
        "a token no version holds"
    );

    // The rotation stores the new token as AWSPENDING; once Twilio has promoted it, Twilio signs
    // with it. Past half the refresh interval a mismatch reads again.
    let pending = moto
        .put_secret_value(SECRET, &value(ACCOUNT, NEW), "AWSPENDING")
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (event, why) in [
        (
            &new,
            "a callback signed with AWSPENDING, found by the re-read its mismatch started",
        ),
        (&old, "and the current token still"),
    ] {
        let got = answer(event).await;
        assert_eq!(
            got.status,
            200,
            "{why}: {}\n{}",
            got.body,
            function.output()
        );
    }

    // The rotation ends: AWSCURRENT moves to the new version, AWSPREVIOUS to the old one.
    moto.move_stage(SECRET, "AWSCURRENT", &pending).await;
    moto.remove_stage(SECRET, "AWSPENDING", &pending).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (event, why) in [
        (
            &new,
            "the new token, now AWSCURRENT, read again as the set reached the refresh interval",
        ),
        (
            &old,
            "a callback Twilio signed before its promotion, still in flight: within the grace",
        ),
    ] {
        let got = answer(event).await;
        assert_eq!(
            got.status,
            200,
            "{why}: {}\n{}",
            got.body,
            function.output()
        );
    }

    // The grace counts from the creation of the new version; past it the old token stops,
    // though the secret still holds it as AWSPREVIOUS.
    tokio::time::sleep(Duration::from_secs(grace)).await;
    let refused = answer(&old).await;
    assert_eq!(
        (refused.status, code(&refused).as_str()),
        (403, "invalid_signature"),
        "the rotated-out token after the grace: {}",
        refused.body
    );
    assert_eq!(answer(&new).await.status, 200);

    let stages: Vec<String> = moto
        .secret_reads(SECRET)
        .into_iter()
        .map(|(_, stage)| stage)
        .collect();
    assert!(
        stages
            .iter()
            .filter(|stage| *stage == "AWSPREVIOUS")
            .count()
            >= 1,
        "AWSPREVIOUS was read within the grace: {stages:?}"
    );
    let output = function.output();
    for token in [OLD, NEW] {
        assert!(!output.contains(token), "a token in the output: {token}");
    }
}

#[tokio::test]
async fn a_secret_deleted_stops_verifying_within_the_refresh_interval() {
    let moto = Moto::start().await;
    moto.create_secret(SECRET, &value(ACCOUNT, OLD)).await;
    let function = function_on(&moto, &[("AUTH_TOKEN_REFRESH_SECONDS", "2")]).await;
    let [old] = <[Value; 1]>::try_from(signed_with(&[OLD])).expect("one event");
    assert_eq!(function.http(old.clone()).await.status, 200);

    moto.delete_secret(SECRET).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let refused = function.http(old).await;
    assert_eq!(
        (refused.status, code(&refused).as_str()),
        (503, "token_unavailable"),
        "{}",
        refused.body
    );
    let lines = json_lines(&function.output());
    assert!(
        lines.iter().any(|line| {
            line["message"]
                == "auth token re-read: no token any more; requests are refused until a read finds one"
                && line["error"]
                    .as_str()
                    .is_some_and(|error| error.starts_with("secrets manager secret `taskrouter/auth-token` not found"))
        }),
        "the log says which secret is gone:\n{}",
        function.output()
    );
}

#[tokio::test]
async fn versions_that_are_not_the_accounts_token_fail_the_read_naming_what_is_wrong() {
    let other = "ACfedcba9876543210fedcba9876543210";
    // (what the secret holds, the error)
    let cases = [
        (
            OLD.to_owned(),
            TokenError::SecretMalformed {
                id: SECRET.to_owned(),
                stage: "AWSCURRENT",
                reason: "it is not JSON (a bare token must be stored as the `auth_token` of a \
                         JSON object)"
                    .to_owned(),
            },
        ),
        (
            serde_json::json!({"account_sid": ACCOUNT, "token": OLD}).to_string(),
            TokenError::SecretMalformed {
                id: SECRET.to_owned(),
                stage: "AWSCURRENT",
                reason: "unknown field `token`, expected `account_sid` or `auth_token` at line 1 \
                         column 59"
                    .to_owned(),
            },
        ),
    ];
    for (stored, expected) in cases {
        let moto = Moto::start().await;
        moto.create_secret(SECRET, &stored).await;
        let store = store(&moto, Duration::ZERO, HOUR).await;
        assert_eq!(store.tokens(deadline()).await.map(|_| ()), Err(expected));
    }

    // A pending version holding another account's token: the read fails, naming both.
    let moto = Moto::start().await;
    moto.create_secret(SECRET, &value(ACCOUNT, OLD)).await;
    moto.put_secret_value(SECRET, &value(other, NEW), "AWSPENDING")
        .await;
    let store = store(&moto, Duration::ZERO, HOUR).await;
    let error = store
        .tokens(deadline())
        .await
        .expect_err("another account's token");
    assert_eq!(
        error.to_string(),
        format!(
            "secrets manager secret `{SECRET}` (AWSPENDING) holds the token of account `{other}` \
             but serves account `{ACCOUNT}`: store account `{ACCOUNT}`'s SID and token in it"
        )
    );
}

#[tokio::test]
async fn a_secret_and_a_parameter_together_stop_the_function_at_start_naming_both() {
    let mut function = Function::start_with(&[
        ("TWILIO_AUTH_TOKEN_SECRET_ID", SECRET),
        ("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"),
    ])
    .await;
    let exit = function.exit_code().await;
    let output = function.output();
    assert_ne!(exit, Some(0), "{output}");
    assert!(
        output.contains(
            "TWILIO_AUTH_TOKEN_PARAMETER and TWILIO_AUTH_TOKEN_SECRET_ID are both set: set only one of them"
        ),
        "{output}"
    );
}

// Many accounts, a secret each.

const PREFIX: &str = "taskrouter/accounts/";

#[tokio::test]
async fn real_accounts_with_a_secret_each_are_answered_on_their_first_callback_after_a_flood_of_invented_ones()
 {
    let moto = Moto::start().await;
    let accounts: Vec<(String, String)> = (0..3u32)
        .map(|n| {
            (
                format!("AC{:032x}", 0xa000 + n),
                format!("token-of-account-{n}"),
            )
        })
        .collect();
    for (sid, token) in &accounts {
        moto.create_secret(&format!("{PREFIX}{sid}"), &value(sid, token))
            .await;
    }
    // Another account's token under the first account's name: refused, naming both.
    let impostor = format!("AC{:032x}", 0xb000);
    moto.create_secret(
        &format!("{PREFIX}{impostor}"),
        &value(&accounts[0].0, &accounts[0].1),
    )
    .await;
    let mut env: Vec<(&str, String)> = moto.function_env();
    env.push(("TWILIO_AUTH_TOKEN_SECRET_PREFIX", PREFIX.to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let function = Function::start_with(&env).await;

    let started = Instant::now();
    for n in 0..200u32 {
        let params = twilio::with(
            &twilio::params(ASSIGNMENT),
            "AccountSid",
            &format!("AC{n:032x}"),
        );
        let forged = taskrouter_lambda::signature::sign(
            b"attacker's token",
            &twilio::url(ASSIGNMENT),
            params.pairs(),
        );
        let answer = function
            .http(twilio::event(ASSIGNMENT, &params, &forged))
            .await;
        assert_eq!(
            (answer.status, code(&answer).as_str()),
            (403, "unknown_account"),
            "invented account {n}: {}",
            answer.body
        );
    }
    let callbacks: Vec<ToSign> = accounts
        .iter()
        .map(|(sid, token)| ToSign {
            fixture: ASSIGNMENT,
            params: twilio::with(&twilio::params(ASSIGNMENT), "AccountSid", sid),
            token,
        })
        .chain([ToSign {
            fixture: ASSIGNMENT,
            params: twilio::with(&twilio::params(ASSIGNMENT), "AccountSid", &impostor),
            token: &accounts[0].1,
        }])
        .collect();
    let events = twilio::signed_events(&callbacks);
    let (real, impostor_event) = events.split_at(3);
    for (event, n) in real.iter().zip(0..) {
        let answer = function.http(event.clone()).await;
        assert_eq!(
            answer.status,
            200,
            "real account {n} after the flood: {}\n{}",
            answer.body,
            function.output()
        );
    }
    let refused = function.http(impostor_event[0].clone()).await;
    assert_eq!(
        (refused.status, code(&refused).as_str()),
        (503, "token_unavailable"),
        "a secret holding another account's token: {}",
        refused.body
    );
    assert!(
        function.output().contains(&format!(
            "holds the token of account `{}` but serves account `{impostor}`",
            accounts[0].0
        )),
        "the log names both accounts:\n{}",
        function.output()
    );
    let elapsed = started.elapsed();

    let invented_reads = moto
        .secret_reads(&format!("{PREFIX}AC{}", "0".repeat(29)))
        .len();
    let most = 2 * (10 + elapsed.as_secs().div_ceil(6) as usize);
    assert!(
        invented_reads <= most,
        "{invented_reads} GetSecretValue for 200 invented accounts in {elapsed:?}: two a look-up, \
         at most {most}"
    );
    assert_eq!(
        moto.secret_listing_count(PREFIX),
        1,
        "one ListSecrets page for four secrets"
    );
}

// The stand-in the storm uses.

#[tokio::test]
async fn the_secrets_manager_stand_in_throttles_as_the_sdk_expects_and_a_read_rides_it_out() {
    let secrets = SecretsStandIn::start(
        &[(SECRET, &value(ACCOUNT, OLD))],
        Limit::Bucket {
            rate: 2.0,
            burst: 1.0,
        },
    )
    .await;
    let sdk_config = sdk_config_loader(&secrets.endpoint())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config);
    let served = client
        .get_secret_value()
        .secret_id(SECRET)
        .send()
        .await
        .expect("the bucket's one token");
    assert_eq!(served.secret_string(), Some(value(ACCOUNT, OLD).as_str()));
    let throttled = client
        .get_secret_value()
        .secret_id(SECRET)
        .send()
        .await
        .expect_err("over the rate");
    assert_eq!(
        aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(&throttled),
        Some("ThrottlingException"),
        "{throttled:?}"
    );

    // The store sends AWSCURRENT and AWSPENDING at once, while the bucket is empty: both are
    // throttled, and retried until the bucket admits them.
    let source = TokenSource::secret(SECRET.to_owned(), Duration::ZERO).expect("an id");
    let store = TokenStore::with_sdk_config(source, HOUR, &sdk_config, deadline()).await;
    assert_eq!(keys(&store).await, [OLD]);
    let reads: Vec<(String, Answer)> = secrets
        .recorded()
        .into_iter()
        .skip(2)
        .map(|request| (request.names[1].clone(), request.answer))
        .collect();
    assert!(
        reads.iter().any(|(_, answer)| *answer == Answer::Throttled),
        "{reads:?}"
    );
    for expected in [
        ("AWSCURRENT".to_owned(), Answer::Served),
        ("AWSPENDING".to_owned(), Answer::NotFound),
    ] {
        assert!(reads.contains(&expected), "{expected:?} in {reads:?}");
    }
}
