//! A readable timeline of audit records.

use groupgate_core::MembershipState;
use groupgate_core::audit::{Actor, AuditRecord, Entry};
use groupgate_core::workflow::{Action, Event, Verdict, Wake};

fn wake_name(w: Wake) -> &'static str {
    match w {
        Wake::Escalate => "escalation",
        Wake::ApprovalDeadline => "approval deadline",
        Wake::WindowOpens => "change window opens",
        Wake::Retry => "retry",
        Wake::VerifyPoll => "read-back",
        Wake::Expiry => "access expiry",
    }
}

/// One line per record worth showing (ticket notes, asks, decisions,
/// directory writes and reads, timers, failures).
pub(crate) fn lines(records: &[AuditRecord]) -> Vec<String> {
    let mut out = Vec::new();
    for r in records {
        let text = match &r.entry {
            Entry::Started { request } => Some(format!(
                "ticket opened: \"{}\" for {} (requested by {})",
                request.resource, request.target, request.requester
            )),
            Entry::Evaluation {
                decision, recheck, ..
            } => {
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
                        format!(
                            "{} ({})",
                            s.name,
                            s.approvers
                                .iter()
                                .map(|a| &*a.id)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .collect();
                let denies: Vec<&str> = decision.deny_reasons().map(|r| r.code.as_str()).collect();
                let mut line = format!(
                    "policy {}: {outcome}, {group}",
                    if *recheck {
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
                Some(line)
            }
            Entry::Applied { event, phase } => match &**event {
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
                Event::Woke { purpose } => {
                    Some(format!("timer: {} → {phase}", wake_name(*purpose)))
                }
                Event::MembershipObserved { state } => Some(format!(
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
                _ => None,
            },
            Entry::Refused { event, reason } => Some(format!("refused {}: {reason}", event.name())),
            Entry::Issued { command } => match &command.action {
                Action::UpdateTicket { state, note } => Some(match state {
                    Some(s) => format!("ticket → {s:?}: {note}"),
                    None => format!("ticket note: {note}"),
                }),
                Action::RequestApproval {
                    stage,
                    approvers,
                    escalation,
                    ..
                } => Some(format!(
                    "{}asked {} to approve stage `{stage}`",
                    if *escalation { "escalated: " } else { "" },
                    approvers
                        .iter()
                        .map(|a| &**a)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Action::AddMember { group, user } => {
                    Some(format!("directory: add {user} to {group}"))
                }
                Action::RemoveMember { group, user } => {
                    Some(format!("directory: remove {user} from {group}"))
                }
                Action::Notify { kind, text } => Some(format!("chat notice ({kind:?}): {text}")),
                Action::WakeAt { at, purpose }
                    if matches!(purpose, Wake::Expiry | Wake::WindowOpens | Wake::Retry) =>
                {
                    Some(format!(
                        "timer set: {} at {}",
                        wake_name(*purpose),
                        at.format("%Y-%m-%d %H:%M:%S")
                    ))
                }
                _ => None,
            },
            Entry::Executed { error: Some(e), .. } => Some(format!("  ↳ failed: {e}")),
            Entry::Executed { .. } => None,
        };
        if let Some(text) = text {
            let who = match &r.actor {
                Actor::Approver(_) | Actor::System | Actor::Requester(_) => String::new(),
                Actor::Operator(o) => format!(" [{o}]"),
            };
            out.push(format!(
                "{}  {:<12} {text}{who}",
                r.at.format("%Y-%m-%d %H:%M:%S"),
                r.workflow
            ));
        }
    }
    out
}
