//! The root README shows the oci-client example as `rust,ignore` (its doc
//! tests run in the cf crate, which cannot reach this one); the same block
//! is compiled here from this crate's README. They must not drift apart.

fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) if lang.starts_with("rust") => current = Some(String::new()),
            (Some(_), Some(_)) => blocks.push(current.take().unwrap()),
            (Some(block), None) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn the_root_readme_shows_the_compiled_oci_client_example() {
    let root = include_str!("../../../README.md");
    let ours = include_str!("../README.md");
    let compiled = &rust_blocks(ours)[0];
    assert!(compiled.contains("registry_auth(chosen.as_ref())"));
    assert!(
        rust_blocks(root).iter().any(|b| b == compiled),
        "README.md's oci-client block differs from crates/interop/README.md's first block"
    );
}
