//! What the engine must read from the directory to decide one request,
//! worked out from the policy alone (pure), so fact gathering asks only for
//! what the decision can use.

use super::catalog::Lookup;
use super::compile::{CompiledPolicy, RequestLookup};
use crate::model::{GroupId, Request};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The directory reads a decision about a request needs, besides the
/// requester, the target and the target's manager (always read).
///
/// ```
/// # let policy = groupgate_core::CompiledPolicy::from_yaml_str(r#"
/// # version: 1
/// # groups:
/// #   - {id: G, object_id: oid-g, managed_via_itsm: true, app_owners: [olga@contoso.com],
/// #      approval: [{name: owner, approvers: [app_owner]}]}
/// # catalog:
/// #   - {name: Team Alpha, group: G}
/// # "#, "p").unwrap();
/// let request: groupgate_core::Request = serde_json::from_str(
///     r#"{"ticket":"T1","requester":"a","target":"b","resource":"Team Alpha"}"#).unwrap();
/// let needs = policy.fact_needs(&request);
/// assert_eq!(needs.group.as_deref(), Some("oid-g"));
/// assert_eq!(&*needs.approvers[0], "olga@contoso.com");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FactNeeds {
    /// The resolved group's object id (its attributes and the target's
    /// membership are read), when the request resolves to one group.
    pub group: Option<GroupId>,
    /// Groups whose membership by the target separation of duties checks.
    pub separation_partners: Vec<GroupId>,
    /// People the group's stages may name, by the policy's key (UPN or
    /// object id): each is looked up so approvers are known by object id.
    pub approvers: Vec<Arc<str>>,
    /// Directory groups whose members the stages name as approvers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approver_groups: Vec<ApproverGroupNeed>,
}

/// A directory group whose members are approvers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproverGroupNeed {
    /// The group's object id.
    pub group: GroupId,
    /// Members of nested groups count too.
    pub transitive: bool,
    /// Read at most this many members.
    pub max_members: u32,
}

impl CompiledPolicy {
    /// What to read from the directory to decide `request` (see
    /// [`FactNeeds`]). Costs a catalog look-up; nothing is read.
    pub fn fact_needs(&self, request: &Request) -> FactNeeds {
        let inner = &self.inner;
        let (group, triage) = match inner.lookup_request(request) {
            RequestLookup::Catalog(Lookup::Found { group, .. }) => (inner.groups.get(group), false),
            RequestLookup::Suggested(group) => (inner.groups.get(group), true),
            _ => (None, false),
        };
        match group {
            Some(g) => {
                let mut approvers = g.needs.approvers.clone();
                if triage {
                    approvers.extend(g.needs.triage_approvers.iter().cloned());
                }
                FactNeeds {
                    group: Some(g.object_id.clone()),
                    separation_partners: g.needs.separation_partners.clone(),
                    approvers,
                    approver_groups: g
                        .needs
                        .approver_groups
                        .iter()
                        .map(|d| ApproverGroupNeed {
                            group: d.group.clone(),
                            transitive: d.transitive,
                            max_members: d.max_members,
                        })
                        .collect(),
                }
            }
            None => FactNeeds::default(),
        }
    }
}
