//! The kiosk's PIN lockout, as a pure rule: wrong PINs count per person at this kiosk;
//! after the coop's maximum the person is locked out here for the coop's lockout time;
//! a right PIN clears the count; an expired lockout starts the count again.

use crate::model::{Settings, UnixSeconds};

/// What this kiosk remembers about a person's wrong PINs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lockout {
    pub(crate) failures: i64,
    pub(crate) locked_until: Option<UnixSeconds>,
}

/// What a wrong PIN leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterWrongPin {
    /// Try again: this many tries are left before a lockout.
    TriesLeft(u32),
    /// Locked out for this many seconds.
    LockedOut(i64),
}

impl Lockout {
    /// Seconds this person must still wait, if locked out now.
    pub(crate) fn remaining(&self, now: UnixSeconds) -> Option<i64> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// The state after one more wrong PIN at `now`, and what the screen says.
    pub(crate) fn after_wrong_pin(
        &self,
        now: UnixSeconds,
        settings: &Settings,
    ) -> (Lockout, AfterWrongPin) {
        let failures = match self.locked_until {
            // An expired lockout starts the count again.
            Some(until) if until <= now => 1,
            _ => self.failures + 1,
        };
        let max = i64::from(settings.pin_max_failures.max(1));
        if failures >= max {
            let seconds = settings.pin_lockout_seconds;
            (
                Lockout {
                    failures: 0,
                    locked_until: Some(now + seconds),
                },
                AfterWrongPin::LockedOut(seconds),
            )
        } else {
            (
                Lockout {
                    failures,
                    locked_until: None,
                },
                AfterWrongPin::TriesLeft((max - failures) as u32),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            pin_max_failures: 3,
            pin_lockout_seconds: 600,
            ..Settings::default()
        }
    }

    #[test]
    fn wrong_pins_count_down_then_lock_out_for_the_set_time() {
        let s = settings();
        let mut state = Lockout::default();
        let mut said = Vec::new();
        for t in [100, 110, 120] {
            let (next, outcome) = state.after_wrong_pin(t, &s);
            state = next;
            said.push(outcome);
        }
        assert_eq!(
            said,
            [
                AfterWrongPin::TriesLeft(2),
                AfterWrongPin::TriesLeft(1),
                AfterWrongPin::LockedOut(600)
            ]
        );
        assert_eq!(state.remaining(120), Some(600));
        assert_eq!(state.remaining(719), Some(1));
        assert_eq!(state.remaining(720), None, "the lockout expires on time");
    }

    #[test]
    fn after_a_lockout_expires_the_count_starts_again() {
        let s = settings();
        let locked = Lockout {
            failures: 0,
            locked_until: Some(1_000),
        };
        let (next, outcome) = locked.after_wrong_pin(1_000, &s);
        assert_eq!(outcome, AfterWrongPin::TriesLeft(2));
        assert_eq!(next.failures, 1);
    }
}
