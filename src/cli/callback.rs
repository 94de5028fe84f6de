//! `sign` and `send`: signing form parameters and posting a signed sample callback (http or
//! https, through the REST client's HTTP stack).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::callback::{AssignmentCallback, PARAMETERS};
use crate::document::suggest;
use crate::form::FormParams;
use crate::rest::transport::http_agent;
use crate::signature;

use super::{CallbackArgs, CliError, FAILED, OK, Output, json_object, parse_param};

/// Where `send` posts by default: `cargo lambda watch`'s address and the function's route.
pub const DEFAULT_URL: &str = "http://127.0.0.1:9000/taskrouter/assignment_callback";

/// The token `send` signs with when neither `--token` nor `TWILIO_AUTH_TOKEN` is set; a local
/// function configured with the same token accepts the request.
pub const LOCAL_DEV_TOKEN: &str = "local-dev-token";

/// How long `send` waits for the whole exchange; TaskRouter itself waits 5 s
/// (docs/taskrouter.md §2).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `send` waits for a connection (TLS included).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Placeholder SIDs for sample callbacks: well formed (prefix + 32 hex digits,
/// docs/taskrouter.md §1) and obviously not real.
const SAMPLE_SIDS: &[(&str, &str)] = &[
    ("AccountSid", "AC00000000000000000000000000000000"),
    ("WorkspaceSid", "WS00000000000000000000000000000000"),
    ("WorkflowSid", "WW00000000000000000000000000000000"),
    ("TaskQueueSid", "WQ00000000000000000000000000000000"),
    ("WorkerSid", "WK00000000000000000000000000000000"),
    ("TaskSid", "WT00000000000000000000000000000000"),
    ("ReservationSid", "WR00000000000000000000000000000000"),
];

/// `--token`, else `TWILIO_AUTH_TOKEN` (read non-empty by the caller), else
/// [`LOCAL_DEV_TOKEN`]: `send` posts to `make run`'s local function by default, which holds it.
pub fn resolve_token(
    flag: Option<SecretString>,
    environment: Option<SecretString>,
) -> SecretString {
    flag.or(environment)
        .unwrap_or_else(|| SecretString::from(LOCAL_DEV_TOKEN))
}

/// What is wrong with `name` as a documented callback parameter, or `None` when it is one:
/// the closest documented name for a typo, else the list.
pub fn unknown_parameter(name: &str) -> Option<String> {
    if PARAMETERS.contains(&name) {
        return None;
    }
    let hint = match suggest(name, PARAMETERS) {
        Some(known) => format!("did you mean `{known}`?"),
        None => format!("the documented ones are {}", PARAMETERS.join(", ")),
    };
    Some(format!(
        "`{name}` is not a parameter of the assignment callback: {hint}"
    ))
}

/// What is wrong with `name` as an extra (undocumented) parameter: being a documented one,
/// or one in another case (names are case-sensitive, so `taskage` can only be a typo). `how`
/// says where a documented parameter goes, e.g. `pass it with --param`.
pub fn documented_extra(name: &str, how: &str) -> Option<String> {
    if PARAMETERS.contains(&name) {
        return Some(format!(
            "`{name}` is a documented parameter of the assignment callback, not an extra one: {how}"
        ));
    }
    PARAMETERS
        .iter()
        .find(|known| known.eq_ignore_ascii_case(name))
        .map(|known| {
            format!(
                "`{name}` is the documented `{known}` in another case (names are case-sensitive): write `{known}` and {how}"
            )
        })
}

/// Parses `--param NAME=VALUE` of `decide`, `eval` and `send`: a documented callback parameter.
///
/// # Errors
///
/// A message for a malformed pair or an unknown name, with a suggestion.
pub fn parse_callback_param(text: &str) -> Result<(String, String), String> {
    let (name, value) = parse_param(text)?;
    match unknown_parameter(&name) {
        None => Ok((name, value)),
        Some(problem) => Err(format!(
            "{problem}; a parameter Twilio added since goes in --extra-param {name}=…"
        )),
    }
}

/// Parses `--extra-param NAME=VALUE`: a parameter the callback does not document, sent as given.
///
/// # Errors
///
/// A message for a malformed pair or a documented name (which goes in `--param`).
pub fn parse_extra_param(text: &str) -> Result<(String, String), String> {
    let (name, value) = parse_param(text)?;
    match documented_extra(&name, "pass it with --param") {
        None => Ok((name, value)),
        Some(problem) => Err(problem),
    }
}

pub(crate) fn sign(
    url: &str,
    token: &SecretString,
    params: &[(String, String)],
    body: Option<&str>,
) -> Result<Output, CliError> {
    let mut pairs = match body {
        Some(body) if !body.trim().is_empty() => {
            FormParams::parse(body.as_bytes())?.pairs().to_vec()
        }
        _ => Vec::new(),
    };
    pairs.extend_from_slice(params);
    Ok(Output {
        stdout: format!(
            "{}\n",
            signature::sign(token.expose_secret().as_bytes(), url, &pairs)
        ),
        ..Output::default()
    })
}

pub(crate) fn send(
    url: &str,
    token: &SecretString,
    callback: &CallbackArgs,
) -> Result<Output, CliError> {
    let params = sample_callback(callback)?;
    // Refuse what the function would refuse, before the network is involved.
    AssignmentCallback::try_from(params.clone())?;
    let signature = signature::sign(token.expose_secret().as_bytes(), url, params.pairs());
    let (status, body) = post_signed(url, &signature, &params)?;
    Ok(Output {
        stdout: if body.ends_with('\n') {
            body
        } else {
            format!("{body}\n")
        },
        stderr: format!("status: {status}\n"),
        code: if status.is_success() { OK } else { FAILED },
    })
}

/// POSTs a signed form to `url` (http or https, through the project's one HTTP client,
/// [`crate::rest::transport::http_agent`]) and returns the status and the body.
///
/// # Errors
///
/// [`CliError::Http`] when no answer came, [`CliError::Rest`] when https is needed and the
/// system has no root certificates.
pub(crate) fn post_signed(
    url: &str,
    signature: &str,
    params: &FormParams,
) -> Result<(ureq::http::StatusCode, String), CliError> {
    let agent = http_agent(url, CONNECT_TIMEOUT, SEND_TIMEOUT)?;
    let http = |error: ureq::Error| CliError::Http {
        url: url.to_owned(),
        reason: error.to_string(),
    };
    let mut response = agent
        .post(url)
        .header("X-Twilio-Signature", signature)
        .content_type("application/x-www-form-urlencoded")
        .send(params.encode())
        .map_err(http)?;
    let status = response.status();
    let body = response.body_mut().read_to_string().map_err(http)?;
    Ok((status, body))
}

/// A complete assignment callback's form parameters: placeholder SIDs, `TaskAge` and
/// `TaskPriority` 0, the given attributes, then each documented parameter of `callback.params`
/// replacing the sample's, then the extra parameters after them (a repeated extra name keeps
/// its last value).
///
/// The names were checked when the arguments were parsed ([`parse_callback_param`],
/// [`parse_extra_param`]) or the test document read.
///
/// # Errors
///
/// [`CliError::Json`] or [`CliError::NotObject`] naming `--task` or `--worker`.
pub fn sample_callback(callback: &CallbackArgs) -> Result<FormParams, CliError> {
    json_object("--task", &callback.task)?;
    json_object("--worker", &callback.worker)?;
    let mut pairs: Vec<(String, String)> = SAMPLE_SIDS
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    pairs.extend([
        ("TaskAttributes".to_owned(), callback.task.clone()),
        ("WorkerAttributes".to_owned(), callback.worker.clone()),
        ("TaskAge".to_owned(), "0".to_owned()),
        ("TaskPriority".to_owned(), "0".to_owned()),
    ]);
    for (name, value) in callback.params.iter().chain(&callback.extra_params) {
        match pairs.iter_mut().find(|(existing, _)| existing == name) {
            Some(pair) => pair.1.clone_from(value),
            None => pairs.push((name.clone(), value.clone())),
        }
    }
    Ok(FormParams::from_pairs(pairs))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::cli::test_support::params;
    use crate::cli::{Cli, Command, run};
    use clap::Parser as _;

    fn token(text: &str) -> Option<SecretString> {
        Some(SecretString::from(text))
    }

    fn callback(task: &str, pairs: &[(&str, &str)], extra: &[(&str, &str)]) -> CallbackArgs {
        CallbackArgs {
            task: task.to_owned(),
            params: params(pairs),
            extra_params: params(extra),
            ..CallbackArgs::default()
        }
    }

    #[test]
    fn sign_matches_the_official_vector() {
        // docs/taskrouter.md §4: token 12345, the base URL and the common parameters.
        let common = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ];
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let with_params = run(
            Command::Sign {
                url: url.to_owned(),
                token: token("12345"),
                params: params(&common),
                body: None,
            },
            None,
        );
        assert_eq!(with_params.stdout, "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n");
        let body =
            "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309";
        let with_body = run(
            Command::Sign {
                url: url.to_owned(),
                token: token("12345"),
                params: params(&[("To", "+18005551212")]),
                body: Some(body.to_owned()),
            },
            None,
        );
        assert_eq!(
            with_body.stdout, "RSOYDt4T1cUTdK1PDd93/VVr8B8=\n",
            "--body and --param combine"
        );
        let none = run(
            Command::Sign {
                url: url.to_owned(),
                token: token("12345"),
                params: Vec::new(),
                body: None,
            },
            None,
        );
        assert_eq!(none.stdout, "zYQTYrRWXE7LtzbG4PfP7/bkkGo=\n");
    }

    #[test]
    fn sign_reads_the_token_from_the_environment_and_needs_one() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sign = |token: Option<SecretString>, environment: Option<&str>| {
            run(
                Command::Sign {
                    url: url.to_owned(),
                    token,
                    params: Vec::new(),
                    body: None,
                },
                environment.map(str::to_owned),
            )
        };
        let from_environment = sign(None, Some("12345"));
        assert_eq!(
            (from_environment.stdout.as_str(), from_environment.code),
            ("zYQTYrRWXE7LtzbG4PfP7/bkkGo=\n", 0)
        );
        assert_eq!(
            sign(token("12345"), Some("other")).stdout,
            "zYQTYrRWXE7LtzbG4PfP7/bkkGo=\n",
            "the flag wins"
        );
        for environment in [None, Some(""), Some("  ")] {
            let output = sign(None, environment);
            assert_eq!(output.code, 2, "{environment:?}");
            assert_eq!(
                output.stderr,
                "error: sign needs the auth token: set TWILIO_AUTH_TOKEN (or pass --token, which other users can see in `ps`)\n"
            );
        }
    }

    #[test]
    fn the_token_comes_from_the_flag_then_the_environment_then_the_local_default() {
        let exposed = |secret: SecretString| secret.expose_secret().to_owned();
        assert_eq!(exposed(resolve_token(token("flag"), token("env"))), "flag");
        assert_eq!(exposed(resolve_token(None, token("env"))), "env");
        assert_eq!(exposed(resolve_token(None, None)), LOCAL_DEV_TOKEN);
    }

    #[test]
    fn a_token_is_never_shown_by_debug_or_by_an_error() {
        let cli = Cli::try_parse_from([
            "taskrouter",
            "sign",
            "--url",
            "u",
            "--token",
            "s3cr3t-value",
        ])
        .expect("valid");
        assert!(!format!("{cli:?}").contains("s3cr3t-value"), "{cli:?}");
        let error = Cli::try_parse_from(["taskrouter", "sign", "--url", "u", "--token", " "])
            .expect_err("an empty token");
        assert!(error.to_string().contains("the token is empty"), "{error}");
    }

    #[test]
    fn the_sample_callback_is_complete_and_params_replace_or_extend_it() {
        let form = sample_callback(&callback(
            "{\"a\":1}",
            &[("TaskAge", "30")],
            &[("Extra", "x")],
        ))
        .expect("valid input");
        let callback = AssignmentCallback::try_from(form.clone()).expect("a complete callback");
        assert_eq!(callback.task_age, 30);
        assert_eq!(callback.task_attributes["a"], 1);
        assert_eq!(
            form.pairs().iter().filter(|(k, _)| k == "TaskAge").count(),
            1,
            "replaced, not repeated"
        );
        assert_eq!(
            form.pairs().last(),
            Some(&("Extra".to_owned(), "x".to_owned()))
        );
    }

    #[test]
    fn an_unknown_callback_parameter_is_refused_with_the_closest_name() {
        #[rustfmt::skip]
        let cases = [
            ("TaskAgee=5", "`TaskAgee` is not a parameter of the assignment callback: did you mean `TaskAge`?; a parameter Twilio added since goes in --extra-param TaskAgee=…", "a typo"),
            ("task_queue_sid=WQ1", "`task_queue_sid` is not a parameter of the assignment callback: did you mean `TaskQueueSid`?; a parameter Twilio added since goes in --extra-param task_queue_sid=…", "the snake_case spelling"),
            ("Channel=voice", "`Channel` is not a parameter of the assignment callback: the documented ones are AccountSid, WorkspaceSid, WorkflowSid, TaskQueueSid, WorkerSid, WorkerAttributes, TaskSid, TaskAttributes, TaskAge, TaskPriority, ReservationSid, Timestamp; a parameter Twilio added since goes in --extra-param Channel=…", "nothing close"),
        ];
        for (text, message, why) in cases {
            assert_eq!(parse_callback_param(text), Err(message.to_owned()), "{why}");
        }
        assert_eq!(
            parse_callback_param("TaskAge=300"),
            Ok(("TaskAge".to_owned(), "300".to_owned()))
        );
        assert_eq!(
            parse_extra_param("Channel=voice"),
            Ok(("Channel".to_owned(), "voice".to_owned()))
        );
        assert_eq!(
            parse_extra_param("TaskAge=1"),
            Err("`TaskAge` is a documented parameter of the assignment callback, not an extra one: pass it with --param".to_owned())
        );
        assert_eq!(
            parse_extra_param("taskage=1"),
            Err("`taskage` is the documented `TaskAge` in another case (names are case-sensitive): write `TaskAge` and pass it with --param".to_owned())
        );
    }

    /// Answers one request on a loopback port with `status` and `body`; yields the raw request.
    fn serve_once(status: &str, body: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!(
            "http://{}/taskrouter/assignment_callback",
            listener.local_addr().expect("bound")
        );
        let status = status.to_owned();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("one connection");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout set");
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            // Read the headers, then exactly Content-Length bytes of body.
            loop {
                let read = stream.read(&mut buffer).expect("the request arrives");
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|line| {
                            line.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .and_then(|value| value.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length || read == 0 {
                        break;
                    }
                }
                if read == 0 {
                    break;
                }
            }
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream
                .write_all(response.as_bytes())
                .expect("the response is written");
            String::from_utf8(request).expect("a UTF-8 request")
        });
        (url, handle)
    }

    #[test]
    fn send_posts_a_signed_callback_and_prints_status_and_body() {
        let (url, server) = serve_once("200 OK", "{\"instruction\":\"accept\"}");
        let output = run(
            Command::Send {
                url: url.clone(),
                token: None,
                callback: callback("{\"type\":\"chat\"}", &[("TaskPriority", "5")], &[]),
            },
            Some("secret-token".to_owned()),
        );
        assert_eq!(
            output,
            Output {
                stdout: "{\"instruction\":\"accept\"}\n".to_owned(),
                stderr: "status: 200 OK\n".to_owned(),
                code: 0
            }
        );
        let request = server.join().expect("the server thread ends");
        let (head, body) = request.split_once("\r\n\r\n").expect("headers and body");
        assert!(
            head.starts_with("POST /taskrouter/assignment_callback HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/x-www-form-urlencoded"),
            "{head}"
        );
        let header = head
            .lines()
            .find_map(|line| {
                line.strip_prefix("X-Twilio-Signature: ")
                    .or_else(|| line.strip_prefix("x-twilio-signature: "))
            })
            .expect("a signature header");
        let form = FormParams::parse(body.as_bytes()).expect("a form body");
        assert_eq!(form.get("TaskPriority"), Some("5"));
        assert_eq!(form.get("TaskAttributes"), Some("{\"type\":\"chat\"}"));
        assert_eq!(
            header,
            signature::sign(b"secret-token", &url, form.pairs()),
            "signed with the environment token for this URL"
        );
    }

    #[test]
    fn send_exits_with_1_on_an_answer_that_is_not_2xx() {
        let (url, server) = serve_once("403 Forbidden", "{\"error\":\"invalid_signature\"}");
        let output = run(
            Command::Send {
                url,
                token: token("wrong"),
                callback: CallbackArgs::default(),
            },
            None,
        );
        server.join().expect("the server thread ends");
        assert_eq!(output.code, 1);
        assert_eq!(output.stderr, "status: 403 Forbidden\n");
        assert_eq!(output.stdout, "{\"error\":\"invalid_signature\"}\n");
    }

    /// `send` to a loopback port nothing listens on (a listener bound and dropped), over `scheme`.
    fn send_to_a_closed_port(scheme: &str) -> (String, Output) {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("a port")
            .local_addr()
            .expect("bound")
            .port();
        let url = format!("{scheme}://127.0.0.1:{port}/taskrouter/assignment_callback");
        let output = run(
            Command::Send {
                url: url.clone(),
                token: None,
                callback: CallbackArgs::default(),
            },
            None,
        );
        (url, output)
    }

    #[test]
    fn send_explains_a_connection_failure_over_http_and_https() {
        // https goes through the same client: the request is attempted (not refused up front)
        // and fails to connect, like plain http.
        for scheme in ["http", "https"] {
            let (url, output) = send_to_a_closed_port(scheme);
            assert_eq!(output.code, 1, "{scheme}");
            assert!(
                output
                    .stderr
                    .starts_with(&format!("error: cannot POST to {url}: ")),
                "{scheme}: {}",
                output.stderr
            );
            assert!(
                output
                    .stderr
                    .ends_with("is the function running and reachable at this URL?\n"),
                "{scheme}: {}",
                output.stderr
            );
        }
    }
}
