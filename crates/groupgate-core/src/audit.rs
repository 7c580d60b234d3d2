//! The audit trail: every input, decision, approval, action and failure as an
//! append-only, hash-chained record. The same records are the workflows'
//! event log (event sourcing): a workflow is rebuilt by replaying them.
//!
//! Each record's `hash` is SHA-256 over the previous record's hash and the
//! record's canonical JSON (keys sorted, `hash` left out), so editing,
//! deleting, inserting or reordering records breaks the chain. A keyless
//! chain cannot tell a trail that was cut short, or rewritten with every hash
//! recomputed, from an honest one: [`Anchor`]s written outside the store
//! (into the ticket's work notes) and Ed25519-signed checkpoints ([`CheckpointKey`]) close
//! those gaps. `docs/audit.md` says what each mode detects and what it cannot.

mod canonical;
mod checkpoint;
mod record;
mod replay;
mod strict;
mod verify;

pub use checkpoint::{CheckpointKey, CheckpointVerifier, KeyError, checkpoint_message};
pub use record::{Actor, AuditRecord, ChainHead, Entry, GENESIS, NewRecord};
pub use replay::{ReplayDifference, replay};
pub use verify::{
    Anchor, AnchorError, AuditError, VerifyOptions, VerifyReport, verify_jsonl, verify_trail,
};
