//! The smallest `lambda_http` function: it answers every request with `200` and `{}`.
//!
//! It is the floor the cold-start benchmark (`benches/coldstart.rs`) compares the real function
//! with: the same runtime crates, the same single-threaded Tokio runtime and the same release
//! profile, but no logging, no configuration, no rules and no token.

use std::convert::Infallible;

use lambda_http::http::{HeaderValue, header};
use lambda_http::{Body, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(service_fn(|_request: Request| async {
        let mut response = Response::new(Body::Text("{}".to_owned()));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok::<_, Infallible>(response)
    }))
    .await
}
