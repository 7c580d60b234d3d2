//! Reading the hot inputs — requests and facts given as dicts — straight
//! from the dicts, field by field (a lookup per known key, so nothing is
//! compared or converted that is not kept). Only the plain shape is read
//! here; any key or value it does not expect makes it step aside (`None`)
//! for the general serde reader, which then accepts the value or names the
//! field at fault. So this changes the speed, never what is accepted or the
//! errors.

use crate::convert::from_py;
use groupgate_core as core;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};

fn text(v: &Bound<'_, PyAny>) -> Option<String> {
    v.cast::<PyString>()
        .ok()?
        .to_cow()
        .ok()
        .map(|c| c.into_owned())
}

fn optional_text(v: &Bound<'_, PyAny>) -> Option<Option<String>> {
    if v.is_none() {
        Some(None)
    } else {
        text(v).map(Some)
    }
}

/// Reads the known keys of a dict, counting them, so a dict with any other
/// key is left to the general reader.
struct Fields<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
    seen: usize,
}

impl<'py> Fields<'_, 'py> {
    fn get(&mut self, key: &Bound<'py, PyString>) -> Option<Bound<'py, PyAny>> {
        let v = self.dict.get_item(key).ok().flatten()?;
        self.seen += 1;
        Some(v)
    }

    /// Whether every key was a known one.
    fn complete(&self) -> bool {
        self.seen == self.dict.len()
    }
}

fn user(v: &Bound<'_, PyAny>) -> Option<core::User> {
    let py = v.py();
    let mut f = Fields {
        dict: v.cast::<PyDict>().ok()?,
        seen: 0,
    };
    let id = text(&f.get(intern!(py, "id"))?)?;
    let upn = text(&f.get(intern!(py, "upn"))?)?;
    let enabled = f
        .get(intern!(py, "enabled"))?
        .cast::<PyBool>()
        .ok()?
        .is_true();
    let user_type = f.get(intern!(py, "user_type"))?;
    let user_type = if user_type.eq(intern!(py, "Member")).ok()? {
        core::UserType::Member
    } else if user_type.eq(intern!(py, "Guest")).ok()? {
        core::UserType::Guest
    } else {
        return None;
    };
    let display = match f.get(intern!(py, "display_name")) {
        Some(d) => optional_text(&d)?,
        None => None,
    };
    let employee = match f.get(intern!(py, "employee_type")) {
        Some(e) => optional_text(&e)?,
        None => None,
    };
    f.complete().then(|| core::User {
        id: core::UserId::new(id),
        upn: upn.into(),
        display_name: display.map(Into::into),
        enabled,
        user_type,
        employee_type: employee.map(Into::into),
    })
}

fn optional_user(v: &Bound<'_, PyAny>) -> Option<Option<core::User>> {
    if v.is_none() {
        Some(None)
    } else {
        user(v).map(Some)
    }
}

/// Facts given as a dict, in their plain shape.
pub(crate) fn facts(obj: &Bound<'_, PyAny>) -> Option<core::Facts> {
    let py = obj.py();
    let mut f = Fields {
        dict: obj.cast::<PyDict>().ok()?,
        seen: 0,
    };
    let mut out = core::Facts::default();
    if let Some(v) = f.get(intern!(py, "requester")) {
        out.requester = optional_user(&v)?;
    }
    if let Some(v) = f.get(intern!(py, "target")) {
        out.target = optional_user(&v)?;
    }
    if let Some(v) = f.get(intern!(py, "target_manager")) {
        out.target_manager = optional_user(&v)?;
    }
    if let Some(v) = f.get(intern!(py, "approvers")) {
        out.approvers = v
            .cast::<PyList>()
            .ok()?
            .iter()
            .map(|u| user(&u))
            .collect::<Option<_>>()?;
    }
    if let Some(v) = f.get(intern!(py, "membership")) {
        out.membership = if v.eq(intern!(py, "not_member")).ok()? {
            core::MembershipState::NotMember
        } else if v.eq(intern!(py, "direct")).ok()? {
            core::MembershipState::Direct
        } else if v.eq(intern!(py, "transitive")).ok()? {
            core::MembershipState::Transitive
        } else {
            return None;
        };
    }
    if let Some(v) = f.get(intern!(py, "target_groups")) {
        out.target_groups = v
            .cast::<PyList>()
            .ok()?
            .iter()
            .map(|g| text(&g).map(core::GroupId::new))
            .collect::<Option<_>>()?;
    }
    // Rarer, richer values: the general reader, for that value only.
    if let Some(v) = f.get(intern!(py, "group")) {
        out.group = from_py(&v, "facts").ok()?;
    }
    if let Some(v) = f.get(intern!(py, "approver_groups")) {
        out.approver_groups = from_py(&v, "facts").ok()?;
    }
    f.complete().then_some(out)
}

/// A request given as a dict, in its plain shape.
pub(crate) fn request(obj: &Bound<'_, PyAny>) -> Option<core::Request> {
    let py = obj.py();
    let mut f = Fields {
        dict: obj.cast::<PyDict>().ok()?,
        seen: 0,
    };
    let ticket = text(&f.get(intern!(py, "ticket"))?)?;
    let requester = text(&f.get(intern!(py, "requester"))?)?;
    let target = text(&f.get(intern!(py, "target"))?)?;
    let resource = text(&f.get(intern!(py, "resource"))?)?;
    let justification = match f.get(intern!(py, "justification")) {
        Some(j) => text(&j)?,
        None => String::new(),
    };
    let end_date = match f.get(intern!(py, "end_date")) {
        Some(e) => from_py(&e, "request").ok()?,
        None => None,
    };
    let suggestion = match f.get(intern!(py, "suggestion")) {
        Some(s) => from_py(&s, "request").ok()?,
        None => None,
    };
    f.complete().then(|| core::Request {
        ticket: ticket.into(),
        requester,
        target,
        resource,
        end_date,
        justification,
        suggestion,
    })
}
