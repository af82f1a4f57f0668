//! The one generic shell: a ractor actor around any [`Machine`]. It holds no trust decision;
//! it only moves inputs in and effects out.

use crate::bus::Bus;
use cucmsim_core::machine::{Addr, Effect, Msg, Now};
use ractor::{Actor, ActorProcessingErr, ActorRef};

/// What a shell's mailbox carries.
#[derive(Clone, Debug)]
pub enum Input {
    /// Power on / start the service.
    Start,
    Msg(Msg),
    Timer(u64),
}

/// A pure machine the shell drives.
pub trait Machine: Send + 'static {
    /// Where the machine receives messages.
    fn addr(&self) -> Addr;
    /// One input at `now`; the effects to carry out.
    fn on_input(&mut self, input: Input, now: Now) -> Vec<Effect>;
}

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
    type Msg = Input;
    type State = ShellState<M>;
    type Arguments = M;

    async fn pre_start(
        &self,
        _myself: ActorRef<Input>,
        machine: M,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(ShellState { machine, seq: 0 })
    }

    async fn handle(
        &self,
        myself: ActorRef<Input>,
        input: Input,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let addr = state.machine.addr();
        let now = self.bus.now(&addr);
        let input_kind = crate::cost::input_kind(&input);
        let started = std::time::Instant::now();
        let effects = state.machine.on_input(input, now);
        self.bus
            .record_cost(crate::cost::addr_kind(&addr), input_kind, started.elapsed());
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    state.seq += 1;
                    self.bus.send(&addr, state.seq, to, msg);
                }
                Effect::Timer { after_ms, token } => {
                    self.bus.timer(myself.clone(), after_ms, token);
                }
                Effect::Observe(obs) => self.bus.observe(obs),
            }
        }
        Ok(())
    }
}
