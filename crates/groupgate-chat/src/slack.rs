//! Slack: Block Kit messages, signed requests, interactions.
mod api;
pub mod blocks;
mod interaction;
mod signature;
pub use api::{SlackApi, SlackConfig, SlackMessage, SlackUser};
pub use interaction::{InteractionError, SlackClick, parse_interaction};
pub use signature::{MAX_SKEW_SECONDS, SignatureError, sign, verify_signature};
