//! The root README shows examples that need crates the core cannot reach
//! as `rust,ignore`; each is compiled as a doc test from the README of the
//! crate it belongs to. They must not drift apart: every ignored block of
//! the root README is a block of some member crate's README, hidden lines
//! (`# `) apart.

/// The Rust blocks of a Markdown file, with their fence's info string and
/// without doc-test hidden lines.
fn rust_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) if lang.starts_with("rust") => {
                current = Some((lang.to_owned(), String::new()));
            }
            (Some(_), Some(_)) => blocks.push(current.take().unwrap()),
            (Some((_, block)), None) if !(line.starts_with("# ") || line == "#") => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

const ROOT: &str = include_str!("../../../README.md");
const MEMBERS: [(&str, &str); 3] = [
    ("crates/sql/README.md", include_str!("../../sql/README.md")),
    ("crates/cf/README.md", include_str!("../../cf/README.md")),
    (
        "crates/interop/README.md",
        include_str!("../../interop/README.md"),
    ),
];

#[test]
fn every_ignored_root_readme_block_is_compiled_in_a_member_readme() {
    let ignored: Vec<String> = rust_blocks(ROOT)
        .into_iter()
        .filter(|(lang, _)| lang.contains("ignore"))
        .map(|(_, b)| b)
        .collect();
    assert!(
        ignored.len() >= 2,
        "the root README's SQLite and oci-client blocks are missing"
    );
    for block in &ignored {
        let home = MEMBERS.iter().find(|(_, readme)| {
            rust_blocks(readme)
                .iter()
                .any(|(lang, b)| !lang.contains("ignore") && b == block)
        });
        assert!(
            home.is_some(),
            "this `rust,ignore` block of README.md is compiled in no member README \
             (crates/*/README.md); copy it there or correct it:\n{block}"
        );
    }
}

#[test]
fn the_readme_check_sees_a_changed_block() {
    // The check compares whole blocks: one changed line is a different block.
    let root = "```rust,ignore\nlet a = 1;\n```\n";
    let member = "```rust\n# fn main() {\nlet a = 2;\n# }\n```\n";
    let member_same = "```rust\n# fn main() {\nlet a = 1;\n# }\n```\n";
    let ignored = &rust_blocks(root)[0].1;
    assert_ne!(ignored, &rust_blocks(member)[0].1);
    assert_eq!(ignored, &rust_blocks(member_same)[0].1);
}
