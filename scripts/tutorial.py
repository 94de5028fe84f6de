#!/usr/bin/env python3
"""`make tutorial`: the tutorial's whole loop on this machine, without a Twilio account.

It starts the function as `make run` starts it (`cargo lambda watch`, real HTTP on PORT) and the
simulator (`taskrouter sim serve --clock manual` on SIM_PORT) with the sample workspace
`workflows/workspace.json` plus a Workflow whose callbacks go to the function, then plays the
tutorial and prints each stage:

  1. a support task created with `taskrouter task create`; the simulator reserves a worker and
     calls the function, whose default rule answers `{}` (decide later); the reservation is
     accepted with `taskrouter reservation accept`: the task is assigned;
  2. a VIP support task: the function's `vip` rule answers with an `accept` instruction, which
     the simulator applies: the task is assigned without a REST call.

Exit status 0 only when both tasks are assigned; 1 otherwise, with the processes' logs. Both
processes (and their children) are stopped however the script ends.

Settings, from the environment: PORT (the function's, 9000), SIM_PORT (the simulator's, 4010),
TASKROUTER (the CLI binary, target/debug/taskrouter under CARGO_TARGET_DIR when set, which `make
tutorial` builds first).
"""

import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Any `AC…` SID and any token will do: the simulator signs its callbacks with the token and the
# function (`make run`) verifies them with the same development token.
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TOKEN = "local-dev-token"
WORKFLOW = "WW00000000000000000000000000000001"
# The sample workspace's queues (workflows/workspace.json).
JUST_SUPPORT = "WQ00000000000000000000000000000001"
EVERYONE = "WQ00000000000000000000000000000003"
# The function's rules: VIP tasks are accepted in the callback's answer, everything else is
# deferred by the default `{}`.
RULES = {
    "description": "The tutorial: VIP tasks are accepted at once; the others wait for a decision over REST.",
    "rules": [{"name": "vip", "when": "vip == true", "instruction": {"instruction": "accept"}}],
}
# How long the function and the simulator may take to answer for the first time.
START_TIMEOUT_S = 120
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Failed(Exception):
    """A stage did not end as the tutorial says it should."""


def stage(text: str) -> None:
    print(f"==> {text}", flush=True)


def detail(text: str) -> None:
    for line in text.rstrip("\n").splitlines():
        print(f"    {line}", flush=True)


class Process:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"tutorial-{name}-", suffix=".log", delete=False)
        self.child = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return ANSI.sub("", Path(self.log.name).read_text(errors="replace"))

    def running(self) -> bool:
        return self.child.poll() is None

    def stop(self) -> None:
        """Stops the whole group (cargo lambda watch runs the function as its grandchild)."""
        for sig, wait_s in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.child.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.child.wait(timeout=wait_s)
                # The group may outlive its leader by a moment; a second signal reaches the rest.
                os.killpg(self.child.pid, signal.SIGKILL)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        self.log.close()
        os.unlink(self.log.name)


def request(url: str, method: str = "GET", form: dict[str, str] | None = None, auth: bool = True):
    """One HTTP request; (status, body as JSON or text), or None when nothing answered."""
    data = urllib.parse.urlencode(form).encode() if form else (b"" if method == "POST" else None)
    req = urllib.request.Request(url, data=data, method=method)
    if auth:
        login = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        req.add_header("Authorization", f"Basic {login}")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def wait_until(what: str, process: Process, ready) -> None:
    started = time.monotonic()
    while not ready():
        if not process.running():
            raise Failed(f"{process.name} stopped before {what}")
        if time.monotonic() - started > START_TIMEOUT_S:
            raise Failed(f"{what}: nothing within {START_TIMEOUT_S} s")
        time.sleep(0.2)


def workspace_document(function_url: str) -> dict:
    """workflows/workspace.json with a Workflow whose callbacks go to the function."""
    document = json.loads((ROOT / "workflows" / "workspace.json").read_text())
    document["friendly_name"] = "Tutorial"
    document["event_callback_url"] = f"{function_url}/taskrouter/events"
    callback = f"{function_url}/taskrouter/assignment_callback"
    document["workflows"] = [
        {
            "sid": WORKFLOW,
            "friendly_name": "Tutorial",
            "assignment_callback_url": callback,
            "fallback_assignment_callback_url": callback,
            "task_reservation_timeout": 120,
            "configuration": {
                "task_routing": {
                    "filters": [
                        {
                            "filter_friendly_name": "support",
                            "expression": "type == 'support'",
                            "targets": [{"queue": JUST_SUPPORT}],
                        }
                    ],
                    "default_filter": {"queue": EVERYONE},
                }
            },
        }
    ]
    return document


class Tutorial:
    def __init__(self, port: int, sim_port: int, taskrouter: str):
        self.function_url = f"http://127.0.0.1:{port}"
        self.sim_url = f"http://127.0.0.1:{sim_port}"
        self.port = port
        self.sim_port = sim_port
        self.taskrouter = taskrouter
        self.workspace = None
        self.processes: list[Process] = []
        self.document = None

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN=TOKEN, NO_COLOR="1", **extra)
        # The CLI's other credentials would win over the token (an API key): not here.
        env.pop("TWILIO_API_KEY", None)
        env.pop("TWILIO_API_SECRET", None)
        return env

    def start(self) -> None:
        stage(f"starting the function as `make run` does, on {self.function_url}")
        function = Process(
            "function",
            ["make", "run", f"PORT={self.port}", "LOG_LEVEL=info"],
            self.env(ASSIGNMENT_RULES=json.dumps(RULES)),
        )
        self.processes.append(function)
        # An unsigned request is refused with 403 once the function itself answers.
        wait_until(
            "the function answers",
            function,
            lambda: (answer := request(f"{self.function_url}/taskrouter/assignment_callback", "POST", auth=False))
            is not None
            and answer[0] == 403,
        )
        detail(f"rules: `vip` (vip == true) accepts; anything else gets the default {{}}")

        self.document = tempfile.NamedTemporaryFile(
            "w", prefix="tutorial-workspace-", suffix=".json", delete=False
        )
        document = workspace_document(self.function_url)
        self.workspace = document["sid"]
        json.dump(document, self.document, indent=2)
        self.document.close()
        stage(f"starting the simulator with a manual clock on {self.sim_url}")
        sim = Process(
            "simulator",
            [self.taskrouter, "sim", "serve", "--clock", "manual", "--port", str(self.sim_port),
             "--workspace", self.document.name],
            self.env(RUST_LOG="info"),
        )
        self.processes.append(sim)
        wait_until(
            "the simulator answers",
            sim,
            lambda: (answer := request(f"{self.sim_url}/sim/clock")) is not None and answer[0] == 200,
        )
        detail(
            f"workspace {self.workspace} (workflows/workspace.json), Workflow {WORKFLOW}: "
            f"support tasks to Just Support, the rest to Everyone; callbacks to {self.function_url}"
        )

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        if self.document is not None:
            os.unlink(self.document.name)

    def cli(self, *args: str) -> str:
        shown = " ".join(a if " " not in a and "{" not in a else f"'{a}'" for a in args)
        stage(f"taskrouter {shown}")
        done = subprocess.run(
            [self.taskrouter, *args],
            cwd=ROOT,
            env=self.env(TASKROUTER_API_URL=self.sim_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        detail(done.stdout)
        if done.returncode != 0:
            raise Failed(f"taskrouter {args[0]} {args[1]} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def get(self, path: str) -> dict:
        answer = request(f"{self.sim_url}/v1/Workspaces/{self.workspace}{path}")
        if answer is None or answer[0] != 200:
            raise Failed(f"GET {path}: {answer}")
        return answer[1]

    def settle(self) -> None:
        """Delivers the callbacks due now and applies their answers."""
        stage(
            f"curl -u \"$TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN\" -X POST "
            f"'{self.sim_url}/sim/clock/advance?seconds=0'   (deliver the callbacks due now)"
        )
        answer = request(f"{self.sim_url}/sim/clock/advance?seconds=0", "POST")
        if answer is None or answer[0] != 200:
            raise Failed(f"advance: {answer}")

    def create(self, attributes: str) -> str:
        stdout = self.cli(
            "task", "create", "--workspace", self.workspace, "--workflow", WORKFLOW,
            "--attributes", attributes,
        )
        match = re.search(r"^task:\s+(WT\w+)", stdout, re.MULTILINE)
        if match is None:
            raise Failed(f"no task SID in: {stdout}")
        return match.group(1)

    def reservations(self, task: str) -> list[dict]:
        return self.get(f"/Tasks/{task}/Reservations")["reservations"]

    def status(self, task: str) -> str:
        return self.get(f"/Tasks/{task}")["assignment_status"]

    def answers(self) -> list[str]:
        """The function's `assignment answered` lines so far."""
        return [
            line.strip()
            for line in self.processes[0].output().splitlines()
            if "assignment answered" in line
        ]

    def play(self) -> tuple[str, str]:
        # 1. Deferred, then accepted over REST.
        first = self.create('{"type": "support"}')
        self.settle()
        [reservation] = self.reservations(first)
        detail(
            f"reservation {reservation['sid']} for {reservation['worker_name']}: "
            f"{reservation['reservation_status']}"
        )
        if reservation["reservation_status"] != "pending":
            raise Failed(f"the function's {{}} should leave the reservation pending: {reservation}")
        detail("the function answered {} (decide later):")
        detail("\n".join(self.answers()[-1:]))
        self.cli(
            "reservation", "accept", "--workspace", self.workspace, "--task", first,
            "--reservation", reservation["sid"],
        )
        status = self.status(first)
        stage(f"task {first}: {status}")
        if status != "assigned":
            raise Failed(f"task {first} is {status}, not assigned")

        # 2. Accepted by the function's instruction.
        second = self.create('{"type": "support", "vip": true}')
        self.settle()
        [reservation] = self.reservations(second)
        detail(
            f"reservation {reservation['sid']} for {reservation['worker_name']}: "
            f"{reservation['reservation_status']}"
        )
        detail('the function answered {"instruction": "accept"} (rule `vip`):')
        detail("\n".join(self.answers()[-1:]))
        status = self.status(second)
        stage(f"task {second}: {status}")
        if status != "assigned":
            raise Failed(f"task {second} is {status}, not assigned")
        return first, second


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    port = int(os.environ.get("PORT") or 9000)
    sim_port = int(os.environ.get("SIM_PORT") or 4010)
    taskrouter = os.environ.get("TASKROUTER") or str(
        Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug" / "taskrouter"
    )
    if not os.access(taskrouter, os.X_OK):
        print(f"error: no {taskrouter}: build it with `cargo build --bins` (make tutorial does)", file=sys.stderr)
        return 1
    for name, number in (("PORT", port), ("SIM_PORT", sim_port)):
        if port_in_use(number):
            print(
                f"error: port {number} is in use (a `make run` or a simulator already running?): "
                f"stop it, or choose another with {name}=",
                file=sys.stderr,
            )
            return 1
    tutorial = Tutorial(port, sim_port, taskrouter)
    # Stopped by a signal (Ctrl-C, a test's timeout): clean up as on any other ending.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        tutorial.start()
        first, second = tutorial.play()
        stage(f"done: both tasks assigned ({first} over REST, {second} by the function's instruction)")
        return 0
    except (Failed, KeyboardInterrupt, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        for process in tutorial.processes:
            print(f"--- {process.name} ---\n{process.output()[-4000:]}", file=sys.stderr)
        return 1
    finally:
        tutorial.stop()


if __name__ == "__main__":
    sys.exit(main())
