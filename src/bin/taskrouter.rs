//! `taskrouter`: check and try assignment rules, evaluate expressions, sign and send callbacks,
//! check Workflow configurations and route tasks through them.
//!
//! The logic lives in [`taskrouter_lambda::cli`]; this only parses the arguments, hands over the
//! environment, prints and exits.

use std::process::ExitCode;

use clap::Parser;
use taskrouter_lambda::cli::{self, Cli};

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    let output = cli::run_with(command, &|name| std::env::var(name).ok());
    print!("{}", output.stdout);
    eprint!("{}", output.stderr);
    ExitCode::from(output.code)
}
