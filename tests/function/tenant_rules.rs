//! Rules per tenant: `ASSIGNMENT_RULES_DIR` with `<AccountSid>.json` and
//! `<AccountSid>/<WorkspaceSid>.json` documents (`<WorkspaceSid>.json` with one token), through the
//! compiled function, with callbacks signed by Twilio's Python helper; one tenant's signed
//! callbacks never decided by another tenant's documents.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

use crate::support::moto::Moto;
use crate::support::twilio::{self, ASSIGNMENT, EVENT, ToSign};
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
            let file = path.join(name);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).expect("an account's directory");
            }
            std::fs::write(file, text).expect("write a document");
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
            &format!("{ACCOUNT_B}/{WORKSPACE_B2}.json"),
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
            format!(
                "ASSIGNMENT_RULES_DIR is invalid: {ACCOUNT_A}.json:1:38: error: rules[0] (`voice`), `when`"
            ),
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

/// Three tenants of one deployment, each with its own token in SSM and its own documents.
struct Tenant {
    account: &'static str,
    token: &'static str,
    /// The workspace with a document of its own, in the account's directory.
    workspace: &'static str,
    /// What that document answers: private to this tenant.
    answer: Value,
}

fn three_tenants() -> [Tenant; 3] {
    [
        Tenant {
            account: "AC000000000000000000000000000000a1",
            token: "token-of-tenant-one",
            workspace: "WS000000000000000000000000000000a1",
            // A private TwiML URL: the leak this layout exists to prevent.
            answer: json!({
                "instruction": "redirect",
                "call_sid": "CA000000000000000000000000000000a1",
                "url": "https://tenant-one.example.com/private/twiml",
                "accept": true
            }),
        },
        Tenant {
            account: "AC000000000000000000000000000000b2",
            token: "token-of-tenant-two",
            workspace: "WS000000000000000000000000000000b2",
            answer: json!({"instruction": "reject", "activity_sid": "WA000000000000000000000000000000b2"}),
        },
        Tenant {
            account: "AC000000000000000000000000000000c3",
            token: "token-of-tenant-three",
            workspace: "WS000000000000000000000000000000c3",
            answer: json!({"instruction": "reject", "activity_sid": "WA000000000000000000000000000000c3"}),
        },
    ]
}

#[tokio::test]
async fn each_tenant_is_decided_by_its_own_documents_and_every_cross_tenant_callback_is_refused_and_logged()
 {
    let tenants = three_tenants();
    let moto = Moto::start().await;
    let mut documents = vec![(
        // Tenant three also has an account-wide document for its other workspaces.
        format!("{}.json", tenants[2].account),
        accept("three-accepts-elsewhere"),
    )];
    for tenant in &tenants {
        moto.put_secure_string(&format!("{PREFIX}{}", tenant.account), tenant.token)
            .await;
        documents.push((
            format!("{}/{}.json", tenant.account, tenant.workspace),
            document(&format!("{}-own", tenant.workspace), tenant.answer.clone()),
        ));
    }
    let documents: Vec<(&str, String)> = documents
        .iter()
        .map(|(name, text)| (name.as_str(), text.clone()))
        .collect();
    let directory = TenantDir::new(&documents);
    let mut env = moto.function_env();
    env.push(("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", PREFIX.to_owned()));
    env.push(("ASSIGNMENT_RULES_DIR", directory.path().to_owned()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let function = Function::start_with(&env).await;

    // A voice task, so the redirect of tenant one applies when its own workspace is named.
    let assignment = twilio::with(
        &twilio::params(ASSIGNMENT),
        "TaskAttributes",
        r#"{"call_sid": "CA000000000000000000000000000000a1"}"#,
    );
    let of = |signer: &Tenant, workspace: &str, fixture: &'static str| {
        let params = if fixture == ASSIGNMENT {
            assignment.clone()
        } else {
            twilio::params(fixture)
        };
        ToSign {
            fixture,
            params: twilio::with(
                &twilio::with(&params, "AccountSid", signer.account),
                "WorkspaceSid",
                workspace,
            ),
            token: signer.token,
        }
    };

    // Each tenant's own callbacks: its own document, and tenant three's other workspace its
    // account document.
    let mut own = Vec::new();
    for tenant in &tenants {
        own.push((
            of(tenant, tenant.workspace, ASSIGNMENT),
            tenant.answer.clone(),
        ));
    }
    own.push((
        of(&tenants[2], FIXTURE_WORKSPACE, ASSIGNMENT),
        json!({"instruction": "accept"}),
    ));
    let (to_sign, answers): (Vec<ToSign>, Vec<Value>) = own.into_iter().unzip();
    for ((event, expected), signed) in twilio::signed_events(&to_sign)
        .into_iter()
        .zip(&answers)
        .zip(&to_sign)
    {
        let answer = function.http(event).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.json(),
            *expected,
            "{} decided by its own document",
            signed.token
        );
    }

    // Every signer naming every other tenant's workspace, on both routes.
    let mut attempts = Vec::new();
    for signer in &tenants {
        for owner in tenants
            .iter()
            .filter(|owner| owner.account != signer.account)
        {
            attempts.push((signer, owner, ASSIGNMENT));
            attempts.push((signer, owner, EVENT));
        }
    }
    let to_sign: Vec<ToSign> = attempts
        .iter()
        .map(|(signer, owner, fixture)| of(signer, owner.workspace, fixture))
        .collect();
    for (event, (signer, owner, fixture)) in
        twilio::signed_events(&to_sign).into_iter().zip(&attempts)
    {
        let why = format!(
            "{} names {}'s workspace on {fixture}",
            signer.account, owner.account
        );
        let answer = function.http(event).await;
        assert_eq!(answer.status, 403, "{why}: {}", answer.body);
        // The whole answer, so no tenant's instruction, and not the owner, can be in it.
        assert_eq!(
            answer.json(),
            json!({"error": {
                "code": "cross_tenant_workspace",
                "message": format!(
                    "workspace `{}` does not belong to account `{}`: a workspace's callbacks are \
                     answered only for the account that owns it",
                    owner.workspace, signer.account
                ),
            }}),
            "{why}"
        );
    }

    let lines = json_lines(&function.output());
    let logged: Vec<(String, String, String)> = lines
        .iter()
        .filter(|line| line["code"] == "cross_tenant_workspace")
        .map(|line| {
            (
                line["account_sid"].as_str().unwrap_or_default().to_owned(),
                line["workspace_sid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                line["workspace_owner_sid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = attempts
        .iter()
        .map(|(signer, owner, _)| {
            (
                signer.account.to_owned(),
                owner.workspace.to_owned(),
                owner.account.to_owned(),
            )
        })
        .collect();
    assert_eq!(
        logged, expected,
        "each attempt is logged with the signer, the workspace and its owner"
    );
    let counted: Vec<&str> = lines
        .iter()
        .filter(|line| line["CrossTenantRefusals"] == 1)
        .filter_map(|line| line["AccountSid"].as_str())
        .collect();
    let signers: Vec<&str> = attempts
        .iter()
        .map(|(signer, _, _)| signer.account)
        .collect();
    assert_eq!(counted, signers, "each attempt is counted once");
    let decided: Vec<(&str, &str)> = lines
        .iter()
        .filter(|line| line["message"] == "assignment answered")
        .filter_map(|line| Some((line["account_sid"].as_str()?, line["rule"].as_str()?)))
        .collect();
    assert_eq!(
        decided,
        [
            (tenants[0].account, "WS000000000000000000000000000000a1-own"),
            (tenants[1].account, "WS000000000000000000000000000000b2-own"),
            (tenants[2].account, "WS000000000000000000000000000000c3-own"),
            (tenants[2].account, "three-accepts-elsewhere"),
        ],
        "only the tenants' own callbacks were decided, by their own rules"
    );
}

#[tokio::test]
async fn a_directory_that_would_let_one_tenant_use_anothers_document_stops_the_function_with_the_fix()
 {
    let per_account = vec![
        ("TWILIO_AUTH_TOKEN", ""),
        ("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", PREFIX),
    ];
    let mut listed = per_account.clone();
    listed.push(("TWILIO_ACCOUNT_SIDS", ACCOUNT_A));
    let cases: Vec<StartCase> = vec![
        (
            TenantDir::new(&[(&format!("{WORKSPACE_B2}.json"), accept("x"))]),
            per_account.clone(),
            format!(
                "ASSIGNMENT_RULES_DIR holds `{WORKSPACE_B2}.json` at its top level, which binds it \
                 to no account: with a token per account (TWILIO_AUTH_TOKEN_PARAMETER_PREFIX) every \
                 tenant signs its own callbacks and could name this workspace, so a workspace \
                 document must live in the directory of the account that owns it: move it to \
                 `<AccountSid>/{WORKSPACE_B2}.json`"
            ),
        ),
        (
            TenantDir::new(&[(&format!("{ACCOUNT_B}/{WORKSPACE_B2}.json"), accept("x"))]),
            listed,
            format!(
                "ASSIGNMENT_RULES_DIR holds `{ACCOUNT_B}/{WORKSPACE_B2}.json` for account \
                 `{ACCOUNT_B}`, which TWILIO_ACCOUNT_SIDS does not list"
            ),
        ),
        (
            TenantDir::new(&[(
                "ACBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB/WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2.json",
                accept("x"),
            )]),
            per_account.clone(),
            format!(
                "`ACBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB/WSbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2.json`: \
                 `ACBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB` is not a valid account SID: Twilio writes \
                 `AC` and then 32 lower-case hex digits: use `{ACCOUNT_B}`"
            ),
        ),
        (
            TenantDir::new(&[(
                &format!("{ACCOUNT_B}/archive/{WORKSPACE_B2}.json"),
                accept("x"),
            )]),
            per_account,
            format!("`{ACCOUNT_B}/archive` is not named after an account or a workspace"),
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
}
