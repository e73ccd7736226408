//! The job actor: it owns one job and runs its search on a coordinator
//! thread, which starts the search threads, and relays the search's events
//! — checkpoints and the baseline go to the database before the caller
//! hears of them.

use crate::db_actor::Db;
use crate::services::{ActorProposer, ActorRunner, DbRecorder};
use actix::{Actor, Context, Handler, Message};
use colt_search::{run_search, Event, JobSpec, Outcome, SearchError};
use crossbeam_channel::{unbounded, Sender};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub struct JobActor {
    pub(crate) spec: Arc<JobSpec>,
    pub(crate) proposer: Arc<ActorProposer>,
    pub(crate) runner: Arc<ActorRunner>,
    pub(crate) recorder: Arc<DbRecorder>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) events: Sender<Event>,
    pub(crate) db: Db,
}

impl Actor for JobActor {
    type Context = Context<Self>;
}

/// Runs the job; the reply comes when it ends.
pub struct RunJob {
    pub reply: Sender<Result<Outcome, SearchError>>,
}

impl Message for RunJob {
    type Result = ();
}

impl Handler<RunJob> for JobActor {
    type Result = ();

    fn handle(&mut self, run: RunJob, _: &mut Context<Self>) {
        let (spec, stop, outer, db) = (self.spec.clone(), self.stop.clone(), self.events.clone(), self.db.clone());
        let (proposer, runner, recorder) = (self.proposer.clone(), self.runner.clone(), self.recorder.clone());
        let job = spec.job;
        let (events, inbox) = unbounded::<Event>();
        let relay = std::thread::Builder::new().name(format!("job {job} events")).spawn(move || {
            for event in inbox {
                match &event {
                    Event::Checkpoint(bytes) => {
                        let bytes = bytes.clone();
                        if let Ok(Err(e)) = db.call(move |db| db.save_snapshot(job, &bytes)) {
                            let _ = outer.send(Event::Warning(format!("checkpoint not saved: {e}")));
                        }
                    }
                    Event::Baseline(ms) => {
                        let ms = *ms;
                        let _ = db.call(move |db| db.set_baseline(job, ms));
                    }
                    _ => {}
                }
                let _ = outer.send(event);
            }
        });
        let coordinator = std::thread::Builder::new().name(format!("job {job}")).spawn(move || {
            let outcome = run_search(&spec, proposer.as_ref(), runner.as_ref(), recorder.as_ref(), &stop, &events);
            drop(events);
            if let Ok(relay) = relay {
                let _ = relay.join();
            }
            let _ = run.reply.send(outcome);
        });
        if let Err(e) = coordinator {
            // `run` moved into the closure that failed to spawn: the
            // caller's `ask` sees the reply channel close.
            tracing::error!(job, "cannot start the job's thread: {e}");
        }
    }
}
