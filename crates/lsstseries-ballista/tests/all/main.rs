//! The crate's tests, in one binary: every test binary links DataFusion and Ballista, and
//! one link per test file would cost gigabytes of disk.

mod codec;
mod common;
mod ensemble_api;
mod joins_keys_pages;
mod lowering;
mod processes;
mod sql_functions;
mod standalone_cluster;
