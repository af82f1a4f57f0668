//! Integration tests: one binary, one module per area.

mod artefacts;
mod bench;
mod catalogue;
mod cli;
mod engine;
mod enrollment;
mod explore;
mod imp;
mod scenarios;
mod support;
