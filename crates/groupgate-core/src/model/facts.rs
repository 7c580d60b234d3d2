//! What the evaluator needs from outside, gathered by the engine before each evaluation.

use super::{Group, GroupId, User};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whether the target already is in the resolved group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipState {
    /// Not a member, directly or through nesting.
    #[default]
    NotMember,
    /// A direct member.
    Direct,
    /// A member only through a nested group: has access already, but the
    /// membership is not one groupgate could add or remove.
    Transitive,
}

/// Facts from the directory for one request. `None` means "looked up, not found".
///
/// The engine gathers these for the group the policy resolved (see
/// [`crate::CompiledPolicy::resolve`]); the evaluator never fetches anything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// The requester, if found.
    #[serde(default)]
    pub requester: Option<User>,
    /// The target user, if found.
    #[serde(default)]
    pub target: Option<User>,
    /// The target's manager, if one is set.
    #[serde(default)]
    pub target_manager: Option<User>,
    /// The resolved group as the directory describes it, if found.
    #[serde(default)]
    pub group: Option<Group>,
    /// The target's membership in the resolved group.
    #[serde(default)]
    pub membership: MembershipState,
    /// Object ids of groups the target is in now, among those separation of
    /// duties checks (see [`crate::FactNeeds::separation_partners`]).
    #[serde(default)]
    pub target_groups: Vec<GroupId>,
    /// The people the policy may name as approvers, as the directory knows
    /// them (see [`crate::FactNeeds::approvers`]). A person the policy names
    /// who is missing here is not an eligible approver: approvers are known
    /// by directory object id, never by the name the policy writes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<User>,
    /// The members of directory groups the policy names as approvers (see
    /// [`crate::FactNeeds::approver_groups`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approver_groups: Vec<GroupMembers>,
}

/// The user members of a directory group, as read for one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupMembers {
    /// The group's object id.
    pub group: GroupId,
    /// Whether members of nested groups are included.
    #[serde(default)]
    pub transitive: bool,
    /// The user members read.
    pub members: Vec<User>,
    /// Whether every member was read (`false`: the group has more than the
    /// policy's `max_members`, and only that many were read).
    #[serde(default = "complete")]
    pub complete: bool,
}

fn complete() -> bool {
    true
}

impl Facts {
    /// The directory user the policy's approver `key` (UPN or object id)
    /// names, if the facts hold them.
    pub fn approver(&self, key: &str) -> Option<&User> {
        self.approvers.iter().find(|u| u.is_named_by(key))
    }

    /// The members read of directory group `group`.
    pub fn group_members(&self, group: &GroupId, transitive: bool) -> Option<&GroupMembers> {
        self.approver_groups
            .iter()
            .find(|g| g.group.same(group) && g.transitive == transitive)
    }
}
