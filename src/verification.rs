//! Whether a request was sent by Twilio: the one check every callback passes before anything in
//! its payload is trusted.
//!
//! The transport ([`crate::http`]) reads what a request offers, [`Unverified`]: its
//! `X-Twilio-Signature` header, its body, and the facts of where it arrived
//! ([`RequestFacts`]); [`Verification::verify`] answers with the form parameters once the
//! signature checks out, or with the [`Refusal`] that says why not. The order of the steps is the
//! point (docs/taskrouter.md §4: verify before parsing), each one refusing before the next
//! costs anything:
//!
//! 1. the header, present and the base64 of a 20-byte HMAC-SHA1 ([`Signature::parse`]): an
//!    unsigned request costs no parsing, no token and no hashing;
//! 2. the body, parsed into pairs, refused unread when it is longer than any TaskRouter callback
//!    can be ([`FormParams::parse`]);
//! 3. the tokens: one account's ([`TokenStore`]), or those of the account the `AccountSid`
//!    names ([`AccountTokens`]; the claim only chooses, the signature decides);
//! 4. the URLs Twilio may have signed ([`public_url::candidates`], built only once there are
//!    tokens to check with) and the HMAC over each ([`signature`]), a REST API query's other
//!    orders within a fixed budget; on a mismatch, once more with tokens re-read from their store
//!    (a rotation).
//!
//! This module knows nothing of `lambda_http` or of HTTP statuses: the transport maps each
//! [`Refusal`] to its status.

use std::fmt;
use std::sync::Arc;

use crate::form::{FormError, FormParams};
use crate::public_url::{self, Candidates, PublicBase, RequestFacts};
use crate::sid::{AccountSid, SidError};
use crate::signature::{self, Signature, SignatureError, Verified};
use crate::token::{AccountError, AccountTokens, Deadline, TokenError, TokenSet, TokenStore};

/// The parameter naming the account, in every TaskRouter callback (docs/taskrouter.md §1,
/// docs/taskrouter.md §6).
const ACCOUNT_PARAMETER: &str = "AccountSid";
/// How many characters of a malformed, unverified `AccountSid` are echoed: a SID's length.
const ECHO_LIMIT: usize = 34;

/// Whether and how requests are verified, with the tokens to verify them.
pub enum Verification {
    /// Every request must carry a valid `X-Twilio-Signature` for one of these tokens.
    Enforced(Arc<TokenStore>),
    /// Every request must carry a valid `X-Twilio-Signature` for one of the tokens of the account
    /// its `AccountSid` names.
    PerAccount(Box<AccountTokens>),
    /// `TASKROUTER_INSECURE_SKIP_SIGNATURE=true`: requests are answered unverified, and every one
    /// is logged as such.
    Disabled,
}

impl fmt::Debug for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Enforced(store) => write!(f, "Enforced({})", store.describe_source()),
            Self::PerAccount(accounts) => write!(f, "PerAccount({})", accounts.describe_source()),
            Self::Disabled => f.write_str("Disabled"),
        }
    }
}

/// What a request offers to be verified, as the transport read it.
#[derive(Debug, Clone, Copy)]
pub struct Unverified<'a> {
    /// The `X-Twilio-Signature` header: `None` when absent; a value that is not visible ASCII
    /// as `""` (it cannot be base64 either).
    pub signature: Option<&'a str>,
    /// The body as received (API Gateway's base64 already decoded).
    pub body: &'a [u8],
    /// Where the request arrived.
    pub facts: RequestFacts<'a>,
}

/// A request whose signature checked out (or that was not checked at all).
#[derive(Debug)]
pub struct Checked {
    /// The form parameters, exactly as received.
    pub params: FormParams,
    /// What matched: the URL variant and the token; `None` when verification is off.
    pub matched: Option<Verified>,
}

/// Why a request is not trusted. The transport gives each its status.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The form body cannot be read, or is longer than any TaskRouter callback.
    #[error(transparent)]
    Form(#[from] FormError),
    /// No `X-Twilio-Signature` header.
    #[error(
        "the X-Twilio-Signature header is missing: only requests signed by Twilio are answered"
    )]
    MissingSignature,
    /// The signature does not match this request (checked with the tokens of `account` when the
    /// deployment has a token per account), or the header cannot be a signature at all.
    #[error("the X-Twilio-Signature header does not match this request")]
    InvalidSignature {
        /// Why it does not match (logged at debug level: the URLs tried).
        cause: SignatureError,
        /// The account whose tokens were tried, with a token per account.
        account: Option<AccountSid>,
    },
    /// With a token per account, the `AccountSid` names no account served here (not listed, no
    /// token), or is missing, repeated or malformed.
    #[error(transparent)]
    UnknownAccount(AccountError),
    /// With a token per account, the account is not known to this instance yet and neither the
    /// look-up budget nor a listing can answer it now.
    #[error(transparent)]
    LookupsExhausted(AccountError),
    /// The auth token cannot be loaded, so nothing can be verified.
    #[error("the auth token is unavailable, so the request cannot be verified; try again")]
    TokenUnavailable(TokenError),
}

impl Refusal {
    /// The account a refused request claimed, when it named a well-formed one and the deployment
    /// has a token per account. Not verified: for logs and metric properties, never dimensions.
    pub fn claimed_account(&self) -> Option<&AccountSid> {
        match self {
            Self::InvalidSignature { account, .. } => account.as_ref(),
            Self::UnknownAccount(error) | Self::LookupsExhausted(error) => error.account(),
            Self::Form(_) | Self::MissingSignature | Self::TokenUnavailable(_) => None,
        }
    }

    /// The refusal for an account whose tokens cannot be had.
    fn from_account(error: AccountError) -> Self {
        match error {
            AccountError::Unavailable { source, .. } => Self::TokenUnavailable(source),
            AccountError::LookupsExhausted(_) => Self::LookupsExhausted(error),
            other => Self::UnknownAccount(other),
        }
    }
}

impl Verification {
    /// Where the tokens come from, for the start-up log line; `None` when verification is off.
    pub fn describe_source(&self) -> Option<String> {
        match self {
            Self::Enforced(store) => Some(store.describe_source()),
            Self::PerAccount(accounts) => Some(accounts.describe_source()),
            Self::Disabled => None,
        }
    }

    /// Checks `request` in the order of the module docs; a token that has to be read for it is
    /// read by `deadline`. `base` is the configured public base URL, when there is one.
    ///
    /// # Errors
    ///
    /// The [`Refusal`] of the first step that fails.
    pub async fn verify(
        &self,
        base: Option<&PublicBase>,
        request: Unverified<'_>,
        deadline: Deadline,
    ) -> Result<Checked, Refusal> {
        let signature = match self {
            Self::Disabled => None,
            Self::Enforced(_) | Self::PerAccount(_) => Some(received_signature(request.signature)?),
        };
        let params = FormParams::parse(request.body)?;
        // With a token per account, the store of the account claimed, held while it is checked.
        let account_store;
        let (signature, store, tokens, account) = match (self, signature) {
            (Self::Disabled, _) => {
                return Ok(Checked {
                    params,
                    matched: None,
                });
            }
            // Read above whenever verification is on.
            (_, None) => return Err(Refusal::MissingSignature),
            (Self::Enforced(store), Some(signature)) => {
                let tokens = store
                    .tokens(deadline)
                    .await
                    .map_err(Refusal::TokenUnavailable)?;
                (signature, &**store, tokens, None)
            }
            (Self::PerAccount(accounts), Some(signature)) => {
                // The header was read first: an unsigned request costs no look-up.
                let account = claimed_account(&params).map_err(Refusal::UnknownAccount)?;
                let (store, tokens) = accounts
                    .tokens(&account, deadline)
                    .await
                    .map_err(Refusal::from_account)?;
                account_store = store;
                (signature, &*account_store, tokens, Some(account))
            }
        };
        // Built once there are tokens to check with: a refused account costs no URLs.
        let urls = public_url::candidates(base, &request.facts);
        let verified = check_signature(store, tokens, &urls, &params, &signature, deadline)
            .await
            .map_err(|cause| Refusal::InvalidSignature { cause, account })?;
        Ok(Checked {
            params,
            matched: Some(verified),
        })
    }
}

/// Checks `signature` with `tokens`; on a mismatch, once more with the store's re-read tokens
/// when it has new ones (a rotation; the re-read is rate-limited by the store, and only new
/// tokens, which no request can cause, buy a second pass).
///
/// The URLs as received are all tried; the reordered queries of a REST API event only within
/// [`public_url::REORDERED_QUERY_BUDGET`] bytes hashed per pass.
async fn check_signature(
    store: &TokenStore,
    tokens: Arc<TokenSet>,
    urls: &Candidates,
    params: &FormParams,
    signature: &Signature,
    deadline: Deadline,
) -> Result<Verified, SignatureError> {
    let verify = |tokens: &TokenSet| {
        signature::verify_form_within(
            &tokens.as_keys(),
            &urls.as_received,
            &urls.reordered,
            public_url::REORDERED_QUERY_BUDGET,
            params.pairs(),
            signature,
        )
    };
    let verified = verify(&tokens);
    if verified.is_ok() {
        return verified;
    }
    match store.refresh_after_mismatch(deadline).await {
        Some(tokens) => verify(&tokens),
        None => verified,
    }
}

/// The request's `X-Twilio-Signature`, when it can be a signature at all: the base64 of 20
/// bytes.
fn received_signature(header: Option<&str>) -> Result<Signature, Refusal> {
    let header = header.ok_or(Refusal::MissingSignature)?;
    Signature::parse(header).map_err(|cause| Refusal::InvalidSignature {
        cause,
        account: None,
    })
}

/// The account an unverified callback claims: the one `AccountSid` parameter, well formed. It
/// only chooses which tokens to verify with; the signature decides.
fn claimed_account(params: &FormParams) -> Result<AccountSid, AccountError> {
    let mut values = params
        .pairs()
        .iter()
        .filter(|(key, _)| key == ACCOUNT_PARAMETER)
        .map(|(_, value)| value.as_str());
    let first = values.next().ok_or(AccountError::Missing)?;
    if values.any(|value| value != first) {
        return Err(AccountError::Repeated);
    }
    AccountSid::parse(first).map_err(|error| {
        // Unverified input echoed in the answer and the log: enough of it to recognise, no more.
        AccountError::Malformed(SidError {
            input: error.input.chars().take(ECHO_LIMIT).collect(),
            ..error
        })
    })
}
