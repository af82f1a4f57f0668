//! [`Machine`] for each core machine: mapping shell inputs to machine inputs, nothing more.

use crate::shell::{Input, Machine};
use cucmsim_core::machine::ca::CaService;
use cucmsim_core::machine::capf::Capf;
use cucmsim_core::machine::phone::{Phone, PhoneInput};
use cucmsim_core::machine::tftp::Tftp;
use cucmsim_core::machine::tvs::Tvs;
use cucmsim_core::machine::{Addr, Effect, Now};
use cucmsim_core::machine::{CallManager, Dhcp, Publisher, Sftp};

impl Machine for Phone {
    fn addr(&self) -> Addr {
        Addr::Phone(self.id)
    }
    fn on_input(&mut self, input: Input, now: Now) -> Vec<Effect> {
        let input = match input {
            Input::Start => PhoneInput::PowerOn,
            Input::Msg(m) => PhoneInput::Msg(m),
            Input::Timer(t) => PhoneInput::Timer(t),
        };
        self.handle(input, now)
    }
}

macro_rules! service_machine {
    ($ty:ty, $addr:expr) => {
        impl Machine for $ty {
            fn addr(&self) -> Addr {
                #[allow(clippy::redundant_closure_call)]
                ($addr)(self)
            }
            fn on_input(&mut self, input: Input, now: Now) -> Vec<Effect> {
                match input {
                    Input::Msg(m) => self.handle(m, now),
                    Input::Start | Input::Timer(_) => vec![],
                }
            }
        }
    };
}

service_machine!(Tftp, |m: &Tftp| Addr::Tftp(m.host.clone()));
service_machine!(CaService, |m: &CaService| Addr::Ca(m.host.clone()));

/// TVS releases each queued job's reply on a timer of its own.
impl Machine for Tvs {
    fn addr(&self) -> Addr {
        Addr::Tvs(self.host.clone())
    }
    fn on_input(&mut self, input: Input, now: Now) -> Vec<Effect> {
        match input {
            Input::Msg(m) => self.handle(m, now),
            Input::Timer(t) => self.on_timer(t, now),
            Input::Start => vec![],
        }
    }
}
/// CAPF releases queued jobs and runs session deadlines and keepalives on timers.
impl Machine for Capf {
    fn addr(&self) -> Addr {
        Addr::Capf(self.host.clone())
    }
    fn on_input(&mut self, input: Input, now: Now) -> Vec<Effect> {
        match input {
            Input::Msg(m) => self.handle(m, now),
            Input::Timer(t) => self.on_timer(t, now),
            Input::Start => vec![],
        }
    }
}
service_machine!(CallManager, |m: &CallManager| Addr::CallManager(
    m.host.clone()
));

impl Machine for Publisher {
    fn addr(&self) -> Addr {
        Addr::Publisher(self.pki.name.clone())
    }
    fn on_input(&mut self, input: Input, now: Now) -> Vec<Effect> {
        match input {
            Input::Start => self.start(now),
            Input::Msg(m) => self.handle(m, now),
            Input::Timer(t) => self.on_timer(t, now),
        }
    }
}

impl Machine for Dhcp {
    fn addr(&self) -> Addr {
        Addr::Dhcp
    }
    fn on_input(&mut self, input: Input, _now: Now) -> Vec<Effect> {
        match input {
            Input::Msg(m) => self.handle(m),
            _ => vec![],
        }
    }
}

impl Machine for Sftp {
    fn addr(&self) -> Addr {
        Addr::Sftp
    }
    fn on_input(&mut self, input: Input, _now: Now) -> Vec<Effect> {
        match input {
            Input::Msg(m) => self.handle(m),
            _ => vec![],
        }
    }
}
