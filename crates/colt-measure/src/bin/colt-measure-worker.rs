//! A measurement worker process (see `colt_measure::worker`): what the
//! crate's tests spawn, standing in for `colt measure-worker`.

fn main() -> std::process::ExitCode {
    match colt_measure::worker::serve_stdio() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("colt-measure-worker: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
