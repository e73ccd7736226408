//! One name, one program: a workload is known in a database by the name
//! its program declares (`workload my-layer`), so `colt show --workload
//! my-layer` and `colt export` find it from anywhere — which only means
//! something if the name cannot stand for two programs. A job whose
//! program differs from the one the database already keeps under its name
//! is refused before it is created (and so before anything is measured).
//!
//! Programs are compared by their workload fingerprint (colt-ir's hash of
//! the printed program, its name line and shapes included).
//!
//! A built-in workload's name is kept for the built-in itself, at either
//! of its sizes: `colt tune gemm-512` and `colt tune gemm-512 --full` are
//! two programs under one name, told apart in the database by their
//! fingerprints (each job, and each trial, carries its program's), and both
//! are what the name means; any other program declaring that name is
//! refused, whether or not the database holds the built-in yet. Only the
//! new job's program is checked against the built-in: rows of the name
//! written by an older colt (whose printer may have written the built-in
//! differently) do not make a current built-in job refused.
//!
//! The check and the insert are two statements: two processes creating
//! jobs of two programs under one new name at the same instant can both
//! pass. The window is the time between them (milliseconds); a database
//! with two programs under a name still answers lookups, as one from
//! before this rule does (the fastest kernel of either).

use crate::error::DbError;
use crate::store::TuningStore;
use colt_ir::Size;

/// Why a new job's program may not take its name in this database, if it
/// may not.
pub(crate) fn refuse_other_program<S: TuningStore + ?Sized>(
    store: &S,
    workload: &str,
    fingerprint: &str,
) -> Result<(), DbError> {
    let taken = |known: String| DbError::WorkloadNameTaken {
        path: store.path().to_path_buf(),
        workload: workload.to_string(),
        known,
        fingerprint: fingerprint.to_string(),
    };
    if let Some(builtin) = colt_ir::builtin(workload) {
        let sizes = [Size::Bench, Size::Full].map(|size| colt_ir::workload_fingerprint(&builtin.program(size)));
        if sizes.iter().any(|fp| fp == fingerprint) {
            return Ok(());
        }
        return Err(taken(format!("the built-in workload (fingerprints {} and, --full, {})", sizes[0], sizes[1])));
    }
    match store.workload_fingerprints(workload)?.into_iter().find(|known| known != fingerprint) {
        Some(known) => Err(taken(format!("another program (fingerprint {known})"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::{DbError, NewJob, TuningDb};
    use colt_ir::{parse_workload, Program, Size};

    fn job(program: &Program) -> NewJob {
        NewJob {
            workload: program.name().to_string(),
            workload_text: colt_ir::print_program(program),
            workload_fingerprint: colt_ir::workload_fingerprint(program),
            target: "cpu".into(),
            strategy: "random".into(),
            trials: 1,
            seed: 0,
            options_json: "{}".into(),
        }
    }

    fn layer(width: usize) -> Program {
        let text = format!("workload my-layer\ninput A[8, {width}]\noutput C[8, {width}]\nC[i, j] = A[i, j] * 2.0\n");
        parse_workload(&text, "dir/my-layer.colt", Size::Bench).unwrap()
    }

    #[test]
    fn a_second_program_under_a_name_is_refused_with_the_name_the_database_and_the_way_out() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let first = db.create_job(&job(&layer(16))).unwrap();
        // The same program again is the same workload.
        assert!(db.create_job(&job(&layer(16))).unwrap() > first);
        let e = db.create_job(&job(&layer(32))).unwrap_err();
        assert!(matches!(e, DbError::WorkloadNameTaken { .. }), "{e}");
        let message = e.to_string();
        for says in ["`my-layer`", ":memory:", "Rename", "`workload` line", "another database"] {
            assert!(message.contains(says), "`{says}` not in: {message}");
        }
        assert_eq!(db.jobs().unwrap().len(), 2, "the refused job was created");
    }

    #[test]
    fn a_builtin_name_holds_the_builtin_at_both_sizes_and_nothing_else() {
        let mut db = TuningDb::open_in_memory().unwrap();
        let builtin = colt_ir::builtin("gemm-512").unwrap();
        db.create_job(&job(&builtin.program(Size::Bench))).unwrap();
        // `--full` is the same workload at its model shapes: not refused.
        db.create_job(&job(&builtin.program(Size::Full))).unwrap();
        // A file that declares the built-in's name for other shapes is, even
        // in a database that has never seen the built-in.
        let text = "workload gemm-512\ninput A[8, 8]\ninput B[8, 8]\noutput C[8, 8]\nC[i, j] += A[i, k] * B[k, j]\n";
        let impostor = parse_workload(text, "gemm-512.colt", Size::Bench).unwrap();
        for mut db in [db, TuningDb::open_in_memory().unwrap()] {
            let e = db.create_job(&job(&impostor)).unwrap_err();
            assert!(e.to_string().contains("the built-in workload"), "{e}");
        }
    }
}
