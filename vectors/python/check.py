#!/usr/bin/env python3
"""Independent re-derivation of the protocol vectors (vectors/README.md).

Usage: python vectors/python/check.py vectors/data

Every step of every vector is replayed through `tiproto` (written from docs/PROTOCOL.md and
vectors/README.md only): the device is restored from `state_before` (and must re-encode to the
same bytes), the operation runs with an RNG serving exactly the recorded `draws`, and the error
class, the output, `state_after` and every intermediate are compared byte for byte. Within a
vector each actor's device is also kept in memory: the step runs on the device left by the
actor's previous step, whose encoding must equal the file's `state_before`.

Prints one table row per file (positive vectors re-derived, negative vectors classified) and the
first mismatch of every failing vector with its field path; exits 1 on any mismatch.
"""
from __future__ import annotations

import glob
import json
import os
import sys
import traceback
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tiproto import state  # noqa: E402
from tiproto.device import Device, import_bundle  # noqa: E402
from tiproto.errors import EXPIRED, ProtocolError  # noqa: E402
from tiproto.rng import DrawMismatch, ReplayRng  # noqa: E402
from tiproto.wire import Bundle  # noqa: E402


class Mismatch(Exception):
    def __init__(self, path: str, expected: Any, got: Any) -> None:
        super().__init__(path)
        self.path, self.expected, self.got = path, expected, got

    def __str__(self) -> str:
        return f"{self.path}: expected {_short(self.expected)}, got {_short(self.got)}"


def _short(x: Any, n: int = 96) -> str:
    s = json.dumps(x) if not isinstance(x, str) else repr(x)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


def compare(path: str, expected: Any, got: Any) -> None:
    """Raise Mismatch at the first differing field (dict keys in the file's order)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for k in expected:
            if k not in got:
                raise Mismatch(f"{path}.{k}", expected[k], "<missing>")
            compare(f"{path}.{k}", expected[k], got[k])
        for k in got:
            if k not in expected:
                raise Mismatch(f"{path}.{k}", "<absent>", got[k])
        return
    if isinstance(expected, list) and isinstance(got, list):
        for i, (e, g) in enumerate(zip(expected, got)):
            compare(f"{path}[{i}]", e, g)
        if len(expected) != len(got):
            raise Mismatch(f"{path}.length", len(expected), len(got))
        return
    if type(expected) is not type(got) or expected != got:
        raise Mismatch(path, expected, got)


def bundle_fields(b: Bundle) -> dict:
    return {
        "identity": b.identity.encode().hex(),
        "signed_prekey_id": b.spk_id,
        "signed_prekey": b.spk_pub.hex(),
        "one_time_prekey_id": None if b.opk is None else b.opk[0],
        "one_time_prekey": None if b.opk is None else b.opk[1].hex(),
        "kem_kind": b.kem_kind,
        "kem_prekey_id": b.kem_id,
        "kem_prekey": b.kem_ek.hex(),
    }


def run_op(op: str, inp: dict, dev: Optional[Device], rng: ReplayRng, trace: dict
           ) -> Tuple[Optional[Device], Optional[dict]]:
    """Run one operation; returns (device after, output). Raises ProtocolError."""
    h = bytes.fromhex
    if op == "generate":
        dev = Device.generate(rng)
        return dev, {"public_identity": dev.public_identity().encode().hex()}
    if op == "import_bundle":
        return None, {"bundle_fields": bundle_fields(import_bundle(h(inp["bundle"])))}
    if op == "restore_device":
        blob = h(inp["blob"])
        got = Device.from_bytes(blob).to_bytes()
        compare("input.blob (re-encoded)", inp["blob"], got.hex())
        return None, None
    if op == "restore_session":
        blob = h(inp["blob"])
        got = state.encode_session(state.decode_session(blob))
        compare("input.blob (re-encoded)", inp["blob"], got.hex())
        return None, None
    assert dev is not None, f"{op} needs a device"
    if op == "add_one_time_prekeys":
        dev.add_one_time_prekeys(inp["count"], rng)
        return dev, None
    if op == "add_one_time_kem_prekeys":
        dev.add_one_time_kem_prekeys(inp["count"], rng)
        return dev, None
    if op == "rotate_signed_prekey":
        dev.rotate_signed_prekey(rng)
        return dev, None
    if op == "rotate_last_resort_kem_prekey":
        dev.rotate_last_resort_kem_prekey(rng)
        return dev, None
    if op == "prekey_bundle":
        return dev, {"bundle": dev.prekey_bundle().encode().hex()}
    if op == "initiate":
        bundle = import_bundle(h(inp["bundle"]))
        dev.initiate(h(inp["peer"]), bundle, rng, trace)
        return dev, None
    if op == "encrypt":
        peer = h(inp["peer"])
        if peer not in dev.sessions:
            raise AssertionError("encrypt without a session")  # not a protocol operation here
        msg = dev.sessions[peer].encrypt(inp["content_type"], inp["ttl"], h(inp["payload"]),
                                         inp["now"], rng, trace)
        return dev, {"message": msg.hex()}
    if op == "decrypt":
        d = dev.decrypt(h(inp["peer"]), h(inp["message"]), inp["now"], trace)
        return dev, {"decrypted": {"content_type": d.content_type, "sent_at": d.sent_at,
                                   "ttl": d.ttl, "expires_at": d.expires_at,
                                   "payload": d.payload.hex()}}
    raise AssertionError(f"unknown op {op}")


def run_step(k: int, step: dict, memory: Dict[str, Device]) -> None:
    p = f"steps[{k}]({step['op']})"
    actor = step.get("actor")
    dev: Optional[Device] = None
    if "state_before" in step:
        sb = step["state_before"]
        try:
            restored = Device.from_bytes(bytes.fromhex(sb))
        except ProtocolError as e:
            raise Mismatch(f"{p}.state_before (restore)", "restores", e.cls) from None
        compare(f"{p}.state_before (re-encoded)", sb, restored.to_bytes().hex())
        dev = restored
        if actor in memory:  # continue with the in-memory device of the actor's last step
            compare(f"{p}.state_before (actor's previous state_after)", sb,
                    memory[actor].to_bytes().hex())
            dev = memory[actor]
    rng = ReplayRng([bytes.fromhex(d) for d in step["draws"]])
    trace: dict = {}
    err: Optional[str] = None
    out: Optional[dict] = None
    try:
        dev_after, out = run_op(step["op"], step["input"], dev, rng, trace)
        if dev_after is not None:
            dev = dev_after
    except ProtocolError as e:
        err = e.cls
        out = None
    except DrawMismatch as e:
        raise Mismatch(f"{p}.draws", step["draws"], str(e)) from None
    compare(f"{p}.error", step["error"], err)
    compare(f"{p}.output", step["output"], out)
    if not rng.all_used():
        raise Mismatch(f"{p}.draws", f"{len(step['draws'])} draws used", f"{rng.used} used")
    if "state_after" in step:
        assert dev is not None
        compare(f"{p}.state_after", step["state_after"], dev.to_bytes().hex())
        memory[actor] = dev  # type: ignore[index]
    want_trace = err is None or err == EXPIRED
    got_inter = trace if (trace and want_trace) else None
    compare(f"{p}.intermediates", step["intermediates"], got_inter)


def run_vector(v: dict) -> Optional[str]:
    """None if every step re-derives, else the first mismatch."""
    memory: Dict[str, Device] = {}
    try:
        for k, step in enumerate(v["steps"]):
            run_step(k, step, memory)
        if v["expected"] != "ok":
            compare("expected (last step's error)", v["expected"], v["steps"][-1]["error"])
    except Mismatch as m:
        return str(m)
    except Exception as e:  # an implementation bug: report, do not crash the table
        return f"exception {type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"
    return None


def main(argv: List[str]) -> int:
    data = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data")
    files = sorted(glob.glob(os.path.join(data, "*.json")))
    if not files:
        print(f"no vector files under {data}")
        return 1
    rows = []
    failures: List[str] = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        name = os.path.basename(path)
        pos_ok = pos = neg_ok = neg = 0
        for v in doc["vectors"]:
            result = run_vector(v)
            if v["expected"] == "ok":
                pos += 1
                pos_ok += result is None
            else:
                neg += 1
                neg_ok += result is None
            if result is not None:
                failures.append(f"{name} {v['id']}: {result}")
        rows.append((name, pos_ok, pos, neg_ok, neg))

    for line in failures:
        print("MISMATCH", line)
    if failures:
        print()
    print(f"{'file':<20} {'positive re-derived':>20} {'negative classified':>20}")
    tp = tpt = tn = tnt = 0
    for name, a, b, c, d in rows:
        print(f"{name:<20} {f'{a} / {b}':>20} {f'{c} / {d}':>20}")
        tp, tpt, tn, tnt = tp + a, tpt + b, tn + c, tnt + d
    print(f"{'total':<20} {f'{tp} / {tpt}':>20} {f'{tn} / {tnt}':>20}")
    ok = not failures and tp == tpt and tn == tnt
    print("python re-derivation:", "all vectors reproduced" if ok else f"{len(failures)} vector(s) failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
