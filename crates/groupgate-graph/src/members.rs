//! The user members of a group (`members` or `transitiveMembers`), paged and
//! bounded: what a policy's directory approver groups are read from.

use crate::client::{GraphClient, USER_FIELDS, page_items};
use crate::errors::Operation;
use crate::paths::group_path;
use groupgate_core::ports::PortResult;
use groupgate_core::{GroupId, GroupMembers};
use reqwest::Method;
use serde_json::Value;
use std::ops::ControlFlow;

/// The first page's path. No OData cast (`/microsoft.graph.user`): Graph
/// answers casts on members only as an advanced query, from an index that
/// lags; the members are filtered by `@odata.type` instead.
pub(crate) fn members_path(group: &GroupId, transitive: bool) -> String {
    let relation = if transitive {
        "transitiveMembers"
    } else {
        "members"
    };
    format!(
        "{}/{relation}?$select={USER_FIELDS}&$top=999",
        group_path(group)
    )
}

/// Members being read: users kept, other directory objects (nested groups,
/// devices, service principals) skipped, each user once, at most `max`.
#[derive(Debug)]
pub(crate) struct MembersRead {
    read: GroupMembers,
    max: usize,
}

impl MembersRead {
    pub(crate) fn new(group: &GroupId, transitive: bool, max: u32) -> Self {
        Self {
            read: GroupMembers {
                group: group.clone(),
                transitive,
                members: Vec::new(),
                complete: true,
            },
            max: max as usize,
        }
    }

    /// Takes one item; `Break` once more than `max` users were seen.
    pub(crate) fn take(&mut self, item: &Value) -> ControlFlow<()> {
        let is_user = item
            .get("@odata.type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("#microsoft.graph.user"));
        if !is_user {
            return ControlFlow::Continue(());
        }
        let Ok(user) = GraphClient::user_from(item) else {
            return ControlFlow::Continue(());
        };
        if self.read.members.iter().any(|m| m.id.same(&user.id)) {
            return ControlFlow::Continue(());
        }
        if self.read.members.len() >= self.max {
            self.read.complete = false;
            return ControlFlow::Break(());
        }
        self.read.members.push(user);
        ControlFlow::Continue(())
    }

    /// Takes every item of a page; `Break` once the bound is reached.
    pub(crate) fn take_page(&mut self, page: &Value) -> ControlFlow<()> {
        page_items(page).try_for_each(|item| self.take(item))
    }

    pub(crate) fn finish(self) -> GroupMembers {
        self.read
    }
}

impl GraphClient {
    /// Reads the members of `group` from its first page on.
    pub(crate) async fn read_group_members(
        &self,
        group: &GroupId,
        transitive: bool,
        max: u32,
    ) -> PortResult<Option<GroupMembers>> {
        let answer = self
            .call(Method::GET, &members_path(group, transitive), None, false)
            .await?;
        match answer.status {
            200 => {}
            404 => return Ok(None),
            _ => return Err(answer.fail(Operation::ReadMembership)),
        }
        let mut read = MembersRead::new(group, transitive, max);
        self.continue_members(&mut read, &answer.json()?).await?;
        Ok(Some(read.finish()))
    }

    /// Takes `first_page` into `read` and follows its `@odata.nextLink`s
    /// until the bound is reached or the collection ends.
    pub(crate) async fn continue_members(
        &self,
        read: &mut MembersRead,
        first_page: &Value,
    ) -> PortResult<()> {
        if read.take_page(first_page).is_break() {
            return Ok(());
        }
        let Some(next) = self.next_link(first_page)? else {
            return Ok(());
        };
        self.each_page(&next, Operation::ReadMembership, |item| read.take(item))
            .await
    }
}
