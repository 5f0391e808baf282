"""Writes expected.out, the golden output of the sensor-stats example, with NumPy.

Run from this directory with the project's NumPy (2.4.6, see
`cargo xtask oracles`):  python expected.py > expected.out

The samples are read from src/samples.rs, so the firmware and NumPy see the
same float32 values. Floats are printed as the firmware's defmt log prints
them: Rust's shortest round-trip decimal for f32 (NumPy's
format_float_positional with unique=True on the float32 value), followed by
the bit pattern, so the comparison is bit for bit.
"""

import pathlib
import re

import numpy as np

src = pathlib.Path(__file__).with_name("src").joinpath("samples.rs").read_text()
body = re.search(r"\[f32; \d+\] = \[(.*?)\];", src, re.S).group(1)
x = np.array([float(v) for v in body.replace("\n", " ").split(",") if v.strip()], dtype=np.float32)


def f(v):
    v = np.float32(v)
    text = np.format_float_positional(v, unique=True, trim="-")
    return f"{text} ({int(v.view(np.uint32)):#010x})"


with np.errstate(all="raise"):  # the firmware reports no flags either
    mean, var, std = x.mean(), x.var(), x.std()
    z = (x - mean) / std
print(f"n = {x.size}")
print(f"mean = {f(mean)}")
print(f"var = {f(var)}")
print(f"std = {f(std)}")
print(f"max = {np.format_float_positional(x.max(), unique=True, trim='-')} at {x.argmax()}")
print(f"z: shape [{z.size}], flags FpFlags(0)")
for i, v in enumerate(z):
    print(f"z[{i}] = {f(v)}")
# Not NumPy's: fnp-core's error for a 4-element out buffer where 16 float32
# (64 bytes) are needed.
print("short buffer: Err(BufferTooSmall { buffer: Output, needed: 64 })")
