"""Start-to-ready time of the function binary with and without a rule that defers: the cost of
loading the AWS SDK configuration and building the SQS client, which only a deferring rule pays
(BENCHMARKS.md, "Deferred decisions"). Needs `moto_server -p 5055` and the two rules files that
BENCHMARKS.md shows in /tmp; builds nothing: run `cargo build` first.
"""
import os, subprocess, sys, time, statistics
binary = "target/debug/taskrouter-lambda"
def run(extra):
    env = {"PATH": os.environ["PATH"], "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9", "AWS_LAMBDA_FUNCTION_NAME": "f",
           "AWS_LAMBDA_LOG_FORMAT": "JSON", "TWILIO_AUTH_TOKEN": "local-dev-token", **extra}
    t = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in p.stdout:
        if '"ready"' in line:
            dt = (time.perf_counter() - t) * 1000
            break
    p.kill(); p.wait()
    return dt
moto = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5055", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "DEFERRED_QUEUE_URL": "http://127.0.0.1:5055/123456789012/deferred"}
cases = {"no defer rule": {**moto, "ASSIGNMENT_RULES_FILE": "/tmp/accept-all.json"},
         "a defer rule": {**moto, "ASSIGNMENT_RULES_FILE": "/tmp/defer-all.json"}}
for _ in range(3): run(cases["no defer rule"])
for name, extra in cases.items():
    times = sorted(run(extra) for _ in range(30))
    print(f"{name}: start to ready p50 {statistics.median(times):.1f} ms, min {times[0]:.1f}, max {times[-1]:.1f} (n=30)")
