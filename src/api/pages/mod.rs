//! The authorization endpoint's HTML: `GET /oauth/authorize` ([`authorize`]),
//! the login ([`login`]) and consent ([`consent`]) forms it shows, the
//! out-of-band result pages, and `GET /oauth/logout` ([`logout`]); the shared
//! layout in [`layout`], the cookies in `cookies`; and the front door `GET /`
//! ([`front_door`]).
//!
//! Plain server-rendered HTML that works without JavaScript, with no external
//! assets; every value is escaped; every page forbids framing. The forms carry
//! the authorization request in hidden fields and a CSRF token bound to the
//! browser's `lk_csrf` cookie; the request is validated again on every POST.
//! Parameters are read by [`crate::api::oauth::params`], as at the protocol
//! endpoints.

pub mod authorize;
pub mod consent;
mod cookies;
pub mod front_door;
pub mod layout;
pub mod login;
pub mod logout;
