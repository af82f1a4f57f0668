//! A logical process: one ractor actor hosting machines — a shard of phones, or one service —
//! with its own queue of letters, run one conservative window at a time.
//!
//! Each phone stays an actor in the model (its own sans-I/O machine, its own ordered mailbox,
//! addressable by MAC, a failure isolated and reported per phone); a shard multiplexes
//! thousands of them on one ractor actor, so a phone costs its state and not a task with two
//! channels. Services (TFTP, TVS, CAPF, CallManager, publisher, DHCP, SFTP, CAs) keep one
//! actor each.
//!
//! ```text
//!  conductor ──Window{end, letters, skews}──► Lp<M>: queue ∪ letters
//!     while the earliest letter is due before `end`:
//!        M::on_input(input, now)            (a panic: `actor_failed`, that machine stops)
//!          Send    ──► Bus::plan ──► letter for another LP (out) or this one (queue)
//!          Timer   ──► this queue
//!          Observe ──► this trace
//!  conductor ◄──WindowDone{out, next_due, steps}──
//! ```
//! Every send is due at least one lookahead after it was sent, and a window is at most one
//! lookahead long, so nothing sent in a window is due inside it: the logical processes of a
//! window never wait for each other (Shadow's rounds, YAWNS). No trust decision lives here.

use crate::bus::{addr_key, Bus, Counters, Skews};
use crate::cost::CostMeter;
use crate::letter::Letter;
use crate::steps::{Cause, Mail};
use cucmsim_core::machine::{Addr, Effect, Event, Input, Machine, Msg, Observation};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// What a logical process is asked to do.
pub enum LpMsg {
    /// Handle every letter due before `end_ms` (after queueing `letters`).
    Window {
        end_ms: u64,
        letters: Vec<Letter>,
        skews: Skews,
        reply: RpcReplyPort<WindowDone>,
    },
    /// Hand over what the run produced here.
    Finish(RpcReplyPort<Harvest>),
}

/// Local only: a window's letters travel between nodes as the distributed protocol's frames
/// ([`crate::remote`]), never as this message.
impl ractor::Message for LpMsg {}

/// Inputs of an operator step sent and handled in one window, and when the last was handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepDelta {
    pub added: u64,
    pub done: u64,
    pub last_done_ms: u64,
}

/// What one window did.
#[derive(Debug, Default)]
pub struct WindowDone {
    /// Letters for other logical processes, by index.
    pub out: Vec<(u32, Letter)>,
    /// The earliest letter still queued here.
    pub next_due: Option<u64>,
    /// Per operator step (cause number).
    pub steps: Vec<(u32, StepDelta)>,
    /// Inputs handled.
    pub events: u64,
}

/// What a logical process hands over at the end.
#[derive(Default)]
pub struct Harvest {
    pub trace: Vec<Observation>,
    pub counters: Counters,
    pub costs: CostMeter,
}

/// One hosted machine.
struct Slot<M> {
    machine: M,
    addr: Addr,
    key: u64,
    seq: u64,
    /// Stopped after a panic: later inputs are dropped.
    failed: bool,
}

/// The actor: logical process `index` of the run.
pub struct Lp<M: Machine> {
    pub bus: Bus,
    pub index: u32,
    /// Threads a hosted service may use to prepare a window's inputs ([`Machine::prepare`]).
    pub fan_out: usize,
    _m: std::marker::PhantomData<fn() -> M>,
}

impl<M: Machine> Lp<M> {
    pub fn new(bus: Bus, index: u32, fan_out: usize) -> Self {
        Lp {
            bus,
            index,
            fan_out,
            _m: std::marker::PhantomData,
        }
    }
}

/// A logical process's state.
pub struct LpState<M> {
    slots: Vec<Slot<M>>,
    queue: BinaryHeap<Reverse<Letter>>,
    fifo: Fifo,
    harvest: Harvest,
}

/// What one window is building.
struct Run<'a> {
    bus: &'a Bus,
    me: u32,
    end_ms: u64,
    /// Threads a machine may use to prepare its window's inputs side by side.
    fan_out: usize,
    skews: &'a Skews,
    done: WindowDone,
    steps: HashMap<u32, StepDelta>,
}

impl<M: Machine> Actor for Lp<M> {
    type Msg = LpMsg;
    type State = LpState<M>;
    /// The machines and the letters queued before the run starts (power-on).
    type Arguments = (Vec<M>, Vec<Letter>);

    async fn pre_start(
        &self,
        _myself: ActorRef<LpMsg>,
        (machines, letters): (Vec<M>, Vec<Letter>),
    ) -> Result<Self::State, ActorProcessingErr> {
        let slots = machines
            .into_iter()
            .map(|machine| {
                let addr = machine.addr();
                Slot {
                    key: addr_key(&addr),
                    addr,
                    machine,
                    seq: 0,
                    failed: false,
                }
            })
            .collect();
        Ok(LpState {
            slots,
            queue: letters.into_iter().map(Reverse).collect(),
            fifo: Fifo::default(),
            harvest: Harvest::default(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<LpMsg>,
        msg: LpMsg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            LpMsg::Window {
                end_ms,
                letters,
                skews,
                reply,
            } => {
                state.queue.extend(letters.into_iter().map(Reverse));
                let mut run = Run {
                    bus: &self.bus,
                    me: self.index,
                    end_ms,
                    fan_out: self.fan_out,
                    skews: &skews,
                    done: WindowDone::default(),
                    steps: HashMap::new(),
                };
                state.window(&mut run);
                let mut done = run.done;
                done.next_due = state.queue.peek().map(|l| l.0.due_ms);
                done.steps = run.steps.into_iter().collect();
                done.steps.sort_unstable_by_key(|(c, _)| *c);
                let _ = reply.send(done);
            }
            LpMsg::Finish(reply) => {
                let _ = reply.send(std::mem::take(&mut state.harvest));
            }
        }
        Ok(())
    }
}

impl<M: Machine> LpState<M> {
    /// Handles every queued letter due before the window's end, in the letters' order.
    fn window(&mut self, run: &mut Run<'_>) {
        self.prepare(run);
        while self.queue.peek().is_some_and(|l| l.0.due_ms < run.end_ms) {
            let Some(Reverse(letter)) = self.queue.pop() else {
                break;
            };
            run.done.events += 1;
            let t = letter.due_ms;
            let Mail { input, cause } = letter.mail;
            self.handle_one(run, letter.slot as usize, input, cause, t);
            if !cause.is_none() {
                let d = run.steps.entry(cause.0).or_default();
                d.done += 1;
                d.last_done_ms = d.last_done_ms.max(t);
            }
        }
    }

    /// Lets a service work ahead on this window's inputs side by side (a shard's phones do
    /// not: the shards themselves run side by side).
    fn prepare(&mut self, run: &Run<'_>) {
        if run.fan_out < 2 || self.slots.len() != 1 || self.slots[0].failed {
            return;
        }
        if !self.slots[0].machine.prepares() {
            return;
        }
        let upcoming: Vec<&Input> = self
            .queue
            .iter()
            .filter(|l| l.0.due_ms < run.end_ms)
            .map(|l| &l.0.mail.input)
            .collect();
        if upcoming.len() > 1 {
            self.slots[0].machine.prepare(&upcoming, run.fan_out);
        }
    }

    /// One input to one machine at `t`, and its effects.
    fn handle_one(&mut self, run: &mut Run<'_>, slot: usize, input: Input, cause: Cause, t: u64) {
        let Some(s) = self.slots.get_mut(slot) else {
            return;
        };
        run.bus.note_tvs_arrival(&s.addr, &input, t);
        if s.failed {
            return;
        }
        let now = run.bus.now(&s.addr, t, run.skews);
        let input_kind = input.kind();
        let started = std::time::Instant::now();
        let machine = &mut s.machine;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            machine.on_input(input, now)
        }));
        let kind = s.addr.kind();
        self.harvest
            .costs
            .record(kind, input_kind, started.elapsed());
        let effects = match result {
            Ok(effects) => effects,
            Err(panic) => {
                s.failed = true;
                let error = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                tracing::warn!(actor = %s.addr, %error, "machine failed");
                let who = s.addr.to_string();
                let failed = Event::ActorFailed { error };
                self.harvest.trace.push(Observation::new(now, &who, failed));
                return;
            }
        };
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => self.send(run, slot, to, msg, cause, t),
                Effect::Timer { after_ms, token } => {
                    let s = &mut self.slots[slot];
                    s.seq += 1;
                    self.queue.push(Reverse(Letter {
                        due_ms: t + after_ms,
                        src: s.key,
                        seq: s.seq << 1,
                        slot: slot as u32,
                        mail: Mail::plain(Input::Timer(token)),
                    }));
                }
                Effect::Observe(obs) => self.harvest.trace.push(obs),
            }
        }
    }

    /// A message from slot `slot` to `to` at `t`, through the link policy; it inherits the
    /// input's operator step unless it goes to a phone (the operator waits for the servers,
    /// not for the phones).
    fn send(&mut self, run: &mut Run<'_>, slot: usize, to: Addr, msg: Msg, cause: Cause, t: u64) {
        let s = &mut self.slots[slot];
        s.seq += 1;
        let (from, fk, seq) = (&s.addr, s.key, s.seq);
        let tk = addr_key(&to);
        let plan = run.bus.plan((from, fk), seq, (&to, tk), &msg, t);
        let c = &mut self.harvest.counters;
        c.sent += 1;
        let Some(route) = run.bus.route_key(tk).filter(|_| plan.copies > 0) else {
            tracing::trace!(%from, %to, t_ms = t, "message dropped");
            c.dropped += 1;
            return;
        };
        c.delivered += 1;
        c.duplicated += u64::from(plan.copies == 2);
        let mut due = t + plan.delay_ms;
        if !msg.datagram() {
            due = self.fifo.order((fk, tk), t, due);
        }
        run.bus.note_tvs(from, &to, &msg, t);
        let cause = if matches!(to, Addr::Phone(_)) {
            Cause::NONE
        } else {
            cause
        };
        if !cause.is_none() {
            run.steps.entry(cause.0).or_default().added += u64::from(plan.copies);
        }
        let letter = |due_ms, copy: u64, msg| Letter {
            due_ms,
            src: fk,
            seq: seq << 1 | copy,
            slot: route.slot,
            mail: Mail {
                input: Input::Msg(msg),
                cause,
            },
        };
        if plan.copies == 2 {
            self.post(run, route.lp, letter(due + 1, 1, msg.clone()));
        }
        self.post(run, route.lp, letter(due, 0, msg));
    }

    /// Queues `letter` here, or hands it to the conductor for logical process `lp`.
    fn post(&mut self, run: &mut Run<'_>, lp: u32, letter: Letter) {
        debug_assert!(letter.due_ms >= run.end_ms, "a letter inside its window");
        if lp == run.me {
            self.queue.push(Reverse(letter));
        } else {
            run.done.out.push((lp, letter));
        }
    }
}

/// Ordered links: between two endpoints every message but a datagram (TFTP, DHCP) keeps its
/// sending order — its due time is never before the previous one's on that link (TCP, and
/// the publisher's database changes, are ordered), so a later trust-store snapshot cannot
/// overtake an earlier one through jitter. A link belongs to its sender, so its sender's
/// logical process keeps it.
#[derive(Default)]
struct Fifo {
    last_due: HashMap<(u64, u64), u64>,
    /// Size after the last pruning: links whose last message has landed are forgotten when
    /// the map doubles (a forgotten link's last due is in the past and would change nothing).
    pruned_len: usize,
}

impl Fifo {
    /// The due time of a message sent at `t_ms` that the network would deliver at `due_ms`:
    /// not before the link's previous ordered message.
    fn order(&mut self, link: (u64, u64), t_ms: u64, due_ms: u64) -> u64 {
        if self.last_due.len() > 2 * self.pruned_len.max(1024) {
            self.last_due.retain(|_, last| *last > t_ms);
            self.pruned_len = self.last_due.len();
        }
        let last = self.last_due.entry(link).or_insert(0);
        *last = due_ms.max(*last);
        *last
    }
}
