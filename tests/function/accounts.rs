//! One deployment, many Twilio accounts: a token per account under an SSM prefix, on a real
//! `moto_server`, with callbacks signed by Twilio's Python helper.
//!
//! Two kinds of test. Through the compiled function (the Runtime API emulator): what a callback
//! gets, and what its logs and metric lines say. In process, on `AccountTokens` with a
//! `ManualClock`: the per-minute properties, exactly, without waiting for the minute. Either way
//! the SSM requests (`GetParameters`: one per look-up, for an account's primary and secondary)
//! are counted by moto's own request recorder (see `support/moto.rs`), never on our side of the
//! SDK.

use std::future::Future as _;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use serde_json::Value;
use taskrouter_lambda::form::FormParams;
use taskrouter_lambda::sid::AccountSid;
use taskrouter_lambda::signature;
use taskrouter_lambda::token::accounts::ABSENT_CAPACITY;
use taskrouter_lambda::token::{
    AccountError, AccountSettings, AccountTokens, Deadline, Footprint, ManualClock, TokenSet,
};

use crate::support::moto::{Moto, sdk_config_loader};
use crate::support::ssm::{Limit, SsmStandIn};
use crate::support::twilio::{self, ASSIGNMENT, EVENT, ToSign};
use crate::support::{Function, HttpAnswer, json_lines};

const PREFIX: &str = "/taskrouter/accounts/";

/// One of the test's Twilio accounts.
struct Account {
    sid: &'static str,
    token: &'static str,
}

const A: Account = Account {
    sid: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    token: "token-of-account-a",
};
const B: Account = Account {
    sid: "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    token: "token-of-account-b",
};
const C: Account = Account {
    sid: "ACcccccccccccccccccccccccccccccccc",
    token: "token-of-account-c",
};
/// C's secondary token: C is rotating.
const C_SECONDARY: &str = "next-token-of-account-c";

fn primary(account: &str) -> String {
    format!("{PREFIX}{account}")
}

fn secondary(account: &str) -> String {
    format!("{PREFIX}secondary/{account}")
}

/// An account SID nobody created: `n` in hex.
fn invented(n: u32) -> AccountSid {
    AccountSid::parse(&format!("AC{n:032x}")).expect("a well-formed SID")
}

/// The fixture's callback as sent by `account`.
fn from(fixture: &str, account: &str) -> FormParams {
    twilio::with(&twilio::params(fixture), "AccountSid", account)
}

/// The fixture's callback as sent by `account`, to be signed with `token`.
fn sent_by<'a>(fixture: &'a str, account: &str, token: &'a str) -> ToSign<'a> {
    ToSign {
        fixture,
        params: from(fixture, account),
        token,
    }
}

/// Moto holding the tokens of A, B and C (C with its secondary).
async fn three_accounts() -> Moto {
    let moto = Moto::start().await;
    for account in [&A, &B, &C] {
        moto.put_secure_string(&primary(account.sid), account.token)
            .await;
    }
    moto.put_secure_string(&secondary(C.sid), C_SECONDARY).await;
    moto
}

/// The compiled function with a token per account under [`PREFIX`], on `moto`, plus `extra`.
async fn function(moto: &Moto, extra: &[(&str, &str)]) -> Function {
    let mut env: Vec<(&str, String)> = moto.function_env();
    env.push(("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", PREFIX.to_owned()));
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Function::start_with(&env).await
}

/// The JSON lines the function printed (logs and metric lines).
fn code(answer: &HttpAnswer) -> String {
    answer.json()["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn keys(set: &TokenSet) -> Vec<String> {
    set.as_keys()
        .into_iter()
        .map(|key| String::from_utf8_lossy(key).into_owned())
        .collect()
}

fn settings(allowed: Option<Vec<AccountSid>>, lookups_per_minute: u32) -> AccountSettings {
    AccountSettings::new(
        PREFIX.to_owned(),
        allowed,
        NonZeroU32::new(lookups_per_minute).expect("a budget"),
    )
    .expect("valid settings")
}

const MINUTE: Duration = Duration::from_secs(60);

/// The deadline of a callback arriving now.
fn deadline() -> Deadline {
    Deadline::after(Instant::now())
}

// Through the compiled function.

#[tokio::test]
async fn callbacks_of_three_accounts_signed_by_twilios_python_helper_are_each_verified_with_their_own_token()
 {
    let moto = three_accounts().await;
    let function = function(&moto, &[]).await;
    let events = twilio::signed_events(&[
        sent_by(ASSIGNMENT, A.sid, A.token),
        sent_by(ASSIGNMENT, B.sid, B.token),
        sent_by(ASSIGNMENT, C.sid, C.token),
        sent_by(ASSIGNMENT, C.sid, C_SECONDARY),
        sent_by(EVENT, B.sid, B.token),
    ]);
    let expected = [
        (200, "account A, its token"),
        (200, "account B, its token"),
        (200, "account C, its primary token"),
        (200, "account C, its secondary token during a rotation"),
        (204, "account B's workspace event"),
    ];
    for round in ["first", "second"] {
        for (event, (status, why)) in events.iter().zip(expected) {
            let answer = function.http(event.clone()).await;
            assert_eq!(
                answer.status,
                status,
                "{round} round, {why}: {}\n{}",
                answer.body,
                function.output()
            );
        }
    }
    assert_eq!(
        moto.reads(),
        [A.sid, B.sid, C.sid].map(|sid| vec![primary(sid), secondary(sid)]),
        "each account read once, on its first callback: its primary and its secondary in one \
         GetParameters"
    );

    let lines = json_lines(&function.output());
    let answered: Vec<&str> = lines
        .iter()
        .filter(|line| line["message"] == "assignment answered")
        .filter_map(|line| line["account_sid"].as_str())
        .collect();
    assert_eq!(
        answered[..4],
        [A.sid, B.sid, C.sid, C.sid],
        "each log line names its account"
    );
    let events_logged: Vec<&str> = lines
        .iter()
        .filter(|line| line["message"] == "workspace event")
        .filter_map(|line| line["account_sid"].as_str())
        .collect();
    assert_eq!(events_logged, [B.sid, B.sid]);
    let metric_accounts: Vec<&str> = lines
        .iter()
        .filter(|line| line["Decisions"] == 1)
        .filter_map(|line| line["AccountSid"].as_str())
        .collect();
    assert_eq!(
        metric_accounts[..4],
        [A.sid, B.sid, C.sid, C.sid],
        "each decision's metric line names its account as a property"
    );
    let tokens = [A.token, B.token, C.token, C_SECONDARY];
    let output = function.output();
    for token in tokens {
        assert!(!output.contains(token), "a token in the output: {token}");
    }
}

#[tokio::test]
async fn cross_account_forgeries_and_callbacks_of_unknown_accounts_are_refused_403() {
    let moto = three_accounts().await;
    let function = function(&moto, &[]).await;
    let assignment = twilio::params(ASSIGNMENT);
    let events = twilio::signed_events(&[
        sent_by(ASSIGNMENT, B.sid, A.token),
        sent_by(EVENT, B.sid, A.token),
        ToSign {
            fixture: ASSIGNMENT,
            params: from(ASSIGNMENT, invented(7).as_str()),
            token: A.token,
        },
        ToSign {
            fixture: ASSIGNMENT,
            params: twilio::without(&assignment, "AccountSid"),
            token: A.token,
        },
        ToSign {
            fixture: ASSIGNMENT,
            params: twilio::with(&assignment, "AccountSid", "AC123"),
            token: A.token,
        },
        sent_by(ASSIGNMENT, B.sid, B.token),
    ]);
    let expected = [
        (403, "invalid_signature", "claims B, signed with A's token"),
        (
            403,
            "invalid_signature",
            "a workspace event claiming B, signed with A's token",
        ),
        (
            403,
            "unknown_account",
            "an account with no parameter, signed with A's token",
        ),
        (403, "unknown_account", "no AccountSid"),
        (403, "unknown_account", "an AccountSid that is no SID"),
        (200, "", "B's own callback, in the same process"),
    ];
    for (event, (status, expected_code, why)) in events.into_iter().zip(expected) {
        let answer = function.http(event).await;
        assert_eq!(answer.status, status, "{why}: {}", answer.body);
        if status != 200 {
            assert_eq!(code(&answer), expected_code, "{why}");
        }
    }
    let lines = json_lines(&function.output());
    let claimed: Vec<&str> = lines
        .iter()
        .filter(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("request refused"))
        })
        .filter_map(|line| line["claimed_account_sid"].as_str())
        .collect();
    assert_eq!(
        claimed,
        [B.sid, B.sid, invented(7).as_str()],
        "refusals name the account claimed (when it is a SID)"
    );
    let failures: Vec<(&str, Option<&str>)> = lines
        .iter()
        .filter(|line| line["SignatureFailures"] == 1)
        .map(|line| {
            (
                line["Reason"].as_str().unwrap_or(""),
                line["ClaimedAccountSid"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        [
            ("invalid_signature", Some(B.sid)),
            ("invalid_signature", Some(B.sid)),
            ("unknown_account", Some(invented(7).as_str())),
            ("unknown_account", None),
            ("unknown_account", None),
        ],
        "each refusal is one SignatureFailures metric line, the claim a property"
    );
}

#[tokio::test]
async fn with_a_list_of_accounts_any_other_is_refused_without_a_single_ssm_request() {
    let moto = three_accounts().await;
    let list = format!("{},{}", A.sid, B.sid);
    let function = function(&moto, &[("TWILIO_ACCOUNT_SIDS", &list)]).await;
    let mut callbacks = vec![sent_by(ASSIGNMENT, C.sid, C.token)];
    for n in 0..50 {
        callbacks.push(ToSign {
            fixture: ASSIGNMENT,
            params: from(ASSIGNMENT, invented(n).as_str()),
            token: "forged",
        });
    }
    callbacks.push(sent_by(ASSIGNMENT, A.sid, A.token));
    let events = twilio::signed_events(&callbacks);
    let (others, listed) = events.split_at(events.len() - 1);
    for event in others {
        let answer = function.http(event.clone()).await;
        assert_eq!(answer.status, 403, "{}", answer.body);
        assert_eq!(code(&answer), "unknown_account");
    }
    let answer = function.http(listed[0].clone()).await;
    assert_eq!(answer.status, 200, "a listed account: {}", answer.body);
    assert_eq!(
        moto.reads(),
        [[primary(A.sid), secondary(A.sid)]],
        "only the listed account that called was read, with one request for both its names: C \
         (which has a parameter) and 50 invented accounts cost nothing"
    );
}

/// A callback of an invented account as a flood sends it: a signature header, well formed
/// (signed with a token of the attacker's choosing) or not.
fn flooding(n: u32) -> Value {
    let params = from(ASSIGNMENT, invented(n).as_str());
    let header = if n.is_multiple_of(3) {
        "not a signature".to_owned()
    } else {
        signature::sign(
            b"attacker's token",
            &twilio::url(ASSIGNMENT),
            params.pairs(),
        )
    };
    twilio::event(ASSIGNMENT, &params, &header)
}

/// Sends `count` flooding callbacks; each must be refused: `403 invalid_signature` before any
/// look-up when its header is not a signature at all, `403 unknown_account` otherwise.
async fn flood_function(function: &Function, accounts: std::ops::Range<u32>) {
    for n in accounts {
        let answer = function.http(flooding(n)).await;
        let expected = if n.is_multiple_of(3) {
            "invalid_signature"
        } else {
            "unknown_account"
        };
        assert_eq!(
            (answer.status, code(&answer).as_str()),
            (403, expected),
            "invented account {n}: {}",
            answer.body
        );
    }
}

#[tokio::test]
async fn a_flood_of_invented_account_sids_reads_ssm_a_bounded_number_of_times_while_known_accounts_answer()
 {
    let moto = three_accounts().await;
    // An hour: A's tokens never age during the flood, so every read of A counted below is one
    // the flood caused, and the one listing of the prefix is used throughout.
    let function = function(&moto, &[("AUTH_TOKEN_REFRESH_SECONDS", "3600")]).await;
    let genuine = twilio::signed_events(&[sent_by(ASSIGNMENT, A.sid, A.token)]).remove(0);
    assert_eq!(function.http(genuine.clone()).await.status, 200);

    let started = Instant::now();
    for round in 0..10 {
        flood_function(&function, round * 30..(round + 1) * 30).await;
        let answer = function.http(genuine.clone()).await;
        assert_eq!(
            answer.status, 200,
            "account A during the flood: {}",
            answer.body
        );
    }
    let elapsed = started.elapsed();

    // The default budget: 10 look-ups at once, then one every 6 s; one request each.
    let most_lookups = 10 + elapsed.as_secs().div_ceil(6) as usize;
    let invented_requests = moto.read_count(PREFIX) - 1;
    assert!(
        (10..=most_lookups).contains(&invented_requests),
        "{invented_requests} requests for 300 invented accounts in {elapsed:?}: the budget's \
         first ten, at most {most_lookups}"
    );
    assert_eq!(
        moto.listing_count(PREFIX),
        1,
        "then one listing of the prefix (three parameters, one page) answered the rest"
    );
    assert_eq!(
        moto.read_count(&primary(A.sid)),
        1,
        "account A was read once, before the flood, and never again"
    );
    println!(
        "300 invented accounts in {elapsed:?}: {invented_requests} GetParameters requests and \
         one listing, every one refused 403"
    );
}

#[tokio::test]
async fn real_accounts_not_seen_yet_are_answered_on_their_first_callback_after_a_flood_of_invented_ones()
 {
    // Twenty-five accounts whose parameters exist (three pages of a listing), none of them seen
    // by this process: the flood comes first, as an attacker would send it to a new instance.
    let moto = Moto::start().await;
    let accounts: Vec<(String, String)> = (0..25u32)
        .map(|n| {
            (
                format!("AC{:032x}", 0xa000 + n),
                format!("token-of-account-{n}"),
            )
        })
        .collect();
    for (sid, token) in &accounts {
        moto.put_secure_string(&primary(sid), token).await;
    }
    moto.put_secure_string(&secondary(&accounts[0].0), "next-token-of-account-0")
        .await;
    let function = function(&moto, &[]).await;
    let callbacks: Vec<ToSign> = accounts
        .iter()
        .map(|(sid, token)| sent_by(ASSIGNMENT, sid, token))
        .chain([sent_by(
            ASSIGNMENT,
            &accounts[0].0,
            "next-token-of-account-0",
        )])
        .collect();
    let real = twilio::signed_events(&callbacks);

    let started = Instant::now();
    flood_function(&function, 0..400).await;
    for (event, n) in real.into_iter().zip(0..) {
        let answer = function.http(event).await;
        assert_eq!(
            answer.status,
            200,
            "real account {n}, first callback after the flood: {}\n{}",
            answer.body,
            function.output()
        );
    }
    let elapsed = started.elapsed();

    // Invented SIDs are `n` in hex, below 0x1000: 29 zeros; the real ones have an `a` there.
    let invented_prefix = primary(&format!("AC{}", "0".repeat(29)));
    let invented_requests = moto
        .reads()
        .iter()
        .filter(|names| names.iter().any(|name| name.starts_with(&invented_prefix)))
        .count();
    let most_lookups = 10 + elapsed.as_secs().div_ceil(6) as usize;
    assert!(
        invented_requests <= most_lookups,
        "{invented_requests} GetParameters for 400 invented accounts in {elapsed:?}, at most \
         {most_lookups}"
    );
    let pages = moto.listing_count(PREFIX);
    let most_listings = 1 + elapsed.as_secs().div_ceil(60) as usize;
    assert!(
        (3..=3 * most_listings).contains(&pages),
        "{pages} GetParametersByPath pages: 25 parameters are three pages a listing, at most \
         {most_listings} listings in {elapsed:?}"
    );
    for (sid, _) in &accounts {
        assert_eq!(
            moto.read_count(&primary(sid)),
            1,
            "{sid}: read once, on its first callback, with its secondary"
        );
    }
    println!(
        "400 invented accounts then 25 real ones in {elapsed:?}: {invented_requests} \
         GetParameters for invented accounts, {pages} listing pages, 25 reads of real accounts"
    );
}

#[tokio::test]
async fn one_accounts_parameter_removed_and_another_unreadable_while_the_others_keep_answering() {
    let moto = three_accounts().await;
    let d = Account {
        sid: "ACdddddddddddddddddddddddddddddddd",
        token: "token-of-account-d",
    };
    // Readable by SSM, but no token: a blank value (as after a botched edit in the console).
    moto.put_secure_string(&primary(d.sid), " ").await;
    let function = function(&moto, &[]).await;
    let events = twilio::signed_events(&[
        sent_by(ASSIGNMENT, A.sid, A.token),
        sent_by(ASSIGNMENT, B.sid, B.token),
        sent_by(ASSIGNMENT, C.sid, C.token),
        sent_by(ASSIGNMENT, d.sid, d.token),
    ]);
    let [a, b, c, d_event] = <[Value; 4]>::try_from(events).expect("four events");
    for (event, why) in [(&a, "A"), (&c, "C")] {
        assert_eq!(
            function.http(event.clone()).await.status,
            200,
            "{why} before"
        );
    }

    moto.delete_parameter(&primary(B.sid)).await;

    let cases = [
        (&a, 200, "", "A keeps answering"),
        (&b, 403, "unknown_account", "B's parameter was removed"),
        (&c, 200, "", "C keeps answering"),
        (
            &d_event,
            503,
            "token_unavailable",
            "D's parameter holds no token",
        ),
        (&a, 200, "", "A still"),
        (&c, 200, "", "C still"),
    ];
    for (event, status, expected_code, why) in cases {
        let answer = function.http(event.clone()).await;
        assert_eq!(answer.status, status, "{why}: {}", answer.body);
        if status != 200 {
            assert_eq!(code(&answer), expected_code, "{why}");
        }
    }
    let output = function.output();
    assert!(
        output.contains(&format!("\"parameter\":\"{}\"", primary(B.sid))),
        "the log names the parameter to create:\n{output}"
    );
}

/// The refresh interval of the tests below that wait for it: short, so they wait seconds rather
/// than the default minute.
const REFRESH: Duration = Duration::from_secs(2);

/// A callback of `account` forged: signed with a token of the attacker's choosing.
fn forged(account: &str) -> Value {
    let params = from(ASSIGNMENT, account);
    let signature = signature::sign(
        b"attacker's token",
        &twilio::url(ASSIGNMENT),
        params.pairs(),
    );
    twilio::event(ASSIGNMENT, &params, &signature)
}

#[tokio::test]
async fn a_known_account_picks_up_its_rotated_token_while_forged_requests_keep_the_look_up_budget_spent()
 {
    let list = format!("{},{}", A.sid, B.sid);
    // (TWILIO_ACCOUNT_SIDS, what spends the budget, the forged request and the answer it gets)
    let cases = [
        (
            None,
            "look-ups of invented accounts, then refusals from the listing of the prefix",
            forged(invented(1).as_str()),
            (403, "unknown_account"),
        ),
        (
            Some(list.as_str()),
            "forged callbacks naming B, another listed account",
            forged(B.sid),
            (403, "invalid_signature"),
        ),
    ];
    for (listed, spender, forged_request, (status, expected_code)) in cases {
        let moto = three_accounts().await;
        let refresh = REFRESH.as_secs().to_string();
        let mut extra = vec![
            ("AUTH_TOKEN_REFRESH_SECONDS", refresh.as_str()),
            ("ACCOUNT_LOOKUPS_PER_MINUTE", "1"),
        ];
        extra.extend(listed.map(|list| ("TWILIO_ACCOUNT_SIDS", list)));
        let function = function(&moto, &extra).await;
        let [a, b] = <[Value; 2]>::try_from(twilio::signed_events(&[
            sent_by(ASSIGNMENT, A.sid, A.token),
            sent_by(ASSIGNMENT, B.sid, B.token),
        ]))
        .expect("two events");
        for (event, why) in [(a, "A"), (b, "B")] {
            let answer = function.http(event).await;
            assert_eq!(answer.status, 200, "{spender}: {why}: {}", answer.body);
        }
        let started = Instant::now();

        // A rotates: Twilio signs with its new token, which replaces the primary.
        moto.put_secure_string(&primary(A.sid), "rotated-token-of-a")
            .await;
        tokio::time::sleep(REFRESH).await;
        // The budget of one look-up a minute, spent: by the first invented account (found
        // absent), then refused; or by a re-read of B after its forged signature mismatched.
        if listed.is_none() {
            let answer = function.http(forged(invented(0).as_str())).await;
            assert_eq!(code(&answer), "unknown_account", "{spender}");
        }
        for _ in 0..3 {
            let answer = function.http(forged_request.clone()).await;
            assert_eq!(answer.status, status, "{spender}: {}", answer.body);
            assert_eq!(code(&answer), expected_code, "{spender}");
        }

        let rotated = twilio::signed_events(&[sent_by(ASSIGNMENT, A.sid, "rotated-token-of-a")]);
        let answer = function.http(rotated[0].clone()).await;
        assert_eq!(
            answer.status,
            200,
            "{spender}: A's callback signed with its rotated token: {}\n{}",
            answer.body,
            function.output()
        );

        let most = 1 + 2 * (started.elapsed().as_secs() / REFRESH.as_secs() + 1) as usize;
        for account in [A.sid, B.sid] {
            let reads = moto.read_count(&primary(account));
            assert!(
                reads <= most,
                "{spender}: {reads} requests for {account}, at most {most} allowed"
            );
        }
        assert_eq!(
            moto.read_count(&primary(A.sid)),
            2,
            "{spender}: A's first load and the re-read that found its rotated token"
        );
        assert!(
            moto.read_count(&format!("{PREFIX}AC0000")) <= 2,
            "{spender}: invented accounts: the budget's one look-up (two across a minute)"
        );
        assert!(
            moto.listing_count(PREFIX) <= most,
            "{spender}: at most one listing of the prefix per refresh interval"
        );
    }
}

#[tokio::test]
async fn after_an_accounts_rotation_its_deleted_old_token_stops_verifying_within_the_refresh_interval()
 {
    let moto = three_accounts().await;
    let refresh = REFRESH.as_secs().to_string();
    let function = function(&moto, &[("AUTH_TOKEN_REFRESH_SECONDS", &refresh)]).await;
    // C is rotating (its primary and its secondary are both accepted); B is served.
    let [c_old, c_new, b] = <[Value; 3]>::try_from(twilio::signed_events(&[
        sent_by(ASSIGNMENT, C.sid, C.token),
        sent_by(ASSIGNMENT, C.sid, C_SECONDARY),
        sent_by(ASSIGNMENT, B.sid, B.token),
    ]))
    .expect("three events");
    for (event, why) in [
        (&c_old, "C's old token"),
        (&c_new, "C's new one"),
        (&b, "B"),
    ] {
        let answer = function.http(event.clone()).await;
        assert_eq!(answer.status, 200, "{why}: {}", answer.body);
    }
    let started = Instant::now();

    // C's rotation ends as the README says: Twilio signs with the secondary, which overwrites
    // the primary; the secondary is deleted. B is removed: its parameter deleted.
    moto.put_secure_string(&primary(C.sid), C_SECONDARY).await;
    moto.delete_parameter(&secondary(C.sid)).await;
    moto.delete_parameter(&primary(B.sid)).await;
    tokio::time::sleep(REFRESH).await;

    let cases = [
        (
            &c_new,
            200,
            "",
            "Twilio's callback for C, signed with its new token",
        ),
        (
            &c_old,
            403,
            "invalid_signature",
            "a callback forged with C's old token, which SSM no longer holds",
        ),
        (&b, 403, "unknown_account", "B, whose parameter was deleted"),
        (&b, 403, "unknown_account", "B again, from memory"),
        (&c_new, 200, "", "C again"),
    ];
    for (event, status, expected_code, why) in cases {
        let answer = function.http(event.clone()).await;
        assert_eq!(
            answer.status,
            status,
            "{why}: {}\n{}",
            answer.body,
            function.output()
        );
        if status != 200 {
            assert_eq!(code(&answer), expected_code, "{why}");
        }
    }
    let most = 1 + 2 * (started.elapsed().as_secs() / REFRESH.as_secs() + 1) as usize;
    for (account, why) in [(C.sid, "C"), (B.sid, "B")] {
        let reads = moto.read_count(&primary(account));
        assert!(
            (2..=most).contains(&reads),
            "{why}: the first load and a re-read as its tokens aged: {reads} requests, {most} \
             allowed"
        );
    }
}

#[tokio::test]
async fn a_listed_account_without_a_readable_parameter_is_read_once_however_often_forged_requests_name_it()
 {
    let moto = three_accounts().await;
    let (d, e) = (invented(0xd), invented(0xe));
    // D has no parameter; E's holds no token (a blank value).
    moto.put_secure_string(&primary(e.as_str()), " ").await;
    let list = format!("{},{d},{e}", A.sid);
    let function = function(&moto, &[("TWILIO_ACCOUNT_SIDS", &list)]).await;
    let cases = [
        (&d, 403, "unknown_account", "no parameter"),
        (&e, 503, "token_unavailable", "a blank parameter"),
    ];
    // Further apart than the spacing of reads after a failure (1 s), which alone would let each
    // of them read again.
    for round in 0..3 {
        if round > 0 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        for (account, status, expected_code, why) in cases {
            let answer = function.http(forged(account.as_str())).await;
            assert_eq!(
                answer.status, status,
                "{why}, round {round}: {}",
                answer.body
            );
            assert_eq!(code(&answer), expected_code, "{why}, round {round}");
        }
    }
    for (account, _, _, why) in cases {
        assert_eq!(
            moto.read_count(&primary(account.as_str())),
            1,
            "{why}: read once, the answer remembered for the refresh interval"
        );
    }
    let lines = json_lines(&function.output());
    let warned = |account: &AccountSid| {
        lines
            .iter()
            .filter(|line| line["level"] == "WARN")
            .filter(|line| {
                line["account_sid"] == account.as_str()
                    || line["source"]
                        .as_str()
                        .is_some_and(|source| source.contains(account.as_str()))
            })
            .count()
    };
    assert_eq!(warned(&d), 1, "one warning for D\n{}", function.output());
    assert_eq!(warned(&e), 1, "one warning for E\n{}", function.output());
    let a = twilio::signed_events(&[sent_by(ASSIGNMENT, A.sid, A.token)]);
    assert_eq!(function.http(a[0].clone()).await.status, 200, "A is served");
}

#[tokio::test]
async fn single_account_and_per_account_token_settings_together_stop_the_function_at_start() {
    let mut function = Function::start(&[("TWILIO_AUTH_TOKEN_PARAMETER_PREFIX", PREFIX)]).await;
    let exit = function.exit_code().await;
    let output = function.output();
    assert_ne!(exit, Some(0), "{output}");
    assert!(
        output.contains("TWILIO_AUTH_TOKEN (one account's token) and TWILIO_AUTH_TOKEN_PARAMETER_PREFIX (a token per account) are both set"),
        "{output}"
    );
}

// In process, on a clock that moves only when told.

/// `AccountTokens` reading `moto`, on `clock`.
async fn tokens_on(
    moto: &Moto,
    settings: AccountSettings,
    clock: &Arc<ManualClock>,
) -> AccountTokens {
    let clock: Arc<ManualClock> = Arc::clone(clock);
    AccountTokens::with_sdk_config(settings, MINUTE, &moto.sdk_config().await, clock)
}

/// Looks up each of `accounts` in turn; counts those refused as having no parameter (after a
/// look-up or from the listing of the prefix) and those refused because nothing could tell.
/// Any other outcome fails the test.
async fn flood(tokens: &AccountTokens, accounts: std::ops::Range<u32>) -> (usize, usize) {
    let (mut absent, mut exhausted) = (0, 0);
    for n in accounts {
        match tokens.tokens(&invented(n), deadline()).await {
            Err(AccountError::NoParameter(_)) => absent += 1,
            Err(AccountError::LookupsExhausted(_)) => exhausted += 1,
            other => panic!("invented account {n}: {other:?}"),
        }
    }
    (absent, exhausted)
}

/// The `GetParameters` requests for invented accounts (`n` in hex, below 0x1000000).
fn invented_reads(moto: &Moto) -> usize {
    moto.read_count(&primary(&format!("AC{}", "0".repeat(26))))
}

#[tokio::test]
async fn invented_account_sids_cost_the_budget_then_one_listing_a_refresh_interval_however_many_there_are()
 {
    let moto = three_accounts().await;
    let clock = Arc::new(ManualClock::new());
    let tokens = tokens_on(&moto, settings(None, 10), &clock).await;

    assert_eq!(
        flood(&tokens, 0..1000).await,
        (1000, 0),
        "every one refused as unknown, none for want of a look-up"
    );
    assert_eq!(invented_reads(&moto), 10, "the budget: 10 look-ups");
    assert_eq!(
        moto.listing_count(PREFIX),
        1,
        "then one listing of the prefix, one page for three accounts"
    );
    assert_eq!(
        tokens.footprint(),
        Footprint {
            accounts: 0,
            absent: 10,
            listed: 3
        },
        "nothing kept for the 990 but the listing of the three accounts that exist"
    );

    assert_eq!(flood(&tokens, 0..10).await, (10, 0), "the same ten again");
    assert_eq!(
        invented_reads(&moto),
        10,
        "remembered as absent, without a request"
    );

    clock.advance(Duration::from_secs(30));
    assert_eq!(flood(&tokens, 1000..2000).await, (1000, 0));
    assert_eq!(
        invented_reads(&moto),
        15,
        "half a minute refills half the budget"
    );
    assert_eq!(
        moto.listing_count(PREFIX),
        1,
        "and the listing, half the refresh interval old, still answers"
    );

    clock.advance(MINUTE);
    assert_eq!(flood(&tokens, 2000..12_000).await, (10_000, 0));
    assert_eq!(invented_reads(&moto), 25);
    assert_eq!(
        moto.listing_count(PREFIX),
        2,
        "a listing as old as the refresh interval is listed again, once"
    );
    let footprint = tokens.footprint();
    assert_eq!(footprint.accounts, 0);
    assert_eq!(
        footprint.absent, 10,
        "the absent accounts of earlier minutes are forgotten after the refresh interval"
    );
    assert!(footprint.absent <= ABSENT_CAPACITY);
}

#[tokio::test]
async fn once_the_budget_is_spent_an_account_of_the_listing_is_found_without_spending_it_and_a_new_one_at_the_next_listing()
 {
    let moto = three_accounts().await;
    let clock = Arc::new(ManualClock::new());
    let tokens = tokens_on(&moto, settings(None, 2), &clock).await;
    assert_eq!(flood(&tokens, 0..50).await, (50, 0));
    assert_eq!(moto.listing_count(PREFIX), 1);

    for account in [&A, &B, &C] {
        let sid = AccountSid::parse(account.sid).expect("a SID");
        let (_, set) = tokens
            .tokens(&sid, deadline())
            .await
            .expect("an account of the listing, its first look-up after the flood");
        assert_eq!(keys(&set)[0], account.token);
    }
    assert_eq!(
        invented_reads(&moto),
        2,
        "the three real accounts took nothing of the budget: none was left for the invented ones"
    );

    // D is created after the listing: refused from the listing until it is listed again.
    let d = invented(0xd00d);
    moto.put_secure_string(&primary(d.as_str()), "token-of-account-d")
        .await;
    assert_eq!(
        tokens.tokens(&d, deadline()).await.map(|_| ()),
        Err(AccountError::NoParameter(d.clone())),
        "not in the listing, and no look-up left to check"
    );
    assert_eq!(
        moto.read_count(&primary(d.as_str())),
        0,
        "nothing read for it"
    );
    clock.advance(MINUTE);
    assert_eq!(flood(&tokens, 100..103).await, (3, 0));
    assert_eq!(
        moto.listing_count(PREFIX),
        2,
        "the budget refilled by two, the third invented account listed the prefix again"
    );
    let (_, set) = tokens
        .tokens(&d, deadline())
        .await
        .expect("found by the next listing");
    assert_eq!(keys(&set), ["token-of-account-d"]);
    assert_eq!(tokens.footprint().listed, 4);
}

#[tokio::test]
async fn a_listing_the_role_may_not_make_fails_closed_and_is_not_tried_again_within_half_the_refresh_interval()
 {
    // SSM refusing GetParametersByPath as it refuses a role without the permission.
    let ssm = SsmStandIn::start(&[(&primary(A.sid), A.token)], Limit::Unlimited).await;
    ssm.deny("GetParametersByPath");
    let clock = Arc::new(ManualClock::new());
    let tokens = AccountTokens::with_sdk_config(
        settings(None, 1),
        MINUTE,
        &sdk_config_loader(&ssm.endpoint()).load().await,
        Arc::clone(&clock) as Arc<ManualClock>,
    );
    assert_eq!(
        flood(&tokens, 0..1).await,
        (1, 0),
        "the budget's one look-up"
    );
    let refusal = tokens
        .tokens(&invented(1), deadline())
        .await
        .map(|_| ())
        .expect_err("no listing, so nothing can tell");
    match &refusal {
        AccountError::Unavailable { source, .. } => assert!(
            source.to_string().starts_with(
                "listing the accounts under `/taskrouter/accounts/` was denied: allow the \
                 function's role ssm:GetParametersByPath on it"
            ),
            "{source}"
        ),
        other => panic!("{other:?}"),
    }
    let account_a = AccountSid::parse(A.sid).expect("a SID");
    assert!(
        matches!(
            tokens.tokens(&account_a, deadline()).await,
            Err(AccountError::Unavailable { .. })
        ),
        "a real account not seen yet is refused too, 503: failing closed"
    );
    let listings = |ssm: &SsmStandIn| {
        ssm.recorded()
            .iter()
            .filter(|request| request.operation == "GetParametersByPath")
            .count()
    };
    assert_eq!(listings(&ssm), 1, "the refusal is remembered");

    clock.advance(MINUTE / 2);
    // Half a minute refills half the budget's one look-up: nothing; so A needs a listing.
    let _ = tokens.tokens(&account_a, deadline()).await;
    assert_eq!(
        listings(&ssm),
        2,
        "tried again after half the refresh interval"
    );
}

#[tokio::test]
async fn a_known_account_is_neither_evicted_nor_kept_waiting_by_look_ups_of_invented_ones() {
    let moto = three_accounts().await;
    let clock = Arc::new(ManualClock::new());
    let tokens = Arc::new(tokens_on(&moto, settings(None, 50), &clock).await);
    let account_a = AccountSid::parse(A.sid).expect("a SID");
    let (store_a, set) = tokens
        .tokens(&account_a, deadline())
        .await
        .expect("A's tokens");
    assert_eq!(keys(&set), [A.token]);

    // Fifty look-ups of invented accounts, all in flight at moto at once.
    let mut lookups = tokio::task::JoinSet::new();
    for n in 0..50 {
        let tokens = Arc::clone(&tokens);
        lookups.spawn(async move { tokens.tokens(&invented(n), deadline()).await.map(|_| ()) });
    }
    tokio::task::yield_now().await;
    assert!(
        tokens.footprint().accounts > 1,
        "look-ups of invented accounts are under way: {:?}",
        tokens.footprint()
    );
    // A's tokens are there on the first poll: no lock, read or budget of another account's
    // look-up stands in the way.
    let mut known = std::pin::pin!(tokens.tokens(&account_a, deadline()));
    match known.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok((store, set))) => {
            assert!(Arc::ptr_eq(&store, &store_a), "the same store");
            assert_eq!(keys(&set), [A.token]);
        }
        Poll::Ready(Err(error)) => panic!("account A refused: {error}"),
        Poll::Pending => panic!("account A waited for the look-ups of invented accounts"),
    }
    for outcome in lookups.join_all().await {
        assert!(
            matches!(outcome, Err(AccountError::NoParameter(_))),
            "{outcome:?}"
        );
    }

    // Ten thousand more: the budget is spent, so they are answered from one listing, and push
    // nothing out.
    assert_eq!(flood(&tokens, 50..10_050).await, (10_000, 0));
    let (store, set) = tokens
        .tokens(&account_a, deadline())
        .await
        .expect("A's tokens");
    assert!(
        Arc::ptr_eq(&store, &store_a),
        "A's store was never replaced"
    );
    assert_eq!(keys(&set), [A.token]);
    assert_eq!(
        moto.read_count(&primary(A.sid)),
        1,
        "A's token was read once"
    );
    assert_eq!(moto.listing_count(PREFIX), 1);
    assert_eq!(
        tokens.footprint(),
        Footprint {
            accounts: 1,
            absent: 50,
            listed: 3
        }
    );
}

#[tokio::test]
async fn accounts_that_exist_are_found_whatever_the_budget_and_do_not_spend_it() {
    let moto = three_accounts().await;
    let clock = Arc::new(ManualClock::new());
    let tokens = tokens_on(&moto, settings(None, 1), &clock).await;
    for account in [&A, &B, &C] {
        let sid = AccountSid::parse(account.sid).expect("a SID");
        let (_, set) = tokens
            .tokens(&sid, deadline())
            .await
            .expect("an account that exists");
        assert_eq!(keys(&set)[0], account.token);
    }
    assert_eq!(
        moto.read_count(PREFIX),
        3,
        "three accounts with a budget of one look-up"
    );
    assert_eq!(moto.listing_count(PREFIX), 0, "and no listing");
    assert_eq!(flood(&tokens, 0..5).await, (5, 0));
    assert_eq!(
        invented_reads(&moto),
        1,
        "the one look-up was still there for an invented account; the listing answered the rest"
    );
}

#[tokio::test]
async fn an_account_created_after_a_failed_look_up_is_found_once_the_refresh_interval_has_passed() {
    let moto = Moto::start().await;
    let clock = Arc::new(ManualClock::new());
    let tokens = tokens_on(&moto, settings(None, 10), &clock).await;
    let account_a = AccountSid::parse(A.sid).expect("a SID");
    assert_eq!(
        tokens.tokens(&account_a, deadline()).await.map(|_| ()),
        Err(AccountError::NoParameter(account_a.clone()))
    );
    moto.put_secure_string(&primary(A.sid), A.token).await;
    assert_eq!(
        tokens.tokens(&account_a, deadline()).await.map(|_| ()),
        Err(AccountError::NoParameter(account_a.clone())),
        "remembered as absent for the refresh interval"
    );
    assert_eq!(moto.read_count(PREFIX), 1);
    clock.advance(MINUTE);
    let (_, set) = tokens.tokens(&account_a, deadline()).await.expect("found");
    assert_eq!(keys(&set), [A.token]);
}

#[tokio::test]
async fn each_account_rotates_on_its_own_and_its_re_reads_spend_nothing_of_the_look_up_budget() {
    let moto = three_accounts().await;
    let clock = Arc::new(ManualClock::new());
    // Long enough that nothing ages past it while the test runs, however slow the machine;
    // only half of it is waited for.
    let interval = Duration::from_secs(4);
    let tokens = AccountTokens::with_sdk_config(
        settings(None, 1),
        interval,
        &moto.sdk_config().await,
        Arc::clone(&clock) as Arc<ManualClock>,
    );
    let (account_a, account_b) = (
        AccountSid::parse(A.sid).expect("a SID"),
        AccountSid::parse(B.sid).expect("a SID"),
    );
    let (store_a, _) = tokens.tokens(&account_a, deadline()).await.expect("A");
    tokens.tokens(&account_b, deadline()).await.expect("B");
    assert_eq!(flood(&tokens, 0..3).await, (3, 0));
    assert_eq!(
        invented_reads(&moto),
        1,
        "invented accounts spend the budget of one look-up, the listing answers the others"
    );

    // A rotates: its new token becomes primary, the old one stays valid as secondary.
    moto.put_secure_string(&primary(A.sid), "rotated-token-of-a")
        .await;
    moto.put_secure_string(&secondary(A.sid), A.token).await;
    tokio::time::sleep(interval / 2).await;
    let fresh = store_a
        .refresh_after_mismatch(deadline())
        .await
        .expect("A's rotated tokens, though the budget is spent");
    assert_eq!(keys(&fresh), ["rotated-token-of-a", A.token]);
    assert!(
        store_a.refresh_after_mismatch(deadline()).await.is_none(),
        "within half the interval of the last re-read"
    );
    assert_eq!(
        moto.read_count(&primary(A.sid)),
        2,
        "A's first load and one re-read; the second mismatch read nothing"
    );
    assert_eq!(moto.read_count(&primary(B.sid)), 1, "B untouched");
    assert_eq!(flood(&tokens, 3..6).await, (3, 0));
    assert_eq!(
        invented_reads(&moto),
        1,
        "and A's re-read gave invented accounts nothing back"
    );
}

#[tokio::test]
async fn a_listed_account_without_a_parameter_is_looked_up_once_per_refresh_interval_however_often_it_is_named()
 {
    let moto = three_accounts().await;
    let clock = Arc::new(ManualClock::new());
    let account_d = invented(0xd);
    let account_a = AccountSid::parse(A.sid).expect("a SID");
    let tokens = tokens_on(
        &moto,
        settings(Some(vec![account_a, account_d.clone()]), 10),
        &clock,
    )
    .await;
    for _ in 0..100 {
        assert_eq!(
            tokens.tokens(&account_d, deadline()).await.map(|_| ()),
            Err(AccountError::NoParameter(account_d.clone()))
        );
    }
    assert_eq!(
        moto.read_count(&primary(account_d.as_str())),
        1,
        "the answer is remembered"
    );
    assert_eq!(
        tokens.footprint(),
        Footprint {
            accounts: 0,
            absent: 1,
            listed: 0
        },
        "a listed account never needs the listing of the prefix"
    );

    clock.advance(MINUTE);
    moto.put_secure_string(&primary(account_d.as_str()), "token-of-account-d")
        .await;
    let (_, set) = tokens
        .tokens(&account_d, deadline())
        .await
        .expect("looked up again after the refresh interval, and found");
    assert_eq!(keys(&set), ["token-of-account-d"]);
    assert_eq!(moto.read_count(&primary(account_d.as_str())), 2);
}
