//! Property test over random event sequences: no add-member command is ever
//! emitted without an allow decision re-checked at execution and every
//! required approval from distinct eligible approvers; and every workflow
//! ends in, or waits for, a defined state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use groupgate_core::ports::{ErrorClass, PortError, WriteReceipt};
use groupgate_core::workflow::{
    Action, ApprovalAnswer, Command, Event, Phase, Verdict, Wake, Workflow, WorkflowSettings,
    approval_binding,
};
use groupgate_core::{CompiledPolicy, Decision, MembershipState, Outcome, Request};
use proptest::prelude::*;
use std::sync::{Arc, LazyLock};

static POLICY: LazyLock<CompiledPolicy> = LazyLock::new(policy);

fn templates() -> Vec<Request> {
    let mut contractor = request(PAT, CARL, "Add contractor to Team Alpha");
    contractor.end_date = Some(at("2027-01-31T17:00:00Z"));
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
    "dora.data@contoso.com",
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
        let v = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        v as usize % n.max(1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.next(100) < percent
    }
}

fn decide(
    request: &Request,
    now: DateTime<Utc>,
    dice: &mut Dice,
) -> (Decision, Option<groupgate_core::UserId>) {
    let p = &*POLICY;
    let mut f = facts(p, request);
    if dice.chance(5)
        && let Some(t) = f.target.as_mut()
    {
        t.enabled = false;
    }
    if dice.chance(5)
        && let Some(g) = f.group.as_mut()
    {
        g.role_assignable = true;
    }
    if dice.chance(5) {
        f.membership = MembershipState::Direct;
    }
    let target = f.target.as_ref().map(|t| t.id.clone());
    (p.evaluate(request, &f, now), target)
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
    /// How many add-member commands the checked runs emitted.
    static ADDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Checks the add-member safety invariant for a transition that emitted AddMember.
fn check_add(before: &Workflow, event: &Event, after: &Workflow) {
    ADDS.with(|a| a.set(a.get() + 1));
    let Event::Rechecked { decision, .. } = event else {
        // A retried add re-issues the very command the re-check emitted.
        assert!(
            matches!(
                event,
                Event::Woke {
                    purpose: Wake::Retry
                }
            ),
            "add_member after {event:?}"
        );
        return;
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
    assert_eq!(
        after.binding.as_deref(),
        Some(approval_binding(&after.request, decision).as_str())
    );
    if decision.outcome == Outcome::NeedsApproval {
        assert!(after.approved, "add_member before every stage was approved");
        let r = &after.request;
        for stage in &decision.stages {
            let mut who: Vec<&str> = after
                .approvals
                .iter()
                .filter(|a| {
                    a.stage == stage.name
                        && a.verdict == Verdict::Approve
                        && a.binding == *after.binding.as_ref().unwrap()
                })
                .map(|a| &*a.approver)
                .collect();
            who.sort_unstable();
            who.dedup();
            assert!(
                who.len() as u32 >= stage.required,
                "stage `{}` lacks approvals: {who:?}",
                stage.name
            );
            for w in who {
                assert!(
                    !w.eq_ignore_ascii_case(&r.requester) && !w.eq_ignore_ascii_case(&r.target),
                    "self-approval by {w}"
                );
                let eligible = stage
                    .approvers
                    .iter()
                    .chain(&stage.alternates)
                    .any(|a| a.id.eq_ignore_ascii_case(w));
                assert!(eligible, "{w} is not eligible for `{}`", stage.name);
            }
        }
    }
}

/// What a workflow in a live phase must be waiting for, once the engine has
/// executed every command it could: a timer, an answer, or offboarding.
fn check_waiting(wf: &Workflow, timers: &[(DateTime<Utc>, Wake)]) {
    if wf.phase.is_terminal() {
        return;
    }
    let has = |w: Wake| timers.iter().any(|(_, p)| *p == w);
    if wf.pending.is_some() {
        assert!(has(Wake::Retry), "a retry without its timer");
        return;
    }
    match wf.phase {
        Phase::AwaitingApproval { .. } => assert!(
            has(Wake::ApprovalDeadline),
            "awaiting approval without a deadline timer"
        ),
        Phase::Active { .. } => assert!(has(Wake::Expiry), "active without an expiry timer"),
        Phase::Completed => {}
        Phase::Scheduled { .. } => assert!(has(Wake::WindowOpens)),
        Phase::Verifying { .. } | Phase::Removing { .. } | Phase::RollingBack { .. } => {
            assert!(
                has(Wake::VerifyPoll),
                "{} waits for nothing",
                wf.phase.name()
            )
        }
        ref other => panic!("phase {} waits for nothing", other.name()),
    }
}

/// The simulated engine: executes commands in order, feeding back results.
struct Sim {
    dice: Dice,
    wf: Workflow,
    now: DateTime<Utc>,
    settings: WorkflowSettings,
    timers: Vec<(DateTime<Utc>, Wake)>,
}

impl Sim {
    /// Applies an event; `must_fit` for results of commands just executed.
    fn apply(&mut self, event: Event, must_fit: bool) -> Option<Vec<Command>> {
        match self.wf.handle(&event, self.now, &self.settings) {
            Ok((next, commands)) => {
                if commands
                    .iter()
                    .any(|c| matches!(c.action, Action::AddMember { .. }))
                {
                    check_add(&self.wf, &event, &next);
                }
                self.wf = next;
                Some(commands)
            }
            Err(e) => {
                assert!(!must_fit, "{e} for {event:?}");
                None
            }
        }
    }

    /// Executes a batch in order. A failure that changes the phase drops the
    /// rest of the batch (the state machine has re-planned).
    fn execute(&mut self, batch: Vec<Command>, depth: usize) {
        assert!(depth < 64, "runaway command chain");
        for command in batch {
            if self.wf.phase.is_terminal()
                && !matches!(
                    command.action,
                    Action::UpdateTicket { .. } | Action::Notify { .. }
                )
            {
                continue;
            }
            if let Action::WakeAt { at, purpose } = command.action {
                self.timers.retain(|t| t.1 != purpose);
                self.timers.push((at, purpose));
                continue;
            }
            if let Action::CancelWake { purpose } = command.action {
                self.timers.retain(|t| t.1 != purpose);
                continue;
            }
            let phase = self.wf.phase.name();
            if self.dice.chance(10) {
                let event = Event::EffectFailed {
                    command: command.clone(),
                    error: error(&mut self.dice),
                    jitter: self.dice.next(1000) as f64 / 1000.0,
                };
                if let Some(next) = self.apply(event, true) {
                    let changed = self.wf.phase.name() != phase;
                    self.execute(next, depth + 1);
                    if changed {
                        return;
                    }
                }
                continue;
            }
            let event = match &command.action {
                Action::Evaluate { recheck } => {
                    let (decision, target) = decide(&self.wf.request, self.now, &mut self.dice);
                    if *recheck {
                        Event::Rechecked {
                            decision: Box::new(decision),
                            target,
                        }
                    } else {
                        Event::Evaluated {
                            decision: Box::new(decision),
                            target,
                        }
                    }
                }
                Action::AddMember { .. } => Event::MemberAdded {
                    receipt: WriteReceipt::default(),
                },
                Action::RemoveMember { .. } => Event::MemberRemoved {
                    receipt: WriteReceipt::default(),
                },
                Action::CheckMembership { .. } => Event::MembershipObserved {
                    state: [
                        MembershipState::Direct,
                        MembershipState::NotMember,
                        MembershipState::Direct,
                    ][self.dice.next(3)],
                },
                // Ticket updates, asks, notices: done, nothing to feed back.
                _ => continue,
            };
            if let Some(next) = self.apply(event, true) {
                self.execute(next, depth + 1);
            }
        }
    }
}

fn run(choices: Vec<u32>) {
    let mut dice = Dice(choices, 0);
    let templates = templates();
    let request = templates[dice.next(templates.len())].clone();
    let now = business_hours() + TimeDelta::minutes(dice.next(60 * 24 * 7) as i64);
    let (wf, commands) = Workflow::start("WF-1".into(), request);
    let mut sim = Sim {
        dice,
        wf,
        now,
        settings: WorkflowSettings::default(),
        timers: Vec::new(),
    };
    sim.execute(commands, 0);
    for _ in 0..150 {
        if sim.wf.phase.is_terminal() {
            return;
        }
        check_waiting(&sim.wf, &sim.timers);
        let awaiting = matches!(sim.wf.phase, Phase::AwaitingApproval { .. });
        let event = if awaiting && sim.dice.chance(60) {
            let Phase::AwaitingApproval {
                stage: stage_index, ..
            } = sim.wf.phase
            else {
                unreachable!()
            };
            let name = sim
                .wf
                .decision
                .as_ref()
                .and_then(|d| d.stages.get(stage_index))
                .map(|s| s.name.clone())
                .unwrap_or_else(|| Arc::from("x"));
            let stage = if sim.dice.chance(90) {
                name
            } else {
                Arc::from("other")
            };
            let eligible: Vec<Arc<str>> = sim
                .wf
                .decision
                .as_ref()
                .and_then(|d| d.stages.get(stage_index))
                .map(|s| {
                    s.approvers
                        .iter()
                        .chain(&s.alternates)
                        .map(|a| Arc::clone(&a.id))
                        .collect()
                })
                .unwrap_or_default();
            let approver = if !eligible.is_empty() && sim.dice.chance(50) {
                Arc::clone(&eligible[sim.dice.next(eligible.len())])
            } else {
                Arc::from(PEOPLE[sim.dice.next(PEOPLE.len())])
            };
            let verdict = if sim.dice.chance(92) {
                Verdict::Approve
            } else {
                Verdict::Reject
            };
            let binding = if sim.dice.chance(92) {
                sim.wf.binding.clone().unwrap_or_default()
            } else {
                "sha256:bogus".into()
            };
            Event::Answered {
                answer: ApprovalAnswer {
                    stage,
                    approver,
                    verdict,
                    comment: None,
                    channel: "teams".into(),
                    at: sim.now,
                    binding,
                },
            }
        } else if matches!(sim.wf.phase, Phase::Active { .. } | Phase::Completed)
            && (sim.timers.is_empty() || sim.dice.chance(15))
        {
            Event::Offboard
        } else if !sim.timers.is_empty() {
            // Timers fire in time order; now moves forward to each.
            sim.timers.sort_by_key(|t| t.0);
            let (at, purpose) = sim.timers.remove(0);
            sim.now = sim.now.max(at);
            Event::Woke { purpose }
        } else {
            return;
        };
        if let Some(commands) = sim.apply(event, false) {
            sim.execute(commands, 0);
        }
        sim.now += TimeDelta::seconds(sim.dice.next(120) as i64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn random_event_sequences_keep_the_invariants(choices in proptest::collection::vec(any::<u32>(), 50..600)) {
        run(choices);
    }
}

/// The random runs are not vacuous: many of them reach the add, and the
/// invariant is checked there.
#[test]
fn random_runs_reach_the_add() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..400 {
        let choices: Vec<u32> = (0..400)
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
