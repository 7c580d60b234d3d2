//! Display values as an instance shows them: a reference shows the display
//! field of the record it points to (a user's name, an item's name, a task's
//! number), a choice shows its label, anything else its value.

use super::*;

/// The tables the emulator serves; any other answers 400 "Invalid table".
pub(super) const TABLES: &[&str] = &[
    "sc_req_item",
    "sc_cat_item",
    "sys_user",
    "sysapproval_approver",
    "sys_journal_field",
    "sc_item_option_mtom",
    "task",
];

/// The display field of each referenced table.
const DISPLAY_FIELDS: &[(&str, &str)] = &[
    ("sys_user", "name"),
    ("sc_cat_item", "name"),
    ("sc_req_item", "number"),
    ("task", "number"),
];

/// A choice field's values and labels.
type ChoiceList = &'static [(&'static str, &'static str)];

/// Choice labels by table and field (the out-of-box lists).
const CHOICES: &[(&str, &str, ChoiceList)] = &[
    (
        "sc_req_item",
        "state",
        &[
            ("-5", "Pending"),
            ("1", "Open"),
            ("2", "Work in Progress"),
            ("3", "Closed Complete"),
            ("4", "Closed Incomplete"),
            ("7", "Closed Skipped"),
        ],
    ),
    (
        "sc_req_item",
        "approval",
        &[
            ("not requested", "Not Yet Requested"),
            ("requested", "Requested"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
        ],
    ),
    (
        "sysapproval_approver",
        "state",
        &[
            ("requested", "Requested"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("cancelled", "Cancelled"),
            ("not_required", "No Longer Required"),
            ("not requested", "Not Yet Requested"),
        ],
    ),
];

/// The table a reference field points to.
pub(super) fn referenced_table(field: &str) -> Option<&'static str> {
    REFERENCES
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, t)| *t)
}

/// The display value of `field` = `raw` on a row of `table`.
pub(super) fn display_value(i: &Instance, table: &str, field: &str, raw: &str) -> String {
    if raw.is_empty() {
        return String::new();
    }
    if let Some(target) = referenced_table(field) {
        // A task reference resolves in any task table (here: RITMs).
        let tables: &[&str] = if target == "task" {
            &["sc_req_item", "task"]
        } else {
            std::slice::from_ref(&target)
        };
        return tables
            .iter()
            .find_map(|t| {
                let row = find(i, t, raw)?;
                let display = DISPLAY_FIELDS
                    .iter()
                    .find(|(name, _)| name == t)
                    .map_or("sys_id", |(_, f)| *f);
                Some(text(row, display))
            })
            .unwrap_or_default();
    }
    CHOICES
        .iter()
        .find(|(t, f, _)| *t == table && *f == field)
        .and_then(|(_, _, labels)| labels.iter().find(|(v, _)| *v == raw))
        .map_or_else(|| raw.to_owned(), |(_, label)| (*label).to_owned())
}
