//! Gathering the facts a decision needs from the directory: only what the
//! policy says this request needs (see `CompiledPolicy::fact_needs`), in as
//! few calls as the directory can answer.

use crate::Engine;
use groupgate_core::ports::{FactsQuery, PortResult};
use groupgate_core::workflow::Workflow;
use groupgate_core::{CompiledPolicy, Facts};

impl Engine {
    /// Reads the requester, the target and their manager, the resolved
    /// group and the target's membership of it, the target's memberships of
    /// the group's separation-of-duties partners, and the approvers the
    /// group's stages name.
    /// Directory approver groups read within the cache time are not read
    /// again, except for the re-check before a change (`fresh`): that one
    /// always asks the directory.
    pub(crate) async fn gather_facts(
        &self,
        policy: &CompiledPolicy,
        wf: &Workflow,
        fresh: bool,
    ) -> PortResult<Facts> {
        let mut needs = policy.fact_needs(&wf.request);
        let now = self.ports.clock.now();
        let mut cached = Vec::new();
        let mut missing = Vec::new();
        for need in std::mem::take(&mut needs.approver_groups) {
            match self.members.get(&need, now).filter(|_| !fresh) {
                Some(read) => cached.push(read),
                None => missing.push(need),
            }
        }
        needs.approver_groups = missing.clone();
        let query = FactsQuery {
            requester: wf.request.requester.clone(),
            target: wf.request.target.clone(),
            needs,
        };
        let mut facts = self.ports.identity.facts(&query).await?;
        for need in &missing {
            if let Some(read) = facts.group_members(&need.group, need.transitive) {
                self.members.put(need, read, now);
            }
        }
        facts.approver_groups.extend(cached);
        Ok(facts)
    }
}
