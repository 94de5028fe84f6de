//! The function binary as Lambda runs it: started against a Runtime API emulator with Lambda's
//! environment, its output collected. Used by the tests (`support::Function`) and included by the
//! cold-start and storm benchmarks.

use std::ffi::OsStr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::runtime_api::RuntimeApi;

/// `binary` as Lambda starts a function named `name` with `memory_mb` MB against `api`: nothing
/// of this process's environment but `PATH`, Lambda's own variables (JSON log format), no
/// stdin, stdout and stderr piped for [`collect_output`], killed when dropped. The caller adds
/// the function's settings; a variable set again replaces the one set here.
pub(crate) fn lambda_command(
    binary: impl AsRef<OsStr>,
    api: &RuntimeApi,
    name: &str,
    memory_mb: u32,
) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("{name}-stream"))
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// What a process has printed: stdout and stderr lines, interleaved by arrival.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// Every line counted.
    pub(crate) lines: u64,
    /// The lines kept, each ending with `\n`: all of them, or the last ones when a limit is set.
    pub(crate) text: String,
}

/// Reads `child`'s stdout and stderr line by line into an [`Output`] until they close, keeping
/// at most about `keep` bytes of the latest lines (`usize::MAX`: everything).
pub(crate) fn collect_output(child: &mut Child, keep: usize) -> Arc<Mutex<Output>> {
    let output = Arc::new(Mutex::new(Output::default()));
    let streams: [Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>; 2] = [
        child.stdout.take().map(|s| Box::new(s) as _),
        child.stderr.take().map(|s| Box::new(s) as _),
    ];
    for stream in streams.into_iter().flatten() {
        let output = Arc::clone(&output);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut output = output.lock().expect("output lock");
                output.lines += 1;
                output.text.push_str(&line);
                output.text.push('\n');
                if output.text.len() > keep {
                    // Keep the latest half, cut at a character boundary.
                    let cut = output.text.len() - keep / 2;
                    let cut = (cut..output.text.len())
                        .find(|&i| output.text.is_char_boundary(i))
                        .unwrap_or(0);
                    output.text.drain(..cut);
                }
            }
        });
    }
    output
}
