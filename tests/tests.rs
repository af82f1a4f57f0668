//! Integration tests: one binary, one module per area.

mod artefacts;
mod bench;
mod catalogue;
mod cli;
mod distributed;
mod engine;
mod enrollment;
mod explore;
mod fuzz_lang;
mod imp;
mod language_gaps;
mod preflight;
mod readme_examples;
mod references;
mod refusals;
mod report;
mod rsa_backends;
mod scenarios;
mod seeds;
mod support;
mod threads;
mod vectors;
mod wire;
