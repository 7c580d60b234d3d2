//! Gathering the facts a decision needs from the directory: only what the
//! policy says this request needs (see `CompiledPolicy::fact_needs`), in as
//! few calls as the directory can answer.

use crate::Engine;
use groupgate_core::Facts;
use groupgate_core::ports::{FactsQuery, PortResult};
use groupgate_core::workflow::Workflow;

impl Engine {
    /// Reads the requester, the target and their manager, the resolved
    /// group and the target's membership of it, the target's memberships of
    /// the group's separation-of-duties partners, and the approvers the
    /// group's stages name.
    pub(crate) async fn gather_facts(&self, wf: &Workflow) -> PortResult<Facts> {
        let query = FactsQuery {
            requester: wf.request.requester.clone(),
            target: wf.request.target.clone(),
            needs: self.policy.fact_needs(&wf.request),
        };
        self.ports.identity.facts(&query).await
    }
}
