//! colt-measure: colt's ground truth.
//!
//! Will own: building kernel sources (content-addressed cache), loading
//! native code into an executable memory map, timed runs, output checks
//! against the reference, the crash- and hang-proof worker process, and the
//! same flow on OpenCL.
