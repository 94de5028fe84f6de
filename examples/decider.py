"""A tiny decider for a rules document's `defer` (docs/defer.md): the service the decider
function asks about each deferred reservation.

It receives what an assignment callback receives (the same form parameters, plus `Deadline`, the
RFC 3339 instant after which the rule's `otherwise` is applied), signed with X-Twilio-Signature by
the account's auth token, and answers what an assignment callback answers: an instruction, or `{}`
for "not yet, ask me again". Here the slow work is a stand-in: a premium customer is accepted, any
other task is rejected into the activity REJECT_ACTIVITY_SID, and a task whose customer is not
known yet gets `{}`.

Run: TWILIO_AUTH_TOKEN=... python3 examples/decider.py 8081
Behind a tunnel or a proxy, set PUBLIC_URL to the URL the rule's `decider` names, since the
signature covers the URL exactly as the decider function called it.
"""

import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

VALIDATOR = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
PUBLIC_URL = os.environ.get("PUBLIC_URL")
REJECT_ACTIVITY_SID = os.environ.get("REJECT_ACTIVITY_SID", "WA00000000000000000000000000000001")


def decide(params):
    """The slow part: a CRM look-up, a fraud check, a supervisor's approval..."""
    attributes = json.loads(params.get("TaskAttributes") or "{}")
    tier = attributes.get("customer_tier")
    if tier is None:
        return {}
    if tier == "premium":
        return {"instruction": "accept"}
    return {"instruction": "reject", "activity_sid": REJECT_ACTIVITY_SID}


class Decider(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        params = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        url = PUBLIC_URL or f"http://{self.headers.get('Host')}{self.path}"
        if not VALIDATOR.validate(url, params, self.headers.get("X-Twilio-Signature", "")):
            return self.answer(403, {"error": "invalid signature"})
        self.answer(200, decide(params))

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
    print(f"decider: POST http://127.0.0.1:{port}/", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Decider).serve_forever()
