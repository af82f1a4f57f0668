//! Integration tests: one binary, one module per area.

mod artefacts;
mod bench;
mod catalogue;
mod cli;
mod engine;
mod enrollment;
mod fuzz_lang;
mod imp;
mod language_gaps;
mod readme_examples;
mod refusals;
mod scenarios;
mod support;
