//! A short-lived cache of directory approver groups' members, so a burst of
//! decisions naming the same security team reads it once. Entries live for
//! a configurable time (60 s by default; zero turns the cache off) on the
//! engine's clock, and the cache holds a bounded number of groups.

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::policy::ApproverGroupNeed;
use groupgate_core::{GroupId, GroupMembers};
use std::collections::HashMap;
use std::sync::Mutex;

/// At most this many group reads are kept.
const CAPACITY: usize = 1024;

type Key = (String, bool, u32);

fn key(need: &ApproverGroupNeed) -> Key {
    (
        need.group.as_str().to_ascii_lowercase(),
        need.transitive,
        need.max_members,
    )
}

/// Member reads by group, direct or transitive, and bound.
#[derive(Debug)]
pub(crate) struct MemberCache {
    ttl: TimeDelta,
    entries: Mutex<HashMap<Key, (DateTime<Utc>, GroupMembers)>>,
}

impl MemberCache {
    pub(crate) fn new(ttl: TimeDelta) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The read of `need`, when one younger than the time to live is kept.
    pub(crate) fn get(&self, need: &ApproverGroupNeed, now: DateTime<Utc>) -> Option<GroupMembers> {
        if self.ttl <= TimeDelta::zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let (at, read) = entries.get(&key(need))?;
        (now >= *at && now - *at < self.ttl).then(|| read.clone())
    }

    /// Keeps `read`, made at `now` for `need`.
    pub(crate) fn put(&self, need: &ApproverGroupNeed, read: &GroupMembers, now: DateTime<Utc>) {
        if self.ttl <= TimeDelta::zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                let ttl = self.ttl;
                entries.retain(|_, (at, _)| now >= *at && now - *at < ttl);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(key(need), (now, read.clone()));
        }
    }

    /// Forgets every read of `group` (after groupgate itself changed it).
    pub(crate) fn forget(&self, group: &GroupId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|(g, _, _), _| !g.eq_ignore_ascii_case(group.as_str()));
        }
    }
}
