#![doc = include_str!("../README.md")]

mod channel;
mod http;
mod interactions;
mod ledger;
pub mod slack;
pub mod teams;
mod token;
pub mod view;

pub use channel::{ChatChannel, ChatService, SlackTarget};
pub use http::HttpError;
pub use interactions::{
    Accepted, Outcome, Refreshed, Refusal, SlackInteractions, TeamsInteractions,
};
pub use ledger::{ChatLedger, MemoryLedger, PostedCard};
pub use token::{ActionClaims, ShortKey, TokenError, TokenKey, nonce};
pub use view::{ApprovalView, Closure, truncate};
