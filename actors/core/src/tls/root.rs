//! placeholder
pub use crate::wall::WallTime as _W;
