//! The SSM stand-in that throttles as Parameter Store does (`support/ssm.rs`, the storm's SSM),
//! checked against the real SDK, and the compiled function reading its token through it: a
//! throttled read retried until the stand-in admits it, and failing closed once its budget is
//! spent. The stand-in's limit is opened by the test when it has seen the function's requests
//! throttled, so nothing here depends on how fast the machine is.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_sdk_ssm::config::Credentials;
use aws_sdk_ssm::error::ProvideErrorMetadata;

use crate::support::moto::sdk_config_loader;
use crate::support::ssm::{Answer, Limit, SsmStandIn, TokenBucket};
use crate::support::{DEV_TOKEN, Function, fixture, json_lines};

const PARAMETER: &str = "/taskrouter/auth-token";

/// A limit that throttles every request.
const CLOSED: Limit = Limit::Bucket {
    rate: 0.0,
    burst: 0.0,
};

/// The configuration a deployment gets from the environment, with `access_key_id` to tell
/// callers apart and the SDK's retries limited to `attempts`.
async fn sdk_config(endpoint: &str, access_key_id: &str, attempts: u32) -> SdkConfig {
    sdk_config_loader(endpoint)
        .credentials_provider(Credentials::new(
            access_key_id,
            "secret",
            None,
            None,
            "stand-in",
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .load()
        .await
}

#[test]
fn a_token_bucket_serves_its_burst_at_once_then_its_rate() {
    let ms = Duration::from_millis;
    // (rate, burst, request times in ms, which are served, why)
    type Case<'a> = (f64, f64, &'a [u64], &'a [bool], &'a str);
    let cases: [Case; 5] = [
        (
            40.0,
            3.0,
            &[0, 0, 0, 0],
            &[true, true, true, false],
            "a full bucket absorbs its burst, and no more, at one instant",
        ),
        (
            40.0,
            1.0,
            &[0, 10, 30, 60],
            &[true, false, true, true],
            "a token every 25 ms at 40 per second",
        ),
        (
            40.0,
            2.0,
            &[0, 0, 1000, 1000, 1000],
            &[true, true, true, true, false],
            "a second of quiet refills it only up to its burst",
        ),
        (
            0.0,
            0.0,
            &[0, 5000],
            &[false, false],
            "an empty bucket that never refills throttles everything",
        ),
        (
            10.0,
            1.0,
            &[0, 50, 99, 120],
            &[true, false, false, true],
            "a throttled request takes no token",
        ),
    ];
    for (rate, burst, times, served, why) in cases {
        let mut bucket = TokenBucket::new(rate, burst);
        let got: Vec<bool> = times.iter().map(|&t| bucket.try_take(ms(t))).collect();
        assert_eq!(got, served, "{why}");
    }
}

#[tokio::test]
async fn the_stand_in_serves_a_secure_string_to_the_sdk_decrypted_only_when_asked() {
    let ssm = SsmStandIn::start(&[(PARAMETER, "s3cret")], Limit::Unlimited).await;
    let client = aws_sdk_ssm::Client::new(&sdk_config(&ssm.endpoint(), "READER", 1).await);

    let decrypted = client
        .get_parameter()
        .name(PARAMETER)
        .with_decryption(true)
        .send()
        .await
        .expect("the SDK reads the stand-in's answer")
        .parameter
        .expect("a parameter");
    assert_eq!(decrypted.value(), Some("s3cret"));
    assert_eq!(decrypted.name(), Some(PARAMETER));
    assert_eq!(
        decrypted.r#type(),
        Some(&aws_sdk_ssm::types::ParameterType::SecureString)
    );

    let encrypted = client
        .get_parameter()
        .name(PARAMETER)
        .send()
        .await
        .expect("an answer")
        .parameter
        .expect("a parameter");
    assert_ne!(
        encrypted.value(),
        Some("s3cret"),
        "without WithDecryption SSM returns the ciphertext"
    );

    let missing = client
        .get_parameter()
        .name("/never/created")
        .with_decryption(true)
        .send()
        .await
        .expect_err("no such parameter");
    assert!(
        missing
            .as_service_error()
            .is_some_and(|error| error.is_parameter_not_found()),
        "the SDK reads ParameterNotFound as its modelled error: {missing:?}"
    );

    let recorded = ssm.recorded();
    let answers: Vec<Answer> = recorded.iter().map(|request| request.answer).collect();
    assert_eq!(answers, [Answer::Served, Answer::Served, Answer::NotFound]);
    assert!(recorded.iter().all(|request| request.caller == "READER"));
    assert!(
        recorded.windows(2).all(|pair| pair[0].at <= pair[1].at),
        "in order of arrival"
    );
}

#[tokio::test]
async fn over_its_rate_the_stand_in_answers_throttling_exception_which_the_sdk_retries() {
    let ssm = SsmStandIn::start(
        &[(PARAMETER, "s3cret")],
        Limit::Bucket {
            rate: 0.001,
            burst: 1.0,
        },
    )
    .await;
    let client = aws_sdk_ssm::Client::new(&sdk_config(&ssm.endpoint(), "CALLER", 3).await);
    let read = || {
        client
            .get_parameter()
            .name(PARAMETER)
            .with_decryption(true)
            .send()
    };

    read().await.expect("the bucket's one token");
    let error = read().await.expect_err("the bucket is empty");
    assert_eq!(error.code(), Some("ThrottlingException"), "{error:?}");
    assert_eq!(error.message(), Some("Rate exceeded"));
    let status = error
        .raw_response()
        .map(|response| response.status().as_u16());
    assert_eq!(status, Some(400), "SSM's throttling answer is a 400");

    let answers: Vec<Answer> = ssm
        .recorded()
        .iter()
        .map(|request| request.answer)
        .collect();
    assert_eq!(
        answers,
        [
            Answer::Served,
            Answer::Throttled,
            Answer::Throttled,
            Answer::Throttled
        ],
        "the SDK classified the answer as retryable and used all three attempts"
    );
}

#[tokio::test]
async fn requests_other_than_get_parameter_are_refused_naming_the_operation() {
    let ssm = SsmStandIn::start(&[(PARAMETER, "s3cret")], Limit::Unlimited).await;
    let client = aws_sdk_ssm::Client::new(&sdk_config(&ssm.endpoint(), "WRITER", 1).await);
    let error = client
        .put_parameter()
        .name(PARAMETER)
        .value("other")
        .send()
        .await
        .expect_err("the stand-in implements GetParameter only");
    assert_eq!(error.code(), Some("UnknownOperationException"));
    assert!(
        error
            .message()
            .is_some_and(|message| message.contains("AmazonSSM.PutParameter")),
        "{error:?}"
    );
    assert_eq!(ssm.recorded()[0].answer, Answer::Refused);
}

#[tokio::test]
async fn the_function_reads_its_token_through_aws_endpoint_url_ssm_fails_closed_while_throttled_and_recovers()
 {
    let ssm = SsmStandIn::start(&[(PARAMETER, DEV_TOKEN)], CLOSED).await;
    let function = function_on(&ssm, &[]).await;
    let callback = fixture("assignment-http-api");

    let throttled = function.http(callback.clone()).await;
    assert_eq!(
        throttled.status, 503,
        "fail closed while every read is throttled: {}",
        throttled.body
    );
    assert_eq!(throttled.json()["error"]["code"], "token_unavailable");
    assert!(
        function.output().contains("ThrottlingException"),
        "the log names the cause:\n{}",
        function.output()
    );
    let recorded = ssm.recorded();
    assert!(
        recorded.len() >= 2
            && recorded
                .iter()
                .all(|request| request.caller == "FUNCTION" && request.answer == Answer::Throttled),
        "the function's SDK read through the stand-in and retried the throttled read: {recorded:?}"
    );

    ssm.set_limit(Limit::Unlimited);
    let answer = function.http_once_recovered(callback).await;
    assert_eq!(
        answer.status,
        200,
        "the same process recovers once SSM serves it: {}\n{}",
        answer.body,
        function.output()
    );
    assert_eq!(answer.body, "{}");
    assert!(
        ssm.recorded()
            .iter()
            .any(|request| request.answer == Answer::Served)
    );
}

/// The compiled function reading its token from `ssm` as the template configures it, with
/// `extra` settings.
async fn function_on(ssm: &SsmStandIn, extra: &[(&str, &str)]) -> Function {
    let endpoint = ssm.endpoint();
    let mut env = vec![
        ("TWILIO_AUTH_TOKEN_PARAMETER", PARAMETER),
        ("AWS_ENDPOINT_URL_SSM", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "FUNCTION"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    env.extend_from_slice(extra);
    Function::start_with(&env).await
}

/// Waits until the stand-in has throttled `count` requests (the function is reading), for at
/// most 30 s.
async fn throttled_at_least(ssm: &SsmStandIn, count: usize) {
    for _ in 0..3000 {
        let throttled = ssm
            .recorded()
            .iter()
            .filter(|request| request.answer == Answer::Throttled)
            .count();
        if throttled >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the stand-in did not throttle {count} requests: {:?}",
        ssm.recorded()
    );
}

/// The function's `auth token loaded` / `auth token not loaded` lines.
fn load_lines(function: &Function) -> Vec<serde_json::Value> {
    json_lines(&function.output())
        .into_iter()
        .filter(|line| {
            line["message"] == "auth token loaded" || line["message"] == "auth token not loaded"
        })
        .collect()
}

#[tokio::test]
async fn a_throttled_read_keeps_asking_until_the_stand_in_admits_it_and_the_cold_starts_callback_is_answered_200()
 {
    let ssm = SsmStandIn::start(&[(PARAMETER, DEV_TOKEN)], CLOSED).await;
    let function = function_on(&ssm, &[]).await;
    // The callback the cold start is for waits while the init read is throttled; SSM admits it
    // once the read has been refused twice, well within its budget.
    let (answer, ()) = tokio::join!(function.http(fixture("assignment-http-api")), async {
        throttled_at_least(&ssm, 2).await;
        ssm.set_limit(Limit::Unlimited);
    });
    assert_eq!(
        answer.status,
        200,
        "the read that was throttled is served within the same callback's deadline: {}\n{}",
        answer.body,
        function.output()
    );
    assert_eq!(answer.body, "{}");

    let recorded = ssm.recorded();
    let (last, throttled) = recorded.split_last().expect("requests");
    assert_eq!(last.answer, Answer::Served, "{recorded:?}");
    assert!(
        throttled.len() >= 2
            && throttled
                .iter()
                .all(|request| request.answer == Answer::Throttled),
        "every request before the served one was throttled, and retried: {recorded:?}"
    );
    assert!(
        recorded
            .iter()
            .all(|request| request.caller == "FUNCTION" && request.operation == "GetParameter"),
        "{recorded:?}"
    );
    let loads = load_lines(&function);
    assert_eq!(loads.len(), 1, "one read: {loads:?}");
    assert_eq!(loads[0]["message"], "auth token loaded");
    assert_eq!(loads[0]["attempts"], recorded.len(), "{}", loads[0]);
    assert_eq!(loads[0]["throttled"], throttled.len(), "{}", loads[0]);
}

#[tokio::test]
async fn a_read_throttled_until_its_budget_is_spent_fails_closed_and_the_next_callback_reads_again_at_once()
 {
    let ssm = SsmStandIn::start(&[(PARAMETER, DEV_TOKEN)], CLOSED).await;
    let function = function_on(&ssm, &[]).await;
    let callback = fixture("assignment-http-api");

    let refused = function.http(callback.clone()).await;
    assert_eq!(refused.status, 503, "fail closed: {}", refused.body);
    assert_eq!(refused.json()["error"]["code"], "token_unavailable");
    let during = ssm.recorded();
    assert!(
        during.len() > 2
            && during
                .iter()
                .all(|request| request.answer == Answer::Throttled),
        "the read kept asking, beyond the two attempts of a transient failure: {during:?}"
    );
    let loads = load_lines(&function);
    assert_eq!(loads.len(), 1, "one read, at init: {loads:?}");
    assert_eq!(loads[0]["message"], "auth token not loaded");
    assert_eq!(loads[0]["attempts"], during.len());
    assert_eq!(loads[0]["throttled"], during.len());
    assert!(
        loads[0]["error"]
            .as_str()
            .is_some_and(|error| error.contains("ThrottlingException")),
        "the cause is the throttling, not a timeout: {}",
        loads[0]
    );

    // The storm is over: the very next callback reads again and is answered, without a second
    // of refusals left over from the failed read.
    ssm.set_limit(Limit::Unlimited);
    let answer = function.http(callback).await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, function.output());
    let after = ssm.recorded();
    assert_eq!(after.len(), during.len() + 1, "one more request: {after:?}");
    assert_eq!(
        after.last().map(|request| request.answer),
        Some(Answer::Served)
    );
}

#[tokio::test]
async fn with_a_secondary_both_tokens_are_read_in_one_get_parameters_which_is_retried_when_throttled()
 {
    const SECONDARY: &str = "/taskrouter/auth-token-secondary";
    // The fixture is signed with the development token: as the secondary, it proves the secondary
    // was read and is accepted.
    let ssm = SsmStandIn::start(
        &[(PARAMETER, "the-new-primary"), (SECONDARY, DEV_TOKEN)],
        CLOSED,
    )
    .await;
    let function = function_on(
        &ssm,
        &[("TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER", SECONDARY)],
    )
    .await;
    let (answer, ()) = tokio::join!(function.http(fixture("assignment-http-api")), async {
        throttled_at_least(&ssm, 1).await;
        ssm.set_limit(Limit::Unlimited);
    });
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, function.output());
    let recorded = ssm.recorded();
    assert!(
        recorded
            .iter()
            .all(|request| request.operation == "GetParameters"
                && request.names == [PARAMETER, SECONDARY]),
        "one request for both names, each time: {recorded:?}"
    );
    assert_eq!(
        recorded
            .iter()
            .filter(|request| request.answer == Answer::Served)
            .count(),
        1,
        "{recorded:?}"
    );

    // A secondary that does not exist is no rotation under way: the primary alone.
    let ssm = SsmStandIn::start(&[(PARAMETER, DEV_TOKEN)], Limit::Unlimited).await;
    let function = function_on(
        &ssm,
        &[("TWILIO_AUTH_TOKEN_SECONDARY_PARAMETER", SECONDARY)],
    )
    .await;
    let answer = function.http(fixture("assignment-http-api")).await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, function.output());
    assert_eq!(ssm.recorded().len(), 1);
    assert_eq!(load_lines(&function)[0]["secondary"], false);
}

#[tokio::test]
async fn a_callback_finding_the_token_half_the_refresh_interval_old_is_answered_without_waiting_for_the_re_read_it_starts()
 {
    // Ten seconds: the callback below, five seconds in, finds the token between half the
    // interval and the whole of it, however slow the machine.
    const REFRESH_SECONDS: u64 = 10;
    let ssm = SsmStandIn::start(&[(PARAMETER, DEV_TOKEN)], Limit::Unlimited).await;
    let refresh = REFRESH_SECONDS.to_string();
    // At debug level: a read in the background that gets no answer says so only there.
    let function = function_on(
        &ssm,
        &[
            ("AUTH_TOKEN_REFRESH_SECONDS", &refresh),
            ("RUST_LOG", "taskrouter_lambda=debug"),
        ],
    )
    .await;
    let callback = fixture("assignment-http-api");
    assert_eq!(function.http(callback.clone()).await.status, 200);
    let re_reads = || {
        json_lines(&function.output())
            .into_iter()
            .filter(|line| {
                line["message"]
                    .as_str()
                    .is_some_and(|message| message.starts_with("auth token re-read"))
            })
            .collect::<Vec<_>>()
    };

    // From now on SSM throttles everything: a re-read lasts until its deadline, 3 s after the
    // callback that started it arrived.
    ssm.set_limit(CLOSED);
    tokio::time::sleep(Duration::from_secs(REFRESH_SECONDS / 2)).await;
    let answer = function.http(callback.clone()).await;
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, function.output());
    assert!(
        re_reads().is_empty(),
        "answered while its re-read was still being throttled: {:?}",
        re_reads()
    );
    throttled_at_least(&ssm, 1).await;

    // The re-read gives up at its deadline and the token is kept: SSM not answering says nothing
    // about it.
    let mut lines = re_reads();
    for _ in 0..100 {
        if !lines.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        lines = re_reads();
    }
    assert_eq!(lines.len(), 1, "one re-read: {lines:?}");
    assert_eq!(
        lines[0]["message"],
        "auth token re-read in the background got no answer; a callback reads when the tokens \
         are as old as the refresh interval"
    );
    assert_eq!(lines[0]["trigger"], "background");
    assert_eq!(lines[0]["level"], "DEBUG", "not reported as a failure");
    assert!(
        lines[0]["throttled"].as_u64().is_some_and(|n| n >= 1),
        "{}",
        lines[0]
    );
    let answer = function.http(callback).await;
    assert_eq!(
        answer.status, 200,
        "still served with the token held: {}",
        answer.body
    );
    let recorded = ssm.recorded();
    assert!(
        recorded
            .iter()
            .skip(1)
            .all(|request| request.answer == Answer::Throttled),
        "after the cold start's read, only the re-read's throttled requests: {recorded:?}"
    );
}
