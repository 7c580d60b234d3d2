//! `Engine`: the workflow engine, over the real Graph and ServiceNow
//! adapters and the SQLite store (`Engine.from_config`), or over port
//! objects written in Python. Blocking methods run detached from the
//! interpreter; the `a…` methods return awaitables for asyncio.

use crate::convert::{now_of, to_py};
use crate::decision::Decision;
use crate::errors::{engine_error, service_error};
use crate::policy::Policy;
use crate::ports::{PyClock, PyPorts};
use groupgate::foreign::{ForeignApprovals, ForeignCalls, ForeignDirectory, ForeignTickets};
use groupgate_core::ports::{Store, SystemClock, WorkflowFilter};
use groupgate_core::workflow::{ApprovalAnswer, Verdict};
use groupgate_core::{TicketRef, WorkflowId};
use groupgate_engine::Ports;
use groupgate_service::Service;
use groupgate_sqlite::{SqliteOptions, SqliteStore};
use pyo3::prelude::*;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

/// What an engine runs over.
#[derive(Debug)]
enum Inner {
    /// Built from a settings file (real adapters, SQLite).
    Service(Box<Service>),
    /// Over ports of the caller's.
    Engine(Box<groupgate_engine::Engine>),
}

impl Inner {
    fn engine(&self) -> &groupgate_engine::Engine {
        match self {
            Inner::Service(s) => s.engine(),
            Inner::Engine(e) => e,
        }
    }
}

/// A workflow: one request, from intake to its end.
#[pyclass(module = "groupgate", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct Workflow {
    inner: Arc<groupgate_core::workflow::Workflow>,
}

#[pymethods]
impl Workflow {
    /// Its id (the ticket number).
    #[getter]
    fn id(&self) -> String {
        self.inner.id.to_string()
    }

    /// Its ticket.
    #[getter]
    fn ticket(&self) -> String {
        self.inner.request.ticket.to_string()
    }

    /// Where it stands: `awaiting_approval`, `active`, `completed`,
    /// `denied`, `rejected`, `removed`, … (see docs/workflow.md).
    #[getter]
    fn phase(&self) -> &'static str {
        self.inner.phase.name()
    }

    /// Whether it has ended.
    #[getter]
    fn is_terminal(&self) -> bool {
        self.inner.phase.is_terminal()
    }

    /// The approval stage it waits for (from 0), while awaiting approval.
    #[getter]
    fn stage(&self) -> Option<usize> {
        match self.inner.phase {
            groupgate_core::workflow::Phase::AwaitingApproval { stage, .. } => Some(stage),
            _ => None,
        }
    }

    /// The binding digest of each approval stage: what an approval must
    /// carry to count.
    #[getter]
    fn bindings(&self) -> Vec<String> {
        self.inner.bindings.clone()
    }

    /// The latest decision (intake, then the re-check).
    #[getter]
    fn decision(&self) -> Option<Decision> {
        self.inner.decision.clone().map(Decision::new)
    }

    /// The target's directory object id, once resolved.
    #[getter]
    fn target(&self) -> Option<String> {
        self.inner.target.as_ref().map(|t| t.to_string())
    }

    /// The resolved group's object id.
    #[getter]
    fn group(&self) -> Option<String> {
        self.inner.group().map(|g| g.to_string())
    }

    /// The workflow's whole state as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Workflow(id='{}', phase='{}')",
            self.inner.id,
            self.inner.phase.name()
        )
    }
}

fn workflow(wf: groupgate_core::workflow::Workflow) -> Workflow {
    Workflow {
        inner: Arc::new(wf),
    }
}

/// The workflow engine. Safe to share between threads; one step at a time
/// per workflow.
#[pyclass(module = "groupgate", frozen)]
#[derive(Debug)]
pub(crate) struct Engine {
    inner: Arc<Inner>,
}

/// Runs `future` on the shared runtime, detached from the interpreter.
fn block<T: Send>(py: Python<'_>, future: impl Future<Output = T> + Send) -> T {
    py.detach(|| pyo3_async_runtimes::tokio::get_runtime().block_on(future))
}

fn verdict_of(verdict: &str) -> PyResult<Verdict> {
    match verdict.to_ascii_lowercase().as_str() {
        "approve" | "approved" => Ok(Verdict::Approve),
        "reject" | "rejected" => Ok(Verdict::Reject),
        other => Err(crate::errors::invalid(
            "answer",
            "verdict",
            &format!("`{other}` is neither `approve` nor `reject`"),
        )),
    }
}

/// What `record_approval` is given, checked while attached.
struct AnswerArgs {
    ticket: WorkflowId,
    approver: String,
    approver_id: Option<String>,
    verdict: Verdict,
    stage: Option<String>,
    binding: Option<String>,
    comment: Option<String>,
    channel: String,
    at: Option<chrono::DateTime<chrono::Utc>>,
}

async fn record(inner: Arc<Inner>, a: AnswerArgs) -> PyResult<AnswerOutcome> {
    let engine = inner.engine();
    let wf = engine.workflow(&a.ticket).await.map_err(engine_error)?;
    let open = match wf.phase {
        groupgate_core::workflow::Phase::AwaitingApproval { stage, .. } => Some(stage),
        _ => None,
    };
    let stage = match (a.stage, open) {
        (Some(s), _) => s,
        (None, Some(i)) => wf
            .decision
            .as_ref()
            .and_then(|d| d.stages.get(i))
            .map(|s| s.name.to_string())
            .unwrap_or_default(),
        (None, None) => String::new(),
    };
    let binding = match (a.binding, open) {
        (Some(b), _) => b,
        (None, Some(i)) => wf.bindings.get(i).cloned().unwrap_or_default(),
        (None, None) => String::new(),
    };
    let answer = ApprovalAnswer {
        stage: stage.into(),
        approver: a.approver.into(),
        approver_id: a.approver_id.map(groupgate_core::UserId::new),
        verdict: a.verdict,
        comment: a.comment,
        channel: a.channel,
        at: a.at.unwrap_or_else(|| engine.now()),
        binding,
    };
    let outcome = engine
        .answer(&a.ticket, answer)
        .await
        .map_err(engine_error)?;
    Ok(AnswerOutcome {
        counted: outcome.counted,
        refusal: outcome.refusal,
        workflow: workflow(outcome.workflow),
    })
}

/// What came of an answer given to `record_approval`.
#[pyclass(module = "groupgate", frozen, get_all)]
#[derive(Debug, Clone)]
pub(crate) struct AnswerOutcome {
    /// Whether it counted.
    counted: bool,
    /// Why it did not, when it did not (it is in the audit trail too).
    refusal: Option<String>,
    /// The workflow afterwards.
    workflow: Workflow,
}

#[pymethods]
impl AnswerOutcome {
    fn __repr__(&self) -> String {
        format!(
            "AnswerOutcome(counted={}, phase='{}')",
            if self.counted { "True" } else { "False" },
            self.workflow.phase()
        )
    }
}

macro_rules! both {
    (
        $(#[$doc:meta])*
        fn $name:ident / $aname:ident ($($arg:ident : $ty:ty),*) -> $out:ty = |$inner:ident| $body:expr;
    ) => {
        #[pymethods]
        impl Engine {
            $(#[$doc])*
            fn $name(&self, py: Python<'_>, $($arg: $ty),*) -> PyResult<$out> {
                let $inner = Arc::clone(&self.inner);
                block(py, async move { $body })
            }

            $(#[$doc])*
            /// (Awaitable.)
            fn $aname<'py>(&self, py: Python<'py>, $($arg: $ty),*) -> PyResult<Bound<'py, PyAny>> {
                let $inner = Arc::clone(&self.inner);
                pyo3_async_runtimes::tokio::future_into_py(py, async move { $body })
            }
        }
    };
}

#[pymethods]
impl Engine {
    /// An engine over the real Microsoft Graph and ServiceNow adapters and
    /// the SQLite store, as the settings file at `path` describes them
    /// (see docs/operations.md); secrets come from the environment.
    #[staticmethod]
    fn from_config(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let service = py
            .detach(|| Service::from_settings_file(&path))
            .map_err(service_error)?;
        Ok(Self {
            inner: Arc::new(Inner::Service(Box::new(service))),
        })
    }

    /// An engine for `policy` over port objects of your own: `directory`,
    /// `tickets` and `approvals` are any objects with the ports' methods
    /// (plain or `async def`; see docs/python.md for each method). The
    /// store is the SQLite file at `store` (created when missing), or in
    /// memory when `None`. `clock` is a callable returning the time (an
    /// aware `datetime`), the system's clock when omitted; `seed` makes
    /// retry jitter reproducible.
    #[new]
    #[pyo3(signature = (policy, *, directory, tickets, approvals, store = None, clock = None, seed = None))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    fn new(
        py: Python<'_>,
        policy: &Policy,
        directory: Py<PyAny>,
        tickets: Py<PyAny>,
        approvals: Py<PyAny>,
        store: Option<PathBuf>,
        clock: Option<Py<PyAny>>,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let store_path = store.unwrap_or_else(|| PathBuf::from(":memory:"));
        let sqlite = py
            .detach(|| SqliteStore::open(&store_path, SqliteOptions::default()))
            .map_err(|e| crate::errors::StoreError::new_err(e.to_string()))?;
        let calls: Arc<dyn ForeignCalls> = Arc::new(PyPorts {
            directory: Some(directory),
            tickets: Some(tickets),
            approvals: Some(approvals),
        });
        let clock: Arc<dyn groupgate_core::ports::Clock> = match clock {
            Some(c) => Arc::new(PyClock(c)),
            None => Arc::new(SystemClock),
        };
        let ports = Ports {
            identity: Arc::new(ForeignDirectory(calls.clone())),
            tickets: Arc::new(ForeignTickets(calls.clone())),
            approvals: Arc::new(ForeignApprovals(calls)),
            store: Arc::new(sqlite) as Arc<dyn Store>,
            clock,
        };
        let mut engine = groupgate_engine::Engine::new(policy.inner.clone(), ports);
        if let Some(seed) = seed {
            engine = engine.with_seed(seed);
        }
        Ok(Self {
            inner: Arc::new(Inner::Engine(Box::new(engine))),
        })
    }

    /// The policy in force.
    #[getter]
    fn policy(&self) -> Policy {
        Policy {
            inner: (*self.inner.engine().policy()).clone(),
        }
    }

    /// Records an approver's answer for `ticket`'s open approval stage and
    /// drives the workflow on. `approver` is who answered (UPN or e-mail,
    /// mapped to a directory object id, or give `approver_id`); `verdict` is
    /// `"approve"` or `"reject"`. `stage` and `binding` default to the open
    /// stage's: a chat integration must pass the binding the approver saw,
    /// so an answer to a changed request does not count. Returns whether it
    /// counted and why not.
    #[pyo3(signature = (ticket, *, approver, verdict, stage = None, binding = None, comment = None, channel = "python", approver_id = None, at = None))]
    #[allow(clippy::too_many_arguments)]
    fn record_approval(
        &self,
        py: Python<'_>,
        ticket: &str,
        approver: String,
        verdict: &str,
        stage: Option<String>,
        binding: Option<String>,
        comment: Option<String>,
        channel: &str,
        approver_id: Option<String>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AnswerOutcome> {
        let args = AnswerArgs {
            ticket: WorkflowId::new(ticket),
            approver,
            approver_id,
            verdict: verdict_of(verdict)?,
            stage,
            binding,
            comment,
            channel: channel.to_owned(),
            at: at.map(|t| now_of(Some(t))).transpose()?,
        };
        let inner = Arc::clone(&self.inner);
        block(py, record(inner, args))
    }

    /// `record_approval`, awaitable.
    #[pyo3(signature = (ticket, *, approver, verdict, stage = None, binding = None, comment = None, channel = "python", approver_id = None, at = None))]
    #[allow(clippy::too_many_arguments)]
    fn arecord_approval<'py>(
        &self,
        py: Python<'py>,
        ticket: &str,
        approver: String,
        verdict: &str,
        stage: Option<String>,
        binding: Option<String>,
        comment: Option<String>,
        channel: &str,
        approver_id: Option<String>,
        at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = AnswerArgs {
            ticket: WorkflowId::new(ticket),
            approver,
            approver_id,
            verdict: verdict_of(verdict)?,
            stage,
            binding,
            comment,
            channel: channel.to_owned(),
            at: at.map(|t| now_of(Some(t))).transpose()?,
        };
        let inner = Arc::clone(&self.inner);
        pyo3_async_runtimes::tokio::future_into_py(py, record(inner, args))
    }

    /// Submits a request (a `Request` or a dict) and drives its workflow
    /// until it waits or ends; the same ticket twice is one workflow.
    fn submit(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Workflow> {
        let request = (*crate::policy::request_of(request)?).clone();
        let inner = Arc::clone(&self.inner);
        block(py, async move {
            inner
                .engine()
                .submit(request)
                .await
                .map(workflow)
                .map_err(engine_error)
        })
    }

    /// `submit`, awaitable.
    fn asubmit<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = (*crate::policy::request_of(request)?).clone();
        let inner = Arc::clone(&self.inner);
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            inner
                .engine()
                .submit(request)
                .await
                .map(workflow)
                .map_err(engine_error)
        })
    }

    /// The workflows in the store's index (no history replayed): dicts with
    /// `id`, `ticket`, `phase`, `open`, `next_wake`, `last_error`, ….
    #[pyo3(signature = (*, open = None, phase = None, target = None, limit = 0))]
    fn workflows<'py>(
        &self,
        py: Python<'py>,
        open: Option<bool>,
        phase: Option<String>,
        target: Option<String>,
        limit: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = WorkflowFilter {
            open,
            phase,
            target: target.map(groupgate_core::UserId::new),
            limit,
            ..WorkflowFilter::default()
        };
        let inner = Arc::clone(&self.inner);
        let rows = block(py, async move { inner.engine().summaries(&filter).await })
            .map_err(engine_error)?;
        to_py(py, &rows)
    }

    /// The whole audit trail, as dicts (one per record, in order).
    fn audit_trail<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let inner = Arc::clone(&self.inner);
        let records =
            block(py, async move { inner.engine().audit_trail().await }).map_err(engine_error)?;
        to_py(py, &records)
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(policy='{}', {})",
            self.inner.engine().policy().digest(),
            match &*self.inner {
                Inner::Service(_) => "from settings",
                Inner::Engine(_) => "python ports",
            }
        )
    }
}

both! {
    /// Reads the ticket through the ticket system and starts (or resumes)
    /// its workflow, driving it until it waits or ends.
    fn process_ticket / aprocess_ticket (ticket: String) -> Workflow = |inner| {
        inner
            .engine()
            .intake(&TicketRef::from(ticket.as_str()))
            .await
            .map(workflow)
            .map_err(engine_error)
    };
}

both! {
    /// The workflow of `ticket`, as its records say (nothing is executed).
    fn workflow / aworkflow (ticket: String) -> Workflow = |inner| {
        inner
            .engine()
            .workflow(&WorkflowId::new(ticket))
            .await
            .map(workflow)
            .map_err(engine_error)
    };
}

both! {
    /// Collects the approvers' new answers for `ticket` from the approval
    /// channel and drives the workflow on.
    fn collect_answers / acollect_answers (ticket: String) -> Workflow = |inner| {
        inner
            .engine()
            .collect_answers(&WorkflowId::new(ticket))
            .await
            .map(workflow)
            .map_err(engine_error)
    };
}

both! {
    /// One pass of what the worker does: effects left in flight resolved,
    /// due timers fired, new answers collected (and, for an engine from a
    /// settings file, new RITMs taken in and queued offboardings carried
    /// out). Returns a dict of counts: `stepped`, `fired`, `failures`, ….
    fn run_due / arun_due () -> Py<PyAny> = |inner| {
        let summary = match &*inner {
            Inner::Service(s) => {
                let p = s.pass(true).await.map_err(service_error)?;
                serde_json::json!({
                    "taken_in": p.taken_in, "stepped": p.stepped, "fired": p.fired,
                    "offboarded": p.offboarded, "failures": p.failures,
                })
            }
            Inner::Engine(e) => {
                let r = e.pass().await.map_err(engine_error)?;
                serde_json::json!({
                    "taken_in": 0, "stepped": r.stepped.len(), "fired": r.fired,
                    "offboarded": 0, "failures": r.failures.len(),
                })
            }
        };
        Python::attach(|py| to_py(py, &summary).map(Bound::unbind))
    };
}

#[pymethods]
impl Engine {
    /// Offboards `user` (UPN or object id) at once: every governed
    /// membership and open request of theirs ends, and memberships
    /// groupgate did not grant are removed and reported as drift. Returns
    /// the report as a dict (`removed`, `drift`, `cancelled`,
    /// `in_progress`, `failed`, `incomplete`); `operator` is recorded as
    /// who asked.
    #[pyo3(signature = (user, *, operator = "python"))]
    fn offboard<'py>(
        &self,
        py: Python<'py>,
        user: String,
        operator: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inner = Arc::clone(&self.inner);
        let operator = operator.to_owned();
        let report = block(py, async move {
            inner.engine().offboard(&user, &operator).await
        })
        .map_err(engine_error)?;
        to_py(py, &report)
    }

    /// `offboard`, awaitable.
    #[pyo3(signature = (user, *, operator = "python"))]
    fn aoffboard<'py>(
        &self,
        py: Python<'py>,
        user: String,
        operator: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inner = Arc::clone(&self.inner);
        let operator = operator.to_owned();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let report = inner
                .engine()
                .offboard(&user, &operator)
                .await
                .map_err(engine_error)?;
            Python::attach(|py| to_py(py, &report).map(Bound::unbind))
        })
    }
}
