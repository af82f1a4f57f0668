//! Integration tests: one binary, one module per area.

mod artefacts;
mod bench;
mod catalogue;
mod cli;
mod engine;
mod enrollment;
mod explore;
mod imp;
mod preflight;
mod references;
mod report;
mod scenarios;
mod seeds;
mod support;
