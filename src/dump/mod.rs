//! Text output of decoded records: `bgpdump -m` compatible lines and JSON lines.

pub mod bgpdump;

pub use bgpdump::BgpdumpWriter;
