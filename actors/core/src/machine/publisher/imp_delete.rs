//! Deleting trust certificates on one node (seed 002, "Delete trust certificates"): the
//! services around the deletion are stopped and started again, and the services that use
//! the store restart.
//!
//! ```text
//!  DeleteTrust{node, store, cn?}
//!        ─► refused: one of the five identity certificates · High Availability on
//!        ─► stop Certificate Expiry Monitor + Intercluster Sync Agent
//!           (tomcat-trust on a CUCM node: + Certificate Change Notification instead)
//!        ─► delete CN=cn (or every expired certificate) from that node's copy only
//!        ─► restart the store's services (Cisco DRF Master on the publisher only)
//!        ─► start what was stopped
//! ```

use super::imp::{services_of, type_of_store, DeleteTarget};
use super::Publisher;
use crate::machine::msg::{Effect, Now};
use crate::machine::trace::Kind;
use crate::pki::{Certificate, StoreName};
use crate::wall::WallTime;

/// The services stopped around a deletion from `store` on a node (an IM&P node or not).
fn stopped_around(store: StoreName, imp_node: bool) -> Vec<&'static str> {
    match (store, imp_node) {
        (StoreName::TomcatTrust, false) => vec![
            "Cisco Certificate Expiry Monitor",
            "Cisco Certificate Change Notification",
        ],
        _ => vec![
            "Cisco Certificate Expiry Monitor",
            "Cisco Intercluster Sync Agent",
        ],
    }
}

impl Publisher {
    /// `delete_trust_certificate`: the certificate CN=`cn` (or every expired one) from
    /// `target` on `node`.
    pub(super) fn delete_trust(
        &mut self,
        node: &str,
        target: DeleteTarget,
        cn: Option<String>,
        now: Now,
    ) -> Vec<Effect> {
        let store = match self.deletable(node, target) {
            Ok(store) => store,
            Err(why) => return vec![self.obs(now, Kind::OperatorError, why)],
        };
        let stopped = stopped_around(store, self.is_imp(node));
        let mut out: Vec<Effect> = stopped
            .iter()
            .map(|s| self.obs(now, Kind::ServiceStopped, format!("{s} on {node}")))
            .collect();
        let victims = self.trust_victims(node, store, cn.as_deref(), now.wall);
        if victims.is_empty() {
            out.push(self.obs(
                now,
                Kind::TrustCertificateNotFound,
                match &cn {
                    Some(cn) => format!("no certificate CN={cn} in {store} on {node}"),
                    None => format!("no expired certificate in {store} on {node}"),
                },
            ));
        }
        out.extend(self.delete_victims(node, store, &victims, now));
        if !victims.is_empty() {
            out.extend(self.restart_store_services(node, store, now));
        }
        for s in stopped {
            out.push(self.obs(now, Kind::ServiceStarted, format!("{s} on {node}")));
        }
        out
    }

    /// The store to delete from, or why the deletion is refused.
    fn deletable(&self, node: &str, target: DeleteTarget) -> Result<StoreName, String> {
        let store = match target {
            DeleteTarget::Identity(t) => {
                return Err(format!(
                    "{t}.pem on {node} is an identity certificate: it cannot be deleted \
                     (only -trust certificates can; seed 002)"
                ))
            }
            DeleteTarget::Trust(s) => s,
        };
        if self.imp.ha {
            return Err(format!(
                "delete from {store} on {node} refused: Enable High Availability is \
                 checked in the Presence Redundancy Group; uncheck it first (seed 002)"
            ));
        }
        Ok(store)
    }

    /// The certificates of `store` on `node` named CN=`cn`, or every expired one.
    fn trust_victims(
        &self,
        node: &str,
        store: StoreName,
        cn: Option<&str>,
        wall: WallTime,
    ) -> Vec<Certificate> {
        self.imp
            .node_stores
            .get(node)
            .and_then(|s| s.get(&store))
            .map(|s| {
                s.iter()
                    .filter(|c| match cn {
                        Some(cn) => c.subject().common_name() == cn,
                        None => c.info().not_after < wall,
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Removes `victims` from `node`'s copy of `store`, one observation each.
    fn delete_victims(
        &mut self,
        node: &str,
        store: StoreName,
        victims: &[Certificate],
        now: Now,
    ) -> Vec<Effect> {
        let mut out = vec![];
        for c in victims {
            if let Some(s) = self
                .imp
                .node_stores
                .get_mut(node)
                .and_then(|s| s.get_mut(&store))
            {
                s.remove(c.serial(), &c.issuer().to_cucm());
            }
            out.push(self.obs(
                now,
                Kind::TrustCertificateDeleted,
                format!(
                    "{store} on {node}: {} (serial {}, expires {})",
                    c.subject().to_cucm(),
                    c.serial_hex(),
                    c.info().not_after
                ),
            ));
        }
        out
    }

    /// The services that use `store` restart on `node`.
    fn restart_store_services(&self, node: &str, store: StoreName, now: Now) -> Vec<Effect> {
        let cli = if store == StoreName::TomcatTrust {
            " (utils service restart Cisco Tomcat)"
        } else {
            ""
        };
        let publisher = node == self.pki.publisher().spec.names.hostname;
        let mut out = vec![];
        for service in services_of(type_of_store(store), self.imp.sip_federation) {
            if service == "Cisco DRF Master" && !publisher {
                continue; // DRF Master runs on the publisher only
            }
            out.push(self.obs(
                now,
                Kind::ServiceRestarted,
                format!("{service} on {node}{cli}"),
            ));
        }
        out
    }
}
