//! The certificate-lifecycle steps of the scenario language — `regenerate_certificate`,
//! `fips_enable`,
//! `itl_reset`, `ctl_update`, `drs_backup`, `drs_restore`, `delete_itl`, `ctl_set_cluster`.
//! Each checks its keys and names and points at the offending value.
//!
//! ```text
//!  [[step]] action = "regenerate_certificate" ─► Event::Operator{Operator::Regenerate}
//!           action = "fips_enable"            ─► Event::Operator{Operator::FipsEnable}
//!           action = "itl_reset"              ─► Event::Operator{Operator::ItlReset}
//!           action = "ctl_update"             ─► Event::Operator{Operator::CtlUpdate}
//!           action = "drs_backup" / "drs_restore" ─► Event::Operator{DrsBackup / DrsRestore}
//!           action = "delete_itl"             ─► Event::EraseTrust per fleet
//!           action = "ctl_set_cluster"        ─► Event::Operator{Operator::CtlSetCluster}
//! ```

use crate::engine::Event;
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::Timeline;
use crate::lang::raw;
use cucmsim_core::machine::Operator;
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::KeyProfile;

/// The certificate types `regenerate_certificate` accepts, by scenario name.
const TYPES: [(&str, CertType); 6] = [
    ("callmanager", CertType::CallManager),
    ("tvs", CertType::Tvs),
    ("itlrecovery", CertType::ItlRecovery),
    ("tomcat", CertType::Tomcat),
    ("capf", CertType::Capf),
    ("ipsec", CertType::Ipsec),
];

/// Compiles one lifecycle step (but `ctl_set_cluster`) at `at` ms.
pub(super) fn step(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    let op = match action {
        "regenerate_certificate" => {
            t.only(action, &s.present(), &["cluster", "type", "node", "key"])?;
            regenerate(t, s)?
        }
        "fips_enable" => {
            t.only(action, &s.present(), &["cluster", "node"])?;
            let c = t.cluster(&s.cluster, aspan.clone())?;
            let node = match &s.node {
                None => None,
                Some(n) => Some(t.node_of(c, n)?.name.clone()),
            };
            Operator::FipsEnable { node }
        }
        "itl_reset" => {
            t.only(action, &s.present(), &["cluster", "mode"])?;
            let mode = s.mode.as_ref().ok_or_else(|| {
                t.cx.err(
                    aspan.clone(),
                    "itl_reset needs `mode` (\"localkey\" or \"remotekey\")",
                )
            })?;
            let remote = match mode.get_ref().as_str() {
                "localkey" => false,
                "remotekey" => true,
                other => {
                    return Err(t.cx.err(
                        mode.span(),
                        format!("mode must be \"localkey\" or \"remotekey\", not {other:?}"),
                    ))
                }
            };
            Operator::ItlReset { remote }
        }
        "drs_backup" | "drs_restore" | "ctl_update" => {
            t.only(action, &s.present(), &["cluster"])?;
            match action {
                "drs_backup" => Operator::DrsBackup,
                "drs_restore" => Operator::DrsRestore,
                _ => {
                    let c = t.cluster(&s.cluster, aspan.clone())?;
                    if !c.mixed_mode {
                        let span = s.cluster.as_ref().map_or(aspan.clone(), |c| c.span());
                        return Err(t.cx.err(
                            span,
                            format!(
                                "ctl_update needs a mixed-mode cluster; {:?} is non-secure",
                                c.name
                            ),
                        ));
                    }
                    Operator::CtlUpdate
                }
            }
        }
        _ => {
            // delete_itl
            t.only(action, &s.present(), &["fleet"])?;
            for (first, count) in t.selected_fleets(&s.fleet)? {
                t.events.push((at, Event::EraseTrust { first, count }));
            }
            return Ok(());
        }
    };
    let cluster = t.cluster(&s.cluster, aspan)?.name.clone();
    t.events.push((at, Event::Operator { cluster, op }));
    Ok(())
}

fn regenerate(t: &Timeline, s: &raw::Step) -> R<Operator> {
    let aspan = s.action.span();
    let c = t.cluster(&s.cluster, aspan.clone())?;
    let ty = s.cert_type.as_ref().ok_or_else(|| {
        t.cx.err(aspan.clone(), "regenerate_certificate needs `type`")
    })?;
    let names: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
    let cert_type = TYPES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(ty.get_ref()))
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            t.cx.err(
                ty.span(),
                format!(
                    "unknown certificate type {:?}: expected one of {}",
                    ty.get_ref(),
                    names.join(", ")
                ),
            )
        })?;
    let node = match &s.node {
        None => None,
        Some(n) => {
            let node = t.node_of(c, n)?;
            let publisher = &c.nodes[0].name;
            let only_pub = matches!(cert_type, CertType::ItlRecovery | CertType::Capf);
            if only_pub && &node.name != publisher {
                return Err(t.cx.err(
                    n.span(),
                    format!("{cert_type} exists only on the publisher ({publisher:?})"),
                ));
            }
            let cucm_only = matches!(cert_type, CertType::CallManager | CertType::Tvs);
            if cucm_only && node.imp {
                return Err(t.cx.err(
                    n.span(),
                    format!(
                        "{:?} is an IM&P node: it has no {cert_type} certificate",
                        node.name
                    ),
                ));
            }
            Some(node.name.clone())
        }
    };
    let key = match &s.key {
        None => None,
        Some(k) => {
            let p: KeyProfile = k
                .get_ref()
                .parse()
                .map_err(|e: String| t.cx.err(k.span(), e))?;
            if !cert_type.allows(p) {
                return Err(t.cx.err(
                    k.span(),
                    format!("{cert_type} certificates cannot use a {p} key"),
                ));
            }
            Some(p)
        }
    };
    Ok(Operator::Regenerate {
        cert_type,
        node,
        key,
    })
}

/// `ctl_set_cluster`: `utils ctl set-cluster mixed-mode` / `non-secure-mode`.
pub(super) fn ctl_set_cluster(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "mode"])?;
    let c = t.cluster(&s.cluster, aspan.clone())?.name.clone();
    let m = s.mode.as_ref().ok_or_else(|| {
        t.cx.err(
            aspan,
            "ctl_set_cluster needs `mode` (\"mixed-mode\" or \"non-secure-mode\")",
        )
    })?;
    let mixed = match m.get_ref().as_str() {
        "mixed-mode" => true,
        "non-secure-mode" => false,
        other => {
            return Err(t.cx.err(
                m.span(),
                format!("mode {other:?}: expected \"mixed-mode\" or \"non-secure-mode\""),
            ))
        }
    };
    let op = Operator::CtlSetCluster { mixed };
    t.events.push((at, Event::Operator { cluster: c, op }));
    Ok(())
}
