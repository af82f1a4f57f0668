//! The root supervisor: every shell is spawned linked to it, so a shell that fails (an `Err`
//! from a machine's shell, or a panic) is reported as an observation instead of vanishing.

use crate::bus::Bus;
use crate::shell::Shell;
use cucmsim_core::machine::Machine;
use cucmsim_core::machine::{Event, Observation};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

/// The supervisor actor.
pub struct Supervisor {
    pub bus: Bus,
    /// The participant kind it supervises (`phone`, `tvs`, …), named in its reports.
    pub kind: &'static str,
}

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
            let now = self.bus.now(&cucmsim_core::machine::Addr::Dhcp);
            let name = who
                .get_name()
                .unwrap_or_else(|| format!("{:?}", who.get_id()));
            tracing::warn!(kind = self.kind, actor = %name, error = %err, "actor failed");
            let failed = Event::ActorFailed {
                error: err.to_string(),
            };
            self.bus.observe(Observation::new(now, &name, failed));
        }
        Ok(())
    }
}

/// Spawns `machine` in a shell linked to `supervisor` and registers it on the bus.
pub async fn spawn_shell<M: Machine>(
    bus: &Bus,
    supervisor: &ActorRef<()>,
    machine: M,
) -> Result<ActorRef<crate::Mail>, ractor::SpawnErr> {
    let addr = machine.addr();
    let (actor, _join) = Actor::spawn_linked(
        None,
        Shell::<M>::new(bus.clone()),
        machine,
        supervisor.get_cell(),
    )
    .await?;
    bus.register(addr, actor.clone());
    Ok(actor)
}
