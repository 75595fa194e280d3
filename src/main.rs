use std::process::ExitCode;

use clap::Parser;

use billguard::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(matches!(cli.command, Command::Serve { .. }));
    cli::run(cli)
}
