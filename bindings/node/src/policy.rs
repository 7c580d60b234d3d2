//! `Policy` and the inputs it decides on (`Request`, `Facts`,
//! `DirectorySnapshot`). Every method converts its arguments, makes one
//! call into the Rust crates and converts the answer; no rule lives here.

use crate::convert::{from_js, time_of};
use crate::decision::{Decision, Diagnostic, diagnostics};
use crate::errors::{file_error, policy_error};
use groupgate_core as core;
use napi::Env;
use napi::bindgen_prelude::{Array, ClassInstance, Either, Unknown};
use napi_derive::napi;
use serde_json::Value;
use std::sync::Arc;

/// A request, read once (reuse it to decide many times without reading the
/// object again).
#[napi]
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) inner: Arc<core::Request>,
}

#[napi]
impl Request {
    /// A request from its fields, as in a request file: `ticket`,
    /// `requester`, `target`, `resource`, and optionally `end_date`,
    /// `justification`, `suggestion`.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "RequestInput")] fields: Unknown<'_>,
    ) -> napi::Result<Self> {
        Ok(Self {
            inner: Arc::new(from_js(&env, fields, "request")?),
        })
    }

    /// The ticket it belongs to.
    #[napi(getter)]
    pub fn ticket(&self) -> String {
        self.inner.ticket.to_string()
    }

    /// The requester (UPN or object id).
    #[napi(getter)]
    pub fn requester(&self) -> String {
        self.inner.requester.clone()
    }

    /// Who is to get the access.
    #[napi(getter)]
    pub fn target(&self) -> String {
        self.inner.target.clone()
    }

    /// What was asked for, as typed.
    #[napi(getter)]
    pub fn resource(&self) -> String {
        self.inner.resource.clone()
    }

    /// The request as a plain object (the request file's shape).
    #[napi(js_name = "toJSON", ts_return_type = "RequestInput")]
    pub fn to_json(&self) -> napi::Result<Value> {
        crate::decision::json_of(&*self.inner)
    }
}

/// What the evaluator knows about the people and the group, read once.
#[napi]
#[derive(Debug, Clone)]
pub struct Facts {
    pub(crate) inner: Arc<core::Facts>,
}

#[napi]
impl Facts {
    /// Facts from an object, as in a facts file.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "FactsInput")] fields: Unknown<'_>,
    ) -> napi::Result<Self> {
        Ok(Self {
            inner: Arc::new(from_js(&env, fields, "facts")?),
        })
    }

    /// The facts as a plain object (the facts file's shape).
    #[napi(js_name = "toJSON", ts_return_type = "FactsInput")]
    pub fn to_json(&self) -> napi::Result<Value> {
        crate::decision::json_of(&*self.inner)
    }
}

/// A directory snapshot (users and groups), for deciding without a live
/// directory as `groupgate check --facts` does.
#[napi]
#[derive(Debug, Clone)]
pub struct DirectorySnapshot {
    pub(crate) inner: Arc<core::DirectorySnapshot>,
}

#[napi]
impl DirectorySnapshot {
    /// A snapshot from an object (`users`, `groups`).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "DirectorySnapshotInput")] fields: Unknown<'_>,
    ) -> napi::Result<Self> {
        Ok(Self {
            inner: Arc::new(from_js(&env, fields, "directory snapshot")?),
        })
    }

    /// Reads a snapshot file (YAML, or JSON by its `.json` name).
    #[napi(factory, catch_unwind)]
    pub fn from_file(path: String) -> napi::Result<Self> {
        let snapshot: core::DirectorySnapshot = groupgate::files::load_as(
            std::path::Path::new(&path),
            "a directory snapshot (users, groups)",
            groupgate::files::Input::Large,
        )
        .map_err(file_error)?;
        Ok(Self {
            inner: Arc::new(snapshot),
        })
    }

    /// The snapshot as a plain object.
    #[napi(js_name = "toJSON", ts_return_type = "DirectorySnapshotInput")]
    pub fn to_json(&self) -> napi::Result<Value> {
        crate::decision::json_of(&*self.inner)
    }
}

/// A request given as a `Request` or a plain object.
pub(crate) type RequestArg<'a> = Either<&'a Request, Unknown<'a>>;
/// Facts given as `Facts` or a plain object.
pub(crate) type FactsArg<'a> = Either<&'a Facts, Unknown<'a>>;

pub(crate) fn request_of(env: &Env, arg: RequestArg<'_>) -> napi::Result<Arc<core::Request>> {
    match arg {
        Either::A(r) => Ok(Arc::clone(&r.inner)),
        Either::B(v) => Ok(Arc::new(from_js(env, v, "request")?)),
    }
}

fn facts_of(env: &Env, arg: FactsArg<'_>) -> napi::Result<Arc<core::Facts>> {
    match arg {
        Either::A(f) => Ok(Arc::clone(&f.inner)),
        Either::B(v) => Ok(Arc::new(from_js(env, v, "facts")?)),
    }
}

/// A validated, compiled policy. Immutable; share it freely.
#[napi]
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) inner: core::CompiledPolicy,
}

#[napi]
impl Policy {
    /// Reads, validates and compiles a policy file (YAML, or JSON by its
    /// `.json` name). Throws `PolicyError` (with `file`, `line`, `column`,
    /// `field` and every finding in `diagnostics`) or `InputError` for a
    /// file that cannot be read or is beyond a size limit.
    #[napi(factory, catch_unwind)]
    pub fn from_file(path: String) -> napi::Result<Self> {
        let inner =
            groupgate::files::load_policy(std::path::Path::new(&path)).map_err(file_error)?;
        Ok(Self { inner })
    }

    /// A policy from YAML text; `sourceName` names it in errors.
    #[napi(factory, catch_unwind)]
    pub fn from_yaml(text: String, source_name: Option<String>) -> napi::Result<Self> {
        let name = source_name.unwrap_or_else(|| "policy.yaml".to_owned());
        let inner =
            core::CompiledPolicy::from_yaml_str(&text, &name).map_err(|e| policy_error(&e))?;
        Ok(Self { inner })
    }

    /// A policy from JSON text; `sourceName` names it in errors.
    #[napi(factory, catch_unwind)]
    pub fn from_json(text: String, source_name: Option<String>) -> napi::Result<Self> {
        let name = source_name.unwrap_or_else(|| "policy.json".to_owned());
        let inner =
            core::CompiledPolicy::from_json_str(&text, &name).map_err(|e| policy_error(&e))?;
        Ok(Self { inner })
    }

    /// The digest of the policy's canonical form (every decision records it).
    #[napi(getter)]
    pub fn digest(&self) -> String {
        self.inner.digest().to_owned()
    }

    /// Warnings about likely mistakes (a policy that loaded has no errors).
    #[napi(catch_unwind)]
    pub fn lint(&self) -> Vec<Diagnostic> {
        diagnostics(&self.inner.lint())
    }

    /// How the request's resource text resolves in the catalog: `status`
    /// (`resolved`, `ambiguous`, `unresolved`) and, when resolved, the
    /// group and how it matched.
    #[napi(catch_unwind, ts_return_type = "Resolution")]
    pub fn resolve(
        &self,
        env: Env,
        #[napi(ts_arg_type = "Request | RequestInput")] request: RequestArg<'_>,
    ) -> napi::Result<Value> {
        let request = request_of(&env, request)?;
        crate::decision::json_of(&self.inner.resolve(&request))
    }

    /// Decides `request` on `facts` at `now` (a `Date` or RFC 3339 text;
    /// the present when omitted). Pure: no I/O. Always returns a decision
    /// (a deny when in doubt); throws `InvalidRequestError` only for input
    /// of the wrong shape.
    #[napi(catch_unwind)]
    pub fn evaluate(
        &self,
        env: Env,
        #[napi(ts_arg_type = "Request | RequestInput")] request: RequestArg<'_>,
        #[napi(ts_arg_type = "Facts | FactsInput")] facts: FactsArg<'_>,
        now: Option<Either<chrono::DateTime<chrono::Utc>, String>>,
    ) -> napi::Result<Decision> {
        let request = request_of(&env, request)?;
        let facts = facts_of(&env, facts)?;
        let now = time_of(now, "now")?;
        Ok(Decision::new(self.inner.evaluate(&request, &facts, now)))
    }

    /// Decides many `[request, facts]` pairs at `now` in one call: the
    /// per-call cost of crossing into the addon paid once for the batch.
    /// Returns the decisions in order.
    #[napi(catch_unwind)]
    pub fn evaluate_many(
        &self,
        env: Env,
        #[napi(ts_arg_type = "Array<[Request | RequestInput, Facts | FactsInput]>")] cases: Array<
            '_,
        >,
        now: Option<Either<chrono::DateTime<chrono::Utc>, String>>,
    ) -> napi::Result<Vec<Decision>> {
        let now = time_of(now, "now")?;
        let mut decisions = Vec::with_capacity(cases.len() as usize);
        for i in 0..cases.len() {
            let pair: Array<'_> = cases.get(i)?.ok_or_else(|| {
                crate::errors::invalid("cases", &format!("[{i}]"), "give a [request, facts] pair")
            })?;
            let request = match pair.get::<Either<ClassInstance<'_, Request>, Unknown<'_>>>(0)? {
                Some(Either::A(r)) => Arc::clone(&r.inner),
                Some(Either::B(v)) => Arc::new(from_js(&env, v, "request")?),
                None => {
                    return Err(crate::errors::invalid(
                        "cases",
                        &format!("[{i}][0]"),
                        "the request is missing",
                    ));
                }
            };
            let facts = match pair.get::<Either<ClassInstance<'_, Facts>, Unknown<'_>>>(1)? {
                Some(Either::A(f)) => Arc::clone(&f.inner),
                Some(Either::B(v)) => Arc::new(from_js(&env, v, "facts")?),
                None => {
                    return Err(crate::errors::invalid(
                        "cases",
                        &format!("[{i}][1]"),
                        "the facts are missing",
                    ));
                }
            };
            decisions.push(Decision::new(self.inner.evaluate(&request, &facts, now)));
        }
        Ok(decisions)
    }

    /// Decides `request` against a directory snapshot: the facts are derived
    /// from it as the engine gathers them, exactly as `groupgate check
    /// --facts` does (the same JSON, byte for byte).
    #[napi(catch_unwind)]
    pub fn evaluate_with_snapshot(
        &self,
        env: Env,
        #[napi(ts_arg_type = "Request | RequestInput")] request: RequestArg<'_>,
        #[napi(ts_arg_type = "DirectorySnapshot | DirectorySnapshotInput")] directory: Either<
            &DirectorySnapshot,
            Unknown<'_>,
        >,
        now: Option<Either<chrono::DateTime<chrono::Utc>, String>>,
    ) -> napi::Result<Decision> {
        let request = request_of(&env, request)?;
        let directory = match directory {
            Either::A(d) => Arc::clone(&d.inner),
            Either::B(v) => Arc::new(from_js(&env, v, "directory snapshot")?),
        };
        let now = time_of(now, "now")?;
        Ok(Decision::new(core::evaluate_with_snapshot(
            &self.inner,
            &request,
            &directory,
            now,
        )))
    }

    /// What the engine would read from the directory for `request`.
    #[napi(catch_unwind, ts_return_type = "Record<string, unknown>")]
    pub fn fact_needs(
        &self,
        env: Env,
        #[napi(ts_arg_type = "Request | RequestInput")] request: RequestArg<'_>,
    ) -> napi::Result<Value> {
        let request = request_of(&env, request)?;
        crate::decision::json_of(&self.inner.fact_needs(&request))
    }
}

/// Every error and warning about policy text, located (a policy that does
/// not load gives its errors here instead of throwing). `json`: the text is
/// JSON rather than YAML.
#[napi(catch_unwind)]
pub fn lint_policy_text(text: String, json: Option<bool>) -> Vec<Diagnostic> {
    let format = if json.unwrap_or(false) {
        core::PolicyFormat::Json
    } else {
        core::PolicyFormat::Yaml
    };
    diagnostics(&core::lint_policy_text(&text, format))
}
