//! Loopback ports for the tests and benchmarks: [`free_port`] for a process that must be told its
//! port (moto, Prism, `make run`), and the accept loop of the small HTTP/1.1 servers run in
//! process, the Runtime API emulator (`runtime_api.rs`) and the SSM stand-in (`ssm.rs`), each
//! bringing its state and its request handler.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("the OS hands out a free port")
        .port()
}

/// Serves `handle(state, request)` on a free loopback port until the returned task is aborted.
pub(crate) async fn serve<S, F>(
    state: Arc<S>,
    handle: fn(Arc<S>, Request<Incoming>) -> F,
) -> (SocketAddr, JoinHandle<()>)
where
    S: Send + Sync + 'static,
    F: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let service = service_fn(move |request| handle(Arc::clone(&state), request));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, server)
}
