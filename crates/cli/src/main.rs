//! The `motif` command.

fn main() {}
