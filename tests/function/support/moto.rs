//! A real `moto_server` (PyPI `moto[server]`) standing in for SSM Parameter Store and Secrets
//! Manager, with moto's own request recorder switched on, so a test counts the requests
//! (`GetParameter`, `GetParameters`, `GetParametersByPath`, `GetSecretValue`, `ListSecrets`) the
//! services really received.
//!
//! The count comes from the server, not from our side of the SDK: moto's recorder
//! (`MOTO_ENABLE_RECORDING`, `moto/moto_api/_internal/recorder/models.py`) appends every request
//! its Flask app handles, headers and body, to `MOTO_RECORDER_FILEPATH` before it answers. A
//! request the SDK retried is two requests there, and one the SDK never sent is none.
//!
//! [`spawn`] is the one way this repository starts `moto_server`: [`Moto`] here, and the
//! cold-start benchmark (`benches/coldstart.rs`, which includes this file) for its SSM over TLS.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_ssm::config::Credentials;
use aws_sdk_ssm::config::http::HttpResponse;
use aws_sdk_ssm::error::SdkError;
use aws_sdk_ssm::operation::put_parameter::PutParameterError;
use aws_sdk_ssm::types::ParameterType;
use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::loopback::free_port;

/// How long moto may take to answer after it is started (it imports a lot of Python).
const MOTO_STARTUP: Duration = Duration::from_secs(60);

/// The name `start` asks for once to load moto's SSM code; never created.
const WARM_UP_PARAMETER: &str = "/warm-up/never-created";

/// A `moto_server` child process with its recording file, both gone when dropped.
pub(crate) struct Moto {
    child: Child,
    port: u16,
    recording: PathBuf,
}

impl Moto {
    /// Starts moto on a free port, recording, and waits until it answers SSM. A port found free
    /// can be taken by another test's server before this one binds it; then this one exits and
    /// another port is tried.
    pub(crate) async fn start() -> Self {
        for _ in 0..4 {
            if let Ok(moto) = Self::try_start_on(free_port()).await {
                return moto;
            }
        }
        Self::start_on(free_port()).await
    }

    /// As [`Moto::start`], on `port` (a test that first finds nothing listening there).
    pub(crate) async fn start_on(port: u16) -> Self {
        Self::try_start_on(port)
            .await
            .unwrap_or_else(|error| panic!("{error}"))
    }

    async fn try_start_on(port: u16) -> Result<Self, String> {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let recording = std::env::temp_dir().join(format!(
            "taskrouter-moto-{}-{}.jsonl",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&recording);
        let child = spawn(port, |command| {
            command
                .env("MOTO_ENABLE_RECORDING", "True")
                .env("MOTO_RECORDER_FILEPATH", &recording);
        })
        .await?;
        let moto = Moto {
            child,
            port,
            recording,
        };
        // moto loads a service's code on its first request, which can take seconds on a busy
        // machine: pay for it here, with the SDK's own timeouts, not from a read's budget.
        let warm_up = moto
            .client()
            .await
            .get_parameter()
            .name(WARM_UP_PARAMETER)
            .send()
            .await;
        assert!(
            warm_up.is_err_and(|error| error
                .as_service_error()
                .is_some_and(|error| error.is_parameter_not_found())),
            "moto answers GetParameter for a missing name with ParameterNotFound"
        );
        Ok(moto)
    }

    /// The endpoint URL, for `AWS_ENDPOINT_URL` or an `SdkConfig`.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The SDK configuration a deployment would get from the environment, pointed at moto.
    pub(crate) async fn sdk_config(&self) -> SdkConfig {
        sdk_config_loader(&self.endpoint()).load().await
    }

    /// The environment that points the compiled function at moto.
    pub(crate) fn function_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ]
    }

    async fn client(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk_config().await)
    }

    /// Creates (or overwrites) a SecureString parameter through the SDK, as an operator would.
    pub(crate) async fn put_secure_string(&self, name: &str, value: &str) {
        put_secure_string(&self.client().await, name, value)
            .await
            .unwrap_or_else(|error| panic!("moto accepts parameter {name}: {error:?}"));
    }

    /// Deletes a parameter, as an operator removing an account would.
    pub(crate) async fn delete_parameter(&self, name: &str) {
        self.client()
            .await
            .delete_parameter()
            .name(name)
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto deletes parameter {name}: {error:?}"));
    }

    /// An SQS client on moto, as an operator's.
    pub(crate) async fn sqs_client(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config().await)
    }

    /// Creates a standard queue and returns its URL.
    pub(crate) async fn create_queue(&self, name: &str) -> String {
        self.sqs_client()
            .await
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto creates queue {name}: {error:?}"))
            .queue_url
            .expect("a queue URL")
    }

    /// Every message visible on the queue now (received, so hidden for the queue's visibility
    /// timeout), bodies only.
    pub(crate) async fn receive_all(&self, url: &str) -> Vec<String> {
        let client = self.sqs_client().await;
        let mut bodies = Vec::new();
        loop {
            let received = client
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap_or_else(|error| panic!("moto receives from {url}: {error:?}"));
            let messages = received.messages();
            if messages.is_empty() {
                return bodies;
            }
            bodies.extend(messages.iter().filter_map(|m| m.body().map(str::to_owned)));
        }
    }

    /// A Secrets Manager client on moto, as an operator's.
    pub(crate) async fn secrets_client(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk_config().await)
    }

    /// Creates a secret holding `value` as its `SecretString` (its first version, `AWSCURRENT`).
    pub(crate) async fn create_secret(&self, name: &str, value: &str) {
        self.secrets_client()
            .await
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto creates secret {name}: {error:?}"));
    }

    /// Stores `value` as a new version of secret `name` labelled `stage` (`AWSCURRENT` moves
    /// `AWSPREVIOUS` along, as Secrets Manager does); returns the version's id.
    pub(crate) async fn put_secret_value(&self, name: &str, value: &str, stage: &str) -> String {
        self.secrets_client()
            .await
            .put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .version_stages(stage)
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto stores a version of {name}: {error:?}"))
            .version_id
            .expect("a version id")
    }

    /// Moves `stage` of secret `name` to version `to`, from the version that holds it (what a
    /// rotation's last step does with `AWSCURRENT`).
    pub(crate) async fn move_stage(&self, name: &str, stage: &str, to: &str) {
        let client = self.secrets_client().await;
        let versions = client
            .list_secret_version_ids()
            .secret_id(name)
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto lists the versions of {name}: {error:?}"));
        let from = versions
            .versions()
            .iter()
            .find(|version| version.version_stages().iter().any(|held| held == stage))
            .and_then(|version| version.version_id().map(str::to_owned));
        client
            .update_secret_version_stage()
            .secret_id(name)
            .version_stage(stage)
            .set_remove_from_version_id(from)
            .move_to_version_id(to)
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto moves {stage} of {name}: {error:?}"));
    }

    /// Takes `stage` off secret `name` (the end of a rotation that leaves no `AWSPENDING`).
    pub(crate) async fn remove_stage(&self, name: &str, stage: &str, from: &str) {
        self.secrets_client()
            .await
            .update_secret_version_stage()
            .secret_id(name)
            .version_stage(stage)
            .remove_from_version_id(from)
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto removes {stage} of {name}: {error:?}"));
    }

    /// Deletes secret `name` at once, as an operator removing an account would.
    pub(crate) async fn delete_secret(&self, name: &str) {
        self.secrets_client()
            .await
            .delete_secret()
            .secret_id(name)
            .force_delete_without_recovery(true)
            .send()
            .await
            .unwrap_or_else(|error| panic!("moto deletes secret {name}: {error:?}"));
    }

    /// Every request moto has received so far, in order of arrival, as its `X-Amz-Target`
    /// (`AmazonSSM.GetParameters`, `secretsmanager.GetSecretValue`, …) and its JSON body.
    pub(crate) fn requests(&self) -> Vec<(String, Value)> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|entry| {
                let target = entry["headers"]["X-Amz-Target"].as_str()?.to_owned();
                let body = entry["body"].as_str().unwrap_or_default();
                let body = if entry["body_encoded"].as_bool() == Some(true) {
                    base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .expect("moto records bodies as base64")
                } else {
                    body.as_bytes().to_vec()
                };
                let request = serde_json::from_slice(&body).unwrap_or(Value::Null);
                Some((target, request))
            })
            .collect()
    }

    /// How many `GetParametersByPath` requests listed `path`: one a page.
    pub(crate) fn listing_count(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|(target, request)| {
                target == "AmazonSSM.GetParametersByPath" && request["Path"] == path
            })
            .count()
    }

    /// How many `ListSecrets` requests filtered by the name prefix `prefix`: one a page.
    pub(crate) fn secret_listing_count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|(target, request)| {
                target == "secretsmanager.ListSecrets"
                    && request["Filters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|filter| filter["Key"] == "name" && filter["Values"][0] == prefix)
            })
            .count()
    }

    /// The `GetSecretValue` requests for a secret whose name starts with `prefix`, each as the
    /// secret and the staging label asked for.
    pub(crate) fn secret_reads(&self, prefix: &str) -> Vec<(String, String)> {
        self.requests()
            .into_iter()
            .filter(|(target, _)| target == "secretsmanager.GetSecretValue")
            .filter_map(|(_, request)| {
                let id = request["SecretId"].as_str()?.to_owned();
                let stage = request["VersionStage"].as_str().unwrap_or("").to_owned();
                id.starts_with(prefix).then_some((id, stage))
            })
            .collect()
    }

    /// Every `GetParameter` and `GetParameters` request moto has received so far, in order of
    /// arrival, each as the parameter names it asked for (the warm-up request of [`Moto::start`]
    /// left out).
    pub(crate) fn reads(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter_map(|entry| {
                let target = entry["headers"]["X-Amz-Target"].as_str()?;
                let many = match target {
                    "AmazonSSM.GetParameter" => false,
                    "AmazonSSM.GetParameters" => true,
                    _ => return None,
                };
                let body = entry["body"].as_str().unwrap_or_default();
                let body = if entry["body_encoded"].as_bool() == Some(true) {
                    base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .expect("moto records bodies as base64")
                } else {
                    body.as_bytes().to_vec()
                };
                let request: Value = serde_json::from_slice(&body).expect("a request body is JSON");
                let names: Vec<String> = if many {
                    request["Names"]
                        .as_array()
                        .expect("a GetParameters request names its parameters")
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                } else {
                    vec![
                        request["Name"]
                            .as_str()
                            .expect("a GetParameter request names its parameter")
                            .to_owned(),
                    ]
                };
                Some(names)
            })
            .filter(|names| names != &[WARM_UP_PARAMETER])
            .collect()
    }

    /// How many of those requests asked for a name starting with `prefix`: transactions, as
    /// Parameter Store counts them against its rate, whatever each asked for.
    pub(crate) fn read_count(&self, prefix: &str) -> usize {
        self.reads()
            .iter()
            .filter(|names| names.iter().any(|name| name.starts_with(prefix)))
            .count()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // `kill_on_drop` also covers this; killing here makes the port free before the next line
        // of a test runs.
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.recording);
    }
}

/// Creates (or overwrites) the SecureString `name` through `client`, as an operator would.
///
/// # Errors
///
/// The SDK's, when the endpoint refuses it.
pub(crate) async fn put_secure_string(
    client: &aws_sdk_ssm::Client,
    name: &str,
    value: &str,
) -> Result<(), SdkError<PutParameterError, HttpResponse>> {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .map(drop)
}

/// The SDK configuration a deployment gets from its environment (region, credentials), given
/// explicitly and pointed at `endpoint`: moto, the SSM stand-in, or a port nothing listens on.
/// Explicit, not through `AWS_ENDPOINT_URL`: the tests of one binary run in parallel threads,
/// and changing the process environment under them is unsound.
pub(crate) fn sdk_config_loader(endpoint: &str) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .endpoint_url(endpoint)
}

/// Starts `moto_server` on 127.0.0.1:`port`, with whatever `configure` adds (arguments such as a
/// certificate, environment), and waits until it accepts connections: a TCP connection, not an
/// HTTP request, so the same wait serves moto over TLS. Its output is discarded; it is killed
/// when the child is dropped.
///
/// # Errors
///
/// A message saying what to do when `moto_server` is not installed, exits, or does not listen
/// within [`MOTO_STARTUP`].
pub(crate) async fn spawn(
    port: u16,
    configure: impl FnOnce(&mut Command),
) -> Result<Child, String> {
    let mut command = Command::new("moto_server");
    command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    configure(&mut command);
    let spawned = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "moto_server is not on PATH; install it: pip install 'moto[server]' ({error})"
            ));
        }
        Err(error) => return Err(format!("could not start moto_server: {error}")),
    };
    // Something answering on the port is not enough: another test's server may hold it, and
    // this one then exits ("Address already in use"). Werkzeug says ` * Running on http://…`
    // once it is bound; the rest of its log (a line per request) is drained so it never blocks.
    let Some(stderr) = child.stderr.take() else {
        return Err("moto_server's standard error was not captured".to_owned());
    };
    let mut lines = BufReader::new(stderr).lines();
    let listening = format!("Running on http://127.0.0.1:{port}");
    let bound = tokio::time::timeout(MOTO_STARTUP, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains(&listening) {
                return true;
            }
        }
        false
    })
    .await;
    match bound {
        Ok(true) => {
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        }
        Ok(false) => {
            let status = child
                .wait()
                .await
                .map_or_else(|e| e.to_string(), |s| s.to_string());
            return Err(format!(
                "moto_server exited ({status}) before listening on port {port}"
            ));
        }
        Err(_) => {
            return Err(format!(
                "moto_server did not listen on port {port} within {MOTO_STARTUP:?}"
            ));
        }
    }
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(child)
}
