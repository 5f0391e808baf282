"""fnp oracle capture: what NumPy answers for each case of a corpus.

Run by `fnp capture` (do not call it by hand):

    python capture.py JOB.json BLOB.bin OUT.json [auto|pure-python]

JOB.json lists the cases with every input already laid out in memory by
fnp (dtype, shape, element strides, offset, and the byte range of its
buffer in BLOB.bin), so NumPy sees exactly the memory layout fnp sees.
OUT.json gets, per case, the result bytes (hex, C order, little-endian) and
IEEE flags, the first public exception class, or `unsupported`; fnp turns
that into the canonical fnp.oracle.v2 file.

JOB.json also carries fnp's op table (`ops`, the rows `fnp info --json`
prints): which names are binary or unary ufuncs and which are reductions,
whose keywords NumPy is called with; a dotted name (`add.reduce`) is that
ufunc's method, called with the case's keywords. The script keeps no op list of its
own; a name outside the table is called if NumPy has a ufunc of that name.

Without NumPy (or with `pure-python`) a pure-Python oracle computes what it
can exactly: element-wise integer and bool ops and exactly rounded float
+ - * /. Anything that would need NumPy's order of evaluation or a guess at
its flags is `unsupported`.
"""

import builtins
import json
import math
import platform
import struct
import sys
import warnings
from fractions import Fraction

FNP_DTYPES = (
    "bool", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "float32", "float64",
)
# The ops the pure-Python oracle's apply() implements (not a fact about
# the ops, which come from the job's op table).
PURE_PYTHON_OPS = (
    "add", "subtract", "multiply", "true_divide", "floor_divide", "remainder",
    "power", "maximum", "minimum", "fmax", "fmin",
)
FLAG_BITS = ((1, "divide"), (2, "overflow"), (4, "underflow"), (8, "invalid"))


def op_kinds(rows):
    """NumPy name and aliases -> kind ("binary", "unary", "reduction") from
    the op table rows of the job."""
    kinds = {}
    for row in rows:
        for name in [row["name"]] + list(row.get("aliases", [])):
            kinds[name] = row["kind"]
    return kinds


def progress(done, total):
    sys.stderr.write("@@progress %d %d\n" % (done, total))
    sys.stderr.flush()


def public_class(exc, np=None):
    """The first public class of an exception: TypeError, not
    _UFuncNoLoopError; AxisError for axes."""
    public_np = getattr(np, "exceptions", None) if np is not None else None
    for cls in type(exc).__mro__:
        name = cls.__name__
        if name.startswith("_"):
            continue
        if getattr(builtins, name, None) is cls:
            return name
        if public_np is not None and getattr(public_np, name, None) is cls:
            return name
    return type(exc).__name__


def input_bytes(inp, blob):
    start = inp["start"]
    return blob[start:start + inp["nbytes"]]


# --------------------------------------------------------------------------
# NumPy


class NumpyOracle:
    source = "numpy"

    def __init__(self, np, kinds):
        self.np = np
        self.version = np.__version__
        self.kinds = kinds

    def operand(self, inp, blob):
        np = self.np
        dt = np.dtype(inp["dtype"])
        raw = input_bytes(inp, blob)
        n = len(raw) // dt.itemsize
        # An aligned, writeable base buffer holding exactly fnp's bytes.
        base = np.empty(n, dtype=dt)
        base.view(np.uint8)[:] = np.frombuffer(raw, dtype=np.uint8)
        if inp.get("scalar"):
            v = base[0]
            if dt.kind == "b":
                return bool(v)
            if dt.kind in "iu":
                return int(v)
            return float(v)
        strides = tuple(s * dt.itemsize for s in inp["strides"])
        shape = tuple(inp["shape"])
        if n == 0 or 0 in shape:
            return np.empty(shape, dtype=dt)
        start = base[inp["offset"]:]
        return np.lib.stride_tricks.as_strided(start, shape=shape, strides=strides)

    def scalar(self, s):
        kind, v = s["kind"], s["value"]
        if kind == "bool":
            return bool(v)
        if kind == "int":
            return int(v)
        return float.fromhex(v)

    def kwargs(self, params):
        np = self.np
        kw = {}
        if "axis" in params:
            axis = params["axis"]
            kw["axis"] = tuple(axis) if isinstance(axis, list) else axis
        if "keepdims" in params:
            kw["keepdims"] = params["keepdims"]
        if "initial" in params:
            kw["initial"] = self.scalar(params["initial"])
        if "where" in params:
            w = params["where"]
            kw["where"] = np.array(w["data"], dtype=bool).reshape(tuple(w["shape"]))
        if "dtype" in params:
            kw["dtype"] = np.dtype(params["dtype"])
        if "ddof" in params:
            kw["ddof"] = float.fromhex(params["ddof"])
        if "casting" in params:
            kw["casting"] = params["casting"]
        if "signature" in params:
            sig = params["signature"]
            # A typecode string as given; a list becomes NumPy's tuple of
            # dtype names and Nones (NumPy reads the names itself).
            kw["signature"] = tuple(sig) if isinstance(sig, list) else sig
        return kw

    def outs(self, params, args, blob):
        """out= as a tuple, one entry per output: a fresh array holding the
        case's contents, input k's own array object ({"input": k}, in
        place) or None (NumPy allocates)."""
        made = []
        for o in params["out"]:
            if o is None:
                made.append(None)
            elif "input" in o:
                made.append(args[o["input"]])
            else:
                made.append(self.operand(o, blob))
        return tuple(made)

    def run(self, case, blob):
        np = self.np
        op = case["op"]
        kind = self.kinds.get(op)
        fn = getattr(np, op, None)
        ufunc_name, dot, method_name = op.partition(".")
        if dot:
            # A ufunc method, `maximum.accumulate`: NumPy's own method with
            # the keywords the case gives (NumPy's defaults otherwise).
            ufunc = getattr(np, ufunc_name, None)
            method = getattr(ufunc, method_name, None) if isinstance(ufunc, np.ufunc) else None
            if method is None:
                return {"status": "unsupported",
                        "reason": "NumPy %s has no ufunc method %s" % (self.version, op)}
            kw = self.kwargs(case.get("params", {}))
            if method_name == "at":
                # `at` works in place and returns None: its answer is the
                # first operand after the call.
                def call(args):
                    a = np.array(args[0], copy=True)
                    method(a, *args[1:], **kw)
                    return a
            else:
                params = case.get("params", {})

                def call(args):
                    if "out" in params:
                        kw["out"] = self.outs(params, args, blob)
                    return method(*args, **kw)
        elif kind == "reduction" and callable(fn):
            # np.<name> with the keywords the case gives (np.sum, np.amax…).
            kw = self.kwargs(case.get("params", {}))
            call = lambda args: fn(*args, **kw)
        elif isinstance(fn, np.ufunc):
            # A ufunc of the table, or any other NumPy ufunc, on its arrays
            # with the case's keywords (out=, where=, casting=).
            params = case.get("params", {})
            kw = self.kwargs(params)

            def call(args):
                if "out" in params:
                    kw["out"] = self.outs(params, args, blob)
                return fn(*args, **kw)
        elif kind is not None:
            return {"status": "unsupported",
                    "reason": "NumPy %s has no %s %s" % (self.version, kind, op)}
        else:
            return {"status": "unsupported", "reason": "capture.py does not know op %s" % op}
        args = [self.operand(i, blob) for i in case["inputs"]]
        raised = [0]

        def on_flag(_kind, flag):
            raised[0] |= flag

        old_call = np.seterrcall(on_flag)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="call"):
                    result = call(args)
        except Exception as exc:  # NumPy's answer is the exception class
            return {"status": "error", "error": public_class(exc, np)}
        finally:
            np.seterrcall(old_call)
        # A ufunc with several outputs (divmod, modf, frexp) returns a tuple.
        outputs = []
        for res in (result if isinstance(result, tuple) else (result,)):
            r = np.asarray(res)
            if r.dtype.name not in FNP_DTYPES:
                return {"status": "unsupported",
                        "reason": "NumPy answers in %s, which fnp does not have" % r.dtype.name}
            # np.array keeps 0-d results 0-d (ascontiguousarray would not).
            r = np.array(r, dtype=r.dtype.newbyteorder("<"), order="C", copy=True)
            outputs.append({"dtype": r.dtype.name, "shape": list(r.shape),
                            "hex": r.tobytes(order="C").hex()})
        flags = [name for bit, name in FLAG_BITS if raised[0] & bit]
        if len(outputs) == 1:
            return dict(status="ok", fp_flags=flags, **outputs[0])
        return {"status": "ok", "outputs": outputs, "fp_flags": flags}


# --------------------------------------------------------------------------
# Pure Python


INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64,
            "uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}
FLOAT_FMT = {"float32": "<f", "float64": "<d"}
MIN_NORMAL = {"float32": 2.0 ** -126, "float64": 2.0 ** -1022}
NO_BOOL_LOOP = ("subtract", "true_divide", "floor_divide", "remainder", "power")


class Unsupported(Exception):
    pass


class NumpyError(Exception):
    def __init__(self, cls):
        Exception.__init__(self, cls)
        self.cls = cls


def kind(dt):
    if dt == "bool":
        return "b"
    if dt in FLOAT_FMT:
        return "f"
    return "u" if dt.startswith("uint") else "i"


def int_range(dt):
    bits = INT_BITS[dt]
    if dt.startswith("uint"):
        return 0, 2 ** bits - 1
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def result_type(a, b):
    """np.result_type for two of fnp's array dtypes."""
    if a == b:
        return a
    ka, kb = kind(a), kind(b)
    if ka == "b":
        return b
    if kb == "b":
        return a
    if ka == "f" and kb == "f":
        return "float64"
    if ka == "f" or kb == "f":
        f, i = (a, b) if ka == "f" else (b, a)
        if f == "float32" and INT_BITS[i] <= 16:
            return "float32"
        return "float64"
    if ka == kb:
        return a if INT_BITS[a] >= INT_BITS[b] else b
    s, u = (a, b) if ka == "i" else (b, a)
    if INT_BITS[u] < INT_BITS[s]:
        return s
    if INT_BITS[u] >= 64:
        return "float64"
    return "int%d" % (INT_BITS[u] * 2)


def to_f32(x):
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def read_values(inp, blob):
    """Logical C-order values of an input, read through its layout."""
    dt = inp["dtype"]
    raw = input_bytes(inp, blob)
    if dt == "bool":
        size, fmt = 1, None
    elif dt in FLOAT_FMT:
        size, fmt = (4 if dt == "float32" else 8), FLOAT_FMT[dt]
    else:
        size, fmt = INT_BITS[dt] // 8, None
    shape = inp["shape"]
    count = 1
    for d in shape:
        count *= d
    out = []
    index = [0] * len(shape)
    for _ in range(count):
        pos = inp["offset"] + sum(i * s for i, s in zip(index, inp["strides"]))
        chunk = raw[pos * size:(pos + 1) * size]
        if dt == "bool":
            out.append(chunk[0] != 0)
        elif fmt:
            out.append(struct.unpack(fmt, chunk)[0])
        else:
            out.append(int.from_bytes(chunk, "little", signed=not dt.startswith("uint")))
        for ax in range(len(shape) - 1, -1, -1):
            index[ax] += 1
            if index[ax] < shape[ax]:
                break
            index[ax] = 0
    return out


def broadcast(sa, sb):
    n = max(len(sa), len(sb))
    a = [1] * (n - len(sa)) + list(sa)
    b = [1] * (n - len(sb)) + list(sb)
    out = []
    for x, y in zip(a, b):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise NumpyError("ValueError")
    return out


def broadcast_index(values, shape, out_shape, index):
    pad = len(out_shape) - len(shape)
    pos = 0
    for ax, d in enumerate(shape):
        i = index[pad + ax] if d != 1 else 0
        pos = pos * d + i
    return values[pos]


class PurePythonOracle:
    source = "pure-python"
    version = None

    def run(self, case, blob):
        op = case["op"]
        if op not in PURE_PYTHON_OPS:
            return {"status": "unsupported",
                    "reason": "the pure-Python oracle computes no reductions (NumPy's order of evaluation)"}
        try:
            return self.binary(op, case, blob)
        except NumpyError as e:
            return {"status": "error", "error": e.cls}
        except Unsupported as e:
            return {"status": "unsupported", "reason": "pure-Python oracle: %s" % e}

    def loop_dtype(self, op, a, b):
        weak = [i for i in (a, b) if i.get("scalar")]
        strong = [i["dtype"] for i in (a, b) if not i.get("scalar")]
        if not strong:
            raise Unsupported("two Python scalars")
        base = strong[0] if len(strong) == 1 else result_type(strong[0], strong[1])
        out = base
        for w in weak:
            if w["dtype"] in ("int64", "uint64") and out == "bool":
                out = "int64"
            if w["dtype"] == "float64" and kind(out) != "f":
                out = "float64"
        if op == "true_divide" and kind(out) != "f":
            return "float64"
        if out == "bool" and op == "subtract":
            raise NumpyError("TypeError")
        if out == "bool" and op in NO_BOOL_LOOP:
            return "int8"
        return out

    def binary(self, op, case, blob):
        a, b = case["inputs"]
        loop = self.loop_dtype(op, a, b)
        flags = set()
        values = []
        for inp in (a, b):
            vals = read_values(inp, blob)
            if inp.get("scalar"):
                v = vals[0]
                if kind(inp["dtype"]) in "iu" and kind(loop) in "iu":
                    lo, hi = int_range(loop)
                    if not lo <= v <= hi:
                        raise NumpyError("OverflowError")
                if kind(loop) == "f" and kind(inp["dtype"]) in "iu" and loop == "float32" and abs(v) > 2 ** 24:
                    raise Unsupported("Python int to float32 conversion")
                if inp["dtype"] == "float64" and loop == "float32":
                    if math.isfinite(v) and math.isinf(to_f32(v)):
                        flags.add("overflow")
            values.append(vals)
        out_shape = broadcast(a["shape"], b["shape"])
        count = 1
        for d in out_shape:
            count *= d
        out = []
        index = [0] * len(out_shape)
        for _ in range(count):
            x = self.cast(broadcast_index(values[0], a["shape"], out_shape, index), loop)
            y = self.cast(broadcast_index(values[1], b["shape"], out_shape, index), loop)
            out.append(self.apply(op, loop, x, y, flags))
            for ax in range(len(out_shape) - 1, -1, -1):
                index[ax] += 1
                if index[ax] < out_shape[ax]:
                    break
                index[ax] = 0
        return {"status": "ok", "dtype": loop, "shape": out_shape,
                "hex": self.encode(loop, out).hex(),
                "fp_flags": [name for _, name in FLAG_BITS if name in flags]}

    def cast(self, v, loop):
        k = kind(loop)
        if k == "b":
            return bool(v)
        if k == "f":
            x = float(v)
            return to_f32(x) if loop == "float32" else x
        if isinstance(v, float):
            raise Unsupported("float to integer cast")
        return int(v)

    def apply(self, op, loop, x, y, flags):
        k = kind(loop)
        if k == "b":
            if op in ("add", "maximum", "fmax"):
                return x or y
            if op in ("multiply", "minimum", "fmin"):
                return x and y
            raise Unsupported("bool %s" % op)
        if k in "iu":
            return self.int_op(op, loop, x, y)
        return self.float_op(op, loop, x, y, flags)

    def int_op(self, op, loop, x, y):
        lo, hi = int_range(loop)
        span = hi - lo + 1

        def wrap(v):
            return (v - lo) % span + lo

        if op == "add":
            return wrap(x + y)
        if op == "subtract":
            return wrap(x - y)
        if op == "multiply":
            return wrap(x * y)
        if op in ("maximum", "fmax"):
            return max(x, y)
        if op in ("minimum", "fmin"):
            return min(x, y)
        if op in ("floor_divide", "remainder"):
            # Division by zero and MIN // -1 set flags whose exact set is
            # NumPy's choice: leave those to NumPy.
            if y == 0 or (x == lo and y == -1 and lo < 0 and op == "floor_divide"):
                raise Unsupported("integer %s flags need NumPy" % op)
            return wrap(x // y) if op == "floor_divide" else wrap(x % y)
        if op == "power":
            # NumPy checks the exponents its loop meets: an empty result
            # raises nothing.
            if y < 0:
                raise NumpyError("ValueError")
            return wrap(pow(x, y, span))
        raise Unsupported("integer %s" % op)

    def float_op(self, op, loop, x, y, flags):
        rnd = to_f32 if loop == "float32" else (lambda v: v)
        finite = math.isfinite(x) and math.isfinite(y)
        if op in ("add", "subtract", "multiply"):
            r = rnd(x + y if op == "add" else x - y if op == "subtract" else x * y)
            exact = None
            if finite:
                fx, fy = Fraction(x), Fraction(y)
                exact = fx + fy if op == "add" else fx - fy if op == "subtract" else fx * fy
        elif op == "true_divide":
            exact = None
            if y == 0:
                if math.isnan(x) or x == 0:
                    r = math.nan
                else:
                    negative = (math.copysign(1.0, x) < 0) != (math.copysign(1.0, y) < 0)
                    r = -math.inf if negative else math.inf
                    if math.isfinite(x):
                        flags.add("divide")
                        finite = False
            else:
                r = rnd(x / y)
                if finite:
                    exact = Fraction(x) / Fraction(y)
        else:
            raise Unsupported("float %s" % op)
        if math.isnan(r) and not (math.isnan(x) or math.isnan(y)):
            flags.add("invalid")
        if finite and math.isinf(r):
            flags.add("overflow")
        if finite and math.isfinite(r) and abs(r) < MIN_NORMAL[loop] and exact is not None \
                and Fraction(r) != exact:
            flags.add("underflow")
        return r

    def encode(self, loop, values):
        k = kind(loop)
        if k == "b":
            return bytes(1 if v else 0 for v in values)
        if k == "f":
            return b"".join(struct.pack(FLOAT_FMT[loop], v) for v in values)
        bits = INT_BITS[loop]
        return b"".join(v.to_bytes(bits // 8, "little", signed=(k == "i")) for v in values)


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    job_path, blob_path, out_path = argv[1:4]
    mode = argv[4] if len(argv) > 4 else "auto"
    with open(job_path) as f:
        job = json.load(f)
    with open(blob_path, "rb") as f:
        blob = f.read()
    oracle = None
    if mode != "pure-python":
        try:
            import numpy
            oracle = NumpyOracle(numpy, op_kinds(job.get("ops", [])))
        except ImportError:
            oracle = None
    if oracle is None:
        oracle = PurePythonOracle()
    cases = job["cases"]
    results = []
    for n, case in enumerate(cases):
        r = oracle.run(case, blob)
        r["id"] = case["id"]
        results.append(r)
        if n % 200 == 199:
            progress(n + 1, len(cases))
    progress(len(cases), len(cases))
    with open(out_path, "w") as f:
        json.dump({
            "source": oracle.source,
            "numpy_version": oracle.version,
            "python_version": platform.python_version(),
            "results": results,
        }, f, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
