//! Compiling `[[step]]`: a table from each `action` to the function of its step family. Each
//! function checks the keys its action uses, resolves names (clusters, nodes, fleets) and
//! appends timed events to the [`Timeline`]. Every error points at the offending value.
//!
//! ```text
//!  [[step]] at, action, … ──step──► STEPS[action] ──► Timeline.events += (at, Event::…)
//!
//!  bulk       bulk_export (+ nodes), bulk_consolidate, bulk_import (+ defect), sftp_remove
//!  upload     upload_certificate
//!  phones     set_option150, reset_phones
//!  admin      restart_service, set_enterprise_parameter, serve_unsigned_configs,
//!             certificate_monitor
//!  lifecycle  regenerate_certificate, itl_reset, ctl_update, drs_backup, drs_restore,
//!             delete_itl, ctl_set_cluster
//!  capf       capf_operation, capf_set_keepalive, capf_offline_sign, capf_cli
//!  https      https_service, tftp_https
//!  imp        imp_regenerate, imp_restart_services, presence_ha, sip_federation,
//!             ipsec_trust_check, delete_trust_certificate, jabber_install_certificate, jabber_login
//!  multisan   multi_san_csr, upload_ca_certificate, upload_multi_san, multi_san_restart_services
//! ```

mod admin;
mod bulk;
mod capf;
mod https;
mod imp;
mod lifecycle;
mod multisan;
mod phones;
mod upload;

use super::context::R;
use super::timeline::Timeline;
use crate::lang::raw;

/// Compiles one step at `at` ms.
type StepFn = fn(&mut Timeline<'_>, &raw::Step, u64) -> R<()>;

/// Every action, in the order the "unknown action" error lists them.
const STEPS: [(&str, StepFn); 37] = [
    ("bulk_export", bulk::export),
    ("sftp_remove", bulk::sftp_remove),
    ("bulk_consolidate", bulk::consolidate_or_import),
    ("bulk_import", bulk::consolidate_or_import),
    ("upload_certificate", upload::certificate),
    ("set_option150", phones::option150),
    ("reset_phones", phones::reset),
    ("restart_service", admin::restart_service),
    ("set_enterprise_parameter", admin::set_enterprise_parameter),
    ("serve_unsigned_configs", admin::serve_unsigned_configs),
    ("regenerate_certificate", lifecycle::step),
    ("fips_enable", lifecycle::step),
    ("itl_reset", lifecycle::step),
    ("ctl_update", lifecycle::step),
    ("drs_backup", lifecycle::step),
    ("drs_restore", lifecycle::step),
    ("delete_itl", lifecycle::step),
    ("capf_operation", capf::operation),
    ("capf_set_keepalive", capf::set_keepalive),
    ("capf_offline_sign", capf::offline_sign),
    ("capf_cli", capf::cli),
    ("certificate_monitor", admin::certificate_monitor),
    ("https_service", https::https_service),
    ("tftp_https", https::tftp_https),
    ("ctl_set_cluster", lifecycle::ctl_set_cluster),
    ("imp_regenerate", imp::step),
    ("imp_restart_services", imp::step),
    ("presence_ha", imp::step),
    ("sip_federation", imp::step),
    ("ipsec_trust_check", imp::step),
    ("delete_trust_certificate", imp::step),
    ("jabber_install_certificate", imp::step),
    ("jabber_login", imp::step),
    ("multi_san_csr", multisan::step),
    ("upload_ca_certificate", multisan::step),
    ("upload_multi_san", multisan::step),
    ("multi_san_restart_services", multisan::step),
];

/// Compiles one `[[step]]` into `t`'s events.
pub(super) fn step(t: &mut Timeline, s: &raw::Step) -> R<()> {
    let at = t.cx.at(&s.at)?;
    let action = s.action.get_ref().as_str();
    if let Some(d) = &s.defect {
        if !matches!(action, "bulk_import" | "bulk_consolidate") {
            return Err(t
                .cx
                .err(d.span(), format!("`defect` is not used by {action:?}")));
        }
    }
    match STEPS.iter().find(|(name, _)| *name == action) {
        Some((_, compile)) => compile(t, s, at),
        None => {
            let names: Vec<&str> = STEPS.iter().map(|(name, _)| *name).collect();
            Err(t.cx.err(
                s.action.span(),
                format!("unknown action {action:?}: expected {}", names.join(", ")),
            ))
        }
    }
}
