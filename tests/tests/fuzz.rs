//! Mutation fuzzing of the two readers of untrusted files (issue 19): the
//! workload text parser (with everything a parsed program then goes
//! through: printing and parsing back, the naive C, a sampled candidate's
//! lowering, and the interpreter on small ones) and the GGUF metadata
//! reader. Each input must finish within [`INPUT_LIMIT`] and allocate at
//! most [`ALLOCATION_LIMIT`] at once, and nothing may panic; a failing
//! input is written to `target/fuzz-failures/` and named in the panic.
//!
//! CI runs each for a few seconds (`COLT_FUZZ_SECONDS`, default 15). The
//! long run of the README: `COLT_FUZZ_SECONDS=600 cargo test --release
//! --workspace --test fuzz -- --nocapture --test-threads 1` (it prints the
//! executions). `COLT_FUZZ_SEED` picks another stream of inputs.
//!
//! No cargo-fuzz: it needs a nightly toolchain and libFuzzer, which these
//! machines do not have; the mutator below is a small, dictionary-driven
//! one in the same spirit (byte flips, token insertions, span repeats that
//! build deep nesting, splices of two corpus entries, huge numbers).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The most one input may take.
const INPUT_LIMIT: Duration = Duration::from_secs(1);
/// The most memory live at once while one input runs.
const ALLOCATION_LIMIT: usize = 1 << 30;

/// Counts live heap bytes and keeps the peak since the last reset.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(p, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// xorshift64*: deterministic in the seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seconds() -> f64 {
    std::env::var("COLT_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(15.0)
}

fn seed() -> u64 {
    std::env::var("COLT_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x636f_6c74) | 1
}

/// One mutation of `input`, with `dictionary` tokens and `corpus` to splice.
fn mutate(rng: &mut Rng, input: &[u8], dictionary: &[&[u8]], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            2 => {
                let token = dictionary[rng.below(dictionary.len())];
                out.splice(at..at, token.iter().copied());
            }
            3 if !out.is_empty() => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                out.drain(at.min(end)..end);
            }
            4 if !out.is_empty() => {
                // Repeat a span: deep nesting, long sums, huge lines.
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(16)).min(out.len());
                let span = out[start..end].to_vec();
                let times = [2, 10, 100, 1000, 5000][rng.below(5)];
                let repeated: Vec<u8> = span.iter().copied().cycle().take(span.len() * times).collect();
                out.splice(start..start, repeated);
            }
            5 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(other.len() - from + 1)).min(other.len());
                out.splice(at..at, other[from..to].iter().copied());
            }
            6 => {
                let n = [u64::MAX, 1 << 32, 1 << 40, 4_294_967_296, 0, 7_905_747_460_161_236_407][rng.below(6)];
                out.splice(at..at, n.to_string().into_bytes());
            }
            _ if out.len() > 8 => out.truncate(rng.below(out.len())),
            _ => {}
        }
    }
    out
}

/// Runs `check` on `input` and holds it to the limits; on a failure the
/// input is kept for the report.
fn run_one(target: &str, input: &[u8], check: &dyn Fn(&[u8])) {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let base = LIVE.load(Ordering::Relaxed);
    let start = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(input)));
    let elapsed = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let failure = match outcome {
        Err(_) => Some("panicked".to_string()),
        Ok(()) if elapsed > INPUT_LIMIT => Some(format!("took {elapsed:?}")),
        Ok(()) if peak > ALLOCATION_LIMIT => Some(format!("allocated {peak} bytes at once")),
        Ok(()) => None,
    };
    if let Some(failure) = failure {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{target}-{:016x}", colt_ir::fnv1a(input)));
        std::fs::write(&path, input).unwrap();
        panic!("{target}: an input {failure}; kept in {}", path.display());
    }
}

fn fuzz(target: &str, corpus: Vec<Vec<u8>>, dictionary: &[&[u8]], check: &dyn Fn(&[u8])) {
    let mut rng = Rng(seed());
    let budget = Duration::from_secs_f64(seconds());
    let start = Instant::now();
    for input in &corpus {
        run_one(target, input, check);
    }
    let mut executions = corpus.len();
    let (mut worst, mut slowest) = (Duration::ZERO, Vec::new());
    while start.elapsed() < budget {
        let base = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, base, dictionary, &corpus);
        let one = Instant::now();
        run_one(target, &input, check);
        if one.elapsed() > worst {
            (worst, slowest) = (one.elapsed(), input);
        }
        executions += 1;
    }
    // The slowest input is kept: the one to look at when the limit nears.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{target}-slowest")), &slowest).unwrap();
    eprintln!(
        "fuzz {target}: {executions} executions in {:.0} s (seed {}), slowest input {worst:?} ({} bytes), no crash",
        start.elapsed().as_secs_f64(),
        seed(),
        slowest.len()
    );
    assert!(executions > corpus.len(), "the fuzzer made no mutated input");
}

/// Workload text → program, and everything a program then goes through.
fn check_workload(input: &[u8]) {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(program) = colt_ir::parse_workload(text, "fuzz", colt_ir::Size::Bench) else {
        return;
    };
    let printed = colt_ir::print_program(&program);
    let again = colt_ir::parse_workload(&printed, "fuzz", colt_ir::Size::Bench)
        .unwrap_or_else(|e| panic!("a printed program does not parse back: {e}\n{printed}"));
    assert_eq!(colt_ir::print_program(&again), printed, "printing is not a fixed point");
    // Only programs small enough for a second of work go further (points,
    // not MACs: a reduction without a product has no MACs).
    let elements: usize = program.buffers().iter().map(|b| b.len()).sum();
    let points: u64 = program.stages().iter().map(|s| s.domain_size()).sum();
    if elements > 1 << 18 || points > 1 << 18 {
        return;
    }
    let _ = colt_ir::c::naive_c(&program);
    let program = std::sync::Arc::new(program);
    let candidate = colt_ir::schedule::Candidate::sample(program.clone(), 7);
    let _ = colt_ir::schedule::lower(&candidate).to_c();
    let _ = colt_ir::interp::evaluate(&program, 1);
}

#[test]
fn the_workload_parser_survives_mutated_inputs() {
    let mut corpus: Vec<Vec<u8>> =
        colt_ir::SUITE.iter().map(|w| colt_ir::print_program(&w.program(colt_ir::Size::Bench)).into_bytes()).collect();
    let files = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/colt-ir/tests/workloads");
    for entry in std::fs::read_dir(&files).unwrap() {
        corpus.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let dictionary: &[&[u8]] = &[
        b"(",
        b")",
        b"[",
        b"]",
        b",",
        b"\n",
        b" ",
        b"+",
        b"-",
        b"*",
        b"/",
        b"=",
        b"+=",
        b"max=",
        b"<",
        b"<=",
        b"==",
        b"?",
        b":",
        b"input ",
        b"output ",
        b"temp ",
        b"workload ",
        b"# ",
        b"exp(",
        b"sqrt(",
        b"max(",
        b"min(",
        b"select(",
        b"1.0",
        b"-0.5",
        b"1e-6",
        b"1e39",
        b"nan",
        b"inf",
        b"i",
        b"j",
        b"k",
        b"A",
        b"C[i, j]",
        b"A[i]",
        b"4294967296",
        b"0",
        b"-1",
        b"\t",
        b"\xff",
    ];
    fuzz("workload", corpus, dictionary, &check_workload);
}

/// GGUF bytes → the metadata reader and its hyperparameter checks (never
/// llama.cpp): the file is written to a temporary path each time, as users
/// hand colt paths.
#[test]
fn the_gguf_reader_survives_mutated_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.gguf");
    let model = colt_llm::default_models_dir().join(colt_llm::TEST_SMALL_MODEL_FILE);
    // The real file's first megabytes hold its metadata (the tokenizer's
    // vocabulary is most of it) and tensor table; the weights are not read.
    let mut head = vec![0u8; 4 << 20];
    let read = std::io::Read::read(&mut std::fs::File::open(&model).unwrap(), &mut head).unwrap();
    head.truncate(read);
    let corpus = vec![head.clone(), head[..64 << 10].to_vec(), head[..4096].to_vec()];
    let numbers: Vec<Vec<u8>> = [u64::MAX, 1 << 32, 1 << 40, 0, 1, 100_000]
        .iter()
        .flat_map(|n| [n.to_le_bytes().to_vec(), (*n as u32).to_le_bytes().to_vec()])
        .collect();
    let mut dictionary: Vec<&[u8]> = vec![b"GGUF", b"llama.block_count", b"general.architecture", b"llama"];
    dictionary.extend(numbers.iter().map(Vec::as_slice));
    fuzz("gguf", corpus, &dictionary, &|bytes| {
        std::fs::write(&path, bytes).unwrap();
        let _ = colt_llm::ModelInfo::read(&path);
    });
}
