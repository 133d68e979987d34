//! The one-way layering of `src/` (see the `# Layout` table in lib.rs), checked
//! by reading the sources: a forbidden `use` fails this test.

use std::path::Path;

/// (directory or file under src/, crates and modules it must not mention)
const RULES: &[(&str, &[&str])] = &[
    (
        "domain",
        &[
            "sled",
            "bincode",
            "poem",
            "poem_openapi",
            "tokio",
            "crate::store",
            "crate::service",
            "crate::api",
            "crate::state",
        ],
    ),
    (
        "store",
        &[
            "poem",
            "poem_openapi",
            "crate::service",
            "crate::api",
            "crate::domain",
            "crate::state",
        ],
    ),
    (
        "service",
        &["sled", "bincode", "poem", "poem_openapi", "crate::api"],
    ),
    ("api", &["sled", "bincode", "crate::store::"]),
    (
        "seed",
        &[
            "sled",
            "bincode",
            "poem",
            "crate::store",
            "crate::service",
            "crate::api",
            "crate::state",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code lines (not comments) that name `what` as a path root.
fn mentions(source: &str, what: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .filter(|l| {
            l.contains(&format!("use {what}"))
                || l.contains(&format!("{what}::"))
                || (what.ends_with("::") && l.contains(what))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn layers_import_only_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (module, forbidden) in RULES {
        let mut files = Vec::new();
        let path = src.join(module);
        if path.is_file() {
            files.push(path);
        } else {
            rust_files(&path, &mut files);
        }
        assert!(!files.is_empty(), "no sources under src/{module}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for what in *forbidden {
                for line in mentions(&text, what) {
                    violations.push(format!("{}: uses {what}: {line}", file.display()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}

/// Identifiers in code lines (not comments) that name a store record type
/// (`ClientRecord`, `ApiKeyRecord`, …).
fn record_names(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .flat_map(|l| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| w.len() > "Record".len() && w.ends_with("Record"))
        .map(str::to_owned)
        .collect()
}

/// Store records stay below the service layer: the HTTP layer never names one
/// (services hand it domain types and views).
#[test]
fn the_http_layer_never_names_a_store_record() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api"),
        &mut files,
    );
    let mut found = Vec::new();
    for file in files {
        for name in record_names(&std::fs::read_to_string(&file).unwrap()) {
            found.push(format!("{}: {name}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "store records in src/api:\n{}",
        found.join("\n")
    );
}

/// The service modules `state.rs` imports (its caches, lists and pools) must
/// not import the state back: they are parts of it, not users of it.
#[test]
fn state_parts_do_not_import_the_state() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let state = std::fs::read_to_string(src.join("state.rs")).unwrap();
    let parts: Vec<&str> = state
        .lines()
        .filter_map(|l| l.trim().strip_prefix("use crate::service::"))
        .filter_map(|rest| rest.split("::").next())
        .collect();
    assert!(parts.len() >= 5, "state.rs imports its parts: {parts:?}");
    let mut cycles = Vec::new();
    for part in parts {
        let mut files = Vec::new();
        let dir = src.join("service").join(part);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join("service").join(format!("{part}.rs")));
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in mentions(&text, "crate::state") {
                cycles.push(format!("{}: {line}", file.display()));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "state.rs imports modules that import it back:\n{}",
        cycles.join("\n")
    );
}

/// The checker itself catches a violation (a test that cannot fail proves nothing).
#[test]
fn the_checker_sees_forbidden_lines() {
    assert_eq!(
        mentions("use sled::Tree;\n// use sled::Db;", "sled").len(),
        1
    );
    assert_eq!(
        mentions("let x = poem_openapi::payload::Json(1);", "poem_openapi").len(),
        1
    );
    assert!(mentions("use crate::store::Store;", "poem").is_empty());
    assert_eq!(
        record_names(
            "fn f(c: &ClientRecord) -> Vec<ApiKeyRecord> {}\n// RefreshRecord\nlet record = 1;"
        ),
        ["ClientRecord", "ApiKeyRecord"]
    );
}

/// The Dockerfile's dependency layer stubs every bench and test target that
/// Cargo.toml declares (a missing stub makes the image build fail to parse
/// the manifest, which only the container smoke test would notice).
#[test]
fn the_dockerfile_stubs_every_declared_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let mut missing = Vec::new();
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with("[[") {
            section = line;
        }
        let Some(name) = line
            .strip_prefix("name = \"")
            .and_then(|n| n.strip_suffix('"'))
        else {
            continue;
        };
        let path = match section {
            "[[bench]]" => format!("benches/{name}.rs"),
            _ => continue,
        };
        if !dockerfile.contains(&path) {
            missing.push(path);
        }
    }
    for line in manifest.lines().map(str::trim) {
        if let Some(path) = line
            .strip_prefix("path = \"")
            .and_then(|p| p.strip_suffix('"'))
        {
            if !dockerfile.contains(path) {
                missing.push(path.to_owned());
            }
        }
    }
    assert!(missing.is_empty(), "Dockerfile lacks stubs for {missing:?}");
}
