//! Gathering the facts a decision needs from the directory: only what the
//! policy says this request needs (see `CompiledPolicy::fact_needs`).

use crate::Engine;
use groupgate_core::ports::PortResult;
use groupgate_core::workflow::Workflow;
use groupgate_core::{Facts, MembershipState, User};

impl Engine {
    /// Reads the requester, the target and their manager, the resolved
    /// group and the target's membership of it, the target's memberships of
    /// the group's separation-of-duties partners, and the approvers the
    /// group's stages name.
    pub(crate) async fn gather_facts(&self, wf: &Workflow) -> PortResult<Facts> {
        let identity = &self.ports.identity;
        let request = &wf.request;
        let needs = self.policy.fact_needs(request);
        let requester = identity.user(&request.requester).await?;
        let target = identity.user(&request.target).await?;
        let (target_manager, target_groups) = match &target {
            Some(t) => {
                let manager = identity.manager(&t.id).await?;
                let groups = if needs.separation_partners.is_empty() {
                    Vec::new()
                } else {
                    identity
                        .member_of(&t.id, &needs.separation_partners)
                        .await?
                };
                (manager, groups)
            }
            None => (None, Vec::new()),
        };
        let group = match &needs.group {
            Some(g) => identity.group(g).await?,
            None => None,
        };
        let membership = match (&needs.group, &target) {
            (Some(g), Some(t)) => identity.membership(g, &t.id).await?,
            _ => MembershipState::NotMember,
        };
        let mut approvers: Vec<User> = Vec::new();
        for key in &needs.approvers {
            if let Some(user) = identity.user(key).await?
                && !approvers.iter().any(|a| a.id.same(&user.id))
            {
                approvers.push(user);
            }
        }
        Ok(Facts {
            requester,
            target,
            target_manager,
            group,
            membership,
            target_groups,
            approvers,
        })
    }
}
