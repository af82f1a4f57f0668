//! The shared SFTP directory that Bulk Certificate Management exports to and reads from
//! (reference §4.1: every cluster uses the same server and directory).
//!
//! ```text
//!  SftpPut{name, bytes} ─► stored (same name: replaced)
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
