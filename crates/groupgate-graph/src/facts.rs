//! A decision's facts in one `$batch`: the requester, the target, their
//! manager, the group, the target's (transitive) memberships of the group and
//! its separation-of-duties partners, the approvers and the first page of
//! each directory approver group (later pages follow). Only when the target
//! turns out to be in the group does a second call tell a direct membership
//! from a nested one.

use crate::client::{
    Answer, BatchItem, GROUP_FIELDS, GraphClient, USER_FIELDS, group_from, manager_from,
    matched_groups,
};
use crate::errors::Operation;
use crate::members::{MembersRead, members_path};
use crate::paths::{group_path, user_path};
use groupgate_core::ports::{FactsQuery, PortError, PortResult};
use groupgate_core::{Facts, GroupId, MembershipState, User};
use reqwest::Method;
use serde_json::{Value, json};

/// Which read an item of the batch is.
#[derive(Debug, Clone)]
enum Read {
    Requester,
    Target,
    Manager,
    Group(GroupId),
    MemberGroups(Vec<GroupId>),
    Approver,
    ApproverGroup(usize),
}

/// The more urgent of two failures: a transient one is retried as a whole.
fn worse(kept: Option<PortError>, new: PortError) -> Option<PortError> {
    match kept {
        Some(k) if k.class.is_transient() => Some(k),
        _ => Some(new),
    }
}

impl GraphClient {
    pub(crate) async fn gather_facts(&self, query: &FactsQuery) -> PortResult<Facts> {
        let needs = &query.needs;
        let user_url = |key: &str| format!("{}?$select={USER_FIELDS}", user_path(key));
        let mut reads: Vec<Read> = vec![Read::Requester, Read::Target, Read::Manager];
        let mut items = vec![
            BatchItem::get(user_url(&query.requester)),
            BatchItem::get(user_url(&query.target)),
            BatchItem::get(format!(
                "{}/manager?$select={USER_FIELDS}",
                user_path(&query.target)
            )),
        ];
        if let Some(g) = &needs.group {
            reads.push(Read::Group(g.clone()));
            items.push(BatchItem::get(format!(
                "{}?$select={GROUP_FIELDS}",
                group_path(g)
            )));
        }
        let checked: Vec<GroupId> = needs
            .group
            .iter()
            .chain(&needs.separation_partners)
            .cloned()
            .collect();
        for chunk in checked.chunks(20) {
            reads.push(Read::MemberGroups(chunk.to_vec()));
            items.push(BatchItem {
                method: Method::POST,
                url: format!("{}/checkMemberGroups", user_path(&query.target)),
                body: Some(
                    json!({ "groupIds": chunk.iter().map(|g| g.as_str()).collect::<Vec<_>>() }),
                ),
                eventual: false,
            });
        }
        for key in &needs.approvers {
            reads.push(Read::Approver);
            items.push(BatchItem::get(user_url(key)));
        }
        for (i, g) in needs.approver_groups.iter().enumerate() {
            reads.push(Read::ApproverGroup(i));
            items.push(BatchItem::get(members_path(&g.group, g.transitive)));
        }
        let answers = self.batch(items).await?;
        let mut facts = Facts::default();
        let mut member_of: Vec<GroupId> = Vec::new();
        // First pages of approver groups, to be followed after the batch.
        let mut member_pages: Vec<(usize, Value)> = Vec::new();
        let mut failure: Option<PortError> = None;
        for (read, answer) in reads.into_iter().zip(answers) {
            let answer: Answer = match answer {
                Ok(a) => a,
                Err(e) => {
                    failure = worse(failure, e);
                    continue;
                }
            };
            let outcome = match read {
                Read::ApproverGroup(i) => Self::first_members_page(&answer)
                    .map(|page| member_pages.extend(page.map(|p| (i, p)))),
                _ => Self::take(&read, &answer, &mut facts, &mut member_of),
            };
            if let Err(e) = outcome {
                failure = worse(failure, e);
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        for (i, page) in member_pages {
            let need = &needs.approver_groups[i];
            let mut read = MembersRead::new(&need.group, need.transitive, need.max_members);
            self.continue_members(&mut read, &page).await?;
            facts.approver_groups.push(read.finish());
        }
        if let Some(target) = &facts.target {
            facts.target_groups = needs
                .separation_partners
                .iter()
                .filter(|p| member_of.iter().any(|m| m.same(p)))
                .cloned()
                .collect();
            if let Some(g) = &needs.group
                && member_of.iter().any(|m| m.same(g))
            {
                facts.membership = if self.direct_member(g, &target.id).await? {
                    MembershipState::Direct
                } else {
                    MembershipState::Transitive
                };
            }
        }
        Ok(facts)
    }

    /// The first page of an approver group's members; `None` when the group
    /// does not exist.
    fn first_members_page(answer: &Answer) -> PortResult<Option<Value>> {
        match answer.status {
            200 => answer.json().map(Some),
            404 => Ok(None),
            _ => Err(answer.fail(Operation::ReadMembership)),
        }
    }

    /// Takes one batch answer into `facts`.
    fn take(
        read: &Read,
        answer: &Answer,
        facts: &mut Facts,
        member_of: &mut Vec<GroupId>,
    ) -> PortResult<()> {
        let found = match answer.status {
            200 => true,
            // Not found: the user, the manager or the group does not exist
            // (a missing target also answers 404 to checkMemberGroups).
            404 => false,
            _ => {
                let op = match read {
                    Read::Group(_) => Operation::ReadGroup,
                    Read::MemberGroups(_) => Operation::ReadMembership,
                    _ => Operation::ReadUser,
                };
                return Err(answer.fail(op));
            }
        };
        if !found {
            return Ok(());
        }
        let value = answer.json()?;
        match read {
            Read::Requester => facts.requester = Some(Self::user_from(&value)?),
            Read::Target => facts.target = Some(Self::user_from(&value)?),
            Read::Manager => facts.target_manager = manager_from(&value)?,
            Read::Group(g) => facts.group = Some(group_from(&value, g)),
            Read::MemberGroups(asked) => member_of.extend(matched_groups(&value, asked)),
            Read::ApproverGroup(_) => {}
            Read::Approver => {
                let user: User = Self::user_from(&value)?;
                if !facts.approvers.iter().any(|a| a.id.same(&user.id)) {
                    facts.approvers.push(user);
                }
            }
        }
        Ok(())
    }
}
