# SPDX-License-Identifier: GPL-3.0-or-later
"""The TAP runner of the external suites against one server (test-stdlib.py,
test-tls.py, test-http2.py, amqp_harness.py, test-amqp-kill.py): each test
a function that raises to fail and may return a skip reason; its number,
name and verdict on stdout, a failure's traceback and time as comments,
whether the server is gone, and its log tail after any failure."""

import time
import traceback


def skip_all(names, reason, first=1):
    """Every test in @names reported skipped, for @reason."""
    for n, name in enumerate(names, first):
        print(f"ok {n} - {name} # SKIP {reason}")


def fail_all(names, reason, first=1):
    """Every test in @names reported failed, for @reason (the server did
    not start)."""
    for n, name in enumerate(names, first):
        print(f"not ok {n} - {name}\n# {reason}", flush=True)


def run(tests, server, first=1, chained=False, always=()):
    """Runs @tests, (name, function[, todo]) tuples, numbered from @first;
    returns how many failed. A test with a @todo reason documents a known
    server bug: its failure is reported (# TODO) but not counted; once it
    passes, meson reports an unexpected pass, and the TODO should go.
    @server: test-stdlib's Server (or one derived from it), or None.
    @chained: each test needs the ones before it, so after a failure the
    rest fail unrun, but for the functions in @always."""
    failed = 0
    for n, (name, fn, *todo) in enumerate(tests, first):
        directive = f" # TODO {todo[0]}" if todo else ""
        if chained and failed and fn not in always:
            fail_all([name], "an earlier step failed", n)
            failed += 1
            continue
        t0 = time.monotonic()
        try:
            skip = fn()
            print(f"ok {n} - {name}" + (f" # {skip}" if skip else directive), flush=True)
        except Exception as e:
            if not todo:
                failed += 1
            print(f"not ok {n} - {name}{directive}")
            for line in traceback.format_exception(e)[-6:]:
                for sub in line.rstrip().splitlines():
                    print(f"# {sub}")
            if server is not None and not server.alive():
                print(f"# server is gone (status {server.proc.returncode})")
            print(f"# ({time.monotonic() - t0:.2f} s)", flush=True)
    if failed and server is not None:
        print("# server log tail:")
        for line in server.tail(30):
            print(f"#   {line}")
    return failed
