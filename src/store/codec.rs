//! The one place values are turned into bytes and back.
//!
//! A stored value is one schema-version byte followed by the record encoded with
//! bincode 2 (`bincode::serde`, standard config). Keeping bincode behind these two
//! functions means it can be swapped (RUSTSEC-2025-0141 marks it unmaintained)
//! without touching a record type.

use bincode::config::{self, Configuration, Limit, LittleEndian, Varint};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// No stored record comes near this; a corrupt length prefix must not make the
/// decoder allocate gigabytes.
const MAX_VALUE_BYTES: usize = 1 << 20;

type Config = Configuration<LittleEndian, Varint, Limit<MAX_VALUE_BYTES>>;

fn config() -> Config {
    config::standard().with_limit::<MAX_VALUE_BYTES>()
}

/// A record kind stored by the codec. Bump `VERSION` whenever the serde shape
/// changes, and teach `decode` the old one.
///
/// Records must not use `skip_serializing_if`, `flatten` or `untagged`: bincode is
/// not self-describing and could not read them back.
pub trait Record: Serialize + DeserializeOwned {
    const VERSION: u8;
    /// For error messages: which tree's value failed to decode.
    const KIND: &'static str;

    /// Reads a value written under an older `version` (see [`decode_shape`]).
    /// By default only the current version is readable.
    fn decode_older(version: u8, _body: &[u8]) -> Result<Self, CodecError> {
        Err(unreadable::<Self>(version))
    }
}

/// The error for a stored version this build cannot read.
pub fn unreadable<R: Record>(found: u8) -> CodecError {
    CodecError::Version {
        kind: R::KIND,
        found,
        expected: R::VERSION,
    }
}

/// Decodes a body (without its version byte) as the serde shape `T`, for
/// [`Record::decode_older`] implementations reading a previous layout.
pub fn decode_shape<T: DeserializeOwned>(kind: &'static str, body: &[u8]) -> Result<T, CodecError> {
    let (value, read) =
        bincode::serde::decode_from_slice(body, config()).map_err(|e| CodecError::Decode {
            kind,
            message: e.to_string(),
        })?;
    if read != body.len() {
        return Err(CodecError::Decode {
            kind,
            message: format!("{} trailing bytes", body.len() - read),
        });
    }
    Ok(value)
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("could not encode a {kind}: {message}")]
    Encode { kind: &'static str, message: String },
    #[error("stored {kind} is empty")]
    Empty { kind: &'static str },
    #[error("stored {kind} has schema version {found}, this build reads {expected}")]
    Version {
        kind: &'static str,
        found: u8,
        expected: u8,
    },
    #[error("stored {kind} does not decode: {message}")]
    Decode { kind: &'static str, message: String },
}

pub fn encode<R: Record>(record: &R) -> Result<Vec<u8>, CodecError> {
    let mut out = vec![R::VERSION];
    bincode::serde::encode_into_std_write(record, &mut out, config()).map_err(|e| {
        CodecError::Encode {
            kind: R::KIND,
            message: e.to_string(),
        }
    })?;
    Ok(out)
}

pub fn decode<R: Record>(bytes: &[u8]) -> Result<R, CodecError> {
    let (&version, body) = bytes
        .split_first()
        .ok_or(CodecError::Empty { kind: R::KIND })?;
    if version != R::VERSION {
        return R::decode_older(version, body);
    }
    decode_shape(R::KIND, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        name: String,
        tags: Vec<String>,
        at: i64,
        maybe: Option<u32>,
    }

    impl Record for Sample {
        const VERSION: u8 = 3;
        const KIND: &'static str = "sample";
    }

    fn sample() -> Sample {
        Sample {
            name: "ä name".into(),
            tags: vec!["a".into(), "b".into()],
            at: -5,
            maybe: None,
        }
    }

    #[test]
    fn records_round_trip_behind_their_version_byte() {
        let bytes = encode(&sample()).unwrap();
        assert_eq!(bytes[0], 3);
        assert_eq!(decode::<Sample>(&bytes).unwrap(), sample());
    }

    #[test]
    fn a_foreign_version_is_refused_not_misread() {
        let mut bytes = encode(&sample()).unwrap();
        bytes[0] = 9;
        assert!(matches!(
            decode::<Sample>(&bytes),
            Err(CodecError::Version {
                found: 9,
                expected: 3,
                ..
            })
        ));
    }

    #[test]
    fn truncated_trailing_and_empty_values_are_errors() {
        let bytes = encode(&sample()).unwrap();
        assert!(decode::<Sample>(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode::<Sample>(&longer).is_err());
        assert!(matches!(
            decode::<Sample>(&[]),
            Err(CodecError::Empty { .. })
        ));
    }

    #[test]
    fn a_huge_length_prefix_does_not_allocate() {
        // version, then a varint string length of u64::MAX.
        let bytes = [3u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(decode::<Sample>(&bytes).is_err());
    }
}
