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

/// Every transition of the workflow state machine. Rows under `*` apply in
/// every phase and keep it: a command's own retry, a completed side effect,
/// a recorded intent, the watchdog, a stale outcome; final phases accept
/// exactly those for their closing effects.
pub const TRANSITIONS: &[Transition] = &[
    t(
        "start",
        "start",
        "received",
        "update ticket (in progress); evaluate; watchdog",
    ),
    t(
        "received",
        "evaluated",
        "denied",
        "decision deny; ticket closed incomplete with the reasons (anchored)",
    ),
    t(
        "received",
        "evaluated",
        "no_op",
        "decision already_member; ticket closed complete (anchored)",
    ),
    t(
        "received",
        "evaluated",
        "awaiting_approval",
        "decision needs_approval; bind each stage to ticket, target and group object ids, expiry, approver plan and policy; ask stage 1; wake at the approval deadline (and to escalate)",
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
        "received",
        "offboard",
        "cancelled",
        "the target is offboarded: nothing granted; ticket closed incomplete, notice",
    ),
    t(
        "awaiting_approval",
        "answered",
        "awaiting_approval",
        "refused answer (other stage or binding, after the deadline, unknown to the directory, self-approval, ineligible, the same person again: noted on the ticket), or approval below the stage's count, or the stage completes and the next stage is asked",
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
        "awaiting_approval",
        "offboard",
        "cancelled",
        "the target is offboarded: asks cancelled, ticket closed incomplete, notice",
    ),
    t(
        "scheduled",
        "woke(window_opens)",
        "rechecking",
        "evaluate again right before acting",
    ),
    t(
        "scheduled",
        "offboard",
        "cancelled",
        "the target is offboarded before the window opened",
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
        "the access appeared meanwhile (not through an earlier attempt of this workflow)",
    ),
    t(
        "rechecking",
        "rechecked",
        "awaiting_approval",
        "a counted approval no longer counts (binding changed, approver no longer eligible, given after the deadline): the stages that fall short are asked again",
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
        "still allowed, every approval still counts: add the member",
    ),
    t(
        "rechecking",
        "rechecked",
        "manual_intervention",
        "the target now resolves to another directory object than the one approved, or the facts lack its object id",
    ),
    t(
        "rechecking",
        "rechecked",
        "rolling_back",
        "after a failed add attempt, the re-check denies (or the target changed): remove what the attempt may have added",
    ),
    t(
        "rechecking",
        "rechecked",
        "active",
        "after an interrupted add attempt, the re-check finds the membership in place: granted, time-bound",
    ),
    t(
        "rechecking",
        "rechecked",
        "completed",
        "after an interrupted add attempt, the re-check finds the membership in place: granted",
    ),
    t(
        "rechecking",
        "offboard",
        "cancelled",
        "the target is offboarded before any add was attempted",
    ),
    t(
        "rechecking",
        "offboard",
        "removing",
        "the target is offboarded after an add attempt: remove it",
    ),
    t(
        "executing",
        "member_added",
        "verifying",
        "read the (direct) membership back",
    ),
    t(
        "executing",
        "member_added",
        "removing",
        "the target was offboarded while the add was in flight: remove it now",
    ),
    t(
        "executing",
        "interrupted",
        "verifying",
        "the add's outcome was lost in a crash and the membership is there: verify",
    ),
    t(
        "executing",
        "interrupted",
        "awaiting_retry",
        "the add's outcome was lost and the membership is not there: re-check, then try again",
    ),
    t(
        "executing",
        "interrupted",
        "rolling_back",
        "the add's outcome was lost and no attempts are left: remove any partial change",
    ),
    t(
        "executing",
        "effect_failed",
        "awaiting_retry",
        "the add failed transiently: wake to re-check and try again (Retry-After honoured)",
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
        "executing",
        "offboard",
        "executing",
        "the add is in flight: remove the membership as soon as it settles",
    ),
    t(
        "executing",
        "offboard",
        "cancelled",
        "the add was not sent yet: it never is",
    ),
    t(
        "awaiting_retry",
        "woke(retry)",
        "rechecking",
        "re-evaluate (facts and policy) before the next attempt",
    ),
    t(
        "awaiting_retry",
        "offboard",
        "removing",
        "the target is offboarded: remove what the failed attempt may have added",
    ),
    t(
        "verifying",
        "membership_observed",
        "active",
        "visible, time-bound: ticket closed complete (anchored); wake at the expiry",
    ),
    t(
        "verifying",
        "membership_observed",
        "completed",
        "visible, no expiry: ticket closed complete (anchored)",
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
        "verifying",
        "offboard",
        "removing",
        "the target is offboarded: remove the membership",
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
        "completed",
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
        "interrupted",
        "removing",
        "the removal's outcome was lost in a crash: the membership is gone (read it back) or the removal is sent again",
    ),
    t(
        "removing",
        "membership_observed",
        "removed",
        "gone: noted on the ticket (anchored)",
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
        "offboard",
        "removing",
        "already being removed: noted",
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
        "interrupted",
        "rolling_back",
        "the removal's outcome was lost in a crash: read back or sent again",
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
        "offboard",
        "rolling_back",
        "already being removed: noted",
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
        "a transient failure with attempts left: that command alone waits for its own retry timer (Retry-After honoured, exponential backoff with full jitter); a best-effort notice that failed for good is recorded; in a final phase, a failed closing ticket update is reported by a failure notice",
    ),
    t(
        "*",
        "effect_failed",
        "manual_intervention",
        "evaluate, ticket update or approval request failed for good",
    ),
    t(
        "*",
        "woke(retry)",
        "*",
        "the failed command is ready again (same idempotency key)",
    ),
    t(
        "*",
        "effect_done",
        "*",
        "a side effect (ticket update, ask, notice, …) completed: it leaves the outbox",
    ),
    t(
        "*",
        "issuing",
        "*",
        "the engine records its intent before executing a command",
    ),
    t(
        "*",
        "interrupted",
        "*",
        "a command other than a membership write was interrupted by a crash: it is re-issued under its idempotency key",
    ),
    t(
        "*",
        "woke(watchdog)",
        "*",
        "nothing else would wake the workflow: the engine resolves interrupted effects and drives what is ready",
    ),
    t(
        "*",
        "outcome",
        "*",
        "a stale outcome (its phase is over): it leaves the outbox and changes nothing",
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
        "cancelled",
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
