//! `Workflow` (one request from intake to its end), `AnswerOutcome` and
//! `ManualClock`, as JavaScript values.

use crate::decision::{Decision, json_of};
use chrono::{DateTime, Utc};
use groupgate_core::workflow::Phase;
use napi_derive::napi;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// A workflow: one request, from intake to its end.
#[napi]
#[derive(Debug, Clone)]
pub struct Workflow {
    pub(crate) inner: Arc<groupgate_core::workflow::Workflow>,
}

impl Workflow {
    pub(crate) fn new(wf: groupgate_core::workflow::Workflow) -> Self {
        Self {
            inner: Arc::new(wf),
        }
    }
}

#[napi]
impl Workflow {
    /// Its id (the ticket number).
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id.to_string()
    }

    /// Its ticket.
    #[napi(getter)]
    pub fn ticket(&self) -> String {
        self.inner.request.ticket.to_string()
    }

    /// Where it stands: `awaiting_approval`, `active`, `completed`,
    /// `denied`, `rejected`, `removed`, … (docs/workflow.md).
    #[napi(getter)]
    pub fn phase(&self) -> String {
        self.inner.phase.name().to_owned()
    }

    /// Whether it has ended.
    #[napi(getter)]
    pub fn is_terminal(&self) -> bool {
        self.inner.phase.is_terminal()
    }

    /// The approval stage it waits for (from 0), while awaiting approval.
    #[napi(getter)]
    pub fn stage(&self) -> Option<u32> {
        match self.inner.phase {
            Phase::AwaitingApproval { stage, .. } => u32::try_from(stage).ok(),
            _ => None,
        }
    }

    /// The binding digest of each approval stage: what an approval must
    /// carry to count.
    #[napi(getter)]
    pub fn bindings(&self) -> Vec<String> {
        self.inner.bindings.clone()
    }

    /// The latest decision (intake, then the re-check).
    #[napi(getter)]
    pub fn decision(&self) -> Option<Decision> {
        self.inner.decision.clone().map(Decision::new)
    }

    /// The target's directory object id, once resolved.
    #[napi(getter)]
    pub fn target(&self) -> Option<String> {
        self.inner.target.as_ref().map(|t| t.to_string())
    }

    /// The resolved group's object id.
    #[napi(getter)]
    pub fn group(&self) -> Option<String> {
        self.inner.group().map(|g| g.to_string())
    }

    /// The workflow's whole state as a plain object (snake_case keys).
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, unknown>")]
    pub fn to_json(&self) -> napi::Result<Value> {
        json_of(&*self.inner)
    }
}

/// What came of an answer given to `recordApproval`.
#[napi(object, object_from_js = false)]
pub struct AnswerOutcome {
    /// Whether it counted.
    pub counted: bool,
    /// Why it did not, when it did not (it is in the audit trail too).
    pub refusal: Option<String>,
    /// The workflow afterwards.
    pub workflow: Workflow,
}

/// A clock you set: the engine reads the time from it (for tests,
/// simulations and replays). Starts at `start`.
#[napi]
#[derive(Debug, Clone)]
pub struct ManualClock {
    pub(crate) now: Arc<Mutex<DateTime<Utc>>>,
}

#[napi]
impl ManualClock {
    /// A clock showing `start` (a `Date` or RFC 3339 text).
    #[napi(constructor)]
    pub fn new(
        start: Option<napi::bindgen_prelude::Either<DateTime<Utc>, String>>,
    ) -> napi::Result<Self> {
        let start = crate::convert::time_of(start, "start")?;
        Ok(Self {
            now: Arc::new(Mutex::new(start)),
        })
    }

    /// The time it shows.
    #[napi(getter)]
    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the time.
    #[napi]
    pub fn set(
        &self,
        to: Option<napi::bindgen_prelude::Either<DateTime<Utc>, String>>,
    ) -> napi::Result<()> {
        let to = crate::convert::time_of(to, "to")?;
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
        Ok(())
    }

    /// Moves the time on by `seconds` (may be fractional).
    #[napi]
    pub fn advance(&self, seconds: f64) -> napi::Result<()> {
        if !seconds.is_finite() {
            return Err(crate::errors::invalid(
                "clock",
                "seconds",
                "give a finite number",
            ));
        }
        let delta = chrono::TimeDelta::milliseconds((seconds * 1000.0).round() as i64);
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += delta;
        Ok(())
    }
}

impl groupgate_core::ports::Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}
