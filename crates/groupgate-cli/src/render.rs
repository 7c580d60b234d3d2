//! Human-readable decisions.

use groupgate_core::{Decision, Effect, Outcome, Request};
use std::fmt::Write;

pub(crate) fn decision(request: &Request, d: &Decision) -> String {
    let mut out = String::new();
    let outcome = match d.outcome {
        Outcome::Deny => "DENY",
        Outcome::AlreadyMember => "ALREADY A MEMBER (no change)",
        Outcome::NeedsApproval => "NEEDS APPROVAL",
        Outcome::PreApproved => "PRE-APPROVED (standard change)",
    };
    let _ = writeln!(out, "{}  \"{}\"", request.ticket, request.resource);
    let _ = writeln!(out, "  outcome     {outcome}");
    if let Some(g) = &d.group {
        let name = g
            .display_name
            .as_deref()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default();
        let _ = writeln!(out, "  group       {}{name} ({})", g.key, g.object_id);
        let _ = writeln!(
            out,
            "              matched {:?} `{}`",
            g.matched_by, g.matched
        );
    }
    if !d.stages.is_empty() {
        let _ = writeln!(out, "  approvals");
        for (i, s) in d.stages.iter().enumerate() {
            let who: Vec<String> = s
                .approvers
                .iter()
                .map(|a| format!("{} [{}]", a.name, a.role))
                .collect();
            let _ = writeln!(
                out,
                "    {}. {:<12} {} of: {}",
                i + 1,
                s.name,
                s.required,
                who.join(", ")
            );
            let _ = writeln!(out, "       from {}", s.source);
            if let Some(after) = s.escalate_after_seconds {
                let alt: Vec<&str> = s.alternates.iter().map(|a| &*a.name).collect();
                let _ = writeln!(
                    out,
                    "       escalates after {}h to {}",
                    after / 3600,
                    alt.join(", ")
                );
            }
        }
    }
    if let Some(at) = d.earliest_execution {
        let _ = writeln!(out, "  execute     not before {}", at.to_rfc3339());
    }
    if let Some(e) = &d.expiry {
        let _ = writeln!(
            out,
            "  expires     {} (if granted at the earliest execution time)",
            e.projected.to_rfc3339()
        );
    }
    if let Some(at) = d.approval_deadline {
        let _ = writeln!(out, "  approvals expire {}", at.to_rfc3339());
    }
    let _ = writeln!(out, "  reasons");
    for r in &d.reasons {
        let effect = match r.effect {
            Effect::Deny => "deny",
            Effect::NoOp => "no-op",
            Effect::Require => "require",
            Effect::Info => "info",
        };
        let rule = r
            .rule
            .as_deref()
            .map(|r| format!("  [{r}]"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {effect:<8} {:<27} {}{rule}",
            r.code.as_str(),
            r.message()
        );
    }
    if !d.suggestions.is_empty() {
        let _ = writeln!(out, "  did you mean (for triage only, never acted on)");
        for s in &d.suggestions {
            let _ = writeln!(out, "    {:.2}  {} → {}", s.score, s.entry, s.group);
        }
    }
    let _ = writeln!(out, "  policy      {}", d.policy_digest);
    out
}
