#!/usr/bin/env python3
"""Judging a 1 GiB stream from a local server in bounded memory.

A small server on 127.0.0.1 (standard library only) answers one streamed chat completion with
about 1 GiB of typical OpenAI chunks; `gatecheck run` judges it end to end (transport, SSE
decoder, JSON, chunk schema, sequence rules, reassembly, SDK emulation) and the script reports
the wall time, the throughput and the peak resident memory of the gatecheck process.

Usage (from the repository root):
    cargo build --release && python3 benches/stream_memory.py [--gib 1] [--binary target/release/gatecheck]
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

CHUNK = (
    'data: {"id":"chatcmpl-MEMORY0123456789abcdefghi","object":"chat.completion.chunk",'
    '"created":1741570283,"model":"gpt-4o-mini-2024-07-18","service_tier":"default",'
    '"system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":"%s"},'
    '"logprobs":null,"finish_reason":null}]}\n\n'
)
FIRST = CHUNK.replace('{"content":"%s"}', '{"role":"assistant","content":"","refusal":null}')
LAST = CHUNK.replace('{"content":"%s"}', "{}").replace('"finish_reason":null', '"finish_reason":"stop"')
WORDS = ["Hello", " there", ",", " how", " can", " I", " help", " you", " today", "?"]


def block(size):
    parts, n, i = [], 0, 0
    while n < size:
        part = CHUNK % WORDS[i % len(WORDS)]
        parts.append(part)
        n += len(part)
        i += 1
    return "".join(parts).encode()


def serve(listener, total):
    conn, _ = listener.accept()
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(65536)
        head, _, rest = request.partition(b"\r\n\r\n")
        length = next(
            (int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")), 0
        )
        while len(rest) < length:
            rest += conn.recv(65536)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nconnection: close\r\n\r\n"
        )
        conn.sendall(FIRST.encode())
        body = block(1 << 20)
        sent = 0
        while sent < total:
            conn.sendall(body)
            sent += len(body)
        conn.sendall(LAST.encode() + b"data: [DONE]\n\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/release/gatecheck")
    parser.add_argument("--gib", type=float, default=1.0)
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} is missing: run `cargo build --release` first")
    total = int(args.gib * (1 << 30))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    threading.Thread(target=serve, args=(listener, total), daemon=True).start()

    with tempfile.TemporaryDirectory() as tmp:
        suite = os.path.join(tmp, "memory.yaml")
        with open(suite, "w") as f:
            f.write(
                "suite: memory\ncases:\n  - name: one_gib_stream\n    request:\n      path: /chat/completions\n"
                "      body: {model: '${model}', stream: true, messages: [{role: user, content: hi}]}\n"
            )
        out_path = os.path.join(tmp, "out.jsonl")
        with open(out_path, "wb") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(
                [args.binary, "run", suite, "--target", f"big=http://127.0.0.1:{port}/v1", "--model", "m",
                 "--format", "json", "--timeout", "900s", "--max-stream-bytes", str(total + (64 << 20)),
                 "--max-events", "100000000", "--no-discover", "--update", "no",
                 "--html", os.path.join(tmp, "report.html")],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        with open(out_path) as f:
            result = f.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or '"outcome":"pass"' not in result:
        sys.exit(f"the run did not pass (exit {code}): {result[:2000]}")
    mib = total / (1 << 20)
    print(f"judged a {mib:.0f} MiB stream in {wall:.2f} s: {total / wall / 1e6:.0f} MB/s end to end")
    print(f"peak resident memory of gatecheck run: {usage.ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
