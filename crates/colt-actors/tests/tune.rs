//! [`Colt::tune`] with real actors, a real measurement worker and a real
//! database: what a job learns from the database before its first round.

use colt_actors::{Colt, TuneRequest};
use colt_measure::Target;
use colt_search::{JobSettings, SearchParams};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

mod common;

fn request(workload: &str, warm_start: bool) -> TuneRequest {
    TuneRequest {
        program: Arc::new(colt_ir::load_workload(workload, colt_ir::Size::Bench).unwrap()),
        target: Target::Cpu,
        settings: JobSettings {
            strategy: "random".parse().unwrap(),
            trials: 3,
            llm_calls: None,
            wall: None,
            threads: 1,
            seed: 2,
            params: SearchParams::default(),
        },
        resume: None,
        start_from_known: false,
        warm_start,
        naive_ms: None,
    }
}

fn tune(colt: &Colt, request: TuneRequest) -> colt_search::Outcome {
    let (events, _inbox) = crossbeam_channel::unbounded();
    colt.tune(request, events, Arc::new(AtomicBool::new(false)), |_| Ok(())).unwrap().outcome
}

#[test]
fn a_job_warms_its_cost_model_up_on_other_workloads_verified_records() {
    let dir = tempfile::tempdir().unwrap();
    let colt = common::colt(dir.path(), "colt.db");
    let first = tune(&colt, request("gemm-512", true));
    assert_eq!(first.warm_records, 0, "an empty database has nothing to learn from");
    let verified = first.curve.iter().flatten().count();
    assert!(verified > 0, "{:?}", first.curve);
    let second = tune(&colt, request("flux-conv", true));
    assert_eq!(second.warm_records, verified, "gemm-512's verified records, and nothing else");
    assert_eq!(tune(&colt, request("flux-conv", false)).warm_records, 0, "not without the warm start");
    // Asked for, a transfer round: flux-conv drawn in the styles of
    // gemm-512's fastest kernels, measured first.
    let transfer = |o: &colt_search::Outcome| o.sources.iter().find(|s| s.source == "transfer").map_or(0, |s| s.trials);
    assert_eq!(transfer(&second), 0, "no transfer round by default: {:?}", second.sources);
    let mut transferring = request("flux-conv", true);
    transferring.settings.strategy = "random:transfer=4".parse().unwrap();
    let transferred = tune(&colt, transferring);
    assert!(transfer(&transferred) >= 1, "{:?}", transferred.sources);
    // A workload's own records are not a warm start (they are known records).
    let again = tune(&colt, request("gemm-512", true));
    let conv_verified = second.curve.iter().flatten().count();
    assert!(again.warm_records >= conv_verified && again.warm_records <= 2 * conv_verified, "{}", again.warm_records);
}
