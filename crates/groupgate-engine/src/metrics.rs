//! What the engine reports as metrics, through the `metrics` facade (no
//! cost and no output unless the embedding process installs a recorder,
//! as `groupgate worker` does for Prometheus). Observed once per committed
//! step, from the step's event, so a metric never disagrees with the
//! trail. Every label has a small, fixed set of values (event and action
//! names, outcomes, reason codes, error classes, channels).

use chrono::{DateTime, Utc};
use groupgate_core::ports::ErrorClass;
use groupgate_core::workflow::{Event, Workflow};

/// Steps applied or refused, by event.
pub const EVENTS: &str = "groupgate_workflow_events_total";
/// Decisions (and re-checks before a change), by outcome.
pub const DECISIONS: &str = "groupgate_decisions_total";
/// Reasons given in decisions, by code.
pub const REASONS: &str = "groupgate_decision_reasons_total";
/// Effects that failed, by action and error class (each transient one is
/// retried).
pub const EFFECT_FAILURES: &str = "groupgate_effect_failures_total";
/// Seconds a service asked the engine to wait (`Retry-After`), by action.
pub const THROTTLE_WAIT: &str = "groupgate_throttle_wait_seconds_total";
/// How late timers fire, by purpose.
pub const TIMER_LAG: &str = "groupgate_timer_lag_seconds";
/// From a request's decision to each answer that counted, by channel.
pub const APPROVAL_LATENCY: &str = "groupgate_approval_latency_seconds";
/// One engine pass (recovery, timers, answers), in seconds.
pub const PASS_DURATION: &str = "groupgate_pass_duration_seconds";

fn class_name(class: &ErrorClass) -> &'static str {
    match class {
        ErrorClass::Transient { .. } => "transient",
        ErrorClass::NotFound => "not_found",
        ErrorClass::Conflict => "conflict",
        ErrorClass::Forbidden => "forbidden",
        ErrorClass::Invalid => "invalid",
        ErrorClass::Permanent => "permanent",
    }
}

/// Records what one committed step says. `before` is the workflow before
/// the event.
pub(crate) fn observe_step(before: &Workflow, event: &Event, applied: bool, now: DateTime<Utc>) {
    metrics::counter!(EVENTS, "event" => event.name(), "applied" => if applied { "true" } else { "false" })
        .increment(1);
    if !applied {
        return;
    }
    match event {
        Event::Evaluated { decision, .. } | Event::Rechecked { decision, .. } => {
            let outcome = match decision.outcome {
                groupgate_core::Outcome::Deny => "deny",
                groupgate_core::Outcome::AlreadyMember => "already_member",
                groupgate_core::Outcome::NeedsApproval => "needs_approval",
                groupgate_core::Outcome::PreApproved => "pre_approved",
            };
            metrics::counter!(DECISIONS, "kind" => event.name(), "outcome" => outcome).increment(1);
            for reason in &decision.reasons {
                metrics::counter!(REASONS, "code" => reason.code.as_str()).increment(1);
            }
        }
        Event::EffectFailed { command, error, .. } => {
            metrics::counter!(EFFECT_FAILURES, "action" => command.action.name(), "class" => class_name(&error.class))
                .increment(1);
            if let ErrorClass::Transient {
                retry_after_seconds: Some(s),
            } = error.class
            {
                metrics::counter!(THROTTLE_WAIT, "action" => command.action.name()).increment(s);
            }
        }
        Event::Woke { key, purpose } => {
            if let Some(timer) = before.timers.iter().find(|t| &t.key == key) {
                let lag = (now - timer.at).num_milliseconds().max(0) as f64 / 1000.0;
                metrics::histogram!(TIMER_LAG, "purpose" => purpose.name()).record(lag);
            }
        }
        Event::Answered { answer } => {
            if let Some(decision) = &before.decision {
                let seconds = (answer.at - decision.evaluated_at)
                    .num_milliseconds()
                    .max(0) as f64
                    / 1000.0;
                metrics::histogram!(APPROVAL_LATENCY, "channel" => answer.channel.clone())
                    .record(seconds);
            }
        }
        _ => {}
    }
}
