//! What the workspace's benches share: the parse inputs and a deterministic
//! population of credentials with questions to ask it
//! ([`population`]).
//!
//! This package is never published. It holds the benches
//! (`cargo bench -p registry-credentials-bench`; BENCHMARKS.md has the
//! figures), the profiling loop `examples/profile.rs`, and the tests that
//! read more than one crate: the differential test against oci-spec and
//! the README checks. Keeping them here keeps criterion, oci-spec and the
//! database stores out of the published crates' builds.
#![forbid(unsafe_code)]

pub mod population;
