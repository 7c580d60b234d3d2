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
    /// Object ids of groups the target is in now (for separation of duties).
    #[serde(default)]
    pub target_groups: Vec<GroupId>,
}
