//! colt-actors: the actix system that runs a tuning job.
//!
//! Will own: one actor per LLM, the CPU and OpenCL measurement actors, the
//! tuning-database actor, and the job actor that owns the tree and the
//! search threads.
