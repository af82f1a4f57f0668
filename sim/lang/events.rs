//! Compiling steps, faults and expectations: each tag (`action`, `kind`) checks the keys it
//! uses, resolves names (clusters, nodes, fleets) and becomes timed events, link rules or
//! checks over the trace. Every error points at the offending value.

use super::compile::{service, R};
use super::raw::{self, S};
use crate::engine::{ClusterDef, Event, FleetDef, NodeDef, Service};
use crate::expect::{Count, Expectation};
use cucmsim_actors::{Group, LinkEffect, LinkRule};
use cucmsim_core::capf::device::check_auth_string;
use cucmsim_core::capf::{CapfAuth, CertOperation, CertPrecedence, Curve, KeyOrder};
use cucmsim_core::machine::phone::status;
use cucmsim_core::machine::{CapfUpdate, Operator, ServiceAction};
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::StoreName;
use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

type MakeCount = fn(u64) -> Count;

/// `SEP<MAC>` of phone `i` of fleet `f`.
fn device_name(f: &FleetDef, i: u32) -> String {
    format!(
        "SEP{:012X}",
        (f.mac_start + u64::from(i)) & 0xFFFF_FFFF_FFFF
    )
}
#[path = "https.rs"]
pub(super) mod https;
#[path = "imp.rs"]
pub(super) mod imp;
#[path = "lifecycle.rs"]
pub(super) mod lifecycle;

pub(super) struct World<'a> {
    pub(super) cx: &'a super::compile::Ctx<'a>,
    pub(super) clusters: &'a [ClusterDef],
    pub(super) fleets: &'a [FleetDef],
    pub(super) cas: &'a [crate::engine::spec::CaDef],
    pub(super) events: Vec<(u64, Event)>,
    pub(super) rules: Vec<LinkRule>,
}

impl<'a> World<'a> {
    /// Complains about the first present field that `tag` does not use.
    fn only(&self, tag: &str, present: &[(&'static str, Range<usize>)], allowed: &[&str]) -> R<()> {
        match present.iter().find(|(name, _)| !allowed.contains(name)) {
            Some((name, span)) => Err(self
                .cx
                .err(span.clone(), format!("`{name}` is not used by {tag:?}"))),
            None => Ok(()),
        }
    }

    fn cluster(&self, name: &Option<S<String>>, span: Range<usize>) -> R<&'a ClusterDef> {
        let n = name
            .as_ref()
            .ok_or_else(|| self.cx.err(span, "this needs `cluster`"))?;
        self.clusters
            .iter()
            .find(|c| &c.name == n.get_ref())
            .ok_or_else(|| {
                self.cx
                    .err(n.span(), format!("no cluster named {:?}", n.get_ref()))
            })
    }

    fn fleet(&self, name: &S<String>) -> R<&'a FleetDef> {
        self.fleets
            .iter()
            .find(|f| &f.name == name.get_ref())
            .ok_or_else(|| {
                self.cx
                    .err(name.span(), format!("no fleet named {:?}", name.get_ref()))
            })
    }

    fn node_of(&self, c: &'a ClusterDef, node: &S<String>) -> R<&'a NodeDef> {
        c.nodes
            .iter()
            .find(|n| &n.name == node.get_ref())
            .ok_or_else(|| {
                self.cx.err(
                    node.span(),
                    format!("no node {:?} in cluster {:?}", node.get_ref(), c.name),
                )
            })
    }

    fn group(&self, name: &str, span: Range<usize>) -> R<Group> {
        if let Some(c) = self.clusters.iter().find(|c| c.name == name) {
            return Ok(Group {
                hosts: c.nodes.iter().map(|n| n.name.clone()).collect(),
                phones: vec![],
            });
        }
        if let Some(f) = self.fleets.iter().find(|f| f.name == name) {
            return Ok(Group {
                hosts: BTreeSet::new(),
                phones: vec![(f.first, f.count)],
            });
        }
        if self
            .clusters
            .iter()
            .any(|c| c.nodes.iter().any(|n| n.name == name))
        {
            return Ok(Group {
                hosts: [name.to_string()].into_iter().collect(),
                phones: vec![],
            });
        }
        Err(self
            .cx
            .err(span, format!("{name:?} is not a cluster, fleet or node")))
    }

    pub(super) fn step(&mut self, s: &raw::Step) -> R<()> {
        let at = self.cx.ms(&s.at)?;
        let action = s.action.get_ref().as_str();
        let aspan = s.action.span();
        if let Some(d) = &s.defect {
            if !matches!(action, "bulk_import" | "bulk_consolidate") {
                return Err(self
                    .cx
                    .err(d.span(), format!("`defect` is not used by {action:?}")));
            }
        }
        match action {
            "bulk_export" => {
                self.only(action, &s.present(), &["cluster", "types"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
                let types = match &s.types {
                    None => vec!["all".to_string()],
                    Some(t) => t.get_ref().clone(),
                };
                let mut out = vec![];
                for t in &types {
                    let span = s.types.as_ref().map_or(aspan.clone(), |t| t.span());
                    match t.to_ascii_lowercase().as_str() {
                        "all" => out.extend([CertType::Tomcat, CertType::CallManager, CertType::Capf, CertType::ItlRecovery]),
                        "tomcat" => out.push(CertType::Tomcat),
                        "callmanager" | "tftp" => out.push(CertType::CallManager),
                        "capf" => out.push(CertType::Capf),
                        "itlrecovery" => out.push(CertType::ItlRecovery),
                        other => return Err(self.cx.err(span, format!("unknown certificate type {other:?}: expected all, tomcat, callmanager, capf or itlrecovery"))),
                    }
                }
                self.events.push((
                    at,
                    Event::Operator {
                        cluster: c,
                        op: Operator::BulkExport { types: out },
                    },
                ));
            }
            "bulk_consolidate" | "bulk_import" => {
                self.only(action, &s.present(), &["cluster"])?;
                let c = self.cluster(&s.cluster, aspan)?.name.clone();
                if let Some(d) = &s.defect {
                    let op = self.bulk_defect(d)?;
                    self.events.push((at, Event::Operator { cluster: c, op }));
                    return Ok(());
                }
                let op = if action == "bulk_import" {
                    Operator::BulkImport
                } else {
                    Operator::BulkConsolidate
                };
                self.events.push((at, Event::Operator { cluster: c, op }));
            }
            "upload_certificate" => {
                self.only(action, &s.present(), &["cluster", "store", "certificate"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
                let store = s.store.as_ref().ok_or_else(|| {
                    self.cx
                        .err(aspan.clone(), "upload_certificate needs `store`")
                })?;
                let store: StoreName = store
                    .get_ref()
                    .parse()
                    .map_err(|e: String| self.cx.err(store.span(), e))?;
                let cert = s.certificate.as_ref().ok_or_else(|| {
                    self.cx
                        .err(aspan.clone(), "upload_certificate needs `certificate`")
                })?;
                let parts: Vec<&str> = cert.get_ref().split('/').collect();
                if let ["mic", which] = parts[..] {
                    if !["root", "issuing"].contains(&which) {
                        return Err(self.cx.err(
                            cert.span(),
                            "the manufacturing CA's certificate is \"mic/root\" or \"mic/issuing\"",
                        ));
                    }
                    self.events.push((
                        at,
                        Event::UploadCa {
                            cluster: c,
                            store,
                            ca: crate::engine::spec::MIC_CA.to_string(),
                            which: which.to_string(),
                        },
                    ));
                    return Ok(());
                }
                if let ["ca", name, which] = parts[..] {
                    if !self.cas.iter().any(|c| c.name == name) {
                        return Err(self
                            .cx
                            .err(cert.span(), format!("no [[ca]] named {name:?}")));
                    }
                    if !["root", "issuing"].contains(&which) {
                        return Err(self.cx.err(
                            cert.span(),
                            "a CA's certificate is \"ca/<name>/root\" or \"ca/<name>/issuing\"",
                        ));
                    }
                    self.events.push((
                        at,
                        Event::UploadCa {
                            cluster: c,
                            store,
                            ca: name.to_string(),
                            which: which.to_string(),
                        },
                    ));
                    return Ok(());
                }
                let [cl, node, ty] = parts[..] else {
                    return Err(self.cx.err(cert.span(), "certificate must be \"<cluster>/<node>/<type>\", e.g. \"dst/dst-pub/CallManager\""));
                };
                let owner =
                    self.clusters.iter().find(|x| x.name == cl).ok_or_else(|| {
                        self.cx.err(cert.span(), format!("no cluster named {cl:?}"))
                    })?;
                if !owner.nodes.iter().any(|n| n.name == node) {
                    return Err(self
                        .cx
                        .err(cert.span(), format!("no node {node:?} in cluster {cl:?}")));
                }
                let cert_type: CertType = ty
                    .parse()
                    .map_err(|e: String| self.cx.err(cert.span(), e))?;
                self.events.push((
                    at,
                    Event::Upload {
                        cluster: c,
                        store,
                        owner: cl.to_string(),
                        node: node.to_string(),
                        cert_type,
                    },
                ));
            }
            "set_option150" => {
                self.only(action, &s.present(), &["fleet", "tftp"])?;
                let tftp = s
                    .tftp
                    .as_ref()
                    .ok_or_else(|| self.cx.err(aspan.clone(), "set_option150 needs `tftp`"))?;
                for host in tftp.get_ref() {
                    let runs = self
                        .clusters
                        .iter()
                        .flat_map(|c| &c.nodes)
                        .any(|n| &n.name == host && n.services.contains(&Service::Tftp));
                    if !runs {
                        return Err(self
                            .cx
                            .err(tftp.span(), format!("{host:?} is not a node running tftp")));
                    }
                }
                for f in self.selected_fleets(&s.fleet)? {
                    self.events.push((
                        at,
                        Event::Option150 {
                            first: f.0,
                            count: f.1,
                            tftp: tftp.get_ref().clone(),
                        },
                    ));
                }
            }
            "reset_phones" => {
                self.only(action, &s.present(), &["fleet", "cluster", "over"])?;
                if let (Some(_), Some(c)) = (&s.fleet, &s.cluster) {
                    return Err(self.cx.err(c.span(), "give `fleet` or `cluster`, not both"));
                }
                let over_ms = s
                    .over
                    .as_ref()
                    .map(|o| self.cx.ms(o))
                    .transpose()?
                    .unwrap_or(0);
                if let (Some(o), true) = (&s.over, s.cluster.is_some()) {
                    return Err(self.cx.err(
                        o.span(),
                        "`over` spreads the resets of fleets; with `cluster` CUCM resets every registered phone at once",
                    ));
                }
                if s.cluster.is_some() {
                    let c = self.cluster(&s.cluster, aspan)?.name.clone();
                    self.events.push((at, Event::ResetCluster { cluster: c }));
                } else {
                    for f in self.selected_fleets(&s.fleet)? {
                        self.events.push((
                            at,
                            Event::ResetPhones {
                                first: f.0,
                                count: f.1,
                                over_ms,
                            },
                        ));
                    }
                }
            }
            "restart_service" => {
                self.only(action, &s.present(), &["cluster", "node", "service"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?;
                let svc = s
                    .service
                    .as_ref()
                    .ok_or_else(|| self.cx.err(aspan, "restart_service needs `service`"))?;
                let svc_k = service(self.cx, svc)?;
                let nodes: Vec<&NodeDef> = match &s.node {
                    Some(n) => vec![self.node_of(c, n)?],
                    None => c
                        .nodes
                        .iter()
                        .filter(|n| n.services.contains(&svc_k))
                        .collect(),
                };
                for n in nodes {
                    self.events.push((
                        at,
                        Event::Service {
                            host: n.name.clone(),
                            service: svc_k,
                            action: ServiceAction::Restart,
                        },
                    ));
                }
            }
            "set_enterprise_parameter" => {
                self.only(action, &s.present(), &["cluster", "name", "value"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
                let name = s.name.as_ref().ok_or_else(|| {
                    self.cx
                        .err(aspan.clone(), "set_enterprise_parameter needs `name`")
                })?;
                let known = [
                    "rollback_to_pre_8",
                    "phone_interaction_on_cert_update",
                    "tftp_file_signature",
                    "ipv6",
                    "endpoint_advanced_encryption",
                ];
                if !known.contains(&name.get_ref().as_str()) {
                    return Err(self.cx.err(
                        name.span(),
                        format!(
                            "unknown parameter {:?}: expected one of {}",
                            name.get_ref(),
                            known.join(", ")
                        ),
                    ));
                }
                let value = s
                    .value
                    .as_ref()
                    .ok_or_else(|| self.cx.err(aspan, "set_enterprise_parameter needs `value`"))?;
                let text = match value.get_ref() {
                    toml::Value::String(v) => v.clone(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => {
                        return Err(self.cx.err(
                            value.span(),
                            format!(
                                "value must be a string or a boolean, not {}",
                                other.type_str()
                            ),
                        ))
                    }
                };
                self.events.push((
                    at,
                    Event::Operator {
                        cluster: c,
                        op: Operator::SetParameter {
                            name: name.get_ref().clone(),
                            value: text,
                        },
                    },
                ));
            }
            "capf_operation" => self.capf_operation(s, at)?,
            "capf_set_keepalive" => {
                self.only(action, &s.present(), &["cluster", "minutes"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
                let m = s.minutes.as_ref().ok_or_else(|| {
                    self.cx
                        .err(aspan, "capf_set_keepalive needs `minutes` (5–60)")
                })?;
                if !(5..=60).contains(m.get_ref()) {
                    return Err(self
                        .cx
                        .err(m.span(), "utils capf set keep_alive takes 5–60 minutes"));
                }
                let op = Operator::CapfKeepalive {
                    minutes: *m.get_ref() as u32,
                };
                self.events.push((at, Event::Operator { cluster: c, op }));
            }
            "capf_offline_sign" => {
                self.only(action, &s.present(), &["cluster", "ca"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
                let ca =
                    s.ca.as_ref()
                        .ok_or_else(|| self.cx.err(aspan, "capf_offline_sign needs `ca`"))?;
                if !self.cas.iter().any(|x| {
                    &x.name == ca.get_ref()
                        && matches!(x.kind, crate::engine::spec::CaKindDef::Offline)
                }) {
                    return Err(self.cx.err(
                        ca.span(),
                        format!("no offline [[ca]] named {:?}", ca.get_ref()),
                    ));
                }
                let op = Operator::CapfOfflineSign {
                    ca: ca.get_ref().clone(),
                };
                self.events.push((at, Event::Operator { cluster: c, op }));
            }
            "certificate_monitor" => {
                self.only(action, &s.present(), &["cluster", "notify_days"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
                let d = s.notify_days.as_ref().ok_or_else(|| {
                    self.cx
                        .err(aspan, "certificate_monitor needs `notify_days`")
                })?;
                if !(1..=3650).contains(d.get_ref()) {
                    return Err(self.cx.err(d.span(), "notify_days must be 1–3650"));
                }
                let op = Operator::CertificateMonitor {
                    notify_days: *d.get_ref() as u32,
                };
                self.events.push((at, Event::Operator { cluster: c, op }));
            }
            "capf_cli" => {
                self.only(action, &s.present(), &["cluster", "command"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
                let cmd = s
                    .command
                    .as_ref()
                    .ok_or_else(|| self.cx.err(aspan, "capf_cli needs `command`"))?;
                let known = ["csr list", "stale-lsc list", "stale-lsc delete all"];
                if !known.contains(&cmd.get_ref().as_str()) {
                    return Err(self.cx.err(
                        cmd.span(),
                        format!(
                            "command {:?}: expected one of {}",
                            cmd.get_ref(),
                            known.join(", ")
                        ),
                    ));
                }
                let op = Operator::CapfCli {
                    command: cmd.get_ref().clone(),
                };
                self.events.push((at, Event::Operator { cluster: c, op }));
            }
            "regenerate_certificate"
            | "itl_reset"
            | "drs_backup"
            | "drs_restore"
            | "delete_itl"
            | "ctl_update" => self.lifecycle_step(s, at)?,
            "https_service" => self.https_service(s, at)?,
            "tftp_https" => self.tftp_https(s, at)?,
            "ctl_set_cluster" => {
                self.only(action, &s.present(), &["cluster", "mode"])?;
                let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
                let m = s.mode.as_ref().ok_or_else(|| {
                    self.cx.err(
                        aspan,
                        "ctl_set_cluster needs `mode` (\"mixed-mode\" or \"non-secure-mode\")",
                    )
                })?;
                let mixed = match m.get_ref().as_str() {
                    "mixed-mode" => true,
                    "non-secure-mode" => false,
                    other => {
                        return Err(self.cx.err(
                            m.span(),
                            format!(
                                "mode {other:?}: expected \"mixed-mode\" or \"non-secure-mode\""
                            ),
                        ))
                    }
                };
                let op = Operator::CtlSetCluster { mixed };
                self.events.push((at, Event::Operator { cluster: c, op }));
            }
            a if imp::ACTIONS.contains(&a) => self.imp_step(s, at)?,
            other => {
                return Err(self.cx.err(aspan, format!("unknown action {other:?}: expected bulk_export, bulk_consolidate, bulk_import, upload_certificate, set_option150, reset_phones, restart_service, set_enterprise_parameter, regenerate_certificate, itl_reset, ctl_update, drs_backup, drs_restore, delete_itl, capf_operation, capf_set_keepalive, capf_offline_sign, capf_cli, certificate_monitor, https_service, tftp_https, ctl_set_cluster, {}", imp::ACTIONS.join(", "))));
            }
        }
        Ok(())
    }

    /// A fleet's name and its device names, sorted.
    fn fleet_devices(&self, f: &S<String>) -> R<(String, Vec<String>)> {
        let f = self.fleet(f)?;
        let mut devices: Vec<String> = (0..f.count).map(|i| device_name(f, i)).collect();
        devices.sort();
        Ok((f.name.clone(), devices))
    }

    /// `capf_operation`: a Bulk Administration "Update Phones" of CAPF settings on the fleets'
    /// devices, with Apply Config (the phones reset) unless `apply_config = false`.
    fn capf_operation(&mut self, s: &raw::Step, at: u64) -> R<()> {
        let aspan = s.action.span();
        self.only(
            "capf_operation",
            &s.present(),
            &[
                "cluster",
                "fleet",
                "operation",
                "auth_mode",
                "auth_string",
                "key_order",
                "rsa_key_size",
                "ec_key_size",
                "completes_by",
                "security_profile",
                "apply_config",
                "over",
                "lsc_expires_before",
            ],
        )?;
        let c = self.cluster(&s.cluster, aspan.clone())?.name.clone();
        let need = |v: &Option<S<String>>, what: &str| -> R<S<String>> {
            v.clone().ok_or_else(|| {
                self.cx
                    .err(aspan.clone(), format!("capf_operation needs `{what}`"))
            })
        };
        let op = need(&s.operation, "operation")?;
        let operation = match op.get_ref().as_str() {
            "install" | "upgrade" | "install/upgrade" => CertOperation::InstallUpgrade,
            "delete" => CertOperation::Delete,
            "troubleshoot" => CertOperation::Troubleshoot,
            "none" => CertOperation::None,
            other => {
                return Err(self.cx.err(
                    op.span(),
                    format!("operation {other:?}: expected install, delete, troubleshoot or none"),
                ))
            }
        };
        let mode = need(&s.auth_mode, "auth_mode")?;
        let mut unique = false;
        let auth = match mode.get_ref().as_str() {
            "null_string" => CapfAuth::NullString,
            "existing_lsc" => CapfAuth::ExistingCert(CertPrecedence::Lsc),
            "existing_mic" => CapfAuth::ExistingCert(CertPrecedence::Mic),
            "auth_string" => {
                let a = need(&s.auth_string, "auth_string")?;
                if a.get_ref() == "unique" {
                    unique = true;
                    CapfAuth::AuthString(String::new())
                } else {
                    check_auth_string(a.get_ref()).map_err(|e| self.cx.err(a.span(), e.to_string()))?;
                    CapfAuth::AuthString(a.get_ref().clone())
                }
            }
            other => return Err(self.cx.err(mode.span(), format!("auth_mode {other:?}: expected auth_string, null_string, existing_lsc or existing_mic"))),
        };
        if let (Some(a), false) = (&s.auth_string, matches!(auth, CapfAuth::AuthString(_))) {
            return Err(self.cx.err(
                a.span(),
                "auth_string goes with auth_mode = \"auth_string\"",
            ));
        }
        let key_order = match s
            .key_order
            .as_ref()
            .map(|k| (k.get_ref().as_str(), k.span()))
        {
            None | Some(("rsa_only", _)) => KeyOrder::RsaOnly,
            Some(("ec_only", _)) => KeyOrder::EcOnly,
            Some(("ec_preferred", _)) => KeyOrder::EcPreferredRsaBackup,
            Some((other, span)) => {
                return Err(self.cx.err(
                    span,
                    format!("key_order {other:?}: expected rsa_only, ec_only or ec_preferred"),
                ))
            }
        };
        let rsa_bits = match &s.rsa_key_size {
            None => 2048,
            Some(v) if [512, 1024, 2048, 3072, 4096].contains(v.get_ref()) => *v.get_ref() as u16,
            Some(v) => {
                return Err(self.cx.err(
                    v.span(),
                    "rsa_key_size must be 512, 1024, 2048, 3072 or 4096",
                ))
            }
        };
        let ec_curve = match s.ec_key_size.as_ref().map(|v| (*v.get_ref(), v.span())) {
            None | Some((256, _)) => Curve::P256,
            Some((384, _)) => Curve::P384,
            Some((521, _)) => Curve::P521,
            Some((_, span)) => {
                return Err(self.cx.err(span, "ec_key_size must be 256, 384 or 521"))
            }
        };
        let completes_by = s.completes_by.as_ref().map(|d| self.cx.ms(d)).transpose()?;
        let security_mode = s
            .security_profile
            .as_ref()
            .map(|p| super::compile::security_mode(self.cx, p))
            .transpose()?;
        // Without `fleet`: the fleets whose phones start on this cluster (its database).
        let home = self.clusters.iter().position(|x| x.name == c);
        let fleets: Vec<&FleetDef> = match &s.fleet {
            Some(f) => vec![self.fleet(f)?],
            None => self
                .fleets
                .iter()
                .filter(|f| Some(f.cluster) == home)
                .collect(),
        };
        let devices = fleets
            .iter()
            .flat_map(|f| {
                (0..f.count).map(move |i| (device_name(f, i), f.model.clone(), f.capf.capf_v3))
            })
            .collect();
        let update = CapfUpdate {
            devices,
            operation,
            auth,
            unique_auth_strings: unique,
            key_order,
            rsa_bits,
            ec_curve,
            completes_by: completes_by.map(|ms| self.cx.epoch.plus_s((ms / 1000) as i64)),
            security_mode,
            lsc_expires_before: s
                .lsc_expires_before
                .as_ref()
                .map(|d| self.cx.ms(d))
                .transpose()?
                .map(|ms| self.cx.epoch.plus_s((ms / 1000) as i64)),
        };
        self.events.push((
            at,
            Event::Operator {
                cluster: c,
                op: Operator::CapfUpdate(Arc::new(update)),
            },
        ));
        let over_ms = s
            .over
            .as_ref()
            .map(|o| self.cx.ms(o))
            .transpose()?
            .unwrap_or(0);
        if s.apply_config.as_ref().is_none_or(|a| *a.get_ref()) {
            for f in fleets {
                self.events.push((
                    at,
                    Event::ResetPhones {
                        first: f.first,
                        count: f.count,
                        over_ms,
                    },
                ));
            }
        } else if let Some(o) = &s.over {
            return Err(self.cx.err(
                o.span(),
                "`over` spreads Apply Config's resets; it needs apply_config = true",
            ));
        }
        Ok(())
    }

    fn selected_fleets(&self, fleet: &Option<S<String>>) -> R<Vec<(u32, u32)>> {
        Ok(match fleet {
            Some(f) => {
                let f = self.fleet(f)?;
                vec![(f.first, f.count)]
            }
            None => self.fleets.iter().map(|f| (f.first, f.count)).collect(),
        })
    }

    fn window(&self, f: &raw::Fault) -> R<(u64, u64)> {
        let kspan = f.kind.span();
        let at =
            f.at.as_ref()
                .ok_or_else(|| self.cx.err(kspan.clone(), "this fault needs `at`"))?;
        let lasts = f
            .lasts
            .as_ref()
            .ok_or_else(|| self.cx.err(kspan, "this fault needs `for`"))?;
        let from = self.cx.ms(at)?;
        Ok((from, from + self.cx.ms(lasts)?))
    }

    fn between(&self, f: &raw::Fault) -> R<Option<(Group, Group)>> {
        let Some(b) = &f.between else { return Ok(None) };
        let [x, y] = &b.get_ref()[..] else {
            return Err(self.cx.err(
                b.span(),
                "between must name exactly two clusters, fleets or nodes",
            ));
        };
        Ok(Some((self.group(x, b.span())?, self.group(y, b.span())?)))
    }

    pub(super) fn fault(&mut self, f: &raw::Fault) -> R<()> {
        let kind = f.kind.get_ref().as_str();
        let kspan = f.kind.span();
        match kind {
            "service_down" | "node_crash" => {
                if kind == "node_crash" {
                    self.only(kind, &f.present(), &["cluster", "node", "at", "for"])?;
                } else {
                    self.only(
                        kind,
                        &f.present(),
                        &["cluster", "node", "service", "at", "for"],
                    )?;
                }
                let (from, until) = self.window(f)?;
                let c = self.cluster(&f.cluster, kspan.clone())?;
                let node = f
                    .node
                    .as_ref()
                    .ok_or_else(|| self.cx.err(kspan.clone(), "this fault needs `node`"))?;
                let node = self.node_of(c, node)?;
                let services: Vec<Service> = match &f.service {
                    Some(s) => vec![service(self.cx, s)?],
                    None if kind == "node_crash" => node.services.iter().copied().collect(),
                    None => return Err(self.cx.err(kspan, "service_down needs `service`")),
                };
                for svc in services {
                    self.events.push((
                        from,
                        Event::Service {
                            host: node.name.clone(),
                            service: svc,
                            action: ServiceAction::Stop,
                        },
                    ));
                    self.events.push((
                        until,
                        Event::Service {
                            host: node.name.clone(),
                            service: svc,
                            action: ServiceAction::Start,
                        },
                    ));
                }
            }
            "partition" | "loss" | "delay" | "duplicate" => {
                let (from, until) = self.window(f)?;
                let effect = match kind {
                    "partition" => {
                        self.only(kind, &f.present(), &["between", "at", "for"])?;
                        if f.between.is_none() {
                            return Err(self.cx.err(kspan, "partition needs `between`"));
                        }
                        LinkEffect::Partition
                    }
                    "loss" | "duplicate" => {
                        self.only(kind, &f.present(), &["between", "at", "for", "rate"])?;
                        let r = f.rate.as_ref().ok_or_else(|| {
                            self.cx.err(kspan.clone(), format!("{kind} needs `rate`"))
                        })?;
                        if !(0.0..=1.0).contains(r.get_ref()) {
                            return Err(self.cx.err(r.span(), "rate must be between 0.0 and 1.0"));
                        }
                        if kind == "loss" {
                            LinkEffect::Loss(*r.get_ref())
                        } else {
                            LinkEffect::Duplicate(*r.get_ref())
                        }
                    }
                    _ => {
                        self.only(
                            kind,
                            &f.present(),
                            &["between", "at", "for", "ms", "jitter_ms"],
                        )?;
                        let ms =
                            f.ms.as_ref()
                                .ok_or_else(|| self.cx.err(kspan.clone(), "delay needs `ms`"))?;
                        let jitter = f.jitter_ms.as_ref().map(|j| *j.get_ref()).unwrap_or(0);
                        if *ms.get_ref() < 0 || jitter < 0 {
                            return Err(self.cx.err(ms.span(), "delays cannot be negative"));
                        }
                        LinkEffect::Delay {
                            ms: *ms.get_ref() as u64,
                            jitter_ms: jitter as u64,
                        }
                    }
                };
                self.rules.push(LinkRule {
                    from_ms: from,
                    until_ms: until,
                    between: self.between(f)?,
                    effect,
                });
            }
            "clock_skew" => {
                self.only(kind, &f.present(), &["host", "by", "at"])?;
                let host = f
                    .host
                    .as_ref()
                    .ok_or_else(|| self.cx.err(kspan.clone(), "clock_skew needs `host`"))?;
                let by =
                    f.by.as_ref()
                        .ok_or_else(|| self.cx.err(kspan, "clock_skew needs `by`"))?;
                let group = self.group(host.get_ref(), host.span())?;
                let at =
                    f.at.as_ref()
                        .map(|a| self.cx.ms(a))
                        .transpose()?
                        .unwrap_or(0);
                self.events.push((
                    at,
                    Event::Skew {
                        group,
                        secs: self.cx.signed_ms(by)? / 1000,
                    },
                ));
            }
            "power_failure" => {
                self.only(kind, &f.present(), &["fleet", "at", "for"])?;
                let (from, until) = self.window(f)?;
                let fleets = self.selected_fleets(&f.fleet)?;
                for (first, count) in fleets {
                    self.events.push((from, Event::PowerOff { first, count }));
                    self.events.push((
                        until,
                        Event::ResetPhones {
                            first,
                            count,
                            over_ms: 0,
                        },
                    ));
                }
            }
            "firewall_idle_timeout" => {
                self.only(kind, &f.present(), &["between", "at", "for", "timeout"])?;
                let (from, until) = self.window(f)?;
                let t = f
                    .timeout
                    .as_ref()
                    .ok_or_else(|| self.cx.err(kspan, "firewall_idle_timeout needs `timeout`"))?;
                let ms = self.cx.ms(t)?;
                if ms == 0 {
                    return Err(self.cx.err(t.span(), "timeout must be longer than 0"));
                }
                self.rules.push(LinkRule {
                    from_ms: from,
                    until_ms: until,
                    between: self.between(f)?,
                    effect: LinkEffect::IdleTimeout { ms },
                });
            }
            other => {
                return Err(self.cx.err(kspan, format!("unknown fault kind {other:?}: expected service_down, node_crash, partition, loss, delay, duplicate, clock_skew, power_failure or firewall_idle_timeout")));
            }
        }
        Ok(())
    }

    fn count(
        &self,
        e: &raw::Expect,
        scale: &dyn Fn(i64) -> u64,
        required: bool,
    ) -> R<Option<Count>> {
        let given: Vec<(&S<i64>, MakeCount)> = [
            (&e.count, Count::Exactly as MakeCount),
            (&e.at_least, Count::AtLeast),
            (&e.at_most, Count::AtMost),
        ]
        .into_iter()
        .filter_map(|(v, f)| v.as_ref().map(|v| (v, f)))
        .collect();
        match given[..] {
            [] if required => Err(self
                .cx
                .err(e.kind.span(), "give one of `count`, `at_least`, `at_most`")),
            [] => Ok(None),
            [(v, f)] if *v.get_ref() >= 0 => Ok(Some(f(scale(*v.get_ref())))),
            [(v, _)] => Err(self.cx.err(v.span(), "counts cannot be negative")),
            [_, (v, _), ..] => Err(self
                .cx
                .err(v.span(), "give only one of `count`, `at_least`, `at_most`")),
        }
    }

    pub(super) fn expect(&self, e: &raw::Expect, scale: &dyn Fn(i64) -> u64) -> R<Expectation> {
        let kind = e.kind.get_ref().as_str();
        match kind {
            "phones" => {
                self.only(kind, &e.present(), &["by", "state", "cluster", "fleet", "count", "at_least", "at_most"])?;
                let by = e.by.as_ref().ok_or_else(|| self.cx.err(e.kind.span(), "phones needs `by`"))?;
                let state = e.state.as_ref().ok_or_else(|| self.cx.err(e.kind.span(), "phones needs `state`"))?;
                if !status::ALL.contains(&state.get_ref().as_str()) {
                    return Err(self.cx.err(state.span(), format!("unknown phone state {:?}: expected one of {}", state.get_ref(), status::ALL.join(", "))));
                }
                let cluster = match &e.cluster {
                    Some(c) => Some(self.cluster(&e.cluster, c.span())?.name.clone()),
                    None => None,
                };
                let fleet = e.fleet.as_ref().map(|f| self.fleet_devices(f)).transpose()?;
                let count = self.count(e, scale, true)?.expect("required");
                Ok(Expectation::Phones { by_ms: self.cx.ms(by)?, state: state.get_ref().clone(), cluster, fleet, count })
            }
            "observation" => {
                self.only(kind, &e.present(), &["by", "what", "detail", "count", "at_least", "at_most"])?;
                let what = e.what.as_ref().ok_or_else(|| self.cx.err(e.kind.span(), "observation needs `what`"))?;
                let by_ms = e.by.as_ref().map(|b| self.cx.ms(b)).transpose()?;
                let detail = e.detail.as_ref().map(|d| d.get_ref().clone());
                let what = cucmsim_core::machine::Kind::from_name(what.get_ref()).ok_or_else(|| {
                    let near = crate::lang::suggest(what.get_ref(), cucmsim_core::machine::Kind::ALL.iter().map(|k| k.name()));
                    self.cx.err(what.span(), format!("unknown observation `{}`{near}", what.get_ref()))
                })?;
                Ok(Expectation::Observation { by_ms, what, detail, happens: e.happens.unwrap_or(true), count: self.count(e, scale, false)? })
            }
            "capf_status" => {
                self.only(kind, &e.present(), &["by", "status", "fleet", "count", "at_least", "at_most"])?;
                let by = e.by.as_ref().ok_or_else(|| self.cx.err(e.kind.span(), "capf_status needs `by`"))?;
                let status = e.status.as_ref().ok_or_else(|| self.cx.err(e.kind.span(), "capf_status needs `status`"))?;
                let known = ["Upgrade Success", "Install/Upgrade failed", "Delete Success", "Delete failed", "Troubleshoot Success", "Troubleshoot failed"];
                if !known.contains(&status.get_ref().as_str()) {
                    return Err(self.cx.err(status.span(), format!("unknown CAPF status {:?}: expected one of {}", status.get_ref(), known.join(", "))));
                }
                let fleet = e.fleet.as_ref().map(|f| self.fleet_devices(f)).transpose()?;
                let count = self.count(e, scale, true)?.expect("required");
                Ok(Expectation::CapfStatus { by_ms: self.cx.ms(by)?, status: status.get_ref().clone(), fleet, count })
            }
            "no_invariant_violation" => {
                self.only(kind, &e.present(), &[])?;
                Ok(Expectation::NoInvariantViolation)
            }
            other => Err(self.cx.err(e.kind.span(), format!("unknown expectation kind {other:?}: expected phones, observation, capf_status or no_invariant_violation"))),
        }
    }
}
