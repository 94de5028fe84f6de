//! A minimal HTTP/1.1 server on 127.0.0.1 for the REST client's tests, in two roles:
//!
//! - a **stand-in for Twilio** where the real description of the API cannot play it: Prism
//!   (tests/function/rest_prism.rs) answers only the spec's examples, so it never sends Twilio's
//!   error JSON, a `429` or `5xx` with `Retry-After`, or an answer that depends on an earlier
//!   request. [`Server::script`] answers a fixed list of replies, in order, and records every
//!   request; the bodies it sends are in Twilio's documented error format (docs/taskrouter.md §7);
//! - a **bridge to the real function** for `connect --check` ([`Server::start`] with a handler
//!   that hands the request to `http::handle`, as `cargo lambda watch` does).
//!
//! One request per connection (`Connection: close`), bodies by `Content-Length` only: small on
//! purpose, it only has to speak to `ureq`. [`Server::start_tls`] serves the same over TLS
//! (rustls with AWS-LC) with a certificate from a throwaway authority ([`TestCa`]), which the
//! client under test trusts through `SSL_CERT_FILE`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A request as received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// `GET`, `POST`.
    pub(crate) method: String,
    /// The path and query.
    pub(crate) path: String,
    /// Header names lower-cased.
    pub(crate) headers: Vec<(String, String)>,
    /// The body as text.
    pub(crate) body: String,
}

impl Recorded {
    /// The first value of a header.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The form body's pairs, in order.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
}

/// A reply to send.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    /// A JSON reply.
    pub(crate) fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: body.to_owned(),
        }
    }

    /// A reply in Twilio's error format (docs/taskrouter.md §7).
    pub(crate) fn twilio_error(status: u16, code: u32, message: &str) -> Self {
        Self::json(
            status,
            &serde_json::json!({
                "code": code,
                "message": message,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": status,
            })
            .to_string(),
        )
    }

    /// This reply with one more header.
    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// The server; stopped when dropped.
pub(crate) struct Server {
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `handler`'s reply to each request on a free loopback port.
    pub(crate) fn start(handler: impl Fn(&Recorded) -> Reply + Send + 'static) -> Self {
        Self::serve(
            TcpListener::bind("127.0.0.1:0").expect("a loopback port"),
            handler,
        )
    }

    /// Serves `handler`'s reply to each request on `listener` (bound by the caller, who may need
    /// its address first).
    pub(crate) fn serve(
        listener: TcpListener,
        handler: impl Fn(&Recorded) -> Reply + Send + 'static,
    ) -> Self {
        Self::serve_with(listener, "http", |stream| Some(Box::new(stream)), handler)
    }

    /// Serves `handler` over TLS with a certificate for 127.0.0.1 issued by `ca`.
    pub(crate) fn start_tls(
        ca: &TestCa,
        handler: impl Fn(&Recorded) -> Reply + Send + 'static,
    ) -> Self {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from_pem_slice(ca.server_cert.as_bytes())
                        .expect("a PEM certificate"),
                ],
                PrivateKeyDer::from_pem_slice(ca.server_key.as_bytes()).expect("a PEM key"),
            )
            .expect("a server configuration");
        let config = Arc::new(config);
        Self::serve_with(
            TcpListener::bind("127.0.0.1:0").expect("a loopback port"),
            "https",
            move |stream| {
                let connection = rustls::ServerConnection::new(Arc::clone(&config)).ok()?;
                Some(Box::new(rustls::StreamOwned::new(connection, stream)))
            },
            handler,
        )
    }

    fn serve_with(
        listener: TcpListener,
        scheme: &str,
        wrap: impl Fn(TcpStream) -> Option<Box<dyn ReadWrite>> + Send + 'static,
        handler: impl Fn(&Recorded) -> Reply + Send + 'static,
    ) -> Self {
        let address = listener.local_addr().expect("bound");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let Some(mut stream) = wrap(stream) else {
                        continue;
                    };
                    if let Some(request) = read_request(&mut stream) {
                        let reply = handler(&request);
                        requests.lock().expect("lock").push(request);
                        write_reply(&mut stream, &reply);
                    }
                }
            })
        };
        Self {
            url: format!("{scheme}://{address}"),
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// Answers `replies` in order; past the end, `500` with a body saying the script ran out.
    pub(crate) fn script(replies: Vec<Reply>) -> Self {
        let replies = Mutex::new(VecDeque::from(replies));
        Self::start(move |_| {
            replies
                .lock()
                .expect("lock")
                .pop_front()
                .unwrap_or_else(|| Reply::json(500, r#"{"message": "the test script ran out"}"#))
        })
    }

    /// Every request received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let address = self.url.split("://").nth(1).unwrap_or_default();
        let _ = TcpStream::connect(address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A connection, plain or TLS.
pub(crate) trait ReadWrite: Read + Write {}

impl<T: Read + Write> ReadWrite for T {}

fn read_request(stream: &mut dyn ReadWrite) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn write_reply(stream: &mut dyn ReadWrite, reply: &Reply) {
    let mut head = format!("HTTP/1.1 {} Reply\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(reply.body.as_bytes());
    let _ = stream.flush();
}

/// A throwaway certificate authority and a certificate for `127.0.0.1` it issued; the
/// authority's certificate is written to a PEM file for `SSL_CERT_FILE`, removed on drop.
pub(crate) struct TestCa {
    /// The authority's certificate (PEM), for `SSL_CERT_FILE`.
    pub(crate) ca_file: PathBuf,
    server_cert: String,
    server_key: String,
}

impl TestCa {
    pub(crate) fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("a CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "taskrouter-lambda test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA");
        let server_key = rcgen::KeyPair::generate().expect("a server key");
        let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .expect("server params")
            .signed_by(&server_key, &ca)
            .expect("a server certificate");
        static CREATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let ca_file = std::env::temp_dir().join(format!(
            "taskrouter-test-ca-{}-{}.pem",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::write(&ca_file, ca.pem()).expect("the temp dir is writable");
        Self {
            ca_file,
            server_cert: server.pem(),
            server_key: server_key.serialize_pem(),
        }
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}
