"""NumPy side of `fnp bench`: times workloads on request, one JSON line per reply.

Protocol (stdin/stdout, one JSON object per line):
  {"cmd": "hello"}                                  -> {"numpy": "...", "python": "..."}
  {"cmd": "load", "name", "inputs": [{"path", "dtype", "shape"}],
   "expr", "out": {"dtype", "shape"} | null}        -> {"ok": true}
  {"cmd": "time", "name", "iters"}                  -> {"ns": [per-call nanoseconds]}
  {"cmd": "result", "name", "path"}                 -> {"dtype", "shape"} (raw bytes written to path)
  {"cmd": "quit"}
`expr` is evaluated with the inputs bound to a, b, ... and the preallocated
output (if any) bound to `out`; nothing is allocated per call except NumPy
scalars returned by full reductions.
"""
import json
import platform
import sys
import time

import numpy as np

workloads = {}


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    for line in sys.stdin:
        req = json.loads(line)
        cmd = req["cmd"]
        if cmd == "hello":
            reply({"numpy": np.__version__, "python": platform.python_version()})
        elif cmd == "load":
            env = {"np": np}
            for name, spec in zip("abcdefgh", req["inputs"]):
                arr = np.fromfile(spec["path"], dtype=spec["dtype"])
                env[name] = arr.reshape(spec["shape"])
            out = req.get("out")
            if out is not None:
                env["out"] = np.empty(out["shape"], dtype=out["dtype"])
            code = compile(req["expr"], req["name"], "eval")
            workloads[req["name"]] = (code, env)
            reply({"ok": True})
        elif cmd == "time":
            code, env = workloads[req["name"]]
            ns = []
            clock = time.perf_counter_ns
            with np.errstate(all="ignore"):
                for _ in range(req["iters"]):
                    t0 = clock()
                    eval(code, env)
                    ns.append(clock() - t0)
            reply({"ns": ns})
        elif cmd == "result":
            code, env = workloads[req["name"]]
            with np.errstate(all="ignore"):
                res = np.asarray(eval(code, env))
            np.ascontiguousarray(res).tofile(req["path"])
            reply({"dtype": res.dtype.name, "shape": list(res.shape)})
        elif cmd == "quit":
            return
        else:
            reply({"error": "unknown command " + cmd})


if __name__ == "__main__":
    main()
