//! An OpenCL kernel to measure: source, scratch buffers, launches.

/// One enqueue of one `__kernel` function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub entry: String,
    /// Global work size, 1 to 3 dimensions.
    pub global: Vec<usize>,
    /// Local work size (same dimensions), or the platform's choice.
    pub local: Option<Vec<usize>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenClKernel {
    /// Names the kernel in errors and reports.
    pub name: String,
    pub source: String,
    /// Lengths in floats of the scratch buffers after the program's.
    pub scratch: Vec<usize>,
    /// Enqueued in order, every run.
    pub launches: Vec<Launch>,
}
