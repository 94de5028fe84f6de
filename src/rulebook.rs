//! Which rules document decides a callback: a tenant's own, or the single document by default.
//!
//! One deployment may serve many accounts (see [`crate::token::accounts`]), and one tenant's rules
//! must not decide another's callbacks by accident: activity SIDs, queues and URLs in a document
//! belong to one account's workspace. A [`RuleBook`] holds the default document (the one of
//! `ASSIGNMENT_RULES`, `ASSIGNMENT_RULES_FILE` or the built-in deferral) and any number of tenant
//! documents, each named after the account or the workspace it decides for:
//!
//! | document named | decides |
//! |---|---|
//! | `WS….json` (a workspace SID) | the callbacks of that workspace |
//! | `AC….json` (an account SID) | the callbacks of that account's workspaces that have no document of their own |
//! | — | everything else: the default document |
//!
//! A workspace belongs to exactly one account, so the workspace document is the more specific and
//! wins. Every document is compiled when the book is built, so an invalid one stops the function
//! at start naming its file; selecting then cannot fail. This module is pure: the caller reads
//! the files (`ASSIGNMENT_RULES_DIR`, in [`crate::app`]) and hands over their names and texts.

use std::collections::HashMap;
use std::fmt;

use crate::callback::AssignmentCallback;
use crate::rules::{Rules, RulesError};
use crate::sid::{AccountSid, WorkspaceSid};

/// The extension a tenant document's file name ends with.
const EXTENSION: &str = ".json";

/// A tenant document that cannot be added. Each variant stops the function from starting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleBookError {
    /// The file name is not an account or a workspace SID followed by `.json`.
    #[error(
        "`{file}` is not named after an account or a workspace: name each tenant document \
         `<AccountSid>.json` (AC followed by 32 hex digits) or `<WorkspaceSid>.json` (WS…), \
         or move it out of the directory"
    )]
    Name {
        /// The file name.
        file: String,
    },
    /// Two files name the same tenant (e.g. `AC….json` and `AC….JSON`).
    #[error("`{file}` names the same tenant as `{earlier}`: keep one of them")]
    Duplicate {
        /// The file added second.
        file: String,
        /// The file added first.
        earlier: String,
    },
    /// The document does not compile.
    #[error("`{file}`: {source}")]
    Rules {
        /// The file name.
        file: String,
        /// What is wrong, naming the rule.
        source: Box<RulesError>,
    },
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

/// A tenant's document with the file it came from.
#[derive(Debug)]
struct Tenant {
    file: String,
    rules: Rules,
}

/// The default rules and the tenants' own.
#[derive(Debug)]
pub struct RuleBook {
    default: Rules,
    accounts: HashMap<AccountSid, Tenant>,
    workspaces: HashMap<WorkspaceSid, Tenant>,
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

    /// Compiles `json` as the document of the tenant `file` is named after (`AC….json` or
    /// `WS….json`; the extension in any case).
    ///
    /// # Errors
    ///
    /// [`RuleBookError::Name`] when the name is not a SID and `.json`,
    /// [`RuleBookError::Duplicate`] when that tenant already has a document,
    /// [`RuleBookError::Rules`] when the document does not compile.
    pub fn add(&mut self, file: &str, json: &str) -> Result<(), RuleBookError> {
        let stem = file
            .len()
            .checked_sub(EXTENSION.len())
            .filter(|&at| file.is_char_boundary(at) && file[at..].eq_ignore_ascii_case(EXTENSION))
            .map(|at| &file[..at]);
        let name_error = || RuleBookError::Name {
            file: file.to_owned(),
        };
        let stem = stem.ok_or_else(name_error)?;
        let compile = || {
            Rules::compile(json).map(|rules| Tenant {
                file: file.to_owned(),
                rules,
            })
        };
        let duplicate = |earlier: &Tenant| RuleBookError::Duplicate {
            file: file.to_owned(),
            earlier: earlier.file.clone(),
        };
        let rules_error = |source| RuleBookError::Rules {
            file: file.to_owned(),
            source: Box::new(source),
        };
        if let Ok(account) = AccountSid::parse(stem) {
            if let Some(earlier) = self.accounts.get(&account) {
                return Err(duplicate(earlier));
            }
            self.accounts
                .insert(account, compile().map_err(rules_error)?);
        } else if let Ok(workspace) = WorkspaceSid::parse(stem) {
            if let Some(earlier) = self.workspaces.get(&workspace) {
                return Err(duplicate(earlier));
            }
            self.workspaces
                .insert(workspace, compile().map_err(rules_error)?);
        } else {
            return Err(name_error());
        }
        Ok(())
    }

    /// The rules that decide `callback`, and which document they are: the workspace's, else the
    /// account's, else the default.
    pub fn select<'a>(&'a self, callback: &'a AssignmentCallback) -> (&'a Rules, Document<'a>) {
        if let Some(tenant) = self.workspaces.get(&callback.workspace_sid) {
            return (&tenant.rules, Document::Workspace(&callback.workspace_sid));
        }
        if let Some(tenant) = self.accounts.get(&callback.account_sid) {
            return (&tenant.rules, Document::Account(&callback.account_sid));
        }
        (&self.default, Document::Default)
    }

    /// The default document.
    pub fn default_rules(&self) -> &Rules {
        &self.default
    }

    /// The number of tenant documents.
    pub fn tenant_documents(&self) -> usize {
        self.accounts.len() + self.workspaces.len()
    }

    /// The accounts with a document of their own, with its file name.
    pub fn accounts(&self) -> impl Iterator<Item = (&AccountSid, &str)> {
        self.accounts
            .iter()
            .map(|(account, tenant)| (account, tenant.file.as_str()))
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
        book.add(&format!("{WORKSPACE_A2}.json"), &document("workspace-a2"))
            .expect("a workspace document");
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
                "WS000000000000000000000000000000a2",
                "a workspace with its own document",
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
        ];
        for (account, workspace, rule, document, why) in cases {
            let callback = callback(account, workspace);
            let (rules, chosen) = book.select(&callback);
            assert_eq!(
                rules.decide(&callback, jiff::Timestamp::UNIX_EPOCH).rule,
                rule,
                "{why}"
            );
            assert_eq!(chosen.to_string(), document, "{why}");
        }
        assert_eq!(book.tenant_documents(), 2);
        assert_eq!(
            book.accounts()
                .map(|(account, file)| (account.as_str(), file))
                .collect::<Vec<_>>(),
            [(ACCOUNT_A, "AC0000000000000000000000000000000a.json")]
        );
    }

    #[test]
    fn a_book_without_tenant_documents_decides_everything_with_the_default() {
        let book = RuleBook::new(Rules::builtin());
        let callback = callback(ACCOUNT_A, WORKSPACE_A1);
        let (rules, chosen) = book.select(&callback);
        assert_eq!(chosen, Document::Default);
        assert_eq!(
            rules.decide(&callback, jiff::Timestamp::UNIX_EPOCH).body,
            "{}"
        );
        assert_eq!(book.tenant_documents(), 0);
    }

    #[test]
    fn documents_not_named_after_a_tenant_or_invalid_are_refused_naming_the_file() {
        let cases = [
            ("rules.json", "a name that is no SID"),
            (
                "ac0000000000000000000000000000000a.json",
                "a lower-case prefix is no account SID",
            ),
            (
                "AC0000000000000000000000000000000a.yaml",
                "another extension",
            ),
            ("AC0000000000000000000000000000000a", "no extension"),
            ("WK0000000000000000000000000000000a.json", "a worker SID"),
            (".json", "only the extension"),
        ];
        for (file, why) in cases {
            let error = RuleBook::new(Rules::builtin())
                .add(file, &document("x"))
                .expect_err(why);
            assert_eq!(
                error,
                RuleBookError::Name {
                    file: file.to_owned()
                },
                "{why}"
            );
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("`{file}` is not named")),
                "{error}"
            );
        }

        let mut book = book();
        let error = book
            .add(&format!("{ACCOUNT_A}.JSON"), &document("again"))
            .expect_err("a second document for account A");
        assert_eq!(
            error.to_string(),
            "`AC0000000000000000000000000000000a.JSON` names the same tenant as \
             `AC0000000000000000000000000000000a.json`: keep one of them"
        );

        let error = book
            .add(
                &format!("{ACCOUNT_B}.json"),
                r#"{"rules": [{"name": "voice", "when": "call_sid ==", "instruction": {}}]}"#,
            )
            .expect_err("an invalid document");
        let message = error.to_string();
        assert!(
            message.starts_with("`AC0000000000000000000000000000000b.json`: rule `voice`"),
            "{message}"
        );
    }
}
