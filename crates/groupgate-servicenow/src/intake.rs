//! Intake: the JSON a ServiceNow business rule posts when a RITM is created,
//! and a poller for new RITMs of configured catalog items.

use crate::ServiceNowClient;
use crate::client::field;
use crate::query::{ritm_number, sys_id, sys_id_list};
use groupgate_core::TicketRef;
use groupgate_core::ports::{ErrorClass, PortError, PortResult};
use serde::Deserialize;

/// The body of the `sc_req_item.inserted` notification (see
/// `docs/adapters/servicenow.md` for the business rule that sends it).
/// The payload only tells that something happened: groupgate re-reads the RITM
/// through the Table API and never trusts the payload's other fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RitmCreated {
    /// `sc_req_item.inserted`.
    pub event: String,
    /// The RITM's sys_id.
    pub sys_id: String,
    /// The RITM number.
    pub number: String,
    /// `sys_updated_on`, for de-duplicating repeated deliveries.
    #[serde(default)]
    pub sys_updated_on: String,
}

/// The longest notification body taken in (a real one is about 200 bytes).
pub const MAX_NOTIFICATION_BYTES: usize = 16 * 1024;

/// A payload that cannot be taken in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// Longer than [`MAX_NOTIFICATION_BYTES`]; not parsed.
    #[error(
        "the payload is {0} bytes, more than the {MAX_NOTIFICATION_BYTES} a RITM notification may have; send only the event, sys_id, number and sys_updated_on"
    )]
    TooLarge(usize),
    /// Not JSON, or not the expected shape.
    #[error(
        "the payload is not a RITM notification: {0}; expected {{\"event\": \"sc_req_item.inserted\", \"sys_id\": …, \"number\": …}}"
    )]
    Malformed(String),
    /// Another event.
    #[error("the payload is event `{0}`, not `sc_req_item.inserted`")]
    OtherEvent(String),
    /// A field has the wrong shape.
    #[error("the payload's `{field}` is invalid: {reason}")]
    BadField {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Parses and checks a RITM notification.
///
/// ```
/// use groupgate_servicenow::parse_ritm_created;
/// let ok = parse_ritm_created(br#"{"event":"sc_req_item.inserted","sys_id":"b82a0a3b1b1a2010a8d0ed7bbd4bcbfe","number":"RITM0010001","sys_updated_on":"2025-01-01 10:00:00"}"#).unwrap();
/// assert_eq!(ok.number, "RITM0010001");
/// assert!(parse_ritm_created(b"{}").is_err());
/// assert!(parse_ritm_created(&vec![b' '; 1 << 20]).is_err()); // too large: not parsed
/// ```
pub fn parse_ritm_created(body: &[u8]) -> Result<RitmCreated, IntakeError> {
    if body.len() > MAX_NOTIFICATION_BYTES {
        return Err(IntakeError::TooLarge(body.len()));
    }
    let payload: RitmCreated =
        serde_json::from_slice(body).map_err(|e| IntakeError::Malformed(e.to_string()))?;
    if payload.event != "sc_req_item.inserted" {
        let shown: String = payload.event.chars().take(64).collect();
        return Err(IntakeError::OtherEvent(shown));
    }
    ritm_number(&payload.number).map_err(|e| IntakeError::BadField {
        field: "number",
        reason: e.to_string(),
    })?;
    sys_id(&payload.sys_id).map_err(|e| IntakeError::BadField {
        field: "sys_id",
        reason: e.to_string(),
    })?;
    Ok(payload)
}

impl ServiceNowClient {
    /// Open RITMs of the given catalog items (sys_ids), oldest first: what a
    /// poller takes in when no business rule notifies groupgate.
    pub async fn new_ritms(&self, catalog_items: &[String]) -> PortResult<Vec<TicketRef>> {
        let items = sys_id_list(catalog_items)
            .map_err(|e| PortError::new(ErrorClass::Invalid, e.to_string()))?;
        let rows = self
            .query(
                "sc_req_item",
                &format!("cat_itemIN{items}^active=true^ORDERBYsys_created_on"),
                "sys_id,number,cat_item",
                1000,
            )
            .await?;
        // Only rows that match what was asked (ServiceNow may ignore a bad query).
        Ok(rows
            .iter()
            .filter(|r| catalog_items.contains(&field(r, "cat_item")))
            .filter_map(|r| ritm_number(&field(r, "number")).ok().map(TicketRef::new))
            .collect())
    }

    /// The catalog item (`cat_item` sys_id) of the RITM `number`, read from
    /// the instance (a notification's own fields are never trusted); `None`
    /// when the instance has no such RITM.
    pub async fn ritm_catalog_item(&self, number: &str) -> PortResult<Option<String>> {
        let number =
            ritm_number(number).map_err(|e| PortError::new(ErrorClass::Invalid, e.to_string()))?;
        let rows = self
            .query(
                "sc_req_item",
                &format!("number={number}"),
                "number,cat_item",
                1,
            )
            .await?;
        Ok(rows
            .iter()
            .find(|r| field(r, "number") == number)
            .map(|r| field(r, "cat_item")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn arbitrary_bodies_are_refused_with_a_reason(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if let Err(e) = parse_ritm_created(&body) {
                proptest::prop_assert!(!e.to_string().is_empty());
            }
        }

        #[test]
        fn only_valid_numbers_and_sys_ids_get_through(
            number in "(RITM[0-9]{1,8})|(\\PC{0,20})",
            id in "([0-9a-f]{32})|(\\PC{0,40})",
        ) {
            let body = serde_json::json!({
                "event": "sc_req_item.inserted",
                "sys_id": id,
                "number": number,
                "sys_updated_on": "2026-11-25 10:00:00",
            });
            let parsed = parse_ritm_created(body.to_string().as_bytes());
            let valid = ritm_number(&number).is_ok() && sys_id(&id).is_ok();
            proptest::prop_assert_eq!(parsed.is_ok(), valid);
        }
    }
}
