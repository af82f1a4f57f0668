//! DHCP: the option 150 (TFTP server list) a phone gets, by phone-id range; the latest
//! range that covers a phone wins.
//!
//! ```text
//!  DhcpSet{first, count, option150} ─► remembered
//!  DhcpRequest{phone} ─► DhcpAck{option150 of the latest covering range, or none}
//! ```

use super::msg::{Addr, Effect, Msg};

/// DHCP: option 150 per phone range.
#[derive(Debug, Default)]
pub struct Dhcp {
    ranges: Vec<(u32, u32, Vec<String>)>,
}

impl Dhcp {
    pub fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::DhcpSet {
                first,
                count,
                option150,
            } => {
                self.ranges.push((first, count, option150));
                vec![]
            }
            Msg::DhcpRequest { phone } => {
                let option150 = self
                    .ranges
                    .iter()
                    .rev()
                    .find(|(f, c, _)| phone >= *f && phone < f + c)
                    .map(|(_, _, o)| o.clone())
                    .unwrap_or_default();
                vec![Effect::Send {
                    to: Addr::Phone(phone),
                    msg: Msg::DhcpAck { option150 },
                }]
            }
            _ => vec![],
        }
    }
}

/// DHCP answers messages only.
impl crate::machine::Machine for Dhcp {
    fn addr(&self) -> crate::machine::Addr {
        crate::machine::Addr::Dhcp
    }
    fn on_input(
        &mut self,
        input: crate::machine::Input,
        _now: crate::machine::Now,
    ) -> Vec<crate::machine::Effect> {
        use crate::machine::Input;
        match input {
            Input::Msg(m) => self.handle(m),
            Input::Start | Input::Timer(_) => vec![],
        }
    }
}
