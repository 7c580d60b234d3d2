//! Ports implemented by JavaScript objects: any object with the port's
//! methods (camelCase: `memberOf`, `addMember`, `readRequest`, …), plain or
//! `async`. Each method is called through a thread-safe function from the
//! engine's Tokio tasks and its Promise awaited there — never by blocking
//! a libuv thread or the event loop. The shapes of arguments and answers
//! are `groupgate::foreign`'s; this only calls.

use crate::errors::from_javascript;
use async_trait::async_trait;
use groupgate::foreign::{ForeignCalls, Port};
use groupgate_core::ports::{ErrorClass, PortError, PortResult};
use napi::bindgen_prelude::{FnArgs, Function, Object, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, Status};
use serde_json::Value;
use std::collections::HashMap;

/// A port method as the engine calls it: one argument object in, a Promise
/// of `{ ok: answer }` or `{ error: { name, message, code, retryAfter } }`
/// out (the adapter below catches what the method throws).
type PortFn = ThreadsafeFunction<Value, Promise<Value>, Value, Status, false, true>;

/// The adapter's JavaScript function: `(object, name)` to a port method.
type Adapter<'env> =
    Function<'env, FnArgs<(Object<'env>, String)>, Function<'env, Value, Promise<Value>>>;

/// Wraps `object[name]` so that it is always awaited and never rejects:
/// its answer or its error comes back as data.
const ADAPTER: &str = r#"(function (object, name) {
  return async function (args) {
    try {
      const answer = await object[name](args);
      return { ok: answer === undefined ? null : answer };
    } catch (e) {
      const error = e !== null && typeof e === "object" ? e : { message: String(e) };
      return { error: {
        name: typeof error.name === "string" ? error.name : "Error",
        message: typeof error.message === "string" ? error.message : String(e),
        code: typeof error.code === "string" ? error.code : null,
        retryAfter: typeof error.retryAfter === "number" ? error.retryAfter : null,
      } };
    }
  };
})"#;

/// The camelCase name of a port method (`member_of` → `memberOf`).
fn js_name(method: &str) -> String {
    let mut out = String::with_capacity(method.len());
    let mut upper = false;
    for c in method.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Every method of every port, as `groupgate::foreign` calls them.
const METHODS: &[(Port, &[&str])] = &[
    (
        Port::Directory,
        &[
            "user",
            "manager",
            "group",
            "membership",
            "member_of",
            "direct_groups",
            "group_members",
            "add_member",
            "remove_member",
        ],
    ),
    (
        Port::Tickets,
        &["read_request", "update", "record_approval"],
    ),
    (Port::Approvals, &["ask", "answers", "cancel", "notify"]),
];

/// The caller's port objects, one thread-safe function per method found.
pub(crate) struct JsPorts {
    methods: HashMap<(Port, &'static str), PortFn>,
}

impl std::fmt::Debug for JsPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsPorts")
            .field("methods", &self.methods.len())
            .finish()
    }
}

impl JsPorts {
    /// Reads the methods of `directory`, `tickets` and `approvals` (on the
    /// JavaScript thread, once).
    pub(crate) fn new(
        env: &Env,
        directory: &Object<'_>,
        tickets: &Object<'_>,
        approvals: &Object<'_>,
    ) -> napi::Result<Self> {
        let adapter: Adapter<'_> = env.run_script(ADAPTER)?;
        let mut methods = HashMap::new();
        for (port, names) in METHODS {
            let object = match port {
                Port::Directory => directory,
                Port::Tickets => tickets,
                Port::Approvals => approvals,
            };
            for name in *names {
                let js = js_name(name);
                let is_function = object
                    .get::<napi::bindgen_prelude::Unknown<'_>>(&js)?
                    .map(|v| v.get_type().ok() == Some(napi::ValueType::Function))
                    .unwrap_or(false);
                if !is_function {
                    continue;
                }
                let wrapped = adapter.call(FnArgs::from((*object, js)))?;
                let tsfn: PortFn = wrapped
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()?;
                methods.insert((*port, *name), tsfn);
            }
        }
        Ok(Self { methods })
    }
}

#[async_trait]
impl ForeignCalls for JsPorts {
    async fn call(&self, port: Port, method: &'static str, args: Value) -> PortResult<Value> {
        let Some(function) = self.methods.get(&(port, method)) else {
            return Err(PortError::new(
                ErrorClass::Permanent,
                format!(
                    "the {} port object has no `{}` method",
                    port.name(),
                    js_name(method)
                ),
            ));
        };
        let failed = |e: napi::Error| {
            PortError::new(
                ErrorClass::Transient {
                    retry_after_seconds: None,
                },
                format!(
                    "the {} port's `{}` could not be called: {}",
                    port.name(),
                    js_name(method),
                    e.reason
                ),
            )
        };
        let promise = function.call_async(args).await.map_err(failed)?;
        let outcome = promise.await.map_err(failed)?;
        match outcome {
            Value::Object(mut map) => {
                if let Some(thrown) = map.remove("error") {
                    return Err(from_javascript(&thrown, port.name(), &js_name(method)));
                }
                Ok(map.remove("ok").unwrap_or(Value::Null))
            }
            _ => Err(PortError::permanent(format!(
                "the {} port's `{}` gave no answer",
                port.name(),
                js_name(method)
            ))),
        }
    }

    fn has(&self, port: Port, method: &str) -> bool {
        self.methods.keys().any(|(p, m)| *p == port && *m == method)
    }
}
