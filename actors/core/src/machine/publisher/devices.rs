//! The device records on a cluster's publisher and the CAPF service's operator steps: bulk
//! CAPF changes (Bulk Administration), the keep-alive timer, CAPF's CLI and offline signing,
//! and the certificate monitor over the devices' LSCs.
//!
//! ```text
//!  start ─► CapfDevices(every record) → CAPF
//!  CapfUpdate{devices, operation, auth, …} ─► records scheduled ─► `capf_scheduled`
//!        ─► CapfDevices(changed) → CAPF ─► TftpRebuild (the configs carry the operation)
//!  CapfKeepalive{minutes} (5–60) ─► CapfConfig
//!  CapfOfflineSign{ca} ─► CapfExportCsrs → CAPF · CapfCli{command} ─► CapfCli → CAPF
//!  CertificateMonitor{notify_days} ─► `lsc_expiry_notice` / `lsc_expired` per device
//! ```

use super::Publisher;
use crate::capf::{CapfAuth, DeviceRecord};
use crate::machine::msg::{Addr, CapfUpdate, Effect, Msg, Now, Operator};
use crate::machine::trace::Kind;
use std::sync::Arc;

impl Publisher {
    /// Carries out a CAPF or device-record step.
    pub(super) fn device_step(&mut self, op: Operator, now: Now) -> Vec<Effect> {
        match op {
            Operator::CapfUpdate(update) => self.capf_update(&update, now),
            Operator::CapfOfflineSign { ca } => self.to_capf(Msg::CapfExportCsrs { ca }),
            Operator::CapfCli { command } => self.to_capf(Msg::CapfCli { command }),
            Operator::CertificateMonitor { notify_days } => {
                self.certificate_monitor(notify_days, now)
            }
            Operator::CapfKeepalive { minutes } => self.capf_keepalive(minutes, now),
            _ => vec![],
        }
    }

    /// Every device record to the CAPF service, if the cluster runs one.
    pub(super) fn push_devices(&self) -> Vec<Effect> {
        let Some((host, _)) = &self.capf else {
            return vec![];
        };
        let all: Vec<DeviceRecord> = self.devices.values().cloned().collect();
        vec![Effect::Send {
            to: Addr::Capf(host.clone()),
            msg: Msg::CapfDevices(Arc::new(all)),
        }]
    }

    /// CAPF's keep-alive timer, 5 to 60 minutes.
    fn capf_keepalive(&mut self, minutes: u32, now: Now) -> Vec<Effect> {
        if !(5..=60).contains(&minutes) {
            vec![self.obs(now, Kind::OperatorError, "keep_alive must be 5–60 minutes")]
        } else if let Some((_, config)) = &mut self.capf {
            config.model.keepalive_ms = u64::from(minutes) * 60_000;
            self.push_capf()
        } else {
            vec![]
        }
    }

    /// The certificate monitor over the devices' LSCs (the Certificate Expiry Monitor's
    /// notice [I: the reference names "certificate monitoring (expiry notice, revocation after
    /// expiry)" without details]): `lsc_expiry_notice` for an LSC that expires within
    /// `notify_days`, `lsc_expired` for one already expired (a secure registration with it
    /// fails its TLS: the CallManager checks validity).
    fn certificate_monitor(&self, notify_days: u32, now: Now) -> Vec<Effect> {
        let horizon = now.wall.plus_s(i64::from(notify_days) * 86_400);
        let mut out = vec![];
        for rec in self.devices.values() {
            let Some(lsc) = &rec.lsc else { continue };
            let not_after = lsc.info().not_after;
            let name = &rec.device_name;
            if not_after < now.wall {
                out.push(self.obs(
                    now,
                    Kind::LscExpired,
                    format!("{name}: expired {not_after}"),
                ));
            } else if not_after < horizon {
                out.push(self.obs(
                    now,
                    Kind::LscExpiryNotice,
                    format!("{name}: expires {not_after}"),
                ));
            }
        }
        out
    }

    /// Applies a bulk CAPF change to the device records, tells CAPF, rebuilds the configs.
    fn capf_update(&mut self, u: &CapfUpdate, now: Now) -> Vec<Effect> {
        let seed = self
            .capf
            .as_ref()
            .map_or(0, |(_, c)| c.settings.forge.seed());
        let mut changed = vec![];
        for (name, model, v3) in &u.devices {
            if let Some(before) = u.lsc_expires_before {
                let expires = self
                    .devices
                    .get(name)
                    .and_then(|r| r.lsc.as_ref())
                    .map(|c| c.info().not_after);
                if expires.is_none_or(|t| t >= before) {
                    continue; // the query does not select it
                }
            }
            let rec = self
                .devices
                .entry(name.clone())
                .or_insert_with(|| DeviceRecord::new(name, model));
            rec.capf_v3 = *v3;
            rec.auth = if u.unique_auth_strings {
                CapfAuth::AuthString(crate::capf::device::unique_auth_string(seed, name))
            } else {
                u.auth.clone()
            };
            rec.key_order = u.key_order;
            rec.rsa_bits = u.rsa_bits;
            rec.ec_curve = u.ec_curve;
            if let Some(m) = u.security_mode {
                rec.security_mode = m;
            }
            rec.schedule(u.operation, u.completes_by);
            changed.push(rec.clone());
        }
        let mut out = vec![self.obs(
            now,
            Kind::CapfScheduled,
            format!("{} devices: {}", changed.len(), u.operation.label()),
        )];
        if let Some((host, _)) = &self.capf {
            out.push(Effect::Send {
                to: Addr::Capf(host.clone()),
                msg: Msg::CapfDevices(Arc::new(changed)),
            });
        }
        out.extend(self.rebuild_tftp(now));
        out
    }
}
