//! The repository's prose holds together: every relative link of every Markdown file reaches a
//! file (and, with `#anchor`, a heading of it), and every `§N` citation in code, docs and
//! configuration names a document of the repository that has that section.
//!
//! The TaskRouter facts the code relies on are written down in `docs/taskrouter.md`, and code cites
//! them as `docs/taskrouter.md §N`; a citation of a document that is not in the repository (or of
//! a section it does not have) would send a reader nowhere, so it fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The tracked files (what a clone has), as paths relative to the root.
fn tracked() -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output()
        .expect("git ls-files runs");
    assert!(out.status.success(), "git ls-files failed");
    String::from_utf8(out.stdout)
        .expect("paths are UTF-8")
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn text(path: &str) -> Option<String> {
    std::fs::read_to_string(root().join(path)).ok()
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped, spaces
/// to `-` (what GitHub and mdBook both generate for the headings used here).
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The headings of a Markdown file outside code blocks: (level, text).
fn headings(markdown: &str) -> Vec<(usize, String)> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&level) && line[level..].starts_with(' ') {
            found.push((level, line[level..].trim().to_owned()));
        }
    }
    found
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    headings(markdown).iter().map(|(_, h)| slug(h)).collect()
}

/// The section numbers a document has: headings that start with `N.` (`## 4. The request
/// signature`).
fn sections(markdown: &str) -> BTreeSet<String> {
    headings(markdown)
        .iter()
        .filter_map(|(_, h)| {
            let number: String = h.chars().take_while(char::is_ascii_digit).collect();
            (!number.is_empty() && h[number.len()..].starts_with('.')).then_some(number)
        })
        .collect()
}

/// `[text](target)` links of a Markdown file outside code blocks and inline code.
fn links(markdown: &str) -> Vec<(usize, String)> {
    let mut fenced = false;
    let mut found = Vec::new();
    for (n, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut in_code = false;
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'`' => in_code = !in_code,
                b']' if !in_code && bytes.get(i + 1) == Some(&b'(') => {
                    if let Some(end) = line[i + 2..].find(')') {
                        let target = line[i + 2..i + 2 + end].split_whitespace().next();
                        if let Some(target) = target {
                            found.push((n + 1, target.to_owned()));
                        }
                        i += 2 + end;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    found
}

#[test]
fn every_relative_link_of_every_markdown_file_reaches_a_file_and_its_heading() {
    let files = tracked();
    let markdown: Vec<&String> = files.iter().filter(|p| p.ends_with(".md")).collect();
    assert!(
        markdown.iter().any(|p| p.as_str() == "README.md"),
        "the README is tracked"
    );
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &markdown {
        let Some(body) = text(file) else { continue };
        let dir = Path::new(file.as_str()).parent().unwrap_or(Path::new(""));
        for (line, target) in links(&body) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let linked = if path.is_empty() {
                (*file).clone()
            } else {
                dir.join(path).to_string_lossy().into_owned()
            };
            let Ok(resolved) = root().join(&linked).canonicalize() else {
                broken.push(format!("{file}:{line}: `{target}`: no file {linked}"));
                continue;
            };
            if let Some(anchor) = anchor {
                let Ok(target_text) = std::fs::read_to_string(&resolved) else {
                    broken.push(format!(
                        "{file}:{line}: `{target}`: {linked} is not readable"
                    ));
                    continue;
                };
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!(
                        "{file}:{line}: `{target}`: {linked} has no heading #{anchor}"
                    ));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: the scan is broken"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The document a `§` names: the word right before it, on the same line (`docs/taskrouter.md §4`,
/// `(docs/taskrouter.md §4`), or `RFC` for an RFC's own sections (`RFC 3986 §2.3`).
fn cited_document(before: &str) -> Option<String> {
    let mut words = before
        .lines()
        .last()
        .unwrap_or("")
        .trim_end_matches([' ', '('])
        .rsplit(|c: char| c.is_whitespace() || c == '(');
    let last = words.next()?.trim_start_matches(['`', '"', '\'', '[']);
    if last.ends_with(".md") {
        Some(last.to_owned())
    } else if last.chars().all(|c| c.is_ascii_digit()) && words.next() == Some("RFC") {
        Some("RFC".to_owned())
    } else {
        None
    }
}

#[test]
fn every_section_citation_names_a_document_of_the_repository_that_has_the_section() {
    let files = tracked();
    let mut wrong = Vec::new();
    let mut checked = 0;
    // This file speaks of citations, and shows the scan examples of them.
    let this = "tests/function/docs.rs";
    for file in files.iter().filter(|f| f.as_str() != this) {
        let Some(body) = text(file) else { continue };
        for (at, _) in body.match_indices('§') {
            let number: String = body[at + '§'.len_utf8()..]
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let line = body[..at].matches('\n').count() + 1;
            if number.is_empty() {
                wrong.push(format!("{file}:{line}: a § without a section number"));
                continue;
            }
            checked += 1;
            let document = match cited_document(&body[..at]) {
                Some(document) if document == "RFC" => continue,
                Some(document) => document,
                None => {
                    wrong.push(format!(
                        "{file}:{line}: §{number} names no document (write docs/taskrouter.md §{number})"
                    ));
                    continue;
                }
            };
            let candidates = [
                document.clone(),
                format!("docs/{document}"),
                Path::new(file.as_str())
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(&document)
                    .to_string_lossy()
                    .into_owned(),
            ];
            let Some(cited) = candidates
                .iter()
                .find(|c| files.contains(c))
                .and_then(|c| text(c))
            else {
                wrong.push(format!(
                    "{file}:{line}: §{number} cites {document}, which the repository does not have"
                ));
                continue;
            };
            if !sections(&cited).contains(&number) {
                wrong.push(format!("{file}:{line}: {document} has no section {number}"));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} citations found: the scan is broken"
    );
    assert!(
        wrong.is_empty(),
        "citations that lead nowhere:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_citation_check_catches_a_citation_of_a_document_outside_the_repository() {
    // The scan above, on text it must refuse and text it must accept.
    assert_eq!(cited_document("read the contract "), None);
    assert_eq!(
        cited_document("the signature (docs/taskrouter.md ").as_deref(),
        Some("docs/taskrouter.md")
    );
    assert_eq!(
        cited_document("parameters in docs/taskrouter.md\n/// (").as_deref(),
        None,
        "the document must be named on the citation's own line"
    );
    assert_eq!(
        cited_document("(docs/taskrouter.md §1, "),
        None,
        "each section of a list names its document"
    );
    assert_eq!(
        cited_document("a subset of RFC 3261 ").as_deref(),
        Some("RFC")
    );
    assert_eq!(
        sections("# T\n## 4. The signature\n```\n## 9. not a heading\n```\n"),
        BTreeSet::from(["4".to_owned()])
    );
    assert_eq!(slug("`taskrouter sim serve`"), "taskrouter-sim-serve");
    assert_eq!(slug("What it does not model"), "what-it-does-not-model");
}
