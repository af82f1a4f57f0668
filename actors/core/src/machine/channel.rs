//! One secure connection as every participant that speaks TLS sees it: the phone towards TVS,
//! CAPF and the TFTP's HTTPS port, and the TVS, CAPF and TFTP servers towards the phone.
//! A [`Channel`] is either a real rustls session ([`TlsEnd`]) or *identity mode* (no
//! handshake: application bytes travel in the clear and the peer's certificate is checked
//! directly, or sent with the first clear write), with the application bytes waiting for the
//! handshake and the plaintext received so far inside it.
//!
//! ```text
//!  TLS:      feed(flight) ─► TlsEnd ─► plaintext ─► received ─► the participant decodes
//!                             │ established? ─► pending bytes queued once
//!            write(bytes) ─► TlsEnd ─► flush() ─► one flight (TLS records) ─► the bus
//!  identity: feed(bytes) ─► received             write(bytes) ─► Some(bytes): send in the clear
//!            check_peer(certificate test, once)   first_clear_write(): the server's certificate
//! ```
//! The channel sends nothing itself: the participant wraps flights and clear bytes in its
//! own messages (`TvsTls`, `CapfPlain`, …), so when each flight leaves is unchanged.

use crate::tls::TlsEnd;

/// How the bytes of the connection travel.
#[derive(Debug)]
enum Link {
    /// A real TLS session: flights of TLS records.
    Tls(Box<TlsEnd>),
    /// No handshake: the peer's certificate is checked directly (`peer_checked`), a server
    /// sends its own with its first write (`cert_sent`).
    Identity { peer_checked: bool, cert_sent: bool },
}

/// One secure connection: real TLS or an identity check, with its pending and received bytes.
#[derive(Debug)]
pub struct Channel {
    link: Link,
    /// Application bytes sent once the handshake completes (a request, a greeting).
    pending: Option<Vec<u8>>,
    /// Application bytes received and not consumed yet.
    received: Vec<u8>,
}

impl Channel {
    /// A channel over a real TLS session.
    pub fn tls(end: TlsEnd) -> Channel {
        Channel {
            link: Link::Tls(Box::new(end)),
            pending: None,
            received: vec![],
        }
    }

    /// A channel in identity mode.
    pub fn identity() -> Channel {
        Channel {
            link: Link::Identity {
                peer_checked: false,
                cert_sent: false,
            },
            pending: None,
            received: vec![],
        }
    }

    /// Holds `data` until the handshake completes (TLS), or until [`Channel::take_pending`].
    pub fn with_pending(mut self, data: Vec<u8>) -> Channel {
        self.pending = Some(data);
        self
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.link, Link::Tls(_))
    }

    /// Takes the pending bytes (identity mode sends them with its first clear write).
    pub fn take_pending(&mut self) -> Option<Vec<u8>> {
        self.pending.take()
    }

    /// Received bytes. TLS: a flight; `Err` is the handshake or record failure, as text.
    /// Once the handshake is up the pending bytes are queued (once). Identity: plaintext.
    /// Either way the plaintext received is appended to [`Channel::received`].
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), String> {
        match &mut self.link {
            Link::Tls(end) => {
                let fed = end.feed(bytes);
                if fed.is_ok() && end.is_established() {
                    if let Some(data) = &self.pending {
                        if end.send(data).is_ok() {
                            self.pending = None;
                        }
                    }
                }
                self.received.extend(end.take_plain());
                fed
            }
            Link::Identity { .. } => {
                self.received.extend_from_slice(bytes);
                Ok(())
            }
        }
    }

    /// Writes application data. TLS: queued in the session, it leaves with the next
    /// [`Channel::flush`] (`Ok(None)`). Identity: `Ok(Some(bytes))`, to send now in the clear.
    pub fn write(&mut self, data: Vec<u8>) -> Result<Option<Vec<u8>>, String> {
        match &mut self.link {
            Link::Tls(end) => end.send(&data).map(|()| None),
            Link::Identity { .. } => Ok(Some(data)),
        }
    }

    /// The TLS records to send now (empty when none, and always in identity mode).
    pub fn flush(&mut self) -> Vec<u8> {
        match &mut self.link {
            Link::Tls(end) => end.take_outgoing(),
            Link::Identity { .. } => vec![],
        }
    }

    /// Plaintext received and not consumed yet.
    pub fn received(&self) -> &[u8] {
        &self.received
    }

    /// Takes every byte received so far.
    pub fn take_received(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.received)
    }

    /// Drops the first `n` received bytes (a message was decoded from them).
    pub fn consume(&mut self, n: usize) {
        self.received.drain(..n);
    }

    /// TLS: whether the handshake is complete.
    pub fn is_established(&self) -> bool {
        match &self.link {
            Link::Tls(end) => end.is_established(),
            Link::Identity { .. } => true,
        }
    }

    /// TLS: the certificate the peer presented in the handshake, once received.
    pub fn peer_certificate(&self) -> Option<Vec<u8>> {
        match &self.link {
            Link::Tls(end) => end.peer_certificate(),
            Link::Identity { .. } => None,
        }
    }

    /// Identity mode: runs `check` on the peer's certificate the first time only and says
    /// whether it passed (it stays passed). TLS: rustls checked it in the handshake.
    pub fn check_peer(&mut self, check: impl FnOnce() -> bool) -> bool {
        match &mut self.link {
            Link::Tls(_) => true,
            Link::Identity { peer_checked, .. } => {
                if !*peer_checked {
                    *peer_checked = check();
                }
                *peer_checked
            }
        }
    }

    /// Identity mode (server side): whether this clear write is the first, the one that
    /// carries the server's certificate; marks it done. Always false over TLS.
    pub fn first_clear_write(&mut self) -> bool {
        match &mut self.link {
            Link::Tls(_) => false,
            Link::Identity { cert_sent, .. } => !std::mem::replace(cert_sent, true),
        }
    }
}
