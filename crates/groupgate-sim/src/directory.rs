//! A stateful fake directory: users, groups, memberships, and the eventual
//! consistency of a real one (reads after a write may lag).

use crate::index::IndexedDirectory;
use crate::replication::Replication;
use crate::{Faults, SimClock};
use async_trait::async_trait;
use chrono::TimeDelta;
use groupgate_core::ports::{Clock, IdentityProvider, PortError, PortResult, WriteReceipt};
use groupgate_core::{
    DirectorySnapshot, Group, GroupId, GroupMembers, MembershipState, User, UserId,
};
use std::sync::Mutex;

#[derive(Debug)]
struct State {
    dir: IndexedDirectory,
    replication: Replication,
    requests: u64,
    writes: Vec<String>,
}

/// A fake directory seeded from a [`DirectorySnapshot`].
#[derive(Debug)]
pub struct FakeDirectory {
    state: Mutex<State>,
    clock: SimClock,
    faults: Faults,
}

fn lock_error() -> PortError {
    PortError::permanent("fake directory state is poisoned")
}

impl FakeDirectory {
    /// A directory holding `snapshot`, with reads as fresh as writes.
    pub fn new(snapshot: DirectorySnapshot, clock: SimClock) -> Self {
        Self {
            state: Mutex::new(State {
                dir: IndexedDirectory::new(snapshot),
                replication: Replication::default(),
                requests: 0,
                writes: Vec::new(),
            }),
            clock,
            faults: Faults::default(),
        }
    }

    /// Scripted failures of this directory's operations (`user`, `manager`,
    /// `group`, `membership`, `member_of`, `direct_groups`, `group_members`,
    /// `add_member`, `remove_member`).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Membership writes become visible to reads only after `lag`.
    pub fn set_replication_lag(&self, lag: TimeDelta) {
        if let Ok(mut s) = self.state.lock() {
            s.replication.set_lag(lag);
        }
    }

    /// Adds to this group made from now on never become visible to reads.
    pub fn never_visible(&self, group: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.replication.never_visible(group);
        }
    }

    /// Disables (or re-enables) a user's account.
    pub fn set_enabled(&self, user: &str, enabled: bool) {
        if let Ok(mut s) = self.state.lock() {
            s.dir.edit(|snapshot| {
                if let Some(u) = snapshot
                    .users
                    .iter_mut()
                    .find(|u| u.id.eq_ignore_ascii_case(user) || u.upn.eq_ignore_ascii_case(user))
                {
                    u.enabled = enabled;
                }
            });
        }
    }

    /// Re-points `upn` to a new directory object `new_id` (the old object
    /// keeps its memberships under its id): what an administrator renaming
    /// one account and reusing the UPN for another does.
    pub fn repoint(&self, upn: &str, new_id: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.dir.edit(|snapshot| {
                let Some(u) = snapshot
                    .users
                    .iter_mut()
                    .find(|u| u.upn.eq_ignore_ascii_case(upn))
                else {
                    return;
                };
                let old = std::mem::replace(&mut u.id, new_id.to_owned());
                let mut moved = u.clone();
                moved.id = old.clone();
                moved.upn = format!("former-{}", moved.upn);
                snapshot.users.push(moved);
                // Memberships listed by UPN belonged to the old object.
                for g in &mut snapshot.groups {
                    for m in &mut g.members {
                        if m.eq_ignore_ascii_case(upn) {
                            *m = old.clone();
                        }
                    }
                }
            });
        }
    }

    /// Sets (or clears) a user's manager.
    pub fn set_manager(&self, user: &str, manager: Option<&str>) {
        if let Ok(mut s) = self.state.lock() {
            s.dir.edit(|snapshot| {
                if let Some(u) = snapshot
                    .users
                    .iter_mut()
                    .find(|u| u.id.eq_ignore_ascii_case(user) || u.upn.eq_ignore_ascii_case(user))
                {
                    u.manager = manager.map(str::to_owned);
                }
            });
        }
    }

    /// Adds a direct membership outside groupgate (by hand, another tool).
    pub fn add_by_hand(&self, group: &str, user: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.dir.add(group, user);
        }
    }

    /// Removes a direct membership outside groupgate (by hand, another tool).
    pub fn remove_by_hand(&self, group: &str, user: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.dir.remove(group, user);
        }
    }

    /// The true direct membership, ignoring replication lag.
    pub fn is_direct_member(&self, group: &str, user: &str) -> bool {
        self.state
            .lock()
            .map(|s| s.dir.membership(user, group) == MembershipState::Direct)
            .unwrap_or(false)
    }

    /// Every membership write made, as `add <group> <user>` / `remove <group> <user>`.
    pub fn writes(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.writes.clone())
            .unwrap_or_default()
    }

    fn request_id(state: &mut State) -> String {
        state.requests += 1;
        format!("fake-req-{:04}", state.requests)
    }
}

#[async_trait]
impl IdentityProvider for FakeDirectory {
    async fn user(&self, key: &str) -> PortResult<Option<User>> {
        self.faults.check("user")?;
        Ok(self.state.lock().map_err(|_| lock_error())?.dir.user(key))
    }

    async fn manager(&self, user: &UserId) -> PortResult<Option<User>> {
        self.faults.check("manager")?;
        Ok(self
            .state
            .lock()
            .map_err(|_| lock_error())?
            .dir
            .manager(user))
    }

    async fn group(&self, group: &GroupId) -> PortResult<Option<Group>> {
        self.faults.check("group")?;
        Ok(self
            .state
            .lock()
            .map_err(|_| lock_error())?
            .dir
            .group(group))
    }

    async fn membership(&self, group: &GroupId, user: &UserId) -> PortResult<MembershipState> {
        self.faults.check("membership")?;
        let now = self.clock.now();
        let s = self.state.lock().map_err(|_| lock_error())?;
        let truth = s.dir.membership(user, group);
        Ok(s.replication.visible(truth, group, user, now))
    }

    async fn member_of(&self, user: &UserId, groups: &[GroupId]) -> PortResult<Vec<GroupId>> {
        self.faults.check("member_of")?;
        let s = self.state.lock().map_err(|_| lock_error())?;
        Ok(groups
            .iter()
            .filter(|g| s.dir.membership(user, g) != MembershipState::NotMember)
            .cloned()
            .collect())
    }

    async fn direct_groups(&self, user: &UserId) -> PortResult<Vec<GroupId>> {
        self.faults.check("direct_groups")?;
        let now = self.clock.now();
        let s = self.state.lock().map_err(|_| lock_error())?;
        // Groups the user was just removed from still show while the removal
        // replicates; groups just added to do not show yet.
        let mut groups = s.dir.direct_groups(user);
        groups.retain(|g| {
            s.replication.visible(MembershipState::Direct, g, user, now) == MembershipState::Direct
        });
        for pending in s.replication.pending_removals(user, now) {
            if !groups
                .iter()
                .any(|g| g.as_str().eq_ignore_ascii_case(&pending))
                && s.dir.group_index(&pending).is_some()
            {
                groups.push(GroupId::new(pending));
            }
        }
        Ok(groups)
    }

    async fn group_members(
        &self,
        group: &GroupId,
        transitive: bool,
        max: u32,
    ) -> PortResult<Option<GroupMembers>> {
        self.faults.check("group_members")?;
        let s = self.state.lock().map_err(|_| lock_error())?;
        Ok(s.dir.group_members(group, transitive, max))
    }

    async fn add_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt> {
        self.faults.check("add_member")?;
        let now = self.clock.now();
        let mut s = self.state.lock().map_err(|_| lock_error())?;
        let request_id = Self::request_id(&mut s);
        if s.dir.user_index(user).is_none() {
            return Err(
                PortError::not_found(format!("Resource '{user}' does not exist"))
                    .with_correlation(request_id),
            );
        }
        if s.dir.group_index(group).is_none() {
            return Err(
                PortError::not_found(format!("Resource '{group}' does not exist"))
                    .with_correlation(request_id),
            );
        }
        if s.dir.membership(user, group) == MembershipState::Direct {
            return Ok(WriteReceipt {
                already: true,
                request_ids: vec![request_id],
            });
        }
        s.dir.add(group, user);
        s.replication.added(group, user, now);
        s.writes.push(format!("add {group} {user}"));
        Ok(WriteReceipt {
            already: false,
            request_ids: vec![request_id],
        })
    }

    async fn remove_member(&self, group: &GroupId, user: &UserId) -> PortResult<WriteReceipt> {
        self.faults.check("remove_member")?;
        let now = self.clock.now();
        let mut s = self.state.lock().map_err(|_| lock_error())?;
        let request_id = Self::request_id(&mut s);
        if s.dir.group_index(group).is_none() {
            return Err(
                PortError::not_found(format!("Resource '{group}' does not exist"))
                    .with_correlation(request_id),
            );
        }
        if !s.dir.remove(group, user) {
            return Ok(WriteReceipt {
                already: true,
                request_ids: vec![request_id],
            });
        }
        s.replication.removed(group, user, now);
        s.writes.push(format!("remove {group} {user}"));
        Ok(WriteReceipt {
            already: false,
            request_ids: vec![request_id],
        })
    }
}
