"""Twilio's Python helper library driving `taskrouter sim serve`, unchanged but for its base URL.

Run by tests/function/sim/python_client.rs with SIM_URL, TWILIO_ACCOUNT_SID and
TWILIO_AUTH_TOKEN set; prints one JSON object of what it saw, which the test checks against the
simulator's own state.
"""

import json
import os

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

client = Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])
# The library joins this base URL and the resource's path (twilio/base/domain.py), as it does
# with https://taskrouter.twilio.com: the only change.
client.taskrouter.base_url = os.environ["SIM_URL"]
taskrouter = client.taskrouter.v1

seen = {}

workspace = taskrouter.workspaces.create(friendly_name="From Python")
ws = taskrouter.workspaces(workspace.sid)
activities = {activity.friendly_name: activity for activity in ws.activities.list()}
seen["default_activities"] = sorted(activities)
brk = ws.activities.create(friendly_name="Break", available=False)
seen["break"] = {"sid": brk.sid[:2], "available": brk.available}

workers = {}
for name, skills, activity in [
    ("alice", ["support"], activities["Available"].sid),
    ("bob", ["support", "sales"], activities["Available"].sid),
    ("carol", ["support"], brk.sid),
]:
    worker = ws.workers.create(
        friendly_name=name,
        attributes=json.dumps({"skills": skills, "contact_uri": f"client:{name}"}),
        activity_sid=activity,
    )
    workers[name] = worker.sid
seen["workers"] = sorted(workers)

queue = ws.task_queues.create(
    friendly_name="Support",
    target_workers="skills HAS 'support'",
    max_reserved_workers=1,
    task_order="FIFO",
)
seen["queue"] = {"target_workers": queue.target_workers, "max_reserved_workers": queue.max_reserved_workers}
workflow = ws.workflows.create(
    friendly_name="Support",
    configuration=json.dumps(
        {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
    ),
    task_reservation_timeout=60,
)
seen["workflow"] = {"task_reservation_timeout": workflow.task_reservation_timeout}

# A task, reserved at once; its reservation accepted through the task.
first = ws.tasks.create(
    attributes=json.dumps({"type": "support"}),
    workflow_sid=workflow.sid,
    priority=5,
    timeout=3600,
    task_channel="default",
)
reservations = ws.tasks(first.sid).reservations.list()
seen["first_reservations"] = [(r.worker_name, r.reservation_status) for r in reservations]
accepted = ws.tasks(first.sid).reservations(reservations[0].sid).update(reservation_status="accepted")
seen["accepted"] = accepted.reservation_status
fetched = ws.tasks(first.sid).fetch()
seen["first"] = {
    "sid": first.sid,
    "created_status": first.assignment_status,
    "status": fetched.assignment_status,
    "priority": fetched.priority,
    "queue": fetched.task_queue_friendly_name,
}

# Twilio's error JSON becomes the library's exception: the reservation is no longer pending.
try:
    ws.tasks(first.sid).reservations(reservations[0].sid).update(reservation_status="rejected")
    seen["late_reject"] = "accepted by the simulator"
except TwilioRestException as error:
    seen["late_reject"] = {"status": error.status, "code": error.code}

# A second task, found and rejected through the other worker's reservations, into Break.
second = ws.tasks.create(attributes=json.dumps({"type": "support"}), workflow_sid=workflow.sid)
other = next(name for name in workers if name not in ("carol", reservations[0].worker_name))
pending = ws.workers(workers[other]).reservations.list(reservation_status="pending")
seen["pending_of_other"] = [r.task_sid == second.sid for r in pending]
rejected = ws.workers(workers[other]).reservations(pending[0].sid).update(
    reservation_status="rejected", worker_activity_sid=brk.sid
)
seen["rejected"] = rejected.reservation_status
seen["other_activity"] = ws.workers(workers[other]).fetch().activity_name
seen["second_status"] = ws.tasks(second.sid).fetch().assignment_status

# Pages followed by the library through meta.next_page_url.
seen["workers_paged"] = sorted(w.friendly_name for w in ws.workers.list(page_size=1))
seen["pending_tasks"] = [t.sid == second.sid for t in ws.tasks.list(assignment_status=["pending"])]

# The first task completed, then its events read back.
done = ws.tasks(first.sid).update(assignment_status="completed", reason="resolved")
seen["completed"] = done.assignment_status
seen["events"] = [event.event_type for event in ws.events.list(task_sid=first.sid)]
seen["event_fetched"] = ws.events(ws.events.list(task_sid=first.sid, limit=1)[0].sid).fetch().event_type

print(json.dumps(seen))
