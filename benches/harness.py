#!/usr/bin/env python3
"""Whole-process figures for gatecheck, measured with the standard library only.

1. Start-up to first request: from spawning `gatecheck run` (shipped suites) to the first TCP
   connection reaching a listener that stands in for the target (suite load, plan, schema and
   client set-up included).
2. Throughput: a generated 1,000-case suite against the reference gateway (`gatecheck serve`,
   a separate process) at `--jobs 16`: cases per second, the harness's CPU time per case (user +
   system of the `gatecheck run` process, so the server's work is not counted), the server's CPU
   time per case, and the harness's peak resident memory.

Usage (from the repository root):
    cargo build --release && python3 benches/harness.py [--binary target/release/gatecheck]
"""

import argparse
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CASES_PER_TEMPLATE = 100

TEMPLATES = """\
  - name: plain
    parametrize: {i: %(range)s}
    request:
      path: /chat/completions
      body: {model: '${model}', messages: [{role: user, content: 'Say hello ${i}.'}]}
  - name: system
    parametrize: {i: %(range)s}
    request:
      path: /chat/completions
      body: {model: '${model}', messages: [{role: system, content: Be brief.}, {role: user, content: 'Count to ${i}.'}]}
  - name: tools
    parametrize: {i: %(range)s}
    request:
      path: /chat/completions
      body:
        model: '${model}'
        messages: [{role: user, content: 'Use get_weather for city ${i}.'}]
        tools: [{type: function, function: {name: get_weather, parameters: {type: object, properties: {city: {type: string}}, required: [city]}}}]
    expect: {tool_args_valid: true}
  - name: json
    parametrize: {i: %(range)s}
    request:
      path: /chat/completions
      body: {model: '${model}', response_format: {type: json_object}, messages: [{role: user, content: 'JSON for ${i}.'}]}
    expect: {content_is_json: true}
  - name: n_two
    parametrize: {i: %(range)s}
    request:
      path: /chat/completions
      body: {model: '${model}', n: 2, messages: [{role: user, content: 'Fruit ${i}.'}]}
  - name: stop
    parametrize: {i: %(range)s}
    request:
      path: /chat/completions
      body: {model: '${model}', stop: STOP, messages: [{role: user, content: 'a b STOP ${i}'}]}
  - name: max_tokens
    parametrize: {i: %(range)s}
    request:
      path: /chat/completions
      body: {model: '${model}', max_tokens: 3, messages: [{role: user, content: 'one two three four ${i}'}]}
  - name: unknown_model
    parametrize: {i: %(range)s}
    request:
      path: /chat/completions
      body: {model: 'no-such-model-${i}', messages: [{role: user, content: hi}]}
    expect: {error: unknown_model}
  - name: models
    parametrize: {i: %(range)s}
    request: {path: '/models?i=${i}'}
  - name: retrieve
    parametrize: {i: %(range)s}
    request: {path: '/models/${model}?i=${i}'}
"""


def generated_suite(directory):
    path = os.path.join(directory, "bench.yaml")
    values = "[" + ", ".join(str(i) for i in range(CASES_PER_TEMPLATE)) + "]"
    with open(path, "w") as f:
        f.write("suite: bench\ncases:\n" + TEMPLATES % {"range": values})
    return path


def startup_to_first_request(binary, runs):
    samples = []
    for _ in range(runs):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        start = time.perf_counter()
        child = subprocess.Popen(
            [binary, "run", "--target", f"t=http://127.0.0.1:{port}/v1", "--model", "m", "--jobs", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        conn, _ = listener.accept()
        samples.append((time.perf_counter() - start) * 1000)
        child.kill()
        child.wait()
        conn.close()
        listener.close()
    return samples


def start_server(binary):
    env = dict(os.environ, GATECHECK_BENCH_KEY="sk-bench")
    server = subprocess.Popen(
        [binary, "serve", "--port", "0", "--api-key-env", "GATECHECK_BENCH_KEY", "--profile", "openai"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    line = server.stdout.readline()
    url = next(w for w in line.split() if w.startswith("http://")).rstrip("):,")
    return server, url


def run_suite(binary, suite, url, jobs, scratch):
    """Runs the suite; returns wall seconds, cases, and the run's own rusage (via wait4)."""
    env = dict(os.environ, OPENAI_API_KEY="sk-bench")
    out_path = os.path.join(scratch, "out.jsonl")
    with open(out_path, "wb") as out, open(os.path.join(scratch, "err.txt"), "wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            [binary, "run", suite, "--target", f"ref={url}", "--model", "gatecheck-echo",
             "--jobs", str(jobs), "--format", "json",
             "--snapshots", os.path.join(scratch, "snapshots"), "--update", "always"],
            stdout=out,
            stderr=err,
            env=env,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    with open(out_path) as f:
        cases = sum(1 for _ in f)
    if os.waitstatus_to_exitcode(status) != 0 or cases != 10 * CASES_PER_TEMPLATE:
        with open(os.path.join(scratch, "err.txt")) as f:
            sys.exit(f"run failed (exit {os.waitstatus_to_exitcode(status)}, {cases} cases): {f.read()[:2000]}")
    return wall, cases, usage


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/release/gatecheck")
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} is missing: run `cargo build --release` first")

    starts = startup_to_first_request(args.binary, 15)
    print(f"start-up to first request: median {statistics.median(starts):.1f} ms, "
          f"min {min(starts):.1f} ms, max {max(starts):.1f} ms (15 runs, shipped suites)")

    with tempfile.TemporaryDirectory() as tmp:
        suite = generated_suite(tmp)
        server, url = start_server(args.binary)
        try:
            run_suite(args.binary, suite, url, args.jobs, tmp)  # warm-up
            results = [run_suite(args.binary, suite, url, args.jobs, tmp) for _ in range(args.runs)]
        finally:
            server.send_signal(signal.SIGINT)
            _, _, served = os.wait4(server.pid, 0)
    cases = results[0][1]
    rates = [cases / wall for wall, _, _ in results]
    cpu_ms = [(u.ru_utime + u.ru_stime) / cases * 1000 for _, _, u in results]
    peak = max(u.ru_maxrss for _, _, u in results) / 1024
    server_cpu_ms = (served.ru_utime + served.ru_stime) / (cases * (args.runs + 1)) * 1000
    print(f"throughput at --jobs {args.jobs}, {cases} cases: median {statistics.median(rates):.0f} cases/s "
          f"(min {min(rates):.0f}, max {max(rates):.0f}; {args.runs} runs)")
    print(f"harness CPU per case (the gatecheck run process, user+sys): median {statistics.median(cpu_ms):.3f} ms")
    print(f"server CPU per case (the gatecheck serve process): {server_cpu_ms:.3f} ms")
    print(f"peak resident memory of gatecheck run: {peak:.1f} MiB")
    print(f"cores on this machine: {os.cpu_count()}")


if __name__ == "__main__":
    main()
