//! The rule for where secrets may be sent: adapters reach their services
//! only over `https`. Plain `http` is allowed for a loopback address (an
//! emulator on 127.0.0.1, `localhost` or `::1`) and only when the settings
//! say so explicitly, so a settings file cannot send a client secret or a
//! password anywhere in clear.
//!
//! ```
//! use groupgate_core::endpoint::{Transport, checked_endpoint};
//! let url = checked_endpoint("base_url", "https://graph.microsoft.com/v1.0/", Transport::HttpsOnly).unwrap();
//! assert_eq!(url, "https://graph.microsoft.com/v1.0");
//! let err = checked_endpoint("authority_url", "http://login.example.net", Transport::HttpsOnly).unwrap_err();
//! assert!(err.to_string().contains("https"));
//! assert!(checked_endpoint("base_url", "http://127.0.0.1:8080/v1.0", Transport::AllowLoopbackHttp).is_ok());
//! assert!(checked_endpoint("base_url", "http://10.0.0.5/v1.0", Transport::AllowLoopbackHttp).is_err());
//! ```

use std::net::IpAddr;

/// Which transports an endpoint may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// `https` only (the default, and the only choice for real services).
    #[default]
    HttpsOnly,
    /// `https`, or plain `http` to a loopback address: for emulators and
    /// tests on this machine.
    AllowLoopbackHttp,
}

/// An endpoint setting that may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not an absolute URL.
    #[error("`{name}` is not an absolute URL: `{value}`")]
    NotAUrl {
        /// The setting.
        name: String,
        /// Its value.
        value: String,
    },
    /// A scheme other than `https` (or loopback `http` where allowed).
    #[error(
        "`{name}` must use https, not `{scheme}` (`{value}`): credentials are sent there; plain http is allowed only to a loopback address, for emulators, with `allow_insecure_loopback: true` in the settings file or the `…_ALLOW_INSECURE_LOOPBACK=true` variable"
    )]
    NotHttps {
        /// The setting.
        name: String,
        /// Its value.
        value: String,
        /// The scheme given.
        scheme: String,
    },
    /// User name or password inside the URL.
    #[error("`{name}` holds credentials in the URL; remove them and use the secret variables")]
    CredentialsInUrl {
        /// The setting.
        name: String,
    },
    /// A query string or fragment, which would be glued to every path.
    #[error("`{name}` has a query or fragment (`{value}`); give the bare base URL")]
    QueryOrFragment {
        /// The setting.
        name: String,
        /// Its value.
        value: String,
    },
}

/// Whether `host` names this machine.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Checks endpoint setting `name` and returns it without a trailing `/`.
pub fn checked_endpoint(
    name: &str,
    value: &str,
    transport: Transport,
) -> Result<String, EndpointError> {
    let trimmed = value.trim();
    let url = url::Url::parse(trimmed).map_err(|_| EndpointError::NotAUrl {
        name: name.to_owned(),
        value: value.to_owned(),
    })?;
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(EndpointError::NotAUrl {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    let allowed = match url.scheme() {
        "https" => true,
        "http" => transport == Transport::AllowLoopbackHttp && is_loopback(&url),
        _ => false,
    };
    if !allowed {
        return Err(EndpointError::NotHttps {
            name: name.to_owned(),
            value: value.to_owned(),
            scheme: url.scheme().to_owned(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::CredentialsInUrl {
            name: name.to_owned(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(EndpointError::QueryOrFragment {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(trimmed.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_explicit_loopback_http() {
        use Transport::*;
        let ok = |v: &str, t| checked_endpoint("x", v, t).is_ok();
        assert!(ok("https://contoso.service-now.com", HttpsOnly));
        assert!(!ok("http://contoso.service-now.com", HttpsOnly));
        assert!(!ok("http://127.0.0.1:9000", HttpsOnly));
        assert!(ok("http://127.0.0.1:9000", AllowLoopbackHttp));
        assert!(ok("http://127.8.9.10:9000", AllowLoopbackHttp));
        assert!(ok("http://localhost:9000", AllowLoopbackHttp));
        assert!(ok("http://[::1]:9000/v1.0", AllowLoopbackHttp));
        assert!(!ok("http://127.0.0.1.nip.io", AllowLoopbackHttp));
        assert!(!ok("http://localhost.evil.example", AllowLoopbackHttp));
        assert!(!ok("ftp://127.0.0.1", AllowLoopbackHttp));
        assert!(!ok("file:///etc/passwd", AllowLoopbackHttp));
        assert!(!ok("https://user:pw@graph.microsoft.com", HttpsOnly));
        assert!(!ok("https://graph.microsoft.com/v1.0?x=1", HttpsOnly));
        assert!(!ok("graph.microsoft.com", HttpsOnly));
    }

    #[test]
    fn the_error_never_hides_what_to_do() {
        let e = checked_endpoint("authority_url", "http://idp.example", Transport::HttpsOnly)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("authority_url") && e.contains("allow_insecure_loopback"),
            "{e}"
        );
    }
}
