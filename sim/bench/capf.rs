//! The CAPF operation the benchmark times: the server side of one enrollment, a TLS 1.2
//! handshake with the CAPF certificate, then one LSC issued for the phone's public key with
//! [`Certificate::issue`], signed by the CAPF key, encoded in a STORE_CERT_REQ and sent.
//!
//! ```text
//!  phone: KEY_GEN_RES{DEVICE_NAME, PUBLIC_KEY} ──TLS──► CAPF: decode · PublicKey::from_record_bytes
//!         · Certificate::issue(LSC spec, CAPF key) · CERTIFICATE element · STORE_CERT_REQ ──TLS──►
//!  phone (untimed): the LSC parses, verifies under the CAPF key and carries its own key
//! ```
//! `Certificate::issue` takes the subject's private key only for its public half, so the
//! phones' LSC keys come from a small pool made before timing; the server identifies the one
//! it received by comparing public keys. See `rig.rs` for what else is simplified.

use super::load::SplitMix;
use super::rig::{device_name, ends, issued_at, phones, session, Ends, OpCost, Operation, PHONES};
use cucmsim_core::pki::identity::{CertType, IdentityRequest, NodeNames};
use cucmsim_core::pki::{
    Backend, CertSpec, Certificate, DistinguishedName, ExtKeyUsage, Identity, KeyForge, KeyProfile,
    KeyUsage, PrivateKey, PublicKey,
};
use cucmsim_core::WallTime;
use std::sync::Arc;

/// CAPF messages (reference §3.2): 0x55 | command | session u32 | length u16 | TLVs.
mod capf_wire {
    pub const KEY_GEN_RES: u8 = 4;
    pub const STORE_CERT_REQ: u8 = 9;
    pub const CERT_TYPE: u8 = 3;
    pub const CERTIFICATE: u8 = 4;
    pub const PUBLIC_KEY: u8 = 9;
    pub const DEVICE_NAME: u8 = 13;

    pub fn encode(command: u8, session: u32, tlvs: &[(u8, &[u8])]) -> Vec<u8> {
        let mut body = vec![];
        for (tag, value) in tlvs {
            body.push(*tag);
            body.extend_from_slice(&(value.len() as u16).to_be_bytes());
            body.extend_from_slice(value);
        }
        let mut out = vec![0x55, command];
        out.extend_from_slice(&session.to_be_bytes());
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend(body);
        out
    }

    /// The command and elements of a complete message; `None` while bytes are missing.
    /// A command and its elements (tag, value).
    pub type Message<'a> = (u8, Vec<(u8, &'a [u8])>);

    pub fn decode(bytes: &[u8]) -> Option<Message<'_>> {
        let len = u16::from_be_bytes([*bytes.get(6)?, *bytes.get(7)?]) as usize;
        let mut body = bytes.get(8..8 + len)?;
        let mut out = vec![];
        while body.len() >= 3 {
            let n = u16::from_be_bytes([body[1], body[2]]) as usize;
            out.push((body[0], body.get(3..3 + n)?));
            body = &body[3 + n..];
        }
        (bytes[0] == 0x55).then_some((bytes[1], out))
    }

    /// The CERTIFICATE element: `01 <len16 = DER + 2> 00 <cert type> <DER>`.
    pub fn certificate(cert_type: u8, der: &[u8]) -> Vec<u8> {
        let mut v = vec![1];
        v.extend_from_slice(&((der.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(&[0, cert_type]);
        v.extend_from_slice(der);
        v
    }
}

/// The CAPF side of one enrollment: TLS 1.2 with the CAPF certificate, then one LSC issued for
/// the phone's public key with [`Certificate::issue`], signed by the CAPF key, and sent.
pub struct CapfOp {
    ends: Ends,
    capf: Identity,
    capf_public: PublicKey,
    mics: Vec<Identity>,
    lsc_keys: Vec<Arc<PrivateKey>>,
    lsc_publics: Vec<PublicKey>,
    seed: u64,
}

impl CapfOp {
    pub fn new(seed: u64, ca_key: KeyProfile, phone_key: KeyProfile) -> Result<CapfOp, String> {
        let forge = KeyForge::new(seed);
        let names = NodeNames::lab("bench", "pub");
        let mut req = IdentityRequest::new(&names, CertType::Capf, issued_at());
        req.profile = ca_key;
        let capf = req.issue_self_signed(&forge).map_err(|e| e.to_string())?;
        let p = phones(&forge, phone_key)?;
        let lsc_keys: Vec<_> = (0..PHONES)
            .map(|i| forge.key(&format!("bench/lsc-key/{i}"), phone_key))
            .collect();
        Ok(CapfOp {
            ends: ends(&capf, &p)?,
            lsc_publics: lsc_keys.iter().map(|k| k.public_key()).collect(),
            lsc_keys,
            mics: p.mics,
            capf_public: capf.key.public_key(),
            capf,
            seed,
        })
    }

    /// The CAPF certificate and key (for timing the raw signature).
    pub fn ca(&self) -> &Identity {
        &self.capf
    }

    /// An LSC as the benchmark issues them (for the raw-signature timing's TBS).
    pub fn sample_lsc(&self) -> Result<Certificate, String> {
        let device = device_name(&self.mics[0]);
        self.issue_lsc(&device, &self.lsc_keys[0], u64::MAX - 7)
    }

    /// The LSC of phone `device` for `key`, serial `n`: subject and usages as CUCM's
    /// (reference §3.1), valid 5 years.
    pub fn issue_lsc(&self, device: &str, key: &PrivateKey, n: u64) -> Result<Certificate, String> {
        let issuer = self.capf.cert.subject();
        let mut attrs = vec![(
            "serialNumber".to_string(),
            format!("PID:CP-8861 SN:{}", device.trim_start_matches("SEP")),
        )];
        attrs.extend(issuer.0.iter().filter(|(a, _)| a != "CN").cloned());
        attrs.push(("CN".into(), format!("CP-8861-{device}")));
        let mut serial = SplitMix::new(self.seed, n)
            .next_u64()
            .to_be_bytes()
            .to_vec();
        serial.extend(
            SplitMix::new(self.seed ^ 0x5e71a1, n)
                .next_u64()
                .to_be_bytes(),
        );
        serial[0] = (serial[0] & 0x7f).max(1);
        let spec = CertSpec {
            subject: DistinguishedName(attrs),
            serial,
            not_before: issued_at(),
            not_after: issued_at().plus_s(5 * WallTime::YEAR_S),
            ca: None,
            key_usage: vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
            ext_key_usage: vec![
                ExtKeyUsage::ServerAuth,
                ExtKeyUsage::ClientAuth,
                ExtKeyUsage::IpsecEndSystem,
            ],
            san_dns: vec![],
            san_uri: vec![device.to_string()],
        };
        Certificate::issue(&spec, key, Some((&self.capf.cert, &self.capf.key)))
            .map_err(|e| e.to_string())
    }

    /// The server's logic for enrollment `n`: KEY_GEN_RES in, STORE_CERT_REQ with the LSC out.
    fn serve(&self, bytes: &[u8], n: u64) -> Result<Option<Vec<u8>>, String> {
        use capf_wire::*;
        let Some((KEY_GEN_RES, elements)) = decode(bytes) else {
            return Ok(None);
        };
        let get = |tag| elements.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
        let public = PublicKey::from_record_bytes(get(PUBLIC_KEY).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let device = get(DEVICE_NAME).unwrap_or_default();
        let device = String::from_utf8_lossy(device.strip_suffix(&[0]).unwrap_or(device));
        let ix = self
            .lsc_publics
            .iter()
            .position(|p| *p == public)
            .ok_or("unknown phone key")?;
        let lsc = self.issue_lsc(&device, &self.lsc_keys[ix], n)?;
        let element = certificate(1, lsc.der());
        let tlvs: [(u8, &[u8]); 2] = [(CERT_TYPE, &[1]), (CERTIFICATE, &element)];
        Ok(Some(encode(STORE_CERT_REQ, n as u32, &tlvs)))
    }
}

impl Operation for CapfOp {
    fn service(&self) -> &'static str {
        "capf"
    }

    fn describe(&self) -> String {
        format!(
            "CAPF enrollment, server side: TLS 1.2 full handshake ({} CAPF certificate, phone \
             MIC chain-checked), phone key ({}) decoded, one LSC issued with Certificate::issue \
             and signed by the CAPF key, STORE_CERT_REQ encoded and sent",
            self.capf.key.profile(),
            self.lsc_keys[0].profile()
        )
    }

    fn run(&self, n: u64) -> Result<OpCost, String> {
        use capf_wire::*;
        let phone = (n % PHONES as u64) as usize;
        let mut name = device_name(&self.mics[phone]).into_bytes();
        name.push(0);
        let key = self.lsc_publics[phone].record_bytes();
        let tlvs: [(u8, &[u8]); 2] = [(DEVICE_NAME, &name), (PUBLIC_KEY, &key)];
        let request = encode(KEY_GEN_RES, n as u32, &tlvs);
        let mut cost = OpCost::default();
        let mut serve = |bytes: &[u8]| self.serve(bytes, n);
        let reply = session(&self.ends, phone, &request, &mut serve, &mut cost)?;
        let (_, elements) = decode(&reply).ok_or("bad STORE_CERT_REQ")?;
        let element = elements
            .iter()
            .find(|(t, _)| *t == CERTIFICATE)
            .map(|(_, v)| *v)
            .ok_or("STORE_CERT_REQ without a certificate")?;
        let lsc = Certificate::from_der(element.get(5..).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        lsc.check_signed_by(&self.capf_public, Backend::Ring)
            .map_err(|e| e.to_string())?;
        if lsc.public_key() != Some(&self.lsc_publics[phone]) {
            return Err("the LSC does not carry the phone's key".into());
        }
        Ok(cost)
    }
}
