//! Wire mode: the simulated cluster's services on real sockets (`cucmsim serve`) and phone
//! farms against real servers (`cucmsim farm`), in real time. The same pure machines the
//! simulation runs on virtual time run here; only the driver differs (design.md: "same actors,
//! two drivers"). Nothing here touches the virtual-time engine.
//!
//! ```text
//!  scenario + seed ──world.rs──► the cluster's Tftp · Tvs · Capf machines, started as in a run
//!      serve.rs ─► tftp.rs (UDP, RFC 1350) · http.rs (6970) · tvs.rs (TLS 2445) · capf.rs (TLS 3804)
//!  scenario + seed ──farm/fleet.rs──► the fleet's phones (MICs), the cluster's TVS/CAPF certificates
//!      farm/ ─► run.rs (open / closed load) ─► boot.rs (the Phone machine) · tvsq.rs · enroll.rs
//!  quic/: serve --quic-port and farm --transport quic — each phone's TLS session (and each
//!        TFTP file) on its own stream of a few QUIC connections, the farm's key pinned;
//!        farm/multi.rs: --coordinate / --join, several farms' histograms merged into one report
//!  identity.rs: --identity TYPE=cert.pem,key.pem in, serve --export-keys out
//!  hist.rs: one HdrHistogram per operation, errors by reason (both sides); clock.rs: Now for
//!  the machines (monotonic ms + the host's wall clock)
//! ```

pub mod capf;
pub mod clock;
pub mod farm;
pub mod hist;
pub mod http;
pub mod identity;
pub mod quic;
pub mod serve;
pub mod tftp;
pub mod tvs;
pub mod world;
