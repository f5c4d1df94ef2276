//! `nomic-agent`: the command-line client (work in progress).

fn main() {}
