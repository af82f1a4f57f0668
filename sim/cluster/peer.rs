//! A worker as the conductor's [`Peer`]: a window is encoded here ([`cucmsim_actors::remote`]),
//! travels as one ractor_cluster call to the worker's actor, and its answer is decoded on the
//! network runtime. A worker whose connection is lost (killed, frozen, cut off) ends every call
//! in flight with an error naming it — the conductor adds the virtual time reached.

use super::net::Node;
use super::proto::WorkerMsg;
use super::{call, WorkerInfo};
use cucmsim_actors::lp::Harvest;
use cucmsim_actors::peer::{Peer, PeerDone, PeerFigures, PeerWindow};
use cucmsim_actors::remote::{decode_finish, decode_window_resp, encode_window_req, WindowReq};
use ractor::ActorRef;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// No window or harvest is cut short by a clock: liveness is the connection's (QUIC
/// keep-alives and idle timeout), so a long window of real crypto is never mistaken for a
/// hang.
const NO_LIMIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// A worker of this run.
pub struct RemotePeer {
    name: String,
    node_id: u64,
    actor: ActorRef<WorkerMsg>,
    net: tokio::runtime::Handle,
    sessions: watch::Receiver<super::net::Sessions>,
    figures: Arc<Mutex<PeerFigures>>,
}

impl RemotePeer {
    pub fn new(node: &Node, w: &WorkerInfo, phones: u64) -> RemotePeer {
        RemotePeer {
            name: w.addr.to_string(),
            node_id: w.node_id,
            actor: w.actor.clone(),
            net: node.rt.handle().clone(),
            sessions: node.sessions.clone(),
            figures: Arc::new(Mutex::new(PeerFigures {
                name: w.addr.to_string(),
                phones,
                ..PeerFigures::default()
            })),
        }
    }

    /// Runs `work` on the network runtime, racing the worker's connection.
    fn send<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, String>> + Send + 'static,
    ) -> oneshot::Receiver<Result<T, String>> {
        let (tx, rx) = oneshot::channel();
        let sessions = self.sessions.clone();
        let id = self.node_id;
        self.net.spawn(async move {
            let _ = tx.send(race_down(sessions, id, work).await);
        });
        rx
    }
}

/// `work`'s result, or an error once node `id`'s session is gone.
pub(crate) async fn race_down<T>(
    mut sessions: watch::Receiver<super::net::Sessions>,
    id: u64,
    work: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    let down = async {
        loop {
            if let Some(why) = sessions.borrow().down.get(&id) {
                return format!("its connection was lost ({why}): killed, frozen or cut off");
            }
            if sessions.changed().await.is_err() {
                return "this node's network stopped".to_string();
            }
        }
    };
    let r = tokio::select! {
        r = work => r,
        why = down => return Err(why),
    };
    // A call that failed because the session went away says so.
    r.map_err(|e| match sessions.borrow().down.get(&id) {
        Some(why) => format!("its connection was lost ({why}): killed, frozen or cut off"),
        None => e,
    })
}

/// A join handle's result, or an error once `w`'s session is gone.
pub(crate) async fn or_down(
    node: &Node,
    w: &WorkerInfo,
    handle: tokio::task::JoinHandle<Result<Vec<u8>, String>>,
) -> Result<Vec<u8>, String> {
    race_down(node.sessions.clone(), w.node_id, async {
        handle.await.map_err(|e| e.to_string()).and_then(|r| r)
    })
    .await
}

impl Peer for RemotePeer {
    fn name(&self) -> &str {
        &self.name
    }

    fn window(&self, w: PeerWindow) -> oneshot::Receiver<Result<PeerDone, String>> {
        let letters: u64 = w.letters.iter().map(|(_, l)| l.len() as u64).sum();
        let req = WindowReq {
            end_ms: w.end_ms,
            skews: (*w.skews).clone(),
            letters: w.letters,
        };
        let frame = encode_window_req(&req).map_err(|e| e.to_string());
        {
            let mut f = self.figures.lock().expect("figures");
            f.letters_out += letters;
            f.bytes_out += frame.as_ref().map_or(0, |b| b.len() as u64);
        }
        let actor = self.actor.clone();
        let figures = Arc::clone(&self.figures);
        self.send(async move {
            let answer = call(&actor, WorkerMsg::Window, frame?, NO_LIMIT).await?;
            let resp = decode_window_resp(&answer).map_err(|e| e.to_string())?;
            let mut f = figures.lock().expect("figures");
            f.bytes_in += answer.len() as u64;
            f.letters_in += resp
                .done
                .iter()
                .map(|(_, d)| d.out.len() as u64)
                .sum::<u64>();
            Ok(PeerDone {
                done: resp.done,
                busy_ns: resp.busy_ns,
            })
        })
    }

    fn finish(&self) -> oneshot::Receiver<Result<Harvest, String>> {
        let actor = self.actor.clone();
        let figures = Arc::clone(&self.figures);
        self.send(async move {
            let answer = call(&actor, WorkerMsg::Finish, vec![], NO_LIMIT).await?;
            figures.lock().expect("figures").bytes_in += answer.len() as u64;
            let h = decode_finish(&answer).map_err(|e| e.to_string())?;
            Ok(Harvest {
                trace: h.trace,
                counters: h.counters,
                costs: h.costs,
            })
        })
    }

    fn figures(&self) -> PeerFigures {
        self.figures.lock().expect("figures").clone()
    }
}
