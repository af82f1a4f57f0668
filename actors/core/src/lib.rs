//! # cucmsim-core: the pure core of the simulator
//!
//! Everything a CUCM cluster and a phone exchange, as real bytes, with no I/O:
//!
//! ```text
//!  seed ──► pki::KeyForge ──► keys (RSA-2048 / EC P-256, deterministic)
//!                 │
//!                 ▼
//!   pki::identity (CallManager, TVS, CAPF, ITLRecovery, …)   pki::mic (Cisco manufacturing CA → MIC)
//!                 │                                                 │
//!                 ▼                                                 ▼
//!   tlv (ITL/CTL build · sign · parse · verify)   sgn (SEP<MAC>.cnf.xml.sgn)   pkcs12 (bulk export)
//!                 │
//!                 ▼
//!   pki::store (CallManager-trust, Phone-SAST-trust, …)  ◄── pki::chain (validity at a given wall time)
//! ```
//!
//! Rules this crate keeps (design.md): it depends on no tokio, ractor or quinn; it never reads a
//! clock — wall time is always an argument ([`WallTime`]); every random choice comes from a seed.
//! The one exception is the PKCS#12 writer's salts, drawn by the `p12-keystore` crate from the OS
//! (see [`pkcs12`]); the certificates and keys inside are still seed-determined.
//!
//! ## Layout
//!
//! ```text
//! wall.rs      WallTime: simulated wall-clock seconds, always an argument, never read; Now
//!              (virtual ms + the host's wall time), the argument of every machine input
//! version.rs   CucmVersion: the release, which decides signers and regeneration rules
//! digest.rs    DigestAlg: SHA-1 / SHA-256 / SHA-512 and their wire codes
//! error.rs     typed errors of certificates and signatures (CertError, SigError)
//! pki/         keys (seeded), certificates, DNs, node identities, the MIC CA, trust stores,
//!              chain checks, a cluster's whole PKI, regeneration, operation counters
//! tlv/         the ITL/CTL format: tags, TLV wire primitives, build + sign, parse, verify,
//!              what CUCM puts in each file, parses shared between phones
//! sgn.rs       signed configuration files (SEP<MAC>.cnf.xml.sgn) and the config fields read
//! pkcs12.rs    PKCS#12 bundles for Bulk Certificate Management
//! tls.rs       real TLS sessions over byte buffers (rustls, sans-I/O)
//! tvs.rs       TVS wire messages (port 2445) and the lookup against trust stores
//! phone/       the phone's trust rules: decisions and reasons, the CTL/ITL/TVS-cache rules,
//!              the model's limits, HTTPS services verified through TVS
//! capf/        CAPF (port 3804): codes, wire, fields, keys, LSCs, the device record, the
//!              session on each side, settings, pending CSRs, IPv6 rules, the Online/Offline CAs
//! machine/     one state machine per participant behind one interface (Input + now → effects):
//!   interface.rs   the Machine trait and its Input (Start | Msg | Timer)
//!   msg.rs         Msg (kind() and session() answered by the message), Addr, Effect
//!   operator.rs    the operator steps a publisher takes
//!   config.rs      service configurations on the bus (TVS/CAPF models, CAPF issuer)
//!   trace.rs       the typed trace: Kind (every observation name), Event (typed payloads)
//!   channel.rs     one secure channel (real TLS or identity check) for every TLS speaker
//!   phone/         machine + dispatch, status and timers, boot pipeline, register and
//!                  keepalive, the one TVS query, HTTPS service, TFTP-HTTPS probe, CAPF flow
//!   publisher/     the cluster's database and operator steps: services, bulk certificates,
//!                  devices, parameters, lifecycle, IM&P (+ trust deletion, Jabber),
//!                  multi-server SAN (+ restarts), external CA
//!   capf/          the CAPF service: admission and sessions, issuers (Online/Offline CA)
//!   tftp.rs tvs.rs callmanager.rs dhcp.rs sftp.rs ca.rs jabber.rs   one participant each
//! ```

pub mod capf;
pub mod digest;
pub mod error;
pub mod machine;
pub mod phone;
pub mod pkcs12;
pub mod pki;
pub mod sgn;
pub mod tls;
pub mod tlv;
pub mod tvs;
pub mod tvs_decode;
pub mod version;
pub mod wall;

pub use digest::DigestAlg;
pub use error::{CertError, SigError};
pub use wall::WallTime;
