//! `worker list|show|activity`.

use clap::Subcommand;

use crate::rest::Client;

use super::{CliError, Output};

/// A `worker` action.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Action {}

pub(crate) fn run(action: &Action, _client: &Client) -> Result<Output, CliError> {
    match *action {}
}
