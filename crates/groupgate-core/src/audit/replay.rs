//! Replaying recorded decisions against a policy.

use super::record::{AuditRecord, Entry};
use crate::CompiledPolicy;
use crate::evaluate::Decision;
use crate::model::WorkflowId;
use crate::workflow::Event;
use serde::Serialize;

/// A recorded decision that comes out differently when replayed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayDifference {
    /// The record's sequence number.
    pub seq: u64,
    /// The workflow.
    pub workflow: WorkflowId,
    /// The policy digest recorded with the decision.
    pub recorded_digest: String,
    /// The digest of the policy replayed against.
    pub replayed_digest: String,
    /// The recorded outcome.
    pub recorded_outcome: String,
    /// The replayed outcome.
    pub replayed_outcome: String,
}

/// Re-evaluates every recorded decision (intake and re-check) from its
/// recorded request, facts and time against `policy`; returns how many were
/// replayed and the ones that differ (byte for byte). A different digest
/// explains a difference: the policy changed.
pub fn replay(records: &[AuditRecord], policy: &CompiledPolicy) -> (usize, Vec<ReplayDifference>) {
    let outcome = |d: &Decision| {
        serde_json::to_value(d.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let mut requests = std::collections::HashMap::new();
    let mut replayed = 0;
    let mut differences = Vec::new();
    for record in records {
        let (facts, decision) = match &record.entry {
            Entry::Started { request, .. } => {
                requests.insert(record.workflow.clone(), request.clone());
                continue;
            }
            Entry::Applied { event, .. } => match &**event {
                Event::Evaluated {
                    facts, decision, ..
                }
                | Event::Rechecked {
                    facts, decision, ..
                } => (facts, decision),
                _ => continue,
            },
            _ => continue,
        };
        let Some(request) = requests.get(&record.workflow) else {
            continue;
        };
        replayed += 1;
        let again = policy.evaluate(request, facts, decision.evaluated_at);
        if again.to_canonical_json() != decision.to_canonical_json() {
            differences.push(ReplayDifference {
                seq: record.seq,
                workflow: record.workflow.clone(),
                recorded_digest: decision.policy_digest.to_string(),
                replayed_digest: again.policy_digest.to_string(),
                recorded_outcome: outcome(decision),
                replayed_outcome: outcome(&again),
            });
        }
    }
    (replayed, differences)
}
