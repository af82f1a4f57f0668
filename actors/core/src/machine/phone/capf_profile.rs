//! A fleet's CAPF settings as its phones see them ([`PhoneCapf`]): the authentication string,
//! the key generation times ([`KeygenTimes`]), the address families to try and the retries.
//! The flow that uses them is [`super::capf`].

use crate::pki::{KeyForge, KeyProfile};

/// How long a phone takes to generate a key, by key, in virtual ms. Cisco says only "up to
/// 30 or more minutes" on some models with larger keys [C S14], so every figure is [I];
/// a fleet's `keygen` overrides them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeygenTimes {
    pub ec_ms: u64,
    pub rsa1024_ms: u64,
    pub rsa2048_ms: u64,
    pub rsa3072_ms: u64,
    pub rsa4096_ms: u64,
}

impl Default for KeygenTimes {
    fn default() -> Self {
        KeygenTimes {
            ec_ms: 2_000,
            rsa1024_ms: 10_000,
            rsa2048_ms: 30_000,
            rsa3072_ms: 120_000,
            rsa4096_ms: 300_000,
        }
    }
}

impl KeygenTimes {
    /// The same time for every key (a fleet's `keygen`).
    pub fn all(ms: u64) -> KeygenTimes {
        KeygenTimes {
            ec_ms: ms,
            rsa1024_ms: ms,
            rsa2048_ms: ms,
            rsa3072_ms: ms,
            rsa4096_ms: ms,
        }
    }

    pub fn of(&self, profile: KeyProfile) -> u64 {
        match profile {
            KeyProfile::EcP256 => self.ec_ms,
            KeyProfile::Rsa { bits } if bits <= 1024 => self.rsa1024_ms,
            KeyProfile::Rsa { bits } if bits <= 2048 => self.rsa2048_ms,
            KeyProfile::Rsa { bits } if bits <= 3072 => self.rsa3072_ms,
            KeyProfile::Rsa { .. } => self.rsa4096_ms,
        }
    }
}

/// A fleet's CAPF settings, shared by its phones.
#[derive(Clone, Debug)]
pub struct PhoneCapf {
    /// The authentication string typed on the phone, if any.
    pub auth_string: Option<String>,
    /// The phone was told the unique string BAT generated for it
    /// ([`crate::capf::device::unique_auth_string`]); overrides `auth_string`.
    pub unique_auth_string: bool,
    /// VERSION in AUTH_RES: 3 for CAPFv3 endpoints.
    pub version: u8,
    pub keygen: KeygenTimes,
    /// Keys of generated key pairs come from a pool of this many per key type, shared by the
    /// fleet (0: every phone its own). Generating an RSA key takes the simulator 65–200 ms,
    /// which at 40,000 phones would dwarf everything else; the phone's key generation *time*
    /// is modelled by `keygen` either way, and every LSC is still issued and verified for
    /// real. [I], a setting.
    pub key_pool: u32,
    pub forge: KeyForge,
    /// Address families to try towards CAPF, in order (`true` = IPv6), from the IPv6 table of
    /// seed 003; `Err` says why the phone cannot reach CAPF at all.
    pub families: Result<Vec<bool>, String>,
    /// More tries after a communication failure, and the pause between them: 3 × 30 s, not
    /// configurable in CUCM [C S14].
    pub retries: u32,
    pub retry_ms: u64,
    /// How long the phone waits for each server message [I].
    pub response_ms: u64,
}

impl PhoneCapf {
    /// Cisco's retry figures and [I] defaults for the rest.
    pub fn new(forge: KeyForge) -> PhoneCapf {
        PhoneCapf {
            auth_string: None,
            unique_auth_string: false,
            version: 3,
            keygen: KeygenTimes::default(),
            key_pool: 64,
            forge,
            families: Ok(vec![false]),
            retries: 3,
            retry_ms: 30_000,
            response_ms: 30_000,
        }
    }
}
