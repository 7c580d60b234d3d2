//! What the Python and Node bindings will rely on, checked now: every public
//! type they will wrap is `Send + Sync + 'static` (so it can sit behind a
//! pyo3 class or a napi object shared across threads), and the data types
//! round-trip through JSON unchanged (so they can cross as plain objects).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use groupgate_core::audit::AuditRecord;
use groupgate_core::workflow::{ApprovalAnswer, Phase, Verdict, Workflow, WorkflowSettings};
use groupgate_core::{
    CompiledPolicy, Decision, Diagnostic, DirectorySnapshot, Facts, PolicyError, Reason, Request,
};
use groupgate_sim::World;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn shareable<T: Send + Sync + 'static>() {}

fn plain_data<T: Serialize + DeserializeOwned + Send + Sync + 'static>() {}

#[test]
fn the_types_the_bindings_wrap_are_send_and_sync() {
    shareable::<CompiledPolicy>();
    shareable::<groupgate_engine::Engine>();
    shareable::<groupgate_engine::EngineError>();
    shareable::<groupgate_graph::GraphClient>();
    shareable::<groupgate_graph::GraphConfig>();
    shareable::<groupgate_servicenow::ServiceNowClient>();
    shareable::<groupgate_servicenow::ServiceNowConfig>();
    shareable::<PolicyError>();
    shareable::<groupgate_core::ports::PortError>();

    plain_data::<Request>();
    plain_data::<Facts>();
    plain_data::<Decision>();
    plain_data::<Reason>();
    plain_data::<Diagnostic>();
    plain_data::<DirectorySnapshot>();
    plain_data::<Workflow>();
    plain_data::<Phase>();
    plain_data::<WorkflowSettings>();
    plain_data::<ApprovalAnswer>();
    plain_data::<AuditRecord>();
}

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value, "{json}");
}

#[tokio::test]
async fn decisions_workflows_and_audit_records_round_trip_through_json() {
    let world = World::example().unwrap();
    let request: Request = serde_json::from_value(serde_json::json!({
        "ticket": "RITM0010001", "requester": "ada.lovelace@contoso.com",
        "target": "ada.lovelace@contoso.com", "resource": "Access to Finance BI",
        "justification": "Quarter-end reporting"
    }))
    .unwrap();
    round_trips(&request);
    let wf = world.submit(request).await.unwrap();
    assert!(wf.decision.is_some(), "{:?}", wf.phase);
    round_trips(&wf);
    // Through approvals to an executed, verified grant: every kind of record.
    for approver in ["grace.hopper@contoso.com", "dora.data@contoso.com"] {
        world
            .answer("RITM0010001", approver, Verdict::Approve, "teams")
            .await
            .unwrap();
    }
    let wf = world.engine.workflow(&wf.id).await.unwrap();
    assert!(matches!(wf.phase, Phase::Active { .. }), "{:?}", wf.phase);
    round_trips(&wf);
    let trail = world.engine.audit_trail().await.unwrap();
    assert!(trail.len() > 5);
    for record in world.engine.audit_trail().await.unwrap() {
        round_trips(&record);
    }
}
