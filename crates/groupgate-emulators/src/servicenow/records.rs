//! (see the parent module)

use super::*;

pub(super) fn find<'a>(i: &'a Instance, table: &str, id: &str) -> Option<&'a Row> {
    i.tables
        .get(table)?
        .iter()
        .find(|r| text(r, "sys_id") == id)
}

/// Writes fields; journal fields are appended to `sys_journal_field` instead.
pub(super) fn write_fields(
    i: &mut Instance,
    table: &str,
    r: &mut Row,
    fields: &Map<String, Value>,
    now: DateTime<Utc>,
) {
    let id = text(r, "sys_id");
    for (k, v) in fields {
        let value = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if k == "work_notes" || k == "comments" {
            if !value.is_empty() {
                i.counter += 1;
                let entry = row(
                    json!({"sys_id": format!("{:032x}", i.counter), "element_id": id, "element": k, "name": table,
                    "value": value, "sys_created_on": stamp(now), "sys_created_by": "groupgate.integration"}),
                );
                i.tables
                    .entry("sys_journal_field".into())
                    .or_default()
                    .push(entry);
            }
            r.insert(k.clone(), Value::String(String::new()));
        } else {
            r.insert(k.clone(), Value::String(value));
        }
    }
    r.insert("sys_updated_on".into(), Value::String(stamp(now)));
}

/// An approval record's change rolls up to the RITM's `approval` field.
pub(super) fn roll_up(i: &mut Instance, table: &str, r: &Row, now: DateTime<Utc>) {
    if table != "sysapproval_approver" {
        return;
    }
    let ritm = text(r, "sysapproval");
    let states: Vec<String> = i
        .tables
        .get("sysapproval_approver")
        .map(|rows| {
            rows.iter()
                .filter(|x| text(x, "sysapproval") == ritm)
                .map(|x| text(x, "state"))
                .collect()
        })
        .unwrap_or_default();
    let approval = if states.iter().any(|s| s == "rejected") {
        "rejected"
    } else if states.iter().any(|s| s == "requested") {
        "requested"
    } else if states.iter().any(|s| s == "approved") {
        "approved"
    } else {
        "not requested"
    };
    if let Some(item) = i
        .tables
        .get_mut("sc_req_item")
        .and_then(|rows| rows.iter_mut().find(|x| text(x, "sys_id") == ritm))
    {
        item.insert("approval".into(), Value::String(approval.to_owned()));
        item.insert("sys_updated_on".into(), Value::String(stamp(now)));
    }
}

/// Scripted approvers whose time has come act on their open records.
pub(super) fn apply_acts(i: &mut Instance, now: DateTime<Utc>) {
    let due: Vec<(String, String, String, DateTime<Utc>)> =
        i.acts.iter().filter(|a| a.3 <= now).cloned().collect();
    i.acts.retain(|a| a.3 > now);
    for (number, email, state, acted) in due {
        let ritm = i
            .tables
            .get("sc_req_item")
            .and_then(|rows| rows.iter().find(|r| text(r, "number") == number))
            .map(|r| text(r, "sys_id"));
        let user = i
            .tables
            .get("sys_user")
            .and_then(|rows| {
                rows.iter()
                    .find(|u| text(u, "email").eq_ignore_ascii_case(&email))
            })
            .map(|u| text(u, "sys_id"));
        let (Some(ritm), Some(user)) = (ritm, user) else {
            continue;
        };
        let record = i.tables.get_mut("sysapproval_approver").and_then(|rows| {
            rows.iter_mut().find(|r| {
                text(r, "sysapproval") == ritm
                    && text(r, "approver") == user
                    && text(r, "state") == "requested"
            })
        });
        if let Some(record) = record {
            record.insert("state".into(), Value::String(state.clone()));
            // Stamped when the approver acted, as the instance would.
            record.insert("sys_updated_on".into(), Value::String(stamp(acted)));
            let snapshot = record.clone();
            roll_up(i, "sysapproval_approver", &snapshot, now);
        }
    }
}
