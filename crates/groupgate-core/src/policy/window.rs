//! Change windows: weekly hours in an IANA time zone, minus blackouts.

use super::{ChangeWindow, Diagnostic};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use std::sync::Arc;

/// How far ahead a next opening is searched before the window counts as never open.
const HORIZON_DAYS: u32 = 400;

#[derive(Debug, Clone)]
struct Slot {
    from: NaiveTime,
    /// `None` is midnight at the end of the day (`24:00`).
    to: Option<NaiveTime>,
    overnight: bool,
}

#[derive(Debug, Clone)]
struct BlackoutPeriod {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    reason: Option<Arc<str>>,
}

/// A change window ready for evaluation.
#[derive(Debug, Clone)]
pub(crate) struct CompiledWindow {
    pub(crate) name: Arc<str>,
    /// `change_windows[<name>]`, the rule reasons cite.
    pub(crate) rule: Arc<str>,
    pub(crate) tz: Tz,
    /// Opening slots per weekday, Monday first, sorted by opening time.
    slots: [Vec<Slot>; 7],
    open_all_week: bool,
    /// Whether any slot runs past midnight (then yesterday's slots matter).
    has_overnight: bool,
    /// Sorted by start, overlapping periods merged.
    blackouts: Vec<BlackoutPeriod>,
}

impl CompiledWindow {
    /// Validates and compiles `window` (found at `field`), pushing any problems to `diags`.
    pub(crate) fn compile(
        window: &ChangeWindow,
        field: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Self> {
        let before = diags.len();
        let tz: Option<Tz> = window.timezone.parse().ok();
        if tz.is_none() {
            diags.push(
                Diagnostic::error(
                    "unknown-timezone",
                    format!("{field}.timezone"),
                    format!("`{}` is not an IANA time zone", window.timezone),
                )
                .with_help("use a name such as `Europe/Berlin`, `America/New_York` or `UTC`"),
            );
        }
        let mut slots: [Vec<Slot>; 7] = Default::default();
        for (i, hours) in window.weekly.iter().enumerate() {
            let at = format!("{field}.weekly[{i}]");
            let from = parse_clock(&hours.from, &format!("{at}.from"), diags);
            let to = parse_clock(&hours.to, &format!("{at}.to"), diags);
            if hours.days.is_empty() {
                diags.push(Diagnostic::error(
                    "empty-days",
                    format!("{at}.days"),
                    "no days listed, so these hours never apply",
                ));
            }
            let mut days = Vec::new();
            for (j, day) in hours.days.iter().enumerate() {
                match parse_days(day) {
                    Some(found) => days.extend(found),
                    None => diags.push(
                        Diagnostic::error(
                            "unknown-day",
                            format!("{at}.days[{j}]"),
                            format!("`{day}` is not a day of the week"),
                        )
                        .with_help("use `mon` … `sun`, full names, or a range like `mon-fri`"),
                    ),
                }
            }
            if let (Some(Some(from)), Some(to)) = (from, to) {
                let overnight = matches!(to, Some(t) if t <= from);
                if to == Some(from) {
                    diags.push(Diagnostic::error(
                        "empty-hours",
                        at.clone(),
                        format!(
                            "`from` and `to` are both `{}`: the window would never open",
                            hours.from
                        ),
                    ));
                }
                for day in days {
                    slots[day].push(Slot {
                        from,
                        to,
                        overnight,
                    });
                }
            } else if let (Some(None), _) = (from, to) {
                diags.push(Diagnostic::error(
                    "invalid-time",
                    format!("{at}.from"),
                    "`24:00` can only close a window, not open one",
                ));
            }
        }
        for day in &mut slots {
            day.sort_by_key(|s| s.from);
        }
        let mut blackouts = Vec::new();
        if let Some(tz) = tz {
            for (i, b) in window.blackouts.iter().enumerate() {
                let at = format!("{field}.blackouts[{i}]");
                let from = parse_instant(&b.from, tz, &format!("{at}.from"), diags);
                let to = parse_instant(&b.to, tz, &format!("{at}.to"), diags);
                if let (Some(from), Some(to)) = (from, to) {
                    if to <= from {
                        diags.push(Diagnostic::error(
                            "empty-blackout",
                            at,
                            format!(
                                "the blackout ends (`{}`) before it starts (`{}`)",
                                b.to, b.from
                            ),
                        ));
                    } else {
                        blackouts.push(BlackoutPeriod {
                            from,
                            to,
                            reason: b.reason.as_deref().map(Arc::from),
                        });
                    }
                }
            }
        }
        blackouts.sort_by_key(|b| b.from);
        let mut merged: Vec<BlackoutPeriod> = Vec::with_capacity(blackouts.len());
        for b in blackouts {
            match merged.last_mut() {
                Some(last) if b.from <= last.to => {
                    if b.to > last.to {
                        last.to = b.to;
                    }
                }
                _ => merged.push(b),
            }
        }
        if diags.len() > before {
            return None;
        }
        let has_overnight = slots.iter().flatten().any(|s| s.overnight);
        Some(Self {
            name: Arc::from(window.name.as_str()),
            rule: Arc::from(format!("change_windows[{}]", window.name)),
            tz: tz?,
            slots,
            open_all_week: window.weekly.is_empty(),
            has_overnight,
            blackouts: merged,
        })
    }

    /// The blackout covering `at`, if any: its reason (or an empty string).
    pub(crate) fn blackout_at(&self, at: DateTime<Utc>) -> Option<&str> {
        self.blackouts
            .iter()
            .find(|b| b.from <= at && at < b.to)
            .map(|b| b.reason.as_deref().unwrap_or("blackout"))
    }

    /// The earliest instant at or after `now` when the window is open, if any
    /// within the search horizon.
    pub(crate) fn next_opening(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.open_all_week {
            return Some(self.skip_blackouts(now));
        }
        let local = now.with_timezone(&self.tz).naive_local();
        // Fast path: open now by today's wall clock and in no blackout.
        let today = local.date().weekday().num_days_from_monday() as usize;
        let time = local.time();
        let open_now = self.slots[today]
            .iter()
            .any(|s| !s.overnight && s.from <= time && s.to.is_none_or(|to| time < to));
        if open_now && self.blackout_at(now).is_none() {
            return Some(now);
        }
        let mut date = local.date();
        if self.has_overnight {
            date = date.pred_opt()?;
        }
        for _ in 0..HORIZON_DAYS {
            let weekday = date.weekday().num_days_from_monday() as usize;
            for slot in &self.slots[weekday] {
                let start = self.instant(date, slot.from)?;
                let end = match slot.to {
                    Some(t) if !slot.overnight => self.instant(date, t)?,
                    Some(t) => self.instant(date.succ_opt()?, t)?,
                    None => self.instant(date.succ_opt()?, NaiveTime::MIN)?,
                };
                if end <= now {
                    continue;
                }
                let candidate = self.skip_blackouts(start.max(now));
                if candidate < end {
                    return Some(candidate);
                }
            }
            date = date.succ_opt()?;
        }
        None
    }

    fn skip_blackouts(&self, mut at: DateTime<Utc>) -> DateTime<Utc> {
        for b in &self.blackouts {
            if b.from <= at && at < b.to {
                at = b.to;
            }
        }
        at
    }

    /// The instant of a local wall-clock time; in a DST gap, the first valid instant after it.
    fn instant(&self, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        local_to_utc(self.tz, date.and_time(time))
    }
}

fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return Some(t.with_timezone(&Utc));
    }
    // In a spring-forward gap: walk forward minute by minute (gaps are at most hours).
    let mut probe = local;
    for _ in 0..(24 * 60) {
        probe += TimeDelta::minutes(1);
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

/// `HH:MM` → `Some(Some(time))`, `24:00` → `Some(None)`, invalid → `None` (and a diagnostic).
fn parse_clock(text: &str, field: &str, diags: &mut Vec<Diagnostic>) -> Option<Option<NaiveTime>> {
    let trimmed = text.trim();
    if trimmed == "24:00" {
        return Some(None);
    }
    match NaiveTime::parse_from_str(trimmed, "%H:%M") {
        Ok(t) => Some(Some(t)),
        Err(_) => {
            diags.push(
                Diagnostic::error(
                    "invalid-time",
                    field,
                    format!("`{text}` is not a time of day"),
                )
                .with_help("write it as `HH:MM` on a 24-hour clock, e.g. `08:30` or `24:00`"),
            );
            None
        }
    }
}

fn day_index(name: &str) -> Option<usize> {
    let days = [
        ["mon", "monday"],
        ["tue", "tuesday"],
        ["wed", "wednesday"],
        ["thu", "thursday"],
        ["fri", "friday"],
        ["sat", "saturday"],
        ["sun", "sunday"],
    ];
    let lower = name.trim().to_ascii_lowercase();
    days.iter()
        .position(|names| names.contains(&lower.as_str()))
}

/// `mon`, `monday` or a range `mon-fri` (wrapping, so `fri-mon` works) → weekday indexes.
fn parse_days(text: &str) -> Option<Vec<usize>> {
    match text.split_once('-') {
        Some((a, b)) => {
            let (start, end) = (day_index(a)?, day_index(b)?);
            let len = (end + 7 - start) % 7 + 1;
            Some((0..len).map(|k| (start + k) % 7).collect())
        }
        None => day_index(text).map(|d| vec![d]),
    }
}

/// A blackout bound: RFC 3339, or a local date / date-time in the window's zone.
fn parse_instant(
    text: &str,
    tz: Tz,
    field: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M"))
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN)));
    match local.ok().and_then(|l| local_to_utc(tz, l)) {
        Some(at) => Some(at),
        None => {
            diags.push(
                Diagnostic::error("invalid-date", field, format!("`{text}` is not a date or date-time"))
                    .with_help("write `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` (in the window's time zone) or RFC 3339"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Blackout, WeeklyHours};

    fn window(weekly: Vec<WeeklyHours>, blackouts: Vec<Blackout>) -> CompiledWindow {
        let doc = ChangeWindow {
            name: "w".into(),
            timezone: "Europe/Berlin".into(),
            weekly,
            blackouts,
        };
        let mut diags = Vec::new();
        let w = CompiledWindow::compile(&doc, "change_windows[0]", &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        w.unwrap()
    }

    fn hours(days: &[&str], from: &str, to: &str) -> WeeklyHours {
        WeeklyHours {
            days: days.iter().map(|d| (*d).to_owned()).collect(),
            from: from.into(),
            to: to.into(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn open_now_returns_now() {
        let w = window(vec![hours(&["mon-fri"], "08:00", "18:00")], vec![]);
        // Wednesday 2026-11-25 10:00 UTC = 11:00 Berlin.
        let now = utc("2026-11-25T10:00:00Z");
        assert_eq!(w.next_opening(now), Some(now));
    }

    #[test]
    fn evening_waits_for_next_morning_in_local_time() {
        let w = window(vec![hours(&["mon-fri"], "08:00", "18:00")], vec![]);
        // Wednesday 18:30 Berlin (17:30 UTC) → Thursday 08:00 Berlin = 07:00 UTC.
        assert_eq!(
            w.next_opening(utc("2026-11-25T17:30:00Z")),
            Some(utc("2026-11-26T07:00:00Z"))
        );
        // Friday evening → Monday morning.
        assert_eq!(
            w.next_opening(utc("2026-11-27T19:00:00Z")),
            Some(utc("2026-11-30T07:00:00Z"))
        );
    }

    #[test]
    fn blackout_pushes_opening_past_it() {
        let w = window(
            vec![hours(&["mon-fri"], "08:00", "18:00")],
            vec![Blackout {
                from: "2026-11-25".into(),
                to: "2026-11-27T12:00".into(),
                reason: Some("freeze".into()),
            }],
        );
        let now = utc("2026-11-25T10:00:00Z");
        assert_eq!(w.blackout_at(now), Some("freeze"));
        // Friday 12:00 Berlin = 11:00 UTC.
        assert_eq!(w.next_opening(now), Some(utc("2026-11-27T11:00:00Z")));
    }

    #[test]
    fn overnight_slot_spans_midnight() {
        let w = window(vec![hours(&["sat"], "22:00", "04:00")], vec![]);
        // Sunday 2026-11-29 01:00 Berlin = 00:00 UTC is inside Saturday's slot.
        let now = utc("2026-11-29T00:00:00Z");
        assert_eq!(w.next_opening(now), Some(now));
    }

    #[test]
    fn dst_gap_opens_at_first_valid_instant() {
        // 2027-03-28 02:30 does not exist in Berlin; window opens at 03:00 CEST = 01:00 UTC.
        let w = window(vec![hours(&["sun"], "02:30", "05:00")], vec![]);
        assert_eq!(
            w.next_opening(utc("2027-03-27T12:00:00Z")),
            Some(utc("2027-03-28T01:00:00Z"))
        );
    }

    #[test]
    fn bad_inputs_are_reported_with_fields() {
        let doc = ChangeWindow {
            name: "w".into(),
            timezone: "Mars/Olympus".into(),
            weekly: vec![hours(&["funday"], "8am", "18:00")],
            blackouts: vec![],
        };
        let mut diags = Vec::new();
        assert!(CompiledWindow::compile(&doc, "change_windows[0]", &mut diags).is_none());
        let fields: Vec<_> = diags.iter().map(|d| d.field.as_str()).collect();
        assert!(fields.contains(&"change_windows[0].timezone"));
        assert!(fields.contains(&"change_windows[0].weekly[0].from"));
        assert!(fields.contains(&"change_windows[0].weekly[0].days[0]"));
    }
}
