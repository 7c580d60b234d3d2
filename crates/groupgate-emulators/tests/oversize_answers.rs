//! A service (or something posing as one) that answers without end: the
//! adapters stop reading at their bound (32 MiB) and report it, whether the
//! answer declares its length or streams without one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::any;
use groupgate_core::TicketRef;
use groupgate_core::ports::{IdentityProvider, TicketSystem};
use groupgate_graph::{GraphClient, GraphConfig, Secret};
use groupgate_servicenow::{Auth, ServiceNowClient, ServiceNowConfig};

/// Serves `answer` on every path of a loopback port; its base URL.
async fn serve(streamed: bool) -> String {
    let app = Router::new().fallback(any(move || async move {
        if streamed {
            // 64 KiB chunks, about 40 MiB in all, with no declared length.
            let chunk = Bytes::from(vec![b' '; 64 * 1024]);
            let chunks = std::iter::repeat_n(chunk, 640).map(Ok::<_, std::io::Error>);
            Body::from_stream(futures_util::stream::iter(chunks))
        } else {
            Body::from(vec![b' '; 40 << 20])
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn graph_stops_reading_an_endless_answer() {
    for streamed in [false, true] {
        let base = serve(streamed).await;
        let graph = GraphClient::new(GraphConfig::for_loopback_emulator(
            "contoso.onmicrosoft.com",
            "client",
            Secret::new("s3cret"),
            format!("{base}/v1.0"),
            base.clone(),
        ))
        .unwrap();
        let err = graph.user("ada@contoso.com").await.unwrap_err();
        assert!(
            err.to_string().contains("longer than 33554432 bytes"),
            "{streamed}: {err}"
        );
        assert!(!err.to_string().contains("s3cret"));
    }
}

#[tokio::test]
async fn servicenow_stops_reading_an_endless_answer() {
    for streamed in [false, true] {
        let base = serve(streamed).await;
        let snow = ServiceNowClient::new(ServiceNowConfig::for_loopback_emulator(
            base,
            Auth::Basic {
                user: "u".into(),
                password: "p".into(),
            },
        ))
        .unwrap();
        let err = snow
            .read_request(&TicketRef::new("RITM0010001"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("longer than 33554432 bytes"),
            "{streamed}: {err}"
        );
    }
}
