//! The field's words for what a scenario does: each operator step, harness action and fault
//! named as a CUCM administrator would say it or find it in the UI ("Bulk Certificate Export
//! on src", "Restart Cisco TFTP on src-pub", "Cisco Trust Verification Service stopped on
//! dst-pub"), for the report's step table, plot marks and fault windows.
//!
//! ```text
//!  engine::spec::Event ──step_label──► "Bulk Certificate Import on dst"
//!  engine::spec::Service ──service_name──► "Cisco TFTP"
//!  virtual ms ──hms / hms_ms──► "0:20:00" / "0:03:12.045"
//! ```

use crate::engine::spec::{Event, Service};
use cucmsim_core::machine::publisher::imp::{DeleteTarget, ImpOp};
use cucmsim_core::machine::{Operator, ServiceAction};

/// Virtual time as a clock reading, `h:mm:ss` (`0:20:00`, `26:00:05`).
pub fn hms(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Virtual time to the millisecond, `h:mm:ss.mmm`, for timelines.
pub fn hms_ms(ms: u64) -> String {
    format!("{}.{:03}", hms(ms), ms % 1000)
}

/// A latency metric in words, for plot legends and tables (the key stays in `report.json`).
pub fn metric_label(key: &str) -> &str {
    match key {
        "phone.ctl_ms" => "CTL file",
        "phone.itl_ms" => "ITL file",
        "phone.config_ms" => "config file (.sgn)",
        "tvs.query_ms" => "TVS query, phone side",
        "tvs.service_ms" => "TVS service time",
        "phone.boot_to_registered_ms" => "boot to registered",
        "phone.migration_ms" => "migration: reset to registered",
        "capf.enrollment_ms" => "CAPF enrollment",
        other => other,
    }
}

/// A service's name in Cisco Unified Serviceability.
pub fn service_name(s: Service) -> &'static str {
    match s {
        Service::CallManager => "Cisco CallManager",
        Service::Tftp => "Cisco TFTP",
        Service::Tvs => "Cisco Trust Verification Service",
        Service::Capf => "Cisco Certificate Authority Proxy Function",
        Service::CtlProvider => "Cisco CTL Provider",
    }
}

fn phones(first: u32, count: u32) -> String {
    if count == 1 {
        format!("phone #{first}")
    } else {
        format!(
            "{count} phones (#{first}–#{})",
            u64::from(first) + u64::from(count) - 1
        )
    }
}

/// A timed scenario event in the field's words; `None` for what is not an operator step
/// (service stops and starts and clock skew are fault windows, see [`fault_label`]).
pub fn step_label(ev: &Event) -> Option<String> {
    Some(match ev {
        Event::Operator { cluster, op } => operator_label(op, cluster),
        Event::Option150 { first, count, tftp } => format!(
            "DHCP option 150 → {} for {}",
            tftp.join(", "),
            phones(*first, *count)
        ),
        Event::ResetPhones {
            first,
            count,
            over_ms,
        } => {
            let over = if *over_ms > 0 {
                format!(" over {}", crate::lang::fmt_ms(*over_ms))
            } else {
                String::new()
            };
            format!("Reset {}{over}", phones(*first, *count))
        }
        Event::ResetCluster { cluster } => format!("Reset all phones registered on {cluster}"),
        Event::Service {
            host,
            service,
            action: ServiceAction::Restart,
        } => format!("Restart {} on {host}", service_name(*service)),
        Event::Service { .. } | Event::Skew { .. } => return None,
        Event::Upload {
            cluster,
            store,
            owner,
            node,
            cert_type,
        } => format!("Upload {owner}'s {cert_type} certificate of {node} to {store} on {cluster}"),
        Event::UploadCa {
            cluster,
            store,
            ca,
            which,
        } => format!("Upload the {which} certificate of CA {ca} to {store} on {cluster}"),
        Event::PowerOff { first, count } => format!("Power failure of {}", phones(*first, *count)),
        Event::EraseTrust { first, count } => {
            format!("Erase the CTL and ITL on {}", phones(*first, *count))
        }
    })
}

/// A fault window's label: a stopped service, or a clock change.
pub fn fault_label(ev: &Event) -> Option<String> {
    match ev {
        Event::Service {
            host,
            service,
            action: ServiceAction::Stop,
        } => Some(format!("{} stopped on {host}", service_name(*service))),
        Event::Skew { secs, .. } => Some(format!("clock moved {secs:+} s")),
        _ => None,
    }
}

fn start_stop(a: ServiceAction) -> &'static str {
    match a {
        ServiceAction::Stop => "Stop",
        ServiceAction::Start => "Start",
        ServiceAction::Restart => "Restart",
    }
}

/// An operator step on a cluster's publisher, in the UI's or CLI's words.
pub fn operator_label(op: &Operator, cluster: &str) -> String {
    let on = format!(" on {cluster}");
    let what = match op {
        Operator::BulkExport { .. } | Operator::BulkExportNodes { .. } => {
            return export_label(op, cluster)
        }
        Operator::SftpRemove { name } => return format!("Delete {name} from the SFTP directory"),
        Operator::BulkConsolidate => "Bulk Certificate Consolidate".into(),
        Operator::BulkImport => "Bulk Certificate Import".into(),
        Operator::BulkImportDefect { bug } => format!("Bulk Certificate Import (fails: {bug})"),
        Operator::UploadCertificate { store, .. } => format!("Upload Certificate to {store}"),
        Operator::SetParameter { name, value } if name == "serve_unsigned_configs" => {
            if value == "true" {
                "TFTP serves unsigned configuration files".into()
            } else {
                "TFTP serves signed configuration files again".into()
            }
        }
        Operator::SetParameter { name, value } => {
            format!("Enterprise Parameter {name} = {value}")
        }
        Operator::Regenerate {
            cert_type, node, ..
        } => match node {
            Some(n) => return format!("Regenerate {cert_type} on {n}"),
            None => format!("Regenerate {cert_type}"),
        },
        Operator::FipsEnable { node } => match node {
            Some(n) => return format!("utils fips enable on {n}"),
            None => "utils fips enable".into(),
        },
        Operator::ItlReset { remote } => {
            let key = if *remote { "remotekey" } else { "localkey" };
            format!("utils itl reset {key}")
        }
        Operator::DrsBackup => "DRS Backup".into(),
        Operator::DrsRestore => "DRS Restore".into(),
        Operator::CopyCertificate {
            to_cluster,
            store,
            node,
            cert_type,
        } => {
            return format!(
                "Download {cert_type} of {node} ({cluster}), Upload Certificate to {store} on {to_cluster}"
            )
        }
        Operator::CtlUpdate => "utils ctl update CTLFile".into(),
        Operator::CtlProvider { host, action } => {
            return format!("{} Cisco CTL Provider on {host}", start_stop(*action))
        }
        Operator::CapfUpdate(_)
        | Operator::CapfKeepalive { .. }
        | Operator::CapfOfflineSign { .. }
        | Operator::CapfCli { .. }
        | Operator::CertificateMonitor { .. }
        | Operator::HttpsService { .. }
        | Operator::TftpHttps { .. } => device_label(op),
        Operator::Imp(op) => imp_label(op),
        Operator::CtlSetCluster { mixed } => {
            let mode = if *mixed { "mixed-mode" } else { "non-secure-mode" };
            format!("utils ctl set-cluster {mode}")
        }
    };
    what + &on
}

/// A Bulk Certificate Export (of every node, or of the nodes named) on `cluster`.
fn export_label(op: &Operator, cluster: &str) -> String {
    let (types, nodes) = match op {
        Operator::BulkExport { types } => (types, None),
        Operator::BulkExportNodes { types, nodes } => (types, Some(nodes)),
        _ => return String::new(),
    };
    let names: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    let what = if names.is_empty() {
        String::new()
    } else {
        format!(" ({})", names.join(", "))
    };
    match nodes {
        None => format!("Bulk Certificate Export on {cluster}{what}"),
        Some(nodes) => format!(
            "Bulk Certificate Export of {} on {cluster}{what}",
            nodes.join(", ")
        ),
    }
}

/// A step about devices (CAPF, certificate monitoring, phone services) in the UI's words.
fn device_label(op: &Operator) -> String {
    match op {
        Operator::CapfUpdate(u) => format!(
            "Bulk Administration Update Phones: Certificate Operation \"{}\" for {} devices",
            u.operation.label(),
            u.devices.len()
        ),
        Operator::CapfKeepalive { minutes } => format!("utils capf set keep_alive {minutes}"),
        Operator::CapfOfflineSign { ca } => {
            format!("CAPF CSRs signed by offline CA {ca}, certificates uploaded")
        }
        Operator::CapfCli { command } => format!("utils capf {command}"),
        Operator::CertificateMonitor { notify_days } => {
            format!("Certificate Monitor pass (notify {notify_days} days before expiry)")
        }
        Operator::HttpsService { first, count, .. } => {
            format!("{} open an HTTPS phone service", phones(*first, *count))
        }
        Operator::TftpHttps { first, count, .. } => format!(
            "{} download their configuration over HTTPS",
            phones(*first, *count)
        ),
        _ => String::new(),
    }
}

/// An IM&P step in the UI's words.
fn imp_label(op: &ImpOp) -> String {
    match op {
        ImpOp::Regenerate { cert_type, node } => format!("Regenerate {cert_type} on {node}"),
        ImpOp::RestartServices { cert_type } => {
            format!("Restart the services that use {cert_type}")
        }
        ImpOp::PresenceHa { enabled } => format!(
            "{} High Availability (Presence Redundancy Group)",
            if *enabled { "Enable" } else { "Disable" }
        ),
        ImpOp::SipFederation { enabled } => format!(
            "SIP federation {}",
            if *enabled { "configured" } else { "removed" }
        ),
        ImpOp::IpsecTrustCheck => "Compare ipsec.pem with the subscribers' ipsec-trust".into(),
        ImpOp::DeleteTrust { node, target, cn } => {
            let store = match target {
                DeleteTarget::Trust(s) => s.to_string(),
                DeleteTarget::Identity(t) => t.to_string(),
            };
            match cn {
                Some(cn) => format!("Delete {cn} from {store} on {node}"),
                None => format!("Delete the expired certificates of {store} on {node}"),
            }
        }
        ImpOp::JabberInstall {
            client,
            node,
            cert_type,
        } => format!("Install {node}'s {cert_type} certificate on Jabber {client}"),
        ImpOp::JabberLogin { client, node } => format!("Jabber {client} signs in to {node}"),
        ImpOp::MultiSanCsr { cert_type, .. } => format!("Generate a multi-server {cert_type} CSR"),
        ImpOp::UploadCaCertificate {
            cert_type,
            intermediate,
        } => format!(
            "Upload the CA's {} certificate to {cert_type}-trust",
            if *intermediate {
                "intermediate"
            } else {
                "root"
            }
        ),
        ImpOp::UploadMultiSan { cert_type, .. } => {
            format!("Upload the CA-signed multi-server {cert_type} certificate")
        }
        ImpOp::MultiSanRestart { node } => {
            format!("Restart TFTP, CallManager, CTIManager and TVS on {node}")
        }
        ImpOp::JabberInstallRoot { client } => {
            format!("Install the CA's root certificate on Jabber {client}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_readings_have_one_style() {
        assert_eq!(hms(0), "0:00:00");
        assert_eq!(hms(1_200_000), "0:20:00");
        assert_eq!(hms(93_605_000), "26:00:05");
        assert_eq!(hms_ms(61_005), "0:01:01.005");
    }

    #[test]
    fn bulk_steps_read_as_the_ui_names_them() {
        let ev = |op| Event::Operator {
            cluster: "src".into(),
            op,
        };
        let export = ev(Operator::BulkExport {
            types: vec![cucmsim_core::pki::identity::CertType::Tvs],
        });
        assert_eq!(
            step_label(&export).as_deref(),
            Some("Bulk Certificate Export on src (TVS)")
        );
        assert_eq!(
            step_label(&ev(Operator::BulkImport)).as_deref(),
            Some("Bulk Certificate Import on src")
        );
        let restart = Event::Service {
            host: "src-pub".into(),
            service: Service::Tvs,
            action: ServiceAction::Restart,
        };
        assert_eq!(
            step_label(&restart).as_deref(),
            Some("Restart Cisco Trust Verification Service on src-pub")
        );
    }
}
