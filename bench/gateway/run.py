"""Gateway benchmark: a small authenticated request through the gateway vs straight to the service.

`uv run python bench/gateway/run.py [--seconds 2.5] [--rounds 3] [--concurrency 16]`
(`make bench-gateway`). In one run: NATS from the wheel, the upstream service (the kit's app)
and four gateways (uvicorn and granian; authentication + rate limits on, or off) as separate
processes. Throughput rounds alternate between the targets so background noise hits all alike;
latency is measured one request at a time, to each target in turn (the added latency, not
queueing). Then microbenchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import loadgen
import micro
import processes
import protocol_micro
from skiff_embedded import EmbeddedNats
from skiff_gateway.authentication import Authenticator, VerifiedTokens

PATH = "/api/v1/sessions/ping"
OPEN_PATH = "/api/v1/auth/oauth/ping"
SERVERS = ("uvicorn", "granian")


def gateway_env(keys: processes.Keys, nats_url: str, upstream: int, *, limited: bool) -> dict:
    base = f"http://127.0.0.1:{upstream}"
    return {
        "SKIFF_LOG_LEVEL": "warning",
        "SKIFF_NATS_URL": nats_url,
        "SKIFF_INTERNAL_PRIVATE_KEY": keys.internal_private,
        "SKIFF_INTERNAL_KEY_ID": "k1",
        "SKIFF_UPSTREAMS": json.dumps({"orchestrator": base, "identity": base}),
        "SKIFF_ACCESS_TOKEN_PUBLIC_KEYS": json.dumps({processes.ACCESS_KEY_ID: keys.access_public}),
        # Limits on, and high enough that the benchmark measures their cost, not refusals.
        "SKIFF_RATELIMIT_ENABLED": "true" if limited else "false",
        "SKIFF_RATELIMIT_KEY_PER_MINUTE": "1000000000",
        "SKIFF_RATELIMIT_USER_PER_HOUR": "1000000000",
    }


def credentials(port: int, keys: processes.Keys) -> tuple[str, dict[str, str]]:
    """An API key when the gateway knows it (its directory view), else an access token."""
    url = f"http://127.0.0.1:{port}{PATH}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if httpx.get(url, headers={"x-api-key": processes.API_KEY}).status_code == 200:
            return "API key (x-api-key)", {"x-api-key": processes.API_KEY}
        time.sleep(0.2)
    return "access token (Bearer)", {"authorization": f"Bearer {keys.access_token()}"}


async def measure(
    targets: dict[str, tuple[int, bytes]], pids: dict[str, int], args: argparse.Namespace
) -> dict:
    """Throughput at a fixed concurrency (rounds interleaved), then one-at-a-time latency.

    Also the CPU time each server process spent per request it served (its own cost, which
    the throughput of the whole chain hides when the service is the slower part).
    """
    for port, request in targets.values():  # warm up: connections, caches, leases
        await loadgen.run("127.0.0.1", port, request, concurrency=args.concurrency, seconds=1)
    rps: dict[str, list[float]] = {name: [] for name in targets}
    statuses: dict[str, dict[int, int]] = {name: {} for name in targets}
    cpu: dict[str, float] = {name: 0.0 for name in targets}
    for _ in range(args.rounds):
        for name, (port, request) in targets.items():
            before = processes.cpu_seconds(pids[name])
            result = await loadgen.run(
                "127.0.0.1", port, request, concurrency=args.concurrency, seconds=args.seconds
            )
            cpu[name] += (processes.cpu_seconds(pids[name]) - before) / max(1, result.count)
            rps[name].append(result.rps)
            for status, count in result.statuses.items():
                statuses[name][status] = statuses[name].get(status, 0) + count
    latency = await loadgen.alternate("127.0.0.1", targets, seconds=args.latency_seconds)
    return {
        name: {
            "rps": statistics.median(rps[name]),
            "p50": latency[name].percentile_ms(0.50),
            "p99": latency[name].percentile_ms(0.99),
            "statuses": statuses[name],
            "cpu_us": cpu[name] / args.rounds * 1e6,
        }
        for name in targets
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.5, help="per throughput sample")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="one at a time")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn", help="for the targets")
    args = parser.parse_args()
    keys = processes.Keys.new()
    with tempfile.TemporaryDirectory() as root, ExitStack() as stack:
        nats_server = EmbeddedNats(Path(root) / "nats", port=processes.free_port())
        nats_server.start()
        stack.callback(nats_server.stop)
        asyncio.run(processes.publish_api_key(nats_server.url))
        service_env = {
            "SKIFF_SERVICE_NAME": "orchestrator",
            "SKIFF_LOG_LEVEL": "warning",
            "SKIFF_INTERNAL_PUBLIC_KEYS": json.dumps({"k1": keys.internal_public}),
        }
        service = stack.enter_context(processes.server(processes.upstream_command(), service_env))
        upstream = service.port
        running: dict[str, processes.Running] = {"direct": service}
        for server_name in SERVERS:
            for limited in (True, False):
                env = gateway_env(keys, nats_server.url, upstream, limited=limited)
                command = processes.gateway_command(server_name)
                name = f"{server_name}:{'auth+limits' if limited else 'bare'}"
                running[name] = stack.enter_context(processes.server(command, env))
        auth_kind, auth_headers = credentials(running["uvicorn:auth+limits"].port, keys)
        internal = {"x-skiff-internal-token": keys.internal_token()}
        targets = {"direct": (upstream, loadgen.build_request(PATH, internal))}
        for name, server in running.items():
            if name == "direct":
                continue
            bare = name.endswith("bare")
            path, headers = (OPEN_PATH, {}) if bare else (PATH, auth_headers)
            targets[name] = (server.port, loadgen.build_request(path, headers))
        print(f"credentials through the gateway: {auth_kind}; concurrency {args.concurrency}")
        pids = {name: server.pid for name, server in running.items()}
        results = asyncio.run(measure(targets, pids, args))
    for name, result in results.items():
        print(
            f"{name:24} {result['rps']:8.0f} req/s   p50 {result['p50']:6.2f} ms"
            f"   p99 {result['p99']:6.2f} ms   own CPU {result['cpu_us']:5.0f} us/req"
            f"   {result['statuses']}"
        )
    decision_ns, answer_ns = micro.ratelimit_decision_ns()
    report_micro(keys, decision_ns, answer_ns)
    uvicorn_ns, guarded_ns = protocol_micro.guard_overhead_ns()
    print(
        "HTTP protocol per request (parse, cycle, keep-alive; no app): "
        f"uvicorn's {uvicorn_ns / 1000:.2f} us, the kit's guarded {guarded_ns / 1000:.2f} us"
    )
    report_servers(results)
    report_targets(results, args.server, decision_ns, (guarded_ns - uvicorn_ns) / 1000)


def report_micro(keys: processes.Keys, decision_ns: float, answer_ns: float) -> None:
    from skiff_gateway.directory.view import DirectoryView

    view = DirectoryView()
    view.apply("apikey.key_bench", processes.msgspec.json.encode(processes.api_key_state()))
    view.loaded = True
    authenticator = Authenticator({processes.ACCESS_KEY_ID: keys.access_public}, view)
    key_ns = micro.key_lookup_ns(authenticator, {"x-api-key": processes.API_KEY}, 50_000)
    token = {"authorization": f"Bearer {keys.access_token()}"}
    token_ns = micro.key_lookup_ns(authenticator, token, 20_000)
    unremembering = Authenticator(
        {processes.ACCESS_KEY_ID: keys.access_public}, view, verified=VerifiedTokens(capacity=0)
    )
    first_token_ns = micro.key_lookup_ns(unremembering, token, 2_000)
    print(f"rate-limit decision (policy + token): {decision_ns / 1000:.2f} us")
    print(f"rate-limit decision + its five headers: {answer_ns / 1000:.2f} us")
    print(
        f"key lookup (Authenticator.authenticate, x-api-key: sha256 + view): {key_ns / 1000:.2f} us"
    )
    print(
        "access token (Authenticator.authenticate, Bearer EdDSA JWT): "
        f"{first_token_ns / 1000:.2f} us verified, {token_ns / 1000:.2f} us remembered"
    )
    for level in ("warning", "info"):
        context_ns = micro.request_context_ns(level)
        print(
            f"request context middleware (X-Request-Id; access line at log level {level}): "
            f"{context_ns / 1000:.2f} us"
        )


def report_servers(results: dict) -> None:
    uv, gr = results["uvicorn:auth+limits"], results["granian:auth+limits"]
    speed = gr["rps"] / uv["rps"]
    print(
        f"granian vs uvicorn (gateway, auth+limits): {speed:.2f}x req/s, "
        f"p50 {gr['p50']:.2f} vs {uv['p50']:.2f} ms, p99 {gr['p99']:.2f} vs {uv['p99']:.2f} ms"
    )
    print(f"  own CPU per request: granian {gr['cpu_us']:.0f} us, uvicorn {uv['cpu_us']:.0f} us")
    clear_win = speed >= 1.15 and gr["p99"] <= uv["p99"]
    print(
        "verdict: granian is clearly faster here"
        if clear_win
        else "verdict: no clear win for granian; the kit's runner keeps uvicorn (uvloop, httptools)"
    )


def report_targets(results: dict, server_name: str, decision_ns: float, guard_us: float) -> None:
    direct = results["direct"]
    full, bare = results[f"{server_name}:auth+limits"], results[f"{server_name}:bare"]
    throughput = full["rps"] / direct["rps"]
    added_p50, added_p99 = full["p50"] - direct["p50"], full["p99"] - direct["p99"]
    keep = full["rps"] / bare["rps"]
    decision_us = decision_ns / 1000
    lines = [
        ("gateway_throughput", f"{throughput:.2f}x direct (goal >= 0.50x)", throughput >= 0.5),
        ("gateway_added_p50", f"{added_p50:.2f} ms (goal <= 1.00 ms)", added_p50 <= 1.0),
        ("gateway_added_p99", f"{added_p99:.2f} ms (goal <= 3.00 ms)", added_p99 <= 3.0),
        (
            "auth_ratelimit_throughput",
            f"{keep:.2f}x gateway without (goal >= 0.85x)",
            keep >= 0.85,
        ),
        ("ratelimit_decision", f"{decision_us:.2f} us (goal < 5.00 us)", decision_us < 5.0),
        # The HTTP limits and timers (skiff_kit.http_protocol), next to uvicorn's own protocol.
        ("http_guard_overhead", f"{guard_us:.2f} us (goal <= 2.00 us)", guard_us <= 2.0),
    ]
    print(
        f"gateway's own CPU per request ({server_name}): {full['cpu_us']:.0f} us with "
        f"authentication + limits, {bare['cpu_us']:.0f} us without "
        f"(the service: {direct['cpu_us']:.0f} us)"
    )
    print(f"(targets measured with the gateway served by {server_name})")
    for name, figure, ok in lines:
        print(f"target {name}: {figure} {'met' if ok else 'missed'}")


if __name__ == "__main__":
    main()
