//! Configuration: `stall.toml`, or `[workspace.metadata.stall]` / `[package.metadata.stall]`
//! in Cargo.toml, found by walking up from the checked path.
