//! The CUCM release a cluster runs (`10.5`, `11.5(1)SU3`, `12.5`, `14SU2`, `15`): it decides
//! who signs the trust lists, which certificates regeneration touches, and what phones are
//! told. Shared by the PKI (`pki`) and the trust-list codec (`tlv`), so it belongs to neither.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A CUCM release: `10.5`, `11.5(1)SU3`, `12.5`, `14SU2`, `15`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CucmVersion {
    pub major: u8,
    pub minor: u8,
    pub su: u8,
}

impl CucmVersion {
    pub const fn new(major: u8, minor: u8, su: u8) -> Self {
        CucmVersion { major, minor, su }
    }

    /// From 12.0 the ITL and CTL are signed by ITLRecovery.
    pub fn itl_signed_by_itl_recovery(self) -> bool {
        self.major >= 12
    }
}

impl fmt::Display for CucmVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.su > 0 {
            write!(f, "SU{}", self.su)?;
        }
        Ok(())
    }
}

impl FromStr for CucmVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad =
            || format!("bad CUCM version {s:?} (expected e.g. \"10.5\", \"12.5SU6\", \"14SU2\")");
        let up = s.trim().to_ascii_uppercase();
        let (main, su) = match up.split_once("SU") {
            Some((m, su)) => (m.to_string(), su.parse::<u8>().map_err(|_| bad())?),
            None => (up.clone(), 0),
        };
        let main = main.split('(').next().unwrap_or("").trim_end_matches('.');
        let mut parts = main.split('.');
        let major = parts
            .next()
            .and_then(|p| p.parse::<u8>().ok())
            .ok_or_else(bad)?;
        let minor = match parts.next() {
            Some(p) => p.parse::<u8>().map_err(|_| bad())?,
            None => 0,
        };
        if !(8..=15).contains(&major) {
            return Err(format!("CUCM version {s:?} is outside 8.x–15.x"));
        }
        Ok(CucmVersion { major, minor, su })
    }
}

impl TryFrom<String> for CucmVersion {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<CucmVersion> for String {
    fn from(v: CucmVersion) -> String {
        v.to_string()
    }
}
