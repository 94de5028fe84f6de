#!/usr/bin/env python3
"""The simulator's throughput with the function in the loop, and its memory (BENCHMARKS.md §11).

  sim_bench.py loop [--tasks N] [--workers W]
      Starts the function as `make run` does (cargo lambda watch, real HTTP on PORT) and
      `taskrouter sim serve --clock manual` on SIM_PORT, then times N tasks through
      create → callback → accept, three ways: the function's answer accepts (an `accept`
      instruction); the function answers `{}` and the reservation is accepted over REST; and no
      callback at all (REST accept), the simulator alone. One task at a time, each settled
      (`/sim/clock/advance?seconds=0`) before the next. Prints tasks per second.

  sim_bench.py memory [--workers 1000] [--tasks 10000]
      Starts the simulator with W workers (each available, one task at a time) and no callback
      URL, creates the tasks over REST, and prints its resident memory (VmRSS, VmHWM) before
      and after, with every task open (W reserved, the rest pending).

The processes are those of `make tutorial` (scripts/tutorial.py), stopped however the script
ends. TASKROUTER is the CLI binary (target/debug/taskrouter by default, under CARGO_TARGET_DIR when
set).
"""

import argparse
import base64
import http.client
import json
import os
import signal
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from tutorial import ACCOUNT, ROOT, TOKEN, Failed, Process, request, wait_until

WS = "WS00000000000000000000000000000001"
WW = "WW00000000000000000000000000000001"
WQ = "WQ00000000000000000000000000000001"
LOGIN = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()


def document(workers: int, capacity: int, callback: str | None) -> dict:
    workflow = {
        "sid": WW,
        "friendly_name": "Everyone",
        "configuration": {"task_routing": {"filters": [], "default_filter": {"queue": WQ}}},
    }
    if callback:
        workflow["assignment_callback_url"] = callback
    return {
        "sid": WS,
        "friendly_name": "Bench",
        "default_activity": "Offline",
        "timeout_activity": "Offline",
        "activities": [
            {"sid": "WA00000000000000000000000000000001", "friendly_name": "Offline", "available": False},
            {"sid": "WA00000000000000000000000000000002", "friendly_name": "Available", "available": True},
        ],
        "workers": [
            {
                "sid": f"WK{n:032x}",
                "friendly_name": f"worker{n}",
                "activity": "Available",
                "attributes": {"skills": ["support"], "contact_uri": f"client:worker{n}"},
                "channels": {"default": capacity},
            }
            for n in range(1, workers + 1)
        ],
        "task_queues": [{"sid": WQ, "friendly_name": "Everyone", "target_workers": "1==1"}],
        "workflows": [workflow],
    }


class Sim:
    """`taskrouter sim serve --clock manual` with a document, and a kept-alive connection to it."""

    def __init__(self, port: int, doc: dict, env: dict[str, str]):
        self.file = tempfile.NamedTemporaryFile("w", prefix="sim-bench-", suffix=".json", delete=False)
        json.dump(doc, self.file)
        self.file.close()
        taskrouter = os.environ.get("TASKROUTER") or str(
        Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug" / "taskrouter"
    )
        self.process = Process(
            "simulator",
            [taskrouter, "sim", "serve", "--clock", "manual", "--port", str(port), "--workspace", self.file.name],
            env,
        )
        url = f"http://127.0.0.1:{port}"
        wait_until(
            "the simulator answers",
            self.process,
            lambda: (answer := request(f"{url}/sim/clock")) is not None and answer[0] == 200,
        )
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, dict]:
        body = urllib.parse.urlencode(form) if form else None
        headers = {"Authorization": LOGIN}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read() or b"null")

    def memory_kib(self) -> dict[str, int]:
        status = open(f"/proc/{self.process.child.pid}/status").read()
        return {
            line.split(":")[0]: int(line.split()[1])
            for line in status.splitlines()
            if line.startswith(("VmRSS:", "VmHWM:"))
        }

    def stop(self) -> None:
        self.connection.close()
        self.process.stop()
        os.unlink(self.file.name)


def env(**extra: str) -> dict[str, str]:
    values = dict(os.environ)
    values.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, NO_COLOR="1", **extra)
    return values


def create(sim: Sim) -> str:
    status, task = sim.call(
        "POST", f"/v1/Workspaces/{WS}/Tasks", {"Attributes": '{"type": "support"}', "WorkflowSid": WW}
    )
    if status != 201:
        raise Failed(f"CreateTask answered {status}: {task}")
    return task["sid"]


def settle(sim: Sim) -> None:
    status, body = sim.call("POST", "/sim/clock/advance?seconds=0")
    if status != 200:
        raise Failed(f"advance answered {status}: {body}")


def accept_over_rest(sim: Sim, task: str) -> None:
    status, page = sim.call("GET", f"/v1/Workspaces/{WS}/Tasks/{task}/Reservations?ReservationStatus=pending")
    [reservation] = page["reservations"]
    status, body = sim.call(
        "POST",
        f"/v1/Workspaces/{WS}/Tasks/{task}/Reservations/{reservation['sid']}",
        {"ReservationStatus": "accepted"},
    )
    if status != 200 or body["reservation_status"] != "accepted":
        raise Failed(f"accept answered {status}: {body}")


def run_loop(sim: Sim, tasks: int, rest_accept: bool) -> float:
    """Tasks per second; every task checked assigned at the end."""
    sids = []
    started = time.perf_counter()
    for _ in range(tasks):
        task = create(sim)
        settle(sim)
        if rest_accept:
            accept_over_rest(sim, task)
        sids.append(task)
    elapsed = time.perf_counter() - started
    for task in sids:
        status, body = sim.call("GET", f"/v1/Workspaces/{WS}/Tasks/{task}")
        if body["assignment_status"] != "assigned":
            raise Failed(f"task {task} is {body['assignment_status']}")
    return tasks / elapsed


def loop(args, processes: list) -> None:
    port, sim_port = int(os.environ.get("PORT") or 9000), int(os.environ.get("SIM_PORT") or 4010)
    function_url = f"http://127.0.0.1:{port}"
    callback = f"{function_url}/taskrouter/assignment_callback"
    for name, rules, with_function, rest_accept in [
        ("the function accepts in its answer", {"rules": [], "default": {"instruction": "accept"}}, True, False),
        ("the function answers {}, REST accept", {"rules": []}, True, True),
        ("no callback, REST accept (the simulator alone)", None, False, True),
    ]:
        if with_function:
            function = Process("function", ["make", "run", f"PORT={port}", "LOG_LEVEL=warn"],
                               env(ASSIGNMENT_RULES=json.dumps(rules)))
            processes.append(function)
            wait_until(
                "the function answers",
                function,
                lambda: (answer := request(callback, "POST", auth=False)) is not None and answer[0] == 403,
            )
        sim = Sim(sim_port, document(args.workers, 1000, callback if with_function else None),
                  env(RUST_LOG="warn"))
        processes.append(sim)
        try:
            run_loop(sim, min(20, args.tasks), rest_accept)  # warm-up: first connections, first pages
            rate = run_loop(sim, args.tasks, rest_accept)
        finally:
            processes.remove(sim)
            sim.stop()
            if with_function:
                processes.remove(function)
                function.stop()
        print(f"{name}: {rate:.0f} tasks/s ({args.tasks} tasks, {args.workers} workers)", flush=True)


def memory(args, processes: list) -> None:
    sim_port = int(os.environ.get("SIM_PORT") or 4010)
    sim = Sim(sim_port, document(args.workers, 1, None), env(RUST_LOG="warn"))
    processes.append(sim)
    print(f"{args.workers} workers, no task: {sim.memory_kib()} KiB", flush=True)
    started = time.perf_counter()
    for n in range(1, args.tasks + 1):
        create(sim)
        if n % args.every == 0:
            print(f"  {n} tasks: {sim.memory_kib()} KiB ({time.perf_counter() - started:.1f} s)", flush=True)
    status, pending = sim.call("GET", f"/v1/Workspaces/{WS}/Tasks?AssignmentStatus=pending&PageSize=1000")
    print(f"{args.workers} workers, {args.tasks} open tasks: {sim.memory_kib()} KiB "
          f"(created in {time.perf_counter() - started:.1f} s; a page of pending tasks: "
          f"{len(pending['tasks'])})", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    looped = commands.add_parser("loop")
    looped.add_argument("--tasks", type=int, default=500)
    looped.add_argument("--workers", type=int, default=10)
    memorised = commands.add_parser("memory")
    memorised.add_argument("--workers", type=int, default=1000)
    memorised.add_argument("--tasks", type=int, default=10000)
    memorised.add_argument("--every", type=int, default=2000, help="print the memory every N tasks")
    args = parser.parse_args()
    processes: list = []
    # Stopped by a signal: stop the processes as on any other ending.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        (loop if args.command == "loop" else memory)(args, processes)
        return 0
    except (Failed, KeyError, ValueError) as error:
        print(f"error: {error!r}", file=sys.stderr)
        return 1
    finally:
        for process in reversed(processes):
            process.stop()


if __name__ == "__main__":
    sys.exit(main())
