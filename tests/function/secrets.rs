//! Secrets are held in secret types everywhere: no struct or enum of the crate keeps a token, a
//! secret or a password in a plain `String` (which prints, serialises and outlives its use in
//! memory), and the simulator, like the CLI and the function, never shows the token it holds.

use std::path::Path;

use crate::support::cli::taskrouter;

/// A field name that holds a secret: `token`, `auth_token`, `secret`, `api_key_secret`,
/// `password`, `sip_auth_password`, and their plurals.
fn names_a_secret(field: &str) -> bool {
    let field = field.trim_end_matches('s');
    ["token", "secret", "password"]
        .iter()
        .any(|word| field == *word || field.ends_with(&format!("_{word}")))
}

/// A type that keeps its value in plain memory: a string or bytes not wrapped in a secret type.
fn is_plain(ty: &str) -> bool {
    let plain = ["String", "str", "u8", "Value"]
        .iter()
        .any(|word| ty.split(|c: char| !c.is_alphanumeric()).any(|t| t == *word));
    plain && !ty.contains("Secret")
}

/// The fields (`name: Type,`) declared in struct and enum bodies of a Rust file, with their line.
fn fields(source: &str) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut in_type = None;
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("").trim();
        let opens_type =
            (code.contains("struct ") || code.contains("enum ")) && code.ends_with('{');
        if in_type.is_none() && opens_type {
            in_type = Some(depth);
        }
        if in_type.is_some() && !opens_type {
            // `name: Type,` on its own line, or `Variant { a: A, b: B },` on one.
            let inner = match (code.find('{'), code.rfind('}')) {
                (Some(open), Some(close)) if open < close => &code[open + 1..close],
                _ => code,
            };
            for declaration in inner.split(',') {
                let Some((name, ty)) = declaration.split_once(':') else {
                    continue;
                };
                let name = name.trim().rsplit(' ').next().unwrap_or("");
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    && !ty.starts_with(':')
                {
                    found.push((n + 1, name.to_owned(), ty.trim().to_owned()));
                }
            }
        }
        depth += code.matches('{').count();
        depth = depth.saturating_sub(code.matches('}').count());
        if in_type.is_some_and(|open| depth <= open) {
            in_type = None;
        }
    }
    found
}

fn rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_struct_or_enum_keeps_a_secret_in_a_plain_string() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut plain = Vec::new();
    let mut secret_fields = 0;
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a source file");
        for (line, name, ty) in fields(&source) {
            if !names_a_secret(&name) {
                continue;
            }
            secret_fields += 1;
            if is_plain(&ty) {
                let file = file
                    .strip_prefix(root)
                    .unwrap_or(file)
                    .display()
                    .to_string();
                plain.push(format!("{file}:{line}: `{name}: {ty}`"));
            }
        }
    }
    // The REST credentials, the CLI's token flags, the simulator's token, the stored secret, the
    // token store: if the scan stopped seeing them, it is the scan that broke.
    assert!(
        secret_fields >= 8,
        "only {secret_fields} secret fields seen: the scan is broken"
    );
    assert!(
        plain.is_empty(),
        "secrets held as plain strings (use secrecy's SecretString or a newtype around it):\n{}",
        plain.join("\n")
    );
}

#[test]
fn the_scan_sees_a_plain_token_and_accepts_a_secret_one() {
    let source = "pub struct A {\n    pub auth_token: String,\n    token_refresh: Duration,\n}\n\
                  enum B {\n    C { secret: Option<&'static str> },\n    D {\n        password: SecretString,\n    },\n}\n";
    let seen: Vec<(String, bool)> = fields(source)
        .into_iter()
        .filter(|(_, name, _)| names_a_secret(name))
        .map(|(_, name, ty)| (name, is_plain(&ty)))
        .collect();
    assert_eq!(
        seen,
        [
            ("auth_token".to_owned(), true),
            ("secret".to_owned(), true),
            ("password".to_owned(), false)
        ],
        "{:?}",
        fields(source)
    );
    assert!(!names_a_secret("token_refresh"));
    assert!(!names_a_secret("token_index"));
    assert!(names_a_secret("tokens"));
}

#[test]
fn the_simulator_never_shows_its_token_in_help_or_errors() {
    let token = "sim-token-that-must-never-be-printed";
    let cases: [&[&str]; 3] = [
        &["sim", "serve", "--help"],
        &["sim", "serve", "--workspace", "no/such/workspace.json"],
        &["sim", "serve", "--port", "not-a-port"],
    ];
    for args in cases {
        let output = taskrouter()
            .args(args)
            .env("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
            .env("TWILIO_AUTH_TOKEN", token)
            .output()
            .expect("taskrouter runs");
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!shown.is_empty(), "{args:?} printed nothing");
        assert!(
            !shown.contains(token),
            "{args:?} showed the token:\n{shown}"
        );
    }
}
