//! The current time, injected so that expiry can be tested without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::time::Timestamp;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;

    /// The instant `secs` seconds from now, rounded *up* to a whole second:
    /// instants are whole seconds, and an expiry of N seconds must never come
    /// earlier than N seconds from now (rounding down would end a 3-second
    /// grace after 2.01 s). A clock without sub-second time adds `secs`.
    fn deadline(&self, secs: i64) -> Timestamp {
        self.now().plus_secs(secs)
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp(secs)
    }

    fn deadline(&self, secs: i64) -> Timestamp {
        let (whole, part) = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| (d.as_secs() as i64, d.subsec_nanos()))
            .unwrap_or((0, 0));
        Timestamp(whole)
            .plus_secs(secs)
            .plus_secs(i64::from(part > 0))
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(start.0))
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// A realm's clock: the server's clock, moved by test control (an offset, or
/// frozen at an instant). Every expiry of the realm reads it.
#[derive(Debug)]
pub struct TestClock {
    base: std::sync::Arc<dyn Clock>,
    offset: AtomicI64,
    /// The frozen instant, or [`NOT_FROZEN`].
    frozen: AtomicI64,
}

const NOT_FROZEN: i64 = i64::MIN;

/// What the clock is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockState {
    pub now: Timestamp,
    /// `now` minus the server's own time.
    pub offset_seconds: i64,
    pub frozen: bool,
}

impl std::fmt::Debug for dyn Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now().0)
    }
}

impl TestClock {
    pub fn new(base: std::sync::Arc<dyn Clock>) -> TestClock {
        TestClock {
            base,
            offset: AtomicI64::new(0),
            frozen: AtomicI64::new(NOT_FROZEN),
        }
    }

    /// The server's own clock, unmoved.
    pub fn base(&self) -> std::sync::Arc<dyn Clock> {
        self.base.clone()
    }

    pub fn state(&self) -> ClockState {
        let now = self.now();
        ClockState {
            now,
            offset_seconds: now.0.saturating_sub(self.base.now().0),
            frozen: self.frozen.load(Ordering::Acquire) != NOT_FROZEN,
        }
    }

    /// Runs `offset` seconds ahead of the server's clock (behind when
    /// negative); unfreezes.
    pub fn set_offset(&self, offset: i64) {
        self.offset.store(offset, Ordering::Release);
        self.frozen.store(NOT_FROZEN, Ordering::Release);
    }

    /// Stops at `at` until advanced or reset.
    pub fn freeze_at(&self, at: Timestamp) {
        self.frozen
            .store(at.0.max(NOT_FROZEN + 1), Ordering::Release);
    }

    /// Moves a frozen clock on by `secs`, or adds `secs` to the offset.
    pub fn advance(&self, secs: i64) {
        let frozen = self.frozen.load(Ordering::Acquire);
        if frozen != NOT_FROZEN {
            self.frozen.store(
                frozen.saturating_add(secs).max(NOT_FROZEN + 1),
                Ordering::Release,
            );
        } else {
            let _ = self
                .offset
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
                    Some(o.saturating_add(secs))
                });
        }
    }

    /// Real time again.
    pub fn reset(&self) {
        self.set_offset(0);
    }
}

impl Clock for TestClock {
    fn deadline(&self, secs: i64) -> Timestamp {
        let frozen = self.frozen.load(Ordering::Acquire);
        if frozen != NOT_FROZEN {
            return Timestamp(frozen).plus_secs(secs);
        }
        self.base
            .deadline(secs)
            .plus_secs(self.offset.load(Ordering::Acquire))
    }

    fn now(&self) -> Timestamp {
        let frozen = self.frozen.load(Ordering::Acquire);
        if frozen != NOT_FROZEN {
            return Timestamp(frozen);
        }
        Timestamp(
            self.base
                .now()
                .0
                .saturating_add(self.offset.load(Ordering::Acquire)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An expiry of N seconds never comes before N seconds have passed (a
    /// roll grace of 3 s once ended after 2.3 s: instants were cut down).
    #[test]
    fn deadlines_round_up() {
        for _ in 0..50 {
            let before = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            let d = SystemClock.deadline(3);
            assert!(d.0 as f64 >= before + 3.0, "{} < {}", d.0, before + 3.0);
            assert!((d.0 as f64) < before + 4.5);
        }
        let frozen = TestClock::new(std::sync::Arc::new(SystemClock));
        frozen.freeze_at(Timestamp(100));
        assert_eq!(frozen.deadline(3), Timestamp(103));
    }

    #[test]
    fn the_test_clock_moves_freezes_and_comes_back() {
        let base = std::sync::Arc::new(ManualClock::new(Timestamp(1000)));
        let c = TestClock::new(base.clone());
        assert_eq!(c.now(), Timestamp(1000));
        c.set_offset(3600);
        base.advance(1);
        assert_eq!(
            c.state(),
            ClockState {
                now: Timestamp(4601),
                offset_seconds: 3600,
                frozen: false
            }
        );
        c.advance(-601);
        assert_eq!(c.now(), Timestamp(4000));
        c.freeze_at(Timestamp(50));
        base.advance(100);
        assert_eq!(c.now(), Timestamp(50));
        c.advance(10);
        assert_eq!(
            c.state(),
            ClockState {
                now: Timestamp(60),
                offset_seconds: 60 - 1101,
                frozen: true
            }
        );
        c.reset();
        assert_eq!(c.now(), Timestamp(1101));
    }
}
