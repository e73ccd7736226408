//! The actix system of a colt process, on a thread of its own, and the one
//! way the rest of colt talks to its actors: a message that carries a
//! crossbeam reply channel, answered on the actor's thread while the
//! asking thread (a search thread, the command line) blocks on it alone.

use actix::{Actor, Addr, ArbiterHandle, Handler, Message, System};
use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// An actor is gone (its system stopped, or it panicked): the message could
/// not be delivered or was never answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {actor} actor is not running (its system stopped or it failed)")]
pub struct ActorGone {
    pub actor: &'static str,
}

/// Sends the message `make` builds around a reply channel, and waits for
/// the reply.
pub fn ask<A, M, T>(addr: &Addr<A>, actor: &'static str, make: impl FnOnce(Sender<T>) -> M) -> Result<T, ActorGone>
where
    A: Actor + Handler<M>,
    A::Context: actix::dev::ToEnvelope<A, M>,
    M: Message<Result = ()> + Send + 'static,
{
    send(addr, actor, make)?.recv().map_err(|_| ActorGone { actor })
}

/// Sends the message `make` builds around a reply channel: the channel the
/// reply will come on.
fn send<A, M, T>(
    addr: &Addr<A>,
    actor: &'static str,
    make: impl FnOnce(Sender<T>) -> M,
) -> Result<Receiver<T>, ActorGone>
where
    A: Actor + Handler<M>,
    A::Context: actix::dev::ToEnvelope<A, M>,
    M: Message<Result = ()> + Send + 'static,
{
    let (reply, answer) = bounded(1);
    addr.try_send(make(reply)).map_err(|_| ActorGone { actor })?;
    Ok(answer)
}

/// How often [`ask_until`] looks at its stop flag while it waits: well
/// inside the 2 s a stopped job has to end in, and rare enough to cost
/// nothing.
pub const STOP_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// [`ask`], giving up the wait once `stop` is set (looked at every
/// [`STOP_POLL`]): then None, and the actor's answer, when it comes, is
/// dropped. A measurement (its compile may take 2 minutes, its reference
/// an hour) or a model call in flight does not hold a stopped job.
pub fn ask_until<A, M, T>(
    addr: &Addr<A>,
    actor: &'static str,
    stop: &AtomicBool,
    make: impl FnOnce(Sender<T>) -> M,
) -> Result<Option<T>, ActorGone>
where
    A: Actor + Handler<M>,
    A::Context: actix::dev::ToEnvelope<A, M>,
    M: Message<Result = ()> + Send + 'static,
{
    let answer = send(addr, actor, make)?;
    loop {
        match answer.recv_timeout(STOP_POLL) {
            Ok(value) => return Ok(Some(value)),
            Err(RecvTimeoutError::Disconnected) => return Err(ActorGone { actor }),
            Err(RecvTimeoutError::Timeout) if stop.load(Ordering::SeqCst) => return Ok(None),
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// A running actix system: one thread drives its arbiter; sync actors
/// (measurement, database) get threads of their own from it.
pub struct ActorSystem {
    system: System,
    arbiter: ArbiterHandle,
    thread: Option<JoinHandle<()>>,
}

impl ActorSystem {
    pub fn start() -> std::io::Result<ActorSystem> {
        let (ready, started) = bounded(1);
        let thread = std::thread::Builder::new().name("colt-actors".into()).spawn(move || {
            let system = System::new();
            let _ = ready.send((System::current(), actix::Arbiter::current()));
            system.run().ok();
        })?;
        let (system, arbiter) = started.recv().map_err(|_| std::io::Error::other("the actor system did not start"))?;
        Ok(ActorSystem { system, arbiter, thread: Some(thread) })
    }

    /// Runs `f` on the system's thread, inside its context (where actors
    /// are started), and returns what it returns.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, ActorGone> {
        let (reply, answer) = bounded(1);
        let system = self.system.clone();
        let spawned = self.arbiter.spawn_fn(move || {
            System::set_current(system);
            let _ = reply.send(f());
        });
        if !spawned {
            return Err(ActorGone { actor: "system" });
        }
        answer.recv().map_err(|_| ActorGone { actor: "system" })
    }
}

impl Drop for ActorSystem {
    fn drop(&mut self) {
        self.system.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
