//! Shared fixtures: the example policy and directory from `examples/`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // shared test code

use chrono::{DateTime, Utc};
use groupgate_core::{CompiledPolicy, Decision, DirectorySnapshot, Facts, Request};

pub(crate) const POLICY: &str = include_str!("../../../../examples/policy.yaml");
pub(crate) const DIRECTORY: &str = include_str!("../../../../examples/directory.yaml");

pub(crate) fn policy() -> CompiledPolicy {
    CompiledPolicy::from_yaml_str(POLICY, "examples/policy.yaml").expect("example policy is valid")
}

pub(crate) fn directory() -> DirectorySnapshot {
    groupgate_core::input::from_yaml(DIRECTORY, &Default::default())
        .expect("example directory is valid")
}

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("valid RFC 3339")
}

/// Wednesday 2026-11-25 11:00 in Berlin: inside business hours.
pub(crate) fn business_hours() -> DateTime<Utc> {
    at("2026-11-25T10:00:00Z")
}

pub(crate) fn request(requester: &str, target: &str, resource: &str) -> Request {
    Request {
        ticket: "RITM0000001".into(),
        requester: requester.into(),
        target: target.into(),
        resource: resource.into(),
        end_date: None,
        justification: "test".into(),
        suggestion: None,
    }
}

pub(crate) fn facts(policy: &CompiledPolicy, request: &Request) -> Facts {
    directory().facts_for(request, &policy.fact_needs(request))
}

pub(crate) fn decide(policy: &CompiledPolicy, request: &Request) -> Decision {
    policy.evaluate(request, &facts(policy, request), business_hours())
}

/// The object id the example directory gives `key` (UPN).
pub(crate) fn id_of(key: &str) -> groupgate_core::UserId {
    directory()
        .user(key)
        .expect("a user of the example directory")
        .id
}

pub(crate) const DORA: &str = "dora.data@contoso.com";
pub(crate) const ADA: &str = "ada.lovelace@contoso.com";
pub(crate) const GRACE: &str = "grace.hopper@contoso.com";
pub(crate) const CARL: &str = "carl.contractor@contoso.com";
pub(crate) const PAT: &str = "pat.lead@contoso.com";
pub(crate) const MIA: &str = "mia.manager@contoso.com";
pub(crate) const EVE: &str = "eve.former@contoso.com";
pub(crate) const GUS: &str = "gus_fabrikam.com#EXT#@contoso.com";
pub(crate) const IVAN: &str = "ivan.invoices@contoso.com";
pub(crate) const TOM: &str = "tom.alpha@contoso.com";
