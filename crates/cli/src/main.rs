//! The `medaudit` binary: the only place that prints and chooses exit codes.
//! 0 success; 1 finished but something failed (validation, items with errors); 2 usage or
//! setup error; 130 interrupted by Ctrl-C (resumable).

mod args;
mod bank_command;
mod config;
mod eval_command;
mod export_command;
mod import_command;
mod paths;
mod report_command;

use std::process::ExitCode;

use clap::Parser;

/// An error that has already been explained to the user, with the exit code to use.
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::error::Error for Exit {}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Bank(command) => bank_command::run(command),
        args::Command::Eval(eval) => eval_command::run(cli.config.as_deref(), eval),
        args::Command::Report(report) => report_command::report(report),
        args::Command::Compare(compare) => report_command::compare(compare),
        args::Command::Extract(extract) => report_command::extract(extract),
        args::Command::Export(export) => export_command::run(export),
        args::Command::Gate(gate) => report_command::gate(gate),
        args::Command::Redact(redact) => report_command::redact(redact),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            if let Some(Exit(code)) = error.downcast_ref::<Exit>() {
                return ExitCode::from(*code);
            }
            // One line: the chain joined, no backtrace.
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("medaudit: error: {}", chain.join(": "));
            ExitCode::from(2)
        }
    }
}
