//! Eventual consistency shared by the fake directory and the Graph emulator
//! (`groupgate-emulators`):
//! a membership write reaches reads only after a lag, and adds to some groups
//! can be made never to show.

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::MembershipState;
use std::collections::{HashMap, HashSet};

/// The newest membership write of a (group, user) pair and when reads start
/// to show it: only the newest decides what a read sees.
#[derive(Debug)]
struct Change {
    added: bool,
    visible_at: DateTime<Utc>,
}

/// Writes not yet visible to reads, by lowercased (group, user): O(1) per
/// read and write, however many writes were made.
#[derive(Debug, Default)]
pub struct Replication {
    lag: TimeDelta,
    never_visible: HashSet<String>,
    changes: HashMap<(String, String), Change>,
}

fn pair(group: &str, user: &str) -> (String, String) {
    (group.to_ascii_lowercase(), user.to_ascii_lowercase())
}

impl Replication {
    /// Writes made from now on show after `lag`.
    pub fn set_lag(&mut self, lag: TimeDelta) {
        self.lag = lag;
    }

    /// Adds to `group` made from now on never show.
    pub fn never_visible(&mut self, group: &str) {
        self.never_visible.insert(group.to_ascii_lowercase());
    }

    /// Records an add made at `now`.
    pub fn added(&mut self, group: &str, user: &str, now: DateTime<Utc>) {
        let never = self.never_visible.contains(&group.to_ascii_lowercase());
        let visible_at = if never {
            DateTime::<Utc>::MAX_UTC
        } else {
            now + self.lag
        };
        self.prune(now);
        if self.lag <= TimeDelta::zero() && !never {
            self.changes.remove(&pair(group, user));
            return;
        }
        self.changes.insert(
            pair(group, user),
            Change {
                added: true,
                visible_at,
            },
        );
    }

    /// Records a removal made at `now`; it drops any pending add's
    /// invisibility (what is gone is gone).
    pub fn removed(&mut self, group: &str, user: &str, now: DateTime<Utc>) {
        self.prune(now);
        if self.lag <= TimeDelta::zero() {
            self.changes.remove(&pair(group, user));
            return;
        }
        self.changes.insert(
            pair(group, user),
            Change {
                added: false,
                visible_at: now + self.lag,
            },
        );
    }

    /// The groups `user` was removed from whose removal reads do not show
    /// yet at `now` (lowercased ids).
    pub fn pending_removals(&self, user: &str, now: DateTime<Utc>) -> Vec<String> {
        self.changes
            .iter()
            .filter(|((_, u), c)| !c.added && c.visible_at > now && u.eq_ignore_ascii_case(user))
            .map(|((g, _), _)| g.clone())
            .collect()
    }

    /// Forgets writes every read shows by now, so the map holds only what
    /// is still replicating.
    fn prune(&mut self, now: DateTime<Utc>) {
        if self.changes.len() > 1024 {
            self.changes.retain(|_, c| c.visible_at > now);
        }
    }

    /// What a read at `now` shows, given the true membership: the newest
    /// write not yet visible decides.
    pub fn visible(
        &self,
        truth: MembershipState,
        group: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> MembershipState {
        if self.changes.is_empty() {
            return truth;
        }
        let stale = self
            .changes
            .get(&pair(group, user))
            .filter(|c| c.visible_at > now);
        match stale {
            Some(c) if c.added => MembershipState::NotMember,
            Some(_) => MembershipState::Direct,
            None => truth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_show_after_the_lag_and_never_visible_adds_never_do() {
        let t0: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
        let mut r = Replication::default();
        r.set_lag(TimeDelta::seconds(30));
        r.added("G1", "u1", t0);
        let direct = MembershipState::Direct;
        assert_eq!(
            r.visible(direct, "g1", "U1", t0),
            MembershipState::NotMember
        );
        assert_eq!(
            r.visible(direct, "G1", "u1", t0 + TimeDelta::seconds(30)),
            direct
        );
        r.never_visible("G2");
        r.added("G2", "u1", t0);
        let later = t0 + TimeDelta::days(365);
        assert_eq!(
            r.visible(direct, "G2", "u1", later),
            MembershipState::NotMember
        );
        // A removal ends the invisibility and is itself lagged.
        r.removed("G2", "u1", later);
        let gone = MembershipState::NotMember;
        assert_eq!(r.visible(gone, "G2", "u1", later), direct);
        assert_eq!(
            r.visible(gone, "G2", "u1", later + TimeDelta::seconds(30)),
            gone
        );
    }
}
