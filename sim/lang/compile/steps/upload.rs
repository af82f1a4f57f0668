//! The `upload_certificate` step: a certificate uploaded to a trust store of a cluster — a
//! node's identity certificate, a CA's root or issuing certificate, or the manufacturing CA's.
//!
//! ```text
//!  [[step]] action = "upload_certificate" cluster, store,
//!           certificate = "<cluster>/<node>/<type>" ─► Event::Upload
//!                       | "ca/<name>/root|issuing"  ─► Event::UploadCa { ca: name }
//!                       | "mic/root|issuing"        ─► Event::UploadCa { ca: MIC_CA }
//! ```

use crate::engine::spec::MIC_CA;
use crate::engine::Event;
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::Timeline;
use crate::lang::raw::{self, S};
use cucmsim_core::pki::identity::CertType;
use cucmsim_core::pki::StoreName;

/// `upload_certificate`: a certificate uploaded to a trust store of `cluster`.
pub(super) fn certificate(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "store", "certificate"])?;
    let c = t.cluster(&s.cluster, aspan.clone())?.name.clone();
    let store = s
        .store
        .as_ref()
        .ok_or_else(|| t.cx.err(aspan.clone(), "upload_certificate needs `store`"))?;
    let store: StoreName = store
        .get_ref()
        .parse()
        .map_err(|e: String| t.cx.err(store.span(), e))?;
    let cert = s.certificate.as_ref().ok_or_else(|| {
        t.cx.err(aspan.clone(), "upload_certificate needs `certificate`")
    })?;
    let event = upload(t, cert, c, store)?;
    t.events.push((at, event));
    Ok(())
}

/// The upload of `cert` (one of the three forms) into `store` of `cluster`.
fn upload(t: &Timeline, cert: &S<String>, cluster: String, store: StoreName) -> R<Event> {
    let parts: Vec<&str> = cert.get_ref().split('/').collect();
    if let ["mic", which] = parts[..] {
        if !["root", "issuing"].contains(&which) {
            return Err(t.cx.err(
                cert.span(),
                "the manufacturing CA's certificate is \"mic/root\" or \"mic/issuing\"",
            ));
        }
        return Ok(Event::UploadCa {
            cluster,
            store,
            ca: MIC_CA.to_string(),
            which: which.to_string(),
        });
    }
    if let ["ca", name, which] = parts[..] {
        if !t.cas.iter().any(|c| c.name == name) {
            return Err(t.cx.err(cert.span(), format!("no [[ca]] named {name:?}")));
        }
        if !["root", "issuing"].contains(&which) {
            return Err(t.cx.err(
                cert.span(),
                "a CA's certificate is \"ca/<name>/root\" or \"ca/<name>/issuing\"",
            ));
        }
        return Ok(Event::UploadCa {
            cluster,
            store,
            ca: name.to_string(),
            which: which.to_string(),
        });
    }
    let [cl, node, ty] = parts[..] else {
        return Err(t.cx.err(
            cert.span(),
            "certificate must be \"<cluster>/<node>/<type>\", e.g. \"dst/dst-pub/CallManager\"",
        ));
    };
    let owner = t
        .clusters
        .iter()
        .find(|x| x.name == cl)
        .ok_or_else(|| t.cx.err(cert.span(), format!("no cluster named {cl:?}")))?;
    if !owner.nodes.iter().any(|n| n.name == node) {
        return Err(t
            .cx
            .err(cert.span(), format!("no node {node:?} in cluster {cl:?}")));
    }
    let cert_type: CertType = ty.parse().map_err(|e: String| t.cx.err(cert.span(), e))?;
    Ok(Event::Upload {
        cluster,
        store,
        owner: cl.to_string(),
        node: node.to_string(),
        cert_type,
    })
}
