//! Reading the JSON files fnp is given, defensively.
//!
//! - [`read_file`] reads regular files only (a FIFO would block forever,
//!   `/dev/zero` would grow without end) and at most [`MAX_FILE_BYTES`].
//! - [`parse`] is `serde_json` plus a refusal of duplicate object keys,
//!   which `serde_json::Value` would silently resolve to the last one: a
//!   corpus or oracle with `"data"` twice in a case is ambiguous, so it is
//!   an error naming the file, the case and the key.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use serde_json::Value;

/// The largest file fnp reads (1 GiB): far above any corpus, oracle or
/// report it writes.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Reads `path`, which must be a regular file of at most
/// [`MAX_FILE_BYTES`].
pub fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    read_file_max(path, MAX_FILE_BYTES)
}

/// [`read_file`] with another size limit.
pub fn read_file_max(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it has no
    // effect on the regular files read below.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() {
        let what = match meta.file_type() {
            t if t.is_dir() => "a directory",
            t if t.is_symlink() => "a symbolic link",
            _ => "not a regular file (a FIFO, socket or device)",
        };
        anyhow::bail!("{}: {what}; fnp reads regular files only", path.display());
    }
    if meta.len() > max {
        anyhow::bail!(
            "{}: {} bytes, more than the {max} fnp reads",
            path.display(),
            meta.len()
        );
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The file may grow while it is read: never past the limit.
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > max {
        anyhow::bail!("{}: more than the {max} bytes fnp reads", path.display());
    }
    Ok(bytes)
}

/// [`read_file`] as UTF-8 text.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| anyhow::anyhow!("{}: not UTF-8 text", path.display()))
}

/// One step of a path into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A member of an object.
    Key(String),
    /// An element of an array.
    Index(usize),
}

/// The first object key that appears twice in one object of `text`
/// (valid JSON): where the object is and the key. Keys compare after
/// unescaping (`"a"` and `"\u0061"` are the same key).
pub fn find_duplicate_key(text: &[u8]) -> Option<(Vec<Step>, String)> {
    enum Frame {
        Object {
            keys: HashSet<String>,
            key: Option<String>,
            expect_key: bool,
        },
        Array {
            index: usize,
        },
    }
    let path_of = |stack: &[Frame]| -> Vec<Step> {
        // Every frame but the innermost contributes where it is inside.
        stack
            .iter()
            .take(stack.len().saturating_sub(1))
            .filter_map(|f| match f {
                Frame::Object { key, .. } => key.clone().map(Step::Key),
                Frame::Array { index } => Some(Step::Index(*index)),
            })
            .collect()
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'{' => stack.push(Frame::Object {
                keys: HashSet::new(),
                key: None,
                expect_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            b'"' => {
                let start = i;
                i += 1;
                while let Some(&c) = text.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                let raw = text.get(start..=i).unwrap_or_default();
                let path = path_of(&stack);
                if let Some(Frame::Object {
                    keys,
                    key,
                    expect_key,
                }) = stack.last_mut()
                {
                    if *expect_key {
                        *expect_key = false;
                        let name: String = serde_json::from_slice(raw)
                            .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned());
                        if !keys.insert(name.clone()) {
                            return Some((path, name));
                        }
                        *key = Some(name);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parses `bytes` (read from `path`) as JSON, refusing duplicate keys.
/// The error names the file, the case (the `id` of the element of a
/// top-level array such as `cases` or `results` it is in) and the key.
pub fn parse(path: &Path, bytes: &[u8]) -> anyhow::Result<Value> {
    let json: Value =
        serde_json::from_slice(bytes).with_context(|| format!("{}: not JSON", path.display()))?;
    if let Some((at, key)) = find_duplicate_key(bytes) {
        let mut steps = at.as_slice();
        let mut place = String::new();
        if let [Step::Key(list), Step::Index(i), rest @ ..] = steps {
            let item = json.get(list).and_then(|l| l.get(*i));
            if let Some(id) = item
                .and_then(|c| c.get("id").or_else(|| c.get("path")))
                .and_then(Value::as_str)
            {
                place = format!("case {id}: ");
                steps = rest;
            }
        }
        let within: Vec<String> = steps
            .iter()
            .map(|s| match s {
                Step::Key(k) => k.clone(),
                Step::Index(i) => i.to_string(),
            })
            .collect();
        let field = if within.is_empty() {
            key.clone()
        } else {
            format!("{}.{key}", within.join("."))
        };
        anyhow::bail!(
            "{}: {place}field {field}: duplicate key {key:?} (JSON leaves it ambiguous; \
             give each key once)",
            path.display()
        );
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_with_their_place() {
        let none = br#"{"a": {"b": 1, "c": [ {"b": 2}, {"b": "}\"{"} ]}, "b": 3}"#;
        assert_eq!(find_duplicate_key(none), None);
        let dup = br#"{"cases": [{"id": "x"}, {"id": "y", "inputs": [{"data": [1], "dtype": "int8", "data": [2]}]}]}"#;
        assert_eq!(
            find_duplicate_key(dup),
            Some((
                vec![
                    Step::Key("cases".into()),
                    Step::Index(1),
                    Step::Key("inputs".into()),
                    Step::Index(0)
                ],
                "data".into()
            ))
        );
        let escaped = br#"{"k": 1, "\u006b": 2}"#;
        assert_eq!(find_duplicate_key(escaped), Some((vec![], "k".into())));
        let err = format!("{:#}", parse(Path::new("c.json"), dup).unwrap_err());
        assert!(
            err.contains("c.json")
                && err.contains("case y")
                && err.contains("inputs.0.data")
                && err.contains("duplicate key \"data\""),
            "{err}"
        );
        // Top level.
        let err = format!(
            "{:#}",
            parse(Path::new("o.json"), br#"{"schema": 1, "schema": 2}"#).unwrap_err()
        );
        assert!(err.contains("field schema: duplicate key"), "{err}");
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z\"\\{}\\[\\],:\u{e9}]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-c\"\\{]{0,3}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_scanner_never_panics_and_finds_exactly_the_duplicates(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            v in json_value(),
        ) {
            let _ = find_duplicate_key(&bytes);
            // serde_json writes each key of a map once.
            let text = serde_json::to_string(&v).unwrap();
            proptest::prop_assert_eq!(find_duplicate_key(text.as_bytes()), None, "{}", text);
            // The same object written with a key twice.
            let twice = format!("{{\"k\":{text},\"k\":{text}}}");
            proptest::prop_assert_eq!(
                find_duplicate_key(twice.as_bytes()),
                Some((vec![], "k".to_string()))
            );
        }
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = format!("{:#}", read_file(&fifo).unwrap_err());
        assert!(err.contains("not a regular file"), "{err}");
        assert!(read_file(Path::new("/dev/zero")).is_err());
        assert!(read_file(dir.path()).is_err());
        let big = dir.path().join("big");
        std::fs::write(&big, [b' '; 100]).unwrap();
        assert!(read_file_max(&big, 99).is_err());
        assert_eq!(read_file_max(&big, 100).unwrap().len(), 100);
    }
}
