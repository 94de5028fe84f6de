//! A real `moto_server` (PyPI `moto[server]`) standing in for SSM Parameter Store, with moto's own
//! request recorder switched on, so a test counts the `GetParameter` and `GetParameters` requests
//! SSM really received.
//!
//! The count comes from the server, not from our side of the SDK: moto's recorder
//! (`MOTO_ENABLE_RECORDING`, `moto/moto_api/_internal/recorder/models.py`) appends every request
//! its Flask app handles, headers and body, to `MOTO_RECORDER_FILEPATH` before it answers. A
//! request the SDK retried is two requests there, and one the SDK never sent is none.
//!
//! `token_ssm.rs` has its own, older helper without the recorder; the two start moto the same
//! way.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ssm::config::Credentials;
use aws_sdk_ssm::types::ParameterType;
use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

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
    /// Starts moto on a free port, recording, and waits until it answers SSM.
    pub(crate) async fn start() -> Self {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let port = free_port();
        let recording = std::env::temp_dir().join(format!(
            "taskrouter-moto-{}-{}.jsonl",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&recording);
        let spawned = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "moto_server is not on PATH; these tests need it: pip install 'moto[server]' ({error})"
            ),
            Err(error) => panic!("could not start moto_server: {error}"),
        };
        let mut moto = Moto {
            child,
            port,
            recording,
        };
        let deadline = tokio::time::Instant::now() + MOTO_STARTUP;
        loop {
            if let Some(status) = moto.child.try_wait().expect("moto_server's status") {
                panic!("moto_server exited ({status}) before answering on port {port}");
            }
            if raw_http(
                port,
                "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            )
            .await
            .is_ok_and(|answer| answer.starts_with("HTTP/1."))
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "moto_server did not answer on port {port} within {MOTO_STARTUP:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
        moto
    }

    /// The endpoint URL, for `AWS_ENDPOINT_URL` or an `SdkConfig`.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The SDK configuration a deployment would get from the environment, pointed at moto.
    pub(crate) async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(self.endpoint())
            .load()
            .await
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
        self.client()
            .await
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
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
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.recording);
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("the OS hands out a free port")
        .port()
}

/// Sends one raw HTTP/1.1 request and returns the whole answer.
async fn raw_http(port: u16, request: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
