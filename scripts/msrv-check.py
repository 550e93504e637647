#!/usr/bin/env python3
"""Checks that every package in Cargo.lock declares a rust-version no newer
than the workspace's own (the MSRV the README states).

Only one toolchain can be installed here, so the MSRV cannot be proven by
building with it; what can be checked is what each locked dependency says
it needs. A package that declares nothing is listed but not counted against
the MSRV (most old crates declare nothing and build on any recent Rust).

Usage: scripts/msrv-check.py [--manifest-path Cargo.toml]
Exit 0 when every locked package fits, 1 (naming each one that does not)
otherwise.
"""

import json
import subprocess
import sys


def version(text):
    """`1.85`, `1.85.0` or `1.89.0-nightly` as a comparable tuple."""
    core = text.split("-", 1)[0]
    parts = [int(p) for p in core.split(".")]
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)


def main(argv):
    cmd = ["cargo", "metadata", "--format-version", "1", "--locked"] + argv
    meta = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    members = set(meta["workspace_members"])
    ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
    if len(ours) != 1 or None in ours:
        print(f"the workspace's packages must share one rust-version, found {sorted(map(str, ours))}")
        return 1
    msrv_text = ours.pop()
    msrv = version(msrv_text)
    too_new, undeclared, checked = [], [], 0
    for p in sorted(meta["packages"], key=lambda p: (p["name"], p["version"])):
        if p["id"] in members:
            continue
        declared = p.get("rust_version")
        if declared is None:
            undeclared.append(f"{p['name']} {p['version']}")
            continue
        checked += 1
        if version(declared) > msrv:
            too_new.append(f"{p['name']} {p['version']} declares rust-version {declared}")
    if too_new:
        print(f"{len(too_new)} locked package(s) need a newer Rust than the MSRV {msrv_text}:")
        for line in too_new:
            print(f"  {line}")
        print("choose versions that fit (`cargo update` with resolver 3 prefers them),"
              " or raise rust-version in Cargo.toml and the README together")
        return 1
    print(f"MSRV {msrv_text}: {checked} locked packages declare a rust-version that fits,"
          f" {len(undeclared)} declare none")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
