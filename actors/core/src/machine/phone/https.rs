//! The phone's HTTPS service (reference §2.3 item 3, §2.4; catalogue F17–F19): a registered
//! phone opens a service (Corporate Directory, EM, …) whose Tomcat presents a certificate
//! that is "not in CTL", so it checks its TVS cache, else asks TVS CERT_VERIFICATION through
//! the one TVS query of [`super::tvs_query`]. The decisions are the pure
//! [`crate::phone::https`]; this module only moves the bytes.
//!
//! ```text
//!  HttpsOpen{server, cert} ─► not registered ─► https_skipped
//!      judge: CTL/ITL or cache ─► https_ok │ no TVS ─► https_failed "Host Not Found"
//!      AskTvs ─► tvs_query(Certificate) ─► VerifyRes ─► https_ok | https_failed
//!                 every TVS failed or silent ─► https_failed
//! ```
//! The flow runs beside the registration and leaves the phone's state alone; a reset or power
//! failure drops it. One service at a time: a new one replaces one in progress [I].
//! The secure config download ([`super::tftp_https`], F29) judges the TFTP's certificate
//! through this same flow ([`Purpose::ConfigDownload`]); its outcome goes back to that download.

use super::status::T_HTTPS;
use super::tvs_query::{Heard, Question, TvsQuery};
use super::Phone;
use crate::machine::msg::{Effect, Msg, Now};
use crate::machine::trace::Kind;
use crate::phone::https::{self, HttpsDecision, HttpsPath};
use crate::pki::Certificate;
use crate::tvs::TvsBody;
use std::sync::Arc;

/// What the judged certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// An HTTPS service the user opened (Corporate Directory, EM, …).
    Service,
    /// The TFTP's HTTPS config download ([`super::tftp_https`]).
    ConfigDownload,
}

/// One HTTPS server certificate being verified through TVS.
#[derive(Debug)]
pub(super) struct HttpsConn {
    purpose: Purpose,
    /// A [`Question::Certificate`].
    pub(super) query: TvsQuery,
}

impl HttpsConn {
    fn server(&self) -> &str {
        match &self.query.question {
            Question::Certificate { server, .. } => server,
            Question::Signer { .. } => "",
        }
    }
}

impl Phone {
    /// The user opens the service served by `server`, which presents `der`.
    pub(super) fn https_open(
        &mut self,
        server: String,
        der: Arc<[u8]>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        self.https = None;
        if self.registered_cluster().is_none() {
            out.push(self.obs(now, Kind::HttpsSkipped, format!("{server}: not registered")));
            return;
        }
        let cert = match Certificate::from_der(&der) {
            Ok(c) => c,
            Err(e) => {
                let why = format!("{server}: unreadable server certificate: {e}");
                return out.push(self.obs(now, Kind::HttpsFailed, why));
            }
        };
        self.https_verify(server, cert, Purpose::Service, now, out)
    }

    /// Judges the certificate `server` presented: CTL/ITL, the TVS cache, else TVS.
    pub(super) fn https_verify(
        &mut self,
        server: String,
        cert: Certificate,
        purpose: Purpose,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        self.https = None;
        let tvs_count = self.config.as_ref().map_or(0, |c| c.tvs.len());
        match https::judge(&self.trust, &cert, tvs_count, now.wall) {
            HttpsDecision::Trusted(path) => self.https_done(&server, purpose, Ok(path), now, out),
            HttpsDecision::Fail(why) => self.https_done(&server, purpose, Err(why), now, out),
            HttpsDecision::AskTvs => {
                let question = Question::Certificate { server, cert };
                let conn = HttpsConn {
                    purpose,
                    query: TvsQuery::new(question, T_HTTPS),
                };
                self.https_ask(Box::new(conn), 0, now, out);
            }
        }
    }

    /// The end of a judgement: `https_ok` or `https_failed`, and, for a config download,
    /// the verdict handed back to it.
    fn https_done(
        &mut self,
        server: &str,
        purpose: Purpose,
        result: Result<HttpsPath, String>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let (what, detail) = match &result {
            Ok(HttpsPath::TrustList) => (
                Kind::HttpsOk,
                format!("{server}: server certificate in the CTL/ITL"),
            ),
            Ok(HttpsPath::Tvs { cached: true }) => (
                Kind::HttpsOk,
                format!("{server}: {} (TVS cache)", https::AUTHENTICATED),
            ),
            Ok(HttpsPath::Tvs { cached: false }) => {
                (Kind::HttpsOk, format!("{server}: {}", https::AUTHENTICATED))
            }
            Err(why) => (Kind::HttpsFailed, format!("{server}: {why}")),
        };
        out.push(self.obs(now, what, detail));
        if purpose == Purpose::ConfigDownload {
            self.secure_verdict(result.map(|_| ()), now, out);
        }
    }

    /// Asks TVS `ix` of the current config, or fails the service when none is left.
    fn https_ask(&mut self, mut c: Box<HttpsConn>, ix: usize, now: Now, out: &mut Vec<Effect>) {
        if !self.tvs_ask(&mut c.query, ix, now, out) {
            let why = https::exhausted(c.query.handshake_failed);
            let server = c.server().to_string();
            return self.https_done(&server, c.purpose, Err(why), now, out);
        }
        self.https = Some(c);
    }

    /// The service's TVS did not answer in time: the next TVS.
    pub(super) fn on_https_timer(&mut self, now: Now, out: &mut Vec<Effect>) {
        let Some(c) = self.https.take() else { return };
        if now.mono_ms < c.query.deadline_ms {
            self.https = Some(c); // a timer of an earlier session
            return;
        }
        self.tvs_timed_out(&c.query, now, out);
        let next = c.query.tvs_ix + 1;
        self.https_ask(c, next, now, out);
    }

    /// A message of the service's TVS session.
    pub(super) fn on_https_tvs(&mut self, msg: Msg, now: Now, out: &mut Vec<Effect>) {
        let Some(mut c) = self.https.take() else {
            return;
        };
        match self.tvs_heard(&mut c.query, msg, now, out) {
            Heard::Waiting => self.https = Some(c),
            Heard::Failed => {
                let next = c.query.tvs_ix + 1;
                self.https_ask(c, next, now, out)
            }
            Heard::Answer { body, .. } => self.https_settle(c, body, now, out),
        }
    }

    fn https_settle(
        &mut self,
        c: Box<HttpsConn>,
        answer: Option<TvsBody>,
        now: Now,
        out: &mut Vec<Effect>,
    ) {
        let server = c.server().to_string();
        let Some(TvsBody::VerifyRes {
            valid,
            roles,
            ttl_s,
        }) = answer
        else {
            let why = "TVS answer unreadable".to_string();
            return self.https_done(&server, c.purpose, Err(why), now, out);
        };
        out.push(self.obs(
            now,
            Kind::TvsAnswer,
            format!("https {server} valid={valid}"),
        ));
        let Question::Certificate { cert, .. } = &c.query.question else {
            return;
        };
        match https::on_verify_answer(&mut self.trust, cert, valid, &roles, ttl_s, now.wall) {
            HttpsDecision::Trusted(path) => self.https_done(&server, c.purpose, Ok(path), now, out),
            HttpsDecision::Fail(why) => self.https_done(&server, c.purpose, Err(why), now, out),
            HttpsDecision::AskTvs => {}
        }
    }
}
