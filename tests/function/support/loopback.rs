//! The accept loop of the small HTTP/1.1 servers the tests and benchmarks run on 127.0.0.1: the
//! Runtime API emulator (`runtime_api.rs`) and the SSM stand-in (`ssm.rs`). Each brings its state
//! and its request handler; this owns the listener and a task per connection.

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
