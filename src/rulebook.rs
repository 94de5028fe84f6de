//! Which rules document decides a callback: a tenant's own, or the single document by default,
//! and which account each tenant document belongs to.
//!
//! One deployment may serve many accounts (see [`crate::token::accounts`]), and one tenant's rules
//! must never decide another's callbacks: activity SIDs, queues, caller IDs and private URLs in a
//! document belong to one account's workspace. A [`RuleBook`] holds the default document (the one
//! of `ASSIGNMENT_RULES`, `ASSIGNMENT_RULES_FILE` or the built-in deferral) and any number of
//! tenant documents, each placed in `ASSIGNMENT_RULES_DIR` by the account or workspace it decides
//! for:
//!
//! | document at | decides |
//! |---|---|
//! | `AC…/WS….json` (a workspace SID in the directory of its account) | the callbacks of that workspace, signed by that account |
//! | `AC….json` (an account SID) | the callbacks of that account's workspaces that have no document of their own |
//! | `WS….json` (a workspace SID, at the top) | the callbacks of that workspace; only where one account owns every document: a deployment with one auth token |
//! | — | everything else: the default document |
//!
//! # What the signature proves, and what only configuration can
//!
//! `X-Twilio-Signature` proves that whoever sent a callback holds the auth token it was checked
//! with: with a token per account, the token of the `AccountSid` the callback names. It proves
//! nothing about the rest of the body. Twilio writes true values, but every tenant holds its own
//! token and can sign any body it likes, naming another tenant's `WorkspaceSid`. So a workspace
//! document decides only for the account that owns it, and ownership comes from where the
//! operator put the file, never from the request: a callback whose workspace has a document
//! bound to another account is refused ([`CrossTenant`]), neither decided by that document nor
//! quietly by the default. An account document is bound by its own name.
//!
//! A document at the top named after a workspace names no owner. With one auth token there is
//! one account to own it, so that layout keeps working; with a token per account the application
//! refuses to start with it (see [`RuleBook::unbound_workspaces`] and `crate::app`), since
//! any tenant could otherwise have its callbacks decided by it.
//!
//! Every document is compiled when the book is built, so an invalid one stops the function at
//! start naming its file; selecting then cannot fail. This module is pure: the caller reads the
//! files (`ASSIGNMENT_RULES_DIR`, in [`crate::app`]) and hands over their paths and texts.

use std::collections::HashMap;
use std::fmt;

use crate::callback::AssignmentCallback;
use crate::rules::{Rules, RulesError};
use crate::sid::{AccountSid, SidError, WorkspaceSid};

/// The extension a tenant document's file name ends with.
const EXTENSION: &str = ".json";

/// A tenant document that cannot be added. Each variant stops the function from starting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleBookError {
    /// The path is not one of the three layouts.
    #[error(
        "`{path}` is not named after an account or a workspace: name each tenant document \
         `<AccountSid>.json` (AC followed by 32 hex digits), `<AccountSid>/<WorkspaceSid>.json` \
         (a workspace's document in the directory of the account that owns it) or, with a single \
         auth token, `<WorkspaceSid>.json`; or move it out of the directory"
    )]
    Name {
        /// The path, relative to the directory.
        path: String,
    },
    /// The name is a SID written in another case: it would never match a callback.
    #[error("`{path}`: {source}")]
    Spelling {
        /// The path, relative to the directory.
        path: String,
        /// The SID's error, with the spelling to use.
        source: SidError,
    },
    /// Two files name the same tenant (`AC….json` and `AC….JSON`, or one workspace in two
    /// places).
    #[error(
        "`{path}` names the same tenant as `{earlier}`: a workspace belongs to one account and \
         has one document; keep one of them"
    )]
    Duplicate {
        /// The file added second.
        path: String,
        /// The file added first.
        earlier: String,
    },
    /// The document does not compile: every problem, each naming the path, line and column.
    #[error("{source}")]
    Rules {
        /// The path, relative to the directory.
        path: String,
        /// What is wrong, naming the rule.
        source: Box<RulesError>,
    },
}

/// A verified callback names a workspace whose document belongs to another account.
///
/// The transport answers `403` (`cross_tenant_workspace`) and logs both accounts; the message,
/// which the caller sees, never names the owner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "workspace `{workspace}` does not belong to account `{account}`: a workspace's callbacks are \
     answered only for the account that owns it"
)]
pub struct CrossTenant {
    /// The account that signed the callback.
    pub account: AccountSid,
    /// The workspace it named.
    pub workspace: WorkspaceSid,
    /// The account the workspace's document is bound to.
    pub owner: AccountSid,
}

/// Which document decided a callback, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document<'a> {
    /// The default document.
    Default,
    /// The document of this account.
    Account(&'a AccountSid),
    /// The document of this workspace.
    Workspace(&'a WorkspaceSid),
}

impl fmt::Display for Document<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Account(account) => write!(f, "{account}"),
            Self::Workspace(workspace) => write!(f, "{workspace}"),
        }
    }
}

/// A tenant's document with the path it came from.
#[derive(Debug)]
struct Tenant {
    path: String,
    rules: Rules,
}

/// A workspace's document and the account that owns it, when its place says so.
#[derive(Debug)]
struct WorkspaceDocument {
    owner: Option<AccountSid>,
    tenant: Tenant,
}

/// The default rules and the tenants' own.
#[derive(Debug)]
pub struct RuleBook {
    default: Rules,
    accounts: HashMap<AccountSid, Tenant>,
    workspaces: HashMap<WorkspaceSid, WorkspaceDocument>,
}

impl RuleBook {
    /// A book with only the default document: every callback is decided by `default`.
    pub fn new(default: Rules) -> Self {
        Self {
            default,
            accounts: HashMap::new(),
            workspaces: HashMap::new(),
        }
    }

    /// Compiles `json` as the document at `path` (relative to the directory, `/`-separated):
    /// `AC….json`, `AC…/WS….json` or `WS….json`; the extension in any case.
    ///
    /// # Errors
    ///
    /// [`RuleBookError::Name`] when the path is none of those, [`RuleBookError::Spelling`] when
    /// a SID in it is written in another case, [`RuleBookError::Duplicate`] when that tenant
    /// already has a document, [`RuleBookError::Rules`] when the document does not compile.
    pub fn add(&mut self, path: &str, json: &str) -> Result<(), RuleBookError> {
        let name_error = || RuleBookError::Name {
            path: path.to_owned(),
        };
        let spelling = |source: SidError| match source.corrected() {
            Some(_) => RuleBookError::Spelling {
                path: path.to_owned(),
                source,
            },
            None => name_error(),
        };
        let (directory, file) = match path.split_once('/') {
            Some((directory, file)) if !file.contains('/') => (Some(directory), file),
            Some(_) => return Err(name_error()),
            None => (None, path),
        };
        let stem = file
            .len()
            .checked_sub(EXTENSION.len())
            .filter(|&at| file.is_char_boundary(at) && file[at..].eq_ignore_ascii_case(EXTENSION))
            .map(|at| &file[..at])
            .ok_or_else(name_error)?;
        let owner = directory
            .map(|directory| AccountSid::parse(directory).map_err(spelling))
            .transpose()?;
        let compile = || {
            Rules::compile_named(path, json)
                .map(|rules| Tenant {
                    path: path.to_owned(),
                    rules,
                })
                .map_err(|source| RuleBookError::Rules {
                    path: path.to_owned(),
                    source: Box::new(source),
                })
        };
        let duplicate = |earlier: &Tenant| RuleBookError::Duplicate {
            path: path.to_owned(),
            earlier: earlier.path.clone(),
        };
        if stem
            .get(..2)
            .is_some_and(|p| p.eq_ignore_ascii_case(WorkspaceSid::PREFIX))
        {
            let workspace = WorkspaceSid::parse(stem).map_err(spelling)?;
            if let Some(earlier) = self.workspaces.get(&workspace) {
                return Err(duplicate(&earlier.tenant));
            }
            let tenant = compile()?;
            self.workspaces
                .insert(workspace, WorkspaceDocument { owner, tenant });
        } else if directory.is_none()
            && stem
                .get(..2)
                .is_some_and(|p| p.eq_ignore_ascii_case(AccountSid::PREFIX))
        {
            let account = AccountSid::parse(stem).map_err(spelling)?;
            if let Some(earlier) = self.accounts.get(&account) {
                return Err(duplicate(earlier));
            }
            let tenant = compile()?;
            self.accounts.insert(account, tenant);
        } else {
            return Err(name_error());
        }
        Ok(())
    }

    /// The rules that decide `callback`, and which document they are: the workspace's, else the
    /// account's, else the default.
    ///
    /// # Errors
    ///
    /// [`CrossTenant`] when the workspace's document belongs to another account than the one
    /// that signed the callback.
    pub fn select<'a>(
        &'a self,
        callback: &'a AssignmentCallback,
    ) -> Result<(&'a Rules, Document<'a>), CrossTenant> {
        if let Some(document) = self.workspace_of(&callback.account_sid, &callback.workspace_sid)? {
            return Ok((
                &document.tenant.rules,
                Document::Workspace(&callback.workspace_sid),
            ));
        }
        if let Some(tenant) = self.accounts.get(&callback.account_sid) {
            return Ok((&tenant.rules, Document::Account(&callback.account_sid)));
        }
        Ok((&self.default, Document::Default))
    }

    /// Checks that `workspace` may be named by a callback `account` signed: it has no document,
    /// or its document is unbound or bound to `account`. For callbacks that are not decided by
    /// rules (workspace events), so they cannot be logged and counted under another tenant's
    /// workspace either.
    ///
    /// # Errors
    ///
    /// [`CrossTenant`] when the workspace's document belongs to another account.
    pub fn check_owner(
        &self,
        account: &AccountSid,
        workspace: &WorkspaceSid,
    ) -> Result<(), CrossTenant> {
        self.workspace_of(account, workspace).map(|_| ())
    }

    /// The document of `workspace`, if it has one that `account` may use.
    fn workspace_of(
        &self,
        account: &AccountSid,
        workspace: &WorkspaceSid,
    ) -> Result<Option<&WorkspaceDocument>, CrossTenant> {
        match self.workspaces.get(workspace) {
            Some(WorkspaceDocument {
                owner: Some(owner), ..
            }) if owner != account => Err(CrossTenant {
                account: account.clone(),
                workspace: workspace.clone(),
                owner: owner.clone(),
            }),
            found => Ok(found),
        }
    }

    /// The default document.
    pub fn default_rules(&self) -> &Rules {
        &self.default
    }

    /// The first document (`default`, or a tenant document's path, in path order) with a rule
    /// that defers to a decider, so callbacks may need the deferral queue; `None` when none does.
    pub fn deferring_document(&self) -> Option<&str> {
        if self.default.defers() {
            return Some("default");
        }
        let mut paths: Vec<&str> = self
            .accounts
            .values()
            .chain(self.workspaces.values().map(|document| &document.tenant))
            .filter(|tenant| tenant.rules.defers())
            .map(|tenant| tenant.path.as_str())
            .collect();
        paths.sort_unstable();
        paths.first().copied()
    }

    /// The number of tenant documents.
    pub fn tenant_documents(&self) -> usize {
        self.accounts.len() + self.workspaces.len()
    }

    /// Every account a document is bound to (by its name, or by the directory it is in), with
    /// that document's path, in path order.
    pub fn accounts(&self) -> Vec<(&AccountSid, &str)> {
        let mut bound: Vec<(&AccountSid, &str)> = self
            .accounts
            .iter()
            .map(|(account, tenant)| (account, tenant.path.as_str()))
            .chain(self.workspaces.values().filter_map(|document| {
                Some((document.owner.as_ref()?, document.tenant.path.as_str()))
            }))
            .collect();
        bound.sort_by_key(|(_, path)| *path);
        bound
    }

    /// The paths of the workspace documents no account is bound to (`WS….json` at the top), in
    /// path order.
    pub fn unbound_workspaces(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self
            .workspaces
            .values()
            .filter(|document| document.owner.is_none())
            .map(|document| document.tenant.path.as_str())
            .collect();
        paths.sort_unstable();
        paths
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::form::FormParams;

    const ACCOUNT_A: &str = "AC0000000000000000000000000000000a";
    const ACCOUNT_B: &str = "AC0000000000000000000000000000000b";
    const WORKSPACE_A1: &str = "WS000000000000000000000000000000a1";
    const WORKSPACE_A2: &str = "WS000000000000000000000000000000a2";
    const WORKSPACE_A3: &str = "WS000000000000000000000000000000a3";

    fn callback(account: &str, workspace: &str) -> AssignmentCallback {
        AssignmentCallback::try_from(FormParams::from_pairs([
            ("AccountSid", account),
            ("WorkspaceSid", workspace),
            ("WorkflowSid", "WW00000000000000000000000000000003"),
            ("TaskQueueSid", "WQ00000000000000000000000000000004"),
            ("WorkerSid", "WK00000000000000000000000000000005"),
            ("WorkerAttributes", "{}"),
            ("TaskSid", "WT00000000000000000000000000000006"),
            ("TaskAttributes", "{}"),
            ("TaskAge", "1"),
            ("TaskPriority", "0"),
            ("ReservationSid", "WR00000000000000000000000000000007"),
        ]))
        .expect("a valid callback")
    }

    /// A document whose one rule, named `name`, accepts everything.
    fn document(name: &str) -> String {
        json!({"rules": [{"name": name, "when": "1 == 1", "instruction": {"instruction": "accept"}}]})
            .to_string()
    }

    fn book() -> RuleBook {
        let mut book = RuleBook::new(Rules::builtin());
        book.add(&format!("{ACCOUNT_A}.json"), &document("account-a"))
            .expect("an account document");
        book.add(
            &format!("{ACCOUNT_A}/{WORKSPACE_A2}.json"),
            &document("workspace-a2"),
        )
        .expect("a workspace document bound to A");
        book.add(&format!("{WORKSPACE_A3}.json"), &document("workspace-a3"))
            .expect("a workspace document bound to no account");
        book
    }

    #[test]
    fn the_workspace_document_wins_then_the_account_document_then_the_default() {
        let book = book();
        let cases = [
            (
                ACCOUNT_A,
                WORKSPACE_A2,
                "workspace-a2",
                WORKSPACE_A2,
                "a workspace with its own document, signed by its owner",
            ),
            (
                ACCOUNT_A,
                WORKSPACE_A1,
                "account-a",
                ACCOUNT_A,
                "a workspace without one: its account's",
            ),
            (
                ACCOUNT_B,
                WORKSPACE_A1,
                "default",
                "default",
                "an account without a document: the default",
            ),
            (
                ACCOUNT_B,
                WORKSPACE_A3,
                "workspace-a3",
                WORKSPACE_A3,
                "a document bound to no account decides for whoever signed (one token: one account)",
            ),
        ];
        for (account, workspace, rule, document, why) in cases {
            let callback = callback(account, workspace);
            let (rules, chosen) = book.select(&callback).expect(why);
            assert_eq!(
                rules
                    .decide(&callback, jiff::Timestamp::UNIX_EPOCH)
                    .rule
                    .name(),
                rule,
                "{why}"
            );
            assert_eq!(chosen.to_string(), document, "{why}");
        }
        assert_eq!(book.tenant_documents(), 3);
        assert_eq!(
            book.accounts()
                .into_iter()
                .map(|(account, path)| (account.as_str(), path))
                .collect::<Vec<_>>(),
            [
                (ACCOUNT_A, "AC0000000000000000000000000000000a.json"),
                (
                    ACCOUNT_A,
                    "AC0000000000000000000000000000000a/WS000000000000000000000000000000a2.json"
                ),
            ]
        );
        assert_eq!(
            book.unbound_workspaces(),
            ["WS000000000000000000000000000000a3.json"]
        );
    }

    #[test]
    fn a_workspace_bound_to_another_account_is_refused_never_decided_by_either_document() {
        let book = book();
        let intruder = callback(ACCOUNT_B, WORKSPACE_A2);
        let refused = book
            .select(&intruder)
            .expect_err("B names a workspace of A");
        assert_eq!(
            refused,
            CrossTenant {
                account: AccountSid::parse(ACCOUNT_B).expect("a SID"),
                workspace: WorkspaceSid::parse(WORKSPACE_A2).expect("a SID"),
                owner: AccountSid::parse(ACCOUNT_A).expect("a SID"),
            }
        );
        assert_eq!(
            refused.to_string(),
            "workspace `WS000000000000000000000000000000a2` does not belong to account \
             `AC0000000000000000000000000000000b`: a workspace's callbacks are answered only for \
             the account that owns it",
            "the message names the signer and the workspace, never the owner"
        );
        assert_eq!(
            book.check_owner(&intruder.account_sid, &intruder.workspace_sid),
            Err(refused),
            "events are held to the same owner"
        );
        let owner = callback(ACCOUNT_A, WORKSPACE_A2);
        assert_eq!(
            book.check_owner(&owner.account_sid, &owner.workspace_sid),
            Ok(())
        );
    }

    #[test]
    fn a_book_without_tenant_documents_decides_everything_with_the_default() {
        let book = RuleBook::new(Rules::builtin());
        let callback = callback(ACCOUNT_A, WORKSPACE_A1);
        let (rules, chosen) = book.select(&callback).expect("nothing is bound");
        assert_eq!(chosen, Document::Default);
        assert_eq!(
            rules.decide(&callback, jiff::Timestamp::UNIX_EPOCH).body,
            "{}"
        );
        assert_eq!(book.tenant_documents(), 0);
    }

    #[test]
    fn documents_not_placed_by_a_tenant_are_refused_naming_the_path() {
        let cases = [
            ("rules.json", "a name that is no SID"),
            (
                "AC0000000000000000000000000000000a.yaml",
                "another extension",
            ),
            ("AC0000000000000000000000000000000a", "no extension"),
            ("WK0000000000000000000000000000000a.json", "a worker SID"),
            (".json", "only the extension"),
            (
                "AC0000000000000000000000000000000a/AC0000000000000000000000000000000b.json",
                "an account document inside an account",
            ),
            (
                "WS000000000000000000000000000000a1/WS000000000000000000000000000000a2.json",
                "a workspace directory",
            ),
            (
                "AC0000000000000000000000000000000a/x/WS000000000000000000000000000000a2.json",
                "two levels deep",
            ),
        ];
        for (path, why) in cases {
            let error = RuleBook::new(Rules::builtin())
                .add(path, &document("x"))
                .expect_err(why);
            assert_eq!(
                error,
                RuleBookError::Name {
                    path: path.to_owned()
                },
                "{why}"
            );
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("`{path}` is not named")),
                "{error}"
            );
        }
    }

    #[test]
    fn a_sid_spelled_in_another_case_is_refused_with_the_spelling_to_use() {
        let cases = [
            (
                "ac0000000000000000000000000000000a.json",
                "AC0000000000000000000000000000000a",
                "a lower-case prefix",
            ),
            (
                "AC0000000000000000000000000000000A.json",
                "AC0000000000000000000000000000000a",
                "upper-case digits in an account document's name",
            ),
            (
                "AC0000000000000000000000000000000A/WS000000000000000000000000000000a1.json",
                "AC0000000000000000000000000000000a",
                "upper-case digits in the account's directory",
            ),
            (
                "AC0000000000000000000000000000000a/WS000000000000000000000000000000A1.json",
                "WS000000000000000000000000000000a1",
                "upper-case digits in a workspace document's name",
            ),
        ];
        for (path, corrected, why) in cases {
            let error = RuleBook::new(Rules::builtin())
                .add(path, &document("x"))
                .expect_err(why);
            assert!(
                matches!(&error, RuleBookError::Spelling { path: p, .. } if p == path),
                "{why}: {error:?}"
            );
            assert!(
                error.to_string().ends_with(&format!("use `{corrected}`")),
                "{why}: {error}"
            );
        }
    }

    #[test]
    fn a_tenant_with_two_documents_and_an_invalid_document_are_refused_naming_the_path() {
        let mut book = book();
        let error = book
            .add(&format!("{ACCOUNT_A}.JSON"), &document("again"))
            .expect_err("a second document for account A");
        assert_eq!(
            error.to_string(),
            "`AC0000000000000000000000000000000a.JSON` names the same tenant as \
             `AC0000000000000000000000000000000a.json`: a workspace belongs to one account and \
             has one document; keep one of them"
        );
        let error = book
            .add(
                &format!("{ACCOUNT_B}/{WORKSPACE_A2}.json"),
                &document("b-claims-a2"),
            )
            .expect_err("one workspace under two accounts");
        assert!(
            matches!(&error, RuleBookError::Duplicate { earlier, .. }
                if earlier == &format!("{ACCOUNT_A}/{WORKSPACE_A2}.json")),
            "{error:?}"
        );

        let error = book
            .add(
                &format!("{ACCOUNT_B}.json"),
                r#"{"rules": [{"name": "voice", "when": "call_sid ==", "instruction": {}}]}"#,
            )
            .expect_err("an invalid document");
        let message = error.to_string();
        assert!(
            message.starts_with(
                "AC0000000000000000000000000000000b.json:1:38: error: rules[0] (`voice`), `when`"
            ),
            "{message}"
        );
    }
}
