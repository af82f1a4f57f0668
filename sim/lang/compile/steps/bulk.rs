//! The Bulk Certificate Management steps: `bulk_export`, `bulk_consolidate`, `bulk_import`,
//! and the `defect` switch of the last two (CSCuy43181, F23). Each checks its keys and names
//! and points at the offending value.
//!
//! ```text
//!  [[step]] action = "bulk_export" cluster, types?     ─► Event::Operator{Operator::BulkExport}
//!           action = "bulk_export" cluster, nodes, types? ─► Event::Operator{Operator::BulkExportNodes}
//!           action = "sftp_remove" file, cluster?      ─► Event::Operator{Operator::SftpRemove}
//!           action = "bulk_consolidate" / "bulk_import" ─► Event::Operator{BulkConsolidate / BulkImport}
//!           action = "bulk_import", defect = "CSCuy43181" ─► Event::Operator{Operator::BulkImportDefect}
//! ```

use crate::engine::Event;
use crate::lang::compile::context::R;
use crate::lang::compile::timeline::Timeline;
use crate::lang::raw::{self, S};
use cucmsim_core::machine::Operator;
use cucmsim_core::pki::identity::CertType;

/// `bulk_export`: Bulk Certificate Management exports the cluster's certificates of `types`
/// (default all) to the SFTP server.
pub(super) fn export(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "types", "nodes"])?;
    let cluster = t.cluster(&s.cluster, aspan.clone())?;
    let c = cluster.name.clone();
    let nodes = match &s.nodes {
        None => None,
        Some(list) if list.get_ref().is_empty() => {
            return Err(t.cx.err(
                list.span(),
                "`nodes` must name at least one node (leave it out for every node)",
            ))
        }
        Some(list) => {
            let mut names = vec![];
            for n in list.get_ref() {
                if !cluster.nodes.iter().any(|x| &x.name == n) {
                    return Err(t
                        .cx
                        .err(list.span(), format!("no node {n:?} in cluster {c:?}")));
                }
                names.push(n.clone());
            }
            Some(names)
        }
    };
    let types = match &s.types {
        None => vec!["all".to_string()],
        Some(t) => t.get_ref().clone(),
    };
    let mut out = vec![];
    for ty in &types {
        let span = s.types.as_ref().map_or(aspan.clone(), |t| t.span());
        match ty.to_ascii_lowercase().as_str() {
            "all" => out.extend([CertType::Tomcat, CertType::CallManager, CertType::Capf, CertType::ItlRecovery]),
            "tomcat" => out.push(CertType::Tomcat),
            "callmanager" | "tftp" => out.push(CertType::CallManager),
            "capf" => out.push(CertType::Capf),
            "itlrecovery" => out.push(CertType::ItlRecovery),
            other => return Err(t.cx.err(span, format!("unknown certificate type {other:?}: expected all, tomcat, callmanager, capf or itlrecovery"))),
        }
    }
    let op = match nodes {
        None => Operator::BulkExport { types: out },
        Some(nodes) => Operator::BulkExportNodes { types: out, nodes },
    };
    t.events.push((at, Event::Operator { cluster: c, op }));
    Ok(())
}

/// `sftp_remove`: the operator deletes `file` from the shared SFTP directory (through the
/// publisher of `cluster`, default the first cluster), e.g. one node's export before an import.
pub(super) fn sftp_remove(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster", "file"])?;
    let file = s.file.as_ref().ok_or_else(|| {
        t.cx.err(
            aspan.clone(),
            "sftp_remove needs `file` (e.g. \"src-pub_tomcat.pkcs12\")",
        )
    })?;
    let name = file.get_ref();
    if name.is_empty() || name.contains('/') || name.contains('\\') {
        return Err(t.cx.err(
            file.span(),
            "`file` is a file name in the SFTP directory, without a path",
        ));
    }
    let c = match &s.cluster {
        Some(_) => t.cluster(&s.cluster, aspan)?.name.clone(),
        None => t
            .clusters
            .first()
            .ok_or_else(|| t.cx.err(aspan, "sftp_remove needs a [[cluster]]"))?
            .name
            .clone(),
    };
    let op = Operator::SftpRemove { name: name.clone() };
    t.events.push((at, Event::Operator { cluster: c, op }));
    Ok(())
}

/// `bulk_consolidate` / `bulk_import` (or, with `defect`, the defect's failure).
pub(super) fn consolidate_or_import(t: &mut Timeline, s: &raw::Step, at: u64) -> R<()> {
    let action = s.action.get_ref().as_str();
    let aspan = s.action.span();
    t.only(action, &s.present(), &["cluster"])?;
    let c = t.cluster(&s.cluster, aspan)?.name.clone();
    if let Some(d) = &s.defect {
        let op = defect(t, d)?;
        t.events.push((at, Event::Operator { cluster: c, op }));
        return Ok(());
    }
    let op = if action == "bulk_import" {
        Operator::BulkImport
    } else {
        Operator::BulkConsolidate
    };
    t.events.push((at, Event::Operator { cluster: c, op }));
    Ok(())
}

/// `defect = "CSCuy43181"` on `bulk_import` / `bulk_consolidate`: the bulk
/// consolidate/import fails when migrating from 8.x/9.x to 10.5.2.13900 or newer [C S5],
/// so the scenario must hold such a pair of clusters. [I] The build number is not
/// modelled: 10.5(2) and newer count as affected.
fn defect(t: &Timeline, d: &S<String>) -> R<Operator> {
    match d.get_ref().to_ascii_uppercase().as_str() {
        "CSCUY43181" => {
            let old = t.clusters.iter().any(|c| matches!(c.version.major, 8 | 9));
            let new = t
                .clusters
                .iter()
                .any(|c| (c.version.major, c.version.minor, c.version.su) >= (10, 5, 2));
            if !(old && new) {
                return Err(t.cx.err(
                    d.span(),
                    "CSCuy43181 affects migrations from 8.x/9.x to 10.5(2) or newer: the scenario needs a cluster of each",
                ));
            }
            Ok(Operator::BulkImportDefect {
                bug: "CSCuy43181".into(),
            })
        }
        _ => Err(t.cx.err(
            d.span(),
            format!("unknown defect {:?}: expected \"CSCuy43181\"", d.get_ref()),
        )),
    }
}
