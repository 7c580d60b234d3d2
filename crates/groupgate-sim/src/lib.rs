//! The simulated world of groupgate: stateful in-memory fakes of every port
//! (a directory with users, groups and memberships; tickets; approvers;
//! storage) and a simulated clock, with fault injection. Tests, the demo and
//! users' own tests drive the engine on them, deterministically.
//!
//! ```
//! use groupgate_sim::{SimClock, FakeDirectory};
//! use groupgate_core::ports::IdentityProvider;
//! let clock = SimClock::at("2026-11-25T10:00:00Z".parse().unwrap());
//! let dir = FakeDirectory::new(Default::default(), clock.clone());
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! assert!(dir.user("nobody@contoso.com").await.unwrap().is_none());
//! # });
//! ```

mod approvals;
mod clock;
pub mod conformance;
mod directory;
mod faults;
mod index;
pub mod replication;
mod store;
mod tickets;
mod world;

pub use approvals::FakeApprovals;
pub use clock::SimClock;
pub use directory::FakeDirectory;
pub use faults::Faults;
pub use store::MemoryStore;
pub use tickets::{FakeTickets, TicketRecord};
pub use world::{EXAMPLE_DIRECTORY, EXAMPLE_POLICY, World};
