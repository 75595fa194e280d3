//! Prints the statements a source file lowers to, the input of every later step of the
//! webhook review: `cargo run --example webhook_stmts -- path/to/handler.rs`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: webhook_stmts FILE");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    println!("{}", billguard::webhook::debug_stmts(&path, &text));
}
