//! The directory: users, groups and memberships (Microsoft Graph in production).

use super::PortResult;
use crate::model::{Facts, Group, GroupId, GroupMembers, MembershipState, User, UserId};
use crate::policy::FactNeeds;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What a membership write did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WriteReceipt {
    /// The state already was as asked (already a member / not a member): the
    /// call changed nothing and is still a success.
    pub already: bool,
    /// The service's request ids for the calls made (e.g. Graph `request-id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_ids: Vec<String>,
}

/// What one decision needs from the directory (see
/// [`IdentityProvider::facts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactsQuery {
    /// The requester, as the request names them (UPN or object id).
    pub requester: String,
    /// The target, as the request names them.
    pub target: String,
    /// What the policy needs besides (see [`crate::CompiledPolicy::fact_needs`]).
    pub needs: FactNeeds,
}

/// Users, groups and memberships.
///
/// Guarantees an implementation must give:
/// - lookups return `Ok(None)` for an object that does not exist, not an error;
/// - `add_member` and `remove_member` are idempotent: adding an existing
///   member or removing a non-member succeeds with `already: true`;
/// - `remove_member` removes the membership reference only, never the user;
/// - reads may be stale right after a write (eventual consistency): the engine
///   polls `membership` with a deadline instead of trusting one read;
/// - errors are classified ([`super::ErrorClass`]); throttling is transient
///   and carries the service's `Retry-After`.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// A user by object id or UPN.
    async fn user(&self, key: &str) -> PortResult<Option<User>>;

    /// A user's manager, if one is set.
    async fn manager(&self, user: &UserId) -> PortResult<Option<User>>;

    /// A group's attributes.
    async fn group(&self, group: &GroupId) -> PortResult<Option<Group>>;

    /// Whether `user` is in `group`, directly or through nesting.
    async fn membership(&self, group: &GroupId, user: &UserId) -> PortResult<MembershipState>;

    /// Which of `groups` the user is in (directly or transitively).
    async fn member_of(&self, user: &UserId, groups: &[GroupId]) -> PortResult<Vec<GroupId>>;

    /// Every group `user` is a *direct* member of, read in full (paged where
    /// the provider pages): what offboarding sweeps and verifies against.
    async fn direct_groups(&self, user: &UserId) -> PortResult<Vec<GroupId>>;

    /// The user members of `group` (direct, or also through nested groups),
    /// at most `max` of them (paged); `None` when the group does not exist.
    async fn group_members(
        &self,
        group: &GroupId,
        transitive: bool,
        max: u32,
    ) -> PortResult<Option<GroupMembers>>;

    /// Adds `user` to `group` as a direct member.
    async fn add_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt>;

    /// Removes `user`'s direct membership of `group`.
    async fn remove_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt>;

    /// Everything one decision needs, in as few calls as the provider can
    /// make (Graph: one `$batch`, and a second only to tell a direct from a
    /// nested membership): the requester, the target and their manager, the
    /// resolved group and the target's membership of it, the target's
    /// memberships among the separation-of-duties partners, and the
    /// approvers the policy names (those not found are left out).
    async fn facts(&self, query: &FactsQuery) -> PortResult<Facts> {
        let needs = &query.needs;
        let requester = self.user(&query.requester).await?;
        let target = self.user(&query.target).await?;
        let (target_manager, target_groups) = match &target {
            Some(t) => {
                let manager = self.manager(&t.id).await?;
                let groups = if needs.separation_partners.is_empty() {
                    Vec::new()
                } else {
                    self.member_of(&t.id, &needs.separation_partners).await?
                };
                (manager, groups)
            }
            None => (None, Vec::new()),
        };
        let group = match &needs.group {
            Some(g) => self.group(g).await?,
            None => None,
        };
        let membership = match (&needs.group, &target) {
            (Some(g), Some(t)) => self.membership(g, &t.id).await?,
            _ => MembershipState::NotMember,
        };
        let mut approver_groups: Vec<GroupMembers> = Vec::new();
        for g in &needs.approver_groups {
            if let Some(read) = self
                .group_members(&g.group, g.transitive, g.max_members)
                .await?
            {
                approver_groups.push(read);
            }
        }
        let mut approvers: Vec<User> = Vec::new();
        for key in &needs.approvers {
            if let Some(user) = self.user(key).await?
                && !approvers.iter().any(|a| a.id.same(&user.id))
            {
                approvers.push(user);
            }
        }
        Ok(Facts {
            approver_groups,
            requester,
            target,
            target_manager,
            group,
            membership,
            target_groups,
            approvers,
        })
    }

    /// Removes `user`'s direct memberships of every group in `groups`, in bulk
    /// where the provider can (Graph: JSON batching). One result per group, in
    /// the same order; the outer error means nothing could be attempted.
    async fn remove_memberships(
        &self,
        user: &UserId,
        groups: &[GroupId],
    ) -> PortResult<Vec<PortResult<WriteReceipt>>> {
        let mut out = Vec::with_capacity(groups.len());
        for group in groups {
            out.push(self.remove_member(group, user).await);
        }
        Ok(out)
    }
}
