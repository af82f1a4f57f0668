//! The multi-server (SAN) certificate steps of IM&P and CUCM: `multi_san_csr`,
//! `upload_ca_certificate`, `upload_multi_san` (with the defects CSCur97909 and CSCup28852)
//! and `multi_san_restart_services`. Each checks its keys and names and points at the
//! offending value.
//!
//! ```text
//!  [[step]] action = "multi_san_csr" cluster, type, mode? ─► Operator::Imp(ImpOp::MultiSanCsr)
//!           action = "upload_ca_certificate"             ─► ImpOp::UploadCaCertificate
//!           action = "upload_multi_san" mode?, period?   ─► ImpOp::UploadMultiSan
//!           action = "multi_san_restart_services" node   ─► ImpOp::MultiSanRestart
//! ```

use crate::engine::{ClusterDef, Event};
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::Timeline;
use crate::lang::raw;
use cucmsim_core::machine::publisher::imp::ImpOp;
use cucmsim_core::machine::publisher::multisan::CSCUP28852_PERIOD_MS;
use cucmsim_core::machine::Operator;
use cucmsim_core::pki::identity::CertType;

/// Compiles one multi-server step at `at` ms.
pub(super) fn step(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let c = t.cluster(&s.cluster, s.action.span())?;
    let op = match s.action.get_ref().as_str() {
        "multi_san_csr" => csr(t, s)?,
        "upload_ca_certificate" => upload_ca(t, s)?,
        "upload_multi_san" => upload(t, s)?,
        _ => restart(t, c, s)?,
    };
    t.events.push((
        at,
        Event::Operator {
            cluster: c.name.clone(),
            op: Operator::Imp(op),
        },
    ));
    Ok(())
}

/// `multi_san_csr`: a multi-server (SAN) CSR generated.
fn csr(t: &Timeline, s: &raw::Step) -> R<ImpOp> {
    let action = s.action.get_ref().as_str();
    t.only(action, &s.present(), &["cluster", "type", "mode"])?;
    let cert_type = multi_san_type(t, s, false)?;
    let cscus47235 = defect_mode(t, s, &["CSCus47235"])?.is_some();
    Ok(ImpOp::MultiSanCsr {
        cert_type,
        cscus47235,
    })
}

/// `upload_ca_certificate`: the CA's root or intermediate uploaded for the multi-server certificate.
fn upload_ca(t: &Timeline, s: &raw::Step) -> R<ImpOp> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "certificate", "type"])?;
    let cert_type = multi_san_type(t, s, true)?;
    let c = s.certificate.as_ref().ok_or_else(|| {
        t.cx.err(
            aspan.clone(),
            "upload_ca_certificate needs `certificate` (\"root\" or \"intermediate\")",
        )
    })?;
    let intermediate = match c.get_ref().as_str() {
        "root" => false,
        "intermediate" => true,
        other => {
            return Err(t.cx.err(
                c.span(),
                format!("certificate must be \"root\" or \"intermediate\", not {other:?}"),
            ))
        }
    };
    Ok(ImpOp::UploadCaCertificate {
        cert_type,
        intermediate,
    })
}

/// `upload_multi_san`: the CA-signed multi-server certificate uploaded (CSCur97909, CSCup28852).
fn upload(t: &Timeline, s: &raw::Step) -> R<ImpOp> {
    let action = s.action.get_ref().as_str();
    t.only(action, &s.present(), &["cluster", "mode", "type", "period"])?;
    let cert_type = multi_san_type(t, s, true)?;
    let mode = defect_mode(t, s, &["CSCur97909", "CSCup28852"])?;
    let cscup28852 = mode == Some("CSCup28852");
    if let (true, Some(m)) = (cscup28852 && cert_type != CertType::CallManager, &s.mode) {
        return Err(t.cx.err(
                m.span(),
                "CSCup28852 is a defect of the CallManager multi-server certificate: use it with type = \"callmanager\"",
            ));
    }
    let period_ms = match &s.period {
        Some(p) if !cscup28852 => return Err(t.cx.err(
            p.span(),
            "`period` is the period of CSCup28852's reset loop: give it with mode = \"CSCup28852\"",
        )),
        Some(p) => {
            let ms = t.cx.ms(p)?;
            if ms == 0 {
                return Err(t.cx.err(p.span(), "`period` must be positive"));
            }
            crate::lang::compile::limits::period(t.cx, p, ms)?;
            ms
        }
        None => CSCUP28852_PERIOD_MS,
    };
    Ok(ImpOp::UploadMultiSan {
        cert_type,
        cscur97909: mode == Some("CSCur97909"),
        cscup28852_ms: cscup28852.then_some(period_ms),
    })
}

/// `multi_san_restart_services`: the services of one CUCM node restarted on the new certificate.
fn restart<'a>(t: &Timeline<'a>, c: &'a ClusterDef, s: &raw::Step) -> R<ImpOp> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "node"])?;
    let n = s.node.as_ref().ok_or_else(|| {
        t.cx.err(aspan.clone(), "multi_san_restart_services needs `node`")
    })?;
    let node = t.node_of(c, n)?;
    if node.imp {
        return Err(t.cx.err(
                n.span(),
                format!(
                    "{:?} is an IM&P node: the CallManager multi-server certificate is on CUCM nodes only",
                    node.name
                ),
            ));
    }
    Ok(ImpOp::MultiSanRestart {
        node: node.name.clone(),
    })
}

/// The multi-server `type`: "tomcat" or "callmanager" (defaulting to tomcat when
/// `optional`).
fn multi_san_type(t: &Timeline, s: &raw::Step, optional: bool) -> R<CertType> {
    let action = s.action.get_ref();
    let Some(ty) = s.cert_type.as_ref() else {
        if optional {
            return Ok(CertType::Tomcat);
        }
        return Err(t.cx.err(
            s.action.span(),
            format!("{action} needs `type` (\"tomcat\" or \"callmanager\")"),
        ));
    };
    match ty.get_ref().as_str() {
        "tomcat" => Ok(CertType::Tomcat),
        "callmanager" => Ok(CertType::CallManager),
        other => Err(t.cx.err(
            ty.span(),
            format!("unknown multi-server type {other:?}: expected \"tomcat\" or \"callmanager\""),
        )),
    }
}

/// The step's `mode`, one of the defects `known` (or none).
fn defect_mode(t: &Timeline, s: &raw::Step, known: &[&'static str]) -> R<Option<&'static str>> {
    let Some(m) = &s.mode else {
        return Ok(None);
    };
    known
        .iter()
        .find(|k| **k == m.get_ref().as_str())
        .map(|k| Some(*k))
        .ok_or_else(|| {
            t.cx.err(
                m.span(),
                format!(
                    "mode {:?}: the known defects of {} are {}",
                    m.get_ref(),
                    s.action.get_ref(),
                    known
                        .iter()
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}
