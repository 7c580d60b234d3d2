//! The workflow state machine on the example policy: every transition of the
//! table is driven here (and only those), with the refusals, retries and
//! rollbacks the engine relies on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use groupgate_core::ports::{ErrorClass, PortError, TicketState, WriteReceipt};
use groupgate_core::workflow::{
    Action, ApprovalAnswer, Command, Event, Phase, TRANSITIONS, TransitionError, Verdict, Wake,
    Workflow, WorkflowSettings, approval_binding, mermaid_diagram, transition_table,
};
use groupgate_core::{CompiledPolicy, Decision, MembershipState, Outcome, Request, UserId};
use std::collections::BTreeSet;
use std::sync::Arc;

type Triple = (String, String, String);

/// Drives one workflow, recording every (from, event, to) it takes.
struct Run {
    policy: CompiledPolicy,
    wf: Workflow,
    now: DateTime<Utc>,
    settings: WorkflowSettings,
    last: Vec<Command>,
    seen: BTreeSet<Triple>,
}

fn label(event: &Event) -> String {
    match event {
        Event::Woke { purpose } => {
            let p = serde_json::to_value(purpose).unwrap();
            format!("woke({})", p.as_str().unwrap())
        }
        other => other.name().to_owned(),
    }
}

impl Run {
    fn start(request: Request) -> Run {
        let (wf, last) = Workflow::start(request.ticket.as_str().into(), request);
        let mut seen = BTreeSet::new();
        seen.insert(("start".into(), "start".into(), wf.phase.name().into()));
        Run {
            policy: policy(),
            wf,
            now: business_hours(),
            settings: WorkflowSettings::default(),
            last,
            seen,
        }
    }

    fn feed(&mut self, event: Event) -> &[Command] {
        let from = self.wf.phase.name().to_owned();
        let (wf, commands) = self
            .wf
            .handle(&event, self.now, &self.settings)
            .unwrap_or_else(|e| panic!("{e}"));
        self.seen
            .insert((from, label(&event), wf.phase.name().to_owned()));
        self.wf = wf;
        self.last = commands;
        &self.last
    }

    fn decide(&self) -> (Decision, Option<UserId>) {
        let r = &self.wf.request;
        let f = facts(&self.policy, r);
        let target = f.target.as_ref().map(|t| t.id.clone());
        (self.policy.evaluate(r, &f, self.now), target)
    }

    fn evaluated(&mut self) -> &[Command] {
        let (decision, target) = self.decide();
        self.feed(Event::Evaluated {
            decision: Box::new(decision),
            target,
        })
    }

    fn rechecked(&mut self) -> &[Command] {
        let (decision, target) = self.decide();
        self.feed(Event::Rechecked {
            decision: Box::new(decision),
            target,
        })
    }

    fn answer(&mut self, who: &str, verdict: Verdict) -> &[Command] {
        let stage = match self.wf.phase {
            Phase::AwaitingApproval { stage, .. } => stage,
            _ => panic!("not awaiting approval: {:?}", self.wf.phase),
        };
        let name = self.wf.decision.as_ref().unwrap().stages[stage]
            .name
            .clone();
        let answer = ApprovalAnswer {
            stage: name,
            approver: Arc::from(who),
            verdict,
            comment: None,
            channel: "teams".into(),
            at: self.now,
            binding: self.wf.binding.clone().unwrap(),
        };
        self.feed(Event::Answered { answer })
    }

    fn fail(&mut self, action: &str, class: ErrorClass) -> &[Command] {
        let command = self.command(action).unwrap_or_else(|| Command {
            key: "k".into(),
            action: Action::Evaluate { recheck: false },
        });
        self.feed(Event::EffectFailed {
            command,
            error: PortError::new(class, "boom"),
            jitter: 0.5,
        })
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

    fn observed(&mut self, state: MembershipState) -> &[Command] {
        self.feed(Event::MembershipObserved { state })
    }

    fn woke(&mut self, purpose: Wake) -> &[Command] {
        self.feed(Event::Woke { purpose })
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
    r.end_date = Some(at("2027-01-31T17:00:00Z"));
    r
}

/// Runs a Finance BI request through both approvals to `executing`.
fn approved_finance(seen: &mut BTreeSet<Triple>) -> Run {
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    run.answer(GRACE, Verdict::Approve);
    run.answer("dora.data@contoso.com", Verdict::Approve);
    assert_eq!(run.phase(), "rechecking");
    run.rechecked();
    assert_eq!(run.phase(), "executing");
    seen.extend(run.seen.iter().cloned());
    run
}

fn granted(seen: &mut BTreeSet<Triple>) -> Run {
    let mut run = approved_finance(seen);
    run.feed(Event::MemberAdded {
        receipt: WriteReceipt {
            already: false,
            request_ids: vec!["req-add-1".into()],
        },
    });
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "active");
    seen.extend(run.seen.iter().cloned());
    run
}

fn scenarios() -> BTreeSet<Triple> {
    let mut seen = BTreeSet::new();

    // Mini example 1, end to end: two stages, add, propagation delay, expiry.
    let mut run = Run::start(finance(ADA));
    assert!(run.has("evaluate"));
    assert_eq!(run.ticket_states(), [TicketState::InProgress]);
    run.evaluated();
    assert_eq!(run.phase(), "awaiting_approval");
    assert_eq!(run.ticket_states(), [TicketState::ApprovalRequired]);
    match &run.command("request_approval").unwrap().action {
        Action::RequestApproval {
            stage, approvers, ..
        } => {
            assert_eq!(&**stage, "manager");
            assert_eq!(approvers.iter().map(|a| &**a).collect::<Vec<_>>(), [GRACE]);
        }
        other => panic!("{other:?}"),
    }
    assert!(run.last.iter().any(|c| matches!(
        c.action,
        Action::WakeAt {
            purpose: Wake::ApprovalDeadline,
            ..
        }
    )));
    assert!(run.last.iter().any(|c| matches!(
        c.action,
        Action::WakeAt {
            purpose: Wake::Escalate,
            ..
        }
    )));
    // Refusals: each is noted and changes nothing.
    for who in [ADA, "eve.former@contoso.com", "dora.data@contoso.com"] {
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
    run.answer("dora.data@contoso.com", Verdict::Approve);
    assert_eq!(run.phase(), "rechecking");
    assert!(run.has("evaluate"));
    run.rechecked();
    let add = run.command("add_member").expect("adds after the re-check");
    assert!(add.key.starts_with("RITM0000001/"), "{}", add.key);
    run.feed(Event::MemberAdded {
        receipt: WriteReceipt {
            already: false,
            request_ids: vec!["req-add-1".into()],
        },
    });
    assert!(run.has("check_membership"));
    run.observed(MembershipState::NotMember);
    assert_eq!(run.phase(), "verifying");
    run.woke(Wake::VerifyPoll);
    assert!(run.has("check_membership"));
    run.now += TimeDelta::seconds(20);
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "active");
    assert_eq!(run.ticket_states(), [TicketState::ClosedComplete]);
    assert!(run.notes().contains("req-add-1"), "{}", run.notes());
    assert!(run.has("notify"));
    // 180 days (financial-data cap) from the grant.
    let expiry = match run.wf.phase {
        Phase::Active { expires_at } => expires_at,
        _ => unreachable!(),
    };
    assert_eq!(expiry, run.now + TimeDelta::days(180));
    run.now = expiry;
    run.woke(Wake::Expiry);
    assert!(run.has("remove_member"));
    run.feed(Event::MemberRemoved {
        receipt: WriteReceipt::default(),
    });
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "removing");
    run.woke(Wake::VerifyPoll);
    run.observed(MembershipState::NotMember);
    assert_eq!(run.phase(), "removed");
    assert!(run.notes().contains("access expired"));
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
    run.answer("dora.data@contoso.com", Verdict::Reject);
    assert_eq!(run.phase(), "rejected");
    assert_eq!(run.ticket_states(), [TicketState::ClosedIncomplete]);
    assert!(matches!(
        run.wf.handle(&Event::Offboard, run.now, &run.settings),
        Err(TransitionError::Finished { .. })
    ));
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    run.woke(Wake::ApprovalDeadline);
    assert_eq!(run.phase(), "approval_expired");
    seen.extend(run.seen.iter().cloned());

    // N of M: one person cannot count twice.
    let mut run = Run::start(request(PAT, ADA, "AP Approvers"));
    run.evaluated();
    run.answer(GRACE, Verdict::Approve);
    // Stages: manager, security (2 of 2), then the financial-data tag's data owner.
    assert_eq!(
        run.wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        }
    );
    run.answer("sam.sec@contoso.com", Verdict::Approve);
    run.answer("sam.sec@contoso.com", Verdict::Approve);
    assert!(run.notes().contains("already approved"));
    assert_eq!(
        run.wf.phase,
        Phase::AwaitingApproval {
            stage: 1,
            escalated: false
        }
    );
    run.answer("sol.sec@contoso.com", Verdict::Approve);
    assert_eq!(
        run.wf.phase,
        Phase::AwaitingApproval {
            stage: 2,
            escalated: false
        }
    );
    run.answer("dora.data@contoso.com", Verdict::Approve);
    assert_eq!(run.phase(), "rechecking");
    seen.extend(run.seen.iter().cloned());

    // An answer for something else (binding) or another stage is refused.
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    let mut answer = ApprovalAnswer {
        stage: Arc::from("manager"),
        approver: Arc::from(GRACE),
        verdict: Verdict::Approve,
        comment: None,
        channel: "slack".into(),
        at: run.now,
        binding: "sha256:not-what-was-asked".into(),
    };
    run.feed(Event::Answered {
        answer: answer.clone(),
    });
    assert!(run.notes().contains("approves something else"));
    answer.binding = run.wf.binding.clone().unwrap();
    answer.stage = Arc::from("data-owner");
    run.feed(Event::Answered { answer });
    assert!(run.notes().contains("but stage `manager` is open"));
    assert!(run.wf.approvals.is_empty());
    seen.extend(run.seen.iter().cloned());

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
    run.answer("dora.data@contoso.com", Verdict::Approve);
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
    let crafted =
        |run: &mut Run, change: &dyn Fn(&mut Decision), target: Option<UserId>, recheck: bool| {
            let (mut decision, _) = run.decide();
            change(&mut decision);
            let decision = Box::new(decision);
            if recheck {
                run.feed(Event::Rechecked { decision, target });
            } else {
                run.feed(Event::Evaluated { decision, target });
            }
        };
    let ivan: Option<UserId> = Some("11111111-0000-0000-0000-000000000018".into());
    let mut run = Run::start(request(GRACE, IVAN, "Team Alpha"));
    crafted(
        &mut run,
        &|d| d.earliest_execution = Some(at("2026-11-26T07:00:00Z")),
        ivan.clone(),
        false,
    );
    assert_eq!(run.phase(), "scheduled");
    seen.extend(run.seen.iter().cloned());
    let mut run = Run::start(request(GRACE, IVAN, "Team Alpha"));
    crafted(&mut run, &|_| {}, None, false);
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
        let mut run = approved_finance(&mut seen);
        // Back to the re-check with a changed decision.
        let mut wf = run.wf.clone();
        wf.phase = Phase::Rechecking;
        run.wf = wf;
        let target = run.wf.target.clone();
        crafted(&mut run, &*change, target, true);
        assert_eq!(run.phase(), expect);
        if expect == "awaiting_approval" {
            assert!(run.wf.approvals.is_empty(), "approvals no longer count");
            assert_eq!(run.ticket_states(), [TicketState::ApprovalRequired]);
        }
        seen.extend(run.seen.iter().cloned());
    }
    let mut run = approved_finance(&mut seen);
    run.wf.phase = Phase::Rechecking;
    crafted(&mut run, &|_| {}, None, true);
    assert_eq!(run.phase(), "manual_intervention");
    seen.extend(run.seen.iter().cloned());
    // A pre-approved request whose re-check now needs approval asks for it.
    let mut run = Run::start(request(GRACE, IVAN, "Team Alpha"));
    run.evaluated();
    crafted(
        &mut run,
        &|d| d.outcome = Outcome::NeedsApproval,
        ivan.clone(),
        true,
    );
    assert_eq!(run.phase(), "awaiting_approval");
    assert!(!run.has("add_member"));
    seen.extend(run.seen.iter().cloned());

    // Retries: transient failures wait (Retry-After honoured), then re-issue the same command.
    let mut run = approved_finance(&mut seen);
    let add = run.command("add_member").unwrap();
    run.fail(
        "add_member",
        ErrorClass::Transient {
            retry_after_seconds: Some(30),
        },
    );
    assert_eq!(run.phase(), "executing");
    match run.last[0].action {
        Action::WakeAt {
            at: when,
            purpose: Wake::Retry,
        } => assert_eq!(when, run.now + TimeDelta::seconds(30)),
        ref other => panic!("{other:?}"),
    }
    run.woke(Wake::Retry);
    assert_eq!(
        run.last,
        vec![add.clone()],
        "the same command, same idempotency key"
    );
    for _ in 0..10 {
        run.last = vec![add.clone()];
        run.fail(
            "add_member",
            ErrorClass::Transient {
                retry_after_seconds: None,
            },
        );
        if run.phase() != "executing" {
            break;
        }
        run.woke(Wake::Retry);
    }
    assert_eq!(
        run.phase(),
        "rolling_back",
        "exhausted retries undo any partial add"
    );
    assert!(run.has("remove_member"));
    run.feed(Event::MemberRemoved {
        receipt: WriteReceipt::default(),
    });
    run.observed(MembershipState::Direct);
    run.woke(Wake::VerifyPoll);
    run.observed(MembershipState::NotMember);
    assert_eq!(run.phase(), "rolled_back");
    assert_eq!(run.ticket_states(), [TicketState::ManualIntervention]);
    seen.extend(run.seen.iter().cloned());

    let mut run = approved_finance(&mut seen);
    run.fail("add_member", ErrorClass::Forbidden);
    assert_eq!(run.phase(), "failed");
    assert!(run.notes().contains("nothing was changed"));
    seen.extend(run.seen.iter().cloned());

    // Never visible: roll back.
    let mut run = approved_finance(&mut seen);
    run.feed(Event::MemberAdded {
        receipt: WriteReceipt::default(),
    });
    run.now += TimeDelta::seconds(301);
    run.observed(MembershipState::NotMember);
    assert_eq!(run.phase(), "rolling_back");
    run.feed(Event::MemberRemoved {
        receipt: WriteReceipt::default(),
    });
    run.fail("check_membership", ErrorClass::Permanent);
    assert_eq!(run.phase(), "manual_intervention");
    seen.extend(run.seen.iter().cloned());
    let mut run = approved_finance(&mut seen);
    run.feed(Event::MemberAdded {
        receipt: WriteReceipt::default(),
    });
    run.fail("check_membership", ErrorClass::Permanent);
    assert_eq!(run.phase(), "rolling_back");
    seen.extend(run.seen.iter().cloned());

    // After the grant: the ticket update fails for good → roll back; offboarding; failed removal.
    let mut run = granted(&mut seen);
    run.fail("update_ticket", ErrorClass::Permanent);
    assert_eq!(run.phase(), "rolling_back");
    seen.extend(run.seen.iter().cloned());
    let mut run = granted(&mut seen);
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "removing");
    run.fail("remove_member", ErrorClass::Forbidden);
    assert_eq!(run.phase(), "manual_intervention");
    seen.extend(run.seen.iter().cloned());
    let mut run = granted(&mut seen);
    run.woke(Wake::Expiry);
    run.feed(Event::MemberRemoved {
        receipt: WriteReceipt::default(),
    });
    run.now += TimeDelta::seconds(400);
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "manual_intervention");
    seen.extend(run.seen.iter().cloned());

    // Mini example 2 completes without expiry handling? No: it is time-bound.
    let mut run = Run::start(contractor());
    run.evaluated();
    run.answer(MIA, Verdict::Approve);
    run.rechecked();
    run.feed(Event::MemberAdded {
        receipt: WriteReceipt::default(),
    });
    run.observed(MembershipState::Direct);
    assert_eq!(
        run.wf.phase,
        Phase::Active {
            expires_at: at("2027-01-31T17:00:00Z")
        }
    );
    seen.extend(run.seen.iter().cloned());

    // A group without expiry completes; offboarding removes it.
    let mut run = Run::start(request(ADA, PAT, "HR Portal"));
    run.evaluated();
    run.answer(MIA, Verdict::Approve);
    run.answer("hanna.hr@contoso.com", Verdict::Approve);
    run.rechecked();
    run.feed(Event::MemberAdded {
        receipt: WriteReceipt::default(),
    });
    run.observed(MembershipState::Direct);
    assert_eq!(run.phase(), "completed");
    run.feed(Event::Offboard);
    assert_eq!(run.phase(), "removing");
    seen.extend(run.seen.iter().cloned());

    // A permanent failure of the intake evaluation needs a person.
    let mut run = Run::start(finance(ADA));
    run.fail("evaluate", ErrorClass::Permanent);
    assert_eq!(run.phase(), "manual_intervention");
    assert!(run.has("notify"));
    seen.extend(run.seen.iter().cloned());

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
    // Retries keep the phase: fold them into the `*` rows.
    let seen: BTreeSet<Triple> = seen
        .into_iter()
        .filter(|(from, event, to)| {
            !((event == "effect_failed" || event == "woke(retry)") && from == to)
        })
        .collect();
    let missing: Vec<_> = table.difference(&seen).collect();
    let extra: Vec<_> = seen
        .difference(&table)
        .filter(|(_, event, to)| !(event == "effect_failed" && to == "manual_intervention"))
        .collect();
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
        .handle(&Event::Offboard, run.now, &run.settings)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "event `offboard` does not fit workflow `RITM0000001` in phase `received`"
    );
    let err = run
        .wf
        .handle(
            &Event::Woke {
                purpose: Wake::Retry,
            },
            run.now,
            &run.settings,
        )
        .unwrap_err();
    assert!(matches!(err, TransitionError::Unexpected { .. }));
}

#[test]
fn binding_covers_user_group_expiry_and_policy() {
    let p = policy();
    let r = contractor();
    let d = p.evaluate(&r, &facts(&p, &r), business_hours());
    let base = approval_binding(&r, &d);
    let mut other = r.clone();
    other.end_date = Some(at("2027-01-30T17:00:00Z"));
    let d2 = p.evaluate(&other, &facts(&p, &other), business_hours());
    assert_ne!(base, approval_binding(&other, &d2), "expiry");
    let mut d3 = d.clone();
    d3.policy_digest = Arc::from("sha256:other");
    assert_ne!(base, approval_binding(&r, &d3), "policy");
    let mut r4 = r.clone();
    r4.target = ADA.into();
    assert_ne!(base, approval_binding(&r4, &d), "user");
    assert_eq!(base, approval_binding(&r, &d), "deterministic");
}

#[test]
fn workflows_round_trip_through_json() {
    let mut run = Run::start(finance(ADA));
    run.evaluated();
    let json = serde_json::to_string(&run.wf).unwrap();
    let back: Workflow = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    assert_eq!(back.phase, run.wf.phase);
}
