use std::path::PathBuf;

/// What `colt train` refuses, each naming the thing and where it is.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Db(#[from] colt_db::DbError),
    #[error("the tuning database `{path}` has no measured trials to train on (tune some workloads into it first)")]
    EmptyDatabase { path: String },
    #[error("the tuning database `{path}` has no trials measured on `{label}`; its labels: {labels}")]
    NoRecordsForLabel { path: String, label: String, labels: String },
    #[error("job {job} (`{workload}`) in `{path}`: its workload text does not parse: {message}")]
    Workload { path: String, job: i64, workload: String, message: String },
    #[error("nothing to train on: {reason}")]
    NoExamples { reason: String },
    #[error(transparent)]
    Model(#[from] colt_specialist::SpecialistError),
    #[error("cannot write `{path}`: {reason}")]
    Unwritable { path: PathBuf, reason: String },
}
