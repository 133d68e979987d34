//! Seed-file errors as a person reads them: the line, the section and the
//! field, and serde's type errors reworded.

use std::fmt::Display;

/// Where an entry of a seed is: its table's line in a TOML file, or its
/// 1-based index in its section's array in a JSON seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum At {
    Line(usize),
    Entry(usize),
}

impl At {
    /// `line 12: [[realms.users]] password: …` or
    /// `entry 2 of [[users]] password: …`.
    pub(super) fn field_error(self, section: &str, field: &str, m: impl Display) -> String {
        format!("{} {field}: {m}", self.entry(section))
    }

    /// An error about the entry as a whole: `entry 2 of [[users]]: …`.
    pub(super) fn entry_error(self, section: &str, m: impl Display) -> String {
        format!("{}: {m}", self.entry(section))
    }

    fn entry(self, section: &str) -> String {
        match self {
            At::Line(n) => format!("line {n}: [[{section}]]"),
            At::Entry(n) => format!("entry {n} of [[{section}]]"),
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

pub(super) fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = reword_type_error(e.message());
    let Some(span) = e.span() else {
        return message;
    };
    let line = line_of(text, span.start);
    // Name the section and the field the value belongs to, when the span is a
    // `key = value` line: `line 10: [[users]] username: expected a string, …`.
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.saturating_sub(1)).copied().unwrap_or("");
    let key = here
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    let section = lines[..line.saturating_sub(1).min(lines.len())]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['));
    match (section, key) {
        (Some(section), Some(key)) => format!("line {line}: {section} {key}: {message}"),
        (None, Some(key)) => format!("line {line}: {key}: {message}"),
        _ => format!("line {line}: {message}"),
    }
}

/// serde's "invalid type: integer `1`, expected a string" as "expected a
/// string, found an integer".
pub(super) fn reword_type_error(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.to_owned();
    };
    let Some((found, expected)) = rest.split_once(", expected ") else {
        return message.to_owned();
    };
    let found = found.split(" `").next().unwrap_or(found).trim();
    let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("expected {}, found {article} {found}", expected.trim())
}
