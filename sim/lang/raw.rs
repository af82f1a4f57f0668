//! The scenario file as TOML sees it: serde structs with `deny_unknown_fields`, values that
//! later checks must point at kept as `Spanned`. Steps, faults and expectations are flat
//! structs tagged by `action` / `kind` (serde's internally tagged enums lose spans), and
//! [`super::compile`] checks which fields each tag allows.

use serde::Deserialize;
use toml::Spanned;

/// A duration: `"15 min"`, `"250 ms"`, `"2 h"`, `"7 days"`, or a bare number of seconds.
/// The text is kept as written, so reports can print it back (`"1 h 15 min"`, not `75 min`).
#[derive(Clone, Debug)]
pub enum Dur {
    Text(String),
    Secs(i64),
}

impl Dur {
    /// The duration as the scenario wrote it: the text trimmed, or `"N s"`.
    pub fn as_written(&self) -> String {
        match self {
            Dur::Text(t) => t.trim().to_string(),
            Dur::Secs(s) => format!("{s} s"),
        }
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => Ok(Dur::Text(s)),
            toml::Value::Integer(n) => Ok(Dur::Secs(n)),
            other => Err(serde::de::Error::custom(format!(
                "expected a duration such as \"250 ms\", \"30 s\", \"15 min\", \"2 h\", \"7 days\" or a whole number of seconds, not {}",
                describe(&other)
            ))),
        }
    }
}

/// The epoch as written: a quoted RFC 3339 text or a bare TOML date-time.
#[derive(Clone, Debug)]
pub struct Epoch(pub String);

impl<'de> Deserialize<'de> for Epoch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => Ok(Epoch(s)),
            toml::Value::Datetime(t) => Ok(Epoch(t.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected a date and time such as \"2025-06-01T00:00:00Z\", not {}",
                describe(&other)
            ))),
        }
    }
}

/// `a number (1.5)`, `a table`, … — a TOML value named for a person, not a Rust type.
pub fn describe(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("the text {s:?}"),
        toml::Value::Integer(n) => format!("the whole number {n}"),
        toml::Value::Float(f) => format!("the decimal number {f}"),
        toml::Value::Boolean(b) => format!("the boolean {b}"),
        toml::Value::Datetime(t) => format!("the date {t}"),
        toml::Value::Array(_) => "an array".into(),
        toml::Value::Table(_) => "a table".into(),
    }
}

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub scenario: Option<S<Meta>>,
    #[serde(default)]
    pub cluster: Vec<S<Cluster>>,
    #[serde(default)]
    pub ca: Vec<S<Ca>>,
    #[serde(default)]
    pub fleet: Vec<S<Fleet>>,
    #[serde(default)]
    pub step: Vec<S<Step>>,
    #[serde(default)]
    pub fault: Vec<S<Fault>>,
    #[serde(default)]
    pub expect: Vec<S<Expect>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: S<String>,
    pub seed: Option<u64>,
    pub duration: S<Dur>,
    pub epoch: Option<S<Epoch>>,
    pub tls: Option<S<String>>,
    pub phone_boot: Option<S<Dur>>,
    pub phone_key_pool: Option<S<i64>>,
    /// How long the operator waits for a step's effects to land before the next step.
    pub operator_wait: Option<S<Dur>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    pub name: S<String>,
    pub version: S<String>,
    pub security_mode: Option<S<String>>,
    pub key: Option<S<String>>,
    pub domain: Option<String>,
    pub enterprise: Option<Enterprise>,
    pub tvs: Option<S<Tvs>>,
    pub capf: Option<S<Capf>>,
    #[serde(default)]
    pub node: Vec<S<Node>>,
    /// `false`: the phones' config has no TVS list (CSCti64589, F17).
    pub default_config_tvs: Option<bool>,
    /// Mixed mode: LSCs of the cluster's CAPF are trusted through the CTL's CAPF record (F12).
    pub lsc_capf_from_ctl: Option<bool>,
}

/// `[[ca]]`: a certificate authority outside the clusters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ca {
    pub name: S<String>,
    pub kind: S<String>,
    pub port: Option<S<i64>>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub template: Option<String>,
    pub english: Option<bool>,
    pub key_usage: Option<S<Vec<String>>>,
    pub validity_days: Option<S<i64>>,
}

/// `[cluster.capf]`: the CAPF service of the cluster.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capf {
    pub max_sessions: Option<S<i64>>,
    pub queue_limit: Option<S<i64>>,
    pub workers: Option<S<i64>>,
    pub handshake: Option<S<Dur>>,
    pub issue: Option<S<Dur>>,
    pub keygen_timeout: Option<S<Dur>>,
    pub keepalive: Option<S<Dur>>,
    pub validity_days: Option<S<i64>>,
    pub issue_once: Option<bool>,
    pub certificate: Option<S<String>>,
    pub addresses: Option<S<Vec<String>>>,
    pub issuer: Option<S<String>>,
    pub ca: Option<S<String>>,
    pub ca_hostname: Option<String>,
    pub ca_port: Option<S<i64>>,
    pub ca_template: Option<String>,
    pub ca_username: Option<String>,
    pub ca_password: Option<String>,
}

/// `[cluster.tvs]`: the TVS service model of every TVS node of the cluster.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tvs {
    pub workers: Option<S<i64>>,
    pub queue_limit: Option<S<i64>>,
    pub handshake: Option<S<Dur>>,
    pub query: Option<S<Dur>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enterprise {
    pub rollback_to_pre_8: Option<bool>,
    pub phone_interaction_on_cert_update: Option<S<String>>,
    pub tftp_file_signature: Option<S<String>>,
    pub ipv6: Option<bool>,
    pub endpoint_advanced_encryption: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub name: S<String>,
    pub ip: Option<S<String>>,
    pub services: Option<Vec<S<String>>>,
    #[serde(default)]
    pub imp: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    pub name: S<String>,
    pub count: S<i64>,
    pub model: Option<String>,
    pub mac_start: S<String>,
    pub cluster: S<String>,
    pub security_profile: Option<S<String>>,
    pub key: Option<S<String>>,
    pub keepalive: Option<S<Dur>>,
    pub keepalive_timeout: Option<S<Dur>>,
    pub keepalive_misses: Option<S<i64>>,
    pub register_retry: Option<S<Dur>>,
    pub auth_string: Option<S<String>>,
    pub capf_v3: Option<bool>,
    pub keygen: Option<S<Dur>>,
    pub ip_mode: Option<S<String>>,
    pub ip_addresses: Option<S<Vec<String>>>,
    /// Model capabilities (F9, F27, F28): see `lang::events::lifecycle::phone_caps`.
    pub itl_max_certs: Option<S<i64>>,
    pub itl_max_bytes: Option<S<i64>>,
    pub max_rsa_bits: Option<S<i64>>,
    pub file_digests: Option<S<Vec<String>>>,
    pub security_by_default: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub at: S<Dur>,
    pub action: S<String>,
    pub cluster: Option<S<String>>,
    pub node: Option<S<String>>,
    pub fleet: Option<S<String>>,
    pub types: Option<S<Vec<String>>>,
    pub store: Option<S<String>>,
    pub certificate: Option<S<String>>,
    pub tftp: Option<S<Vec<String>>>,
    pub service: Option<S<String>>,
    pub name: Option<S<String>>,
    pub value: Option<S<toml::Value>>,
    #[serde(rename = "type")]
    pub cert_type: Option<S<String>>,
    /// `reset_phones`: spread the resets over this window.
    pub over: Option<S<Dur>>,
    pub operation: Option<S<String>>,
    pub auth_mode: Option<S<String>>,
    pub auth_string: Option<S<String>>,
    pub key_order: Option<S<String>>,
    pub rsa_key_size: Option<S<i64>>,
    pub ec_key_size: Option<S<i64>>,
    pub completes_by: Option<S<Dur>>,
    pub security_profile: Option<S<String>>,
    pub apply_config: Option<S<bool>>,
    pub minutes: Option<S<i64>>,
    pub ca: Option<S<String>>,
    pub command: Option<S<String>>,
    pub lsc_expires_before: Option<S<Dur>>,
    pub notify_days: Option<S<i64>>,
    /// `regenerate_certificate`: the new key profile.
    pub key: Option<S<String>>,
    /// `tftp_https`: on a failed secure download, fall back to the plain one (6970/TFTP).
    pub plain_fallback: Option<S<bool>>,
    /// `itl_reset`: `localkey` or `remotekey`; multi-server steps: a known defect.
    pub mode: Option<S<String>>,
    /// `upload_multi_san` with `mode = "CSCup28852"`: the period of its reset loop.
    pub period: Option<S<Dur>>,
    /// `bulk_import` / `bulk_consolidate`: a known defect that makes it fail (`"CSCuy43181"`).
    /// Checked by the step itself (not in `present()`).
    pub defect: Option<S<String>>,
    /// `bulk_export`: only these nodes' certificates.
    pub nodes: Option<S<Vec<String>>>,
    /// `sftp_remove`: the file to delete from the SFTP directory.
    pub file: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub kind: S<String>,
    pub at: Option<S<Dur>>,
    #[serde(rename = "for")]
    pub lasts: Option<S<Dur>>,
    pub cluster: Option<S<String>>,
    pub node: Option<S<String>>,
    pub service: Option<S<String>>,
    pub between: Option<S<Vec<String>>>,
    pub rate: Option<S<f64>>,
    pub ms: Option<S<i64>>,
    pub jitter_ms: Option<S<i64>>,
    pub host: Option<S<String>>,
    pub by: Option<S<Dur>>,
    pub fleet: Option<S<String>>,
    pub timeout: Option<S<Dur>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub kind: S<String>,
    pub by: Option<S<Dur>>,
    pub state: Option<S<String>>,
    pub cluster: Option<S<String>>,
    pub fleet: Option<S<String>>,
    pub count: Option<S<i64>>,
    pub at_least: Option<S<i64>>,
    pub at_most: Option<S<i64>>,
    pub what: Option<S<String>>,
    pub happens: Option<S<bool>>,
    pub status: Option<S<String>>,
    pub detail: Option<S<String>>,
    /// The count is as written: `--phones` does not scale it.
    pub absolute: Option<S<bool>>,
}

/// `(field name, span)` of every optional field that is present.
macro_rules! present {
    ($ty:ty, [$($field:ident => $name:literal),*]) => {
        impl $ty {
            pub fn present(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
                let mut out = vec![];
                $(
                    if let Some(v) = &self.$field {
                        out.push(($name, v.span()));
                    }
                )*
                out
            }
        }
    };
}

present!(Step, [cluster => "cluster", node => "node", fleet => "fleet", types => "types", store => "store",
    certificate => "certificate", tftp => "tftp", service => "service", name => "name", value => "value",
    cert_type => "type", over => "over", operation => "operation", auth_mode => "auth_mode",
    auth_string => "auth_string", key_order => "key_order", rsa_key_size => "rsa_key_size",
    ec_key_size => "ec_key_size", completes_by => "completes_by", security_profile => "security_profile",
    apply_config => "apply_config", minutes => "minutes", ca => "ca", command => "command",
    lsc_expires_before => "lsc_expires_before", notify_days => "notify_days", key => "key", mode => "mode",
    period => "period", plain_fallback => "plain_fallback", nodes => "nodes", file => "file"]);
present!(Fault, [at => "at", lasts => "for", cluster => "cluster", node => "node", service => "service",
    between => "between", rate => "rate", ms => "ms", jitter_ms => "jitter_ms", host => "host", by => "by",
    fleet => "fleet", timeout => "timeout"]);
present!(Expect, [by => "by", state => "state", cluster => "cluster", fleet => "fleet", count => "count",
    at_least => "at_least", at_most => "at_most", what => "what", status => "status", detail => "detail",
    happens => "happens", absolute => "absolute"]);
