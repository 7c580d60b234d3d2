//! Driving a workflow: execute the commands waiting in its outbox one at a
//! time (the intent committed before each effect, the outcome right after),
//! and resolve effects a crash interrupted by asking the world.

use crate::execute::ExecError;
use crate::state::Loaded;
use crate::{Engine, EngineError};
use groupgate_core::audit::{Actor, AuditRecord, Entry, NewRecord};
use groupgate_core::ports::Commit;
use groupgate_core::workflow::{Action, Event};
use std::sync::atomic::Ordering;

/// More steps than any workflow takes without waiting: a loop, not progress.
const MAX_STEPS: usize = 10_000;

impl Engine {
    /// Executes every ready command of the workflow, feeding each outcome
    /// back, until it waits (for approvers, a window, a timer) or ends.
    pub(crate) async fn drive(&self, loaded: &mut Loaded) -> Result<(), EngineError> {
        for _ in 0..MAX_STEPS {
            let now = self.now();
            let Some(pending) = loaded.wf.next_ready(now) else {
                return Ok(());
            };
            let command = pending.command.clone();
            if !command.action.is_read() {
                let issuing = Event::Issuing {
                    command: command.clone(),
                };
                if !self.step(loaded, issuing, Actor::System).await? {
                    return Err(self.stuck(loaded, &command.key));
                }
            }
            let action = command.action.name();
            crate::crash::effect(action, "before");
            let executed = self.execute(&loaded.wf, &command).await;
            crate::crash::effect(action, "after");
            let event = match executed {
                Ok(event) => event,
                Err(ExecError::Store(e)) => return Err(e),
                Err(ExecError::Port(error)) => Event::EffectFailed {
                    command: command.clone(),
                    error,
                    jitter: self.jitter(),
                },
            };
            if !self.step(loaded, event, Actor::System).await? {
                return Err(self.stuck(loaded, &command.key));
            }
        }
        Err(EngineError::Corrupt {
            workflow: loaded.wf.id.clone(),
            reason: format!("more than {MAX_STEPS} steps without waiting"),
        })
    }

    fn stuck(&self, loaded: &Loaded, key: &str) -> EngineError {
        EngineError::Corrupt {
            workflow: loaded.wf.id.clone(),
            reason: format!("the outcome of `{key}` was refused; the workflow cannot go on"),
        }
    }

    /// Takes up a workflow this engine holds: effects left in flight by a
    /// process that died (or a call that was dropped) are resolved first,
    /// then everything ready is driven.
    pub(crate) async fn resume(&self, loaded: &mut Loaded) -> Result<(), EngineError> {
        self.resolve_interrupted(loaded).await?;
        self.drive(loaded).await
    }

    /// Resolves each command whose intent was committed and whose outcome was
    /// not. For an add or a removal the membership is read first, and the
    /// state machine decides from what the directory says; any other command
    /// is re-issued under its idempotency key.
    pub(crate) async fn resolve_interrupted(&self, loaded: &mut Loaded) -> Result<(), EngineError> {
        let interrupted: Vec<_> = loaded.wf.in_flight().cloned().collect();
        for pending in interrupted {
            let observed = match &pending.command.action {
                Action::AddMember { group, user } | Action::RemoveMember { group, user } => {
                    match self.ports.identity.membership(group, user).await {
                        Ok(state) => Some(state),
                        // The directory cannot be asked now: the watchdog
                        // comes back to it.
                        Err(_) => continue,
                    }
                }
                _ => None,
            };
            let event = Event::Interrupted {
                key: pending.command.key.clone(),
                observed,
                jitter: self.jitter(),
            };
            self.step(loaded, event, Actor::System).await?;
        }
        Ok(())
    }

    /// After every commit: a signed checkpoint when enough records were
    /// appended since the last one.
    pub(crate) async fn after_commit(&self, last: Option<&AuditRecord>) -> Result<(), EngineError> {
        crate::crash::point("commit:after");
        let (Some(cp), Some(last)) = (&self.checkpoints, last) else {
            return Ok(());
        };
        if matches!(last.entry, Entry::Checkpoint { .. }) {
            return Ok(());
        }
        let previous = cp.last.load(Ordering::Acquire);
        let due = if previous == u64::MAX {
            last.seq + 1 >= cp.every
        } else {
            last.seq.saturating_sub(previous) >= cp.every
        };
        if !due
            || cp
                .last
                .compare_exchange(previous, last.seq, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return Ok(());
        }
        self.write_checkpoint(last.seq, &last.hash).await
    }

    async fn write_checkpoint(&self, covers: u64, covers_hash: &str) -> Result<(), EngineError> {
        let Some(cp) = &self.checkpoints else {
            return Ok(());
        };
        let (key_id, signature) = cp.key.sign(covers, covers_hash);
        let commit = Commit {
            workflow: groupgate_core::WorkflowId::new("audit"),
            expected_version: None,
            records: vec![NewRecord {
                at: self.now(),
                actor: Actor::System,
                entry: Entry::Checkpoint {
                    covers,
                    covers_hash: covers_hash.to_owned(),
                    key_id,
                    signature,
                },
            }],
            summary: None,
            timers: None,
        };
        self.ports
            .store
            .commit(&commit)
            .await
            .map(|_| ())
            .map_err(EngineError::Store)
    }

    /// Signs a checkpoint of the trail's current head now (with the key given
    /// to [`Engine::with_checkpoints`]); `false` without a key or records.
    pub async fn checkpoint(&self) -> Result<bool, EngineError> {
        let Some(cp) = &self.checkpoints else {
            return Ok(false);
        };
        let Some(head) = self.head().await? else {
            return Ok(false);
        };
        cp.last.store(head.seq, Ordering::Release);
        self.write_checkpoint(head.seq, &head.hash).await?;
        Ok(true)
    }
}
