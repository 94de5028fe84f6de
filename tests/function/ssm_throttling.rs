//! The SSM stand-in that throttles as Parameter Store does (`support/ssm.rs`, the storm's SSM),
//! checked against the real SDK, and the compiled function reading its token through it.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ssm::config::Credentials;
use aws_sdk_ssm::error::ProvideErrorMetadata;

use crate::support::ssm::{Answer, Limit, SsmStandIn, TokenBucket};
use crate::support::{DEV_TOKEN, Function, fixture};

const PARAMETER: &str = "/taskrouter/auth-token";

/// A limit that throttles every request.
const CLOSED: Limit = Limit::Bucket {
    rate: 0.0,
    burst: 0.0,
};

/// The configuration a deployment gets from the environment, with `access_key_id` to tell
/// callers apart and the SDK's retries limited to `attempts`.
async fn sdk_config(endpoint: &str, access_key_id: &str, attempts: u32) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            access_key_id,
            "secret",
            None,
            None,
            "stand-in",
        ))
        .endpoint_url(endpoint)
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
    assert!(
        recorded
            .iter()
            .all(|request| request.at <= ssm.started().elapsed())
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
    let endpoint = ssm.endpoint();
    let function = Function::start_with(&[
        ("TWILIO_AUTH_TOKEN_PARAMETER", PARAMETER),
        ("AWS_ENDPOINT_URL_SSM", &endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "FUNCTION"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ])
    .await;
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
    let mut answer = function.http(callback.clone()).await;
    for _ in 0..40 {
        if answer.status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        answer = function.http(callback.clone()).await;
    }
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
