//! What the chat clients share: endpoints checked (https, or loopback http
//! for emulators), one HTTP client without redirects, bounded answers.

use groupgate_core::endpoint::{EndpointError, Transport, checked_endpoint};
use groupgate_core::input::BoundedBytes;
use std::time::Duration;

/// The longest answer read from Slack, Teams or the Bot Framework's key
/// endpoints.
pub(crate) const MAX_ANSWER_BYTES: usize = 4 << 20;

/// An endpoint or client that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The URL may not be used (not https, credentials in it, …).
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

fn transport(allow_insecure_loopback: bool) -> Transport {
    if allow_insecure_loopback {
        Transport::AllowLoopbackHttp
    } else {
        Transport::HttpsOnly
    }
}

/// `url` checked: https, or http to a loopback address when allowed.
pub(crate) fn checked_url(url: &str, allow_insecure_loopback: bool) -> Result<String, HttpError> {
    Ok(checked_endpoint(
        "url",
        url,
        transport(allow_insecure_loopback),
    )?)
}

/// The client every chat call goes through: no redirects (a token never
/// follows one elsewhere), a timeout, https only unless loopback is allowed.
pub(crate) fn client(allow_insecure_loopback: bool) -> Result<reqwest::Client, HttpError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .https_only(!allow_insecure_loopback)
        .user_agent(concat!("groupgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HttpError::Client(e.to_string()))
}

/// An answer's bytes, read up to `max`.
pub(crate) async fn bounded_body(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, String> {
    let mut body = BoundedBytes::new(max);
    body.expect_length(response.content_length())
        .map_err(|e| e.to_string())?;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("unreadable answer: {}", e.without_url()))?
    {
        body.push(&chunk).map_err(|e| e.to_string())?;
    }
    Ok(body.into_text().into_bytes())
}
