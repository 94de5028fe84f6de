//! `connect`: point a Workflow and its Workspace at the deployed function, without pasting URLs
//! into the Console.
//!
//! It sets the Workflow's `AssignmentCallbackUrl` and `FallbackAssignmentCallbackUrl` (the same
//! URL, as Twilio's own samples do, docs/taskrouter.md §3) and, when asked, the Workspace's
//! `EventCallbackUrl` and `EventsFilter`; then it reads them back and prints what changed.
//! `--dry-run` prints the plan and sends no update. `--check` then signs a realistic assignment
//! callback with the auth token for exactly the URL the Workflow now holds, POSTs it there and
//! reports whether the function verified it: the most common production failure is a URL that
//! differs by one character from the one the function verifies (every callback `403`).

use clap::Args;
use secrecy::ExposeSecret;

use crate::instruction::HttpUrl;
use crate::rest::resources::{EventsFilter, Workflow, WorkflowUpdate, Workspace, WorkspaceUpdate};
use crate::rest::{Client, RestConfig};
use crate::sid::{WorkflowSid, WorkspaceSid};
use crate::signature;

use super::callback::{post_signed, sample_callback};
use super::{CallbackArgs, CliError, FAILED, OK, Output};

/// The attributes of the `--check` callback's task: marked, so a log reader knows it was a check.
const CHECK_TASK: &str = r#"{"taskrouter_connect_check":true}"#;

/// `connect`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Connect {
    /// The workspace (WS…).
    #[arg(long, value_name = "WS…")]
    pub workspace: WorkspaceSid,
    /// The workflow whose assignment callback is set (WW…).
    #[arg(long, value_name = "WW…")]
    pub workflow: WorkflowSid,
    /// The function's assignment callback URL (stack output AssignmentCallbackUrl); set as the
    /// Workflow's assignment and fallback URL.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    pub assignment_url: HttpUrl,
    /// The function's event callback URL (stack output EventCallbackUrl), set on the Workspace.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    pub events_url: Option<HttpUrl>,
    /// The workspace events to receive, comma-separated (e.g. reservation.accepted,task.canceled);
    /// a type TaskRouter does not document is an error with the closest one.
    #[arg(long, value_name = "a,b,…", value_parser = EventsFilter::parse)]
    pub events_filter: Option<EventsFilter>,
    /// Print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Then sign a sample assignment callback for the configured URL, POST it, and report
    /// whether the function verified it (needs TWILIO_AUTH_TOKEN).
    #[arg(long)]
    pub check: bool,
}

fn parse_url(text: &str) -> Result<HttpUrl, String> {
    HttpUrl::new(text).ok_or_else(|| {
        format!(
            "`{text}` is not an absolute http(s) URL with a host; copy it from the stack outputs"
        )
    })
}

/// One setting: its name, its value before, and the value wanted.
struct Change {
    resource: &'static str,
    name: &'static str,
    before: Option<String>,
    wanted: String,
}

impl Change {
    fn changes(&self) -> bool {
        self.before.as_deref() != Some(self.wanted.as_str())
    }
}

fn shown(value: Option<&str>) -> &str {
    value.unwrap_or("(none)")
}

pub(crate) fn run(
    args: &Connect,
    client: &Client,
    config: &RestConfig,
) -> Result<Output, CliError> {
    // A check needs the token: say so before changing anything.
    if args.check && config.credentials.signing_token().is_none() {
        return Err(CliError::CheckNeedsAuthToken);
    }
    let workflow = client
        .fetch_workflow(&args.workspace, &args.workflow)?
        .resource;
    let wants_workspace = args.events_url.is_some() || args.events_filter.is_some();
    let workspace = if wants_workspace {
        Some(client.fetch_workspace(&args.workspace)?.resource)
    } else {
        None
    };
    let plan = plan(args, &workflow, workspace.as_ref());
    let mut stdout = String::new();
    // The URL the Workflow holds once this is done (read back, or unchanged by a dry run) is
    // exactly what Twilio will call and sign: what `--check` signs for.
    let configured = if args.dry_run {
        stdout.push_str("plan (--dry-run: nothing is changed):\n");
        for change in &plan {
            stdout.push_str(&describe(
                change,
                shown(change.before.as_deref()),
                &change.wanted,
            ));
        }
        workflow.assignment_callback_url
    } else {
        let (workflow_after, workspace_after) = apply(args, client, &plan)?;
        stdout.push_str("connected:\n");
        let mut mismatches = Vec::new();
        for change in &plan {
            let after = read_back(change, &workflow_after, workspace_after.as_ref());
            if after.as_deref() != Some(change.wanted.as_str()) {
                mismatches.push(format!(
                    "{} {} reads {} after the update, not {}",
                    change.resource,
                    change.name,
                    shown(after.as_deref()),
                    change.wanted
                ));
            }
            stdout.push_str(&describe(
                change,
                shown(change.before.as_deref()),
                shown(after.as_deref()),
            ));
        }
        if !mismatches.is_empty() {
            return Ok(Output {
                stdout,
                stderr: format!(
                    "error: Twilio does not hold what was set:\n  {}\n",
                    mismatches.join("\n  ")
                ),
                code: FAILED,
            });
        }
        workflow_after.assignment_callback_url
    };
    if !args.check {
        return Ok(Output {
            stdout,
            ..Output::default()
        });
    }
    let check = check(args, config, configured.as_deref())?;
    stdout.push_str(&check.stdout);
    Ok(Output {
        stdout,
        stderr: check.stderr,
        code: check.code,
    })
}

fn plan(args: &Connect, workflow: &Workflow, workspace: Option<&Workspace>) -> Vec<Change> {
    let mut plan = vec![
        Change {
            resource: "workflow",
            name: "AssignmentCallbackUrl",
            before: workflow.assignment_callback_url.clone(),
            wanted: args.assignment_url.as_str().to_owned(),
        },
        Change {
            resource: "workflow",
            name: "FallbackAssignmentCallbackUrl",
            before: workflow.fallback_assignment_callback_url.clone(),
            wanted: args.assignment_url.as_str().to_owned(),
        },
    ];
    if let Some(workspace) = workspace {
        if let Some(url) = &args.events_url {
            plan.push(Change {
                resource: "workspace",
                name: "EventCallbackUrl",
                before: workspace.event_callback_url.clone(),
                wanted: url.as_str().to_owned(),
            });
        }
        if let Some(filter) = &args.events_filter {
            plan.push(Change {
                resource: "workspace",
                name: "EventsFilter",
                before: workspace.events_filter.clone(),
                wanted: filter.to_string(),
            });
        }
    }
    plan
}

fn describe(change: &Change, before: &str, after: &str) -> String {
    let label = format!("{} {}", change.resource, change.name);
    if change.changes() {
        format!("  {label:<40} {before} → {after}\n")
    } else {
        format!("  {label:<40} {after} (unchanged)\n")
    }
}

/// Sends the updates that change something, then reads the resources back.
fn apply(
    args: &Connect,
    client: &Client,
    plan: &[Change],
) -> Result<(Workflow, Option<Workspace>), CliError> {
    let workflow_changes = plan
        .iter()
        .any(|change| change.resource == "workflow" && change.changes());
    if workflow_changes {
        let update = WorkflowUpdate {
            assignment_callback_url: Some(args.assignment_url.clone()),
            fallback_assignment_callback_url: Some(args.assignment_url.clone()),
            configuration: None,
        };
        client.update_workflow(&args.workspace, &args.workflow, &update)?;
    }
    // Read back rather than trust the update's answer: this is what Twilio will use.
    let workflow = client
        .fetch_workflow(&args.workspace, &args.workflow)?
        .resource;
    let workspace_changes = plan
        .iter()
        .any(|change| change.resource == "workspace" && change.changes());
    if workspace_changes {
        let update = WorkspaceUpdate {
            event_callback_url: args.events_url.clone(),
            events_filter: args.events_filter.clone(),
        };
        client.update_workspace(&args.workspace, &update)?;
    }
    let workspace = if plan.iter().any(|change| change.resource == "workspace") {
        Some(client.fetch_workspace(&args.workspace)?.resource)
    } else {
        None
    };
    Ok((workflow, workspace))
}

fn read_back(
    change: &Change,
    workflow: &Workflow,
    workspace: Option<&Workspace>,
) -> Option<String> {
    match change.name {
        "AssignmentCallbackUrl" => workflow.assignment_callback_url.clone(),
        "FallbackAssignmentCallbackUrl" => workflow.fallback_assignment_callback_url.clone(),
        "EventCallbackUrl" => workspace.and_then(|w| w.event_callback_url.clone()),
        "EventsFilter" => workspace.and_then(|w| w.events_filter.clone()),
        _ => None,
    }
}

/// Signs a realistic callback for `url` with the auth token and POSTs it there.
fn check(args: &Connect, config: &RestConfig, url: Option<&str>) -> Result<Output, CliError> {
    let token = config
        .credentials
        .signing_token()
        .ok_or(CliError::CheckNeedsAuthToken)?;
    let url = url.ok_or(CliError::NothingToCheck)?;
    let params = sample_callback(&CallbackArgs {
        task: CHECK_TASK.to_owned(),
        params: vec![
            (
                "AccountSid".to_owned(),
                config.credentials.account_sid().to_string(),
            ),
            ("WorkspaceSid".to_owned(), args.workspace.to_string()),
            ("WorkflowSid".to_owned(), args.workflow.to_string()),
        ],
        ..CallbackArgs::default()
    })?;
    let signature = signature::sign(token.expose_secret().as_bytes(), url, params.pairs());
    let (status, body) = post_signed(url, &signature, &params)?;
    let status = status.as_u16();
    let body = body.trim_end();
    Ok(if (200..300).contains(&status) {
        Output {
            stdout: format!(
                "check: {url} verified a callback signed for this URL and answered {status}: {body}\n"
            ),
            stderr: String::new(),
            code: OK,
        }
    } else if status == 403 {
        Output {
            stdout: String::new(),
            stderr: format!(
                "error: check: {url} refused a callback signed for this URL with the auth token: 403 {body}\n\
                 The function must verify against exactly this URL (scheme, host, port, path, query) and hold this account's auth token:\n\
                 compare the URLs its debug log line `signature check failed` lists with the one above, set PUBLIC_BASE_URL to its prefix if they differ,\n\
                 and check the token parameter otherwise (docs/signatures.md, Diagnosing a 403).\n"
            ),
            code: FAILED,
        }
    } else {
        Output {
            stdout: String::new(),
            stderr: format!("error: check: {url} answered {status}: {body}\n"),
            code: FAILED,
        }
    })
}
