//! What chat approvals remember between calls and across restarts: the
//! cards posted (to refresh them when the request moves on) and the action
//! tokens already used (so a click counts once). The worker keeps both in
//! its store file; [`MemoryLedger`] keeps them in memory (tests, embedding).

use crate::view::ApprovalView;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use groupgate_core::ports::{PortError, PortResult};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// A card posted for an approval ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedCard {
    /// The ticket.
    pub ticket: String,
    /// The stage.
    pub stage: String,
    /// `teams` or `slack`.
    pub channel: String,
    /// The ask's idempotency key (a retried ask posts nothing new).
    pub ask_key: String,
    /// Where the card is (the channel's own reference, as JSON).
    pub reference: serde_json::Value,
    /// What it showed, to draw its closed form.
    pub view: ApprovalView,
    /// Whether it was closed.
    pub closed: bool,
}

/// Where cards and used tokens are kept.
#[async_trait]
pub trait ChatLedger: Send + Sync {
    /// Records a posted card.
    async fn record_card(&self, card: &PostedCard) -> PortResult<()>;
    /// The cards posted for `ticket` (open and closed), oldest first.
    async fn cards(&self, ticket: &str) -> PortResult<Vec<PostedCard>>;
    /// Marks the card posted for `ask_key` on `channel` closed.
    async fn close_card(&self, channel: &str, ask_key: &str) -> PortResult<()>;
    /// Records `token_id` as used; `false` when it already was.
    async fn use_token(&self, token_id: &str, expires: DateTime<Utc>) -> PortResult<bool>;
    /// Whether `token_id` was used.
    async fn token_used(&self, token_id: &str) -> PortResult<bool>;
}

/// A ledger in memory.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    cards: Mutex<BTreeMap<String, Vec<PostedCard>>>,
    tokens: Mutex<HashMap<String, DateTime<Utc>>>,
}

fn poisoned() -> PortError {
    PortError::permanent("the chat ledger's lock was poisoned")
}

#[async_trait]
impl ChatLedger for MemoryLedger {
    async fn record_card(&self, card: &PostedCard) -> PortResult<()> {
        let mut cards = self.cards.lock().map_err(|_| poisoned())?;
        let list = cards.entry(card.ticket.clone()).or_default();
        if !list.iter().any(|c| {
            c.ask_key == card.ask_key && c.channel == card.channel && c.reference == card.reference
        }) {
            list.push(card.clone());
        }
        Ok(())
    }

    async fn cards(&self, ticket: &str) -> PortResult<Vec<PostedCard>> {
        Ok(self
            .cards
            .lock()
            .map_err(|_| poisoned())?
            .get(ticket)
            .cloned()
            .unwrap_or_default())
    }

    async fn close_card(&self, channel: &str, ask_key: &str) -> PortResult<()> {
        let mut cards = self.cards.lock().map_err(|_| poisoned())?;
        for list in cards.values_mut() {
            for c in list.iter_mut() {
                if c.channel == channel && c.ask_key == ask_key {
                    c.closed = true;
                }
            }
        }
        Ok(())
    }

    async fn use_token(&self, token_id: &str, expires: DateTime<Utc>) -> PortResult<bool> {
        let mut tokens = self.tokens.lock().map_err(|_| poisoned())?;
        Ok(tokens.insert(token_id.to_owned(), expires).is_none())
    }

    async fn token_used(&self, token_id: &str) -> PortResult<bool> {
        Ok(self
            .tokens
            .lock()
            .map_err(|_| poisoned())?
            .contains_key(token_id))
    }
}
