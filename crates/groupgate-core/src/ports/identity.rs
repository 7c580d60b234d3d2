//! The directory: users, groups and memberships (Microsoft Graph in production).

use super::PortResult;
use crate::model::{Group, GroupId, MembershipState, User, UserId};
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

    /// Adds `user` to `group` as a direct member.
    async fn add_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt>;

    /// Removes `user`'s direct membership of `group`.
    async fn remove_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt>;

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
