//! Adversarial raw frames (`fnp.frames.v1`): bytes sent to a target's wire
//! server exactly as they are, each with the [`Reason`] the server must
//! refuse it with — and the server must go on serving afterwards, without a
//! reset.
//!
//! [`adversarial`] builds the committed `fixtures/frames/adversarial.json`
//! from real encodings, damaged one way each: cut short, a flipped CRC, a
//! lost COBS byte, unknown codes, declared lengths far beyond the data,
//! dtype/byte-length mismatches, more dimensions than any device takes,
//! element counts whose product overflows, a frame larger than any
//! device's buffer. The typed encoder in fnp-core refuses to produce most
//! of these, so they are serialized here from mirror structs with the same
//! postcard layout (a test checks the mirrors encode a valid case byte for
//! byte like fnp-core does).

use std::path::Path;
use std::time::Instant;

use fnp_core::wire::{self, FrameEncoder, Message, Reason};
use serde::Serialize;
use serde_json::{json, Value};

use crate::device::{Client, LinkError, Transport};

/// The schema id of frame fixtures.
pub const SCHEMA: &str = "fnp.frames.v1";

/// One adversarial frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Stable id (`frame/<what>`).
    pub id: String,
    /// What is wrong with it.
    pub about: String,
    /// The bytes sent, framing included.
    pub wire: Vec<u8>,
    /// The reason the Error reply must carry.
    pub reason: Reason,
}

/// What a target did with one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameOutcome {
    /// An Error reply, and a Stats request answered after it.
    Refused {
        /// The reply's reason code.
        reason: u8,
        /// Its detail number.
        detail: u64,
    },
    /// Some other message came back (what it was).
    Answered(String),
    /// The target died or restarted.
    Crashed {
        /// What was seen.
        detail: String,
    },
    /// No reply in time.
    TimedOut,
    /// This target cannot take raw frames.
    Unsupported {
        /// Why.
        reason: String,
    },
}

/// Byte-stuffs `payload` (COBS) and appends the delimiter; the CRC is
/// whatever the payload's last four bytes are.
fn cobs_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    let mut code_at = 0;
    let mut code = 1u8;
    for &b in payload {
        if b != 0 {
            out.push(b);
            code += 1;
        }
        if b == 0 || code == 0xFF {
            out[code_at] = code;
            code_at = out.len();
            out.push(0);
            code = 1;
        }
    }
    out[code_at] = code;
    out.push(0);
    out
}

/// `tag + body` with its CRC, as fnp-core frames it.
fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = FrameEncoder::new(|b: &[u8]| out.extend_from_slice(b));
    enc.write(payload);
    enc.finish();
    out
}

/// `payload` followed by the CRC fnp-core computes for it.
fn payload_with_crc(payload: &[u8]) -> Vec<u8> {
    let mut full = payload.to_vec();
    full.extend_from_slice(&crc_of(&framed(payload), payload.len()));
    full
}

/// The four CRC bytes fnp-core put in `wire` after `len` payload bytes
/// (undoing the byte stuffing).
fn crc_of(wire: &[u8], len: usize) -> [u8; 4] {
    let mut raw = Vec::new();
    let mut i = 0;
    while let Some(&code) = wire.get(i) {
        if code == 0 {
            break;
        }
        let end = (i + usize::from(code)).min(wire.len());
        raw.extend_from_slice(wire.get(i + 1..end).unwrap_or(&[]));
        if code < 0xFF && wire.get(end).is_some_and(|&b| b != 0) {
            raw.push(0);
        }
        i = end;
    }
    let mut crc = [0u8; 4];
    for (c, b) in crc.iter_mut().zip(raw.iter().skip(len)) {
        *c = *b;
    }
    crc
}

#[derive(Serialize)]
struct RawArray {
    dtype: u8,
    weak: bool,
    shape: Vec<u64>,
    strides: Option<Vec<i64>>,
    offset: u64,
    data: Vec<u8>,
}

#[derive(Serialize)]
struct RawParams {
    axis_kind: u8,
    axes: Vec<i64>,
    keepdims: bool,
    initial: Option<(u8, u64)>,
    dtype: Option<u8>,
    ddof: f64,
    casting: u8,
    signature: Option<RawSignature>,
}

#[derive(Serialize)]
struct RawSignature {
    types: Vec<u8>,
    arrow: Option<u8>,
}

#[derive(Serialize)]
struct RawCase {
    id: u32,
    op: u8,
    method: u8,
    mode: u8,
    params: RawParams,
    inputs: Vec<RawArray>,
    where_mask: Option<RawArray>,
    out: Vec<Option<RawArray>>,
}

const CASE_TAG: u8 = wire::Tag::Case as u8;
const INT32: u8 = fnp_core::DType::Int32 as u8;

fn int32s(shape: &[u64], values: &[i32]) -> RawArray {
    RawArray {
        dtype: INT32,
        weak: false,
        shape: shape.to_vec(),
        strides: None,
        offset: 0,
        data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// `add(int32 [1, 2, 3], int32 [4, 5, 6])`, case id 7.
fn good_case() -> RawCase {
    RawCase {
        id: 7,
        op: 0,
        method: 0,
        mode: 0,
        params: RawParams {
            axis_kind: wire::AxisKind::All as u8,
            axes: vec![],
            keepdims: false,
            initial: None,
            dtype: None,
            ddof: 0.0,
            casting: fnp_core::Casting::SameKind as u8,
            signature: None,
        },
        inputs: vec![int32s(&[3], &[1, 2, 3]), int32s(&[3], &[4, 5, 6])],
        where_mask: None,
        out: vec![],
    }
}

fn case_payload(case: &RawCase) -> Vec<u8> {
    let mut p = vec![CASE_TAG];
    p.extend(postcard::to_allocvec(case).unwrap_or_default());
    p
}

fn case_with(edit: impl FnOnce(&mut RawCase)) -> Vec<u8> {
    let mut c = good_case();
    edit(&mut c);
    framed(&case_payload(&c))
}

/// Every adversarial frame, in fixture order.
pub fn adversarial() -> Vec<Frame> {
    let mut v = Vec::new();
    let mut add = |id: &str, about: &str, wire: Vec<u8>, reason: Reason| {
        v.push(Frame {
            id: format!("frame/{id}"),
            about: about.into(),
            wire,
            reason,
        })
    };
    let good = case_payload(&good_case());

    add(
        "three_bytes",
        "a payload shorter than tag + CRC",
        cobs_frame(&[CASE_TAG, 1, 2]),
        Reason::Truncated,
    );
    add(
        "body_cut",
        "a case whose body ends half way (CRC correct)",
        framed(good.get(..good.len() / 2).unwrap_or(&[])),
        Reason::Truncated,
    );
    let mut bad_crc = payload_with_crc(&good);
    if let Some(last) = bad_crc.last_mut() {
        *last ^= 0x5A;
    }
    add(
        "bad_crc",
        "a valid case with one CRC byte flipped",
        cobs_frame(&bad_crc),
        Reason::BadCrc,
    );
    let mut flipped = payload_with_crc(&good);
    if let Some(b) = flipped.get_mut(3) {
        *b ^= 0x01;
    }
    add(
        "bit_flip",
        "one payload bit flipped in transit",
        cobs_frame(&flipped),
        Reason::BadCrc,
    );
    add(
        "lost_cobs_byte",
        "a COBS code promising more bytes than come before the delimiter",
        vec![0x09, CASE_TAG, 1, 2, 0],
        Reason::BadCobs,
    );
    add(
        "unknown_tag",
        "tag 0x7f",
        framed(&[0x7F, 1, 2, 3]),
        Reason::UnknownTag,
    );
    let mut trailing = good.clone();
    trailing.extend_from_slice(&[1, 2, 3]);
    add(
        "trailing_bytes",
        "a valid case followed by three stray bytes",
        framed(&trailing),
        Reason::Malformed,
    );
    let mut bad_bool = good.clone();
    // id, op, mode, axis kind, axes len, keepdims: byte 6 after the tag.
    if let Some(b) = bad_bool.get_mut(7) {
        *b = 2;
    }
    add(
        "bad_bool",
        "keepdims encoded as 2",
        framed(&bad_bool),
        Reason::Malformed,
    );
    add(
        "unknown_mode",
        "mode 9",
        case_with(|c| c.mode = 9),
        Reason::UnknownMode,
    );
    add(
        "hardened_deep",
        "a hardened-mode case with a 7-d operand (hardened takes 6)",
        case_with(|c| {
            c.mode = fnp_core::Mode::Hardened as u8;
            c.inputs[0].shape = vec![1, 1, 1, 1, 1, 1, 3];
        }),
        Reason::Hardened,
    );
    add(
        "unknown_op",
        "op 127 (no op has it)",
        case_with(|c| c.op = 127),
        Reason::UnknownOp,
    );
    add(
        "unknown_method",
        "method 9 of add (protocol 2 has reduce = 1 and accumulate = 2)",
        case_with(|c| c.method = 9),
        Reason::UnknownOp,
    );
    add(
        "unknown_dtype",
        "dtype 42 in the first operand",
        case_with(|c| c.inputs[0].dtype = 42),
        Reason::UnknownDType,
    );
    add(
        "bytes_vs_dtype",
        "int32 shape [3] carrying 10 bytes",
        case_with(|c| c.inputs[0].data.truncate(10)),
        Reason::LayoutMismatch,
    );
    add(
        "bytes_vs_shape",
        "int32 shape [4] carrying 3 elements",
        case_with(|c| c.inputs[0].shape = vec![4]),
        Reason::LayoutMismatch,
    );
    add(
        "strides_outside",
        "stride 5 walking past the data",
        case_with(|c| c.inputs[0].strides = Some(vec![5])),
        Reason::LayoutMismatch,
    );
    add(
        "negative_stride_outside",
        "stride -1 from offset 0",
        case_with(|c| c.inputs[0].strides = Some(vec![-1])),
        Reason::LayoutMismatch,
    );
    add(
        "offset_outside",
        "offset 1000 into 3 elements",
        case_with(|c| {
            c.inputs[0].strides = Some(vec![1]);
            c.inputs[0].offset = 1000;
        }),
        Reason::LayoutMismatch,
    );
    add(
        "strides_rank",
        "two strides for a 1-d operand",
        case_with(|c| c.inputs[0].strides = Some(vec![1, 1])),
        Reason::LayoutMismatch,
    );
    add(
        "deep_ndim",
        "65 dimensions (NumPy takes 64, devices 8)",
        case_with(|c| c.inputs[0].shape = vec![1; 65]),
        Reason::TooManyDims,
    );
    add(
        "element_count_overflow",
        "shape [2^32, 2^32, 2^32]: the element count overflows 64 bits",
        case_with(|c| {
            c.inputs[0].shape = vec![1 << 32; 3];
            c.inputs[0].strides = Some(vec![0; 3]);
        }),
        Reason::TooLarge,
    );
    add(
        "huge_zero_stride",
        "2^40-element operands made from one element each by a zero stride",
        case_with(|c| {
            for a in &mut c.inputs {
                a.shape = vec![1 << 40];
                a.strides = Some(vec![0]);
                a.data.truncate(4);
            }
        }),
        Reason::TooLarge,
    );
    // The data's length prefix claims 2^30 bytes; 12 follow.
    let mut long_claim = vec![CASE_TAG];
    let body = postcard::to_allocvec(&good_case()).unwrap_or_default();
    let twelve = body.windows(13).rposition(|w| w[0] == 12).unwrap_or(0);
    long_claim.extend_from_slice(body.get(..twelve).unwrap_or(&[]));
    long_claim.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x04]);
    long_claim.extend_from_slice(body.get(twelve + 1..).unwrap_or(&[]));
    add(
        "length_beyond_data",
        "a byte string whose length prefix says 2^30 bytes",
        framed(&long_claim),
        Reason::Truncated,
    );
    add(
        "arity",
        "add with one operand",
        case_with(|c| {
            c.inputs.pop();
        }),
        Reason::Arity,
    );
    add(
        "axis_kind",
        "axis kind 7",
        case_with(|c| c.params.axis_kind = 7),
        Reason::BadParam,
    );
    add(
        "casting_code",
        "casting code 9 (the rules are 0..=4)",
        case_with(|c| c.params.casting = 9),
        Reason::BadParam,
    );
    add(
        "signature_dtype",
        "signature= naming dtype code 77",
        case_with(|c| {
            c.params.signature = Some(RawSignature {
                types: vec![77, 0xff, 0xff],
                arrow: None,
            })
        }),
        Reason::UnknownDType,
    );
    add(
        "signature_long",
        "signature= of five entries (a ufunc has at most four operands)",
        case_with(|c| {
            c.params.signature = Some(RawSignature {
                types: vec![0xff; 5],
                arrow: None,
            })
        }),
        Reason::BadParam,
    );
    add(
        "out_short",
        "an out= array of shape [3] with one element's bytes",
        case_with(|c| c.out = vec![Some(int32s(&[3], &[1]))]),
        Reason::LayoutMismatch,
    );
    add(
        "out_three",
        "three out= entries (an op has at most two outputs)",
        case_with(|c| c.out = vec![None, None, None]),
        Reason::Arity,
    );
    add(
        "weak_not_scalar",
        "a weak (Python scalar) operand of shape [3]",
        case_with(|c| c.inputs[1].weak = true),
        Reason::BadParam,
    );
    let result = Message::Result(wire::CaseResult {
        id: 1,
        error: 0,
        dtype: INT32,
        second: None,
        shape: wire::Bounded::default(),
        flags: 0,
        instructions: None,
        data: &[],
    });
    let mut result_wire = Vec::new();
    let _ = wire::encode(&result, |b| result_wire.extend_from_slice(b));
    add(
        "result_to_device",
        "a Result message, which only devices send",
        result_wire,
        Reason::UnexpectedMessage,
    );
    let mut oversize = Vec::new();
    for i in 0..80_000u32 {
        oversize.push((i % 251) as u8 + 1);
    }
    add(
        "oversize",
        "an 80 000-byte frame, over every device's receive buffer",
        cobs_frame(&oversize),
        Reason::Oversize,
    );
    v
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The fixture document for `frames`.
pub fn to_json(frames: &[Frame]) -> Value {
    json!({
        "schema": SCHEMA,
        "about": "hostile wire frames: each must be refused with its reason, and the target must keep serving (fnp run sends them to every target)",
        "frames": frames.iter().map(|f| json!({
            "id": f.id,
            "about": f.about,
            "wire": hex(&f.wire),
            "reason": f.reason.name(),
        })).collect::<Vec<_>>(),
    })
}

/// Reads a frame fixture (checked against `fnp.frames.v1`).
pub fn load(path: &Path) -> anyhow::Result<Vec<Frame>> {
    let bytes = crate::jsonread::read_file(path)?;
    let json = crate::jsonread::parse(path, &bytes)?;
    crate::schema::validate(crate::schema::Kind::Frames, path, &json)?;
    let mut out = Vec::new();
    for f in json["frames"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let id = f["id"].as_str().unwrap_or_default().to_string();
        let wire = f["wire"].as_str().and_then(unhex).ok_or_else(|| {
            anyhow::anyhow!("{}: frame {id}: field wire: not hex", path.display())
        })?;
        let name = f["reason"].as_str().unwrap_or_default();
        let reason = Reason::ALL
            .iter()
            .copied()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                anyhow::anyhow!("{}: frame {id}: unknown reason {name:?}", path.display())
            })?;
        out.push(Frame {
            id,
            about: f["about"].as_str().unwrap_or_default().to_string(),
            wire,
            reason,
        });
    }
    Ok(out)
}

/// Sends one raw frame over `client` and reads the reply, then asks for
/// Stats to prove the server still serves.
pub fn exchange<T: Transport>(
    client: &mut Client<T>,
    frame: &[u8],
    deadline: Instant,
) -> Result<FrameOutcome, LinkError> {
    let link = client.link_mut();
    link.transport_mut().send(frame).map_err(LinkError::Io)?;
    let payload = link.recv_payload(deadline)?;
    let outcome = match wire::decode(&payload) {
        Ok(Message::Error(e)) => FrameOutcome::Refused {
            reason: e.reason,
            detail: e.detail,
        },
        Ok(Message::Hello(_)) => FrameOutcome::Crashed {
            detail: "the device restarted (sent Hello)".into(),
        },
        Ok(other) => FrameOutcome::Answered(format!("{other:?}")),
        Err(e) => FrameOutcome::Answered(format!("an undecodable reply ({e})")),
    };
    client.stats(deadline)?;
    Ok(outcome)
}

/// [`exchange`] as an outcome: link failures become `TimedOut` or
/// `Crashed`.
pub fn outcome_of(result: Result<FrameOutcome, LinkError>) -> FrameOutcome {
    match result {
        Ok(o) => o,
        Err(LinkError::TimedOut) => FrameOutcome::TimedOut,
        Err(e) => FrameOutcome::Crashed {
            detail: e.to_string(),
        },
    }
}

/// Runs `frames` through fnp-core's wire server on a thread of this
/// process (the sizes of the smallest board), one server for all of them:
/// a frame that wedged it would fail every later one.
pub fn in_memory(frames: &[Frame]) -> Vec<FrameOutcome> {
    let (transport, _server) = crate::device::memory::spawn_server(Default::default());
    let deadline = || Instant::now() + std::time::Duration::from_secs(10);
    let mut client = match Client::connect(transport, deadline()) {
        Ok(c) => c,
        Err(e) => {
            let detail = format!("the in-memory server did not start: {e}");
            return frames
                .iter()
                .map(|_| FrameOutcome::Crashed {
                    detail: detail.clone(),
                })
                .collect();
        }
    };
    frames
        .iter()
        .map(|f| outcome_of(exchange(&mut client, &f.wire, deadline())))
        .collect()
}

/// Whether `outcome` is what `frame` must get.
pub fn passed(frame: &Frame, outcome: &FrameOutcome) -> bool {
    matches!(outcome, FrameOutcome::Refused { reason, .. } if *reason == frame.reason as u8)
}

/// A reason code's name (`code 99` when unknown).
pub fn reason_name(code: u8) -> String {
    Reason::try_from(code)
        .map(|r| r.name().to_string())
        .unwrap_or_else(|c| format!("code {c}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fnp_core::wire::{Bounded, Case, Params, WireArray};

    #[test]
    fn mirrors_encode_like_fnp_core() {
        let a: Vec<u8> = [1i32, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let b: Vec<u8> = [4i32, 5, 6].iter().flat_map(|v| v.to_le_bytes()).collect();
        let arr = |data| WireArray {
            dtype: INT32,
            weak: false,
            shape: Bounded::from_slice(&[3]).unwrap(),
            strides: None,
            offset: 0,
            data,
        };
        let typed = Message::Case(Case {
            id: 7,
            op: 0,
            method: 0,
            mode: 0,
            params: Params::default(),
            inputs: Bounded::from_slice(&[arr(&a), arr(&b)]).unwrap(),
            where_mask: None,
            out: Bounded::default(),
        });
        let mut bytes = Vec::new();
        wire::encode(&typed, |x| bytes.extend_from_slice(x)).unwrap();
        assert_eq!(framed(&case_payload(&good_case())), bytes);
    }

    #[test]
    fn cobs_round_trips_through_the_accumulator() {
        for payload in [
            vec![1u8, 2, 3],
            vec![0, 0, 1, 0],
            (0..600u32).map(|i| (i % 256) as u8).collect::<Vec<_>>(),
            vec![7u8; 254],
            vec![7u8; 255],
        ] {
            let wire = cobs_frame(&payload);
            let mut acc = wire::FrameAccumulator::new(vec![0u8; 1024]);
            // The accumulator checks a CRC; compare the unstuffed bytes
            // through framed(), whose CRC is right.
            let good = framed(&payload);
            match acc.feed(&good) {
                wire::Feed::Frame { frame, .. } => assert_eq!(frame.unwrap(), &payload[..]),
                wire::Feed::Consumed => panic!("no frame"),
            }
            let mut with_crc = payload.clone();
            with_crc.extend_from_slice(&crc_of(&good, payload.len()));
            assert_eq!(cobs_frame(&with_crc), good, "{}", payload.len());
            assert!(!wire[..wire.len() - 1].contains(&0));
        }
    }

    #[test]
    fn fixture_round_trips() {
        let frames = adversarial();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, to_json(&frames).to_string()).unwrap();
        assert_eq!(load(&path).unwrap(), frames);
        let mut ids: Vec<&str> = frames.iter().map(|f| f.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), frames.len());
    }
}
