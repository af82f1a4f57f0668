//! TVS (Trust Verification Service): the wire messages on TCP/TLS 2445 and the pure lookup
//! a TVS node performs against its trust stores (reference §2.1–2.2).
//!
//! ```text
//!  header (10 bytes, BE): 0x57 | version 1 | command | reserved | session u32 | body length u16
//!  body: TLVs (tag u8, length u16): 1 DEVICE_NAME (0x01 ‖ name), 2 CERTIFICATE (DER),
//!        3 SUBJECT (NUL-terminated DN), 4 ISSUER [I], 5 SERIAL [I], 7 STATUS (0 valid, 1 invalid),
//!        8 ROLES (one byte per role code), 9 TTL (u32 seconds, 86400)
//!  commands: 1 CERT_VERIFICATION_REQ → 2 RES (HTTPS certificates)
//!            3 QUERY_CERT_REQ → 4 RES (file signers: subject/issuer/serial → certificate + roles)
//! ```
//!
//! [`TvsDirectory`] is what one TVS instance knows: a snapshot of its node's stores taken when
//! the service (re)starts, so an import takes effect only after a TVS restart [C S5/S6].

use crate::pki::dn;
use crate::pki::store::{map_id, StoreName, TrustStore};
use crate::pki::Certificate;
use crate::tlv::Role;
use crate::tvs_decode::{elements, frame_len, tag};
pub use crate::tvs_decode::{DecodeRules, Duplicates, TvsDecodeError, UnknownElements};
use std::collections::{BTreeMap, BTreeSet};

/// Protocol discriminator of every TVS message.
pub const DISCRIMINATOR: u8 = 0x57;
/// The version byte of every TVS message (§2.2).
pub const VERSION: u8 = 1;
/// TTL of a TVS answer, and the phone's cache lifetime: 24 hours [C S5].
pub const TTL_S: u32 = 86_400;

/// A TVS message body, by command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TvsBody {
    /// 1: is this (HTTPS server) certificate trusted?
    VerifyReq {
        device_name: String,
        certificate: Vec<u8>,
    },
    /// 2: status, roles and TTL.
    VerifyRes {
        valid: bool,
        roles: Vec<Role>,
        ttl_s: u32,
    },
    /// 3: give me the certificate with this subject, issuer and serial (a file signer).
    QueryReq {
        device_name: String,
        subject: String,
        issuer: String,
        serial: Vec<u8>,
    },
    /// 4: status, the certificate when found, roles and TTL.
    QueryRes {
        valid: bool,
        certificate: Option<Vec<u8>>,
        roles: Vec<Role>,
        ttl_s: u32,
    },
}

/// A whole TVS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TvsMessage {
    /// Chosen by the phone, echoed by TVS (real phones count up per request: 1001, 1002, …).
    pub session: u32,
    pub body: TvsBody,
}

fn put(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(value.len().min(u16::MAX as usize) as u16).to_be_bytes());
    out.extend_from_slice(&value[..value.len().min(u16::MAX as usize)]);
}

fn put_roles(out: &mut Vec<u8>, roles: &[Role]) {
    // Role codes travel as one byte each in TVS answers (§1.4).
    let bytes: Vec<u8> = roles.iter().map(|r| r.code().min(255) as u8).collect();
    put(out, tag::ROLES, &bytes);
}

impl TvsMessage {
    /// Bytes of a whole message at the front of `b` (header + body length), once complete.
    pub fn complete_len(b: &[u8]) -> Option<usize> {
        frame_len(b)
    }

    fn command(&self) -> u8 {
        match self.body {
            TvsBody::VerifyReq { .. } => 1,
            TvsBody::VerifyRes { .. } => 2,
            TvsBody::QueryReq { .. } => 3,
            TvsBody::QueryRes { .. } => 4,
        }
    }

    /// Encodes header and body in one buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = vec![];
        let device = |name: &str| [&[1u8][..], name.as_bytes()].concat();
        match &self.body {
            TvsBody::VerifyReq {
                device_name,
                certificate,
            } => {
                put(&mut body, tag::DEVICE_NAME, &device(device_name));
                put(&mut body, tag::CERTIFICATE, certificate);
            }
            TvsBody::QueryReq {
                device_name,
                subject,
                issuer,
                serial,
            } => {
                put(&mut body, tag::DEVICE_NAME, &device(device_name));
                put(
                    &mut body,
                    tag::SUBJECT,
                    &[subject.as_bytes(), &[0]].concat(),
                );
                put(&mut body, tag::ISSUER, &[issuer.as_bytes(), &[0]].concat());
                put(&mut body, tag::SERIAL, serial);
            }
            TvsBody::VerifyRes {
                valid,
                roles,
                ttl_s,
            } => {
                put(&mut body, tag::STATUS, &[u8::from(!valid)]);
                put_roles(&mut body, roles);
                put(&mut body, tag::TTL, &ttl_s.to_be_bytes());
            }
            TvsBody::QueryRes {
                valid,
                certificate,
                roles,
                ttl_s,
            } => {
                put(&mut body, tag::STATUS, &[u8::from(!valid)]);
                if let Some(c) = certificate {
                    put(&mut body, tag::CERTIFICATE, c);
                }
                put_roles(&mut body, roles);
                put(&mut body, tag::TTL, &ttl_s.to_be_bytes());
            }
        }
        let mut out = vec![DISCRIMINATOR, VERSION, self.command(), 0];
        out.extend_from_slice(&self.session.to_be_bytes());
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Decodes one message under the default [`DecodeRules`]. The reserved byte is ignored
    /// (Cisco's TVS sent 0xF7 there).
    pub fn decode(bytes: &[u8]) -> Result<TvsMessage, TvsDecodeError> {
        TvsMessage::decode_with(bytes, &DecodeRules::default())
    }

    /// Decodes one message: the version byte, repeated and unknown elements as `rules` say.
    pub fn decode_with(bytes: &[u8], rules: &DecodeRules) -> Result<TvsMessage, TvsDecodeError> {
        let err = |m: String| TvsDecodeError(m);
        if bytes.len() < 10 {
            return Err(err(format!("{} bytes, a header needs 10", bytes.len())));
        }
        if bytes[0] != DISCRIMINATOR {
            return Err(err(format!(
                "discriminator 0x{:02x}, expected 0x57",
                bytes[0]
            )));
        }
        if rules.require_version && bytes[1] != VERSION {
            return Err(err(format!("version {}, expected {VERSION}", bytes[1])));
        }
        let session = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let len = u16::from_be_bytes([bytes[8], bytes[9]]) as usize;
        let body = bytes
            .get(10..10 + len)
            .ok_or_else(|| err(format!("body length {len} past the end")))?;
        let fields = elements(body, rules)?;
        let text = |t: u8| -> String {
            let v = fields.get(&t).copied().unwrap_or_default();
            let v = if t == tag::DEVICE_NAME && v.first() == Some(&1) {
                &v[1..]
            } else {
                v
            };
            String::from_utf8_lossy(v.split(|&b| b == 0).next().unwrap_or_default()).into_owned()
        };
        let valid = fields
            .get(&tag::STATUS)
            .is_some_and(|v| v.first() == Some(&0));
        let roles = fields
            .get(&tag::ROLES)
            .map(|v| v.iter().map(|&b| Role::from_code(b as u16)).collect())
            .unwrap_or_default();
        let ttl_s = fields
            .get(&tag::TTL)
            .and_then(|v| <[u8; 4]>::try_from(*v).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(0);
        let body = match bytes[2] {
            1 => TvsBody::VerifyReq {
                device_name: text(tag::DEVICE_NAME),
                certificate: fields
                    .get(&tag::CERTIFICATE)
                    .map(|v| v.to_vec())
                    .unwrap_or_default(),
            },
            2 => TvsBody::VerifyRes {
                valid,
                roles,
                ttl_s,
            },
            3 => TvsBody::QueryReq {
                device_name: text(tag::DEVICE_NAME),
                subject: text(tag::SUBJECT),
                issuer: text(tag::ISSUER),
                serial: fields
                    .get(&tag::SERIAL)
                    .map(|v| v.to_vec())
                    .unwrap_or_default(),
            },
            4 => TvsBody::QueryRes {
                valid,
                certificate: fields.get(&tag::CERTIFICATE).map(|v| v.to_vec()),
                roles,
                ttl_s,
            },
            c => return Err(err(format!("unknown command {c}"))),
        };
        Ok(TvsMessage { session, body })
    }
}

/// Which role a certificate earns from the store it sits in (§4.1, [I] where marked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleMap(pub BTreeMap<StoreName, Vec<Role>>);

impl Default for RoleMap {
    /// Phone-SAST-trust → SAST; CallManager-trust → TFTP (S5 saw roles [SAST, TFTP] for a
    /// certificate in both, [I]); tomcat-trust → APP-SERVER; CAPF-trust → CAPF [I].
    fn default() -> Self {
        RoleMap(BTreeMap::from([
            (StoreName::PhoneSastTrust, vec![Role::Sast]),
            (StoreName::CallManagerTrust, vec![Role::Tftp]),
            (StoreName::TomcatTrust, vec![Role::AppServer]),
            (StoreName::CapfTrust, vec![Role::Capf]),
        ]))
    }
}

/// What one TVS instance vouches for: certificates keyed by serial + issuer with their roles.
#[derive(Clone, Debug, Default)]
pub struct TvsDirectory {
    entries: BTreeMap<String, (Certificate, BTreeSet<Role>)>,
}

impl TvsDirectory {
    /// A snapshot of `stores` (read when TVS starts), plus the node's own certificates with
    /// the roles they play in its cluster's ITL.
    pub fn snapshot<'a>(
        stores: impl IntoIterator<Item = &'a TrustStore>,
        own: impl IntoIterator<Item = (&'a Certificate, Role)>,
        roles: &RoleMap,
    ) -> TvsDirectory {
        let mut dir = TvsDirectory::default();
        for store in stores {
            let Some(store_roles) = roles.0.get(&store.name()) else {
                continue;
            };
            for cert in store.iter() {
                for &r in store_roles {
                    dir.add(cert, r);
                }
            }
        }
        for (cert, role) in own {
            dir.add(cert, role);
        }
        dir
    }

    fn add(&mut self, cert: &Certificate, role: Role) {
        let id = map_id(cert.serial(), &cert.issuer().to_cucm());
        self.entries
            .entry(id)
            .or_insert_with(|| (cert.clone(), BTreeSet::new()))
            .1
            .insert(role);
    }

    /// Number of certificates known.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// QUERY_CERT: by serial and issuer ("Unique MAP ID"), the subject must match too.
    pub fn query(
        &self,
        subject: &str,
        issuer: &str,
        serial: &[u8],
    ) -> Option<(&Certificate, Vec<Role>)> {
        let (cert, roles) = self.entries.get(&map_id(serial, issuer))?;
        (dn::normalize(&cert.subject().to_cucm()) == dn::normalize(subject))
            .then(|| (cert, roles.iter().copied().collect()))
    }

    /// CERT_VERIFICATION: the exact certificate must be known.
    pub fn verify(&self, der: &[u8]) -> Option<Vec<Role>> {
        let cert = Certificate::from_der(der).ok()?;
        let (known, roles) = self
            .entries
            .get(&map_id(cert.serial(), &cert.issuer().to_cucm()))?;
        (known.der() == der).then(|| roles.iter().copied().collect())
    }

    /// Answers a request as TVS does; `None` for a message that is not a request.
    pub fn answer(&self, req: &TvsMessage) -> Option<TvsMessage> {
        let body = match &req.body {
            TvsBody::QueryReq {
                subject,
                issuer,
                serial,
                ..
            } => match self.query(subject, issuer, serial) {
                Some((cert, roles)) => TvsBody::QueryRes {
                    valid: true,
                    certificate: Some(cert.der().to_vec()),
                    roles,
                    ttl_s: TTL_S,
                },
                None => TvsBody::QueryRes {
                    valid: false,
                    certificate: None,
                    roles: vec![],
                    ttl_s: TTL_S,
                },
            },
            TvsBody::VerifyReq { certificate, .. } => match self.verify(certificate) {
                Some(roles) => TvsBody::VerifyRes {
                    valid: true,
                    roles,
                    ttl_s: TTL_S,
                },
                None => TvsBody::VerifyRes {
                    valid: false,
                    roles: vec![],
                    ttl_s: TTL_S,
                },
            },
            _ => return None,
        };
        Some(TvsMessage {
            session: req.session,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::identity::{CertType, IdentityRequest, NodeNames};
    use crate::pki::KeyForge;
    use crate::wall::WallTime;

    #[test]
    fn s5_response_header_decodes() {
        // Header of the real response in Cisco doc 213407: 57 01 04 f7 | 00 00 03 e9 | len,
        // then STATUS valid, (certificate elided), ROLES [0, 3], TTL 86400.
        let mut bytes = vec![0x57, 0x01, 0x04, 0xf7, 0x00, 0x00, 0x03, 0xe9, 0x00, 0x12];
        bytes.extend_from_slice(&[
            0x07, 0x00, 0x01, 0x00, 0x08, 0x00, 0x02, 0x00, 0x03, 0x09, 0x00, 0x04, 0x00, 0x01,
            0x51, 0x80,
        ]);
        bytes[9] = 16;
        let msg = TvsMessage::decode(&bytes).unwrap();
        assert_eq!(msg.session, 1001);
        assert_eq!(
            msg.body,
            TvsBody::QueryRes {
                valid: true,
                certificate: None,
                roles: vec![Role::Sast, Role::Tftp],
                ttl_s: 86_400
            }
        );
    }

    #[test]
    fn query_request_matches_s5_layout() {
        let req = TvsMessage {
            session: 0x3e9,
            body: TvsBody::QueryReq {
                device_name: "CP-8861-SEPB000B4BA0AEE".into(),
                subject: "CN=ucm11pub.stormin.local;OU=IST;O=Stormin;L=Brisbane;ST=QLD;C=AU".into(),
                issuer: "CN=stormin-WIN2012-CA".into(),
                serial: hex::decode("240000001794 79b8f124ac3f3b000000000017".replace(' ', ""))
                    .unwrap(),
            },
        };
        let bytes = req.encode();
        assert_eq!(&bytes[..4], &[0x57, 0x01, 0x03, 0x00]);
        // 153 bytes in the capture: 10 header + 143 body (device 27 + subject 69 + 47).
        assert_eq!(bytes.len(), 153);
        assert_eq!(&bytes[10..14], &[0x01, 0x00, 0x18, 0x01]);
        assert_eq!(TvsMessage::decode(&bytes).unwrap(), req);
    }

    #[test]
    fn directory_vouches_by_store_and_snapshot() {
        let forge = KeyForge::new(4);
        let names = NodeNames::lab("dst", "dstpub");
        let now = WallTime(1_700_000_000);
        let rec = IdentityRequest::new(&names, CertType::ItlRecovery, now)
            .issue_self_signed(&forge)
            .unwrap();
        let mut sast = TrustStore::new(StoreName::PhoneSastTrust);
        let mut cm = TrustStore::new(StoreName::CallManagerTrust);
        let before = TvsDirectory::snapshot([&sast, &cm], [], &RoleMap::default());
        sast.add(rec.cert.clone());
        cm.add(rec.cert.clone());
        let after = TvsDirectory::snapshot([&sast, &cm], [], &RoleMap::default());
        let c = &rec.cert;
        let q = TvsMessage {
            session: 7,
            body: TvsBody::QueryReq {
                device_name: "SEP1".into(),
                subject: c.subject().to_cucm(),
                issuer: c.issuer().to_cucm(),
                serial: c.serial().to_vec(),
            },
        };
        // The snapshot taken before the import does not know it (TVS not restarted).
        assert!(matches!(
            before.answer(&q).unwrap().body,
            TvsBody::QueryRes { valid: false, .. }
        ));
        match after.answer(&q).unwrap().body {
            TvsBody::QueryRes {
                valid: true,
                certificate: Some(der),
                roles,
                ttl_s,
            } => {
                assert_eq!(der, c.der());
                assert_eq!(roles, vec![Role::Sast, Role::Tftp]);
                assert_eq!(ttl_s, TTL_S);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(after.verify(c.der()), Some(vec![Role::Sast, Role::Tftp]));
        assert!(TvsMessage::decode(&[0x57, 1, 9, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(TvsMessage::decode(&[0x57, 1]).is_err());
    }
}
