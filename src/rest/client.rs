//! The TaskRouter operations (docs/taskrouter.md §7), one method each, named after their
//! `operationId` in Twilio's OpenAPI description.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::instruction::Instruction;
use crate::sid::{ReservationSid, TaskSid, WorkerSid, WorkflowSid, WorkspaceSid};

use super::config::RestConfig;
use super::resources::{
    MAX_PAGE_SIZE, NewTask, Reservation, Task, TaskFilter, TaskUpdate, Worker, WorkerFilter,
    WorkerUpdate, Workflow, WorkflowUpdate, Workspace, WorkspaceUpdate,
};
use super::transport::{Replay, Request, RestError, RetryPolicy, Transport};

/// A typed answer and the JSON it was read from (printed by `--json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    /// What the commands use.
    pub resource: T,
    /// Twilio's whole answer.
    pub json: Value,
}

/// The resources of a list operation, page after page up to a limit, and the JSON of each.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// What the commands use.
    pub resources: Vec<T>,
    /// Each resource as Twilio answered it (printed by `--json`).
    pub json: Vec<Value>,
    /// Whether Twilio had more than the limit.
    pub truncated: bool,
}

/// The path a reservation is reached by: through its task or through its worker. Both lead to
/// the same reservation (`…Tasks/{WT}/Reservations/{WR}`, `…Workers/{WK}/Reservations/{WR}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservationOf {
    /// `UpdateTaskReservation` / `FetchTaskReservation`.
    Task(TaskSid),
    /// `UpdateWorkerReservation` / `FetchWorkerReservation`.
    Worker(WorkerSid),
}

/// The TaskRouter REST client.
#[derive(Debug)]
pub struct Client {
    transport: Transport,
}

impl Client {
    /// A client for `config` with the default [`RetryPolicy`].
    ///
    /// # Errors
    ///
    /// [`RestError::NoRootCertificates`] for an https base URL on a system without root
    /// certificates.
    pub fn new(config: &RestConfig) -> Result<Self, RestError> {
        Self::with_policy(config, RetryPolicy::default())
    }

    /// A client with its own timeouts and retries.
    ///
    /// # Errors
    ///
    /// As [`Client::new`].
    pub fn with_policy(config: &RestConfig, policy: RetryPolicy) -> Result<Self, RestError> {
        Ok(Self {
            transport: Transport::new(config, policy)?,
        })
    }

    /// This client sending one more header with every request (see
    /// [`Transport::with_header`]).
    #[must_use]
    pub fn with_header(self, name: &str, value: &str) -> Self {
        Self {
            transport: self.transport.with_header(name, value),
        }
    }

    /// The transport, for requests no typed method makes (tests of deliberate mistakes).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// `FetchTaskReservation` / `FetchWorkerReservation`.
    ///
    /// # Errors
    ///
    /// [`RestError`] as [`Transport::send`] says, or [`RestError::Decode`].
    pub fn fetch_reservation(
        &self,
        workspace: &WorkspaceSid,
        of: &ReservationOf,
        reservation: &ReservationSid,
    ) -> Result<Answer<Reservation>, RestError> {
        self.call(Request::get(reservation_path(workspace, of, reservation)))
    }

    /// `UpdateTaskReservation` / `UpdateWorkerReservation` with an instruction written as REST
    /// form parameters ([`Instruction::to_form`]).
    ///
    /// A refusal (the reservation is no longer pending) comes back as [`RestError::Api`]; the
    /// caller decides whether to fetch the reservation (the `reservation` command does).
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn update_reservation(
        &self,
        workspace: &WorkspaceSid,
        of: &ReservationOf,
        reservation: &ReservationSid,
        instruction: &Instruction,
    ) -> Result<Answer<Reservation>, RestError> {
        self.call(Request::post(
            reservation_path(workspace, of, reservation),
            instruction.to_form(),
            replay_of(instruction),
        ))
    }

    /// `CreateTask` (answered `201`). Not repeated when its outcome is unknown: that could
    /// create a second task.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn create_task(
        &self,
        workspace: &WorkspaceSid,
        task: &NewTask,
    ) -> Result<Answer<Task>, RestError> {
        self.call(Request::post(
            format!("{}/Tasks", workspace_path(workspace)),
            task.to_form(),
            Replay::Unsafe,
        ))
    }

    /// `FetchTask`.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn fetch_task(
        &self,
        workspace: &WorkspaceSid,
        task: &TaskSid,
    ) -> Result<Answer<Task>, RestError> {
        self.call(Request::get(task_path(workspace, task)))
    }

    /// `UpdateTask`.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn update_task(
        &self,
        workspace: &WorkspaceSid,
        task: &TaskSid,
        update: &TaskUpdate,
    ) -> Result<Answer<Task>, RestError> {
        self.call(Request::post(
            task_path(workspace, task),
            update.to_form(),
            Replay::Safe,
        ))
    }

    /// `ListTask`: up to `limit` tasks matching `filter`, following Twilio's pages.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn list_tasks(
        &self,
        workspace: &WorkspaceSid,
        filter: &TaskFilter,
        limit: u32,
    ) -> Result<Listing<Task>, RestError> {
        let path = format!("{}/Tasks", workspace_path(workspace));
        self.list(&path, &filter.to_query(page_size(limit)), "tasks", limit)
    }

    /// `ListWorker`: up to `limit` workers matching `filter`, following Twilio's pages.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn list_workers(
        &self,
        workspace: &WorkspaceSid,
        filter: &WorkerFilter,
        limit: u32,
    ) -> Result<Listing<Worker>, RestError> {
        let path = format!("{}/Workers", workspace_path(workspace));
        self.list(&path, &filter.to_query(page_size(limit)), "workers", limit)
    }

    /// `FetchWorker`.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn fetch_worker(
        &self,
        workspace: &WorkspaceSid,
        worker: &WorkerSid,
    ) -> Result<Answer<Worker>, RestError> {
        self.call(Request::get(worker_path(workspace, worker)))
    }

    /// `UpdateWorker`. Safe to repeat: it sets an activity, and a worker moved to an unavailable
    /// one gets no new reservation to reject a second time.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn update_worker(
        &self,
        workspace: &WorkspaceSid,
        worker: &WorkerSid,
        update: &WorkerUpdate,
    ) -> Result<Answer<Worker>, RestError> {
        self.call(Request::post(
            worker_path(workspace, worker),
            update.to_form(),
            Replay::Safe,
        ))
    }

    /// `FetchWorkflow`.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn fetch_workflow(
        &self,
        workspace: &WorkspaceSid,
        workflow: &WorkflowSid,
    ) -> Result<Answer<Workflow>, RestError> {
        self.call(Request::get(workflow_path(workspace, workflow)))
    }

    /// `UpdateWorkflow`.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn update_workflow(
        &self,
        workspace: &WorkspaceSid,
        workflow: &WorkflowSid,
        update: &WorkflowUpdate,
    ) -> Result<Answer<Workflow>, RestError> {
        self.call(Request::post(
            workflow_path(workspace, workflow),
            update.to_form(),
            Replay::Safe,
        ))
    }

    /// `FetchWorkspace`.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn fetch_workspace(
        &self,
        workspace: &WorkspaceSid,
    ) -> Result<Answer<Workspace>, RestError> {
        self.call(Request::get(workspace_path(workspace)))
    }

    /// `UpdateWorkspace`.
    ///
    /// # Errors
    ///
    /// As [`Client::fetch_reservation`].
    pub fn update_workspace(
        &self,
        workspace: &WorkspaceSid,
        update: &WorkspaceUpdate,
    ) -> Result<Answer<Workspace>, RestError> {
        self.call(Request::post(
            workspace_path(workspace),
            update.to_form(),
            Replay::Safe,
        ))
    }

    fn call<T: DeserializeOwned>(&self, request: Request) -> Result<Answer<T>, RestError> {
        let response = self.transport.send(&request)?;
        let decode = |reason: String| decode_error(&self.transport, &request, reason);
        let json: Value =
            serde_json::from_str(&response.body).map_err(|error| decode(error.to_string()))?;
        let resource = T::deserialize(&json).map_err(|error| decode(error.to_string()))?;
        Ok(Answer { resource, json })
    }

    /// The pages of a list operation at `path` with `query`, the items under `key`, until
    /// `limit` items or the last page. Twilio's `meta.next_page_url` is absolute; only its path
    /// and query are followed, under this client's base URL (so `TASKROUTER_API_URL` and the
    /// credentials apply to every page, and they go nowhere else).
    fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&'static str, String)],
        key: &str,
        limit: u32,
    ) -> Result<Listing<T>, RestError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut listing = Listing {
            resources: Vec::new(),
            json: Vec::new(),
            truncated: false,
        };
        let mut next = Some(format!("{path}?{}", encode_query(query)));
        while let Some(page) = next.take() {
            let request = Request::get(page);
            let response = self.transport.send(&request)?;
            let decode = |reason: String| decode_error(&self.transport, &request, reason);
            let json: Value =
                serde_json::from_str(&response.body).map_err(|error| decode(error.to_string()))?;
            let items = json[key]
                .as_array()
                .ok_or_else(|| decode(format!("no `{key}` array in the answer")))?;
            for item in items {
                if listing.resources.len() == limit {
                    listing.truncated = true;
                    return Ok(listing);
                }
                listing
                    .resources
                    .push(T::deserialize(item).map_err(|error| decode(error.to_string()))?);
                listing.json.push(item.clone());
            }
            next = json["meta"]["next_page_url"]
                .as_str()
                .and_then(|url| url.find("/v1/").map(|start| url[start..].to_owned()));
            if next.is_some() && listing.resources.len() == limit {
                listing.truncated = true;
                return Ok(listing);
            }
        }
        Ok(listing)
    }
}

/// An answer that is not what the operation's description says.
fn decode_error(transport: &Transport, request: &Request, reason: String) -> RestError {
    RestError::Decode {
        method: request.method.as_str(),
        url: format!("{}{}", transport.base_url(), request.path),
        reason,
    }
}

/// The page size for at most `limit` items.
fn page_size(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE_SIZE)
}

/// Query parameters, form-encoded; a repeated name is an array (`style: form, explode: true`, the
/// OpenAPI default for query parameters).
fn encode_query(query: &[(&'static str, String)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in query {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

// The resources' paths, each written once for its fetch and its update.

fn workspace_path(workspace: &WorkspaceSid) -> String {
    format!("/v1/Workspaces/{workspace}")
}

fn task_path(workspace: &WorkspaceSid, task: &TaskSid) -> String {
    format!("{}/Tasks/{task}", workspace_path(workspace))
}

fn worker_path(workspace: &WorkspaceSid, worker: &WorkerSid) -> String {
    format!("{}/Workers/{worker}", workspace_path(workspace))
}

fn workflow_path(workspace: &WorkspaceSid, workflow: &WorkflowSid) -> String {
    format!("{}/Workflows/{workflow}", workspace_path(workspace))
}

fn reservation_path(
    workspace: &WorkspaceSid,
    of: &ReservationOf,
    reservation: &ReservationSid,
) -> String {
    match of {
        ReservationOf::Task(task) => {
            format!("{}/Reservations/{reservation}", task_path(workspace, task))
        }
        ReservationOf::Worker(worker) => format!(
            "{}/Workers/{worker}/Reservations/{reservation}",
            workspace_path(workspace)
        ),
    }
}

/// An update that leaves the reservation pending ([`Instruction::leaves_pending`]) would act
/// again if repeated; every other update moves it out of pending, and a repeat is refused
/// (transport docs).
pub fn replay_of(instruction: &Instruction) -> Replay {
    if instruction.leaves_pending() {
        Replay::Unsafe
    } else {
        Replay::Safe
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_updates_that_leave_the_reservation_pending_are_unsafe_to_repeat() {
        let cases = [
            (json!({"instruction": "accept"}), Replay::Safe),
            (
                json!({"instruction": "reject", "activity_sid": "WA0123456789abcdef0123456789abcdef"}),
                Replay::Safe,
            ),
            (json!({"instruction": "dequeue"}), Replay::Safe),
            (json!({"instruction": "conference"}), Replay::Safe),
            (
                json!({"instruction": "call", "url": "https://example.com/t", "from": "+1"}),
                Replay::Unsafe,
            ),
            (
                json!({"instruction": "call", "url": "https://example.com/t", "from": "+1", "accept": true}),
                Replay::Safe,
            ),
            (
                json!({"instruction": "redirect", "call_sid": "CA0123456789abcdef0123456789abcdef", "url": "https://example.com/t"}),
                Replay::Unsafe,
            ),
            (
                json!({"instruction": "redirect", "call_sid": "CA0123456789abcdef0123456789abcdef", "url": "https://example.com/t", "accept": true}),
                Replay::Safe,
            ),
        ];
        for (value, expected) in cases {
            let instruction = Instruction::from_json(&value).expect("valid");
            assert_eq!(replay_of(&instruction), expected, "{value}");
        }
    }

    #[test]
    fn reservations_are_reached_through_their_task_or_their_worker() {
        let workspace = WorkspaceSid::parse("WS0123456789abcdef0123456789abcdef").expect("sid");
        let reservation = ReservationSid::parse("WR0123456789abcdef0123456789abcdef").expect("sid");
        let task = TaskSid::parse("WT0123456789abcdef0123456789abcdef").expect("sid");
        let worker = WorkerSid::parse("WK0123456789abcdef0123456789abcdef").expect("sid");
        assert_eq!(
            reservation_path(&workspace, &ReservationOf::Task(task), &reservation),
            "/v1/Workspaces/WS0123456789abcdef0123456789abcdef/Tasks/WT0123456789abcdef0123456789abcdef/Reservations/WR0123456789abcdef0123456789abcdef"
        );
        assert_eq!(
            reservation_path(&workspace, &ReservationOf::Worker(worker), &reservation),
            "/v1/Workspaces/WS0123456789abcdef0123456789abcdef/Workers/WK0123456789abcdef0123456789abcdef/Reservations/WR0123456789abcdef0123456789abcdef"
        );
    }
}
