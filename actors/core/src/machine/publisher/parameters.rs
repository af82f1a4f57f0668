//! The enterprise parameters the trust machinery reads, and the cluster-wide settings the
//! operator changes: `set_enterprise_parameter` and `utils ctl set-cluster`.
//!
//! ```text
//!  SetParameter{rollback_to_pre_8 | phone_interaction_on_cert_update | tftp_file_signature}
//!        ─► TftpRebuild ─► ResetRegistered (rollback, or a new digest with automatic reset)
//!  SetParameter{endpoint_advanced_encryption | ipv6} ─► CapfConfig
//!  CtlSetCluster{mixed} ─► mixed or non-secure mode (leaving it keeps a blanked CTL)
//!        ─► TftpRebuild
//! ```

use super::Publisher;
use crate::digest::DigestAlg;
use crate::machine::msg::{Effect, Now};
use crate::machine::trace::Kind;
use std::sync::Arc;

/// Enterprise parameters the trust machinery reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enterprise {
    /// "Prepare Cluster for Rollback to pre 8.0".
    pub rollback: bool,
    /// "Phone Interaction on Certificate Update": automatic reset (default) or manual.
    pub auto_reset: bool,
    /// "TFTP File Signature Algorithm".
    pub digest: DigestAlg,
    /// Whether the phones' config carries the TVS list. `false` models CSCti64589 (8.6.2,
    /// F17): phones that booted from `XmlDefault.cnf.xml`, which has no TVS entry, have an
    /// empty TVS list. [I] The switch applies to every config the cluster's TFTP serves (as
    /// if every phone booted from the default config, e.g. auto-registered).
    pub default_config_tvs: bool,
    /// Mixed mode: the CallManager trusts the LSCs of this cluster's CAPF through the CAPF
    /// record of the cluster's CTL file, not through the CAPF certificate in
    /// CallManager-trust. CUCM "doesn't trust the LSC certificate sent by the phone because
    /// it was issued by another CAPF, whose certificate isn't in the CTL file" [C S14, seed
    /// 003]; that the CTL record *replaces* the store copy for the cluster's own CAPF is [I]
    /// (F12: a CAPF regenerated without `utils ctl update CTLFile`). `false`: CallManager-trust
    /// plus the current CAPF, as in non-secure mode.
    pub lsc_capf_from_ctl: bool,
    /// Not a CUCM parameter [I]: the cluster's TFTP serves configuration files unsigned and no
    /// ITL, as a pre-8.0 TFTP does (the scenario's `serve_unsigned_configs`). Phones
    /// holding the blank rollback ITL and no CTL accept them; the others refuse them (§2.5).
    pub unsigned_configs: bool,
}

impl Default for Enterprise {
    fn default() -> Self {
        Enterprise {
            rollback: false,
            auto_reset: true,
            digest: DigestAlg::Sha1,
            default_config_tvs: true,
            lsc_capf_from_ctl: true,
            unsigned_configs: false,
        }
    }
}

impl Publisher {
    /// `set_enterprise_parameter name value`.
    pub(super) fn set_parameter(&mut self, name: &str, value: &str, now: Now) -> Vec<Effect> {
        let truthy = matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        );
        match name {
            "rollback_to_pre_8" => self.enterprise.rollback = truthy,
            "serve_unsigned_configs" => self.enterprise.unsigned_configs = truthy,
            "phone_interaction_on_cert_update" => {
                self.enterprise.auto_reset = value.eq_ignore_ascii_case("automatic")
            }
            "tftp_file_signature" => match DigestAlg::parse(value) {
                Some(d) => self.enterprise.digest = d,
                None => {
                    return vec![self.obs(
                        now,
                        Kind::OperatorError,
                        format!("bad digest {value:?}"),
                    )]
                }
            },
            "endpoint_advanced_encryption" | "ipv6" => {
                let Some((_, config)) = &mut self.capf else {
                    return vec![self.obs(now, Kind::OperatorError, "this cluster runs no CAPF")];
                };
                if name == "ipv6" {
                    config.ipv6_enabled = truthy;
                } else {
                    let mut settings = (*config.settings).clone();
                    settings.advanced_algorithms = truthy;
                    config.settings = Arc::new(settings);
                }
                return self.push_capf();
            }
            _ => {
                return vec![self.obs(
                    now,
                    Kind::OperatorError,
                    format!("unknown parameter {name:?}"),
                )]
            }
        }
        let mut out = self.rebuild_tftp(now);
        if name == "rollback_to_pre_8"
            || self.enterprise.auto_reset && name == "tftp_file_signature"
        {
            // Phones reset to fetch the new ITL ("wait ten minutes for the phones to restart").
            out.extend(self.reset_registered());
        }
        out
    }

    /// `utils ctl set-cluster mixed-mode|non-secure-mode`.
    pub(super) fn ctl_set_cluster(&mut self, mixed: bool, now: Now) -> Vec<Effect> {
        // A cluster that leaves mixed mode keeps serving a CTL, its CCM+TFTP records
        // blanked; one that was never mixed has no CTL to blank.
        self.non_secure_ctl = !mixed && (self.mixed_mode || self.non_secure_ctl);
        self.mixed_mode = mixed;
        let mode = if mixed {
            "mixed-mode"
        } else {
            "non-secure-mode"
        };
        let mut out = vec![self.obs(now, Kind::CtlSetCluster, mode)];
        out.extend(self.rebuild_tftp(now));
        out
    }
}
