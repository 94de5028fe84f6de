"""A scripted decider for the tests: verifies each request's X-Twilio-Signature with Twilio's own
helper library, records it, and answers as its script says.

Usage: decider.py PORT. Environment: TWILIO_AUTH_TOKEN (the account's token), DECIDER_SCRIPT (a
JSON list of actions, one per request, the last repeated), DECIDER_LOG (a JSON line per request is
appended), SIM_URL and TWILIO_ACCOUNT_SID (actions that act on the simulator meanwhile).

Actions: "empty" answers {} (not yet); "accept" answers the accept instruction; "advance:N" moves
the simulator's clock N seconds (the reservation times out meanwhile), then answers accept;
"accept-elsewhere" accepts the reservation over REST (the worker in their own UI), then answers a
reject; "fail" answers 500.
"""

import base64
import json
import os
import sys
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

TOKEN = os.environ["TWILIO_AUTH_TOKEN"]
SCRIPT = json.loads(os.environ["DECIDER_SCRIPT"])
LOG = os.environ["DECIDER_LOG"]
SIM = os.environ.get("SIM_URL", "")
ACCOUNT = os.environ.get("TWILIO_ACCOUNT_SID", "")
VALIDATOR = RequestValidator(TOKEN)
REQUESTS = []


def sim_post(path, form):
    request = urllib.request.Request(
        SIM + path, data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    login = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    request.add_header("Authorization", "Basic " + login)
    with urllib.request.urlopen(request) as answer:
        answer.read()


class Decider(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        params = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        url = f"http://127.0.0.1:{self.server.server_port}{self.path}"
        valid = VALIDATOR.validate(url, params, self.headers.get("X-Twilio-Signature", ""))
        action = SCRIPT[min(len(REQUESTS), len(SCRIPT) - 1)]
        REQUESTS.append(action)
        with open(LOG, "a") as log:
            log.write(json.dumps({
                "valid": valid,
                "reservation": params.get("ReservationSid"),
                "deadline": params.get("Deadline"),
                "action": action,
            }) + "\n")
        if not valid:
            return self.answer(403, {"error": "invalid signature"})
        reservation = (
            f"/v1/Workspaces/{params['WorkspaceSid']}/Tasks/{params['TaskSid']}"
            f"/Reservations/{params['ReservationSid']}"
        )
        if action == "empty":
            return self.answer(200, {})
        if action == "fail":
            return self.answer(500, {"error": "down"})
        if action.startswith("advance:"):
            sim_post(f"/sim/clock/advance?seconds={action.split(':')[1]}", {})
            return self.answer(200, {"instruction": "accept"})
        if action == "accept-elsewhere":
            sim_post(reservation, {"ReservationStatus": "accepted"})
            return self.answer(200, {"instruction": "reject", "activity_sid": "WA00000000000000000000000000000001"})
        return self.answer(200, {"instruction": "accept"})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Decider).serve_forever()
