//! The workflow state machine on the example policy: every transition of the
//! table is driven here (and only those), with the refusals, retries,
//! recoveries and rollbacks the engine relies on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use groupgate_core::ports::{ErrorClass, PortError, TicketState, WriteReceipt};
use groupgate_core::workflow::{
    Action, ApprovalAnswer, Command, Event, Phase, TRANSITIONS, TransitionError, Verdict, Wake,
    Workflow, WorkflowSettings, mermaid_diagram, stage_binding, transition_table,
};
use groupgate_core::{CompiledPolicy, Decision, Facts, MembershipState, Outcome, Request};
use std::collections::BTreeSet;
use std::sync::Arc;

type Triple = (String, String, String);

/// Drives one workflow, recording every (from, event, to) it takes.
struct Run {
    policy: CompiledPolicy,
    wf: Workflow,
    now: DateTime<Utc>,
    last: Vec<Command>,
    seen: BTreeSet<Triple>,
}

fn label(wf: &Workflow, event: &Event) -> String {
    match event {
        Event::Woke { purpose, .. } => format!("woke({})", purpose.name()),
        Event::Evaluated { key, .. }
        | Event::Rechecked { key, .. }
        | Event::MemberAdded { key, .. }
        | Event::MembershipObserved { key, .. }
        | Event::MemberRemoved { key, .. }
            if wf.driving.as_deref() != Some(key.as_str()) || wf.phase.is_terminal() =>
        {
            "outcome".to_owned()
        }
        other => other.name().to_owned(),
    }
}

impl Run {
    fn start(request: Request) -> Run {
        let now = business_hours();
        let (wf, last) = Workflow::start(
            request.ticket.as_str().into(),
            request,
            WorkflowSettings::default(),
            now,
        );
        let mut seen = BTreeSet::new();
        seen.insert(("start".into(), "start".into(), wf.phase.name().into()));
        Run {
            policy: policy(),
            wf,
            now,
            last,
            seen,
        }
    }

    fn feed(&mut self, event: Event) -> &[Command] {
        let from = self.wf.phase.name().to_owned();
        let label = label(&self.wf, &event);
        let (wf, commands) = self
            .wf
            .handle(&event, self.now)
            .unwrap_or_else(|e| panic!("{e}"));
        self.seen.insert((from, label, wf.phase.name().to_owned()));
        self.wf = wf;
        self.last = commands;
        &self.last
    }

    fn facts(&self) -> Facts {
        facts(&self.policy, &self.wf.request)
    }

    fn decide_with(&self, facts: &Facts) -> Decision {
        self.policy.evaluate(&self.wf.request, facts, self.now)
    }

    fn driving(&self) -> String {
        self.wf.driving.clone().expect("a driving command")
    }

    fn evaluated(&mut self) -> &[Command] {
        let facts = self.facts();
        self.evaluated_with(facts)
    }

    fn evaluated_with(&mut self, facts: Facts) -> &[Command] {
        let decision = self.decide_with(&facts);
        self.feed(Event::Evaluated {
            key: self.driving(),
            facts: Box::new(facts),
            decision: Box::new(decision),
        })
    }

    fn rechecked(&mut self) -> &[Command] {
        let facts = self.facts();
        self.rechecked_with(facts)
    }

    fn rechecked_with(&mut self, facts: Facts) -> &[Command] {
        let decision = self.decide_with(&facts);
        self.recheck_decision(facts, decision)
    }

    fn recheck_decision(&mut self, facts: Facts, decision: Decision) -> &[Command] {
        self.feed(Event::Rechecked {
            key: self.driving(),
            facts: Box::new(facts),
            decision: Box::new(decision),
        })
    }

    fn open_stage(&self) -> usize {
        match self.wf.phase {
            Phase::AwaitingApproval { stage, .. } => stage,
            _ => panic!("not awaiting approval: {:?}", self.wf.phase),
        }
    }

    /// An answer to the open stage, with its binding, from `who` as the
    /// directory knows them.
    fn answer_of(&self, who: &str, verdict: Verdict) -> ApprovalAnswer {
        let stage = self.open_stage();
        ApprovalAnswer {
            stage: self.wf.decision.as_ref().unwrap().stages[stage]
                .name
                .clone(),
            approver: Arc::from(who),
            approver_id: directory().user(who).map(|u| u.id),
            verdict,
            comment: None,
            channel: "teams".into(),
            at: self.now,
            binding: self.wf.bindings[stage].clone(),
        }
    }

    fn answer(&mut self, who: &str, verdict: Verdict) -> &[Command] {
        let answer = self.answer_of(who, verdict);
        self.feed(Event::Answered { answer })
    }

    fn pending(&self, name: &str) -> Command {
        self.wf
            .outbox
            .iter()
            .find(|p| p.command.action.name() == name)
            .map(|p| p.command.clone())
            .unwrap_or_else(|| panic!("no pending `{name}` in {:?}", self.wf.outbox))
    }

    fn fail(&mut self, action: &str, class: ErrorClass) -> &[Command] {
        let command = self.pending(action);
        self.feed(Event::EffectFailed {
            command,
            error: PortError::new(class, "boom"),
            jitter: 0.5,
        })
    }

    /// Completes every pending side effect (ticket updates, asks, notices…).
    fn settle(&mut self) {
        let done: Vec<String> = self
            .wf
            .outbox
            .iter()
            .filter(|p| Some(&p.command.key) != self.wf.driving.as_ref() && p.is_ready(self.now))
            .map(|p| p.command.key.clone())
            .collect();
        for key in done {
            self.feed(Event::EffectDone { key, detail: None });
        }
    }

    fn command(&self, name: &str) -> Option<Command> {
        self.last.iter().find(|c| c.action.name() == name).cloned()
    }

    fn has(&self, name: &str) -> bool {
        self.command(name).is_some()
    }

    fn ticket_states(&self) -> Vec<TicketState> {
        self.last
            .iter()
            .filter_map(|c| match &c.action {
                Action::UpdateTicket { state, .. } => *state,
                _ => None,
            })
            .collect()
    }

    fn notes(&self) -> String {
        self.last
            .iter()
            .filter_map(|c| match &c.action {
                Action::UpdateTicket { note, .. } => Some(note.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn added(&mut self) -> &[Command] {
        self.feed(Event::MemberAdded {
            key: self.driving(),
            receipt: WriteReceipt {
                already: false,
                request_ids: vec!["req-add-1".into()],
            },
        })
    }

    fn removed(&mut self) -> &[Command] {
        self.feed(Event::MemberRemoved {
            key: self.driving(),
            receipt: WriteReceipt::default(),
        })
    }

    fn observed(&mut self, state: MembershipState) -> &[Command] {
        self.feed(Event::MembershipObserved {
            key: self.driving(),
            state,
        })
    }

    fn timer(&self, purpose: Wake) -> String {
        self.wf
            .timers
            .iter()
            .find(|t| t.purpose == purpose)
            .map(|t| t.key.clone())
            .unwrap_or_else(|| panic!("no {} timer in {:?}", purpose.name(), self.wf.timers))
    }

    fn woke(&mut self, purpose: Wake) -> &[Command] {
        let key = self.timer(purpose);
        self.feed(Event::Woke { key, purpose })
    }

    fn phase(&self) -> &'static str {
        self.wf.phase.name()
    }
}

fn finance(requester: &str) -> Request {
    request(requester, ADA, "Access to Finance BI")
}

fn contractor() -> Request {
    let mut r = request(PAT, CARL, "Add contractor to Team Alpha");
    r.end_date = Some(at("2027-01-31T17:00:00Z").into());
    r
}

/// Runs a Finance BI request through both approvals to `executing`.
fn approved_finance(seen: &mut BTreeSet<Triple>) -> Run {
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    run.answer(GRACE, Verdict::Approve);
    run.answer(DORA, Verdict::Approve);
    assert_eq!(run.phase(), "rechecking");
    run.rechecked();
    assert_eq!(run.phase(), "executing");
    run.settle();
    seen.extend(run.seen.iter().cloned());
    run
}

fn granted(seen: &mut BTreeSet<Triple>) -> Run {
    let mut run = approved_finance(seen);
    run.added();
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "active");
    seen.extend(run.seen.iter().cloned());
    run
}

fn happy_path_and_refusals(seen: &mut BTreeSet<Triple>) {
    // Mini example 1, end to end: two stages, add, propagation delay, expiry.
    let mut run = Run::start(finance(ADA));
    assert!(run.has("evaluate"));
    assert_eq!(run.ticket_states(), [TicketState::InProgress]);
    assert!(run.wf.timers.iter().any(|t| t.purpose == Wake::Watchdog));
    run.evaluated();
    assert_eq!(run.phase(), "awaiting_approval");
    assert_eq!(run.ticket_states(), [TicketState::ApprovalRequired]);
    match &run.command("request_approval").unwrap().action {
        Action::RequestApproval {
            stage, approvers, ..
        } => {
            assert_eq!(&**stage, "manager");
            let ids: Vec<_> = approvers.iter().map(|a| a.id.clone()).collect();
            assert_eq!(ids, [id_of(GRACE)], "approvers are known by object id");
            assert_eq!(&*approvers[0].name, GRACE);
        }
        other => panic!("{other:?}"),
    }
    run.timer(Wake::ApprovalDeadline);
    run.timer(Wake::Escalate);
    // Refusals: each is noted and changes nothing.
    for who in [ADA, EVE, DORA] {
        let before = run.wf.clone();
        run.answer(who, Verdict::Approve);
        assert_eq!(run.wf.phase, before.phase, "{who}");
        assert!(run.wf.approvals.is_empty(), "{who}");
        assert!(
            run.notes().contains("refused an answer"),
            "{who}: {}",
            run.notes()
        );
        assert!(!run.has("record_approval"));
    }
    run.answer(GRACE, Verdict::Approve);
    assert!(run.has("record_approval") && run.has("cancel_approvals"));
    assert_eq!(
        run.wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        }
    );
    run.answer(DORA, Verdict::Approve);
    assert_eq!(run.phase(), "rechecking");
    assert!(run.has("evaluate"));
    run.settle();
    run.rechecked();
    let add = run.command("add_member").expect("adds after the re-check");
    assert!(add.key.starts_with("RITM0000001/"), "{}", add.key);
    run.added();
    assert!(run.has("check_membership"));
    run.observed(MembershipState::NotMember);
    assert_eq!(run.phase(), "verifying");
    run.woke(Wake::VerifyPoll);
    assert!(run.has("check_membership"));
    run.now += TimeDelta::seconds(20);
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "active");
    assert_eq!(run.ticket_states(), [TicketState::ClosedComplete]);
    assert!(
        run.last
            .iter()
            .any(|c| matches!(c.action, Action::UpdateTicket { anchor: true, .. })),
        "the closing note carries the trail's anchor"
    );
    assert!(run.notes().contains("req-add-1"), "{}", run.notes());
    assert!(run.has("notify"));
    // 180 days (financial-data cap) from the grant.
    let Phase::Active { expires_at } = run.wf.phase else {
        unreachable!()
    };
    assert_eq!(expires_at, run.now + TimeDelta::days(180));
    assert_eq!(
        run.wf.next_wake(),
        Some(expires_at),
        "the expiry is a timer of the state"
    );
    run.settle();
    run.now = expires_at;
    run.woke(Wake::Expiry);
    assert!(run.has("remove_member"));
    run.removed();
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "removing");
    run.woke(Wake::VerifyPoll);
    run.observed(MembershipState::NotMember);
    assert_eq!(run.phase(), "removed");
    assert!(run.notes().contains("access expired"));
    run.settle();
    assert!(run.wf.outbox.is_empty() && run.wf.timers.is_empty());
    seen.extend(run.seen.iter().cloned());

    // A rejection ends it; escalation asks the alternates; expiry of approvals.
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    run.woke(Wake::Escalate);
    assert_eq!(
        run.wf.phase,
        Phase::AwaitingApproval {
            stage: 0,
            escalated: true
        }
    );
    run.answer("lea.lead@contoso.com", Verdict::Approve);
    assert_eq!(
        run.wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        }
    );
    run.answer(DORA, Verdict::Reject);
    assert_eq!(run.phase(), "rejected");
    assert_eq!(run.ticket_states(), [TicketState::ClosedIncomplete]);
    assert!(matches!(
        run.wf.handle(&Event::Offboard, run.now),
        Err(TransitionError::Finished { .. })
    ));
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    run.woke(Wake::ApprovalDeadline);
    assert_eq!(run.phase(), "approval_expired");
    seen.extend(run.seen.iter().cloned());

    // N of M: one person cannot count twice, named by UPN or by object id.
    let mut run = Run::start(request(PAT, ADA, "AP Approvers"));
    run.evaluated();
    run.answer(GRACE, Verdict::Approve);
    assert_eq!(
        run.open_stage(),
        1,
        "stages: manager, security (2 of 2), data owner"
    );
    run.answer("sam.sec@contoso.com", Verdict::Approve);
    let mut again = run.answer_of("sam.sec@contoso.com", Verdict::Approve);
    again.approver = Arc::from(id_of("sam.sec@contoso.com").as_str());
    again.channel = "slack".into();
    run.feed(Event::Answered { answer: again });
    assert!(run.notes().contains("already approved"), "{}", run.notes());
    assert_eq!(run.open_stage(), 1);
    run.answer("sol.sec@contoso.com", Verdict::Approve);
    assert_eq!(run.open_stage(), 2);
    run.answer(DORA, Verdict::Approve);
    assert_eq!(run.phase(), "rechecking");
    seen.extend(run.seen.iter().cloned());

    // An answer for something else (binding), another stage, an unknown
    // person, or after the deadline is refused.
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    let good = run.answer_of(GRACE, Verdict::Approve);
    let mut other = good.clone();
    other.binding = "sha256:not-what-was-asked".into();
    run.feed(Event::Answered { answer: other });
    assert!(run.notes().contains("approves something else"));
    let mut other = good.clone();
    other.stage = Arc::from("data-owner");
    run.feed(Event::Answered { answer: other });
    assert!(run.notes().contains("another stage"));
    let mut other = good.clone();
    other.approver_id = None;
    run.feed(Event::Answered { answer: other });
    assert!(run.notes().contains("not a known directory user"));
    let mut other = good;
    other.at = run.wf.approval_deadline.unwrap() + TimeDelta::seconds(1);
    run.feed(Event::Answered { answer: other });
    assert!(run.notes().contains("after the approval deadline"));
    assert!(run.wf.approvals.is_empty());
    seen.extend(run.seen.iter().cloned());
}

fn intake_and_recheck_branches(seen: &mut BTreeSet<Triple>) {
    // Intake ends: denied, no-op; pre-approved goes straight to the re-check.
    let mut run = Run::start(request(GRACE, ADA, "Helpdesk Admin"));
    run.evaluated();
    assert_eq!(run.phase(), "denied");
    assert!(
        run.notes().contains("GROUP_ROLE_ASSIGNABLE"),
        "{}",
        run.notes()
    );
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(request(MIA, PAT, "Team Alpha"));
    run.evaluated();
    assert_eq!(run.phase(), "no_op");
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(request(GRACE, IVAN, "Team Alpha"));
    run.evaluated();
    assert_eq!(run.phase(), "rechecking");
    assert!(!run.wf.approved, "a standard change is not an approval");
    run.rechecked();
    assert_eq!(run.phase(), "executing");
    seen.extend(run.seen.iter().cloned());

    // Outside the window: approved, then scheduled; the window opens.
    let mut run = Run::start(finance(ADA));
    run.now = at("2026-11-27T18:30:00Z"); // Friday evening in Berlin
    run.evaluated();
    run.answer(GRACE, Verdict::Approve);
    run.answer(DORA, Verdict::Approve);
    assert_eq!(
        run.wf.phase,
        Phase::Scheduled {
            at: at("2026-11-30T06:00:00Z")
        }
    );
    run.now = at("2026-11-30T06:00:00Z");
    run.woke(Wake::WindowOpens);
    run.rechecked();
    assert_eq!(run.phase(), "executing");
    seen.extend(run.seen.iter().cloned());

    // Crafted decisions for the remaining intake and re-check branches.
    let mut run = Run::start(request(GRACE, IVAN, "Team Alpha"));
    let facts = run.facts();
    let mut decision = run.decide_with(&facts);
    decision.earliest_execution = Some(at("2026-11-26T07:00:00Z"));
    let key = run.driving();
    run.feed(Event::Evaluated {
        key,
        facts: Box::new(facts),
        decision: Box::new(decision),
    });
    assert_eq!(run.phase(), "scheduled");
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(request(GRACE, IVAN, "Team Alpha"));
    let mut facts = run.facts();
    let decision = run.decide_with(&facts);
    facts.target = None;
    let key = run.driving();
    run.feed(Event::Evaluated {
        key,
        facts: Box::new(facts),
        decision: Box::new(decision),
    });
    assert_eq!(run.phase(), "manual_intervention");
    seen.extend(run.seen.iter().cloned());
    for (change, expect) in [
        (
            Box::new(|d: &mut Decision| d.outcome = Outcome::Deny) as Box<dyn Fn(&mut Decision)>,
            "denied",
        ),
        (
            Box::new(|d: &mut Decision| d.outcome = Outcome::AlreadyMember),
            "no_op",
        ),
        (
            Box::new(|d: &mut Decision| d.earliest_execution = Some(at("2026-11-26T07:00:00Z"))),
            "scheduled",
        ),
        (
            Box::new(|d: &mut Decision| d.policy_digest = Arc::from("sha256:changed")),
            "awaiting_approval",
        ),
    ] {
        let mut run = approved_finance(seen);
        run.wf.phase = Phase::Rechecking;
        run.wf.added = false;
        run.wf.driving = None;
        run.wf.outbox.clear();
        let mut next = run.wf.clone();
        next.step += 1;
        // Back to the re-check with a changed decision.
        let key = format!("{}/recheck", run.wf.id);
        next.outbox.push(groupgate_core::workflow::Pending {
            command: Command {
                key: key.clone(),
                step: next.step,
                action: Action::Evaluate { recheck: true },
            },
            in_flight: false,
            attempts: 0,
            failing_since: None,
            retry_at: None,
        });
        next.driving = Some(key);
        run.wf = next;
        let facts = run.facts();
        let mut decision = run.decide_with(&facts);
        change(&mut decision);
        run.recheck_decision(facts, decision);
        assert_eq!(run.phase(), expect);
        if expect == "awaiting_approval" {
            assert!(run.wf.approvals.is_empty(), "approvals no longer count");
            assert!(run.notes().contains("no longer counts"), "{}", run.notes());
            assert!(run.ticket_states().contains(&TicketState::ApprovalRequired));
        }
        seen.extend(run.seen.iter().cloned());
    }
    let mut run = Run::start(request(GRACE, IVAN, "Team Alpha"));
    run.evaluated();
    let facts = run.facts();
    let mut decision = run.decide_with(&facts);
    decision.outcome = Outcome::NeedsApproval;
    let p = policy();
    let asked = request(ADA, IVAN, "Team Alpha");
    decision.stages = p
        .evaluate(&asked, &common::facts(&p, &asked), run.now)
        .stages;
    run.recheck_decision(facts, decision);
    assert_eq!(
        run.phase(),
        "awaiting_approval",
        "a standard change that no longer applies asks"
    );
    assert!(!run.has("add_member"));
    seen.extend(run.seen.iter().cloned());
    // A decision that needs approval but names no stage is never taken as approved.
    for recheck in [false, true] {
        let mut run = Run::start(request(GRACE, IVAN, "Team Alpha"));
        if recheck {
            run.evaluated();
        }
        let facts = run.facts();
        let mut decision = run.decide_with(&facts);
        decision.outcome = Outcome::NeedsApproval;
        decision.stages.clear();
        let key = run.driving();
        let (facts, decision) = (Box::new(facts), Box::new(decision));
        run.feed(if recheck {
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
        });
        assert_eq!(run.phase(), "manual_intervention");
        seen.extend(run.seen.iter().cloned());
    }
}

/// The re-check re-validates every counted approval.
fn approvals_are_revalidated(seen: &mut BTreeSet<Triple>) {
    // The target's manager changed while the request waited for the window:
    // the old manager's approval no longer counts; only that stage is asked
    // again, the data owner's approval stands.
    let mut run = Run::start(finance(ADA));
    run.now = at("2026-11-27T18:30:00Z");
    run.evaluated();
    run.answer(GRACE, Verdict::Approve);
    run.answer(DORA, Verdict::Approve);
    assert_eq!(run.phase(), "scheduled");
    run.now = at("2026-11-30T06:00:00Z");
    run.woke(Wake::WindowOpens);
    let mut facts = run.facts();
    facts.target_manager = directory().user(MIA);
    run.rechecked_with(facts);
    assert_eq!(run.open_stage(), 0, "the manager stage is asked again");
    assert!(
        run.notes().contains(
            "the approval by `grace.hopper@contoso.com` at stage `manager` no longer counts"
        ),
        "{}",
        run.notes()
    );
    match &run.command("request_approval").unwrap().action {
        Action::RequestApproval { approvers, .. } => assert_eq!(approvers[0].id, id_of(MIA)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run.wf.approvals.len(),
        1,
        "the data owner's approval still counts"
    );
    // Grace answering again is refused: she is no longer eligible.
    run.answer(GRACE, Verdict::Approve);
    assert!(
        run.notes().contains("not an eligible approver"),
        "{}",
        run.notes()
    );
    run.answer(MIA, Verdict::Approve);
    assert_eq!(
        run.phase(),
        "rechecking",
        "data owner's stage still satisfied: re-check"
    );
    let mut facts = run.facts();
    facts.target_manager = directory().user(MIA);
    run.rechecked_with(facts);
    assert_eq!(run.phase(), "executing");
    seen.extend(run.seen.iter().cloned());

    // The UPN now names another directory object: nothing is added.
    let mut run = {
        // Back to just before the re-check.
        let mut r = Run::start(finance(ADA));
        r.evaluated();
        r.answer(GRACE, Verdict::Approve);
        r.answer(DORA, Verdict::Approve);
        r
    };
    let mut facts = run.facts();
    if let Some(t) = facts.target.as_mut() {
        t.id = "99999999-0000-0000-0000-000000000099".into();
    }
    run.rechecked_with(facts);
    assert_eq!(run.phase(), "manual_intervention");
    assert!(
        run.notes()
            .contains("now resolves to another directory object"),
        "{}",
        run.notes()
    );
    assert!(!run.has("add_member"));
    seen.extend(run.seen.iter().cloned());

    // Two tickets for the same person and group have different bindings.
    let p = policy();
    let r = finance(ADA);
    let d = p.evaluate(&r, &common::facts(&p, &r), business_hours());
    let one = stage_binding(&"RITM1".into(), &id_of(ADA), &d, 0);
    assert_ne!(
        one,
        stage_binding(&"RITM2".into(), &id_of(ADA), &d, 0),
        "ticket"
    );
    assert_ne!(
        one,
        stage_binding(&"RITM1".into(), &id_of(PAT), &d, 0),
        "target object id"
    );
    assert_ne!(
        one,
        stage_binding(&"RITM1".into(), &id_of(ADA), &d, 1),
        "stage"
    );
}

fn failures_retries_and_recovery(seen: &mut BTreeSet<Triple>) {
    // A transient add failure waits, then re-checks before trying again.
    let mut run = approved_finance(seen);
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: Some(30),
        },
    );
    assert_eq!(run.phase(), "awaiting_retry");
    let when = run
        .wf
        .timers
        .iter()
        .find(|t| t.key == "retry_add")
        .unwrap()
        .at;
    assert_eq!(when, run.now + TimeDelta::seconds(30));
    run.now = when;
    run.woke(Wake::Retry);
    assert_eq!(
        run.phase(),
        "rechecking",
        "re-evaluated before the next attempt"
    );
    // Disabled in between: no second attempt, and the first one is undone.
    let mut facts = run.facts();
    if let Some(t) = facts.target.as_mut() {
        t.enabled = false;
    }
    run.rechecked_with(facts);
    assert_eq!(run.phase(), "rolling_back");
    assert!(run.has("remove_member") && !run.has("add_member"));
    seen.extend(run.seen.iter().cloned());

    // Attempts run out: roll back.
    let mut run = approved_finance(seen);
    for _ in 0..10 {
        run.fail(
            "add_member",
            ErrorClass::Transient {
                retry_after_seconds: None,
            },
        );
        if run.phase() != "awaiting_retry" {
            break;
        }
        run.now = run.wf.next_wake().unwrap();
        run.woke(Wake::Retry);
        run.rechecked();
    }
    assert_eq!(
        run.phase(),
        "rolling_back",
        "exhausted retries undo any partial add"
    );
    run.removed();
    run.observed(MembershipState::Direct);
    run.woke(Wake::VerifyPoll);
    run.observed(MembershipState::NotMember);
    assert_eq!(run.phase(), "rolled_back");
    assert_eq!(run.ticket_states(), [TicketState::ManualIntervention]);
    seen.extend(run.seen.iter().cloned());

    let mut run = approved_finance(seen);
    run.fail("add_member", ErrorClass::Forbidden);
    assert_eq!(run.phase(), "failed");
    assert!(run.notes().contains("nothing was changed"));
    seen.extend(run.seen.iter().cloned());

    // Interrupted adds: the membership is there (verify), or not (retry via
    // the re-check); with no attempts left, roll back.
    for (observed, expect) in [
        (MembershipState::Direct, "verifying"),
        (MembershipState::NotMember, "awaiting_retry"),
    ] {
        let mut run = approved_finance(seen);
        let add = run.pending("add_member");
        run.feed(Event::Issuing {
            command: add.clone(),
        });
        run.feed(Event::Interrupted {
            key: add.key,
            observed: Some(observed),
            jitter: 0.5,
        });
        assert_eq!(run.phase(), expect);
        seen.extend(run.seen.iter().cloned());
    }
    let mut run = approved_finance(seen);
    run.wf.add_attempts = run.wf.settings.retry.max_attempts;
    let add = run.pending("add_member");
    run.feed(Event::Issuing {
        command: add.clone(),
    });
    run.feed(Event::Interrupted {
        key: add.key,
        observed: Some(MembershipState::NotMember),
        jitter: 0.5,
    });
    assert_eq!(run.phase(), "rolling_back");
    seen.extend(run.seen.iter().cloned());
    // After an interrupted attempt, a re-check that finds the membership grants.
    let mut run = approved_finance(seen);
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: None,
        },
    );
    run.now = run.wf.next_wake().unwrap();
    run.woke(Wake::Retry);
    let mut facts = run.facts();
    facts.membership = MembershipState::Direct;
    run.rechecked_with(facts);
    assert_eq!(
        run.phase(),
        "active",
        "the earlier attempt landed: it is ours"
    );
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(request(ADA, PAT, "HR Portal"));
    run.evaluated();
    run.answer(MIA, Verdict::Approve);
    run.answer("hanna.hr@contoso.com", Verdict::Approve);
    run.rechecked();
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: None,
        },
    );
    run.now = run.wf.next_wake().unwrap();
    run.woke(Wake::Retry);
    let mut facts = run.facts();
    facts.membership = MembershipState::Direct;
    run.rechecked_with(facts);
    assert_eq!(run.phase(), "completed");
    seen.extend(run.seen.iter().cloned());
    // An interrupted ticket update is re-issued under the same key.
    let mut run = Run::start(finance(ADA));
    let update = run.pending("update_ticket");
    run.feed(Event::Issuing {
        command: update.clone(),
    });
    run.feed(Event::Interrupted {
        key: update.key.clone(),
        observed: None,
        jitter: 0.5,
    });
    assert_eq!(run.wf.next_ready(run.now).unwrap().command, update);
    seen.extend(run.seen.iter().cloned());

    // Never visible: roll back; the rollback's read-back fails for good.
    let mut run = approved_finance(seen);
    run.added();
    run.now += TimeDelta::seconds(301);
    run.observed(MembershipState::NotMember);
    assert_eq!(run.phase(), "rolling_back");
    run.removed();
    run.fail("check_membership", ErrorClass::Permanent);
    assert_eq!(run.phase(), "manual_intervention");
    seen.extend(run.seen.iter().cloned());
    let mut run = approved_finance(seen);
    run.added();
    run.fail("check_membership", ErrorClass::Permanent);
    assert_eq!(run.phase(), "rolling_back");
    seen.extend(run.seen.iter().cloned());

    // After the grant: the ticket update fails for good → roll back.
    let mut run = granted(seen);
    run.fail("update_ticket", ErrorClass::Permanent);
    assert_eq!(run.phase(), "rolling_back");
    assert!(
        !run.wf.outbox.iter().any(|p| matches!(
            p.command.action,
            Action::Notify {
                kind: groupgate_core::ports::NoticeKind::Success,
                ..
            }
        )),
        "the success notice of the failed step is dropped"
    );
    seen.extend(run.seen.iter().cloned());
    let mut run = granted(seen);
    run.woke(Wake::Expiry);
    run.removed();
    run.now += TimeDelta::seconds(400);
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "manual_intervention");
    seen.extend(run.seen.iter().cloned());

    // Two closing effects fail in the same step: each keeps its own retry.
    let mut run = granted(seen);
    let transient = ErrorClass::Transient {
        retry_after_seconds: Some(5),
    };
    run.fail("update_ticket", transient);
    run.fail("notify", transient);
    let retries: Vec<&str> = run
        .wf
        .timers
        .iter()
        .filter(|t| t.key.starts_with("retry:"))
        .map(|t| t.key.as_str())
        .collect();
    assert_eq!(
        retries.len(),
        2,
        "two retries, neither replacing the other: {retries:?}"
    );
    run.now += TimeDelta::seconds(6);
    run.woke(Wake::Retry);
    run.woke(Wake::Retry);
    assert!(
        run.wf.outbox.iter().all(|p| p.is_ready(run.now)),
        "both ready again"
    );
    assert_eq!(run.phase(), "active");
    seen.extend(run.seen.iter().cloned());

    // Mini example 2: time-bound.
    let mut run = Run::start(contractor());
    run.evaluated();
    run.answer(MIA, Verdict::Approve);
    run.rechecked();
    run.added();
    run.observed(MembershipState::Direct);
    assert_eq!(
        run.wf.phase,
        Phase::Active {
            expires_at: at("2027-01-31T17:00:00Z")
        }
    );
    seen.extend(run.seen.iter().cloned());

    // A group without expiry completes; a failed closing update rolls back.
    let mut run = Run::start(request(ADA, PAT, "HR Portal"));
    run.evaluated();
    run.answer(MIA, Verdict::Approve);
    run.answer("hanna.hr@contoso.com", Verdict::Approve);
    run.rechecked();
    run.added();
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "completed");
    assert!(
        !run.wf.timers.iter().any(|t| t.purpose == Wake::Watchdog) || !run.wf.outbox.is_empty()
    );
    run.fail("update_ticket", ErrorClass::Permanent);
    assert_eq!(run.phase(), "rolling_back");
    seen.extend(run.seen.iter().cloned());

    // A permanent failure of the intake evaluation needs a person.
    let mut run = Run::start(finance(ADA));
    run.fail("evaluate", ErrorClass::Permanent);
    assert_eq!(run.phase(), "manual_intervention");
    assert!(run.has("notify"));
    seen.extend(run.seen.iter().cloned());
    let mut run = granted(seen);
    run.feed(Event::Offboard);
    run.fail("remove_member", ErrorClass::Forbidden);
    assert_eq!(run.phase(), "manual_intervention");
    seen.extend(run.seen.iter().cloned());
    // The watchdog keeps a workflow with unexecuted effects in view.
    let mut run = Run::start(finance(ADA));
    run.woke(Wake::Watchdog);
    assert!(
        run.wf.timers.iter().any(|t| t.purpose == Wake::Watchdog),
        "re-armed"
    );
    seen.extend(run.seen.iter().cloned());
}

/// Offboarding in every phase: nothing granted is left, nothing pending is added.
fn offboarding_in_every_phase(seen: &mut BTreeSet<Triple>) {
    let cancelled = |run: &mut Run, seen: &mut BTreeSet<Triple>| {
        run.feed(Event::Offboard);
        assert_eq!(run.phase(), "cancelled");
        assert!(run.notes().contains("cancelled: the target was offboarded"));
        assert_eq!(run.ticket_states(), [TicketState::ClosedIncomplete]);
        assert!(!run.wf.outbox.iter().any(|p| matches!(
            p.command.action,
            Action::Evaluate { .. } | Action::AddMember { .. }
        )));
        seen.extend(run.seen.iter().cloned());
    };
    let mut run = Run::start(finance(ADA));
    cancelled(&mut run, seen);
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    run.feed(Event::Offboard);
    assert!(run.has("cancel_approvals"), "approvers are told");
    assert_eq!(run.phase(), "cancelled");
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(finance(ADA));
    run.now = at("2026-11-27T18:30:00Z");
    run.evaluated();
    run.answer(GRACE, Verdict::Approve);
    run.answer(DORA, Verdict::Approve);
    cancelled(&mut run, seen);
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    run.answer(GRACE, Verdict::Approve);
    run.answer(DORA, Verdict::Approve);
    cancelled(&mut run, seen);
    // An add not sent yet is never sent.
    let mut run = approved_finance(seen);
    cancelled(&mut run, seen);
    // An add in flight: removed as soon as it settles.
    let mut run = approved_finance(seen);
    let add = run.pending("add_member");
    run.feed(Event::Issuing { command: add });
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "executing");
    run.added();
    assert_eq!(run.phase(), "removing");
    assert!(run.has("remove_member"));
    seen.extend(run.seen.iter().cloned());
    // Waiting for a retry (an attempt may have landed): removed.
    let mut run = approved_finance(seen);
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: Some(30),
        },
    );
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "removing");
    assert!(
        !run.wf.timers.iter().any(|t| t.key == "retry_add"),
        "no add is retried"
    );
    seen.extend(run.seen.iter().cloned());
    // Re-checking after an attempt: removed.
    let mut run = approved_finance(seen);
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: None,
        },
    );
    run.now = run.wf.next_wake().unwrap();
    run.woke(Wake::Retry);
    let evaluate = run.pending("evaluate");
    run.feed(Event::Issuing {
        command: evaluate.clone(),
    });
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "removing");
    let facts = run.facts();
    let decision = run.decide_with(&facts);
    run.feed(Event::Rechecked {
        key: evaluate.key,
        facts: Box::new(facts),
        decision: Box::new(decision),
    });
    assert_eq!(
        run.phase(),
        "removing",
        "the stale re-check changes nothing"
    );
    seen.extend(run.seen.iter().cloned());
    // Verifying: removed now; the read-back in flight is stale.
    let mut run = approved_finance(seen);
    run.added();
    let check = run.pending("check_membership");
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "removing");
    assert!(
        !run.wf.outbox.iter().any(|p| p.command == check),
        "the unsent read-back is dropped"
    );
    seen.extend(run.seen.iter().cloned());
    // Active and completed: removed.
    let mut run = granted(seen);
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "removing");
    assert!(!run.wf.timers.iter().any(|t| t.purpose == Wake::Expiry));
    run.removed();
    run.feed(Event::Offboard);
    assert!(run.notes().contains("already being removed"));
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(request(ADA, PAT, "HR Portal"));
    run.evaluated();
    run.answer(MIA, Verdict::Approve);
    run.answer("hanna.hr@contoso.com", Verdict::Approve);
    run.rechecked();
    run.added();
    run.observed(MembershipState::Direct);
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "removing");
    seen.extend(run.seen.iter().cloned());
    // Rolling back: already removing.
    let mut run = approved_finance(seen);
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: None,
        },
    );
    run.wf.add_attempts = 100;
    run.now = run.wf.next_wake().unwrap();
    run.woke(Wake::Retry);
    run.rechecked();
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: None,
        },
    );
    assert_eq!(run.phase(), "rolling_back");
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "rolling_back");
    seen.extend(run.seen.iter().cloned());
    // An interrupted removal whose membership is gone is taken as done.
    let mut run = granted(seen);
    run.woke(Wake::Expiry);
    let remove = run.pending("remove_member");
    run.feed(Event::Issuing {
        command: remove.clone(),
    });
    run.feed(Event::Interrupted {
        key: remove.key,
        observed: Some(MembershipState::NotMember),
        jitter: 0.5,
    });
    assert!(matches!(
        run.wf.phase,
        Phase::Removing {
            verify_until: Some(_),
            ..
        }
    ));
    seen.extend(run.seen.iter().cloned());
    let mut run = approved_finance(seen);
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: None,
        },
    );
    run.wf.add_attempts = 100;
    run.now = run.wf.next_wake().unwrap();
    run.woke(Wake::Retry);
    run.rechecked();
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: None,
        },
    );
    let remove = run.pending("remove_member");
    run.feed(Event::Issuing {
        command: remove.clone(),
    });
    run.feed(Event::Interrupted {
        key: remove.key,
        observed: Some(MembershipState::Direct),
        jitter: 0.5,
    });
    assert_eq!(run.phase(), "rolling_back");
    assert!(
        run.wf.next_ready(run.now).is_some(),
        "the removal is sent again"
    );
    seen.extend(run.seen.iter().cloned());
}

fn scenarios() -> BTreeSet<Triple> {
    let mut seen = BTreeSet::new();
    happy_path_and_refusals(&mut seen);
    intake_and_recheck_branches(&mut seen);
    approvals_are_revalidated(&mut seen);
    failures_retries_and_recovery(&mut seen);
    offboarding_in_every_phase(&mut seen);
    seen
}

#[test]
fn every_table_row_is_taken_and_no_other_transition_exists() {
    let seen = scenarios();
    let table: BTreeSet<Triple> = TRANSITIONS
        .iter()
        .filter(|t| t.from != "*")
        .map(|t| (t.from.to_owned(), t.event.to_owned(), t.to.to_owned()))
        .collect();
    let wildcard = |event: &str, from: &str, to: &str| {
        TRANSITIONS
            .iter()
            .any(|t| t.from == "*" && t.event == event && (t.to == "*" && from == to || t.to == to))
    };
    let seen: BTreeSet<Triple> = seen
        .into_iter()
        .filter(|(from, event, to)| {
            !wildcard(event, from, to) || table.contains(&(from.clone(), event.clone(), to.clone()))
        })
        .collect();
    let missing: Vec<_> = table.difference(&seen).collect();
    let extra: Vec<_> = seen.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "table rows no scenario takes: {missing:#?}"
    );
    assert!(
        extra.is_empty(),
        "transitions missing from the table: {extra:#?}"
    );
}

#[test]
fn docs_workflow_md_is_generated_from_the_table() {
    let doc = include_str!("../../../docs/workflow.md");
    assert!(
        doc.contains(&mermaid_diagram()),
        "regenerate the diagram in docs/workflow.md"
    );
    assert!(
        doc.contains(&transition_table()),
        "regenerate the table in docs/workflow.md"
    );
}

#[test]
fn events_that_do_not_fit_are_errors() {
    let run = Run::start(finance(ADA));
    let err = run
        .wf
        .handle(
            &Event::MemberAdded {
                key: "nope".into(),
                receipt: WriteReceipt::default(),
            },
            run.now,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "workflow `RITM0000001` has no pending command `nope`; event `member_added` does not apply"
    );
    let err = run
        .wf
        .handle(
            &Event::Woke {
                key: "expiry".into(),
                purpose: Wake::Expiry,
            },
            run.now,
        )
        .unwrap_err();
    assert!(matches!(err, TransitionError::NotPending { .. }), "{err}");
    let key = run.driving();
    let err = run
        .wf
        .handle(&Event::EffectDone { key, detail: None }, run.now)
        .unwrap_err();
    assert!(
        matches!(err, TransitionError::Unexpected { .. }),
        "a driving command is not a side effect"
    );
}

#[test]
fn workflows_round_trip_through_json() {
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    let json = serde_json::to_string(&run.wf).unwrap();
    let back: Workflow = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    assert_eq!(back, run.wf);
}
