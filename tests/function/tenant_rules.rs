//! Rules per tenant: `ASSIGNMENT_RULES_DIR` with `<AccountSid>.json` and `<WorkspaceSid>.json`
//! documents, through the compiled function, with callbacks signed by Twilio's Python helper.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

use crate::support::moto::Moto;
use crate::support::twilio::{self, ASSIGNMENT, ToSign};
use crate::support::{DEV_TOKEN, Function, fixture, json_lines};

const PREFIX: &str = "/taskrouter/tenants/";
const ACCOUNT_A: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ACCOUNT_B: &str = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const TOKEN_A: &str = "token-of-tenant-a";
const TOKEN_B: &str = "token-of-tenant-b";
/// One of B's workspaces, with a document of its own.
const WORKSPACE_B2: &str = "WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";
/// The workspace of the fixtures' callbacks.
const FIXTURE_WORKSPACE: &str = "WS1123456789abcdef1123456789abcdef";
/// The unavailable activity B's workspace rejects into.
const B2_OFFLINE: &str = "WAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb0";

/// A directory of tenant documents in the temp directory, removed on drop.
struct TenantDir(PathBuf);

impl TenantDir {
    fn new(documents: &[(&str, String)]) -> Self {
        static CREATED: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "taskrouter-tenants-{}-{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the temp directory is writable");
        for (name, text) in documents {
            std::fs::write(path.join(name), text).expect("write a document");
        }
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TenantDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A document whose one rule, `name`, answers `instruction` to every callback.
fn document(name: &str, instruction: Value) -> String {
    json!({"rules": [{"name": name, "when": "1 == 1", "instruction": instruction}]}).to_string()
}

fn accept(name: &str) -> String {
    document(name, json!({"instruction": "accept"}))
}

#[tokio::test]
async fn each_tenant_document_decides_its_own_callbacks_and_the_default_decides_the_rest() {
    let moto = Moto::start().await;
    moto.put_secure_string(&format!("{PREFIX}{ACCOUNT_A}"), TOKEN_A)
        .await;
    moto.put_secure_string(&format!("{PREFIX}{ACCOUNT_B}"), TOKEN_B)
        .await;
    let tenants = TenantDir::new(&[
        (&format!("{ACCOUNT_A}.json"), accept("tenant-a-accepts")),
        (
            &format!("{WORKSPACE_B2}.json"),
            document(
                "b2-rejects",
                json!({"instruction": "reject", "activity_sid": B2_OFFLINE}),
            ),
        ),
        ("README.md", "not a document: left alone".to_owned()),
    ]);
    let mut env = moto.function_env();
    env.push(("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", PREFIX.to_owned()));
    env.push(("ASSIGNMENT_RULES_DIR", tenants.path().to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let function = Function::start_with(&env).await;

    let assignment = twilio::params(ASSIGNMENT);
    let of = |account: &str, workspace: &str| {
        twilio::with(
            &twilio::with(&assignment, "AccountSid", account),
            "WorkspaceSid",
            workspace,
        )
    };
    let events = twilio::signed_events(&[
        ToSign {
            fixture: ASSIGNMENT,
            params: of(ACCOUNT_A, FIXTURE_WORKSPACE),
            token: TOKEN_A,
        },
        ToSign {
            fixture: ASSIGNMENT,
            params: of(ACCOUNT_B, WORKSPACE_B2),
            token: TOKEN_B,
        },
        ToSign {
            fixture: ASSIGNMENT,
            params: of(ACCOUNT_B, FIXTURE_WORKSPACE),
            token: TOKEN_B,
        },
    ]);
    let expected = [
        (
            json!({"instruction": "accept"}),
            ACCOUNT_A,
            "A's document, for any workspace of A",
        ),
        (
            json!({"instruction": "reject", "activity_sid": B2_OFFLINE}),
            WORKSPACE_B2,
            "the document of B's workspace B2",
        ),
        (
            json!({}),
            "default",
            "B's other workspace: the default document (the built-in deferral)",
        ),
    ];
    for (event, (body, _, why)) in events.into_iter().zip(&expected) {
        let answer = function.http(event).await;
        assert_eq!(answer.status, 200, "{why}: {}", answer.body);
        assert_eq!(answer.json(), *body, "{why}");
    }
    let documents: Vec<String> = json_lines(&function.output())
        .iter()
        .filter(|line| line["message"] == "assignment answered")
        .filter_map(|line| line["rules_document"].as_str().map(str::to_owned))
        .collect();
    let logged: Vec<&str> = expected.iter().map(|(_, document, _)| *document).collect();
    assert_eq!(
        documents, logged,
        "each log line names the document that decided"
    );
}

#[tokio::test]
async fn a_single_account_deployment_can_give_each_workspace_its_own_document() {
    let tenants = TenantDir::new(&[(
        &format!("{FIXTURE_WORKSPACE}.json"),
        accept("main-workspace-accepts"),
    )]);
    let function = Function::start(&[("ASSIGNMENT_RULES_DIR", tenants.path())]).await;

    let main = function.http(fixture(ASSIGNMENT)).await;
    assert_eq!(main.status, 200, "{}", main.body);
    assert_eq!(main.json(), json!({"instruction": "accept"}));

    let other = twilio::signed_events(&[ToSign {
        fixture: ASSIGNMENT,
        params: twilio::with(
            &twilio::params(ASSIGNMENT),
            "WorkspaceSid",
            "WS2223456789abcdef2223456789abcdef",
        ),
        token: DEV_TOKEN,
    }])
    .remove(0);
    let answer = function.http(other).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, "{}", "another workspace: the default document");
}

/// A directory, the other settings of the start, and what the function must say as it stops.
type StartCase<'a> = (TenantDir, Vec<(&'a str, &'a str)>, String);

#[tokio::test]
async fn a_misnamed_invalid_or_unlisted_tenant_document_stops_the_function_at_start_naming_the_file()
 {
    let broken = r#"{"rules": [{"name": "voice", "when": "call_sid != null AND", "instruction": {"instruction": "accept"}}]}"#;
    let cases: Vec<StartCase> = vec![
        (
            TenantDir::new(&[("rules.json", accept("x"))]),
            vec![],
            "ASSIGNMENT_RULES_DIR is invalid: `rules.json` is not named after an account or a \
             workspace"
                .to_owned(),
        ),
        (
            TenantDir::new(&[(&format!("{ACCOUNT_A}.json"), broken.to_owned())]),
            vec![],
            format!("ASSIGNMENT_RULES_DIR is invalid: `{ACCOUNT_A}.json`: rule `voice`"),
        ),
        (
            TenantDir::new(&[(&format!("{ACCOUNT_A}.json"), accept("x"))]),
            vec![
                ("TWILIO_AUTH_TOKEN", ""),
                ("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", PREFIX),
                ("TWILIO_ACCOUNT_SIDS", ACCOUNT_B),
            ],
            format!(
                "ASSIGNMENT_RULES_DIR holds `{ACCOUNT_A}.json` for account `{ACCOUNT_A}`, which \
                 TWILIO_ACCOUNT_SIDS does not list"
            ),
        ),
    ];
    for (tenants, mut env, message) in cases {
        env.push(("ASSIGNMENT_RULES_DIR", tenants.path()));
        let mut function = Function::start(&env).await;
        let exit = function.exit_code().await;
        let output = function.output();
        assert_ne!(exit, Some(0), "{message}\n{output}");
        assert!(
            output.contains(&message),
            "expected `{message}` in:\n{output}"
        );
    }

    let missing = std::env::temp_dir().join("taskrouter-no-such-directory");
    let mut function = Function::start(&[(
        "ASSIGNMENT_RULES_DIR",
        missing.to_str().expect("a UTF-8 path"),
    )])
    .await;
    assert_ne!(function.exit_code().await, Some(0));
    let output = function.output();
    assert!(
        output.contains(&format!(
            "ASSIGNMENT_RULES_DIR: `{}` cannot be read",
            missing.display()
        )),
        "{output}"
    );
}
