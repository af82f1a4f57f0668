//! The shared SFTP directory that Bulk Certificate Management exports to and reads from
//! (reference §4.1: every cluster uses the same server and directory).
//!
//! ```text
//!  SftpPut{name, bytes} ─► stored (same name: replaced)
//!  SftpRemove{name}     ─► deleted (no such file: nothing)
//!  SftpList{reply_to}   ─► SftpFiles{every file, in name order} ─► reply_to
//! ```

use super::msg::{Effect, Msg};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The shared SFTP directory both clusters export to (§4.1: same server and directory).
#[derive(Debug, Default)]
pub struct Sftp {
    pub files: BTreeMap<String, Arc<[u8]>>,
}

impl Sftp {
    pub fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::SftpPut { name, bytes } => {
                self.files.insert(name, bytes);
                vec![]
            }
            Msg::SftpRemove { name } => {
                self.files.remove(&name);
                vec![]
            }
            Msg::SftpList { reply_to } => {
                let files = self
                    .files
                    .iter()
                    .map(|(n, b)| (n.clone(), b.clone()))
                    .collect();
                vec![Effect::Send {
                    to: reply_to,
                    msg: Msg::SftpFiles { files },
                }]
            }
            _ => vec![],
        }
    }
}

/// SFTP answers messages only.
impl crate::machine::Machine for Sftp {
    fn addr(&self) -> crate::machine::Addr {
        crate::machine::Addr::Sftp
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
