//! The root supervisor: every logical process is spawned linked to it. A machine that fails
//! inside a logical process is caught there and becomes that machine's `actor_failed`
//! observation (the rest of the shard goes on); a logical process that stops altogether is
//! logged here, and the conductor, waiting on its window, ends the run with an error naming
//! it and the virtual time reached — never a hang.

use crate::bus::Bus;
use crate::letter::Letter;
use crate::lp::{Lp, LpMsg};
use cucmsim_core::machine::Machine;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

/// The supervisor actor.
pub struct Supervisor;

impl Actor for Supervisor {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _myself: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        event: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(who, err) = event {
            tracing::error!(actor = ?who.get_id(), error = %err, "logical process failed");
        }
        Ok(())
    }
}

/// Spawns logical process `index` hosting `machines`, with `letters` already queued, linked
/// to `supervisor`; a hosted service may prepare a window's inputs on `fan_out` threads.
pub async fn spawn_lp<M: Machine>(
    bus: &Bus,
    supervisor: &ActorRef<()>,
    (index, fan_out): (u32, usize),
    machines: Vec<M>,
    letters: Vec<Letter>,
) -> Result<ActorRef<LpMsg>, ractor::SpawnErr> {
    let (actor, _join) = Actor::spawn_linked(
        None,
        Lp::<M>::new(bus.clone(), index, fan_out),
        (machines, letters),
        supervisor.get_cell(),
    )
    .await?;
    Ok(actor)
}
