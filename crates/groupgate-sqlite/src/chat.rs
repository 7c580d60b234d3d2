//! What chat approvals keep in the store file: the cards posted for each
//! ticket (to refresh them when the request moves on) and the action tokens
//! already used (so one click counts once), across restarts.

use crate::SqliteStore;
use crate::error::port_error;
use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::ports::{PortError, PortResult};
use rusqlite::{OptionalExtension, params};

/// A card as kept: its reference and view are the chat layer's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCardRow {
    /// The ticket.
    pub ticket: String,
    /// The stage.
    pub stage: String,
    /// `teams` or `slack`.
    pub channel: String,
    /// The ask's idempotency key.
    pub ask_key: String,
    /// Where the card is (JSON).
    pub reference: String,
    /// What it showed (JSON).
    pub view: String,
    /// Whether it was closed.
    pub closed: bool,
}

impl SqliteStore {
    fn locked(&self) -> PortResult<std::sync::MutexGuard<'_, rusqlite::Connection>> {
        self.conn
            .lock()
            .map_err(|_| PortError::permanent("the store's connection was poisoned"))
    }

    /// Records a posted card (a card already recorded is kept as it is).
    pub fn record_chat_card(&self, card: &ChatCardRow) -> PortResult<()> {
        self.locked()?
            .execute(
                "INSERT OR IGNORE INTO chat_cards (ticket, stage, channel, ask_key, reference, view, closed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    card.ticket,
                    card.stage,
                    card.channel,
                    card.ask_key,
                    card.reference,
                    card.view,
                    card.closed
                ],
            )
            .map(|_| ())
            .map_err(|e| port_error("recording a chat card", &e))
    }

    /// The cards posted for `ticket`, oldest first.
    pub fn chat_cards(&self, ticket: &str) -> PortResult<Vec<ChatCardRow>> {
        let conn = self.locked()?;
        let mut statement = conn
            .prepare_cached(
                "SELECT ticket, stage, channel, ask_key, reference, view, closed FROM chat_cards
                 WHERE ticket = ?1 ORDER BY id",
            )
            .map_err(|e| port_error("reading chat cards", &e))?;
        let rows = statement
            .query_map([ticket], |r| {
                Ok(ChatCardRow {
                    ticket: r.get(0)?,
                    stage: r.get(1)?,
                    channel: r.get(2)?,
                    ask_key: r.get(3)?,
                    reference: r.get(4)?,
                    view: r.get(5)?,
                    closed: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| port_error("reading chat cards", &e))?;
        Ok(rows)
    }

    /// Marks the cards of `ask_key` on `channel` closed.
    pub fn close_chat_card(&self, channel: &str, ask_key: &str) -> PortResult<()> {
        self.locked()?
            .execute(
                "UPDATE chat_cards SET closed = 1 WHERE channel = ?1 AND ask_key = ?2",
                params![channel, ask_key],
            )
            .map(|_| ())
            .map_err(|e| port_error("closing a chat card", &e))
    }

    /// Records `id` as used until `expires`; `false` when it already was.
    /// Tokens expired for a day are forgotten on the way.
    pub fn use_chat_token(
        &self,
        id: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> PortResult<bool> {
        let conn = self.locked()?;
        conn.execute(
            "DELETE FROM chat_tokens WHERE expires < ?1",
            [(now - TimeDelta::days(1)).timestamp_micros()],
        )
        .map_err(|e| port_error("forgetting expired chat tokens", &e))?;
        conn.execute(
            "INSERT OR IGNORE INTO chat_tokens (id, expires) VALUES (?1, ?2)",
            params![id, expires.timestamp_micros()],
        )
        .map(|changed| changed == 1)
        .map_err(|e| port_error("recording a used chat token", &e))
    }

    /// Whether `id` was used.
    pub fn chat_token_used(&self, id: &str) -> PortResult<bool> {
        self.locked()?
            .query_row("SELECT 1 FROM chat_tokens WHERE id = ?1", [id], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| port_error("reading used chat tokens", &e))
    }
}
