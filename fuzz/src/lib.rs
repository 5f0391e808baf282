//! The fuzz harnesses, as plain functions of the input bytes.
//!
//! The cargo-fuzz targets in `fuzz_targets/` call them, and
//! `host/tests/fuzz_regressions.rs` includes this file on stable to replay
//! every input in `fuzz/regressions/<target>/`, so a crash found once stays
//! a test. Each harness panics only when fnp breaks a promise: a panic
//! inside fnp, or an answer that contradicts what it said it would do.
//!
//! Only fnp-core, fnp-host, bytemuck, serde_json and std are used here
//! (no libfuzzer, no `arbitrary`), so the file compiles in both places.

use std::fs;
use std::path::{Path, PathBuf};

use fnp_core::wire::{
    decode, encode, Bounded, Case, Feed, FrameAccumulator, FrameEncoder, Message, Params, Server,
    ServerConfig, WireArray,
};
use fnp_core::{
    call, out_bytes, output_of, scratch_len, ArrayRef, Axes, BinaryOp, Buffer, Casting, DType,
    Error, Layout, Op, OutArray, ReduceParams, Scalar, Shape,
};

/// Reads fuzz bytes as choices; past the end every choice is 0.
pub struct Choices<'a> {
    data: &'a [u8],
}

impl<'a> Choices<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Choices { data }
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        u64::from_le_bytes(b)
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }

    /// A dimension: mostly small, sometimes a power of two or anything.
    fn dim(&mut self) -> usize {
        match self.u8() {
            0..=199 => usize::from(self.u8() % 5),
            200..=239 => 1usize << (self.u8() % 64),
            _ => self.u64() as usize,
        }
    }

    /// A stride: mostly small of either sign, sometimes extreme.
    fn stride(&mut self) -> isize {
        match self.u8() {
            0..=199 => isize::from(self.u8() % 9) - 4,
            200..=219 => isize::MIN,
            220..=239 => isize::MAX,
            _ => self.u64() as isize,
        }
    }
}

const ACC: usize = 512;

fn server_config() -> ServerConfig {
    ServerConfig {
        target: "fuzz",
        profile: "fuzz",
        max_frame_bytes: ACC,
        stack_bytes: 0,
    }
}

/// Exactly one frame that decodes as a reply message.
fn check_reply(reply: &[u8]) {
    let mut acc = FrameAccumulator::new(vec![0u8; 1 << 16]);
    let mut input = reply;
    let mut n = 0;
    while let Feed::Frame { frame, rest } = acc.feed(input) {
        let payload = frame.expect("the server's reply is not a valid frame");
        let msg = decode(payload).expect("the server's reply does not decode");
        assert!(
            matches!(
                msg,
                Message::Result(_) | Message::Stats(_) | Message::Error(_)
            ),
            "the server replied {msg:?}"
        );
        n += 1;
        input = rest;
    }
    assert!(input.is_empty(), "bytes after the reply frame");
    assert_eq!(n, 1, "one reply per frame");
}

/// A case the server must always answer with a Result: `[1, 2] + [1]`.
fn good_frame() -> Vec<u8> {
    let data = [1u8, 0, 0, 0, 2, 0, 0, 0];
    let array = |shape: &[u64], data| WireArray {
        dtype: DType::Int32 as u8,
        weak: false,
        shape: Bounded::from_slice(shape).unwrap(),
        strides: None,
        offset: 0,
        data,
    };
    let case = Case {
        id: 7,
        op: Op::Binary(BinaryOp::Add).code(),
        method: 0,
        mode: 0,
        params: Params::default(),
        inputs: Bounded::from_slice(&[array(&[2], &data), array(&[1], &data[..4])]).unwrap(),
        where_mask: None,
        out: Bounded::default(),
    };
    let mut out = Vec::new();
    encode(&Message::Case(case), |b| out.extend_from_slice(b)).unwrap();
    out
}

/// Frames `payload` (tag + body) with a correct CRC.
pub fn frame_payload(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = FrameEncoder::new(|b: &[u8]| out.extend_from_slice(b));
    enc.write(payload);
    enc.finish();
    out
}

/// The wire server on a byte stream. First byte: bit 0 set means the rest
/// is a list of payloads (u8 length + bytes, each framed with a correct
/// CRC so the decoder itself is reached), clear means raw stream bytes;
/// the other bits pick the chunk size the stream is fed in. Every frame
/// gets exactly one reply, and afterwards a good case is still served.
pub fn wire_server(data: &[u8]) {
    let mut c = Choices::new(data);
    let mode = c.u8();
    let chunk = usize::from(mode >> 1) + 1;
    let stream = if mode & 1 == 1 {
        let mut s = Vec::new();
        while !c.data.is_empty() {
            let n = usize::from(c.u8());
            s.extend(frame_payload(c.bytes(n)));
        }
        s
    } else {
        c.rest().to_vec()
    };
    let mut arena = [0u64; 96];
    let mut out = [0u64; 96];
    let mut server = Server::new(server_config(), &mut arena, &mut out, ());
    let mut acc = FrameAccumulator::new([0u8; ACC]);
    let good = good_frame();
    // Then a delimiter (resynchronise) and the good case.
    let tail = [0u8];
    let mut answered = false;
    for (part, piece) in [(0, stream.as_slice()), (1, &tail[..]), (2, good.as_slice())] {
        for chunk in piece.chunks(if part == 0 { chunk } else { piece.len().max(1) }) {
            let mut input = chunk;
            while let Feed::Frame { frame, rest } = acc.feed(input) {
                if part == 2 {
                    assert!(frame.is_ok(), "a good frame after the stream: {frame:?}");
                }
                let mut reply = Vec::new();
                server.handle(frame, |b| reply.extend_from_slice(b));
                check_reply(&reply);
                if part == 2 {
                    let mut racc = FrameAccumulator::new(vec![0u8; 4096]);
                    if let Feed::Frame { frame: Ok(p), .. } = racc.feed(&reply) {
                        answered = matches!(decode(p), Ok(Message::Result(r)) if r.id == 7 && r.error == 0);
                    }
                }
                input = rest;
            }
        }
    }
    assert!(answered, "the server stopped serving after the stream");
}

/// One operand from the choices; `None` when its description is refused
/// (then a 1-d view of the same bytes stands in, if there is one).
fn operand<'a>(c: &mut Choices<'_>, words: &'a mut Vec<u64>) -> Option<ArrayRef<'a>> {
    let dtype = DType::try_from(c.u8() % 12).ok();
    let ndim = usize::from(c.u8() % 6);
    let dims: Vec<usize> = (0..ndim).map(|_| c.dim()).collect();
    let strides: Option<Vec<isize>> = if c.bool() {
        let n = if c.u8() < 240 {
            ndim
        } else {
            usize::from(c.u8() % 6)
        };
        Some((0..n).map(|_| c.stride()).collect())
    } else {
        None
    };
    let offset = if c.u8() < 240 {
        usize::from(c.u8() % 24)
    } else {
        c.u64() as usize
    };
    let len = usize::from(c.u8()) * 2;
    let misalign = usize::from(c.u8() % 8) * usize::from(c.u8() >= 224);
    let weak = c.u8() >= 240;
    let fill = c.u64();
    *words = vec![fill; (len + misalign).div_ceil(8) + 1];
    let all: &mut [u8] = bytemuck_bytes(words);
    let bytes: &'a [u8] = &all[misalign..misalign + len];
    let dtype = dtype?;
    let described = Shape::new(&dims).and_then(|shape| match &strides {
        None => Ok(Layout::c_contiguous(shape)),
        Some(s) => Layout::strided(shape, s, offset),
    });
    if let Ok(layout) = described {
        if let Ok(a) = ArrayRef::new(dtype, bytes, layout) {
            return Some(a);
        }
    }
    if weak {
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

fn bytemuck_bytes(words: &mut [u64]) -> &mut [u8] {
    bytemuck::cast_slice_mut(words)
}

/// Logical elements a harness lets an op visit. Zero strides make a
/// 2**55-element view of one byte legal (NumPy's `broadcast_to` does the
/// same), and strict mode computes it, as NumPy would: days, not a bug.
/// libFuzzer's first "timeout" was exactly that; refusing such sizes is
/// the hardened mode's memory/work budget, not the strict kernels' job.
pub const MAX_WORK: usize = 1 << 16;

/// Whether every operand (and the mask) is within [`MAX_WORK`] elements.
pub fn small_work(inputs: &[ArrayRef<'_>], params: &ReduceParams<'_>) -> bool {
    inputs
        .iter()
        .chain(params.where_mask.as_ref())
        .all(|a| a.shape().checked_size().is_ok_and(|n| n <= MAX_WORK))
}

/// The type-erased op entry on operands, keywords and buffers drawn from
/// the bytes: `call` returns an `Err` or a result matching `output_of`,
/// and writes nothing outside the output slice.
pub fn op_entry(data: &[u8]) {
    let mut c = Choices::new(data);
    let codes: Vec<u8> = Op::all().map(Op::code).collect();
    let pick = c.u8();
    let code = if pick < 240 {
        codes[usize::from(pick) % codes.len()]
    } else {
        c.u8()
    };
    let Ok(op) = Op::try_from(code) else {
        return;
    };
    let arity = if c.u8() < 240 {
        op.arity()
    } else {
        usize::from(c.u8() % 4)
    };
    let mut stores: Vec<Vec<u64>> = vec![Vec::new(); arity + 1];
    let (mask_store, input_stores) = stores.split_last_mut().unwrap();
    let mut inputs = Vec::new();
    for words in input_stores.iter_mut() {
        if let Some(a) = operand(&mut c, words) {
            inputs.push(a);
        }
    }
    let mask = if c.u8() >= 200 {
        operand(&mut c, mask_store)
    } else {
        None
    };
    let params = if c.bool() {
        let axis = if c.bool() {
            Axes::All
        } else {
            let n = usize::from(c.u8() % 5);
            let list: Vec<isize> = (0..n).map(|_| isize::from(c.u8() as i8 % 7)).collect();
            Axes::list(&list).unwrap_or(Axes::All)
        };
        let initial = match c.u8() % 6 {
            0 => Some(Scalar::Bool(c.bool())),
            1 => Some(Scalar::Int(c.u64() as i64)),
            2 => Some(Scalar::UInt(c.u64())),
            3 => Some(Scalar::Float(f64::from_bits(c.u64()))),
            _ => None,
        };
        let dtype = DType::try_from(c.u8() % 14).ok();
        let ddof = match c.u8() % 4 {
            0 => 0.0,
            1 => 1.0,
            _ => f64::from_bits(c.u64()),
        };
        ReduceParams {
            axis,
            keepdims: c.bool(),
            initial,
            where_mask: mask,
            dtype,
            ddof,
            out: [None, None],
            casting: Casting::default(),
            signature: None,
        }
    } else {
        // A ufunc call's keywords: out= of any dtype, mostly of the first
        // input's shape, and any casting rule.
        let mut out = [None, None];
        for slot in &mut out {
            if c.u8() >= 128 {
                let shape = match (c.u8() < 200, inputs.first()) {
                    (true, Some(a)) => *a.shape(),
                    _ => Shape::new(&[usize::from(c.u8() % 4)]).unwrap_or(Shape::SCALAR),
                };
                *slot = DType::try_from(c.u8() % 12)
                    .ok()
                    .map(|dtype| OutArray { dtype, shape });
            }
        }
        ReduceParams {
            where_mask: mask,
            out,
            casting: Casting::from_code(c.u8() % 6).unwrap_or_default(),
            // Any signature of up to five entries, each a dtype or open.
            signature: (c.u8() >= 160)
                .then(|| {
                    let len = usize::from(c.u8() % 5);
                    let mut types = [None; 4];
                    for t in types.iter_mut().take(len) {
                        *t = DType::try_from(c.u8() % 14).ok();
                    }
                    fnp_core::Signature::new(&types[..len]).ok()
                })
                .flatten(),
            ..ReduceParams::default()
        }
    };

    let promised = output_of(op, &inputs, &params);
    let scratch_needed = scratch_len(op, &inputs, &params);
    let promised_bytes = out_bytes(op, &inputs, &params).ok();
    let out_len = if c.u8() < 200 {
        promised_bytes.unwrap_or(64).min(1 << 16)
    } else {
        usize::from(c.u8()) * 2
    };
    let scratch_words = if c.u8() < 200 {
        *scratch_needed.as_ref().unwrap_or(&8)
    } else {
        usize::from(c.u8()) / 4
    }
    .min(1 << 13);
    let out_misalign = usize::from(c.u8() % 8) * usize::from(c.u8() >= 224);
    const CANARY: u64 = 0xA5A5_A5A5_A5A5_A5A5;
    let mut out_words = vec![CANARY; (out_len + out_misalign).div_ceil(8) + 1];
    let mut scratch = vec![0u64; scratch_words];
    let scratch = &mut scratch[..];
    if !small_work(&inputs, &params) {
        return;
    }
    let got = {
        let out_all = bytemuck_bytes(&mut out_words);
        let out = &mut out_all[out_misalign..out_misalign + out_len];
        call(op, &inputs, &params, out, scratch)
    };
    match (&promised, &got) {
        (Ok((dtype, shape)), Ok(o)) => {
            assert_eq!(
                (o.dtype, o.shape),
                (*dtype, *shape),
                "output_of disagrees with call"
            );
            assert!(o.byte_len() <= out_len, "result larger than the buffer");
        }
        (Err(e), Ok(_)) => panic!("output_of refused ({e:?}) but call answered"),
        (_, Err(Error::BufferTooSmall { buffer, needed })) => {
            let len = match buffer {
                Buffer::Output => out_len,
                _ => scratch_words * 8,
            };
            assert!(
                *needed > len,
                "{buffer} buffer too small: {needed} bytes with {out_len} out, {scratch_words} scratch words"
            )
        }
        _ => {}
    }
    let out_all = bytemuck_bytes(&mut out_words);
    let canary = CANARY as u8;
    assert!(
        out_all[..out_misalign].iter().all(|&b| b == canary)
            && out_all[out_misalign + out_len..]
                .iter()
                .all(|&b| b == canary),
        "bytes written outside the output slice"
    );
}

/// The corpus and oracle readers on any file content, and the case and
/// value decoders on any JSON it parses to: a value, or an error naming
/// the file.
pub fn json_readers(data: &[u8], dir: &Path) {
    let path = dir.join("fuzz.json");
    fs::write(&path, data).expect("writing the fuzz input");
    if let Err(e) = fnp_host::corpus::load(&path) {
        let msg = format!("{e:#}");
        assert!(
            msg.contains("fuzz.json"),
            "error does not name the file: {msg}"
        );
    }
    if let Err(e) = fnp_host::oracle::load(&path) {
        let msg = format!("{e:#}");
        assert!(
            msg.contains("fuzz.json"),
            "error does not name the file: {msg}"
        );
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut nodes = vec![&v];
    let mut seen = 0;
    while let Some(n) = nodes.pop() {
        seen += 1;
        if seen > 256 {
            break;
        }
        let _ = fnp_host::corpus::decode_case(n);
        let _ = fnp_host::corpus::decode_input(n);
        let _ = fnp_host::value::Scalar::from_json(n);
        for code in 0..11u8 {
            let dtype = DType::try_from(code).unwrap();
            let mut out = Vec::new();
            if fnp_host::value::encode_value(dtype, n, &mut out).is_ok() {
                assert_eq!(out.len(), dtype.itemsize());
            }
        }
        match n {
            serde_json::Value::Array(a) => nodes.extend(a),
            serde_json::Value::Object(o) => nodes.extend(o.values()),
            _ => {}
        }
    }
}

/// A small sealed bundle to damage: created once under `dir`.
pub fn bundle_template(dir: &Path) -> PathBuf {
    let out = dir.join("sealed");
    if out.exists() {
        return out;
    }
    let data = dir.join("data");
    fs::create_dir_all(data.join("sub")).unwrap();
    let noise: Vec<u8> = (0..5_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(data.join("a.bin"), noise).unwrap();
    fs::write(data.join("sub/b.json"), b"{\"x\": 1}\n").unwrap();
    fs::write(data.join("empty"), b"").unwrap();
    let options = fnp_host::bundle::CreateOptions {
        overhead: fnp_host::bundle::Overhead::default(),
        block_symbols: 4,
    };
    fnp_host::bundle::create_with(&[data], &out, options).unwrap();
    out
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A copy of `template` damaged as the bytes say (a list of: file, kind,
/// position, bytes), then scrubbed, repaired and proven: errors are fine,
/// panics are not, and a repair that reports success must leave a bundle
/// that scrubs clean and passes its proof.
pub fn bundle_reader(data: &[u8], template: &Path, work: &Path) {
    let b = work.join("b");
    let _ = fs::remove_dir_all(&b);
    copy_tree(template, &b);
    let mut files = Vec::new();
    files_under(&b, &mut files);
    files.sort();
    let mut c = Choices::new(data);
    while !c.data.is_empty() {
        let file = &files[usize::from(c.u8()) % files.len()];
        let kind = c.u8() % 5;
        let at = usize::from(c.u8()) << 8 | usize::from(c.u8());
        let n = usize::from(c.u8() % 64);
        let bytes = c.bytes(n);
        let Ok(mut content) = fs::read(file) else {
            continue;
        };
        match kind {
            0 => {
                if !content.is_empty() {
                    let at = at % content.len();
                    for (slot, &x) in content[at..].iter_mut().zip(bytes) {
                        *slot = x;
                    }
                }
            }
            1 => content.truncate(at % (content.len() + 1)),
            2 => content.extend_from_slice(bytes),
            3 => {
                let _ = fs::remove_file(file);
                continue;
            }
            _ => content = bytes.to_vec(),
        }
        fs::write(file, content).unwrap();
    }
    let _ = fnp_host::bundle::scrub(&b);
    match fnp_host::bundle::repair(&b) {
        Ok(r) => {
            let after = fnp_host::bundle::scrub(&b);
            assert!(
                matches!(&after, Ok(s) if s.is_ok()),
                "repair said {} but scrub then failed",
                r.status
            );
            let p = fnp_host::bundle::proof(&b, 5);
            assert!(
                matches!(&p, Ok(p) if p.passed()),
                "repair said {} but the proof then failed",
                r.status
            );
        }
        Err(e) => assert!(!format!("{e:#}").is_empty()),
    }
    let _ = fnp_host::bundle::proof(&b, 5);
}
