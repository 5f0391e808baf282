//! Property fuzzing of every public entry an untrusted input reaches: the
//! type-erased op entry (`output_of`, `scratch_len`, `call`) with hostile
//! dtypes, shapes, strides, offsets, buffers and keywords, and (feature
//! `wire`) the frame accumulator, decoder and server with arbitrary bytes,
//! chunkings and mutated valid frames.
//!
//! The budget is short so CI stays fast; `FNP_FUZZ_CASES=N` raises it (the
//! cargo-fuzz targets in `fuzz/` run the same surfaces for minutes).

use fnp_core::{
    call, output_of, scratch_len, ArrayRef, Axes, Buffer, DType, Error, Layout, Op, ReduceParams,
    Scalar, Shape, MAX_NDIM,
};
use proptest::prelude::*;

/// Cases per property: 512 by default, `FNP_FUZZ_CASES` to change it.
fn cases() -> u32 {
    std::env::var("FNP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Dimensions: mostly small, sometimes huge (products that overflow).
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0usize..5,
        1 => Just(usize::MAX),
        1 => (1usize..=64).prop_map(|s| 1usize << (s - 1)),
    ]
}

/// Strides: small of either sign and zero, sometimes extreme.
fn stride() -> impl Strategy<Value = isize> {
    prop_oneof![
        6 => -4isize..5,
        1 => Just(isize::MIN),
        1 => Just(isize::MAX),
        1 => any::<isize>(),
    ]
}

/// One operand as raw parts, so inconsistent combinations are built too.
#[derive(Clone, Debug)]
struct RawArray {
    dtype: u8,
    dims: Vec<usize>,
    strides: Option<Vec<isize>>,
    offset: usize,
    /// Element bytes (before misalignment).
    bytes: Vec<u8>,
    /// Bytes to skip at the front of an aligned buffer.
    misalign: usize,
    weak: bool,
}

fn raw_array() -> impl Strategy<Value = RawArray> {
    prop_oneof![1 => hostile_array(), 2 => plausible_array()]
}

/// Anything: dims, strides and offsets that overflow, disagree in length
/// or reach outside the bytes.
fn hostile_array() -> impl Strategy<Value = RawArray> {
    (
        0u8..13,
        prop::collection::vec(dim(), 0..=MAX_NDIM + 1),
        prop::option::weighted(0.4, prop::collection::vec(stride(), 0..=MAX_NDIM + 1)),
        prop_oneof![4 => 0usize..8, 1 => any::<usize>()],
        prop::collection::vec(any::<u8>(), 0..96),
        prop_oneof![6 => Just(0usize), 1 => 1usize..8],
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(dtype, dims, strides, offset, bytes, misalign, weak)| RawArray {
                dtype,
                dims,
                strides,
                offset,
                bytes,
                misalign,
                weak,
            },
        )
}

/// Small arrays that mostly build and broadcast, with zero, negative and
/// padded strides, so the kernels themselves run.
fn plausible_array() -> impl Strategy<Value = RawArray> {
    (
        0u8..11,
        prop::collection::vec(prop_oneof![1 => Just(0usize), 8 => 1usize..4], 0..4),
    )
        .prop_flat_map(|(dtype, dims)| {
            let n = dims.len();
            (
                Just(dtype),
                Just(dims),
                prop::option::of(prop::collection::vec(-3isize..4, n)),
                0usize..24,
                prop::collection::vec(any::<u8>(), 8 * 64),
                prop::bool::weighted(0.1),
            )
        })
        .prop_map(|(dtype, dims, strides, offset, bytes, weak)| RawArray {
            dtype,
            offset: if strides.is_some() { offset } else { 0 },
            dims,
            strides,
            bytes,
            misalign: 0,
            weak,
        })
}

/// An 8-aligned copy of `raw.bytes`, shifted by `raw.misalign`.
fn storage(raw: &RawArray) -> Vec<u64> {
    vec![0u64; (raw.bytes.len() + raw.misalign).div_ceil(8) + 1]
}

/// The view `raw` describes, or the error building it gave; when the
/// description is refused, a contiguous 1-d view of the same bytes (so the
/// op still runs on something).
fn view<'a>(raw: &RawArray, words: &'a mut [u64]) -> Option<ArrayRef<'a>> {
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(words);
    let bytes = &mut bytes[raw.misalign..raw.misalign + raw.bytes.len()];
    bytes.copy_from_slice(&raw.bytes);
    let bytes: &'a [u8] = bytes;
    let dtype = DType::try_from(raw.dtype).ok()?;
    let described = Shape::new(&raw.dims).and_then(|shape| match &raw.strides {
        None => Ok(Layout::c_contiguous(shape)),
        Some(s) => Layout::strided(shape, s, raw.offset),
    });
    if let Ok(layout) = described {
        if let Ok(a) = ArrayRef::new(dtype, bytes, layout) {
            return Some(a);
        }
    }
    if raw.weak {
        if let Ok(a) = ArrayRef::python_scalar(dtype, bytes) {
            return Some(a);
        }
    }
    let n = bytes.len() / dtype.itemsize();
    ArrayRef::new(
        dtype,
        &bytes[..n * dtype.itemsize()],
        Layout::c_contiguous(Shape::vector(n)),
    )
    .ok()
}

#[derive(Clone, Debug)]
struct RawParams {
    axes: Option<Vec<isize>>,
    keepdims: bool,
    initial: Option<(u8, u64)>,
    dtype: Option<u8>,
    ddof: f64,
}

fn raw_params() -> impl Strategy<Value = RawParams> {
    (
        prop::option::of(prop::collection::vec(
            prop_oneof![4 => -5isize..6, 1 => any::<isize>()],
            0..=MAX_NDIM + 1,
        )),
        any::<bool>(),
        prop::option::weighted(0.3, (0u8..4, any::<u64>())),
        prop::option::weighted(0.3, 0u8..12),
        prop_oneof![
            4 => Just(0.0),
            1 => Just(1.0),
            1 => Just(f64::NAN),
            1 => Just(-1e300),
            1 => any::<f64>(),
        ],
    )
        .prop_map(|(axes, keepdims, initial, dtype, ddof)| RawParams {
            axes,
            keepdims,
            initial,
            dtype,
            ddof,
        })
}

fn params<'a>(raw: &RawParams, mask: Option<ArrayRef<'a>>) -> ReduceParams<'a> {
    let axis = match &raw.axes {
        None => Axes::All,
        Some(list) => Axes::list(list).unwrap_or(Axes::All),
    };
    let initial = raw.initial.map(|(kind, bits)| match kind {
        0 => Scalar::Bool(bits & 1 == 1),
        1 => Scalar::Int(bits as i64),
        2 => Scalar::UInt(bits),
        _ => Scalar::Float(f64::from_bits(bits)),
    });
    ReduceParams {
        axis,
        keepdims: raw.keepdims,
        initial,
        where_mask: mask,
        dtype: raw.dtype.and_then(|d| DType::try_from(d).ok()),
        ddof: raw.ddof,
        ..ReduceParams::default()
    }
}

/// Which op: mostly a real one (every op equally), sometimes a raw code.
fn op_code() -> impl Strategy<Value = u8> {
    let codes: Vec<u8> = Op::all().map(Op::code).collect();
    prop_oneof![8 => prop::sample::select(codes), 1 => any::<u8>()]
}

proptest! {
    #![proptest_config(config())]

    /// Every op on hostile operands: an `Err` or a result that agrees with
    /// what `output_of` promised, written inside the promised bytes; never a
    /// panic.
    #[test]
    fn op_entries_refuse_or_answer_consistently(
        code in op_code(),
        raws in prop::collection::vec(raw_array(), 2..4),
        wrong_arity in prop::bool::weighted(0.05),
        mask in prop::option::weighted(0.2, raw_array()),
        p in prop::option::of(raw_params()),
        out_len in prop_oneof![2 => Just(None), 1 => (0usize..512).prop_map(Some)],
        out_misalign in prop_oneof![6 => Just(0usize), 1 => 1usize..8],
        scratch_words in prop_oneof![2 => Just(None), 1 => (0usize..64).prop_map(Some)],
    ) {
        let Ok(op) = Op::try_from(code) else {
            return Ok(());
        };
        let mut raws = raws;
        if !wrong_arity {
            raws.truncate(op.arity());
        }
        let mut stores: Vec<Vec<u64>> = raws.iter().map(storage).collect();
        let mut inputs = Vec::new();
        for (raw, words) in raws.iter().zip(stores.iter_mut()) {
            if let Some(a) = view(raw, words) {
                inputs.push(a);
            }
        }
        let mut mask_store = mask.as_ref().map(storage).unwrap_or_default();
        let mask = mask.as_ref().and_then(|m| view(m, &mut mask_store));
        let params = match &p {
            Some(p) => params(p, mask),
            None => ReduceParams { where_mask: mask, ..ReduceParams::default() },
        };

        let promised = output_of(op, &inputs, &params);
        let scratch_needed = scratch_len(op, &inputs, &params);
        // Buffers: what was promised (capped so a huge promise cannot
        // exhaust memory) unless a length was drawn.
        let promised_bytes = promised
            .as_ref()
            .ok()
            .and_then(|(d, s)| s.size().checked_mul(d.itemsize()));
        let out_len = out_len.unwrap_or(promised_bytes.unwrap_or(64).min(1 << 16));
        let scratch_words = scratch_words.unwrap_or(*scratch_needed.as_ref().unwrap_or(&8)).min(1 << 13);
        let mut out_words = vec![0u64; (out_len + out_misalign).div_ceil(8) + 1];
        let canary = 0xA5u8;
        let out_all: &mut [u8] = bytemuck::cast_slice_mut(&mut out_words);
        out_all.fill(canary);
        let mut scratch = vec![0u64; scratch_words];
        let scratch = &mut scratch[..];
        let out = &mut out_all[out_misalign..out_misalign + out_len];

        // Zero strides make huge views of a few bytes legal; strict mode
        // computes them as NumPy would (for days): keep the work small.
        let work = inputs.iter().chain(params.where_mask.as_ref())
            .all(|a| a.shape().checked_size().is_ok_and(|n| n <= 1 << 16));
        if !work {
            return Ok(());
        }
        let got = call(op, &inputs, &params, out, scratch);
        match (&promised, &got) {
            (Ok((dtype, shape)), Ok(o)) => {
                prop_assert_eq!(o.dtype, *dtype);
                prop_assert_eq!(o.shape, *shape);
                prop_assert!(o.byte_len() <= out_len);
            }
            (Err(e), Ok(_)) => prop_assert!(false, "output_of refused ({e:?}) but call answered"),
            (_, Err(Error::BufferTooSmall { buffer, needed })) => {
                let len = match buffer {
                    Buffer::Output => out_len,
                    _ => scratch_words * 8,
                };
                prop_assert!(*needed > len,
                    "{buffer} buffer too small: {needed} bytes with {out_len} out, {scratch_words} scratch words");
            }
            _ => {}
        }
        // Nothing outside the output slice was written.
        let after = out_misalign + out_len;
        let out_all: &[u8] = bytemuck::cast_slice(&out_words);
        prop_assert!(out_all[..out_misalign].iter().all(|&b| b == canary));
        prop_assert!(out_all[after..].iter().all(|&b| b == canary));
    }

    /// Layout construction itself: any dims/strides/offset/length is a
    /// view whose every element lies inside the data, or an error.
    #[test]
    fn layouts_never_reach_outside_their_data(raw in raw_array()) {
        let Ok(dtype) = DType::try_from(raw.dtype) else {
            return Ok(());
        };
        let Ok(shape) = Shape::new(&raw.dims) else {
            return Ok(());
        };
        let layout = match &raw.strides {
            None => Layout::c_contiguous(shape),
            Some(s) => match Layout::strided(shape, s, raw.offset) {
                Ok(l) => l,
                Err(_) => return Ok(()),
            },
        };
        let len = raw.bytes.len() / dtype.itemsize();
        if layout.check_len(len).is_ok() && layout.size() > 0 {
            let (lo, hi) = layout.index_range().unwrap().unwrap();
            prop_assert!(lo <= hi && hi < len, "range {lo}..={hi} of {len}");
        }
    }
}

#[cfg(feature = "wire")]
mod wire {
    use super::config;
    use fnp_core::wire::{
        decode, encode, Bounded, Case, Feed, FrameAccumulator, Message, Params, Reason, Server,
        ServerConfig, WireArray, WireAxes, WireScalar,
    };
    use fnp_core::{DType, Op};
    use proptest::prelude::*;

    const ACC: usize = 512;

    fn server_config() -> ServerConfig {
        ServerConfig {
            target: "fuzz",
            profile: "test",
            max_frame_bytes: ACC,
            stack_bytes: 0,
        }
    }

    /// Every reply the server writes is exactly one well-formed frame that
    /// decodes as a Result, Stats or Error message.
    fn check_reply(reply: &[u8]) -> Result<(), TestCaseError> {
        let mut acc = FrameAccumulator::new(vec![0u8; 1 << 16]);
        let mut input = reply;
        let mut n = 0;
        while let Feed::Frame { frame, rest } = acc.feed(input) {
            let payload = frame.map_err(|e| TestCaseError::fail(format!("reply frame: {e}")))?;
            let msg = decode(payload).map_err(|e| TestCaseError::fail(format!("reply: {e}")))?;
            prop_assert!(matches!(
                msg,
                Message::Result(_) | Message::Stats(_) | Message::Error(_)
            ));
            n += 1;
            input = rest;
        }
        prop_assert!(input.is_empty() || acc.feed(&[]) == Feed::Consumed);
        prop_assert_eq!(n, 1, "one reply per frame");
        Ok(())
    }

    /// Feeds `stream` in the given chunks to one accumulator and one
    /// server; every frame that ends is answered; afterwards a known-good
    /// case is still served. Returns the frames seen.
    fn serve_stream(stream: &[u8], cuts: &[usize]) -> Result<usize, TestCaseError> {
        let mut arena = [0u64; 96];
        let mut out = [0u64; 96];
        let mut server = Server::new(server_config(), &mut arena, &mut out, ());
        let mut acc = FrameAccumulator::new([0u8; ACC]);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.sort_unstable();
        let mut last = 0;
        let mut seen = 0;
        for cut in cuts.into_iter().chain([stream.len()]) {
            let mut input = &stream[last..cut];
            last = cut;
            while let Feed::Frame { frame, rest } = acc.feed(input) {
                let mut reply = Vec::new();
                server.handle(frame, |b| reply.extend_from_slice(b));
                check_reply(&reply)?;
                seen += 1;
                input = rest;
            }
        }
        // Resynchronise on a delimiter, then the server must still work.
        let mut input: &[u8] = &[0];
        while let Feed::Frame { frame, rest } = acc.feed(input) {
            let mut reply = Vec::new();
            server.handle(frame, |b| reply.extend_from_slice(b));
            check_reply(&reply)?;
            input = rest;
        }
        let good = good_frame();
        let mut input = good.as_slice();
        let mut answered = false;
        while let Feed::Frame { frame, rest } = acc.feed(input) {
            prop_assert!(frame.is_ok(), "a good frame after garbage was refused");
            let mut reply = Vec::new();
            server.handle(frame, |b| reply.extend_from_slice(b));
            let mut racc = FrameAccumulator::new(vec![0u8; 1 << 12]);
            if let Feed::Frame { frame: Ok(p), .. } = racc.feed(&reply) {
                answered = matches!(decode(p), Ok(Message::Result(r)) if r.id == 7 && r.error == 0);
            }
            input = rest;
        }
        prop_assert!(answered, "server stopped serving after the stream");
        Ok(seen)
    }

    fn add_case(data: &[u8]) -> Case<'_> {
        Case {
            id: 7,
            op: Op::Binary(fnp_core::BinaryOp::Add).code(),
            method: 0,
            mode: 0,
            params: Params::default(),
            inputs: Bounded::from_slice(&[
                WireArray {
                    dtype: DType::Int32 as u8,
                    weak: false,
                    shape: Bounded::from_slice(&[2]).unwrap(),
                    strides: None,
                    offset: 0,
                    data,
                },
                WireArray {
                    dtype: DType::Int32 as u8,
                    weak: false,
                    shape: Bounded::from_slice(&[1]).unwrap(),
                    strides: None,
                    offset: 0,
                    data: &data[..4],
                },
            ])
            .unwrap(),
            where_mask: None,
            out: Bounded::default(),
        }
    }

    fn good_frame() -> Vec<u8> {
        let data = [1u8, 0, 0, 0, 2, 0, 0, 0];
        let mut out = Vec::new();
        encode(&Message::Case(add_case(&data)), |b| {
            out.extend_from_slice(b)
        })
        .unwrap();
        out
    }

    /// Valid frames with every field drawn: codes, shapes, strides,
    /// offsets, keywords, so mutations start from deep inside the decoder.
    fn valid_frame() -> impl Strategy<Value = Vec<u8>> {
        (
            (any::<u8>(), 0u8..4),
            0u8..3,
            prop::collection::vec(
                (
                    0u8..12,
                    any::<bool>(),
                    prop::collection::vec(prop_oneof![4 => 0u64..5, 1 => any::<u64>()], 0..5),
                    prop::option::of(prop::collection::vec(
                        prop_oneof![4 => -3i64..4, 1 => any::<i64>()],
                        0..5,
                    )),
                    prop_oneof![4 => 0u64..4, 1 => any::<u64>()],
                    prop::collection::vec(any::<u8>(), 0..48),
                ),
                0..4,
            ),
            any::<bool>(),
            prop::collection::vec(-4i64..4, 0..4),
            prop::option::of((0u8..5, any::<u64>())),
        )
            .prop_map(|((op, method), mode, arrays, all, axes, initial)| {
                let arrays: Vec<WireArray<'_>> = arrays
                    .iter()
                    .map(|(dtype, weak, shape, strides, offset, data)| WireArray {
                        dtype: *dtype,
                        weak: *weak,
                        shape: Bounded::from_slice(shape).unwrap(),
                        strides: strides.as_ref().map(|s| Bounded::from_slice(s).unwrap()),
                        offset: *offset,
                        data,
                    })
                    .collect();
                let case = Case {
                    id: 1,
                    op,
                    method,
                    mode,
                    params: Params {
                        axis: WireAxes {
                            kind: u8::from(all),
                            axes: Bounded::from_slice(&axes).unwrap(),
                        },
                        initial: initial.map(|(kind, bits)| WireScalar { kind, bits }),
                        ..Params::default()
                    },
                    inputs: Bounded::from_slice(&arrays[..arrays.len().min(2)]).unwrap(),
                    where_mask: arrays.get(2).cloned(),
                    out: Bounded::default(),
                };
                let mut out = Vec::new();
                encode(&Message::Case(case), |b| out.extend_from_slice(b)).unwrap();
                out
            })
    }

    #[derive(Clone, Debug)]
    enum Mutation {
        Flip(usize, u8),
        Insert(usize, u8),
        Delete(usize),
        Truncate(usize),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
            any::<usize>().prop_map(Mutation::Delete),
            any::<usize>().prop_map(Mutation::Truncate),
        ]
    }

    fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
        let n = bytes.len().max(1);
        match *m {
            Mutation::Flip(i, x) => {
                if let Some(b) = bytes.get_mut(i % n) {
                    *b ^= x;
                }
            }
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Delete(i) => {
                if !bytes.is_empty() {
                    bytes.remove(i % n);
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % n),
        }
    }

    /// Re-frames a payload (tag + body) with a fresh CRC, so a mutation of
    /// the body reaches the decoder instead of stopping at the CRC.
    fn reframe(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = fnp_core::wire::FrameEncoder::new(|b: &[u8]| out.extend_from_slice(b));
        enc.write(payload);
        enc.finish();
        out
    }

    /// Decodes a frame's payload (tag + body), CRC removed.
    fn payload_of(frame: &[u8]) -> Vec<u8> {
        let mut acc = FrameAccumulator::new(vec![0u8; 1 << 12]);
        match acc.feed(frame) {
            Feed::Frame { frame: Ok(p), .. } => p.to_vec(),
            other => panic!("not a frame: {other:?}"),
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn random_bytes_any_chunking_are_answered(
            bytes in prop::collection::vec(
                prop_oneof![3 => any::<u8>(), 1 => Just(0u8)], 0..1500),
            cuts in prop::collection::vec(any::<usize>(), 0..16),
        ) {
            serve_stream(&bytes, &cuts)?;
        }

        #[test]
        fn mutated_valid_frames_are_answered(
            frames in prop::collection::vec(valid_frame(), 1..4),
            mutations in prop::collection::vec(mutation(), 0..4),
            cuts in prop::collection::vec(any::<usize>(), 0..8),
        ) {
            let mut stream: Vec<u8> = frames.concat();
            for m in &mutations {
                mutate(&mut stream, m);
            }
            serve_stream(&stream, &cuts)?;
        }

        /// Mutated bodies under a correct CRC: the decoder and the case
        /// checks themselves (not the CRC) must refuse or serve them.
        #[test]
        fn mutated_bodies_with_good_crc_are_answered(
            frame in valid_frame(),
            mutations in prop::collection::vec(mutation(), 1..6),
        ) {
            let mut payload = payload_of(&frame);
            for m in &mutations {
                mutate(&mut payload, m);
            }
            let stream = reframe(&payload);
            let seen = serve_stream(&stream, &[])?;
            prop_assert!(seen <= 1);
        }

        /// Decoding alone: any payload is a message or a reason.
        #[test]
        fn decode_gives_a_message_or_a_reason(
            payload in prop::collection::vec(any::<u8>(), 0..300),
        ) {
            if let Err(e) = decode(&payload) {
                prop_assert!(Reason::ALL.contains(&e.reason));
            }
        }
    }
}
