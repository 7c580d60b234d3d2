//! Microsoft Teams: Adaptive Cards, card actions.
mod auth;
pub mod card;
mod connector;
mod invoke;
pub use auth::{AuthError, BotAuth, BotAuthConfig};
pub use connector::{TeamsConfig, TeamsConnector, TeamsMessage};
pub use invoke::{
    InvokeError, TeamsClick, TeamsVerb, card_response, error_response, message_response,
    parse_activity,
};
