//! The scenario steps of the catalogue's HTTPS and Bulk Certificate Management entries:
//! `https_service` (reference §2.3 item 3, F17–F19) and the `defect` switch of
//! `bulk_import` / `bulk_consolidate` (CSCuy43181, F23). Each checks its keys and names and
//! points at the offending value.
//!
//! ```text
//!  [[step]] action = "https_service" cluster, node?, fleet? ─► Event::Operator{Operator::HttpsService} per fleet
//!           action = "tftp_https" cluster, node?, fleet?, plain_fallback? ─► Event::Operator{Operator::TftpHttps} per fleet
//!           action = "bulk_import", defect = "CSCuy43181"   ─► Event::Operator{Operator::BulkImportDefect}
//! ```

use super::super::compile::R;
use super::super::raw::{self, S};
use super::World;
use crate::engine::Event;
use cucmsim_core::machine::Operator;

impl World<'_> {
    /// `https_service`: the phones of `fleet` (default: every fleet) open an HTTPS service
    /// served by the Tomcat of `cluster`'s `node` (default: its publisher).
    pub(super) fn https_service(&mut self, s: &raw::Step, at: u64) -> R<()> {
        let aspan = s.action.span();
        self.only("https_service", &s.present(), &["cluster", "node", "fleet"])?;
        let c = self.cluster(&s.cluster, aspan)?;
        let node = match &s.node {
            Some(n) => Some(self.node_of(c, n)?.name.clone()),
            None => None,
        };
        let cluster = c.name.clone();
        for (first, count) in self.selected_fleets(&s.fleet)? {
            let op = Operator::HttpsService {
                node: node.clone(),
                first,
                count,
            };
            self.events.push((
                at,
                Event::Operator {
                    cluster: cluster.clone(),
                    op,
                },
            ));
        }
        Ok(())
    }

    /// `tftp_https` (F29): the registered phones of `fleet` (default: every fleet) download
    /// their config over HTTPS (6971) from the TFTP service of `cluster`'s `node` (default:
    /// its first TFTP node); `plain_fallback = true` falls back to 6970/TFTP on a failure.
    pub(super) fn tftp_https(&mut self, s: &raw::Step, at: u64) -> R<()> {
        let aspan = s.action.span();
        self.only(
            "tftp_https",
            &s.present(),
            &["cluster", "node", "fleet", "plain_fallback"],
        )?;
        let c = self.cluster(&s.cluster, aspan)?;
        let node = match &s.node {
            Some(n) => {
                let node = self.node_of(c, n)?;
                if !node.services.contains(&crate::engine::Service::Tftp) {
                    return Err(self
                        .cx
                        .err(n.span(), format!("{:?} runs no TFTP service", n.get_ref())));
                }
                Some(node.name.clone())
            }
            None => None,
        };
        let plain_fallback = s.plain_fallback.as_ref().is_some_and(|b| *b.get_ref());
        let cluster = c.name.clone();
        for (first, count) in self.selected_fleets(&s.fleet)? {
            let op = Operator::TftpHttps {
                node: node.clone(),
                first,
                count,
                plain_fallback,
            };
            self.events.push((
                at,
                Event::Operator {
                    cluster: cluster.clone(),
                    op,
                },
            ));
        }
        Ok(())
    }

    /// `defect = "CSCuy43181"` on `bulk_import` / `bulk_consolidate`: the bulk
    /// consolidate/import fails when migrating from 8.x/9.x to 10.5.2.13900 or newer [C S5],
    /// so the scenario must hold such a pair of clusters. [I] The build number is not
    /// modelled: 10.5(2) and newer count as affected.
    pub(super) fn bulk_defect(&self, d: &S<String>) -> R<Operator> {
        match d.get_ref().to_ascii_uppercase().as_str() {
            "CSCUY43181" => {
                let old = self
                    .clusters
                    .iter()
                    .any(|c| matches!(c.version.major, 8 | 9));
                let new = self
                    .clusters
                    .iter()
                    .any(|c| (c.version.major, c.version.minor, c.version.su) >= (10, 5, 2));
                if !(old && new) {
                    return Err(self.cx.err(
                        d.span(),
                        "CSCuy43181 affects migrations from 8.x/9.x to 10.5(2) or newer: the scenario needs a cluster of each",
                    ));
                }
                Ok(Operator::BulkImportDefect {
                    bug: "CSCuy43181".into(),
                })
            }
            _ => Err(self.cx.err(
                d.span(),
                format!("unknown defect {:?}: expected \"CSCuy43181\"", d.get_ref()),
            )),
        }
    }
}
