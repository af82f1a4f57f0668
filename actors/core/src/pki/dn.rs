//! Distinguished names as CUCM writes them: `CN=...;OU=...;O=...;L=...;ST=...;C=...`.
//!
//! ITL/CTL files, TVS queries and `show itl` carry names as text in certificate (DER) order with
//! `;` separators (reference §1.1). Other implementations write `,` and phones still accept
//! their files, so comparison goes through [`normalize`], which accepts either separator.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A distinguished name: attributes in DER order, each `(short name, value)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct DistinguishedName(pub Vec<(String, String)>);

impl DistinguishedName {
    /// Builds a name from `(attr, value)` pairs in DER order.
    pub fn new<A: Into<String>, V: Into<String>>(attrs: impl IntoIterator<Item = (A, V)>) -> Self {
        DistinguishedName(
            attrs
                .into_iter()
                .map(|(a, v)| (a.into(), v.into()))
                .collect(),
        )
    }

    /// The first value of attribute `attr` (case-insensitive), e.g. `cn`.
    pub fn get(&self, attr: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(attr))
            .map(|(_, v)| v.as_str())
    }

    /// The common name, or "" when there is none.
    pub fn common_name(&self) -> &str {
        self.get("CN").unwrap_or("")
    }

    /// CUCM text form, `;`-separated, in DER order.
    pub fn to_cucm(&self) -> String {
        self.0
            .iter()
            .map(|(a, v)| format!("{a}={v}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Parses `CN=a;OU=b` or `CN=a, OU=b` (no escaping: CUCM writes none).
    pub fn parse(text: &str) -> DistinguishedName {
        DistinguishedName(split_attrs(text).into_iter().collect())
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_cucm())
    }
}

fn split_attrs(text: &str) -> Vec<(String, String)> {
    let sep = if text.contains(';') { ';' } else { ',' };
    text.split(sep)
        .filter_map(|part| {
            let (a, v) = part.split_once('=')?;
            Some((a.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

/// A comparison key for a DN text in either separator style: attribute names upper-cased,
/// values trimmed, joined with `;`. `CN=a, OU=b` and `CN=a;OU=b` give the same key.
pub fn normalize(text: &str) -> String {
    split_attrs(text)
        .into_iter()
        .map(|(a, v)| format!("{}={}", a.to_ascii_uppercase(), v))
        .collect::<Vec<_>>()
        .join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cucm_form_and_normalisation() {
        let dn = DistinguishedName::new([("CN", "cucm-pub"), ("OU", "TAC"), ("O", "Cisco")]);
        assert_eq!(dn.to_cucm(), "CN=cucm-pub;OU=TAC;O=Cisco");
        assert_eq!(
            normalize("CN=cucm-pub, OU=TAC, O=Cisco"),
            normalize(&dn.to_cucm())
        );
        assert_eq!(
            normalize("cn=cucm-pub;ou=TAC;o=Cisco"),
            normalize(&dn.to_cucm())
        );
        assert_eq!(DistinguishedName::parse("CN=x;OU=y").common_name(), "x");
    }
}
