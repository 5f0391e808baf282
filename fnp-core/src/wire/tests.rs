use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::{BinaryOp, DType, Error, Method};

fn frame(msg: &Message<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    encode(msg, |b| out.extend_from_slice(b)).unwrap();
    out
}

fn hex(bytes: &[u8]) -> std::string::String {
    bytes.iter().map(|b| std::format!("{b:02x}")).collect()
}

/// Feeds `bytes` and returns every frame result, owned.
fn frames(acc_size: usize, bytes: &[u8]) -> Vec<Result<Vec<u8>, WireError>> {
    let mut acc = FrameAccumulator::new(vec![0u8; acc_size]);
    let mut out = Vec::new();
    let mut input = bytes;
    while let Feed::Frame { frame, rest } = acc.feed(input) {
        out.push(frame.map(|p| p.to_vec()));
        input = rest;
    }
    out
}

/// Encodes, re-reads and decodes `msg`; checks it against the pinned
/// payload (tag + body + CRC, before COBS) and the pinned frame bytes.
#[track_caller]
fn golden(msg: &Message<'_>, payload_hex: &str, frame_hex: &str) {
    let bytes = frame(msg);
    let got = frames(1 << 16, &bytes);
    assert_eq!(got.len(), 1);
    let payload = got[0].clone().unwrap();
    assert_eq!(&decode(&payload).unwrap(), msg);
    assert_eq!(payload_len(msg).unwrap(), payload.len() + CRC_BYTES);
    let crc = frame::CRC.checksum(&payload).to_le_bytes();
    let full = [payload.as_slice(), &crc].concat();
    assert_eq!(
        (hex(&full).as_str(), hex(&bytes).as_str()),
        (payload_hex, frame_hex)
    );
}

fn array<'a>(dtype: DType, shape: &[u64], data: &'a [u8]) -> WireArray<'a> {
    WireArray {
        dtype: dtype as u8,
        weak: false,
        shape: Bounded::from_slice(shape).unwrap(),
        strides: None,
        offset: 0,
        data,
    }
}

fn binary_case<'a>(op: u8, a: WireArray<'a>, b: WireArray<'a>) -> Case<'a> {
    Case {
        id: 7,
        op,
        method: 0,
        mode: 0,
        params: Params::default(),
        inputs: Bounded::from_slice(&[a, b]).unwrap(),
        where_mask: None,
        out: Bounded::default(),
    }
}

fn hello() -> Hello<'static> {
    Hello {
        version: PROTOCOL_VERSION,
        target: "lm3s6965evb",
        profile: "release",
        limits: Limits {
            max_frame_bytes: 8192,
            max_elements: 1024,
            max_ndim: 8,
            max_inputs: 2,
            arena_bytes: 8192,
            out_bytes: 8192,
            scratch_bytes: 0,
            stack_bytes: 8192,
        },
        dtypes: &DTYPE_CODES,
        ops: &[0, 1, 2],
    }
}

// Golden bytes: any change to these is a protocol change and must bump
// PROTOCOL_VERSION and WIRE.md.

#[test]
fn golden_hello() {
    golden(&Message::Hello(hello()),
        "01040b6c6d3373363936356576620772656c65617365804080080802804080400080400b000102030405060708090a03000102de911123",
        "2101040b6c6d3373363936356576620772656c65617365804080080802804080400480400b0c0102030405060708090a03070102de91112300",
    );
}

#[test]
fn golden_case() {
    let a = 1i32.to_le_bytes();
    let five = 5i64.to_le_bytes();
    let mut b = array(DType::Int64, &[], &five);
    b.weak = true;
    let case = binary_case(0, array(DType::Int32, &[1], &a), b);
    golden(&Message::Case(case),
        "020700000001000000000000000000000000030002030001010000040100000004010000000805000000000000000000f72fa89d",
        "03020701010201010101010101010101010102030302030301010103040101010304010101030805010101010101010105f72fa89d00",
    );
}

#[test]
fn golden_case_with_params() {
    let mask = [1u8, 0];
    let data = 2.5f64.to_le_bytes();
    let strided = WireArray {
        dtype: DType::Float64 as u8,
        weak: false,
        shape: Bounded::from_slice(&[2]).unwrap(),
        strides: Some(Bounded::from_slice(&[0]).unwrap()),
        offset: 0,
        data: &data,
    };
    let case = Case {
        id: 300,
        op: 64,
        method: 0,
        mode: 0,
        params: Params {
            axis: WireAxes {
                kind: AxisKind::Int as u8,
                axes: Bounded::from_slice(&[-1]).unwrap(),
            },
            keepdims: true,
            initial: Some(WireScalar {
                kind: 3,
                bits: 1.0f64.to_bits(),
            }),
            dtype: Some(DType::Float32 as u8),
            ddof: 1.0,
            casting: crate::Casting::Unsafe as u8,
            signature: None,
        },
        inputs: Bounded::from_slice(&[strided]).unwrap(),
        where_mask: Some(array(DType::Bool, &[2], &mask)),
        out: Bounded::default(),
    };
    golden(&Message::Case(case),
        "02ac0240000002010101010380808080808080f83f0109000000000000f03f0400010a0001020101000008000000000000044001000001020000020100009ade4aa1",
        "0502ac0240011202010101010380808080808080f83f0109010101010104f03f0403010a0501020101010208010101010104044001010301020103020101059ade4aa100",
    );
}

#[test]
fn golden_method_case() {
    // np.maximum.accumulate(int16 [3, -1]) along axis 0.
    let data = [3u8, 0, 0xff, 0xff];
    let case = Case {
        id: 9,
        op: BinaryOp::Maximum as u8,
        method: Method::Accumulate as u8,
        mode: 0,
        params: Params {
            axis: WireAxes {
                kind: AxisKind::Int as u8,
                axes: Bounded::from_slice(&[0]).unwrap(),
            },
            ..Params::default()
        },
        inputs: Bounded::from_slice(&[array(DType::Int16, &[2], &data)]).unwrap(),
        where_mask: None,
        out: Bounded::default(),
    };
    golden(
        &Message::Case(case),
        "02090702000201000000000000000000000000030001020001020000040300ffff00004acb2c36",
        "0502090702030201010101010101010101010102030301020301020103040303ffff01054acb2c3600",
    );
}

#[test]
fn golden_signature_case() {
    // np.add(int8 [1], int8 [2], signature=(None, "float64", None)).
    let (one, two) = ([1u8], [2u8]);
    let mut case = binary_case(
        0,
        array(DType::Int8, &[1], &one),
        array(DType::Int8, &[1], &two),
    );
    case.params.signature = Some(WireSignature {
        types: Bounded::from_slice(&[
            WireSignature::NONE,
            DType::Float64 as u8,
            WireSignature::NONE,
        ])
        .unwrap(),
        arrow: None,
    });
    golden(
        &Message::Case(case.clone()),
        "020700000001000000000000000000000000030103ff0aff00020100010100000101010001010000010200001248fdca",
        "03020701010201010101010101010101010107030103ff0aff03020103010101040101010301010103010201051248fdca00",
    );
    // Served: float64 [3.0]; a signature of the wrong length is refused as
    // NumPy's ValueError, an unknown dtype code as a bad frame.
    let (dtype, _, data) = result_of(serve_with(64, &case));
    assert_eq!(
        (dtype, data),
        (DType::Float64 as u8, 3.0f64.to_le_bytes().to_vec())
    );
    let mut short = case.clone();
    short.params.signature = Some(WireSignature {
        types: Bounded::from_slice(&[1, 1]).unwrap(),
        arrow: None,
    });
    match serve_with(64, &short) {
        Message::Result(r) => assert_eq!(error_from_code(r.error), Some(Error::InvalidArgument)),
        other => panic!("{other:?}"),
    }
    let mut unknown = case;
    unknown.params.signature = Some(WireSignature {
        types: Bounded::from_slice(&[77, 1, 1]).unwrap(),
        arrow: None,
    });
    assert_eq!(
        refused(&unknown),
        WireError::with_detail(Reason::UnknownDType, 77)
    );
}

#[test]
fn golden_result() {
    let data = [2u8, 0, 0, 0, 3, 0, 0, 0];
    let ok = CaseResult {
        id: 7,
        error: 0,
        dtype: DType::Int32 as u8,
        second: None,
        shape: Bounded::from_slice(&[2]).unwrap(),
        flags: 0,
        instructions: Some(1234),
        data: &data,
    };
    golden(
        &Message::Result(ok),
        "030700030001020001d2090802000000030000009925863a",
        "03030702030301020601d2090802010102030101059925863a00",
    );
    let raised = CaseResult {
        id: 8,
        error: error_code(Error::BroadcastMismatch),
        dtype: 0,
        second: None,
        shape: Bounded::default(),
        flags: 0,
        instructions: None,
        data: &[],
    };
    golden(
        &Message::Result(raised),
        "0308010000000000006a3816aa",
        "040308010101010101056a3816aa00",
    );
}

#[test]
fn golden_error_and_stats() {
    let err = ErrorReply {
        id: Some(9),
        reason: Reason::TooLarge as u8,
        detail: 100_000,
    };
    golden(
        &Message::Error(err),
        "0401090ea08d06d92386f1",
        "0c0401090ea08d06d92386f100",
    );
    golden(&Message::GetStats, "05021b68a2", "0605021b68a200");
    let stats = Stats {
        cases: 3,
        errors: 1,
        peak_stack_bytes: 1500,
        stack_bytes: 8192,
    };
    golden(
        &Message::Stats(stats),
        "060301dc0b80404181c068",
        "0c060301dc0b80404181c06800",
    );
}

// Framing.

#[test]
fn cobs_block_boundaries_roundtrip() {
    for len in [0usize, 1, 252, 253, 254, 255, 256, 507, 508, 509, 1000] {
        for zero_every in [0usize, 1, 2, 254, 255] {
            let data: Vec<u8> = (0..len)
                .map(|i| {
                    if zero_every != 0 && i % zero_every == 0 {
                        0
                    } else {
                        (i % 251 + 1) as u8
                    }
                })
                .collect();
            let mut out = Vec::new();
            let mut enc = FrameEncoder::new(|b: &[u8]| out.extend_from_slice(b));
            enc.write(&data);
            assert_eq!(enc.finish(), len + CRC_BYTES);
            assert_eq!(
                out.iter().filter(|&&b| b == 0).count(),
                1,
                "only the delimiter"
            );
            let got = frames(4096, &out);
            if len == 0 {
                // A payload under tag + CRC is refused, never indexed.
                assert_eq!(got, vec![Err(WireError::new(Reason::Truncated))]);
            } else {
                assert_eq!(
                    got,
                    vec![Ok(data.clone())],
                    "len {len} zero_every {zero_every}"
                );
            }
        }
    }
}

fn case_frame(case: &Case<'_>) -> Vec<u8> {
    frame(&Message::Case(case.clone()))
}

proptest! {
    #[test]
    fn any_chunking_yields_the_same_frames(
        cuts in proptest::collection::vec(0usize..400, 0..12),
        n in 1usize..4,
    ) {
        let data: Vec<u8> = (0u16..300).map(|i| (i % 7) as u8).collect();
        let a = array(DType::UInt8, &[300], &data);
        let b = array(DType::UInt8, &[1], &data[..1]);
        let one = case_frame(&binary_case(1, a, b));
        let stream: Vec<u8> = (0..n).flat_map(|_| one.clone()).collect();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.sort_unstable();
        let mut acc = FrameAccumulator::new(vec![0u8; 1024]);
        let mut got = 0;
        let mut last = 0;
        for cut in cuts.into_iter().chain([stream.len()]) {
            let mut input = &stream[last..cut];
            last = cut;
            while let Feed::Frame { frame, rest } = acc.feed(input) {
                let msg = decode(frame.unwrap()).unwrap();
                prop_assert!(matches!(msg, Message::Case(c) if c.op == 1));
                got += 1;
                input = rest;
            }
        }
        prop_assert_eq!(got, n);
    }

    #[test]
    fn garbage_never_panics_and_every_frame_is_answered(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut arena = [0u64; 64];
        let mut out = [0u64; 64];
        let mut server = Server::new(config(), &mut arena, &mut out, ());
        let mut acc = FrameAccumulator::new(vec![0u8; 128]);
        let mut input = bytes.as_slice();
        while let Feed::Frame { frame, rest } = acc.feed(input) {
            let mut reply = Vec::new();
            server.handle(frame, |b| reply.extend_from_slice(b));
            let answers = frames(1024, &reply);
            prop_assert_eq!(answers.len(), 1);
            input = rest;
        }
    }

    #[test]
    fn corrupted_bytes_are_refused_by_crc_or_framing(
        at in 0usize..1000, flip in 1u8..=255,
    ) {
        let data = [1u8, 2, 3, 4];
        let case = binary_case(0, array(DType::UInt8, &[4], &data), array(DType::UInt8, &[4], &data));
        let mut bytes = case_frame(&case);
        let at = at % (bytes.len() - 1);
        bytes[at] ^= flip;
        for got in frames(1024, &bytes) {
            if let Err(e) = got {
                prop_assert!(matches!(
                    e.reason,
                    Reason::BadCrc | Reason::BadCobs | Reason::Truncated
                ));
            }
        }
    }
}

#[test]
fn framing_errors_each_have_their_reason() {
    // Shorter than tag + CRC.
    assert_eq!(
        frames(64, &[0x03, 0x01, 0x02, 0x00]),
        vec![Err(WireError::new(Reason::Truncated))]
    );
    // Longer than the buffer; the accumulator recovers at the delimiter.
    let big = frame(&Message::Stats(Stats {
        cases: u64::MAX,
        errors: u64::MAX,
        peak_stack_bytes: u64::MAX,
        stack_bytes: u64::MAX,
    }));
    let small = frame(&Message::GetStats);
    let got = frames(16, &[big.as_slice(), &small].concat());
    assert_eq!(got[0], Err(WireError::new(Reason::Oversize)));
    assert!(got[1].is_ok());
    // A delimiter inside a block: a code promised more bytes.
    assert_eq!(
        frames(64, &[0x09, 1, 2, 3, 0x00]),
        vec![Err(WireError::new(Reason::BadCobs))]
    );
    // One flipped bit in the body.
    let mut bad = small.clone();
    bad[1] ^= 0x40;
    assert_eq!(frames(64, &bad), vec![Err(WireError::new(Reason::BadCrc))]);
    // Stray delimiters between frames are not frames.
    assert_eq!(frames(64, &[0, 0, 0]), vec![]);
}

/// A payload with a valid CRC around whatever body we choose, to reach the
/// decoder's own checks.
fn with_crc(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = FrameEncoder::new(|b: &[u8]| out.extend_from_slice(b));
    enc.write(&[tag]);
    enc.write(body);
    enc.finish();
    frames(4096, &out).remove(0).unwrap()
}

#[test]
fn decode_errors_each_have_their_reason() {
    let reason = |tag: u8, body: &[u8]| decode(&with_crc(tag, body)).unwrap_err();
    assert_eq!(
        reason(0, &[]),
        WireError::with_detail(Reason::UnknownTag, 0)
    );
    assert_eq!(
        reason(200, &[]),
        WireError::with_detail(Reason::UnknownTag, 200)
    );
    // A Case body cut short.
    let full = with_crc(Tag::Case as u8, &[]);
    assert_eq!(
        decode(&full).unwrap_err(),
        WireError::new(Reason::Truncated)
    );
    // A bool that is neither 0 nor 1, and bytes left over.
    assert_eq!(
        reason(Tag::Error as u8, &[2, 0, 0, 0]).reason,
        Reason::Malformed
    );
    assert_eq!(
        reason(Tag::Error as u8, &[0, 4, 0, 9]),
        WireError::with_detail(Reason::Malformed, 1)
    );
    assert_eq!(reason(Tag::GetStats as u8, &[1]).reason, Reason::Malformed);
    // Hello of another version: refused before the rest is looked at.
    assert_eq!(
        reason(Tag::Hello as u8, &[1, 0xff]),
        WireError::with_detail(Reason::VersionMismatch, 1)
    );
    assert_eq!(reason(Tag::Hello as u8, &[]).reason, Reason::Truncated);
}

// The server.

fn config() -> ServerConfig {
    ServerConfig {
        target: "test",
        profile: "dev",
        max_frame_bytes: 1024,
        stack_bytes: 0,
    }
}

/// Runs `case` through a server with `words` u64 of arena and output.
fn serve_with(words: usize, case: &Case<'_>) -> Message<'static> {
    let payload = frames(1 << 16, &case_frame(case)).remove(0).unwrap();
    serve_payload(words, &payload)
}

/// Serves a checked payload (tag + body) and decodes the reply.
fn serve_payload(words: usize, payload: &[u8]) -> Message<'static> {
    let mut arena = vec![0u64; words];
    let mut out = vec![0u64; words];
    let mut server = Server::new(config(), &mut arena, &mut out, ());
    let mut reply = Vec::new();
    server.handle(Ok(payload), |b| reply.extend_from_slice(b));
    let payload = frames(1 << 16, &reply).remove(0).unwrap();
    // Leak: test-only, to hand back a message that borrows the reply.
    let payload: &'static [u8] = Vec::leak(payload);
    decode(payload).unwrap()
}

fn refused(case: &Case<'_>) -> WireError {
    match serve_with(64, case) {
        Message::Error(e) => {
            assert_eq!(e.id, Some(case.id));
            WireError::with_detail(Reason::try_from(e.reason).unwrap(), e.detail)
        }
        other => panic!("expected an Error reply, got {other:?}"),
    }
}

fn le_i32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn serves_a_binary_case_from_unaligned_frame_bytes() {
    // A one-byte prefix in front of the data inside the frame: the server
    // must copy, not cast.
    let a = le_i32(&[1, -2, 3]);
    let b = le_i32(&[10]);
    let case = binary_case(
        crate::BinaryOp::Add as u8,
        array(DType::Int32, &[3], &a),
        array(DType::Int32, &[1], &b),
    );
    match serve_with(64, &case) {
        Message::Result(r) => {
            assert_eq!(r.id, 7);
            assert_eq!(r.error, 0);
            assert_eq!(r.dtype, DType::Int32 as u8);
            assert_eq!(r.shape.as_slice(), &[3]);
            assert_eq!(r.data, le_i32(&[11, 8, 13]).as_slice());
            assert_eq!(r.instructions, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn strided_and_weak_inputs_are_served() {
    // a = [5, 6, 7, 8][::-2] -> [8, 6]; b = Python int 1 (weak).
    let a: Vec<u8> = [5u8, 6, 7, 8].to_vec();
    let one = 1i64.to_le_bytes();
    let mut b = array(DType::Int64, &[], &one);
    b.weak = true;
    let mut a_arr = array(DType::UInt8, &[2], &a);
    a_arr.strides = Some(Bounded::from_slice(&[-2]).unwrap());
    a_arr.offset = 3;
    match serve_with(64, &binary_case(0, a_arr, b)) {
        Message::Result(r) => {
            assert_eq!(r.dtype, DType::UInt8 as u8, "NEP 50: weak int keeps uint8");
            assert_eq!(r.data, &[9, 7]);
        }
        other => panic!("{other:?}"),
    };
}

#[test]
fn numpy_errors_come_back_as_results() {
    let a = le_i32(&[1, 2, 3]);
    let b = le_i32(&[1, 2]);
    let case = binary_case(
        0,
        array(DType::Int32, &[3], &a),
        array(DType::Int32, &[2], &b),
    );
    match serve_with(64, &case) {
        Message::Result(r) => {
            assert_eq!(error_from_code(r.error), Some(Error::BroadcastMismatch));
            assert!(r.data.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn case_errors_each_have_their_reason() {
    let d = le_i32(&[1, 2]);
    let ok = || {
        binary_case(
            0,
            array(DType::Int32, &[2], &d),
            array(DType::Int32, &[2], &d),
        )
    };

    let mut c = ok();
    c.mode = 9;
    assert_eq!(refused(&c), WireError::with_detail(Reason::UnknownMode, 9));

    // Hardened mode: the same case is served; one over a limit is refused
    // with the refusal's code, while strict mode runs it as NumPy would.
    let mut c = ok();
    c.mode = Mode::Hardened as u8;
    assert!(matches!(serve_with(64, &c), Message::Result(_)));
    let one = le_i32(&[3]);
    let mut wide = array(DType::Int32, &[1 << 21], &one);
    wide.strides = Some(Bounded::from_slice(&[0]).unwrap());
    let mut c = binary_case(0, wide.clone(), array(DType::Int32, &[1], &one));
    c.mode = Mode::Hardened as u8;
    assert_eq!(
        refused(&c),
        WireError::with_detail(Reason::Hardened, crate::Refusal::TooManyElements as u64)
    );
    c.mode = Mode::Strict as u8;
    // Strict: the 2^21-element result does not fit the test server's
    // output buffer, which is a size refusal, not a hardened one.
    assert_eq!(refused(&c).reason, Reason::TooLarge);

    let mut c = ok();
    c.op = 127;
    assert_eq!(refused(&c), WireError::with_detail(Reason::UnknownOp, 127));
    // A method code past at, and a method of a reduction.
    let mut c = ok();
    c.method = 6;
    assert_eq!(
        refused(&c),
        WireError::with_detail(Reason::UnknownOp, 6 << 8)
    );
    c.op = 64;
    c.method = 1;
    assert_eq!(
        refused(&c),
        WireError::with_detail(Reason::UnknownOp, 64 | 1 << 8)
    );

    let mut c = ok();
    c.inputs = Bounded::from_slice(&[array(DType::Int32, &[2], &d)]).unwrap();
    assert_eq!(refused(&c), WireError::with_detail(Reason::Arity, 1));

    let mut c = ok();
    let mut x = array(DType::Int32, &[2], &d);
    x.dtype = 11;
    c.inputs = Bounded::from_slice(&[x.clone(), x]).unwrap();
    assert_eq!(
        refused(&c),
        WireError::with_detail(Reason::UnknownDType, 11)
    );

    // Data shorter than the shape, and not a whole number of elements.
    let c = binary_case(
        0,
        array(DType::Int32, &[3], &d),
        array(DType::Int32, &[2], &d),
    );
    assert_eq!(refused(&c).reason, Reason::LayoutMismatch);
    let c = binary_case(
        0,
        array(DType::Int32, &[1], &d[..5]),
        array(DType::Int32, &[2], &d),
    );
    assert_eq!(refused(&c).reason, Reason::LayoutMismatch);
    // Strides reaching outside the data; strides of the wrong rank; an offset
    // without strides.
    let mut x = array(DType::Int32, &[2], &d);
    x.strides = Some(Bounded::from_slice(&[2]).unwrap());
    assert_eq!(
        refused(&binary_case(0, x.clone(), x)).reason,
        Reason::LayoutMismatch
    );
    let mut x = array(DType::Int32, &[2], &d);
    x.strides = Some(Bounded::from_slice(&[1, 1]).unwrap());
    assert_eq!(
        refused(&binary_case(0, x.clone(), x)).reason,
        Reason::LayoutMismatch
    );
    let mut x = array(DType::Int32, &[1], &d);
    x.offset = 1;
    assert_eq!(
        refused(&binary_case(0, x.clone(), x)).reason,
        Reason::LayoutMismatch
    );

    // More dims than this build's MAX_NDIM.
    let dims = [1u64; crate::MAX_NDIM + 1];
    match serve_payload(64, &tamper_ndim(&dims)) {
        Message::Error(e) => assert_eq!(
            (e.reason, e.detail),
            (Reason::TooManyDims as u8, dims.len() as u64)
        ),
        other => panic!("{other:?}"),
    }

    // A weak operand that is not 0-d.
    let mut c = ok();
    let mut x = array(DType::Int64, &[1], &[0; 8]);
    x.weak = true;
    c.inputs = Bounded::from_slice(&[array(DType::Int32, &[2], &d), x]).unwrap();
    assert_eq!(refused(&c), WireError::new(Reason::BadParam));

    // Reduction keywords given to a binary ufunc: NumPy's TypeError, as a
    // Result; a where mask, which fnp's ufuncs do not take: refused.
    let mut c = ok();
    c.params.keepdims = true;
    match serve_with(64, &c) {
        Message::Result(r) => assert_eq!(error_from_code(r.error), Some(Error::InvalidType)),
        other => panic!("{other:?}"),
    }
    // A ufunc call's `out=` must be C-contiguous and hold its whole shape;
    // an unknown casting rule is a bad parameter.
    let short = le_i32(&[0]);
    let mut c = ok();
    c.out = Bounded::from_slice(&[Some(array(DType::Int32, &[2], &short))]).unwrap();
    assert_eq!(refused(&c), WireError::new(Reason::LayoutMismatch));
    let mut c = ok();
    c.params.casting = 9;
    assert_eq!(refused(&c), WireError::with_detail(Reason::BadParam, 9));
}

#[test]
fn out_where_and_casting_are_served() {
    // np.add(int32 [1, 2], int32 [10], out=float32 [7, 7], where=[T, F]):
    // float32 [11, 7].
    let (a, b) = (le_i32(&[1, 2]), le_i32(&[10]));
    let seven: Vec<u8> = [7.0f32, 7.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let zeros = [0u8; 2];
    let mut c = binary_case(
        crate::BinaryOp::Add as u8,
        array(DType::Int32, &[2], &a),
        array(DType::Int32, &[1], &b),
    );
    c.where_mask = Some(array(DType::Bool, &[2], &[1, 0]));
    c.out = Bounded::from_slice(&[Some(array(DType::Float32, &[2], &seven))]).unwrap();
    let (dtype, shape, data) = result_of(serve_with(64, &c));
    assert_eq!((dtype, shape), (DType::Float32 as u8, vec![2]));
    let expect: Vec<u8> = [11.0f32, 7.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    assert_eq!(data, expect);
    // Into uint8 only with casting="unsafe": NumPy's UFuncTypeError first.
    c.out = Bounded::from_slice(&[Some(array(DType::UInt8, &[2], &zeros))]).unwrap();
    match serve_with(64, &c) {
        Message::Result(r) => assert_eq!(error_from_code(r.error), Some(Error::Casting)),
        other => panic!("{other:?}"),
    }
    c.params.casting = crate::Casting::Unsafe as u8;
    let (dtype, _, data) = result_of(serve_with(64, &c));
    assert_eq!((dtype, data), (DType::UInt8 as u8, vec![11, 0]));
}

/// A case whose first input has `dims.len()` dimensions, more than a
/// `Bounded` can hold, built by hand-encoding the body.
fn tamper_ndim(dims: &[u64]) -> Vec<u8> {
    let mut body = vec![7u8, 0, 0, 0]; // id, op, method, mode
    body.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0]); // default params
    body.push(2); // two inputs
    for _ in 0..2 {
        body.extend_from_slice(&[DType::Int32 as u8, 0, dims.len() as u8]);
        body.extend(dims.iter().map(|&d| d as u8));
        body.extend_from_slice(&[0, 0, 4, 1, 0, 0, 0]); // strides None, offset 0, data
    }
    body.push(0); // no where mask
    body.push(0); // no out arrays
    let payload = with_crc(Tag::Case as u8, &body);
    match decode(&payload).unwrap() {
        Message::Case(c) => assert!(c.inputs.as_slice()[0].shape.overflowed()),
        other => panic!("{other:?}"),
    }
    payload
}

#[test]
fn oversized_cases_are_too_large_never_wrapped() {
    let d = le_i32(&[1, 2]);
    // Inputs that do not fit the arena (2 words = 16 bytes).
    let big = le_i32(&[0; 5]);
    let c = binary_case(
        0,
        array(DType::Int32, &[5], &big),
        array(DType::Int32, &[1], &d[..4]),
    );
    match serve_with(2, &c) {
        Message::Error(e) => assert_eq!(e.reason, Reason::TooLarge as u8),
        other => panic!("{other:?}"),
    }
    // A 2**40-element broadcast view of one element: consistent, but its
    // output cannot fit.
    let mut x = array(DType::Int32, &[1 << 40], &d[..4]);
    x.strides = Some(Bounded::from_slice(&[0]).unwrap());
    let c = binary_case(0, x, array(DType::Int32, &[1], &d[..4]));
    assert_eq!(refused(&c).reason, Reason::TooLarge);
    // Element counts that overflow u64 itself.
    let mut x = array(DType::Int32, &[1 << 40, 1 << 40], &d[..4]);
    x.strides = Some(Bounded::from_slice(&[0, 0]).unwrap());
    let c = binary_case(0, x.clone(), x);
    assert_eq!(
        refused(&c),
        WireError::with_detail(Reason::TooLarge, u64::MAX)
    );
    // On a 32-bit target a dimension ≥ 2**32 cannot become a usize: refused.
    if usize::BITS == 32 {
        let x = array(DType::Int32, &[1 << 33], &d);
        assert_eq!(
            refused(&binary_case(0, x.clone(), x)).reason,
            Reason::TooLarge
        );
    }
    assert_eq!(
        super::server::to_usize_for_width(1 << 40, 32),
        Err(WireError::with_detail(Reason::TooLarge, 1 << 40))
    );
}

#[test]
fn unexpected_messages_and_stats() {
    let mut arena = [0u64; 8];
    let mut out = [0u64; 8];
    let mut server = Server::new(config(), &mut arena, &mut out, ());
    let mut reply = Vec::new();
    let hello_payload = frames(1024, &frame(&Message::Hello(hello()))).remove(0);
    server.handle(hello_payload.as_deref().map_err(|e| *e), |b| {
        reply.extend_from_slice(b)
    });
    let got = frames(1024, &reply).remove(0).unwrap();
    assert_eq!(
        decode(&got).unwrap(),
        Message::Error(ErrorReply {
            id: None,
            reason: Reason::UnexpectedMessage as u8,
            detail: Tag::Hello as u64
        })
    );
    reply.clear();
    server.handle(Err(WireError::new(Reason::BadCrc)), |b| {
        reply.extend_from_slice(b)
    });
    reply.clear();
    let get = frames(1024, &frame(&Message::GetStats)).remove(0);
    server.handle(get.as_deref().map_err(|e| *e), |b| {
        reply.extend_from_slice(b)
    });
    let got = frames(1024, &reply).remove(0).unwrap();
    match decode(&got).unwrap() {
        Message::Stats(s) => {
            assert_eq!((s.cases, s.errors), (0, 2));
        }
        other => panic!("{other:?}"),
    }
    let mut hello_bytes = Vec::new();
    server.hello(|b| hello_bytes.extend_from_slice(b));
    let got = frames(1024, &hello_bytes).remove(0).unwrap();
    match decode(&got).unwrap() {
        Message::Hello(h) => {
            assert_eq!(h.limits.arena_bytes, 64);
            assert_eq!(h.limits.max_ndim, crate::MAX_NDIM as u64);
            assert_eq!(h.dtypes.len(), 11);
            assert_eq!(
                h.ops.len(),
                crate::Op::all().filter(|op| op.method().is_none()).count()
            );
            assert!(h.ops.contains(&64), "sum is served");
        }
        other => panic!("{other:?}"),
    };
}

#[test]
fn codes_roundtrip() {
    for &r in Reason::ALL {
        assert_eq!(Reason::try_from(r as u8), Ok(r));
    }
    assert_eq!(Reason::try_from(0), Err(0));
    for code in 1..=19u8 {
        let e = error_from_code(code).unwrap();
        assert_eq!(error_code(e), code);
    }
    assert_eq!(error_from_code(0), None);
    assert_eq!(error_from_code(200), None);
    for t in 1..=6u8 {
        assert_eq!(Tag::try_from(t).map(|t| t as u8), Ok(t));
    }
    assert_eq!(Mode::try_from(0), Ok(Mode::Strict));
}

// Reductions over the wire.

fn reduce_case<'a>(op: crate::ReduceOp, a: WireArray<'a>, params: Params) -> Case<'a> {
    Case {
        id: 11,
        op: crate::Op::Reduce(op).code(),
        method: 0,
        mode: 0,
        params,
        inputs: Bounded::from_slice(&[a]).unwrap(),
        where_mask: None,
        out: Bounded::default(),
    }
}

fn result_of(msg: Message<'_>) -> (u8, Vec<u64>, Vec<u8>) {
    match msg {
        Message::Result(r) => {
            assert_eq!(r.error, 0, "{:?}", error_from_code(r.error));
            (r.dtype, r.shape.as_slice().to_vec(), r.data.to_vec())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reductions_with_every_keyword_are_served() {
    use crate::ReduceOp;
    let d = le_i32(&[1, 2, 3, 4, 5, 6]);
    let a = array(DType::Int32, &[2, 3], &d);
    // sum of int32 accumulates in int64.
    let (dtype, shape, data) = result_of(serve_with(
        64,
        &reduce_case(ReduceOp::Sum, a.clone(), Params::default()),
    ));
    assert_eq!((dtype, shape), (DType::Int64 as u8, vec![]));
    assert_eq!(data, 21i64.to_le_bytes());
    // axis=-1, keepdims, initial=10, where=[[T, F, T]] (broadcast).
    let mut case = reduce_case(
        ReduceOp::Sum,
        a.clone(),
        Params {
            axis: WireAxes {
                kind: AxisKind::Int as u8,
                axes: Bounded::from_slice(&[-1]).unwrap(),
            },
            keepdims: true,
            initial: Some(WireScalar { kind: 1, bits: 10 }),
            dtype: Some(DType::Int32 as u8),
            ddof: 0.0,
            casting: crate::Casting::SameKind as u8,
            signature: None,
        },
    );
    case.where_mask = Some(array(DType::Bool, &[1, 3], &[1, 0, 1]));
    let (dtype, shape, data) = result_of(serve_with(64, &case));
    assert_eq!((dtype, shape), (DType::Int32 as u8, vec![2, 1]));
    assert_eq!(data, le_i32(&[14, 20]));
    // A 0-d array: axis=0 is the whole array, axis=(0,) an AxisError
    // (NumPy 2.4: np.sum(np.int32(5), axis=0) == 5; axis=(0,) raises).
    let five = le_i32(&[5]);
    let mut zero_d = reduce_case(
        ReduceOp::Sum,
        array(DType::Int32, &[], &five),
        Params {
            axis: WireAxes {
                kind: AxisKind::Int as u8,
                axes: Bounded::from_slice(&[0]).unwrap(),
            },
            ..Params::default()
        },
    );
    let (dtype, shape, data) = result_of(serve_with(64, &zero_d));
    assert_eq!((dtype, shape), (DType::Int64 as u8, vec![]));
    assert_eq!(data, 5i64.to_le_bytes());
    zero_d.params.axis.kind = AxisKind::Tuple as u8;
    match serve_with(64, &zero_d) {
        Message::Result(r) => assert_eq!(error_from_code(r.error), Some(Error::AxisOutOfBounds)),
        other => panic!("{other:?}"),
    }
    // var with ddof=1 needs scratch, taken from the arena's free space.
    let f: Vec<u8> = [1.0f64, 2.0, 4.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let var = reduce_case(
        ReduceOp::Var,
        array(DType::Float64, &[3], &f),
        Params {
            ddof: 1.0,
            ..Params::default()
        },
    );
    let (_, _, data) = result_of(serve_with(64, &var));
    // NumPy 2.4: np.var([1., 2., 4.], ddof=1) == 2.333333333333333 (one ulp
    // under 7/3: the mean 7/3 is rounded before the deviations).
    assert_eq!(data, 2.333333333333333f64.to_le_bytes());
    // An empty max: NumPy's ValueError, as a Result.
    let empty = reduce_case(
        ReduceOp::Max,
        array(DType::Int32, &[0], &[]),
        Params::default(),
    );
    match serve_with(64, &empty) {
        Message::Result(r) => assert_eq!(error_from_code(r.error), Some(Error::EmptyReduction)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ufunc_methods_are_served() {
    // np.subtract.accumulate(int32 [[1, 2, 3], [4, 5, 6]], axis=1)
    // == [[1, -1, -4], [4, -1, -7]]; subtract.reduce along axis 0 ==
    // [-3, -3, -3]; along both axes it is not reorderable (ValueError).
    let d = le_i32(&[1, 2, 3, 4, 5, 6]);
    let axis = |axes: &[i64], kind: AxisKind| Params {
        axis: WireAxes {
            kind: kind as u8,
            axes: Bounded::from_slice(axes).unwrap(),
        },
        ..Params::default()
    };
    let mut case = reduce_case(
        crate::ReduceOp::Sum,
        array(DType::Int32, &[2, 3], &d),
        axis(&[1], AxisKind::Int),
    );
    case.op = BinaryOp::Subtract as u8;
    case.method = Method::Accumulate as u8;
    let (dtype, shape, data) = result_of(serve_with(64, &case));
    assert_eq!((dtype, shape), (DType::Int32 as u8, vec![2, 3]));
    assert_eq!(data, le_i32(&[1, -1, -4, 4, -1, -7]));
    case.method = Method::Reduce as u8;
    case.params = axis(&[0], AxisKind::Int);
    let (dtype, shape, data) = result_of(serve_with(64, &case));
    assert_eq!((dtype, shape), (DType::Int32 as u8, vec![3]));
    assert_eq!(data, le_i32(&[-3, -3, -3]));
    case.params = axis(&[0, 1], AxisKind::Tuple);
    match serve_with(64, &case) {
        Message::Result(r) => assert_eq!(error_from_code(r.error), Some(Error::InvalidArgument)),
        other => panic!("{other:?}"),
    }
    // np.add.reduceat(int32 [[1, 2, 3], [4, 5, 6]], [0, 2], axis=1) ==
    // int64 [[3, 3], [9, 6]]; index 3 is NumPy's IndexError.
    for (indices, expected) in [(vec![0i64, 2], Ok(vec![3i64, 3, 9, 6])), (vec![3], Err(()))] {
        let ind: Vec<u8> = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
        let mut at = reduce_case(
            crate::ReduceOp::Sum,
            array(DType::Int32, &[2, 3], &d),
            axis(&[1], AxisKind::Int),
        );
        at.op = BinaryOp::Add as u8;
        at.method = Method::Reduceat as u8;
        at.inputs = Bounded::from_slice(&[
            array(DType::Int32, &[2, 3], &d),
            array(DType::Int64, &[indices.len() as u64], &ind),
        ])
        .unwrap();
        match (serve_with(64, &at), expected) {
            (Message::Result(r), Ok(v)) => {
                assert_eq!(
                    (r.dtype, r.shape.as_slice()),
                    (DType::Int64 as u8, &[2u64, 2][..])
                );
                let want: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                assert_eq!(r.data, &want[..]);
            }
            (Message::Result(r), Err(())) => {
                assert_eq!(error_from_code(r.error), Some(Error::IndexOutOfBounds));
            }
            (other, _) => panic!("{other:?}"),
        }
    }
    // np.subtract.outer(int32 [1, 2], int32 [10, 20, 30]).
    let (a, b) = (le_i32(&[1, 2]), le_i32(&[10, 20, 30]));
    let mut outer = reduce_case(
        crate::ReduceOp::Sum,
        array(DType::Int32, &[2], &a),
        Params::default(),
    );
    outer.op = BinaryOp::Subtract as u8;
    outer.method = Method::Outer as u8;
    outer.inputs =
        Bounded::from_slice(&[array(DType::Int32, &[2], &a), array(DType::Int32, &[3], &b)])
            .unwrap();
    let (dtype, shape, data) = result_of(serve_with(64, &outer));
    assert_eq!((dtype, shape), (DType::Int32 as u8, vec![2, 3]));
    assert_eq!(data, le_i32(&[-9, -19, -29, -8, -18, -28]));
}

#[test]
fn reduction_errors_each_have_their_reason() {
    use crate::ReduceOp;
    let d = le_i32(&[1, 2, 3]);
    let a = || array(DType::Int32, &[3], &d);
    let mut c = reduce_case(ReduceOp::Sum, a(), Params::default());
    c.op = 64 + ReduceOp::ALL.len() as u8;
    assert_eq!(
        refused(&c),
        WireError::with_detail(Reason::UnknownOp, c.op.into())
    );
    let mut c = reduce_case(ReduceOp::Sum, a(), Params::default());
    c.inputs = Bounded::from_slice(&[a(), a()]).unwrap();
    assert_eq!(refused(&c), WireError::with_detail(Reason::Arity, 2));
    let mut c = reduce_case(ReduceOp::Sum, a(), Params::default());
    c.params.initial = Some(WireScalar { kind: 9, bits: 0 });
    assert_eq!(refused(&c), WireError::with_detail(Reason::BadParam, 9));
    c.params.initial = Some(WireScalar { kind: 0, bits: 2 });
    assert_eq!(refused(&c), WireError::with_detail(Reason::BadParam, 0));
    // Axis kinds fail closed; an int axis is exactly one axis.
    let mut c = reduce_case(ReduceOp::Sum, a(), Params::default());
    c.params.axis.kind = 3;
    assert_eq!(refused(&c), WireError::with_detail(Reason::BadParam, 3));
    c.params.axis = WireAxes {
        kind: AxisKind::Int as u8,
        axes: Bounded::from_slice(&[0, 1]).unwrap(),
    };
    assert_eq!(refused(&c), WireError::with_detail(Reason::BadParam, 2));
    c.params.axis.axes = Bounded::default();
    assert_eq!(refused(&c), WireError::with_detail(Reason::BadParam, 0));
    let mut c = reduce_case(ReduceOp::Sum, a(), Params::default());
    c.params.dtype = Some(42);
    assert_eq!(
        refused(&c),
        WireError::with_detail(Reason::UnknownDType, 42)
    );
    // Scratch that does not fit what is left of the arena: the inputs fill
    // all 6 words, var needs 1 more; with a 7th it runs.
    let f: Vec<u8> = (0..6).flat_map(|x| (x as f64).to_le_bytes()).collect();
    let var = reduce_case(
        ReduceOp::Var,
        array(DType::Float64, &[6], &f),
        Params::default(),
    );
    match serve_with(6, &var) {
        Message::Error(e) => {
            assert_eq!(e.reason, Reason::TooLarge as u8);
            assert_eq!(e.detail, 8);
        }
        other => panic!("{other:?}"),
    }
    let (_, _, data) = result_of(serve_with(7, &var));
    // np.var(np.arange(6.)) == 35/12
    assert_eq!(data, (35.0f64 / 12.0).to_le_bytes());
}

#[test]
fn two_output_ufuncs_send_both_outputs() {
    use crate::{MultiOp, Op};
    // np.divmod(int32 [7, -7], 2) = ([3, -4], [1, 1]).
    let a = le_i32(&[7, -7]);
    let b = le_i32(&[2]);
    let case = binary_case(
        Op::Multi(MultiOp::Divmod).code(),
        array(DType::Int32, &[2], &a),
        array(DType::Int32, &[1], &b),
    );
    let (dtype, shape, data) = result_of(serve_with(64, &case));
    assert_eq!((dtype, shape), (DType::Int32 as u8, vec![2]));
    assert_eq!(data, le_i32(&[3, -4, 1, 1]));
    // np.frexp(float64 [8.0, -0.75]) = ([0.5, -0.75], int32 [4, 0]): the
    // exponent follows the mantissa in its own dtype.
    let x: Vec<u8> = [8.0f64, -0.75]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut frexp = reduce_case(
        crate::ReduceOp::Sum,
        array(DType::Float64, &[2], &x),
        Params::default(),
    );
    frexp.op = Op::Multi(MultiOp::Frexp).code();
    let (dtype, shape, data) = result_of(serve_with(64, &frexp));
    assert_eq!((dtype, shape), (DType::Float64 as u8, vec![2]));
    let mut expected: Vec<u8> = [0.5f64, -0.75]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    expected.extend(le_i32(&[4, 0]));
    assert_eq!(data, expected);
    // They have no methods, and divmod takes two operands.
    frexp.method = crate::Method::Reduce as u8;
    assert_eq!(refused(&frexp).reason, Reason::UnknownOp);
    let mut one = case.clone();
    one.inputs = Bounded::from_slice(&[array(DType::Int32, &[2], &a)]).unwrap();
    assert_eq!(refused(&one).reason, Reason::Arity);
}
