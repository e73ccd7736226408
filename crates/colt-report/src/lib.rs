//! colt-report: the outputs of a tuning job and of a bench. A job's folder
//! ([`write_report`]: `report.md`, `curve.svg`/`.png`, `summary.json`, the
//! best kernel) and its one line of JSON ([`summary_line`]); a bench's
//! figures computed from its runs' curves ([`strategy_report`]), its
//! `bench.json`, `tables.md` and speedup plots ([`write_outputs`],
//! [`read_report`]) and the joining of several benches ([`merge`]). Plots
//! are SVG and PNG from one drawing, text in the DejaVu Sans it embeds.
//! Each report gives the workload's roofline bound on the machine and the
//! best kernel's share of it ([`bound_of`]), or "—" where the machine's
//! limits are not measured.
//! It only reads and writes plain figures: it knows no actor, no tuning
//! loop and no command line.
//!
//! # Example
//!
//! ```
//! use colt_report::{best_within, median, summary_line, TrialPoint, TuneSummary};
//! let curve = [None, Some(9.0), Some(4.0)];
//! assert_eq!(best_within(&curve, 2), Some(9.0));
//! assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
//! let points = TrialPoint::curve(&curve);
//! assert_eq!(points[2].best_ms, Some(4.0));
//! let summary = TuneSummary {
//!     workload: "gemm-512".into(), strategy: "random".into(), target: "cpu".into(), trials: 3,
//!     naive_ms: 40.0, best_ms: Some(4.0), speedup: Some(10.0), verified: true,
//!     llm_calls: Default::default(), largest_model_share: None, course_alterations: 0, wall_s: 1.5,
//!     started_from: None, proposal_quality: vec![], sources: vec![], random_expansions: 0,
//!     bound: None, share_of_bound: None,
//! };
//! assert!(summary_line(&summary).starts_with(r#"{"workload":"gemm-512","strategy":"random","trials":3"#));
//! ```

mod atomic_file;
mod bench;
mod job;
mod plot;
mod probes;
mod roofline;
mod training;

pub use atomic_file::{
    create_folder, remove_link, write_atomically, write_atomically_with_mode, WriteError, EXECUTABLE_MODE, FILE_MODE,
    MAX_TEMP_ATTEMPTS,
};
pub use bench::{
    against_naive, best_within, first_reaching, median, merge, read_peer_result, read_peer_results, read_report,
    speedup_plot_png, speedup_plot_svg, strategy_report, tables_markdown, write_outputs, BenchError, BenchOutputs,
    BenchReport, MergeError, PeerError, PeerResult, RunRecord, StrategyReport, StrategyRuns, WorkloadReport,
    METASCHEDULE, NUMPY, TORCH_COMPILE, TORCH_EAGER,
};
pub use job::{
    plot_curve_png, plot_curve_svg, summary_line, write_report, ReportError, ReportFiles, ReportInput, StartedFrom,
    TrialPoint, TuneSummary,
};
pub use probes::{proposal_quality, proposal_quality_table, ProposalQuality, WinRate};
pub use roofline::{above_the_bound, bound_of, describe_bound, share_cell, share_of, Bound};
pub use training::{loss_curves_svg, LossSeries};
