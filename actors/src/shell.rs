//! The one generic shell: a ractor actor around any [`Machine`] (the core's interface, with
//! its [`Input`]). It holds no trust decision; it only moves inputs in and effects out.
//!
//! ```text
//!  mailbox Mail{input, cause} ──► Shell<M>::handle ──► M::on_input(input, bus.now(addr)) ──► effects
//!                        ├─ sends inherit the input's operator-step cause (crate::steps)
//!                        └─ CPU time ──► Bus::record_cost(addr.kind(), input.kind())
//! ```

use crate::bus::Bus;
use crate::steps::Mail;
use cucmsim_core::machine::{Effect, Machine};
use ractor::{Actor, ActorProcessingErr, ActorRef};

/// The shell actor; its state is the machine and its send counter.
pub struct Shell<M: Machine> {
    pub bus: Bus,
    _m: std::marker::PhantomData<fn() -> M>,
}

impl<M: Machine> Shell<M> {
    pub fn new(bus: Bus) -> Self {
        Shell {
            bus,
            _m: std::marker::PhantomData,
        }
    }
}

/// A shell's state.
pub struct ShellState<M> {
    pub machine: M,
    seq: u64,
}

impl<M: Machine> Actor for Shell<M> {
    type Msg = Mail;
    type State = ShellState<M>;
    type Arguments = M;

    async fn pre_start(
        &self,
        _myself: ActorRef<Mail>,
        machine: M,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(ShellState { machine, seq: 0 })
    }

    async fn handle(
        &self,
        myself: ActorRef<Mail>,
        mail: Mail,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let Mail { input, cause } = mail;
        let addr = state.machine.addr();
        let now = self.bus.now(&addr);
        let input_kind = input.kind();
        let started = std::time::Instant::now();
        let effects = state.machine.on_input(input, now);
        self.bus
            .record_cost(addr.kind(), input_kind, started.elapsed());
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    state.seq += 1;
                    self.bus.send_caused(&addr, state.seq, to, msg, cause);
                }
                Effect::Timer { after_ms, token } => {
                    self.bus.timer(myself.clone(), after_ms, token);
                }
                Effect::Observe(obs) => self.bus.observe(obs),
            }
        }
        self.bus.handled(cause);
        Ok(())
    }
}
