//! The one interface every participant implements: an [`Input`] and `now` in, effects out.
//! The shells in `cucmsim-actors` drive any [`Machine`] the same way, with no per-machine
//! adapter; each machine's `impl Machine` (in its own file) routes the three inputs to its
//! own handlers.
//!
//! ```text
//!  mailbox ──► Input::{Start, Msg(Msg), Timer(token)} ──► M::on_input(input, now) ──► Vec<Effect>
//!              (Start: power on / start the service;          Send / Timer / Observe
//!               Timer: a token the machine set earlier)
//! ```

use super::msg::{Addr, Effect, Msg, Now};

/// What a machine is handed: one of three things.
#[derive(Clone, Debug)]
pub enum Input {
    /// Power on / start the service.
    Start,
    /// A message from the bus (or the harness).
    Msg(Msg),
    /// A timer the machine set with [`Effect::Timer`] fired; a stale token is a no-op.
    Timer(u64),
}

impl Input {
    /// The input's name for labels: `Start`, `Timer`, or the message's [`Msg::kind`].
    pub fn kind(&self) -> &'static str {
        match self {
            Input::Start => "Start",
            Input::Timer(_) => "Timer",
            Input::Msg(m) => m.kind(),
        }
    }
}

/// A pure participant: one input at `now` changes its state and yields the effects to carry
/// out (design.md principle 1).
pub trait Machine: Send + 'static {
    /// Where the machine receives messages.
    fn addr(&self) -> Addr;
    /// One input at `now`; the effects to carry out.
    fn on_input(&mut self, input: Input, now: Now) -> Vec<Effect>;

    /// Work ahead, side by side: `upcoming` are inputs this machine is about to handle (in
    /// no particular order); it may compute now, on up to `fan_out` threads, what handling
    /// them will need — pure functions of its state, such as the signatures of files it will
    /// serve — and keep them where [`Machine::on_input`] finds them only while its state is
    /// the one they were computed from. It changes how fast a run goes, never what happens:
    /// the default does nothing.
    fn prepare(&mut self, _upcoming: &[&Input], _fan_out: usize) {}

    /// Whether [`Machine::prepare`] does anything: the host looks for upcoming inputs only
    /// then (a scan of its queue each window would cost more than it saves elsewhere).
    fn prepares(&self) -> bool {
        false
    }
}

/// A boxed machine is a machine: a logical process hosting one service holds it so.
impl Machine for Box<dyn Machine> {
    fn addr(&self) -> Addr {
        (**self).addr()
    }

    fn on_input(&mut self, input: Input, now: Now) -> Vec<Effect> {
        (**self).on_input(input, now)
    }

    fn prepare(&mut self, upcoming: &[&Input], fan_out: usize) {
        (**self).prepare(upcoming, fan_out)
    }

    fn prepares(&self) -> bool {
        (**self).prepares()
    }
}
