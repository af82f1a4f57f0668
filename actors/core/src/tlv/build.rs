//! Building and signing trust lists, in CUCM's tag order (reference §1.5).
//!
//! 1. Lay out the header without the SIGNATURE TLV, computing HEADERLENGTH as if it were
//!    there and padding with 0x0D bytes so the header is 4-byte aligned.
//! 2. Append the records.
//! 3. Sign everything with the signer's key and the chosen digest.
//! 4. Insert `0C len sig` right after the SIGNATUREALGOINFO container.

use super::tags::{header as h, record as r, Role, SIG_ALG_ECDSA_P256, SIG_ALG_RSA};
use super::wire::{cstr, put_tlv};
use crate::digest::DigestAlg;
use crate::error::SigError;
use crate::pki::keys::{Backend, EcdsaEncoding, PrivateKey};
use crate::pki::Certificate;
use std::net::Ipv4Addr;

/// One record to write.
#[derive(Clone, Debug)]
pub enum RecordSpec {
    /// A certificate record.
    Cert {
        cert: Certificate,
        role: Role,
        dns_name: Option<String>,
        ip: Option<Ipv4Addr>,
        /// Write tag 8 (the certificate's own signature). CUCM omits it in eToken and CAPF
        /// records of 10.x CTLs.
        with_signature: bool,
        /// Write tags 11 and 12 (certificate hash and its algorithm), as newer files may.
        cert_hash: Option<DigestAlg>,
    },
    /// A blank placeholder: DNS name, role and IP only (non-secure CTL, rollback ITL).
    Blank {
        dns_name: String,
        role: Role,
        ip: Option<Ipv4Addr>,
    },
}

impl RecordSpec {
    /// A certificate record in CUCM's usual form (with tag 8, without 11/12).
    pub fn cert(
        cert: &Certificate,
        role: Role,
        dns_name: &str,
        ip: Option<Ipv4Addr>,
    ) -> RecordSpec {
        RecordSpec::Cert {
            cert: cert.clone(),
            role,
            dns_name: Some(dns_name.to_string()),
            ip,
            with_signature: true,
            cert_hash: None,
        }
    }

    /// The certificate, for certificate records.
    pub fn certificate(&self) -> Option<&Certificate> {
        match self {
            RecordSpec::Cert { cert, .. } => Some(cert),
            RecordSpec::Blank { .. } => None,
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        match self {
            RecordSpec::Cert { role, .. } | RecordSpec::Blank { role, .. } => *role,
        }
    }

    /// Encodes the record (tags 1, 2, 3, 4, 5, 6, 7, [8], 9, 10, [11, 12]).
    pub fn encode(&self) -> Result<Vec<u8>, SigError> {
        let mut body = vec![];
        match self {
            RecordSpec::Blank { dns_name, role, ip } => {
                put_tlv(&mut body, r::DNS_NAME, &cstr(dns_name));
                put_tlv(&mut body, r::FUNCTION, &role.code().to_be_bytes());
                if let Some(ip) = ip {
                    put_tlv(&mut body, r::IP_ADDRESS, &ip.octets());
                }
            }
            RecordSpec::Cert {
                cert,
                role,
                dns_name,
                ip,
                with_signature,
                cert_hash,
            } => {
                let key = cert.public_key().ok_or_else(|| SigError::Unsupported {
                    key: "unknown",
                    what: format!("record for {}", cert.subject()),
                })?;
                if let Some(dns) = dns_name {
                    put_tlv(&mut body, r::DNS_NAME, &cstr(dns));
                }
                put_tlv(&mut body, r::SUBJECT_NAME, &cstr(&cert.subject().to_cucm()));
                put_tlv(&mut body, r::FUNCTION, &role.code().to_be_bytes());
                put_tlv(&mut body, r::ISSUER_NAME, &cstr(&cert.issuer().to_cucm()));
                put_tlv(&mut body, r::SERIAL_NUMBER, cert.serial());
                put_tlv(&mut body, r::PUBLIC_KEY, &key.record_bytes());
                if *with_signature {
                    put_tlv(&mut body, r::SIGNATURE, &cert.info().signature);
                }
                put_tlv(&mut body, r::CERTIFICATE, cert.der());
                if let Some(ip) = ip {
                    put_tlv(&mut body, r::IP_ADDRESS, &ip.octets());
                }
                if let Some(alg) = cert_hash {
                    put_tlv(&mut body, r::CERT_HASH, &alg.hash(cert.der()));
                    put_tlv(&mut body, r::HASH_ALGORITHM, &[alg.code()]);
                }
            }
        }
        let total = body.len() + 5;
        let total = u16::try_from(total)
            .map_err(|_| SigError::Malformed(format!("record of {total} bytes exceeds 65,535")))?;
        let mut out = Vec::with_capacity(total as usize);
        put_tlv(&mut out, r::RECORD_LENGTH, &total.to_be_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }
}

/// Everything needed to write one signed trust list.
#[derive(Clone, Debug)]
pub struct TrustListBuilder {
    /// `ITLFile.tlv` or `CTLFile.tlv` (the canonical name, also for per-device files).
    pub filename: String,
    /// Header version; CUCM writes 1.2.
    pub version: (u8, u8),
    pub digest: DigestAlg,
    /// Unix seconds from the building host's wall clock.
    pub timestamp: u32,
    /// Tag 28; absent in CUCM 10.5 files, optional here.
    pub signer_version: Option<(u8, u8)>,
    pub records: Vec<RecordSpec>,
    pub backend: Backend,
}

impl TrustListBuilder {
    /// A builder with CUCM's defaults: version 1.2, SHA-1, no tag 28.
    pub fn new(filename: &str, timestamp: u32) -> TrustListBuilder {
        TrustListBuilder {
            filename: filename.to_string(),
            version: (1, 2),
            digest: DigestAlg::Sha1,
            timestamp,
            signer_version: None,
            records: vec![],
            backend: Backend::default(),
        }
    }

    /// Builds and signs with `signer` (its certificate names the signer in the header).
    pub fn sign(&self, signer: &Certificate, key: &PrivateKey) -> Result<Vec<u8>, SigError> {
        let mut body = vec![];
        for record in &self.records {
            body.extend_from_slice(&record.encode()?);
        }
        sign_with_body(self, signer, key, &body)
    }
}

/// Lays out a header for `builder`, appends `body` (records, or a `.sgn` payload) and signs.
pub fn sign_with_body(
    builder: &TrustListBuilder,
    signer: &Certificate,
    key: &PrivateKey,
    body: &[u8],
) -> Result<Vec<u8>, SigError> {
    let (sig_alg, modulus_index) = signature_algorithm(key)?;
    let sig_len = key.signature_len(EcdsaEncoding::Fixed);
    let signer_id = signer_id(signer);
    let sig_info = signature_info(builder.digest.code(), sig_alg, modulus_index);

    let mut before_sig = vec![];
    put_tlv(
        &mut before_sig,
        h::VERSION,
        &[builder.version.0, builder.version.1],
    );
    let hl_pos = before_sig.len();
    put_tlv(&mut before_sig, h::HEADER_LENGTH, &[0, 0]);
    put_tlv(&mut before_sig, h::SIGNER_ID, &signer_id);
    put_tlv(&mut before_sig, h::SIGNATURE_INFO, &sig_info);
    let mut after_sig = vec![];
    put_tlv(&mut after_sig, h::FILENAME, &cstr(&builder.filename));
    put_tlv(
        &mut after_sig,
        h::TIMESTAMP,
        &builder.timestamp.to_be_bytes(),
    );
    if let Some((major, minor)) = builder.signer_version {
        put_tlv(&mut after_sig, h::SIGNER_VERSION, &[major, minor]);
    }
    let unpadded = before_sig.len() + 3 + sig_len + after_sig.len();
    let padding = (4 - unpadded % 4) % 4;
    after_sig.extend(std::iter::repeat_n(h::PADDING, padding));
    let header_length = u16::try_from(unpadded + padding)
        .map_err(|_| SigError::Malformed("header exceeds 65,535 bytes".into()))?;
    before_sig[hl_pos + 3..hl_pos + 5].copy_from_slice(&header_length.to_be_bytes());

    let mut signed = Vec::with_capacity(before_sig.len() + after_sig.len() + body.len());
    signed.extend_from_slice(&before_sig);
    signed.extend_from_slice(&after_sig);
    signed.extend_from_slice(body);
    // Trust lists and configurations are often signed again byte for byte: kept signatures.
    let signature = key.sign_cached(
        builder.backend,
        builder.digest,
        &signed,
        EcdsaEncoding::Fixed,
    )?;
    debug_assert_eq!(signature.len(), sig_len);

    let mut out = Vec::with_capacity(signed.len() + 3 + sig_len);
    out.extend_from_slice(&before_sig);
    put_tlv(&mut out, h::SIGNATURE, &signature);
    out.extend_from_slice(&after_sig);
    out.extend_from_slice(body);
    Ok(out)
}

/// SIGNATUREALGORITHM of `key` and, for RSA, the index of its size in SIGNATUREMODULUS.
fn signature_algorithm(key: &PrivateKey) -> Result<(u8, Option<u8>), SigError> {
    Ok(match key {
        PrivateKey::Rsa { .. } => {
            let len = key.signature_len(EcdsaEncoding::Fixed);
            let idx = super::tags::MODULUS_BYTES
                .iter()
                .position(|&b| b == len)
                .ok_or_else(|| SigError::Unsupported {
                    key: "rsa",
                    what: format!("a {}-bit key in SIGNATUREMODULUS", len * 8),
                })?;
            (SIG_ALG_RSA, Some(idx as u8))
        }
        PrivateKey::EcP256(_) => (SIG_ALG_ECDSA_P256, None),
    })
}

/// The SIGNERID container's value: the signer's subject, serial and issuer.
fn signer_id(signer: &Certificate) -> Vec<u8> {
    let mut signer_id = vec![];
    put_tlv(
        &mut signer_id,
        h::SIGNER_NAME,
        &cstr(&signer.subject().to_cucm()),
    );
    put_tlv(&mut signer_id, h::SERIAL_NUMBER, signer.serial());
    put_tlv(
        &mut signer_id,
        h::CA_NAME,
        &cstr(&signer.issuer().to_cucm()),
    );
    signer_id
}

/// The SIGNATUREINFO container's value: the digest, then SIGNATUREALGOINFO (algorithm and,
/// for RSA, the modulus index).
fn signature_info(digest_code: u8, sig_alg: u8, modulus_index: Option<u8>) -> Vec<u8> {
    let mut algo_info = vec![];
    put_tlv(&mut algo_info, h::SIGNATURE_ALGORITHM, &[sig_alg]);
    if let Some(idx) = modulus_index {
        put_tlv(&mut algo_info, h::SIGNATURE_MODULUS, &[idx]);
    }
    let mut sig_info = vec![];
    put_tlv(&mut sig_info, h::DIGEST_ALGORITHM, &[digest_code]);
    put_tlv(&mut sig_info, h::SIGNATURE_ALGO_INFO, &algo_info);
    sig_info
}
