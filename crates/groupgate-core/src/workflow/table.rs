//! The transition table, as data: `docs/workflow.md` is generated from it and
//! a test drives every row through [`super::Workflow::handle`], so the two
//! cannot drift apart.

/// One row of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The phase before.
    pub from: &'static str,
    /// The event.
    pub event: &'static str,
    /// The phase after.
    pub to: &'static str,
    /// When this row applies, and the main commands issued.
    pub when: &'static str,
}

const fn t(
    from: &'static str,
    event: &'static str,
    to: &'static str,
    when: &'static str,
) -> Transition {
    Transition {
        from,
        event,
        to,
        when,
    }
}

/// Every transition of the workflow state machine. In every phase a command
/// may fail with a transient error (the phase stays; a `retry` wake re-issues
/// the command); final phases accept exactly that for their closing ticket
/// update and notice. Those rows are listed once, under `*`.
pub const TRANSITIONS: &[Transition] = &[
    t(
        "start",
        "start",
        "received",
        "update ticket (in progress); evaluate",
    ),
    t(
        "received",
        "evaluated",
        "denied",
        "decision deny; ticket closed incomplete with the reasons",
    ),
    t(
        "received",
        "evaluated",
        "no_op",
        "decision already_member; ticket closed complete",
    ),
    t(
        "received",
        "evaluated",
        "awaiting_approval",
        "decision needs_approval; ask stage 1; wake at the approval deadline (and to escalate)",
    ),
    t(
        "received",
        "evaluated",
        "scheduled",
        "pre-approved, change window closed; wake when it opens",
    ),
    t(
        "received",
        "evaluated",
        "rechecking",
        "pre-approved, window open; evaluate again",
    ),
    t(
        "received",
        "evaluated",
        "manual_intervention",
        "allowed, but the facts lack the target's object id",
    ),
    t(
        "awaiting_approval",
        "answered",
        "awaiting_approval",
        "refused answer (wrong stage, binding, self-approval, ineligible, repeated: noted on the ticket), or approval below the stage's count, or the stage completes and the next stage is asked",
    ),
    t(
        "awaiting_approval",
        "answered",
        "rejected",
        "an eligible approver rejects; outstanding asks cancelled",
    ),
    t(
        "awaiting_approval",
        "answered",
        "scheduled",
        "the last stage completes, change window closed",
    ),
    t(
        "awaiting_approval",
        "answered",
        "rechecking",
        "the last stage completes, window open",
    ),
    t(
        "awaiting_approval",
        "woke(escalate)",
        "awaiting_approval",
        "the stage's alternates are asked",
    ),
    t(
        "awaiting_approval",
        "woke(approval_deadline)",
        "approval_expired",
        "outstanding asks cancelled; ticket closed incomplete",
    ),
    t(
        "scheduled",
        "woke(window_opens)",
        "rechecking",
        "evaluate again right before acting",
    ),
    t(
        "rechecking",
        "rechecked",
        "denied",
        "the fresh decision denies (user disabled, group now role-assignable, …)",
    ),
    t(
        "rechecking",
        "rechecked",
        "no_op",
        "the access appeared meanwhile",
    ),
    t(
        "rechecking",
        "rechecked",
        "awaiting_approval",
        "user, group, expiry or policy changed since approval: approvals start over",
    ),
    t(
        "rechecking",
        "rechecked",
        "scheduled",
        "the window closed meanwhile",
    ),
    t(
        "rechecking",
        "rechecked",
        "executing",
        "still allowed, same binding: add the member",
    ),
    t(
        "rechecking",
        "rechecked",
        "manual_intervention",
        "allowed, but the facts lack the target's object id",
    ),
    t(
        "executing",
        "member_added",
        "verifying",
        "read the membership back",
    ),
    t(
        "executing",
        "effect_failed",
        "failed",
        "the add failed permanently (forbidden, not found, invalid): nothing changed",
    ),
    t(
        "executing",
        "effect_failed",
        "rolling_back",
        "the add kept failing transiently: remove any partial change",
    ),
    t(
        "verifying",
        "membership_observed",
        "active",
        "visible, time-bound: ticket closed complete; wake at the expiry",
    ),
    t(
        "verifying",
        "membership_observed",
        "completed",
        "visible, no expiry: ticket closed complete",
    ),
    t(
        "verifying",
        "membership_observed",
        "verifying",
        "not visible yet: poll again",
    ),
    t(
        "verifying",
        "membership_observed",
        "rolling_back",
        "never visible before the deadline: remove it",
    ),
    t(
        "verifying",
        "woke(verify_poll)",
        "verifying",
        "read the membership again",
    ),
    t(
        "verifying",
        "effect_failed",
        "rolling_back",
        "reading back failed for good: remove it",
    ),
    t(
        "active",
        "woke(expiry)",
        "removing",
        "remove the membership",
    ),
    t("active", "offboard", "removing", "remove the membership"),
    t("completed", "offboard", "removing", "remove the membership"),
    t(
        "active",
        "effect_failed",
        "rolling_back",
        "the ticket could not be updated after the add: remove it",
    ),
    t(
        "removing",
        "member_removed",
        "removing",
        "read the membership back",
    ),
    t(
        "removing",
        "membership_observed",
        "removed",
        "gone: noted on the ticket",
    ),
    t(
        "removing",
        "membership_observed",
        "removing",
        "still visible: poll again",
    ),
    t(
        "removing",
        "membership_observed",
        "manual_intervention",
        "still present after the deadline",
    ),
    t(
        "removing",
        "woke(verify_poll)",
        "removing",
        "read the membership again",
    ),
    t(
        "removing",
        "effect_failed",
        "manual_intervention",
        "the removal failed for good",
    ),
    t(
        "rolling_back",
        "member_removed",
        "rolling_back",
        "read the membership back",
    ),
    t(
        "rolling_back",
        "membership_observed",
        "rolled_back",
        "gone: ticket to manual intervention, failure notice",
    ),
    t(
        "rolling_back",
        "membership_observed",
        "rolling_back",
        "still visible: poll again",
    ),
    t(
        "rolling_back",
        "woke(verify_poll)",
        "rolling_back",
        "read the membership again",
    ),
    t(
        "rolling_back",
        "effect_failed",
        "manual_intervention",
        "the rollback failed for good",
    ),
    t(
        "*",
        "effect_failed",
        "*",
        "transient failure with attempts left: wake to retry (Retry-After honoured, exponential backoff with full jitter); in a final phase, a failed closing ticket update is reported by a failure notice",
    ),
    t(
        "*",
        "woke(retry)",
        "*",
        "re-issue the failed command with its idempotency key",
    ),
    t(
        "*",
        "effect_failed",
        "manual_intervention",
        "evaluate, ticket update or approval request failed for good",
    ),
];

/// The Mermaid state diagram of [`TRANSITIONS`].
pub fn mermaid_diagram() -> String {
    let mut out = String::from("stateDiagram-v2\n");
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    for row in TRANSITIONS.iter().filter(|r| r.from != "*") {
        let edge = (row.from, row.to, row.event);
        if seen.contains(&edge) {
            continue;
        }
        seen.push(edge);
        let from = if row.from == "start" { "[*]" } else { row.from };
        out.push_str(&format!("    {from} --> {}: {}\n", row.to, row.event));
    }
    for end in [
        "denied",
        "no_op",
        "rejected",
        "approval_expired",
        "failed",
        "rolled_back",
        "manual_intervention",
        "removed",
    ] {
        out.push_str(&format!("    {end} --> [*]\n"));
    }
    out
}

/// The Markdown table of [`TRANSITIONS`].
pub fn transition_table() -> String {
    let mut out = String::from("| from | event | to | when |\n|---|---|---|---|\n");
    for row in TRANSITIONS {
        out.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} |\n",
            row.from, row.event, row.to, row.when
        ));
    }
    out
}
