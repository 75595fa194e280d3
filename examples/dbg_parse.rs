fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lang = billguard::webhook::lang::Language::of_path(&path).unwrap();
    let p = billguard::webhook::lang::parse(lang, &text);
    println!("{:#?}", p.stmts);
}
