//! The domain's nouns: people, sites, punches, shifts, training, CPO orders, notes, and
//! the coordinators' review events. Plain data; the rules live in `derive`, `cpo` and
//! `reports`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Seconds since the Unix epoch (UTC). Device time for punches.
pub type UnixSeconds = i64;

/// What kind of time a shift is. Chosen at clock-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum HourType {
    Paid,
    Volunteer,
    CpoUnpaidWork,
    CpoOtherActivity,
    Training,
}

impl HourType {
    pub const ALL: [HourType; 5] = [
        HourType::Paid,
        HourType::Volunteer,
        HourType::CpoUnpaidWork,
        HourType::CpoOtherActivity,
        HourType::Training,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HourType::Paid => "paid",
            HourType::Volunteer => "volunteer",
            HourType::CpoUnpaidWork => "cpo_unpaid_work",
            HourType::CpoOtherActivity => "cpo_other_activity",
            HourType::Training => "training",
        }
    }
}

impl fmt::Display for HourType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for HourType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        HourType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "hour type must be one of paid, volunteer, cpo_unpaid_work, cpo_other_activity, training",
                )
            })
    }
}

/// A tap on a clock: the append-only fact everything about time is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum PunchKind {
    ClockIn,
    ClockOut,
    BreakStart,
    BreakEnd,
}

impl PunchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PunchKind::ClockIn => "clock_in",
            PunchKind::ClockOut => "clock_out",
            PunchKind::BreakStart => "break_start",
            PunchKind::BreakEnd => "break_end",
        }
    }
}

impl FromStr for PunchKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [
            PunchKind::ClockIn,
            PunchKind::ClockOut,
            PunchKind::BreakStart,
            PunchKind::BreakEnd,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| Error::Corrupt("unknown punch kind".into()))
    }
}

/// Where a punch was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum PunchSource {
    Phone,
    Kiosk,
    Coordinator,
}

impl PunchSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PunchSource::Phone => "phone",
            PunchSource::Kiosk => "kiosk",
            PunchSource::Coordinator => "coordinator",
        }
    }
}

impl FromStr for PunchSource {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "phone" => Ok(PunchSource::Phone),
            "kiosk" => Ok(PunchSource::Kiosk),
            "coordinator" => Ok(PunchSource::Coordinator),
            _ => Err(Error::Corrupt("unknown punch source".into())),
        }
    }
}

/// A punch as the derivation sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Punch {
    pub id: String,
    pub person_id: String,
    pub kind: PunchKind,
    pub at: UnixSeconds,
    pub device: String,
    pub source: PunchSource,
    /// Meaningful on clock-in only.
    pub hour_type: HourType,
    pub site_id: Option<String>,
}

/// How a derived shift stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ShiftStatus {
    /// Clocked in, not yet out, opened less than the review threshold ago.
    Open,
    /// Clock-in and clock-out paired, within the threshold: counted.
    Complete,
    /// Longer than the threshold, or never clocked out: counts 0 until corrected.
    NeedsReview,
    /// A coordinator corrected it: counted as corrected.
    Corrected,
    /// A coordinator voided it: counts 0, kept in history.
    Voided,
}

impl ShiftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftStatus::Open => "open",
            ShiftStatus::Complete => "complete",
            ShiftStatus::NeedsReview => "needs_review",
            ShiftStatus::Corrected => "corrected",
            ShiftStatus::Voided => "voided",
        }
    }
}

impl FromStr for ShiftStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "open" => Ok(ShiftStatus::Open),
            "complete" => Ok(ShiftStatus::Complete),
            "needs_review" => Ok(ShiftStatus::NeedsReview),
            "corrected" => Ok(ShiftStatus::Corrected),
            "voided" => Ok(ShiftStatus::Voided),
            _ => Err(Error::Corrupt("unknown shift status".into())),
        }
    }
}

/// A shift derived from punches (and corrections). Its id is its clock-in punch id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Shift {
    pub id: String,
    pub person_id: String,
    pub hour_type: HourType,
    pub start: UnixSeconds,
    pub end: Option<UnixSeconds>,
    /// Unpaid break time inside the shift, in seconds.
    pub break_seconds: i64,
    /// Seconds that count in reports (0 unless complete or corrected).
    pub counted_seconds: i64,
    pub status: ShiftStatus,
    /// Local date (coop time zone) of the clock-in, `YYYY-MM-DD`.
    pub local_date: String,
    /// Punch ids recognised as duplicates of this shift's taps.
    pub duplicate_punch_ids: Vec<String>,
}

/// A punch the derivation counted as nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct IgnoredPunch {
    pub punch_id: String,
    pub reason: String,
}

/// A coordinator's edit to a shift. Fields left `None` keep their value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub id: String,
    pub shift_id: String,
    pub start: Option<UnixSeconds>,
    pub end: Option<UnixSeconds>,
    pub hour_type: Option<HourType>,
    pub break_seconds: Option<i64>,
    pub void: bool,
    pub reason: String,
    /// Who made it: the device name and, if known, the coordinator's person id.
    pub by: String,
    pub at: UnixSeconds,
}

/// Coop-wide rules that are settings, not constants (docs/DOMAIN.md "Domain rules").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Settings {
    /// A shift longer than this, or open this long, needs review. Default 16 h.
    pub review_after_seconds: i64,
    /// Wrong kiosk PINs before that person is locked out at that kiosk. Default 5.
    pub pin_max_failures: u32,
    /// How long the kiosk lockout lasts. Default 15 minutes.
    pub pin_lockout_seconds: i64,
    /// Italian type-B cooperatives: minimum share of disadvantaged workers. Default 30 %.
    pub disadvantaged_min_percent: u32,
    /// How often payroll runs (`report payroll` without dates). Default monthly.
    #[serde(default)]
    pub pay_period: PayPeriod,
    /// A day a weekly, fortnightly or four-weekly pay period starts on; the periods run
    /// in steps from it, before and after. Monthly periods are calendar months.
    /// Default 2024-01-01, a Monday.
    #[serde(default = "default_pay_period_start")]
    pub pay_period_start: String,
    /// Retention: a CPO order is erased this many days after its deadline (when the
    /// conviction is taken to be spent), unless a coordinator set the order's own spent
    /// date. Default 365.
    #[serde(default = "default_cpo_retention_days")]
    pub cpo_retention_days: u32,
    /// Retention: a note thread is erased this many days after its last entry; 0 keeps
    /// threads until someone erases them. Default 730 (two years).
    #[serde(default = "default_notes_retention_days")]
    pub notes_retention_days: u32,
}

fn default_pay_period_start() -> String {
    "2024-01-01".into()
}
fn default_cpo_retention_days() -> u32 {
    365
}
fn default_notes_retention_days() -> u32 {
    730
}

/// How often the coop runs payroll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum PayPeriod {
    Weekly,
    Fortnightly,
    FourWeekly,
    #[default]
    Monthly,
}

impl PayPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            PayPeriod::Weekly => "weekly",
            PayPeriod::Fortnightly => "fortnightly",
            PayPeriod::FourWeekly => "four_weekly",
            PayPeriod::Monthly => "monthly",
        }
    }
}

impl FromStr for PayPeriod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "weekly" => Ok(PayPeriod::Weekly),
            "fortnightly" => Ok(PayPeriod::Fortnightly),
            "four_weekly" | "four-weekly" => Ok(PayPeriod::FourWeekly),
            "monthly" => Ok(PayPeriod::Monthly),
            _ => Err(Error::invalid(
                "a pay period is weekly, fortnightly, four_weekly or monthly",
            )),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            review_after_seconds: 16 * 3600,
            pin_max_failures: 5,
            pin_lockout_seconds: 15 * 60,
            disadvantaged_min_percent: 30,
            pay_period: PayPeriod::Monthly,
            pay_period_start: default_pay_period_start(),
            cpo_retention_days: default_cpo_retention_days(),
            notes_retention_days: default_notes_retention_days(),
        }
    }
}

/// A person's roles in the coop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    Worker,
    Supporter,
    Coordinator,
}

impl PersonRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonRole::Worker => "worker",
            PersonRole::Supporter => "supporter",
            PersonRole::Coordinator => "coordinator",
        }
    }
}

impl FromStr for PersonRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "worker" => Ok(PersonRole::Worker),
            "supporter" => Ok(PersonRole::Supporter),
            "coordinator" => Ok(PersonRole::Coordinator),
            _ => Err(Error::invalid(
                "role must be worker, supporter or coordinator",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Person {
    pub id: String,
    pub name: String,
    pub roles: Vec<PersonRole>,
    pub site_ids: Vec<String>,
    pub active: bool,
    /// Known only to coordinators and the person (records scope); `None` if not held here.
    pub disadvantaged: Option<bool>,
    pub has_pin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Site {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TrainingCourse {
    pub id: String,
    pub name: String,
    /// Certificates of this course need review this many months after the training date.
    pub review_months: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TrainingRecord {
    pub id: String,
    pub person_id: String,
    pub course_id: String,
    pub course_name: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub minutes: u32,
    pub provider: Option<String>,
    pub certificate_ref: Option<String>,
    /// Review or expiry date, `YYYY-MM-DD`.
    pub expires_on: Option<String>,
    pub trainee_signed_at: Option<UnixSeconds>,
    pub supervisor_signed_at: Option<UnixSeconds>,
    pub supervisor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct InductionItem {
    pub id: String,
    pub person_id: String,
    pub label: String,
    pub trainee_signed_at: Option<UnixSeconds>,
    pub supervisor_signed_at: Option<UnixSeconds>,
    pub supervisor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CpoOrder {
    pub id: String,
    pub person_id: String,
    pub hours_ordered: u32,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `YYYY-MM-DD`.
    pub deadline: String,
    /// Most "other activity" minutes that count towards the order.
    pub other_activity_cap_minutes: u32,
    pub created_at: UnixSeconds,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NoteEntry {
    pub id: String,
    pub author: String,
    pub text: String,
    pub created_at: UnixSeconds,
    pub edited_at: Option<UnixSeconds>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NoteThread {
    pub id: String,
    pub person_id: String,
    pub created_at: UnixSeconds,
    pub entries: Vec<NoteEntry>,
}
