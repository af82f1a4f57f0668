//! The trust rules a phone applies to a new CTL, ITL or signed config file (reference §2.3),
//! as a pure function of what it holds, the file, and `now`.
//!
//! ```text
//!  new file ─► holds nothing?            ─► accept (trust on first use)     [C S10; I for CTL, configs]
//!           ├► holds the rollback ITL and no CTL? ─► accept any ITL, and unsigned configs [C S10]
//!           ├► signer in CTL/ITL with an allowed role? ─► verify signature ─► accept | reject
//!           ├► signer in the TVS cache (not expired)?  ─► verify with cached cert
//!           └► otherwise                  ─► ask TVS (QUERY_CERT) ─► answer ─► accept | reject
//!  reject ⇒ the phone keeps its old files; the caller shows "Trust List update failed".
//! ```
//! Roles: a trust list must be signed by a SAST (or, with a CTL, a CCM+TFTP entry of the CTL);
//! a config by a TFTP or CCM+TFTP certificate. A TVS answer must include SAST for a trust list
//! and TFTP/CCM+TFTP for a config — that requirement is [I] and lives in [`TvsRolePolicy`].

use super::caps::{Limits, PhoneCaps};
pub use super::decision::{Decision, FileKind, TrustError, TrustPath};
use crate::digest::DigestAlg;
use crate::pki::store::map_id;
use crate::pki::{Backend, Certificate};
use crate::tlv::parse::{Header, Record};
use crate::tlv::verify::{find_signer, record_key, verify_signature, VerifyError};
use crate::tlv::{Role, TrustList};
use crate::tvs::TTL_S;
use crate::wall::WallTime;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which roles a TVS answer must carry to vouch for a signer [I].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TvsRolePolicy {
    pub trust_list: Vec<Role>,
    pub config: Vec<Role>,
}

impl Default for TvsRolePolicy {
    fn default() -> Self {
        TvsRolePolicy {
            trust_list: vec![Role::Sast],
            config: vec![Role::Tftp, Role::CcmTftp, Role::Sast],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct CacheEntry {
    cert: Certificate,
    roles: Vec<Role>,
    expires: WallTime,
}

/// What a phone holds.
#[derive(Clone, Debug, Default)]
pub struct PhoneTrust {
    /// Held lists are shared with every phone that holds the same bytes (`tlv::shared`).
    pub ctl: Option<Arc<TrustList>>,
    pub itl: Option<Arc<TrustList>>,
    tvs_cache: BTreeMap<String, CacheEntry>,
    pub policy: TvsRolePolicy,
    /// Digests this model can verify (F28: some cannot verify SHA-512).
    pub digests: Vec<DigestAlg>,
    /// The model's limits (F9, F27): see [`Limits`].
    pub limits: Limits,
}

impl PhoneTrust {
    /// A factory-fresh phone that verifies every digest.
    pub fn new() -> PhoneTrust {
        PhoneTrust {
            digests: DigestAlg::ALL.to_vec(),
            ..PhoneTrust::default()
        }
    }

    /// Whether the held ITL is the rollback ITL: it has no TVS or TFTP certificate, only
    /// blank records for them.
    pub fn holds_rollback_itl(&self) -> bool {
        self.itl.as_ref().is_some_and(|itl| {
            let blank = itl.records.iter().any(|r| r.is_blank());
            let real = itl.records.iter().any(|r| {
                !r.is_blank() && matches!(r.role, Some(Role::Tvs | Role::Tftp | Role::CcmTftp))
            });
            blank && !real
        })
    }

    /// Authenticates the CallManager of a secure registration (TLS on SIP 5061 / SCCP 2443):
    /// the certificate it presented must be a CCM or CCM+TFTP record of the phone's CTL
    /// (reference §1.4: role 1 "TLS to CallManager", role 2 "TLS to CM and signer of TFTP
    /// config files"). A phone without a CTL has nothing to check it with and [I] goes on
    /// (CUCM needs mixed mode, hence a CTL, for secure profiles; the simulator allows them
    /// without it).
    pub fn check_callmanager(&self, der: &[u8]) -> Result<(), String> {
        let Some(ctl) = &self.ctl else {
            return Ok(());
        };
        let known = ctl.records.iter().any(|r| {
            matches!(r.role, Some(Role::Ccm | Role::CcmTftp))
                && r.certificate.as_deref() == Some(der)
        });
        if known {
            return Ok(());
        }
        let who = Certificate::from_der(der)
            .map(|c| c.subject().to_cucm())
            .unwrap_or_else(|_| "an unreadable certificate".into());
        Err(format!(
            "CallManager certificate {who} is not a CCM or CCM+TFTP record of the phone's CTL"
        ))
    }

    /// Forgets the CTL, the ITL and the TVS cache (Settings > Security > Reset Security
    /// Settings, or a factory reset); the model's capabilities stay.
    pub fn erase(&mut self) {
        self.ctl = None;
        self.itl = None;
        self.tvs_cache.clear();
    }

    fn allowed_roles(&self, kind: FileKind) -> (Vec<Role>, Vec<Role>) {
        match kind {
            FileKind::Ctl | FileKind::Itl => (vec![Role::Sast, Role::CcmTftp], vec![Role::Sast]),
            FileKind::Config => (
                vec![Role::CcmTftp, Role::Tftp],
                vec![Role::CcmTftp, Role::Tftp],
            ),
        }
    }

    fn known_signer(&self, header: &Header, kind: FileKind) -> Option<(TrustPath, &Record)> {
        let (ctl_roles, itl_roles) = self.allowed_roles(kind);
        if let Some(r) = self
            .ctl
            .as_ref()
            .and_then(|c| find_signer(header, &c.records, &ctl_roles))
        {
            return Some((TrustPath::Ctl, r));
        }
        let r = self
            .itl
            .as_ref()
            .and_then(|i| find_signer(header, &i.records, &itl_roles))?;
        Some((TrustPath::Itl, r))
    }

    /// Judges a new file: `raw` and its parsed `header` (a trust list's or a `.sgn`'s).
    pub fn judge(
        &self,
        kind: FileKind,
        raw: &[u8],
        header: &Header,
        now: WallTime,
        backend: Backend,
    ) -> Decision {
        if let Some(e) = self.limits.itl_refusal(kind, raw) {
            return Decision::Reject(e);
        }
        if self.ctl.is_none() && self.itl.is_none() {
            return Decision::Accept(TrustPath::FirstUse);
        }
        // Rollback blanks the ITL, never the CTL (§2.5, F3): a phone that holds a CTL verifies
        // every new file against it (§2.3 "Has a CTL"), blank ITL or not.
        if self.holds_rollback_itl() && self.ctl.is_none() && kind != FileKind::Ctl {
            return Decision::Accept(TrustPath::RollbackItl);
        }
        if header.signature.is_none() {
            return Decision::Reject(TrustError::Unsigned);
        }
        if let Some(d) = header.digest().filter(|d| !self.digests.contains(d)) {
            return Decision::Reject(TrustError::UnsupportedDigest(d));
        }
        if let Some((path, record)) = self.known_signer(header, kind) {
            let key = match record_key(record) {
                Ok(k) => k,
                Err(e) => return Decision::Reject(TrustError::BadSignature(e)),
            };
            if let Some(e) = self.limits.key_refusal(&key) {
                return Decision::Reject(e);
            }
            return match verify_signature(raw, header, &key, backend) {
                Ok(()) => Decision::Accept(path),
                Err(e) => Decision::Reject(TrustError::BadSignature(e)),
            };
        }
        let serial = header.signer_serial.clone().unwrap_or_default();
        let issuer = header.signer_issuer.clone().unwrap_or_default();
        if let Some(entry) = self
            .tvs_cache
            .get(&map_id(&serial, &issuer))
            .filter(|e| e.expires > now)
        {
            return self.check_vouched(kind, raw, header, &entry.cert, &entry.roles, backend, true);
        }
        if !self.limits.security_by_default {
            return Decision::Reject(TrustError::UnknownSigner {
                subject: header.signer_name.clone().unwrap_or_default(),
                serial: hex::encode(serial),
            });
        }
        Decision::AskTvs {
            subject: header.signer_name.clone().unwrap_or_default(),
            issuer,
            serial,
        }
    }

    /// Applies a TVS QUERY_CERT answer to the file that prompted it, caching a valid answer
    /// for its TTL (24 h).
    #[allow(clippy::too_many_arguments)]
    pub fn on_tvs_answer(
        &mut self,
        kind: FileKind,
        raw: &[u8],
        header: &Header,
        valid: bool,
        certificate: Option<&[u8]>,
        roles: &[Role],
        ttl_s: u32,
        now: WallTime,
        backend: Backend,
    ) -> Decision {
        // One parse shared by every phone given the same certificate (memory only).
        let shared = crate::pki::shared_cert::from_der_shared;
        let cert = match (valid, certificate.map(shared)) {
            (true, Some(Ok(cert))) => cert,
            _ => return Decision::Reject(TrustError::TvsDenied),
        };
        let matches = header.signer_serial.as_deref() == Some(cert.serial());
        if !matches {
            return Decision::Reject(TrustError::TvsDenied);
        }
        let ttl = if ttl_s == 0 { TTL_S } else { ttl_s };
        let entry = CacheEntry {
            cert: cert.clone(),
            roles: roles.to_vec(),
            expires: now.plus_s(ttl as i64),
        };
        self.tvs_cache
            .insert(map_id(cert.serial(), &cert.issuer().to_cucm()), entry);
        self.check_vouched(kind, raw, header, &cert, roles, backend, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn check_vouched(
        &self,
        kind: FileKind,
        raw: &[u8],
        header: &Header,
        cert: &Certificate,
        roles: &[Role],
        backend: Backend,
        cached: bool,
    ) -> Decision {
        let needed = match kind {
            FileKind::Config => &self.policy.config,
            _ => &self.policy.trust_list,
        };
        if !roles.iter().any(|r| needed.contains(r)) {
            let names: Vec<String> = needed.iter().map(|r| r.short_name()).collect();
            return Decision::Reject(TrustError::TvsWrongRole {
                needed: names.join(" or "),
            });
        }
        let Some(key) = cert.public_key() else {
            return Decision::Reject(TrustError::BadSignature(VerifyError::BadSignerKey(
                "unsupported key".into(),
            )));
        };
        if let Some(e) = self.limits.key_refusal(key) {
            return Decision::Reject(e);
        }
        match verify_signature(raw, header, key, backend) {
            Ok(()) => Decision::Accept(TrustPath::Tvs { cached }),
            Err(e) => Decision::Reject(TrustError::BadSignature(e)),
        }
    }

    /// Whether a TVS's TLS certificate matches a TVS record of the held ITL (the phone's check
    /// before it trusts a TVS answer; "Role is = 21", [C S5]).
    pub fn trusts_tvs_server(&self, cert: &Certificate) -> bool {
        self.itl.as_ref().is_some_and(|itl| {
            itl.records
                .iter()
                .any(|r| r.role == Some(Role::Tvs) && r.certificate.as_deref() == Some(cert.der()))
        })
    }

    /// Installs an accepted trust list.
    pub fn install(&mut self, kind: FileKind, list: Arc<TrustList>) {
        match kind {
            FileKind::Ctl => self.ctl = Some(list),
            FileKind::Itl => self.itl = Some(list),
            FileKind::Config => {}
        }
    }
}

/// The TVS cache as HTTPS services use it (CERT_VERIFICATION, the `https` module): verdicts
/// keyed like the QUERY_CERT ones, valid for the answer's TTL (24 h).
impl PhoneTrust {
    /// The cached roles TVS vouched for this exact certificate with, if not expired.
    pub fn cached_vouch(&self, cert: &Certificate, now: WallTime) -> Option<Vec<Role>> {
        self.tvs_cache
            .get(&map_id(cert.serial(), &cert.issuer().to_cucm()))
            .filter(|e| e.expires > now && e.cert.der() == cert.der())
            .map(|e| e.roles.clone())
    }

    /// Caches a valid CERT_VERIFICATION answer for `ttl_s` (0: the default 24 h).
    pub fn cache_vouch(&mut self, cert: &Certificate, roles: &[Role], ttl_s: u32, now: WallTime) {
        let ttl = if ttl_s == 0 { TTL_S } else { ttl_s };
        let entry = CacheEntry {
            cert: cert.clone(),
            roles: roles.to_vec(),
            expires: now.plus_s(ttl as i64),
        };
        self.tvs_cache
            .insert(map_id(cert.serial(), &cert.issuer().to_cucm()), entry);
    }
}

/// A model's capabilities set on a phone's trust state (here, with the state they change,
/// so that `caps` needs nothing from this module).
impl PhoneCaps {
    /// Gives a phone's trust state these capabilities.
    pub fn apply(&self, trust: &mut PhoneTrust) {
        trust.limits = self.limits;
        trust.digests = self.digests.clone();
    }
}
