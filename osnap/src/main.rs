//! `osnap`, the operator command line. `osnap demo` runs a whole domain migration on the
//! local stand-in through the same operations the Lambda functions run.

use std::process::ExitCode;

mod demo;
mod fixture;

const USAGE: &str = "usage: osnap demo

  demo   migrate sample indices between two emulated domains on the local stand-in
         (S3 and OpenSearch emulated on loopback; nothing touches AWS) and print a report";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["demo"] => {
            let mut out = std::io::stdout();
            match demo::run(&mut out).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("\nosnap demo failed: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        ["help" | "--help" | "-h"] => {
            eprintln!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
