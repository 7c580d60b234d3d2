//! A directory snapshot: users, groups and memberships as plain data, and the
//! pure derivation of [`Facts`] for a request from it.
//!
//! Used by `groupgate check`, policy tests, conformance vectors and the
//! simulated world. The engine gathers the same facts from a live directory.

use crate::model::{
    Facts, Group, GroupId, GroupMembers, MembershipState, Request, User, UserId, UserType,
};
use crate::policy::FactNeeds;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A user in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryUser {
    /// Object id.
    pub id: String,
    /// User principal name.
    pub upn: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Account enabled. Default `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Member or guest. Default `Member`.
    #[serde(default = "member")]
    pub user_type: UserType,
    /// Employee type, e.g. `Contractor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_type: Option<String>,
    /// The manager's object id or UPN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
}

/// A group in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryGroup {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Default `true`.
    #[serde(default = "yes")]
    pub security_enabled: bool,
    /// Default `false`.
    #[serde(default)]
    pub mail_enabled: bool,
    /// Microsoft 365 group.
    #[serde(default)]
    pub unified: bool,
    /// Dynamic membership.
    #[serde(default)]
    pub dynamic_membership: bool,
    /// Synced from on-premises AD.
    #[serde(default)]
    pub on_premises_synced: bool,
    /// Role-assignable.
    #[serde(default)]
    pub role_assignable: bool,
    /// Direct user members (object ids or UPNs).
    #[serde(default)]
    pub members: Vec<String>,
    /// Nested groups (object ids) whose members are transitive members.
    #[serde(default)]
    pub member_groups: Vec<String>,
}

fn yes() -> bool {
    true
}

fn member() -> UserType {
    UserType::Member
}

/// Users and groups as plain data.
///
/// ```
/// use groupgate_core::{DirectorySnapshot, MembershipState, Request};
/// let dir: DirectorySnapshot = serde_json::from_str(r#"{
///   "users": [
///     {"id": "u1", "upn": "ada@contoso.com", "manager": "grace@contoso.com"},
///     {"id": "u2", "upn": "grace@contoso.com"}
///   ],
///   "groups": [{"id": "g1", "display_name": "Team Alpha", "members": ["ada@contoso.com"]}]
/// }"#).unwrap();
/// let request: Request = serde_json::from_str(r#"{"ticket":"T1","requester":"grace@contoso.com",
///     "target":"ada@contoso.com","resource":"Team Alpha"}"#).unwrap();
/// let needs = groupgate_core::FactNeeds { group: Some("g1".into()), ..Default::default() };
/// let facts = dir.facts_for(&request, &needs);
/// assert_eq!(facts.membership, MembershipState::Direct);
/// assert_eq!(&*facts.target_manager.unwrap().upn, "grace@contoso.com");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectorySnapshot {
    /// Users.
    #[serde(default)]
    pub users: Vec<DirectoryUser>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<DirectoryGroup>,
}

impl DirectorySnapshot {
    /// The user with this object id or UPN (case-insensitive).
    pub fn user(&self, key: &str) -> Option<User> {
        self.find_user(key).map(to_user)
    }

    /// The stored entry of the user with this object id or UPN (case-insensitive).
    pub fn find_user(&self, key: &str) -> Option<&DirectoryUser> {
        self.users
            .iter()
            .find(|u| u.id.eq_ignore_ascii_case(key) || u.upn.eq_ignore_ascii_case(key))
    }

    /// The group with this object id (case-insensitive).
    pub fn group(&self, id: &str) -> Option<Group> {
        self.find_group(id).map(to_group)
    }

    /// The stored entry of the group with this object id (case-insensitive).
    pub fn find_group(&self, id: &str) -> Option<&DirectoryGroup> {
        self.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// The stored entry of the group with this object id, to change it (for
    /// fakes and emulators that keep a snapshot as their state).
    pub fn find_group_mut(&mut self, id: &str) -> Option<&mut DirectoryGroup> {
        self.groups
            .iter_mut()
            .find(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// The user's membership in the group: direct, through nesting, or none.
    pub fn membership(&self, user: &str, group_id: &str) -> MembershipState {
        let Some(u) = self.find_user(user) else {
            return MembershipState::NotMember;
        };
        let Some(g) = self.find_group(group_id) else {
            return MembershipState::NotMember;
        };
        if is_direct(u, g) {
            return MembershipState::Direct;
        }
        let mut seen: Vec<&str> = vec![g.id.as_str()];
        let mut queue: Vec<&str> = g.member_groups.iter().map(String::as_str).collect();
        while let Some(next) = queue.pop() {
            if seen.iter().any(|s| s.eq_ignore_ascii_case(next)) {
                continue;
            }
            seen.push(next);
            if let Some(nested) = self.find_group(next) {
                if is_direct(u, nested) {
                    return MembershipState::Transitive;
                }
                queue.extend(nested.member_groups.iter().map(String::as_str));
            }
        }
        MembershipState::NotMember
    }

    /// The groups whose direct members are members of `group`: the group
    /// itself, then (when `transitive`) every group nested in it at any
    /// depth, each once (nesting cycles are cut). Empty when there is no such
    /// group.
    pub fn nested_groups(&self, group: &str, transitive: bool) -> Vec<&DirectoryGroup> {
        let Some(root) = self.find_group(group) else {
            return Vec::new();
        };
        let mut out: Vec<&DirectoryGroup> = vec![root];
        if !transitive {
            return out;
        }
        let mut next = 0;
        while next < out.len() {
            let g = out[next];
            next += 1;
            for id in &g.member_groups {
                if let Some(nested) = self.find_group(id)
                    && !out
                        .iter()
                        .any(|seen| seen.id.eq_ignore_ascii_case(&nested.id))
                {
                    out.push(nested);
                }
            }
        }
        out
    }

    /// The user members of a group (direct, or also through nested groups),
    /// each once, at most `max` of them; `None` when the snapshot has no such
    /// group.
    pub fn group_members(
        &self,
        group: &GroupId,
        transitive: bool,
        max: u32,
    ) -> Option<GroupMembers> {
        self.find_group(group)?;
        let mut members: Vec<User> = Vec::new();
        let mut complete = true;
        'groups: for g in self.nested_groups(group, transitive) {
            for key in &g.members {
                let Some(u) = self.find_user(key) else {
                    continue;
                };
                if members
                    .iter()
                    .any(|m| m.id.as_str().eq_ignore_ascii_case(&u.id))
                {
                    continue;
                }
                if members.len() >= max as usize {
                    complete = false;
                    break 'groups;
                }
                members.push(to_user(u));
            }
        }
        Some(GroupMembers {
            group: group.clone(),
            transitive,
            members,
            complete,
        })
    }

    /// The facts for `request`: the people, the group and memberships that
    /// `needs` names (from [`crate::CompiledPolicy::fact_needs`]), as the
    /// engine gathers them from a live directory.
    pub fn facts_for(&self, request: &Request, needs: &FactNeeds) -> Facts {
        let target = self.find_user(&request.target);
        let target_manager = target
            .and_then(|t| t.manager.as_deref())
            .and_then(|m| self.find_user(m))
            .map(to_user);
        let target_groups = match target {
            Some(t) => needs
                .separation_partners
                .iter()
                .filter(|g| self.membership(&t.id, g) != MembershipState::NotMember)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let mut approvers: Vec<User> = Vec::new();
        for key in &needs.approvers {
            if let Some(u) = self.find_user(key)
                && !approvers.iter().any(|a| a.id.as_str() == u.id)
            {
                approvers.push(to_user(u));
            }
        }
        let approver_groups = needs
            .approver_groups
            .iter()
            .filter_map(|g| self.group_members(&g.group, g.transitive, g.max_members))
            .collect();
        Facts {
            approver_groups,
            requester: self.user(&request.requester),
            target: target.map(to_user),
            target_manager,
            group: needs.group.as_deref().and_then(|g| self.group(g)),
            membership: match &needs.group {
                Some(g) => self.membership(&request.target, g),
                None => MembershipState::NotMember,
            },
            target_groups,
            approvers,
        }
    }
}

fn is_direct(u: &DirectoryUser, g: &DirectoryGroup) -> bool {
    g.members
        .iter()
        .any(|m| m.eq_ignore_ascii_case(&u.id) || m.eq_ignore_ascii_case(&u.upn))
}

impl DirectoryUser {
    /// The user as facts carry it.
    pub fn to_user(&self) -> User {
        to_user(self)
    }
}

impl DirectoryGroup {
    /// The group as facts carry it.
    pub fn to_group(&self) -> Group {
        to_group(self)
    }
}

fn to_user(u: &DirectoryUser) -> User {
    User {
        id: UserId::new(u.id.clone()),
        upn: Arc::from(u.upn.as_str()),
        display_name: u.display_name.as_deref().map(Arc::from),
        enabled: u.enabled,
        user_type: u.user_type,
        employee_type: u.employee_type.as_deref().map(Arc::from),
    }
}

fn to_group(g: &DirectoryGroup) -> Group {
    Group {
        id: GroupId::new(g.id.clone()),
        display_name: g.display_name.clone(),
        security_enabled: g.security_enabled,
        mail_enabled: g.mail_enabled,
        unified: g.unified,
        dynamic_membership: g.dynamic_membership,
        on_premises_synced: g.on_premises_synced,
        role_assignable: g.role_assignable,
    }
}
