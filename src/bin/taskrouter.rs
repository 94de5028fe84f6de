//! `taskrouter`: check and try assignment rules, evaluate expressions, sign and send callbacks,
//! check Workflow configurations and route tasks through them, and speak TaskRouter's REST API.
//!
//! The logic lives in [`taskrouter_lambda::cli`]; this only parses the arguments, hands over the
//! environment, writes the output (a reader that closes the pipe early ends the writing, not the
//! command: [`cli::write_output`]) and exits with the code of [`cli::Exit`]'s table.

use std::process::ExitCode;

use clap::Parser;
use taskrouter_lambda::cli::{self, Cli};

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    let output = cli::run_with(command, &|name| std::env::var(name).ok());
    let code = cli::write_output(
        &output,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}
