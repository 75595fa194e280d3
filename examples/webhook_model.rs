//! Prints the model billguard builds of a handler in a git checkout (events,
//! effects, verification...) and the repository files it follows:
//! `cargo run --example webhook_model -- REPO path/to/handler.ts`.

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(top), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: webhook_model REPO HANDLER_PATH");
        std::process::exit(2);
    };
    println!("{}", billguard::webhook::debug_model(std::path::Path::new(&top), &path));
}
