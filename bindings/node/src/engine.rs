//! `Engine`: the workflow engine over the real Microsoft Graph and
//! ServiceNow adapters and the SQLite store (`Engine.fromConfig`), or over
//! port objects written in JavaScript. Every method that does I/O returns a
//! Promise and runs on the addon's Tokio runtime; the event loop is never
//! blocked.

use crate::chat::{body_bytes, header};
use crate::convert::time_of;
use crate::decision::json_of;
use crate::errors::{engine_error, error, invalid, service_error};
use crate::policy::{Policy, RequestArg, request_of};
use crate::ports::JsPorts;
use crate::workflow::{AnswerOutcome, ManualClock, Workflow};
use groupgate::foreign::{ForeignApprovals, ForeignCalls, ForeignDirectory, ForeignTickets};
use groupgate_core::ports::{Store, SystemClock, WorkflowFilter};
use groupgate_core::workflow::{ApprovalAnswer, Phase, Verdict};
use groupgate_core::{TicketRef, UserId, WorkflowId};
use groupgate_engine::Ports;
use groupgate_service::Service;
use groupgate_sqlite::{SqliteOptions, SqliteStore};
use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, Object};
use napi_derive::napi;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// What an engine runs over.
#[derive(Debug)]
enum Inner {
    /// Built from a settings file (real adapters, SQLite, chat).
    Service(Arc<Service>),
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

/// An approver's answer for `recordApproval`.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ApprovalInput {
    /// Who answered: a UPN or e-mail (mapped to a directory object id), or
    /// give `approverId`.
    pub approver: String,
    /// `approve` or `reject`.
    #[napi(ts_type = "'approve' | 'reject'")]
    pub verdict: String,
    /// The approver's directory object id, when the channel authenticated it.
    pub approver_id: Option<String>,
    /// The stage answered (default: the open one).
    pub stage: Option<String>,
    /// The binding digest the approver saw (default: the open stage's). A
    /// chat integration must pass it, so an answer to a changed request
    /// does not count.
    pub binding: Option<String>,
    /// A comment.
    pub comment: Option<String>,
    /// The channel it came through (default `node`).
    pub channel: Option<String>,
    /// When it was given (default: now).
    #[napi(ts_type = "Date | string")]
    pub at: Option<Either<chrono::DateTime<chrono::Utc>, String>>,
}

/// Which workflows `workflows()` lists.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct WorkflowQuery {
    /// Only open (`true`) or ended (`false`) ones.
    pub open: Option<bool>,
    /// Only those in this phase.
    pub phase: Option<String>,
    /// Only those for this target (directory object id).
    pub target: Option<String>,
    /// At most this many (0 or absent: all).
    pub limit: Option<u32>,
}

/// What to answer Slack or Teams, and what came of the click.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ChatReply {
    /// The HTTP status to answer with.
    pub status: u32,
    /// The JSON body to answer with (`null`: an empty body).
    #[napi(ts_type = "Record<string, unknown> | null")]
    pub body: Value,
    /// The ticket the click was for, when it named one genuinely.
    pub ticket: Option<String>,
    /// Whether the answer counted (absent: not known yet, or no answer).
    pub counted: Option<bool>,
    /// Why the click or the answer was refused.
    pub refusal: Option<String>,
}

impl From<groupgate_service::ChatReply> for ChatReply {
    fn from(r: groupgate_service::ChatReply) -> Self {
        Self {
            status: u32::from(r.status),
            body: r.body,
            ticket: r.ticket,
            counted: r.counted,
            refusal: r.refusal,
        }
    }
}

/// Headers as Node gives them (`IncomingMessage.headers`).
type Headers = HashMap<String, Either<String, Vec<String>>>;

/// The workflow engine. One step at a time per workflow; many calls may
/// be in flight at once.
#[napi]
pub struct Engine {
    inner: Arc<Inner>,
}

fn verdict_of(verdict: &str) -> napi::Result<Verdict> {
    match verdict.to_ascii_lowercase().as_str() {
        "approve" | "approved" => Ok(Verdict::Approve),
        "reject" | "rejected" => Ok(Verdict::Reject),
        other => Err(invalid(
            "answer",
            "verdict",
            &format!("`{other}` is neither `approve` nor `reject`"),
        )),
    }
}

#[napi]
impl Engine {
    /// An engine over the real Microsoft Graph and ServiceNow adapters, the
    /// SQLite store and the chat channels, as the worker settings file at
    /// `path` describes them (docs/operations.md); secrets come from the
    /// environment. Throws `SettingsError`, `PolicyError` or `StoreError`.
    #[napi(factory)]
    pub fn from_config(path: String) -> napi::Result<Self> {
        let service =
            Service::from_settings_file(std::path::Path::new(&path)).map_err(service_error)?;
        Ok(Self {
            inner: Arc::new(Inner::Service(Arc::new(service))),
        })
    }

    /// An engine for `policy` over port objects of your own (`directory`,
    /// `tickets`, `approvals`: objects with the ports' methods, plain or
    /// async; docs/node.md lists them). `options.store` is a SQLite file
    /// (created when missing; in memory when absent), `options.clock` a
    /// `ManualClock` (the system's clock when absent), `options.seed` makes
    /// retry jitter reproducible.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        policy: &Policy,
        #[napi(ts_arg_type = "EnginePorts")] ports: Object<'_>,
        #[napi(ts_arg_type = "EngineOptions")] options: Option<Object<'_>>,
    ) -> napi::Result<Self> {
        let port = |name: &str| -> napi::Result<Object<'_>> {
            ports.get::<Object<'_>>(name)?.ok_or_else(|| {
                invalid(
                    "engine ports",
                    name,
                    &format!("give the `{name}` port (an object with its methods)"),
                )
            })
        };
        let calls = JsPorts::new(
            &env,
            &port("directory")?,
            &port("tickets")?,
            &port("approvals")?,
        )?;
        let (store_path, seed, clock) = match &options {
            None => (None, None, None),
            Some(o) => (
                o.get::<String>("store")?,
                o.get::<f64>("seed")?,
                o.get::<napi::bindgen_prelude::ClassInstance<'_, ManualClock>>("clock")?
                    .map(|c| (*c).clone()),
            ),
        };
        let store_path = store_path.unwrap_or_else(|| ":memory:".to_owned());
        let sqlite = SqliteStore::open(std::path::Path::new(&store_path), SqliteOptions::default())
            .map_err(|e| error("StoreError", &e.to_string(), json!({"path": store_path})))?;
        let calls: Arc<dyn ForeignCalls> = Arc::new(calls);
        let clock: Arc<dyn groupgate_core::ports::Clock> = match clock {
            Some(c) => Arc::new(c),
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
            if !(seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0) {
                return Err(invalid("engine options", "seed", "give a whole number ≥ 0"));
            }
            engine = engine.with_seed(seed as u64);
        }
        Ok(Self {
            inner: Arc::new(Inner::Engine(Box::new(engine))),
        })
    }

    /// The policy in force.
    #[napi(getter)]
    pub fn policy(&self) -> Policy {
        Policy {
            inner: (*self.inner.engine().policy()).clone(),
        }
    }

    /// Reads the ticket through the ticket system and starts (or resumes)
    /// its workflow, driving it until it waits or ends.
    #[napi]
    pub async fn process_ticket(&self, ticket: String) -> napi::Result<Workflow> {
        let inner = Arc::clone(&self.inner);
        inner
            .engine()
            .intake(&TicketRef::from(ticket.as_str()))
            .await
            .map(Workflow::new)
            .map_err(engine_error)
    }

    /// Submits a request (a `Request` or a plain object) and drives its
    /// workflow until it waits or ends; the same ticket twice is one
    /// workflow.
    #[napi(ts_return_type = "Promise<Workflow>")]
    pub fn submit(
        &self,
        env: Env,
        #[napi(ts_arg_type = "Request | RequestInput")] request: RequestArg<'_>,
    ) -> napi::Result<napi::bindgen_prelude::AsyncBlock<Workflow>> {
        let request = (*request_of(&env, request)?).clone();
        let inner = Arc::clone(&self.inner);
        napi::bindgen_prelude::AsyncBlockBuilder::new(async move {
            inner
                .engine()
                .submit(request)
                .await
                .map(Workflow::new)
                .map_err(engine_error)
        })
        .build(&env)
    }

    /// The workflow of `ticket`, as its records say (nothing is executed).
    #[napi]
    pub async fn workflow(&self, ticket: String) -> napi::Result<Workflow> {
        let inner = Arc::clone(&self.inner);
        inner
            .engine()
            .workflow(&WorkflowId::new(ticket))
            .await
            .map(Workflow::new)
            .map_err(engine_error)
    }

    /// Collects the approvers' new answers for `ticket` from the approval
    /// channel and drives the workflow on.
    #[napi]
    pub async fn collect_answers(&self, ticket: String) -> napi::Result<Workflow> {
        let inner = Arc::clone(&self.inner);
        inner
            .engine()
            .collect_answers(&WorkflowId::new(ticket))
            .await
            .map(Workflow::new)
            .map_err(engine_error)
    }

    /// Records an approver's answer for `ticket`'s open approval stage and
    /// drives the workflow on. Resolves to whether it counted and why not.
    #[napi]
    pub async fn record_approval(
        &self,
        ticket: String,
        answer: ApprovalInput,
    ) -> napi::Result<AnswerOutcome> {
        let verdict = verdict_of(&answer.verdict)?;
        let at = match answer.at {
            Some(t) => Some(time_of(Some(t), "at")?),
            None => None,
        };
        let inner = Arc::clone(&self.inner);
        let engine = inner.engine();
        let id = WorkflowId::new(ticket);
        let wf = engine.workflow(&id).await.map_err(engine_error)?;
        let open = match wf.phase {
            Phase::AwaitingApproval { stage, .. } => Some(stage),
            _ => None,
        };
        let stage = match (answer.stage, open) {
            (Some(s), _) => s,
            (None, Some(i)) => wf
                .decision
                .as_ref()
                .and_then(|d| d.stages.get(i))
                .map(|s| s.name.to_string())
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        let binding = match (answer.binding, open) {
            (Some(b), _) => b,
            (None, Some(i)) => wf.bindings.get(i).cloned().unwrap_or_default(),
            (None, None) => String::new(),
        };
        let recorded = ApprovalAnswer {
            stage: stage.into(),
            approver: answer.approver.into(),
            approver_id: answer.approver_id.map(UserId::new),
            verdict,
            comment: answer.comment,
            channel: answer.channel.unwrap_or_else(|| "node".to_owned()),
            at: at.unwrap_or_else(|| engine.now()),
            binding,
        };
        let outcome = engine.answer(&id, recorded).await.map_err(engine_error)?;
        Ok(AnswerOutcome {
            counted: outcome.counted,
            refusal: outcome.refusal,
            workflow: Workflow::new(outcome.workflow),
        })
    }

    /// Offboards `user` (UPN or object id) at once: every governed
    /// membership and open request of theirs ends, memberships groupgate did
    /// not grant are removed and reported as drift. Resolves to the report
    /// (`removed`, `drift`, `cancelled`, `in_progress`, `failed`,
    /// `incomplete`); `operator` is recorded as who asked.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn offboard(&self, user: String, operator: Option<String>) -> napi::Result<Value> {
        let inner = Arc::clone(&self.inner);
        let operator = operator.unwrap_or_else(|| "node".to_owned());
        let report = inner
            .engine()
            .offboard(&user, &operator)
            .await
            .map_err(engine_error)?;
        json_of(&report)
    }

    /// One pass of what the worker does: effects left in flight resolved,
    /// due timers fired, new answers collected (and, for an engine from a
    /// settings file, new RITMs taken in and queued offboardings carried
    /// out). Resolves to counts.
    #[napi]
    pub async fn run_due(&self) -> napi::Result<PassCounts> {
        let inner = Arc::clone(&self.inner);
        let counts = match &*inner {
            Inner::Service(s) => {
                let p = s.pass(true).await.map_err(service_error)?;
                PassCounts {
                    taken_in: count(p.taken_in),
                    stepped: count(p.stepped),
                    fired: count(p.fired),
                    offboarded: count(p.offboarded),
                    failures: count(p.failures),
                }
            }
            Inner::Engine(e) => {
                let r = e.pass().await.map_err(engine_error)?;
                PassCounts {
                    taken_in: 0,
                    stepped: count(r.stepped.len()),
                    fired: count(r.fired),
                    offboarded: 0,
                    failures: count(r.failures.len()),
                }
            }
        };
        Ok(counts)
    }

    /// The workflows in the store's index (no history replayed).
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub async fn workflows(&self, query: Option<WorkflowQuery>) -> napi::Result<Value> {
        let query = query.unwrap_or_default();
        let filter = WorkflowFilter {
            open: query.open,
            phase: query.phase,
            target: query.target.map(UserId::new),
            limit: query.limit.map_or(0, |l| l as usize),
            ..WorkflowFilter::default()
        };
        let inner = Arc::clone(&self.inner);
        let rows = inner
            .engine()
            .summaries(&filter)
            .await
            .map_err(engine_error)?;
        json_of(&rows)
    }

    /// The whole audit trail, one plain object per record, in order.
    #[napi(ts_return_type = "Promise<Array<Record<string, unknown>>>")]
    pub async fn audit_trail(&self) -> napi::Result<Value> {
        let inner = Arc::clone(&self.inner);
        let records = inner.engine().audit_trail().await.map_err(engine_error)?;
        json_of(&records)
    }

    /// Handles a Teams bot activity: pass the request's headers and raw
    /// body as received. The Bot Framework token is checked (signature by
    /// the published keys, issuer, audience, expiry, `serviceUrl`, the
    /// tenant), a click's action token verified, the answer recorded
    /// through the engine (approver by `aadObjectId`) and the refreshed
    /// card returned as the invoke's answer. Needs an engine from a
    /// settings file with `chat.teams`; answer with the `status` and
    /// `body` it resolves to.
    #[napi]
    pub async fn handle_teams_activity(
        &self,
        #[napi(ts_arg_type = "Record<string, string | string[] | undefined>")] headers: Headers,
        #[napi(ts_arg_type = "Buffer | string")] raw_body: Either<Buffer, String>,
    ) -> napi::Result<ChatReply> {
        let service = self.service("handleTeamsActivity")?;
        let authorization = header(&headers, "authorization");
        let reply = service
            .teams_activity(authorization.as_deref(), body_bytes(&raw_body))
            .await;
        Ok(reply.into())
    }

    /// Handles a Slack interaction (`block_actions`): pass the request's
    /// headers and raw body as received. The signature is checked at once
    /// and the click acknowledged (answer Slack with the `status` and
    /// `body` it resolves to, within three seconds); the answer is recorded
    /// and the message redrawn through `response_url` after. Needs an
    /// engine from a settings file with `chat.slack`.
    #[napi]
    pub async fn handle_slack_interaction(
        &self,
        #[napi(ts_arg_type = "Record<string, string | string[] | undefined>")] headers: Headers,
        #[napi(ts_arg_type = "Buffer | string")] raw_body: Either<Buffer, String>,
    ) -> napi::Result<ChatReply> {
        let service = self.service("handleSlackInteraction")?;
        let reply = service
            .slack_interaction(
                header(&headers, "x-slack-request-timestamp").as_deref(),
                header(&headers, "x-slack-signature").as_deref(),
                body_bytes(&raw_body),
            )
            .await;
        Ok(reply.into())
    }

    /// A description (never a secret).
    #[napi(js_name = "toString")]
    pub fn to_text(&self) -> String {
        format!(
            "Engine(policy={}, {})",
            self.inner.engine().policy().digest(),
            match &*self.inner {
                Inner::Service(_) => "from settings",
                Inner::Engine(_) => "javascript ports",
            }
        )
    }
}

impl Engine {
    fn service(&self, what: &str) -> napi::Result<Arc<Service>> {
        match &*self.inner {
            Inner::Service(s) => Ok(s.clone()),
            Inner::Engine(_) => Err(error(
                "SettingsError",
                &format!(
                    "{what} needs an engine from a settings file with chat settings (Engine.fromConfig)"
                ),
                json!({}),
            )),
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What one pass did.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct PassCounts {
    /// New RITMs taken in.
    pub taken_in: u32,
    /// Workflows stepped.
    pub stepped: u32,
    /// Timers fired.
    pub fired: u32,
    /// Users offboarded from the queue.
    pub offboarded: u32,
    /// Steps that failed (retried later).
    pub failures: u32,
}
