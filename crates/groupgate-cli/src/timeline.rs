//! A readable timeline of audit records.

use groupgate_core::MembershipState;
use groupgate_core::audit::{Actor, AuditRecord, Entry};
use groupgate_core::workflow::{Action, Event, Verdict, Wake, Workflow};
use groupgate_core::{Decision, WorkflowId};
use std::collections::HashMap;

fn wake_name(w: Wake) -> &'static str {
    match w {
        Wake::Escalate => "escalation",
        Wake::ApprovalDeadline => "approval deadline",
        Wake::WindowOpens => "change window opens",
        Wake::Retry => "retry",
        Wake::VerifyPoll => "read-back",
        Wake::Expiry => "access expiry",
        Wake::Watchdog => "watchdog",
    }
}

fn decision_line(decision: &Decision, recheck: bool) -> String {
    let group = decision
        .group
        .as_ref()
        .map(|g| g.key.to_string())
        .unwrap_or_else(|| "no group".to_owned());
    let outcome = serde_json::to_value(decision.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let stages: Vec<String> = decision
        .stages
        .iter()
        .map(|s| {
            let who: Vec<&str> = s.approvers.iter().map(|a| &*a.name).collect();
            format!("{} ({})", s.name, who.join(", "))
        })
        .collect();
    let denies: Vec<&str> = decision.deny_reasons().map(|r| r.code.as_str()).collect();
    let mut line = format!(
        "policy {}: {outcome}, {group}",
        if recheck {
            "re-checked before acting"
        } else {
            "evaluated"
        }
    );
    if !stages.is_empty() {
        line.push_str(&format!("; stages: {}", stages.join(" → ")));
    }
    if !denies.is_empty() {
        line.push_str(&format!("; {}", denies.join(", ")));
    }
    line
}

fn command_line(action: &Action) -> Option<String> {
    match action {
        Action::UpdateTicket { state, note, .. } => Some(match state {
            Some(s) => format!("ticket → {s:?}: {note}"),
            None => format!("ticket note: {note}"),
        }),
        Action::RequestApproval {
            stage,
            approvers,
            escalation,
            ..
        } => {
            let who: Vec<&str> = approvers.iter().map(|a| &*a.name).collect();
            Some(format!(
                "{}asked {} to approve stage `{stage}`",
                if *escalation { "escalated: " } else { "" },
                who.join(", ")
            ))
        }
        Action::AddMember { group, user } => Some(format!("directory: add {user} to {group}")),
        Action::RemoveMember { group, user } => {
            Some(format!("directory: remove {user} from {group}"))
        }
        Action::Notify { kind, text } => Some(format!("chat notice ({kind:?}): {text}")),
        _ => None,
    }
}

/// One line per record worth showing (ticket notes, asks, decisions,
/// directory writes and reads, timers, failures). Workflows are replayed
/// alongside, so timers set by a step can be shown too.
pub(crate) fn lines(records: &[AuditRecord]) -> Vec<String> {
    let mut narrator = Narrator::default();
    let mut out = Vec::new();
    for r in records {
        for line in narrator.narrate(r) {
            let who = match &r.actor {
                Actor::Approver(_) | Actor::System | Actor::Requester(_) => String::new(),
                Actor::Operator(o) => format!(" [{o}]"),
            };
            out.push(format!(
                "{}  {:<12} {line}{who}",
                r.at.format("%Y-%m-%d %H:%M:%S"),
                r.workflow
            ));
        }
    }
    out
}

/// Says in words what records mean, one record at a time, replaying each
/// workflow seen so far (for the timers a step sets).
#[derive(Default)]
pub(crate) struct Narrator {
    workflows: HashMap<WorkflowId, Workflow>,
}

impl Narrator {
    /// What `r` says, in as many lines as it takes (none for bookkeeping
    /// records).
    pub(crate) fn narrate(&mut self, r: &AuditRecord) -> Vec<String> {
        let workflows = &mut self.workflows;
        let mut text: Vec<String> = Vec::new();
        match &r.entry {
            Entry::Started { request, settings } => {
                text.push(format!(
                    "ticket opened: \"{}\" for {} (requested by {})",
                    request.resource, request.target, request.requester
                ));
                let (wf, _) = Workflow::start(r.workflow.clone(), request.clone(), *settings, r.at);
                workflows.insert(r.workflow.clone(), wf);
            }
            Entry::Applied { event, phase } => {
                let before = workflows.get(&r.workflow);
                let timers_before: Vec<String> = before
                    .map(|w| {
                        w.timers
                            .iter()
                            .map(|t| format!("{}@{}", t.key, t.at))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(line) = event_line(event, phase) {
                    text.push(line);
                }
                if let Some(wf) = before
                    && let Ok((next, _)) = wf.handle(event, r.at)
                {
                    for t in &next.timers {
                        let shown = matches!(t.purpose, Wake::Expiry | Wake::WindowOpens)
                            || (t.purpose == Wake::Retry && t.key == "retry_add");
                        if shown && !timers_before.contains(&format!("{}@{}", t.key, t.at)) {
                            text.push(format!(
                                "timer set: {} at {}",
                                wake_name(t.purpose),
                                t.at.format("%Y-%m-%d %H:%M:%S")
                            ));
                        }
                    }
                    workflows.insert(r.workflow.clone(), next);
                }
            }
            Entry::Refused { event, reason } => {
                text.push(format!("refused {}: {reason}", event.name()))
            }
            Entry::Incident { operation, error } => {
                text.push(format!("incident in {operation}: {error}"))
            }
            Entry::Drift {
                group,
                action,
                error,
                ..
            } => text.push(match error {
                Some(e) => format!("drift: membership of {group} outside groupgate; {action}: {e}"),
                None => format!("drift: membership of {group} outside groupgate; {action}"),
            }),
            Entry::Checkpoint { covers, .. } => text.push(format!(
                "signed checkpoint of the trail through seq {covers}"
            )),
            Entry::Reminded { ends_at, told } => text.push(format!(
                "reminded that access ends at {}{}",
                ends_at.format("%Y-%m-%d %H:%M:%S"),
                if told.is_empty() {
                    String::new()
                } else {
                    format!(" (told {})", told.join(", "))
                }
            )),
            Entry::PolicyChanged { from, to } => {
                text.push(format!("policy reloaded: {from} replaced by {to}"))
            }
        }
        text
    }
}

fn event_line(event: &Event, phase: &str) -> Option<String> {
    match event {
        Event::Evaluated { decision, .. } => Some(decision_line(decision, false)),
        Event::Rechecked { decision, .. } => Some(decision_line(decision, true)),
        Event::Answered { answer } => {
            let verdict = if answer.verdict == Verdict::Approve {
                "approves"
            } else {
                "rejects"
            };
            Some(format!(
                "{} {verdict} stage `{}` via {} → {phase}",
                answer.approver, answer.stage, answer.channel
            ))
        }
        Event::Woke { purpose, .. } if *purpose != Wake::Watchdog => {
            Some(format!("timer: {} → {phase}", wake_name(*purpose)))
        }
        Event::MembershipObserved { state, .. } => Some(format!(
            "directory read-back: {} → {phase}",
            match state {
                MembershipState::Direct => "member",
                MembershipState::Transitive => "member through nesting",
                MembershipState::NotMember => "not a member",
            }
        )),
        Event::Offboard => Some(format!("offboarding requested → {phase}")),
        Event::EffectFailed { command, error, .. } => Some(format!(
            "{} failed: {error} → {phase}",
            command.action.name()
        )),
        Event::Issuing { command } => command_line(&command.action),
        Event::Interrupted { key, observed, .. } => Some(format!(
            "recovered `{key}` after an interruption{} → {phase}",
            observed
                .map(|s| format!(" (directory says {s:?})"))
                .unwrap_or_default()
        )),
        _ => None,
    }
}
