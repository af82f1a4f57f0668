//! A node of a distributed run: ractor_cluster's `NodeServer` on its own small tokio runtime,
//! with every node session carried by a QUIC bidirectional stream (quinn + rustls, see
//! [`super::secret`]) — ractor_cluster's external-transport support — instead of its TCP.
//!
//! ```text
//!  coordinator                                   worker (`cucmsim worker --listen ADDR`)
//!  quinn Endpoint ──QUIC handshake (pinned key, ALPN cucmsim-cluster/1)──► quinn Endpoint
//!     open_bi ─────────────── one stream per node pair ──────────────► accept_bi
//!  NodeServer ◄──ConnectionOpenedExternal──┐        ┌──ConnectionOpenedExternal──► NodeServer
//!     NodeSession ◄═ cookie challenge, pg sync, remote actor messages ═► NodeSession
//! ```
//! The network runtime is separate from the one the logical processes compute on, so a
//! window that keeps every compute thread busy never delays a keep-alive: a node that dies or
//! freezes is noticed in [`super::secret::IDLE_TIMEOUT_S`] seconds, not after the window.
//! ractor_cluster's own TCP listener (it always opens one) is bound to loopback on an
//! ephemeral port and carries nothing; it too demands the cookie.

use super::secret::{Secret, SERVER_NAME};
use ractor::{Actor, ActorRef};
use ractor_cluster::node::{NodeConnectionMode, NodeServerSessionInformation};
use ractor_cluster::{
    BoxRead, BoxWrite, ClusterBidiStream, NodeEventSubscription, NodeServer, NodeServerMessage,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// The largest frame a node accepts (a window's letters for every phone a worker hosts).
pub const MAX_FRAME: u64 = 1 << 30;

/// A node's session events, as the nodes' ids see them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sessions {
    /// Ready sessions: node id → peer name.
    pub ready: BTreeMap<u64, String>,
    /// Node ids whose session ended.
    pub down: BTreeMap<u64, String>,
}

struct Events(watch::Sender<Sessions>);

fn peer_name(ses: &NodeServerSessionInformation) -> String {
    ses.peer_name
        .as_ref()
        .map_or_else(|| format!("node {}", ses.node_id), |n| n.name.clone())
}

impl NodeEventSubscription for Events {
    fn node_session_opened(&self, _ses: NodeServerSessionInformation) {}

    fn node_session_disconnected(&self, ses: NodeServerSessionInformation) {
        let name = peer_name(&ses);
        tracing::info!(node = ses.node_id, %name, "node session ended");
        self.0.send_modify(|s| {
            s.ready.remove(&ses.node_id);
            s.down.insert(ses.node_id, name);
        });
    }

    fn node_session_authenticated(&self, _ses: NodeServerSessionInformation) {}

    fn node_session_ready(&self, ses: NodeServerSessionInformation) {
        let name = peer_name(&ses);
        tracing::info!(node = ses.node_id, %name, "node session ready");
        self.0.send_modify(|s| {
            s.ready.insert(ses.node_id, name);
        });
    }
}

/// One QUIC stream as ractor_cluster's byte stream.
struct QuicStream {
    send: quinn::SendStream,
    recv: quinn::RecvStream,
    peer: String,
}

impl ClusterBidiStream for QuicStream {
    fn split(self: Box<Self>) -> (BoxRead, BoxWrite) {
        (Box::new(self.recv), Box::new(self.send))
    }

    fn peer_label(&self) -> Option<String> {
        Some(self.peer.clone())
    }
}

/// This process as a node of the cluster.
pub struct Node {
    /// The runtime the node's networking runs on.
    pub rt: tokio::runtime::Runtime,
    pub server: ActorRef<NodeServerMessage>,
    pub endpoint: quinn::Endpoint,
    pub sessions: watch::Receiver<Sessions>,
    secret: Arc<Secret>,
}

impl Node {
    /// Starts node `name`: a QUIC endpoint on `bind` (a server when `listen`), the node server.
    pub fn start(
        name: &str,
        bind: SocketAddr,
        listen: bool,
        secret: Arc<Secret>,
    ) -> Result<Node, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cucmsim-net")
            .enable_all()
            .build()
            .map_err(|e| format!("network runtime: {e}"))?;
        let (tx, rx) = watch::channel(Sessions::default());
        let (server, endpoint) = rt.block_on(async {
            let endpoint = if listen {
                quinn::Endpoint::server(secret.server_config()?, bind)
            } else {
                quinn::Endpoint::client(bind).map(|mut e| {
                    e.set_default_client_config(secret.client_config().expect("client config"));
                    e
                })
            }
            .map_err(|e| format!("QUIC endpoint on {bind}: {e}"))?;
            let ns = NodeServer::new(
                0,
                secret.cookie(),
                name.to_string(),
                "localhost".to_string(),
                None,
                Some(NodeConnectionMode::Isolated),
            )
            .with_listen_addr(std::net::IpAddr::from([127, 0, 0, 1]))
            .with_max_inbound_frame_size(MAX_FRAME);
            let (server, _) = Actor::spawn(None, ns, ())
                .await
                .map_err(|e| format!("node server: {e}"))?;
            server
                .cast(NodeServerMessage::SubscribeToEvents {
                    id: "cucmsim".into(),
                    subscription: Box::new(Events(tx)),
                })
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((server, endpoint))
        })?;
        Ok(Node {
            rt,
            server,
            endpoint,
            sessions: rx,
            secret,
        })
    }

    /// The QUIC address this node listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, String> {
        self.endpoint.local_addr().map_err(|e| e.to_string())
    }

    /// Accepts QUIC connections for ever, each one's first stream handed to the node server.
    pub fn serve(&self) {
        let endpoint = self.endpoint.clone();
        let server = self.server.clone();
        self.rt.spawn(async move {
            while let Some(incoming) = endpoint.accept().await {
                let server = server.clone();
                tokio::spawn(async move {
                    let peer = incoming.remote_address().to_string();
                    let conn = match incoming.await {
                        Ok(c) => c,
                        Err(e) => {
                            tracing::warn!(%peer, error = %e, "QUIC handshake refused");
                            return;
                        }
                    };
                    match conn.accept_bi().await {
                        Ok((send, recv)) => {
                            let stream = Box::new(QuicStream { send, recv, peer });
                            let _ = server.cast(NodeServerMessage::ConnectionOpenedExternal {
                                stream,
                                is_server: true,
                            });
                        }
                        Err(e) => tracing::warn!(%peer, error = %e, "no stream on the connection"),
                    }
                });
            }
        });
    }

    /// Connects to the node listening on `addr`; returns when the QUIC handshake is done and
    /// the stream is handed to the node server.
    pub fn connect(&self, addr: SocketAddr, timeout: std::time::Duration) -> Result<(), String> {
        let endpoint = self.endpoint.clone();
        let server = self.server.clone();
        let config = self.secret.client_config()?;
        self.rt.block_on(async move {
            let connecting = endpoint
                .connect_with(config, addr, SERVER_NAME)
                .map_err(|e| format!("{addr}: {e}"))?;
            let conn = tokio::time::timeout(timeout, connecting)
                .await
                .map_err(|_| format!("{addr}: no QUIC answer in {} s", timeout.as_secs()))?
                .map_err(|e| format!("{addr}: the QUIC handshake failed: {e} (another secret, or another cucmsim version?)"))?;
            let (send, recv) = conn
                .open_bi()
                .await
                .map_err(|e| format!("{addr}: {e}"))?;
            let stream = Box::new(QuicStream {
                send,
                recv,
                peer: addr.to_string(),
            });
            ractor_cluster::client_connect_external(&server, stream)
                .await
                .map_err(|e| format!("{addr}: {e:?}"))
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.server.stop(None);
        self.endpoint.close(0u32.into(), b"done");
    }
}
