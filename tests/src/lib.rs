//! End-to-end tests of the `colt` binary live in `tests/tests/`.
