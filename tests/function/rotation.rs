//! Rotating an account's auth token without a human: the Accounts API client against Twilio's
//! own description of it (Stoplight Prism serving `twilio_accounts_v1.json`), and the rotation's
//! four steps (`src/rotate.rs`) against moto's Secrets Manager and the simulator standing in for
//! Twilio, each step run twice, and interrupted where a real rotation can be.

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use taskrouter_lambda::rest::accounts::{AccountsClient, suppress};
use taskrouter_lambda::rest::{Credentials, RetryPolicy};
use taskrouter_lambda::sid::AccountSid;

use serde_json::json;
use taskrouter_lambda::rotate::{
    self, CURRENT, Outcome, PENDING, RotateError, Secret, Step, Timing, TwilioAccounts,
};

use crate::support::cli::ACCOUNT;
use crate::support::moto::Moto;
use crate::support::prism::{Prism, accounts_spec};
use crate::support::sim::{SIM_TOKEN, Sim, WS};

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

/// No waits around the promotion: no function reads the secret in these tests.
const NO_WAIT: Timing = Timing {
    settle: std::time::Duration::ZERO,
    drain: std::time::Duration::ZERO,
};

/// The secret the rotation tests rotate.
const SECRET: &str = "taskrouter/auth-token";
/// The rotation's version ids (Secrets Manager's `ClientRequestToken`: 32 to 64 characters).
const FIRST: &str = "00000000-0000-4000-8000-000000000001";
const SECOND: &str = "00000000-0000-4000-8000-000000000002";

/// A workspace of one worker: enough for the simulator to serve and to log requests in.
fn workspace() -> Value {
    workspace_of(1, None)
}

/// A workspace of `workers` available workers, its Workflow calling `callback`.
fn workspace_of(workers: usize, callback: Option<&str>) -> Value {
    let workers: Vec<Value> = (1..=workers)
        .map(|n| json!({"sid": format!("WK{n:032x}"), "friendly_name": format!("worker {n}"), "activity": "Available", "attributes": {}}))
        .collect();
    let mut document = json!({
        "sid": WS,
        "friendly_name": "Rotation",
        "default_activity": "Offline",
        "timeout_activity": "Offline",
        "activities": [
            {"sid": "WA00000000000000000000000000000001", "friendly_name": "Offline", "available": false},
            {"sid": "WA00000000000000000000000000000002", "friendly_name": "Available", "available": true}
        ],
        "workers": workers,
        "task_queues": [{"sid": "WQ00000000000000000000000000000001", "friendly_name": "Everyone", "target_workers": "1 == 1"}],
        "workflows": [{"sid": "WW00000000000000000000000000000001", "friendly_name": "Everyone",
            "configuration": {"task_routing": {"filters": [], "default_filter": {"queue": "WQ00000000000000000000000000000001"}}}}],
    });
    if let Some(callback) = callback {
        document["workflows"][0]["assignment_callback_url"] = json!(callback);
    }
    document
}

/// The simulator as Twilio: its Accounts API and its TaskRouter for the authenticated read.
fn twilio(sim: &Sim) -> TwilioAccounts {
    TwilioAccounts {
        accounts_url: sim.url.clone(),
        taskrouter_url: sim.url.clone(),
        suppress_email: true,
    }
}

/// moto with the secret holding the simulator's token as its only version.
async fn secret(moto: &Moto) -> Secret {
    moto.create_secret(
        SECRET,
        &json!({"account_sid": ACCOUNT, "auth_token": SIM_TOKEN}).to_string(),
    )
    .await;
    Secret::new(moto.secrets_client().await, SECRET)
}

/// The token under `label` (and of `version`, when given), straight from moto.
async fn stored(moto: &Moto, label: &str, version: Option<&str>) -> Option<String> {
    let answer = moto
        .secrets_client()
        .await
        .get_secret_value()
        .secret_id(SECRET)
        .version_stage(label)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .ok()?;
    let value: Value = serde_json::from_str(answer.secret_string()?).expect("JSON");
    assert_eq!(
        value["account_sid"], ACCOUNT,
        "the account is kept: {label}"
    );
    value["auth_token"].as_str().map(str::to_owned)
}

fn logs_in(sim: &Sim, token: &str) -> bool {
    sim.call("GET", &Sim::ws(""), &[], Some((ACCOUNT, token))).0 == 200
}

#[tokio::test]
async fn a_rotation_run_step_by_step_each_step_twice_makes_twilios_secondary_the_token_in_use() {
    let moto = Moto::start().await;
    let sim = Sim::start(&workspace(), &[]);
    let secret = secret(&moto).await;
    // Every Accounts API request of the rotation, and every answer, through Prism validating
    // both against Twilio's description (a violation is answered 500 and fails the step).
    let prism = Prism::accounts_proxy(&sim.url);
    let twilio = TwilioAccounts {
        accounts_url: prism.url.clone(),
        ..twilio(&sim)
    };
    let run = |step| rotate::run(&secret, FIRST, step, &twilio, NO_WAIT);

    assert_eq!(
        run(Step::CreateSecret).await.expect("createSecret"),
        Outcome::Done
    );
    let pending = stored(&moto, PENDING, Some(FIRST))
        .await
        .expect("AWSPENDING is stored");
    assert_ne!(pending, SIM_TOKEN);
    assert_eq!(
        run(Step::CreateSecret).await.expect("createSecret again"),
        Outcome::AlreadyDone
    );
    assert_eq!(
        stored(&moto, PENDING, Some(FIRST)).await.as_deref(),
        Some(pending.as_str()),
        "a repeat creates nothing at Twilio and stores nothing"
    );
    assert!(
        logs_in(&sim, &pending) && logs_in(&sim, SIM_TOKEN),
        "the secondary logs in beside the primary"
    );
    for step in [Step::SetSecret, Step::TestSecret] {
        for attempt in 1..=2 {
            run(step)
                .await
                .unwrap_or_else(|error| panic!("{step:?} #{attempt}: {error}"));
        }
    }
    assert_eq!(
        stored(&moto, CURRENT, None).await.as_deref(),
        Some(SIM_TOKEN),
        "nothing is current before finishSecret"
    );
    assert_eq!(
        run(Step::FinishSecret).await.expect("finishSecret"),
        Outcome::Done
    );
    assert_eq!(
        run(Step::FinishSecret).await.expect("finishSecret again"),
        Outcome::AlreadyDone
    );
    assert_eq!(
        stored(&moto, CURRENT, None).await.as_deref(),
        Some(pending.as_str())
    );
    assert_eq!(
        stored(&moto, "AWSPREVIOUS", None).await.as_deref(),
        Some(SIM_TOKEN)
    );
    assert!(logs_in(&sim, &pending), "the promoted token logs in");
    assert!(
        !logs_in(&sim, SIM_TOKEN),
        "the old token is refused at Twilio"
    );
    let (status, _) = sim.call(
        "DELETE",
        "/v1/AuthTokens/Secondary",
        &[],
        Some((ACCOUNT, &pending)),
    );
    assert_eq!(status, 404, "no secondary is left at Twilio");
    let log = prism.log();
    for operation in ["/v1/AuthTokens/Secondary", "/v1/AuthTokens/Promote"] {
        assert!(
            log.contains(operation),
            "{operation} went through Prism:\n{log}"
        );
    }
    // The deletions after the promotion find no secondary and are answered 404, which the
    // description does not list (it lists 204 only): Prism warns and passes it on. Anything else
    // is a violation.
    let violations: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("Violation"))
        .filter(|line| {
            !line.contains("Unable to match the returned status code with those defined")
        })
        .collect();
    assert!(violations.is_empty(), "{violations:#?}\n{log}");
}

#[tokio::test]
async fn a_rotation_that_fails_before_the_promotion_leaves_the_token_in_use_and_the_next_one_succeeds()
 {
    let moto = Moto::start().await;
    let sim = Sim::start(&workspace(), &[]);
    let secret = secret(&moto).await;
    let twilio = twilio(&sim);
    rotate::run(&secret, FIRST, Step::CreateSecret, &twilio, NO_WAIT)
        .await
        .expect("createSecret");
    // Someone deletes the secondary in the Console: the pending token no longer logs in.
    let (status, _) = sim.call(
        "DELETE",
        "/v1/AuthTokens/Secondary",
        &[],
        Some((ACCOUNT, SIM_TOKEN)),
    );
    assert_eq!(status, 204);
    let tested = rotate::run(&secret, FIRST, Step::TestSecret, &twilio, NO_WAIT).await;
    assert!(
        matches!(tested, Err(RotateError::PendingRefused { .. })),
        "testSecret stops the rotation: {tested:?}"
    );
    let finished = rotate::run(&secret, FIRST, Step::FinishSecret, &twilio, NO_WAIT).await;
    assert!(
        matches!(finished, Err(RotateError::NotPromoted { .. })),
        "finishSecret does not move AWSCURRENT to a token Twilio does not have: {finished:?}"
    );
    assert_eq!(
        stored(&moto, CURRENT, None).await.as_deref(),
        Some(SIM_TOKEN)
    );
    assert!(logs_in(&sim, SIM_TOKEN), "the account is as it was");
    // The next rotation, with its own version, goes through.
    for step in [
        Step::CreateSecret,
        Step::SetSecret,
        Step::TestSecret,
        Step::FinishSecret,
    ] {
        rotate::run(&secret, SECOND, step, &twilio, NO_WAIT)
            .await
            .unwrap_or_else(|error| panic!("{step:?}: {error}"));
    }
    let current = stored(&moto, CURRENT, None).await.expect("a current token");
    assert_ne!(current, SIM_TOKEN);
    assert!(logs_in(&sim, &current) && !logs_in(&sim, SIM_TOKEN));
}

#[tokio::test]
async fn a_finish_repeated_after_the_promotion_but_before_awscurrent_moved_completes_the_rotation()
{
    let moto = Moto::start().await;
    let sim = Sim::start(&workspace(), &[]);
    let secret = secret(&moto).await;
    let twilio = twilio(&sim);
    for step in [Step::CreateSecret, Step::TestSecret] {
        rotate::run(&secret, FIRST, step, &twilio, NO_WAIT)
            .await
            .unwrap_or_else(|error| panic!("{step:?}: {error}"));
    }
    let pending = stored(&moto, PENDING, Some(FIRST)).await.expect("pending");
    // The first finishSecret promoted at Twilio, then its Lambda timed out.
    accounts_client(&sim.url, ACCOUNT, &pending)
        .promote_auth_token(true)
        .expect("UpdateAuthTokenPromotion");
    assert_eq!(
        stored(&moto, CURRENT, None).await.as_deref(),
        Some(SIM_TOKEN)
    );
    assert_eq!(
        rotate::run(&secret, FIRST, Step::FinishSecret, &twilio, NO_WAIT)
            .await
            .expect("finishSecret again"),
        Outcome::Done
    );
    assert_eq!(
        stored(&moto, CURRENT, None).await.as_deref(),
        Some(pending.as_str())
    );
}

#[tokio::test]
async fn the_compiled_rotation_function_runs_the_four_steps_secrets_manager_invokes_it_with() {
    use crate::support::process::{collect_output, lambda_command};
    use crate::support::runtime_api::{Outcome as Invocation, RuntimeApi};
    let moto = Moto::start().await;
    let sim = Sim::start(&workspace(), &[]);
    secret(&moto).await;
    let api = RuntimeApi::start().await;
    let mut child = lambda_command(
        env!("CARGO_BIN_EXE_taskrouter-rotate"),
        &api,
        "taskrouter-rotate",
        128,
    )
    .envs(moto.function_env())
    .env("TWILIO_ACCOUNTS_API_URL", &sim.url)
    .env("TASKROUTER_API_URL", &sim.url)
    // The promotion waits until the pending version is a second old.
    .env("AUTH_TOKEN_REFRESH_SECONDS", "1")
    .spawn()
    .expect("the rotation function starts");
    let output = collect_output(&mut child, 100);
    for step in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
        let event = json!({"SecretId": SECRET, "ClientRequestToken": FIRST, "Step": step});
        match api.invoke(event).await {
            Invocation::Response(_) => {}
            Invocation::Error(error) => {
                panic!("{step}: {error}\n{}", output.lock().expect("lock").text)
            }
        }
    }
    let current = stored(&moto, CURRENT, None).await.expect("a current token");
    assert_ne!(current, SIM_TOKEN);
    assert!(logs_in(&sim, &current) && !logs_in(&sim, SIM_TOKEN));
    // A step of another rotation whose version was never created fails the invocation, so that
    // Secrets Manager calls it again, and says why.
    let event = json!({"SecretId": SECRET, "ClientRequestToken": SECOND, "Step": "testSecret"});
    let Invocation::Error(error) = api.invoke(event).await else {
        panic!("a version that is not pending is an error");
    };
    assert!(error.to_string().contains("is not AWSPENDING"), "{error}");
    let text = output.lock().expect("lock").text.clone();
    assert!(!text.contains(&current), "no token in the logs: {text}");
}

/// Tasks created by [`keep_creating_tasks`], each with the phase of the rotation it was created in.
type Created = Vec<(String, usize)>;

/// Creates a task, delivers its callback (`/sim/clock/advance?seconds=0` answers once the answer
/// is applied), again and again until `stop`, logging in with the token in `login`.
fn keep_creating_tasks(
    sim: &Sim,
    login: &std::sync::Mutex<String>,
    phase: &std::sync::atomic::AtomicUsize,
    stop: &std::sync::atomic::AtomicBool,
    most: usize,
) -> Created {
    use std::sync::atomic::Ordering;
    let mut created = Vec::new();
    let attributes = json!({"vip": true}).to_string();
    while !stop.load(Ordering::SeqCst) && created.len() < most {
        let token = login.lock().expect("lock").clone();
        let at = phase.load(Ordering::SeqCst);
        let (status, task) = sim.call(
            "POST",
            &Sim::ws("/Tasks"),
            &[
                ("Attributes", &attributes),
                ("WorkflowSid", "WW00000000000000000000000000000001"),
            ],
            Some((ACCOUNT, &token)),
        );
        assert_eq!(status, 201, "CreateTask: {task}");
        let (status, settled) = sim.call(
            "POST",
            "/sim/clock/advance?seconds=0",
            &[],
            Some((ACCOUNT, &token)),
        );
        assert_eq!(status, 200, "{settled}");
        created.push((task["sid"].as_str().expect("a sid").to_owned(), at));
        // Pacing, so that the tasks spread over the rotation's waits.
        std::thread::sleep(std::time::Duration::from_millis(40));
    }
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_callback_is_refused_while_the_token_rotates_under_the_function() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use crate::support::gateway::Gateway;
    use crate::support::json_lines;

    const WORKERS: usize = 400;
    let moto = Moto::start().await;
    let secret = secret(&moto).await;
    let rules = json!({"rules": [{"name": "everyone", "when": "vip == true", "instruction": {"instruction": "accept"}}]});
    let mut env: Vec<(&str, String)> = moto.function_env();
    env.extend([
        ("TWILIO_AUTH_TOKEN_SECRET_ID", SECRET.to_owned()),
        // Long enough that an instance which read the secret just before createSecret still holds
        // only the old token when a promotion without the wait would come.
        ("AUTH_TOKEN_REFRESH_SECONDS", "10".to_owned()),
        ("AUTH_TOKEN_PREVIOUS_GRACE_SECONDS", "60".to_owned()),
        ("ASSIGNMENT_RULES", rules.to_string()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = Gateway::start_with(&env).await;
    let callback = format!("{}/taskrouter/assignment_callback", gateway.url);
    let sim = Arc::new(
        tokio::task::spawn_blocking(move || {
            Sim::start(&workspace_of(WORKERS, Some(&callback)), &[])
        })
        .await
        .expect("started"),
    );
    let twilio = twilio(&sim);
    // The function's refresh interval: the promotion waits until every instance holds the token.
    let timing = Timing::for_refresh(std::time::Duration::from_secs(10));

    let login = Arc::new(Mutex::new(SIM_TOKEN.to_owned()));
    let phase = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let creator = {
        let (sim, login, phase, stop) = (
            Arc::clone(&sim),
            Arc::clone(&login),
            Arc::clone(&phase),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || keep_creating_tasks(&sim, &login, &phase, &stop, WORKERS))
    };
    let steps = [
        Step::CreateSecret,
        Step::SetSecret,
        Step::TestSecret,
        Step::FinishSecret,
    ];
    for (index, step) in steps.into_iter().enumerate() {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        phase.store(index + 1, Ordering::SeqCst);
        rotate::run(&secret, FIRST, step, &twilio, timing)
            .await
            .unwrap_or_else(|error| panic!("{step:?}: {error}"));
        if step == Step::CreateSecret {
            // The secondary logs in: the tasks go on being created across the promotion.
            *login.lock().expect("lock") =
                stored(&moto, PENDING, Some(FIRST)).await.expect("pending");
        }
    }
    phase.store(steps.len() + 1, Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let created = tokio::task::spawn_blocking(move || creator.join())
        .await
        .expect("joined")
        .expect("the task creator did not panic");

    let new = stored(&moto, CURRENT, None).await.expect("a current token");
    assert_ne!(new, SIM_TOKEN, "the rotation finished");
    let per_phase: Vec<usize> = (0..=steps.len() + 1)
        .map(|at| created.iter().filter(|(_, phase)| *phase == at).count())
        .collect();
    assert!(
        per_phase.iter().all(|count| *count > 0) && per_phase[steps.len()] >= 20,
        "tasks were created before, during each step (finishSecret's waits most) and after: {per_phase:?}"
    );
    let lines = json_lines(&gateway.function.output());
    let refused: Vec<&Value> = lines
        .iter()
        .filter(|line| line["status"].as_u64().is_some_and(|status| status >= 400))
        .collect();
    assert!(refused.is_empty(), "refused callbacks: {refused:?}");
    let answered = lines
        .iter()
        .filter(|line| line["message"] == "assignment answered")
        .count();
    assert_eq!(answered, created.len(), "one verified callback per task");
    let sim_for_check = Arc::clone(&sim);
    let not_accepted = tokio::task::spawn_blocking(move || {
        created
            .iter()
            .filter_map(|(task, phase)| {
                let (_, listed) = sim_for_check.call(
                    "GET",
                    &Sim::ws(&format!("/Tasks/{task}/Reservations")),
                    &[],
                    Some((ACCOUNT, &new)),
                );
                let statuses: Vec<&str> = listed["reservations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|reservation| reservation["reservation_status"].as_str())
                    .collect();
                (statuses != ["accepted"]).then(|| format!("{task} (phase {phase}): {statuses:?}"))
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("checked");
    assert!(
        not_accepted.is_empty(),
        "every callback verified and its accept applied; not: {not_accepted:?}\n{}",
        sim.log()
    );
}

/// The token in parameter `name` on moto, `None` when there is none.
async fn parameter(moto: &Moto, name: &str) -> Option<String> {
    aws_sdk_ssm::Client::new(&moto.sdk_config().await)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .ok()?
        .parameter?
        .value
}

/// `taskrouter token rotate` on moto's Parameter Store and the simulator.
fn token_rotate(moto: &Moto, sim: &Sim) -> std::process::Output {
    let mut command = crate::support::cli::taskrouter();
    command
        .env_remove("TWILIO_AUTH_TOKEN")
        .env_remove("TWILIO_API_KEY")
        .env_remove("TWILIO_API_SECRET")
        .envs(moto.function_env())
        .env("TWILIO_ACCOUNT_SID", ACCOUNT)
        .env("TWILIO_ACCOUNTS_API_URL", &sim.url)
        .env("TASKROUTER_API_URL", &sim.url)
        .env("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token")
        .args([
            "token",
            "rotate",
            "--secondary-parameter",
            "/taskrouter/auth-token-secondary",
            "--settle-seconds",
            "1",
            "--suppress-email",
        ]);
    command.output().expect("taskrouter runs")
}

#[tokio::test]
async fn token_rotate_moves_parameter_store_to_twilios_secondary_in_the_safe_order() {
    use crate::support::cli::{assert_no_secret, text};
    let moto = Moto::start().await;
    let sim = Sim::start(&workspace(), &[]);
    moto.put_secure_string("/taskrouter/auth-token", SIM_TOKEN)
        .await;

    let rotated = token_rotate(&moto, &sim);
    assert_eq!(rotated.status.code(), Some(0), "{}", text(&rotated.stderr));
    let new = parameter(&moto, "/taskrouter/auth-token")
        .await
        .expect("the primary");
    assert_ne!(new, SIM_TOKEN);
    assert_eq!(
        parameter(&moto, "/taskrouter/auth-token-secondary").await,
        None,
        "the secondary parameter is deleted"
    );
    assert!(logs_in(&sim, &new) && !logs_in(&sim, SIM_TOKEN));
    assert_no_secret(&rotated, &new);
    assert_no_secret(&rotated, SIM_TOKEN);
    let stdout = text(&rotated.stdout);
    assert!(
        stdout.contains(
            "secondary: created at Twilio and written to /taskrouter/auth-token-secondary"
        ) && stdout.contains("promoted at Twilio")
            && stdout.contains("primary: /taskrouter/auth-token holds the new token"),
        "{stdout}"
    );

    // A secondary parameter whose token Twilio does not know stops the rotation before the
    // promotion: the account and the primary parameter are as they were.
    moto.put_secure_string(
        "/taskrouter/auth-token-secondary",
        "not-a-token-twilio-knows",
    )
    .await;
    let refused = token_rotate(&moto, &sim);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("does not log in"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        parameter(&moto, "/taskrouter/auth-token").await.as_deref(),
        Some(new.as_str())
    );
    assert!(logs_in(&sim, &new));
}
