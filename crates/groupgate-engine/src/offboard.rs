//! Offboarding: every governed membership of a user ends at once, whatever
//! phase its workflow is in, and memberships no workflow knows about are
//! found in the directory, removed and reported as drift.

use crate::report::{FailedRemoval, Removal};
use crate::state::Loaded;
use crate::{Engine, EngineError, OffboardReport, PassReport};
use groupgate_core::audit::{Actor, Entry};
use groupgate_core::ports::{PortError, PortResult, WorkflowFilter, WriteReceipt};
use groupgate_core::workflow::{Action, Event, Phase};
use groupgate_core::{GroupId, MembershipState, UserId, WorkflowId};
use std::collections::BTreeSet;

/// A removal to make in the bulk call: for a workflow (its pending
/// `remove_member` command) or for drift.
struct Planned {
    group: GroupId,
    workflow: Option<(usize, String)>,
}

impl Engine {
    /// Offboards `user` (UPN or object id): the user is resolved through the
    /// directory to an object id; every workflow of theirs that has not
    /// ended is ended (one waiting for approvals, a window or its re-check
    /// is cancelled, with the ticket and approvers told; one that holds or
    /// is adding the membership has it removed, an add in flight as soon as
    /// it settles); then the policy's governed groups are swept for direct
    /// memberships no workflow accounts for, which are removed too and
    /// reported as drift. Every removal goes through one bulk call and is
    /// verified with one read of the user's direct memberships.
    pub async fn offboard(
        &self,
        user: &str,
        operator: &str,
    ) -> Result<OffboardReport, EngineError> {
        let identity = &self.ports.identity;
        let id = match identity.user(user).await.map_err(EngineError::Directory)? {
            Some(u) => u.id,
            None if groupgate_core::is_object_id(user) => UserId::new(user),
            None => return Err(EngineError::UnknownUser(user.to_owned())),
        };
        let mut report = OffboardReport {
            user: Some(id.clone()),
            ..OffboardReport::default()
        };
        let filter = WorkflowFilter {
            target: Some(id.clone()),
            open: Some(true),
            ..WorkflowFilter::default()
        };
        let rows = self.summaries(&filter).await?;
        // Held in id order (the index's order), so two offboardings never
        // wait on each other crosswise.
        let mut held = Vec::new();
        let mut loaded: Vec<Loaded> = Vec::new();
        let mut pass = PassReport::default();
        for row in rows {
            held.push(self.locks.hold(&row.id).await);
            let outcome = self.offboard_one(&row.id, operator).await;
            match outcome {
                Ok(Some(l)) => loaded.push(l),
                Ok(None) => {}
                Err(EngineError::Store(e)) => return Err(EngineError::Store(e)),
                Err(e) => self.isolate(&mut pass, &row.id, "offboard", e).await?,
            }
        }
        report.failures = pass.failures;

        // What the directory says the user holds now, directly. When it
        // cannot be read, the workflows' removals go ahead and the sweep is
        // reported as not done (offboarding again completes it).
        let holds: BTreeSet<String> = match identity.direct_groups(&id).await {
            Ok(groups) => groups.iter().map(|g| g.to_ascii_lowercase()).collect(),
            // A deleted user is in no group any more (the directory removes
            // a deleted user's memberships): nothing to sweep.
            Err(e) if e.class == groupgate_core::ports::ErrorClass::NotFound => BTreeSet::new(),
            Err(e) => {
                report.incomplete.push(format!(
                    "the directory could not list the user's memberships ({e}); memberships outside groupgate were not swept: offboard again to complete"
                ));
                BTreeSet::new()
            }
        };
        let mut planned: Vec<Planned> = Vec::new();
        let mut accounted: BTreeSet<String> = BTreeSet::new();
        for (i, l) in loaded.iter().enumerate() {
            // A workflow that removes (or will remove) its membership itself
            // accounts for it; a cancelled one never held it.
            if l.wf.phase != Phase::Cancelled
                && let Some(g) = l.wf.group()
            {
                accounted.insert(g.to_ascii_lowercase());
            }
            match &l.wf.phase {
                Phase::Cancelled => report.cancelled.push(l.wf.id.clone()),
                Phase::Removing {
                    verify_until: None, ..
                } if self.ready_removal(l).is_some() => {
                    if let Some((key, group)) = self.ready_removal(l) {
                        planned.push(Planned {
                            group,
                            workflow: Some((i, key)),
                        });
                    }
                }
                _ => report.in_progress.push(l.wf.id.clone()),
            }
        }
        let mut drift: Vec<GroupId> = Vec::new();
        for group in self.policy().governed_group_ids() {
            let g = group.to_ascii_lowercase();
            if holds.contains(&g)
                && !accounted.contains(&g)
                && !drift.iter().any(|d| d.same(&group))
            {
                drift.push(group.clone());
                planned.push(Planned {
                    group,
                    workflow: None,
                });
            }
        }

        // Intents first, then every removal in one bulk call.
        for p in &planned {
            if let Some((i, key)) = &p.workflow
                && let Some(l) = loaded.get_mut(*i)
                && let Some(command) =
                    l.wf.outbox
                        .iter()
                        .find(|x| x.command.key == *key)
                        .map(|x| x.command.clone())
            {
                let issuing = Event::Issuing { command };
                self.step(l, issuing, Actor::Operator(operator.to_owned()))
                    .await?;
            }
        }
        let groups: Vec<GroupId> = planned.iter().map(|p| p.group.clone()).collect();
        let results = self.bulk_remove(&id, &groups).await;
        crate::crash::point("offboard:removed");

        let scope = WorkflowId::new(format!("offboarding/{id}"));
        for (p, result) in planned.iter().zip(results) {
            match (&p.workflow, result) {
                (Some((i, key)), result) => {
                    let Some(l) = loaded.get_mut(*i) else {
                        continue;
                    };
                    let event = match result {
                        Ok(receipt) => {
                            report.removed.push(Removal {
                                group: p.group.clone(),
                                workflow: Some(l.wf.id.clone()),
                                already: receipt.already,
                            });
                            Event::MemberRemoved {
                                key: key.clone(),
                                receipt,
                            }
                        }
                        Err(error) => {
                            report.failed.push(FailedRemoval {
                                group: p.group.clone(),
                                workflow: Some(l.wf.id.clone()),
                                error: error.to_string(),
                            });
                            let command =
                                l.wf.outbox
                                    .iter()
                                    .find(|x| x.command.key == *key)
                                    .map(|x| x.command.clone());
                            match command {
                                Some(command) => Event::EffectFailed {
                                    command,
                                    error,
                                    jitter: self.jitter(),
                                },
                                None => continue,
                            }
                        }
                    };
                    self.step(l, event, Actor::System).await?;
                }
                (None, Ok(receipt)) => {
                    self.note(
                        &scope,
                        Actor::Operator(operator.to_owned()),
                        Entry::Drift {
                            user: id.clone(),
                            group: p.group.clone(),
                            action: "removed".to_owned(),
                            detail: Some(receipt.request_ids.join(", ")),
                            error: None,
                        },
                    )
                    .await?;
                    report.drift.push(Removal {
                        group: p.group.clone(),
                        workflow: None,
                        already: receipt.already,
                    });
                }
                (None, Err(error)) => {
                    self.note(
                        &scope,
                        Actor::Operator(operator.to_owned()),
                        Entry::Drift {
                            user: id.clone(),
                            group: p.group.clone(),
                            action: "failed".to_owned(),
                            detail: None,
                            error: Some(error.clone()),
                        },
                    )
                    .await?;
                    report.failed.push(FailedRemoval {
                        group: p.group.clone(),
                        workflow: None,
                        error: error.to_string(),
                    });
                }
            }
        }

        // One read verifies every removal; what still shows is polled later.
        let waiting: Vec<usize> = loaded
            .iter()
            .enumerate()
            .filter(|(_, l)| self.ready_check(l).is_some())
            .map(|(i, _)| i)
            .collect();
        if !waiting.is_empty() {
            let still = identity.direct_groups(&id).await.ok().map(|groups| {
                groups
                    .iter()
                    .map(|g| g.to_ascii_lowercase())
                    .collect::<BTreeSet<String>>()
            });
            if let Some(still) = still {
                for i in waiting {
                    let Some(l) = loaded.get_mut(i) else { continue };
                    let Some((key, group)) = self.ready_check(l) else {
                        continue;
                    };
                    let state = if still.contains(&group.to_ascii_lowercase()) {
                        MembershipState::Direct
                    } else {
                        MembershipState::NotMember
                    };
                    let event = Event::MembershipObserved { key, state };
                    self.step(l, event, Actor::System).await?;
                }
            }
        }
        // Closing notes, notices, cancellations: each workflow drives on.
        for l in &mut loaded {
            let id = l.wf.id.clone();
            if let Err(e) = self.drive(l).await {
                let mut pass = PassReport::default();
                self.isolate(&mut pass, &id, "offboard", e).await?;
                report.failures.extend(pass.failures);
            }
        }
        drop(held);
        Ok(report)
    }

    /// Steps one workflow with `Offboard` (it is held by the caller).
    async fn offboard_one(
        &self,
        id: &WorkflowId,
        operator: &str,
    ) -> Result<Option<Loaded>, EngineError> {
        let Some(mut l) = self.load(id).await? else {
            return Ok(None);
        };
        self.resolve_interrupted(&mut l).await?;
        if l.wf.phase.is_terminal() {
            return Ok(None);
        }
        self.step(
            &mut l,
            Event::Offboard,
            Actor::Operator(operator.to_owned()),
        )
        .await?;
        Ok(Some(l))
    }

    /// The workflow's ready `remove_member` command that drives its phase.
    fn ready_removal(&self, l: &Loaded) -> Option<(String, GroupId)> {
        let key = l.wf.driving.as_ref()?;
        let p = l.wf.outbox.iter().find(|p| p.command.key == *key)?;
        match &p.command.action {
            Action::RemoveMember { group, .. } if p.is_ready(self.now()) => {
                Some((key.clone(), group.clone()))
            }
            _ => None,
        }
    }

    /// The workflow's ready `check_membership` command after a removal.
    fn ready_check(&self, l: &Loaded) -> Option<(String, GroupId)> {
        if !matches!(
            l.wf.phase,
            Phase::Removing {
                verify_until: Some(_),
                ..
            }
        ) {
            return None;
        }
        let key = l.wf.driving.as_ref()?;
        let p = l.wf.outbox.iter().find(|p| p.command.key == *key)?;
        match &p.command.action {
            Action::CheckMembership { group, .. } if p.is_ready(self.now()) => {
                Some((key.clone(), group.clone()))
            }
            _ => None,
        }
    }

    /// Every removal at once (Graph batches them); one result per group.
    async fn bulk_remove(
        &self,
        user: &UserId,
        groups: &[GroupId],
    ) -> Vec<PortResult<WriteReceipt>> {
        if groups.is_empty() {
            return Vec::new();
        }
        for g in groups {
            self.members.forget(g);
        }
        match self.ports.identity.remove_memberships(user, groups).await {
            Ok(results) if results.len() == groups.len() => results,
            Ok(_) => groups
                .iter()
                .map(|_| {
                    Err(PortError::permanent(
                        "the directory answered a different number of removals",
                    ))
                })
                .collect(),
            Err(e) => groups.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}
