//! Property test over random event sequences, with a small simulated world
//! (a directory whose UPNs can be re-pointed and managers changed, effects
//! that fail or are interrupted by a crash, answers from anyone, late, or
//! for something else). Invariants:
//! - no add without a binding-valid approval set for the current object ids:
//!   an add is issued only by a re-check whose fresh decision allows it, for
//!   the object the approvals were given for, with every stage carrying
//!   enough distinct, eligible approvers (by object id) whose answers bind to
//!   the fresh decision and came before the deadline;
//! - a workflow that has not ended always waits for something (a ready
//!   command or a timer);
//! - a workflow that ended (other than for a person to look) leaves no
//!   membership it added behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use groupgate_core::ports::{ErrorClass, PortError, WriteReceipt};
use groupgate_core::workflow::{
    Action, ApprovalAnswer, Command, Event, Phase, Verdict, Workflow, WorkflowSettings,
    stage_binding,
};
use groupgate_core::{CompiledPolicy, Decision, Facts, MembershipState, Outcome, Request, UserId};
use proptest::prelude::*;
use std::sync::{Arc, LazyLock};

static POLICY: LazyLock<CompiledPolicy> = LazyLock::new(policy);

fn templates() -> Vec<Request> {
    let mut contractor = request(PAT, CARL, "Add contractor to Team Alpha");
    contractor.end_date = Some(at("2027-01-31T17:00:00Z").into());
    vec![
        request(ADA, ADA, "Access to Finance BI"),
        contractor,
        request(GRACE, IVAN, "Team Alpha"),
        request(PAT, ADA, "AP Approvers"),
        request(GRACE, ADA, "Helpdesk Admin"),
        request(ADA, PAT, "HR Portal"),
    ]
}

const PEOPLE: &[&str] = &[
    ADA,
    GRACE,
    PAT,
    MIA,
    CARL,
    IVAN,
    DORA,
    "sam.sec@contoso.com",
    "sol.sec@contoso.com",
    "lea.lead@contoso.com",
    "hanna.hr@contoso.com",
    "eve.former@contoso.com",
];

/// Random choices, consumed one at a time.
struct Dice(Vec<u32>, usize);

impl Dice {
    fn next(&mut self, n: usize) -> usize {
        // Once the choices run out, nothing random happens any more.
        let v = self.0.get(self.1).copied().unwrap_or(u32::MAX);
        self.1 += 1;
        v as usize % n.max(1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.next(100) < percent
    }
}

fn error(dice: &mut Dice) -> PortError {
    let class = match dice.next(4) {
        0 => ErrorClass::Forbidden,
        1 => ErrorClass::Permanent,
        _ => ErrorClass::Transient {
            retry_after_seconds: [None, Some(5)][dice.next(2)],
        },
    };
    PortError::new(class, "injected")
}

thread_local! {
    /// How many add-member commands the checked runs issued.
    static ADDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The add-member safety invariant, for a step that issued an add.
fn check_add(before: &Workflow, event: &Event, after: &Workflow) {
    ADDS.with(|a| a.set(a.get() + 1));
    let Event::Rechecked {
        facts, decision, ..
    } = event
    else {
        panic!(
            "add_member after {} (only a re-check may add)",
            event.name()
        );
    };
    assert_eq!(
        before.phase,
        Phase::Rechecking,
        "add_member only from the re-check"
    );
    assert!(
        decision.is_allowed(),
        "add_member on a {:?} decision",
        decision.outcome
    );
    let target = after.target.clone().expect("an add names its target");
    let current = facts
        .target
        .as_ref()
        .map(|t| t.id.clone())
        .expect("the target exists");
    assert!(
        target.same(&current),
        "add for {target}, but the UPN now names {current}"
    );
    let added = after
        .outbox
        .iter()
        .find_map(|p| match &p.command.action {
            Action::AddMember { user, .. } => Some(user.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        added.same(&current),
        "the add names {added}, not the current object {current}"
    );
    if decision.outcome != Outcome::NeedsApproval {
        return;
    }
    let requester = facts.requester.as_ref().map(|u| u.id.clone());
    for (i, stage) in decision.stages.iter().enumerate() {
        let binding = stage_binding(&after.request.ticket, &current, decision, i);
        let mut who: Vec<UserId> = after
            .approvals
            .iter()
            .filter(|a| {
                a.stage == stage.name
                    && a.verdict == Verdict::Approve
                    && a.binding == binding
                    && after.approval_deadline.is_none_or(|d| a.at <= d)
            })
            .filter_map(|a| a.approver_id.clone())
            .collect();
        who.sort();
        who.dedup_by(|a, b| a.same(b));
        assert!(
            who.len() as u32 >= stage.required,
            "stage `{}` lacks approvals bound to the fresh decision: {who:?}",
            stage.name
        );
        for w in &who {
            assert!(!w.same(&current), "self-approval by the target {w}");
            assert!(
                requester.as_ref().is_none_or(|r| !r.same(w)),
                "self-approval by the requester {w}"
            );
            let eligible = stage
                .approvers
                .iter()
                .chain(&stage.alternates)
                .any(|a| a.id.same(w));
            assert!(eligible, "{w} is not eligible for `{}`", stage.name);
        }
    }
}

/// The simulated world and engine.
struct Sim {
    dice: Dice,
    wf: Workflow,
    now: DateTime<Utc>,
    /// The target's UPN now names this object (re-pointed at random).
    target_object: Option<UserId>,
    /// The target's manager now (changed at random).
    manager: Option<&'static str>,
    /// Whether the directory holds the membership this workflow added.
    member: bool,
}

impl Sim {
    fn facts(&mut self) -> Facts {
        let p = &*POLICY;
        let mut f = facts(p, &self.wf.request);
        if let (Some(t), Some(id)) = (f.target.as_mut(), &self.target_object) {
            t.id = id.clone();
        }
        if let Some(m) = self.manager {
            f.target_manager = directory().user(m);
        }
        if self.dice.chance(4)
            && let Some(t) = f.target.as_mut()
        {
            t.enabled = false;
        }
        if self.dice.chance(4)
            && let Some(g) = f.group.as_mut()
        {
            g.role_assignable = true;
        }
        if self.member {
            f.membership = MembershipState::Direct;
        } else if self.dice.chance(3) {
            f.membership = MembershipState::Transitive;
        }
        f
    }

    fn decide(&mut self, facts: &Facts) -> Decision {
        POLICY.evaluate(&self.wf.request, facts, self.now)
    }

    /// Applies an event; `must_fit` for outcomes of commands just executed.
    fn apply(&mut self, event: Event, must_fit: bool) {
        match self.wf.handle(&event, self.now) {
            Ok((next, commands)) => {
                if commands
                    .iter()
                    .any(|c| matches!(c.action, Action::AddMember { .. }))
                {
                    check_add(&self.wf, &event, &next);
                }
                self.wf = next;
            }
            Err(e) => assert!(!must_fit, "{e} for {event:?}"),
        }
    }

    /// The outcome of executing `command` in the world.
    fn outcome(&mut self, command: &Command) -> Event {
        let key = command.key.clone();
        match &command.action {
            Action::Evaluate { recheck } => {
                let facts = self.facts();
                let decision = Box::new(self.decide(&facts));
                let facts = Box::new(facts);
                if *recheck {
                    Event::Rechecked {
                        key,
                        facts,
                        decision,
                    }
                } else {
                    Event::Evaluated {
                        key,
                        facts,
                        decision,
                    }
                }
            }
            Action::AddMember { .. } => {
                self.member = true;
                Event::MemberAdded {
                    key,
                    receipt: WriteReceipt::default(),
                }
            }
            Action::RemoveMember { .. } => {
                self.member = false;
                Event::MemberRemoved {
                    key,
                    receipt: WriteReceipt::default(),
                }
            }
            Action::CheckMembership { .. } => {
                // Reads lag now and then.
                let truth = self.member;
                let seen = if self.dice.chance(25) { !truth } else { truth };
                Event::MembershipObserved {
                    key,
                    state: if seen {
                        MembershipState::Direct
                    } else {
                        MembershipState::NotMember
                    },
                }
            }
            _ => Event::EffectDone { key, detail: None },
        }
    }

    /// Executes every ready command, one at a time, like the engine.
    fn drive(&mut self) {
        for _ in 0..500 {
            let Some(pending) = self.wf.next_ready(self.now).cloned() else {
                return;
            };
            let command = pending.command;
            if !command.action.is_read() {
                self.apply(
                    Event::Issuing {
                        command: command.clone(),
                    },
                    true,
                );
                if self.dice.chance(4) {
                    // The process dies around the effect: it happened or not.
                    if self.dice.chance(50) {
                        let _ = self.outcome(&command);
                    }
                    let observed = matches!(
                        command.action,
                        Action::AddMember { .. } | Action::RemoveMember { .. }
                    )
                    .then_some(if self.member {
                        MembershipState::Direct
                    } else {
                        MembershipState::NotMember
                    });
                    let jitter = self.dice.next(1000) as f64 / 1000.0;
                    self.apply(
                        Event::Interrupted {
                            key: command.key.clone(),
                            observed,
                            jitter,
                        },
                        true,
                    );
                    continue;
                }
            }
            if self.dice.chance(10) {
                let event = Event::EffectFailed {
                    command: command.clone(),
                    error: error(&mut self.dice),
                    jitter: self.dice.next(1000) as f64 / 1000.0,
                };
                self.apply(event, true);
                continue;
            }
            let event = self.outcome(&command);
            self.apply(event, true);
        }
        panic!("runaway command chain in {:?}", self.wf.phase);
    }

    fn answer(&mut self) -> Event {
        let Phase::AwaitingApproval { stage: index, .. } = self.wf.phase else {
            unreachable!()
        };
        let stage = self
            .wf
            .decision
            .as_ref()
            .and_then(|d| d.stages.get(index))
            .cloned();
        let name = stage
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_else(|| Arc::from("x"));
        let eligible: Vec<Arc<str>> = stage
            .map(|s| {
                s.approvers
                    .iter()
                    .chain(&s.alternates)
                    .map(|a| Arc::clone(&a.name))
                    .collect()
            })
            .unwrap_or_default();
        let who: Arc<str> = if !eligible.is_empty() && self.dice.chance(80) {
            Arc::clone(&eligible[self.dice.next(eligible.len())])
        } else {
            Arc::from(PEOPLE[self.dice.next(PEOPLE.len())])
        };
        let mut approver_id = directory().user(&who).map(|u| u.id);
        let mut approver = Arc::clone(&who);
        if self.dice.chance(20)
            && let Some(id) = &approver_id
        {
            // The same person, named by object id in another channel.
            approver = Arc::from(id.as_str());
        }
        if self.dice.chance(3) {
            approver_id = None;
        }
        let binding = match self.dice.next(20) {
            0 => "sha256:bogus".to_owned(),
            // An answer replayed from another ticket's ask.
            1 => self
                .wf
                .decision
                .as_ref()
                .zip(self.wf.target.as_ref())
                .map(|(d, t)| stage_binding(&"RITM-OTHER".into(), t, d, index))
                .unwrap_or_default(),
            _ => self.wf.bindings.get(index).cloned().unwrap_or_default(),
        };
        let at = match (self.dice.chance(5), self.wf.approval_deadline) {
            (true, Some(d)) => d + TimeDelta::seconds(1),
            _ => self.now,
        };
        Event::Answered {
            answer: ApprovalAnswer {
                stage: if self.dice.chance(92) {
                    name
                } else {
                    Arc::from("other")
                },
                approver,
                approver_id,
                verdict: if self.dice.chance(92) {
                    Verdict::Approve
                } else {
                    Verdict::Reject
                },
                comment: None,
                channel: "teams".into(),
                at,
                binding,
            },
        }
    }
}

fn run(choices: Vec<u32>) {
    let mut dice = Dice(choices, 0);
    let templates = templates();
    let request = templates[dice.next(templates.len())].clone();
    let now = business_hours() + TimeDelta::minutes(dice.next(60 * 24 * 7) as i64);
    let (wf, _) = Workflow::start("WF-1".into(), request, WorkflowSettings::default(), now);
    let mut sim = Sim {
        dice,
        wf,
        now,
        target_object: None,
        manager: None,
        member: false,
    };
    sim.drive();
    for _ in 0..200 {
        if sim.wf.phase.is_terminal() && sim.wf.outbox.is_empty() {
            break;
        }
        assert!(
            sim.wf.next_ready(sim.now).is_some()
                || !sim.wf.timers.is_empty()
                || sim.wf.phase == Phase::Completed,
            "{} waits for nothing: {:?}",
            sim.wf.phase.name(),
            sim.wf
        );
        // The world changes between steps now and then.
        let waiting = matches!(
            sim.wf.phase,
            Phase::AwaitingApproval { .. } | Phase::Scheduled { .. } | Phase::AwaitingRetry { .. }
        );
        if sim.dice.chance(if waiting { 8 } else { 2 }) {
            // The target's UPN is re-pointed to another directory object.
            sim.target_object = Some("99999999-0000-0000-0000-0000000000ff".into());
        }
        if sim.dice.chance(3) {
            sim.manager = Some([MIA, GRACE, PAT][sim.dice.next(3)]);
        }
        let awaiting = matches!(sim.wf.phase, Phase::AwaitingApproval { .. });
        let event = if awaiting && sim.dice.chance(80) {
            sim.answer()
        } else if !sim.wf.phase.is_terminal() && sim.dice.chance(2) {
            Event::Offboard
        } else if let Some(t) = sim.wf.timers.iter().min_by_key(|t| t.at).cloned() {
            sim.now = sim.now.max(t.at);
            Event::Woke {
                key: t.key,
                purpose: t.purpose,
            }
        } else if sim.wf.phase == Phase::Completed {
            Event::Offboard
        } else {
            break;
        };
        sim.apply(event, false);
        sim.drive();
        sim.now += TimeDelta::seconds(sim.dice.next(120) as i64);
    }
    if sim.wf.phase.is_terminal() && sim.wf.phase != Phase::ManualIntervention && sim.wf.added {
        assert!(
            !sim.member,
            "{} left the membership it added behind",
            sim.wf.phase.name()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn random_event_sequences_keep_the_invariants(choices in proptest::collection::vec(any::<u32>(), 50..800)) {
        run(choices);
    }
}

/// The random runs are not vacuous: many of them reach the add, and the
/// invariant is checked there.
#[test]
fn random_runs_reach_the_add() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..400 {
        let choices: Vec<u32> = (0..600)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u32
            })
            .collect();
        run(choices);
    }
    let adds = ADDS.with(|a| a.get());
    assert!(adds > 30, "only {adds} adds in 400 runs");
}
