//! A directory snapshot with indexes, so the fake directory answers every
//! read and write in constant time (or in the size of the answer), however
//! many users and groups it holds: users by lowercased object id and UPN,
//! groups by lowercased object id, direct members per group, direct groups
//! per user, and nested groups per group.

use groupgate_core::{DirectorySnapshot, GroupId, GroupMembers, MembershipState, User};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A snapshot and its indexes, kept in step by every change made through it.
#[derive(Debug, Default)]
pub(crate) struct IndexedDirectory {
    snapshot: DirectorySnapshot,
    users: HashMap<String, usize>,
    groups: HashMap<String, usize>,
    /// Per group: its direct user members.
    direct: Vec<HashSet<usize>>,
    /// Per group: the groups nested in it.
    children: Vec<Vec<usize>>,
    /// Per user: the groups they are a direct member of, in group order.
    member_of: Vec<BTreeSet<usize>>,
}

impl IndexedDirectory {
    pub(crate) fn new(snapshot: DirectorySnapshot) -> Self {
        let mut index = Self {
            snapshot,
            ..Self::default()
        };
        index.rebuild();
        index
    }

    /// Changes the snapshot in any way, then indexes it again (for the rare
    /// changes tests make by hand; groupgate's own writes are incremental).
    pub(crate) fn edit(&mut self, change: impl FnOnce(&mut DirectorySnapshot)) {
        change(&mut self.snapshot);
        self.rebuild();
    }

    fn rebuild(&mut self) {
        self.users.clear();
        for (i, u) in self.snapshot.users.iter().enumerate() {
            // The first user with a key keeps it, as the snapshot's own lookup does.
            self.users.entry(u.id.to_ascii_lowercase()).or_insert(i);
            self.users.entry(u.upn.to_ascii_lowercase()).or_insert(i);
        }
        self.groups.clear();
        for (i, g) in self.snapshot.groups.iter().enumerate() {
            self.groups.entry(g.id.to_ascii_lowercase()).or_insert(i);
        }
        self.direct = vec![HashSet::new(); self.snapshot.groups.len()];
        self.member_of = vec![BTreeSet::new(); self.snapshot.users.len()];
        self.children = vec![Vec::new(); self.snapshot.groups.len()];
        for (gi, g) in self.snapshot.groups.iter().enumerate() {
            for m in &g.members {
                if let Some(&ui) = self.users.get(&m.to_ascii_lowercase()) {
                    self.direct[gi].insert(ui);
                    self.member_of[ui].insert(gi);
                }
            }
            for child in &g.member_groups {
                if let Some(&ci) = self.groups.get(&child.to_ascii_lowercase()) {
                    self.children[gi].push(ci);
                }
            }
        }
    }

    pub(crate) fn user_index(&self, key: &str) -> Option<usize> {
        self.users.get(&key.to_ascii_lowercase()).copied()
    }

    pub(crate) fn group_index(&self, id: &str) -> Option<usize> {
        self.groups.get(&id.to_ascii_lowercase()).copied()
    }

    /// The user with this object id or UPN.
    pub(crate) fn user(&self, key: &str) -> Option<User> {
        let i = self.user_index(key)?;
        self.snapshot.users.get(i).map(|u| u.to_user())
    }

    /// The user's manager, when set and known.
    pub(crate) fn manager(&self, key: &str) -> Option<User> {
        let i = self.user_index(key)?;
        let manager = self.snapshot.users.get(i)?.manager.as_deref()?;
        self.user(manager)
    }

    pub(crate) fn group(&self, id: &str) -> Option<groupgate_core::Group> {
        let i = self.group_index(id)?;
        self.snapshot.groups.get(i).map(|g| g.to_group())
    }

    /// The groups nested in `group` at any depth, each once, `group` first.
    fn nested(&self, group: usize, transitive: bool) -> Vec<usize> {
        let mut out = vec![group];
        if !transitive {
            return out;
        }
        let mut next = 0;
        while next < out.len() {
            let g = out[next];
            next += 1;
            for &c in self.children.get(g).into_iter().flatten() {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// Direct, through nesting, or none.
    pub(crate) fn membership(&self, user: &str, group: &str) -> MembershipState {
        let (Some(u), Some(g)) = (self.user_index(user), self.group_index(group)) else {
            return MembershipState::NotMember;
        };
        if self.direct[g].contains(&u) {
            return MembershipState::Direct;
        }
        if self
            .nested(g, true)
            .iter()
            .skip(1)
            .any(|&c| self.direct[c].contains(&u))
        {
            MembershipState::Transitive
        } else {
            MembershipState::NotMember
        }
    }

    /// The groups the user is a direct member of.
    pub(crate) fn direct_groups(&self, user: &str) -> Vec<GroupId> {
        let Some(u) = self.user_index(user) else {
            return Vec::new();
        };
        self.member_of[u]
            .iter()
            .filter_map(|&g| self.snapshot.groups.get(g))
            .map(|g| GroupId::new(g.id.as_str()))
            .collect()
    }

    /// The user members of `group`, at most `max`.
    pub(crate) fn group_members(
        &self,
        group: &GroupId,
        transitive: bool,
        max: u32,
    ) -> Option<GroupMembers> {
        let g = self.group_index(group)?;
        let mut seen: HashSet<usize> = HashSet::new();
        let mut members: Vec<User> = Vec::new();
        let mut complete = true;
        'groups: for n in self.nested(g, transitive) {
            // In the order the snapshot lists them, so reads are stable.
            for key in &self.snapshot.groups[n].members {
                let Some(u) = self.user_index(key) else {
                    continue;
                };
                if !seen.insert(u) {
                    continue;
                }
                if members.len() >= max as usize {
                    complete = false;
                    break 'groups;
                }
                members.extend(self.snapshot.users.get(u).map(|d| d.to_user()));
            }
        }
        Some(GroupMembers {
            group: group.clone(),
            transitive,
            members,
            complete,
        })
    }

    /// Adds `user` to `group` directly; `false` when either is unknown.
    pub(crate) fn add(&mut self, group: &str, user: &str) -> bool {
        let (Some(u), Some(g)) = (self.user_index(user), self.group_index(group)) else {
            return false;
        };
        if self.direct[g].insert(u) {
            self.member_of[u].insert(g);
            let id = self.snapshot.users[u].id.clone();
            self.snapshot.groups[g].members.push(id);
        }
        true
    }

    /// Removes `user`'s direct membership of `group`; whether there was one.
    pub(crate) fn remove(&mut self, group: &str, user: &str) -> bool {
        let (Some(u), Some(g)) = (self.user_index(user), self.group_index(group)) else {
            return false;
        };
        if !self.direct[g].remove(&u) {
            return false;
        }
        self.member_of[u].remove(&g);
        let (id, upn) = {
            let d = &self.snapshot.users[u];
            (d.id.clone(), d.upn.clone())
        };
        self.snapshot.groups[g]
            .members
            .retain(|m| !m.eq_ignore_ascii_case(&id) && !m.eq_ignore_ascii_case(&upn));
        true
    }
}
