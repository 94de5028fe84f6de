//! CloudWatch metrics as Embedded Metric Format (EMF) log lines.
//!
//! On Lambda, a JSON object written to stdout in the embedded metric format is enough for
//! CloudWatch Logs to extract metrics from it: no metrics client, no network call on the request
//! path. Each function here returns one such line; the transport prints it.
//!
//! Format: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.
//! A line is a JSON object whose `_aws` member holds `Timestamp` (integer milliseconds since the
//! epoch) and `CloudWatchMetrics`, an array of directives, each naming a `Namespace`, the
//! `Dimensions` (an array of dimension sets, each an array of at most 30 keys) and the `Metrics`
//! (`Name` and `Unit`). Every dimension key and metric name must also be a top-level member of the
//! line: a string for a dimension, a number for a metric.
//!
//! # Dimensions, and why so few
//!
//! CloudWatch bills each unique combination of namespace, metric name and dimension values as a
//! separate custom metric, so every dimension multiplies the bill by its number of values. Counts
//! are dimensioned by the one low-cardinality label that explains them (instruction, rule, route,
//! outcome) together with `Function`; latencies and ages only by `Function`, because splitting a
//! distribution by rule rarely answers a question that the logs cannot. Nothing per task, worker
//! or reservation ever becomes a dimension.
//!
//! # Which account: a property, not a dimension
//!
//! A deployment may serve many Twilio accounts, and every line says which one it belongs to: the
//! decision, reservation-outcome and cross-tenant lines carry the verified `AccountSid` (the
//! account whose token checked the signature), a signature failure of a deployment with a token
//! per account carries the `ClaimedAccountSid` (unverified). Both are
//! EMF *properties*: top-level members that no dimension set names. CloudWatch extracts no metric
//! from a property, so it costs nothing but the bytes of the log line, and Logs Insights can
//! still split any metric by it (`stats sum(Decisions) by AccountSid`).
//!
//! Why not a dimension: CloudWatch bills every unique combination of metric name and dimension
//! values as one custom metric, $0.30 a month each for the first 10,000
//! (<https://aws.amazon.com/cloudwatch/pricing/>, us-east-1). `[Function, AccountSid]` on
//! `Decisions` alone would add a metric per account: $300 a month for 1,000 accounts, before
//! `HandlingTime` or the per-rule counts. On `SignatureFailures` it would be worse than
//! expensive: the claimed account is chosen by whoever sends the request, so a flood of invented
//! SIDs would create a metric per SID. The dimension sets below are the whole list of metrics the
//! function can create; per-account questions go to the logs.

use std::borrow::Cow;
use std::sync::Mutex;

use serde::Serialize;

/// A metrics configuration that CloudWatch would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// The namespace is empty, blank or longer than CloudWatch allows.
    #[error(
        "the metrics namespace `{namespace}` is {length} characters long: CloudWatch needs 1 to \
         255 characters, at least one of them not a space (e.g. `TaskRouterCallback`)"
    )]
    NamespaceLength {
        /// The rejected namespace.
        namespace: String,
        /// Its length in characters.
        length: usize,
    },
    /// The namespace holds a character CloudWatch does not allow.
    #[error(
        "the metrics namespace `{namespace}` contains {character:?}: CloudWatch allows only ASCII \
         letters, digits, spaces and `. - _ / # :`"
    )]
    NamespaceCharacter {
        /// The rejected namespace.
        namespace: String,
        /// The first character that is not allowed.
        character: char,
    },
    /// The namespace starts with a colon, which CloudWatch's API pattern `[^:].*` forbids.
    #[error("the metrics namespace `{namespace}` starts with `:`: start it with a letter or digit")]
    NamespaceLeadingColon {
        /// The rejected namespace.
        namespace: String,
    },
    /// The namespace starts with `AWS/`, which is reserved for AWS services.
    #[error(
        "the metrics namespace `{namespace}` starts with `AWS/`, which is reserved for AWS \
         services: choose your own prefix"
    )]
    NamespaceReserved {
        /// The rejected namespace.
        namespace: String,
    },
    /// The function name cannot be a dimension value.
    #[error(
        "the function name `{function}` cannot be a CloudWatch dimension value: use 1 to 1024 \
         printable ASCII characters, at least one of them not a space"
    )]
    Function {
        /// The rejected function name.
        function: String,
    },
}

/// The most characters CloudWatch accepts in a namespace.
///
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Metric.html>
const MAX_NAMESPACE_LEN: usize = 255;

/// The most characters CloudWatch accepts in a dimension value.
///
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html>
const MAX_DIMENSION_VALUE_LEN: usize = 1024;

/// Dimension keys. Each is also a top-level member of every line that uses it.
const FUNCTION: &str = "Function";
/// Dimension key: the instruction answered (`accept`, `defer`, …).
const INSTRUCTION: &str = "Instruction";
/// Dimension key: the rule that decided.
const RULE: &str = "Rule";
/// Dimension key: the route of a refused request.
const ROUTE: &str = "Route";
/// Dimension key: how a reservation ended.
const OUTCOME: &str = "Outcome";

/// `HandlingTime` and `TaskAge`.
const TIMING_DIMENSIONS: &[&[&str]] = &[&[FUNCTION]];

/// One per assignment decision: once per instruction and once per rule, without the
/// instruction × rule product.
const DECISIONS: Published = Published {
    name: "Decisions",
    unit: "Count",
    dimension_sets: &[&[FUNCTION, INSTRUCTION], &[FUNCTION, RULE]],
};
/// Milliseconds from the request to the decision.
const HANDLING_TIME: Published = Published {
    name: "HandlingTime",
    unit: "Milliseconds",
    dimension_sets: TIMING_DIMENSIONS,
};
/// The task's age in seconds at assignment.
const TASK_AGE: Published = Published {
    name: "TaskAge",
    unit: "Seconds",
    dimension_sets: TIMING_DIMENSIONS,
};
/// One per request refused for its signature (or an account that cannot verify it).
const SIGNATURE_FAILURES: Published = Published {
    name: "SignatureFailures",
    unit: "Count",
    dimension_sets: &[&[FUNCTION, ROUTE]],
};
/// One per verified callback refused because it names a workspace bound to another account
/// (`crate::rulebook`): a tenant probing another's rules, or a workspace document in the wrong
/// account's directory.
const CROSS_TENANT_REFUSALS: Published = Published {
    name: "CrossTenantRefusals",
    unit: "Count",
    dimension_sets: &[&[FUNCTION, ROUTE]],
};
/// One per reservation outcome from a workspace event.
const RESERVATION_OUTCOMES: Published = Published {
    name: "ReservationOutcomes",
    unit: "Count",
    dimension_sets: &[&[FUNCTION, OUTCOME]],
};

/// One per step of a deferred reservation's life (`crate::defer`), by outcome: the callback's
/// `not_queued` (SendMessage failed, answered `503`), the decider's `applied` (the decider's
/// instruction), `otherwise` (no answer in time), `gone` (no longer pending: nothing applied),
/// `retried` (asked again later) and `invalid` (a message that is not a deferred reservation).
const DEFERRALS: Published = Published {
    name: "Deferrals",
    unit: "Count",
    dimension_sets: &[&[FUNCTION, OUTCOME]],
};
/// Seconds from the callback's arrival to the decider's final outcome for it.
const DEFERRAL_AGE: Published = Published {
    name: "DeferralAge",
    unit: "Seconds",
    dimension_sets: TIMING_DIMENSIONS,
};
/// A counter's value: each line records one occurrence.
const ONE: u8 = 1;

/// A metric the function publishes, and every set of dimensions it is published under.
///
/// CloudWatch finds a metric only by its name together with its exact set of dimension keys, so a
/// dashboard widget or an alarm must name one of these sets to see any data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// The metric name.
    pub name: &'static str,
    /// Its CloudWatch unit, as written in the EMF line.
    pub unit: &'static str,
    /// The dimension sets, each a list of dimension keys.
    pub dimension_sets: &'static [&'static [&'static str]],
}

/// Every metric the function publishes, in the namespace given by `METRICS_NAMESPACE`: the one
/// list that the template's dashboard and alarms are checked against (the integration tests), and
/// that every line this module writes is checked against (the unit tests below).
pub const PUBLISHED: &[Published] = &[
    DECISIONS,
    HANDLING_TIME,
    TASK_AGE,
    SIGNATURE_FAILURES,
    CROSS_TENANT_REFUSALS,
    RESERVATION_OUTCOMES,
    DEFERRALS,
    DEFERRAL_AGE,
];

/// Builds EMF lines for one function in one namespace.
///
/// Validated once at cold start; producing a line afterwards cannot fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    namespace: String,
    function: String,
}

impl Metrics {
    /// Checks the namespace and the function name (the value of the `Function` dimension).
    ///
    /// Namespace rules from CloudWatch's concepts page
    /// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Namespace>)
    /// and API reference: 1 to 255 characters from ASCII letters, digits, space, `.`, `-`, `_`,
    /// `/`, `#`, `:`; not starting with `:`; not starting with the reserved `AWS/`.
    ///
    /// # Errors
    ///
    /// A [`MetricsError`] naming the rejected namespace or function name and the rule it breaks.
    pub fn new(namespace: &str, function: &str) -> Result<Self, MetricsError> {
        let length = namespace.chars().count();
        if length > MAX_NAMESPACE_LEN || namespace.trim().is_empty() {
            return Err(MetricsError::NamespaceLength {
                namespace: namespace.to_owned(),
                length,
            });
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || " .-_/#:".contains(c);
        if let Some(character) = namespace.chars().find(|&c| !allowed(c)) {
            return Err(MetricsError::NamespaceCharacter {
                namespace: namespace.to_owned(),
                character,
            });
        }
        if namespace.starts_with(':') {
            return Err(MetricsError::NamespaceLeadingColon {
                namespace: namespace.to_owned(),
            });
        }
        if namespace.starts_with("AWS/") {
            return Err(MetricsError::NamespaceReserved {
                namespace: namespace.to_owned(),
            });
        }
        if dimension_value(function) != function {
            return Err(MetricsError::Function {
                function: function.to_owned(),
            });
        }
        Ok(Self {
            namespace: namespace.to_owned(),
            function: function.to_owned(),
        })
    }

    /// The CloudWatch namespace the lines publish to.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// One assignment decision: `Decisions` counted by `[Function, Instruction]` and by
    /// `[Function, Rule]`; `HandlingTime` (milliseconds) and `TaskAge` (seconds) by `[Function]`;
    /// the callback's `AccountSid` as a property.
    ///
    /// A handling time that is negative or not finite is left out rather than written as `null`,
    /// which would make CloudWatch reject the whole line. `task_age_s` is left out when `None`.
    pub fn decision(
        &self,
        timestamp_ms: u64,
        instruction: &str,
        rule: &str,
        handling_ms: f64,
        task_age_s: Option<i64>,
        account_sid: &str,
    ) -> String {
        let handling_ms = (handling_ms.is_finite() && handling_ms >= 0.0).then_some(handling_ms);
        let mut distributions = Vec::new();
        if handling_ms.is_some() {
            distributions.push(Definition::of(&HANDLING_TIME));
        }
        if task_age_s.is_some() {
            distributions.push(Definition::of(&TASK_AGE));
        }
        let mut directives = vec![Directive {
            namespace: &self.namespace,
            // Two dimension sets in one directive: the same count is published once per
            // instruction and once per rule, without the instruction × rule cross product.
            dimensions: DECISIONS.dimension_sets,
            metrics: vec![Definition::of(&DECISIONS)],
        }];
        if !distributions.is_empty() {
            directives.push(Directive {
                namespace: &self.namespace,
                dimensions: TIMING_DIMENSIONS,
                metrics: distributions,
            });
        }
        render(&DecisionLine {
            aws: Metadata::new(timestamp_ms, directives),
            function: &self.function,
            instruction: dimension_value(instruction),
            rule: dimension_value(rule),
            account_sid,
            decisions: ONE,
            handling_time: handling_ms,
            task_age: task_age_s,
        })
    }

    /// A rejected signature or a missing signature header (or, with a token per account, an
    /// account that cannot verify it): `SignatureFailures` counted by `[Function, Route]`.
    ///
    /// `reason` and `claimed_account_sid` (the unverified `AccountSid` of a deployment with a
    /// token per account) are written to the line for log queries but are not dimensions, so new
    /// reasons and invented accounts never create new metrics.
    pub fn signature_failure(
        &self,
        timestamp_ms: u64,
        route: &str,
        reason: &str,
        claimed_account_sid: Option<&str>,
    ) -> String {
        render(&SignatureFailureLine {
            aws: Metadata::new(
                timestamp_ms,
                vec![Directive {
                    namespace: &self.namespace,
                    dimensions: SIGNATURE_FAILURES.dimension_sets,
                    metrics: vec![Definition::of(&SIGNATURE_FAILURES)],
                }],
            ),
            function: &self.function,
            route: dimension_value(route),
            reason,
            claimed_account_sid,
            signature_failures: ONE,
        })
    }

    /// A verified callback refused for naming a workspace bound to another account:
    /// `CrossTenantRefusals` counted by `[Function, Route]`. The account that signed
    /// (`AccountSid`), the workspace it named (`WorkspaceSid`) and the account that owns it
    /// (`WorkspaceOwnerSid`) are properties, for the log query that finds who probed whom.
    pub fn cross_tenant_refusal(
        &self,
        timestamp_ms: u64,
        route: &str,
        account_sid: &str,
        workspace_sid: &str,
        owner_sid: &str,
    ) -> String {
        render(&CrossTenantLine {
            aws: Metadata::new(
                timestamp_ms,
                vec![Directive {
                    namespace: &self.namespace,
                    dimensions: CROSS_TENANT_REFUSALS.dimension_sets,
                    metrics: vec![Definition::of(&CROSS_TENANT_REFUSALS)],
                }],
            ),
            function: &self.function,
            route: dimension_value(route),
            account_sid,
            workspace_sid,
            owner_sid,
            cross_tenant_refusals: ONE,
        })
    }

    /// How a reservation ended, from a workspace event: `ReservationOutcomes` counted by
    /// `[Function, Outcome]` (e.g. `ReservationOutcome::as_str` in `crate::event`), the event's
    /// `AccountSid` as a property.
    pub fn reservation_outcome(
        &self,
        timestamp_ms: u64,
        outcome: &str,
        account_sid: &str,
    ) -> String {
        render(&ReservationOutcomeLine {
            aws: Metadata::new(
                timestamp_ms,
                vec![Directive {
                    namespace: &self.namespace,
                    dimensions: RESERVATION_OUTCOMES.dimension_sets,
                    metrics: vec![Definition::of(&RESERVATION_OUTCOMES)],
                }],
            ),
            function: &self.function,
            outcome: dimension_value(outcome),
            account_sid,
            reservation_outcomes: ONE,
        })
    }
}

impl Metrics {
    /// One step of a deferred reservation: `Deferrals` counted by `[Function, Outcome]` (see
    /// the metric's outcomes), the account as a property; with `age_s` (a final outcome of the
    /// decider), also `DeferralAge` by `[Function]`.
    pub fn deferral(
        &self,
        timestamp_ms: u64,
        outcome: &str,
        account_sid: Option<&str>,
        age_s: Option<f64>,
    ) -> String {
        let age_s = age_s.filter(|age| age.is_finite() && *age >= 0.0);
        let mut directives = vec![Directive {
            namespace: &self.namespace,
            dimensions: DEFERRALS.dimension_sets,
            metrics: vec![Definition::of(&DEFERRALS)],
        }];
        if age_s.is_some() {
            directives.push(Directive {
                namespace: &self.namespace,
                dimensions: DEFERRAL_AGE.dimension_sets,
                metrics: vec![Definition::of(&DEFERRAL_AGE)],
            });
        }
        render(&DeferralLine {
            aws: Metadata::new(timestamp_ms, directives),
            function: &self.function,
            outcome: dimension_value(outcome),
            account_sid,
            deferrals: ONE,
            deferral_age: age_s,
        })
    }
}

/// Makes `raw` a value CloudWatch accepts for a dimension: 1 to 1024 printable ASCII characters,
/// not all spaces (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html>).
///
/// An invalid dimension value makes CloudWatch drop the metric, so instead of losing the count,
/// other characters become `?`, a blank value becomes `none`, and a long one is cut. Quotes and
/// backslashes are valid and kept; serde_json escapes them.
fn dimension_value(raw: &str) -> Cow<'_, str> {
    let printable = |c: char| c.is_ascii() && !c.is_ascii_control();
    if raw.trim().is_empty() {
        Cow::Borrowed("none")
    } else if raw.len() <= MAX_DIMENSION_VALUE_LEN && raw.chars().all(printable) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(
            raw.chars()
                .map(|c| if printable(c) { c } else { '?' })
                .take(MAX_DIMENSION_VALUE_LEN)
                .collect(),
        )
    }
}

/// Serialises a line. The structs below hold only strings and numbers (non-finite floats are
/// filtered out before), which serde_json always serialises.
fn render(line: &impl Serialize) -> String {
    serde_json::to_string(line).unwrap_or_else(|error| {
        // Unreachable for these types; if it ever happened, the line would still be one JSON
        // object naming the problem instead of a panic on the request path.
        format!("{{\"MetricsSerialisationError\":{:?}}}", error.to_string())
    })
}

/// The `_aws` member.
#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(rename = "Timestamp")]
    timestamp: u64,
    #[serde(rename = "CloudWatchMetrics")]
    directives: Vec<Directive<'a>>,
}

impl<'a> Metadata<'a> {
    fn new(timestamp: u64, directives: Vec<Directive<'a>>) -> Self {
        Self {
            timestamp,
            directives,
        }
    }
}

/// An EMF MetricDirective.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'a> {
    namespace: &'a str,
    dimensions: &'static [&'static [&'static str]],
    metrics: Vec<Definition>,
}

/// An EMF MetricDefinition.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Definition {
    name: &'static str,
    unit: &'static str,
}

impl Definition {
    /// A published metric's name and unit, as a directive lists them.
    fn of(metric: &Published) -> Self {
        Self {
            name: metric.name,
            unit: metric.unit,
        }
    }
}

// The member names below must equal the dimension, property and metric constants above; the EMF
// validator in the tests fails any line whose directives reference a member that is not there,
// and a test checks the property names.

#[derive(Serialize)]
struct DecisionLine<'a> {
    #[serde(rename = "_aws")]
    aws: Metadata<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "Instruction")]
    instruction: Cow<'a, str>,
    #[serde(rename = "Rule")]
    rule: Cow<'a, str>,
    #[serde(rename = "AccountSid")]
    account_sid: &'a str,
    #[serde(rename = "Decisions")]
    decisions: u8,
    #[serde(rename = "HandlingTime", skip_serializing_if = "Option::is_none")]
    handling_time: Option<f64>,
    #[serde(rename = "TaskAge", skip_serializing_if = "Option::is_none")]
    task_age: Option<i64>,
}

#[derive(Serialize)]
struct SignatureFailureLine<'a> {
    #[serde(rename = "_aws")]
    aws: Metadata<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "Route")]
    route: Cow<'a, str>,
    #[serde(rename = "Reason")]
    reason: &'a str,
    #[serde(rename = "ClaimedAccountSid", skip_serializing_if = "Option::is_none")]
    claimed_account_sid: Option<&'a str>,
    #[serde(rename = "SignatureFailures")]
    signature_failures: u8,
}

#[derive(Serialize)]
struct CrossTenantLine<'a> {
    #[serde(rename = "_aws")]
    aws: Metadata<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "Route")]
    route: Cow<'a, str>,
    #[serde(rename = "AccountSid")]
    account_sid: &'a str,
    #[serde(rename = "WorkspaceSid")]
    workspace_sid: &'a str,
    #[serde(rename = "WorkspaceOwnerSid")]
    owner_sid: &'a str,
    #[serde(rename = "CrossTenantRefusals")]
    cross_tenant_refusals: u8,
}

#[derive(Serialize)]
struct ReservationOutcomeLine<'a> {
    #[serde(rename = "_aws")]
    aws: Metadata<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "Outcome")]
    outcome: Cow<'a, str>,
    #[serde(rename = "AccountSid")]
    account_sid: &'a str,
    #[serde(rename = "ReservationOutcomes")]
    reservation_outcomes: u8,
}

/// [`Metrics::deferral`].
#[derive(Serialize)]
struct DeferralLine<'a> {
    #[serde(rename = "_aws")]
    aws: Metadata<'a>,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "Outcome")]
    outcome: Cow<'a, str>,
    #[serde(rename = "AccountSid", skip_serializing_if = "Option::is_none")]
    account_sid: Option<&'a str>,
    #[serde(rename = "Deferrals")]
    deferrals: u8,
    #[serde(rename = "DeferralAge", skip_serializing_if = "Option::is_none")]
    deferral_age: Option<f64>,
}

/// Where embedded-metric lines go: stdout in Lambda (CloudWatch Logs extracts them), a buffer
/// in tests.
pub trait MetricsSink: Send + Sync {
    /// Writes one complete EMF line.
    fn emit(&self, line: String);
}

/// Writes each metrics line to stdout, where Lambda's log capture picks it up.
#[derive(Debug, Default)]
pub struct StdoutSink;

impl MetricsSink for StdoutSink {
    fn emit(&self, line: String) {
        println!("{line}");
    }
}

/// Keeps metrics lines in memory, for tests and tools that inspect them.
#[derive(Debug, Default)]
pub struct MemorySink {
    lines: Mutex<Vec<String>>,
}

impl MemorySink {
    /// Every line emitted so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }
}

impl MetricsSink for MemorySink {
    fn emit(&self, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;

    /// A fixed time so snapshots are stable: 2024-05-06T12:53:20Z.
    const AT: u64 = 1_715_000_000_000;

    /// The account of the lines.
    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    /// A workspace, and the account that owns it, of a cross-tenant refusal.
    const WORKSPACE: &str = "WS0123456789abcdef0123456789abcdef";
    const OWNER: &str = "ACfedcba9876543210fedcba9876543210";

    /// Property (never a dimension): the verified account of a decision or a reservation outcome.
    const ACCOUNT_SID: &str = "AccountSid";
    /// Property (never a dimension): the account a refused request claimed, unverified.
    const CLAIMED_ACCOUNT_SID: &str = "ClaimedAccountSid";

    fn metrics() -> Metrics {
        Metrics::new("TaskRouterCallback", "taskrouter-lambda").expect("valid configuration")
    }

    /// Units the EMF JSON schema accepts.
    const UNITS: [&str; 27] = [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];

    fn object<'v>(value: &'v Value, what: &str) -> &'v Map<String, Value> {
        value
            .as_object()
            .unwrap_or_else(|| panic!("{what} must be a JSON object: {value}"))
    }

    fn array<'v>(value: Option<&'v Value>, what: &str) -> &'v Vec<Value> {
        value
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{what} must be a JSON array: {value:?}"))
    }

    fn string<'v>(value: Option<&'v Value>, what: &str) -> &'v str {
        value
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{what} must be a JSON string: {value:?}"))
    }

    fn only_members(map: &Map<String, Value>, allowed: &[&str], what: &str) {
        for key in map.keys() {
            assert!(
                allowed.contains(&key.as_str()),
                "{what} has an unexpected member `{key}`"
            );
        }
    }

    /// Checks one line against the EMF specification and returns it parsed.
    ///
    /// Covers: one JSON object on one line; `_aws` with an integer millisecond `Timestamp` and a
    /// non-empty `CloudWatchMetrics`; each directive with a 1–255 character `Namespace`, at least
    /// one dimension set of at most 30 string keys, each a top-level string member; 1 to 100
    /// metric definitions whose `Name` is a top-level number (or array of at most 100 numbers)
    /// and whose `Unit` is a CloudWatch unit; no members the specification does not define.
    fn assert_valid_emf(line: &str) -> Value {
        assert!(
            !line.contains('\n'),
            "an EMF document is one log line: {line}"
        );
        let document: Value = serde_json::from_str(line).expect("an EMF line is JSON");
        let root = object(&document, "the root node");
        let aws = object(root.get("_aws").expect("root has `_aws`"), "`_aws`");
        only_members(aws, &["Timestamp", "CloudWatchMetrics"], "`_aws`");
        let timestamp = aws.get("Timestamp").expect("`_aws` has `Timestamp`");
        assert!(
            timestamp.is_u64(),
            "`Timestamp` must be integer milliseconds: {timestamp}"
        );

        let directives = array(aws.get("CloudWatchMetrics"), "`CloudWatchMetrics`");
        assert!(
            !directives.is_empty(),
            "`CloudWatchMetrics` must not be empty"
        );
        for directive in directives {
            let directive = object(directive, "a MetricDirective");
            only_members(
                directive,
                &["Namespace", "Dimensions", "Metrics"],
                "a MetricDirective",
            );

            let namespace = string(directive.get("Namespace"), "`Namespace`");
            assert!(
                (1..=255).contains(&namespace.len()),
                "`Namespace` length: {namespace}"
            );

            let sets = array(directive.get("Dimensions"), "`Dimensions`");
            assert!(
                !sets.is_empty(),
                "`Dimensions` needs at least one DimensionSet"
            );
            for set in sets {
                let keys = array(Some(set), "a DimensionSet");
                assert!(
                    keys.len() <= 30,
                    "a DimensionSet has at most 30 keys: {set}"
                );
                for key in keys {
                    let key = string(Some(key), "a dimension key");
                    let target = string(root.get(key), &format!("dimension target `{key}`"));
                    assert!(!target.trim().is_empty(), "dimension `{key}` is blank");
                    assert!(
                        target.is_ascii(),
                        "dimension `{key}` is not ASCII: {target}"
                    );
                }
            }

            let definitions = array(directive.get("Metrics"), "`Metrics`");
            assert!(
                (1..=100).contains(&definitions.len()),
                "`Metrics` holds 1 to 100 definitions"
            );
            for definition in definitions {
                let definition = object(definition, "a MetricDefinition");
                only_members(
                    definition,
                    &["Name", "Unit", "StorageResolution"],
                    "a MetricDefinition",
                );
                let name = string(definition.get("Name"), "a metric `Name`");
                let target = root
                    .get(name)
                    .unwrap_or_else(|| panic!("metric `{name}` has no top-level member"));
                let numeric = target.is_number()
                    || target.as_array().is_some_and(|values| {
                        values.len() <= 100 && values.iter().all(Value::is_number)
                    });
                assert!(numeric, "metric `{name}` must be numeric: {target}");
                if let Some(unit) = definition.get("Unit") {
                    let unit = string(Some(unit), "a metric `Unit`");
                    assert!(UNITS.contains(&unit), "`{unit}` is not a CloudWatch unit");
                }
            }
        }
        document
    }

    /// One directive, reduced to its `(Name, Unit)` pairs and its dimension sets.
    type Summary = (Vec<(String, String)>, Vec<Vec<String>>);

    /// Each directive of a line, summarised for assertions.
    fn directives(document: &Value) -> Vec<Summary> {
        array(document["_aws"].get("CloudWatchMetrics"), "directives")
            .iter()
            .map(|directive| {
                let metrics = array(directive.get("Metrics"), "metrics")
                    .iter()
                    .map(|m| {
                        (
                            string(m.get("Name"), "name").to_owned(),
                            string(m.get("Unit"), "unit").to_owned(),
                        )
                    })
                    .collect();
                let sets = array(directive.get("Dimensions"), "dimensions")
                    .iter()
                    .map(|set| {
                        array(Some(set), "set")
                            .iter()
                            .map(|k| string(Some(k), "key").to_owned())
                            .collect()
                    })
                    .collect();
                (metrics, sets)
            })
            .collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn sets(sets: &[&[&str]]) -> Vec<Vec<String>> {
        sets.iter()
            .map(|set| set.iter().map(|k| (*k).to_owned()).collect())
            .collect()
    }

    #[test]
    fn every_line_type_is_valid_emf() {
        let metrics = metrics();
        let lines = [
            (
                "a full decision",
                metrics.decision(AT, "accept", "vip", 12.5, Some(30), ACCOUNT),
            ),
            (
                "a decision without task age",
                metrics.decision(AT, "reject", "default", 3.0, None, ACCOUNT),
            ),
            (
                "a decision with a broken clock",
                metrics.decision(AT, "accept", "vip", f64::NAN, None, ACCOUNT),
            ),
            (
                "a signature failure",
                metrics.signature_failure(AT, "/assignment", "mismatch", None),
            ),
            (
                "a reservation outcome",
                metrics.reservation_outcome(AT, "timeout", ACCOUNT),
            ),
            (
                "a cross-tenant refusal",
                metrics.cross_tenant_refusal(AT, "/assignment", ACCOUNT, WORKSPACE, OWNER),
            ),
            (
                "a deferral not queued",
                metrics.deferral(AT, "not_queued", Some(ACCOUNT), None),
            ),
            (
                "a deferral applied, with its age",
                metrics.deferral(AT, "applied", Some(ACCOUNT), Some(42.5)),
            ),
            (
                "an unreadable deferral",
                metrics.deferral(AT, "invalid", None, None),
            ),
        ];
        for (why, line) in lines {
            let document = assert_valid_emf(&line);
            assert_eq!(document["_aws"]["Timestamp"], AT, "{why}");
            assert_eq!(document["Function"], "taskrouter-lambda", "{why}");
        }
    }

    #[test]
    fn the_emf_validator_rejects_documents_that_break_the_specification() {
        let directive = |dimensions: &str, metrics: &str| {
            format!(r#"{{"Namespace":"N","Dimensions":{dimensions},"Metrics":{metrics}}}"#)
        };
        let count = r#"[{"Name":"C","Unit":"Count"}]"#;
        let thirty_one: Vec<String> = (0..31).map(|i| format!("\"D{i}\"")).collect();
        let thirty_one_members: String = (0..31).map(|i| format!(r#","D{i}":"v""#)).collect();
        let cases = [
            (
                "a float timestamp",
                format!(
                    r#"{{"_aws":{{"Timestamp":1.5,"CloudWatchMetrics":[{}]}},"F":"f","C":1}}"#,
                    directive(r#"[["F"]]"#, count)
                ),
            ),
            (
                "a dimension key with no member",
                format!(
                    r#"{{"_aws":{{"Timestamp":1,"CloudWatchMetrics":[{}]}},"C":1}}"#,
                    directive(r#"[["F"]]"#, count)
                ),
            ),
            (
                "a numeric dimension member",
                format!(
                    r#"{{"_aws":{{"Timestamp":1,"CloudWatchMetrics":[{}]}},"F":3,"C":1}}"#,
                    directive(r#"[["F"]]"#, count)
                ),
            ),
            (
                "a metric written as a string",
                format!(
                    r#"{{"_aws":{{"Timestamp":1,"CloudWatchMetrics":[{}]}},"F":"f","C":"1"}}"#,
                    directive(r#"[["F"]]"#, count)
                ),
            ),
            (
                "a metric written as null",
                format!(
                    r#"{{"_aws":{{"Timestamp":1,"CloudWatchMetrics":[{}]}},"F":"f","C":null}}"#,
                    directive(r#"[["F"]]"#, count)
                ),
            ),
            (
                "an unknown unit",
                format!(
                    r#"{{"_aws":{{"Timestamp":1,"CloudWatchMetrics":[{}]}},"F":"f","C":1}}"#,
                    directive(r#"[["F"]]"#, r#"[{"Name":"C","Unit":"Calls"}]"#)
                ),
            ),
            (
                "31 dimensions in one set",
                format!(
                    r#"{{"_aws":{{"Timestamp":1,"CloudWatchMetrics":[{}]}}{thirty_one_members},"C":1}}"#,
                    directive(&format!("[[{}]]", thirty_one.join(",")), count)
                ),
            ),
            ("no _aws member", r#"{"F":"f","C":1}"#.to_owned()),
        ];
        // The same template with valid values passes, so each case fails for its own defect.
        assert_valid_emf(&format!(
            r#"{{"_aws":{{"Timestamp":1,"CloudWatchMetrics":[{}]}},"F":"f","C":1}}"#,
            directive(r#"[["F"]]"#, count)
        ));
        for (why, line) in cases {
            let outcome = std::panic::catch_unwind(|| assert_valid_emf(&line));
            assert!(outcome.is_err(), "the validator accepted {why}: {line}");
        }
    }

    #[test]
    fn a_decision_counts_by_instruction_and_rule_and_times_by_function_only() {
        let line = metrics().decision(AT, "accept", "vip", 12.5, Some(30), ACCOUNT);
        let document = assert_valid_emf(&line);
        assert_eq!(
            directives(&document),
            vec![
                (
                    owned(&[("Decisions", "Count")]),
                    sets(&[&["Function", "Instruction"], &["Function", "Rule"]]),
                ),
                (
                    owned(&[("HandlingTime", "Milliseconds"), ("TaskAge", "Seconds")]),
                    sets(&[&["Function"]]),
                ),
            ]
        );
        assert_eq!(document["Decisions"], 1);
        assert_eq!(document["HandlingTime"], 12.5);
        assert_eq!(document["TaskAge"], 30);
        assert_eq!(document["Instruction"], "accept");
        assert_eq!(document["Rule"], "vip");
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "TaskRouterCallback"
        );
    }

    #[test]
    fn absent_or_unusable_measurements_are_left_out_not_written_as_null() {
        let cases = [
            (
                "no task age",
                4.0,
                None,
                vec![("HandlingTime", "Milliseconds")],
            ),
            (
                "a NaN handling time",
                f64::NAN,
                Some(5),
                vec![("TaskAge", "Seconds")],
            ),
            (
                "an infinite handling time",
                f64::INFINITY,
                Some(5),
                vec![("TaskAge", "Seconds")],
            ),
            (
                "a negative handling time",
                -1.0,
                Some(5),
                vec![("TaskAge", "Seconds")],
            ),
            ("neither", f64::NAN, None, vec![]),
        ];
        for (why, handling_ms, task_age, expected) in cases {
            let line = metrics().decision(AT, "accept", "vip", handling_ms, task_age, ACCOUNT);
            assert!(!line.contains("null"), "{why}: {line}");
            let document = assert_valid_emf(&line);
            let found = directives(&document);
            assert_eq!(found[0].0, owned(&[("Decisions", "Count")]), "{why}");
            match found.get(1) {
                Some((distributions, _)) => assert_eq!(*distributions, owned(&expected), "{why}"),
                None => assert!(
                    expected.is_empty(),
                    "{why}: the timing directive is missing"
                ),
            }
            for name in ["HandlingTime", "TaskAge"] {
                let defined = expected.iter().any(|(n, _)| *n == name);
                assert_eq!(
                    document.get(name).is_some(),
                    defined,
                    "{why}: member {name}"
                );
            }
        }
    }

    #[test]
    fn quotes_and_backslashes_in_names_are_escaped_by_serde_json() {
        let rule = r#"vip "gold" \ tier"#;
        let reason = "header \"X-Twilio-Signature\"\nmissing";
        let metrics = metrics();
        let decision = metrics.decision(AT, "accept", rule, 1.0, None, ACCOUNT);
        assert!(
            decision.contains(r#""Rule":"vip \"gold\" \\ tier""#),
            "{decision}"
        );
        assert_eq!(assert_valid_emf(&decision)["Rule"], rule);

        let failure = metrics.signature_failure(AT, "/events\"", reason, None);
        let document = assert_valid_emf(&failure);
        assert_eq!(document["Reason"], reason);
        assert_eq!(document["Route"], "/events\"");
    }

    #[test]
    fn dimension_values_cloudwatch_would_reject_are_made_valid() {
        let long = "r".repeat(2000);
        let cases = [
            ("", "none", "empty"),
            ("   ", "none", "blank"),
            ("règle", "r?gle", "non-ASCII"),
            ("a\tb", "a?b", "a control character"),
            ("vip", "vip", "already valid"),
        ];
        for (raw, expected, why) in cases {
            let document =
                assert_valid_emf(&metrics().decision(AT, "accept", raw, 1.0, None, ACCOUNT));
            assert_eq!(document["Rule"], expected, "{why}");
        }
        let document = assert_valid_emf(&metrics().reservation_outcome(AT, &long, ACCOUNT));
        assert_eq!(
            string(document.get("Outcome"), "outcome").len(),
            1024,
            "cut to 1024"
        );
    }

    #[test]
    fn a_signature_failure_counts_by_route_and_keeps_the_reason_out_of_the_dimensions() {
        let document = assert_valid_emf(&metrics().signature_failure(
            AT,
            "/assignment",
            "missing header",
            None,
        ));
        assert_eq!(
            directives(&document),
            vec![(
                owned(&[("SignatureFailures", "Count")]),
                sets(&[&["Function", "Route"]])
            )]
        );
        assert_eq!(document["SignatureFailures"], 1);
        assert_eq!(document["Reason"], "missing header");
    }

    #[test]
    fn a_cross_tenant_refusal_counts_by_route_with_both_accounts_as_properties() {
        let document = assert_valid_emf(&metrics().cross_tenant_refusal(
            AT,
            "/assignment",
            ACCOUNT,
            WORKSPACE,
            OWNER,
        ));
        assert_eq!(
            directives(&document),
            vec![(
                owned(&[("CrossTenantRefusals", "Count")]),
                sets(&[&["Function", "Route"]])
            )]
        );
        assert_eq!(document["CrossTenantRefusals"], 1);
        assert_eq!(document["AccountSid"], ACCOUNT);
        assert_eq!(document["WorkspaceSid"], WORKSPACE);
        assert_eq!(document["WorkspaceOwnerSid"], OWNER);
    }

    #[test]
    fn a_reservation_outcome_counts_by_outcome() {
        let document = assert_valid_emf(&metrics().reservation_outcome(AT, "rescinded", ACCOUNT));
        assert_eq!(
            directives(&document),
            vec![(
                owned(&[("ReservationOutcomes", "Count")]),
                sets(&[&["Function", "Outcome"]])
            )]
        );
        assert_eq!(document["ReservationOutcomes"], 1);
        assert_eq!(document["Outcome"], "rescinded");
    }

    #[test]
    fn the_account_is_a_property_of_every_line_and_a_dimension_of_none() {
        let metrics = metrics();
        let lines = [
            (
                "a decision",
                metrics.decision(AT, "accept", "vip", 1.0, Some(3), ACCOUNT),
                ACCOUNT_SID,
                ACCOUNT,
            ),
            (
                "a reservation outcome",
                metrics.reservation_outcome(AT, "accepted", ACCOUNT),
                ACCOUNT_SID,
                ACCOUNT,
            ),
            (
                "a refusal claiming an account",
                metrics.signature_failure(AT, "/events", "unknown_account", Some(ACCOUNT)),
                CLAIMED_ACCOUNT_SID,
                ACCOUNT,
            ),
            (
                "a cross-tenant refusal",
                metrics.cross_tenant_refusal(AT, "/events", ACCOUNT, WORKSPACE, OWNER),
                ACCOUNT_SID,
                ACCOUNT,
            ),
        ];
        for (why, line, property, value) in lines {
            let document = assert_valid_emf(&line);
            assert_eq!(document[property], value, "{why}");
            for (_, sets) in directives(&document) {
                for set in sets {
                    assert!(
                        !set.iter().any(|key| key.contains("Account")),
                        "{why}: an account in the dimension set {set:?}"
                    );
                }
            }
        }
        let unclaimed = metrics.signature_failure(AT, "/events", "missing_signature", None);
        assert!(
            !unclaimed.contains("Account"),
            "a single-account refusal has no account member: {unclaimed}"
        );
    }

    #[test]
    fn every_metric_a_line_defines_is_published_and_every_published_metric_is_written() {
        let metrics = metrics();
        let lines = [
            metrics.decision(AT, "accept", "vip", 12.5, Some(30), ACCOUNT),
            metrics.signature_failure(AT, "/assignment", "invalid_signature", Some(ACCOUNT)),
            metrics.cross_tenant_refusal(AT, "/assignment", ACCOUNT, WORKSPACE, OWNER),
            metrics.reservation_outcome(AT, "accepted", ACCOUNT),
            metrics.deferral(AT, "otherwise", Some(ACCOUNT), Some(90.0)),
        ];
        let mut written: Vec<(String, String, Vec<Vec<String>>)> = Vec::new();
        for line in &lines {
            for (definitions, dimension_sets) in directives(&assert_valid_emf(line)) {
                for (name, unit) in definitions {
                    written.push((name, unit, dimension_sets.clone()));
                }
            }
        }
        written.sort();
        let mut published: Vec<(String, String, Vec<Vec<String>>)> = PUBLISHED
            .iter()
            .map(|metric| {
                let sets = metric
                    .dimension_sets
                    .iter()
                    .map(|set| set.iter().map(|key| (*key).to_owned()).collect())
                    .collect();
                (metric.name.to_owned(), metric.unit.to_owned(), sets)
            })
            .collect();
        published.sort();
        assert_eq!(written, published);
    }

    #[test]
    fn each_line_type_is_byte_for_byte_stable() {
        let metrics = metrics();
        insta::assert_snapshot!(
            "decision_line",
            metrics.decision(AT, "accept", "vip", 12.5, Some(30), ACCOUNT)
        );
        insta::assert_snapshot!(
            "signature_failure_line",
            metrics.signature_failure(AT, "/assignment", "signature mismatch", None)
        );
        insta::assert_snapshot!(
            "reservation_outcome_line",
            metrics.reservation_outcome(AT, "timeout", ACCOUNT)
        );
        insta::assert_snapshot!(
            "cross_tenant_refusal_line",
            metrics.cross_tenant_refusal(AT, "/assignment", ACCOUNT, WORKSPACE, OWNER)
        );
        insta::assert_snapshot!(
            "deferral_line",
            metrics.deferral(AT, "applied", Some(ACCOUNT), Some(42.5))
        );
    }

    #[test]
    fn valid_namespaces_are_accepted() {
        let cases = [
            ("TaskRouterCallback", "plain"),
            ("Company/TaskRouter", "with a slash"),
            (
                "task-router_callback.v2#1:prod",
                "every allowed punctuation mark",
            ),
            ("Task Router", "with a space"),
        ];
        for (namespace, why) in cases {
            let metrics = Metrics::new(namespace, "fn").expect(why);
            assert_eq!(metrics.namespace(), namespace, "{why}");
        }
        Metrics::new(&"N".repeat(255), "fn").expect("255 characters is the maximum");
    }

    #[test]
    fn invalid_namespaces_and_function_names_are_rejected_with_the_reason() {
        let cases = [
            (
                String::new(),
                "fn",
                "the metrics namespace `` is 0 characters long: CloudWatch needs 1 to 255 \
                 characters, at least one of them not a space (e.g. `TaskRouterCallback`)",
            ),
            (
                "   ".to_owned(),
                "fn",
                "the metrics namespace `   ` is 3 characters long: CloudWatch needs 1 to 255 \
                 characters, at least one of them not a space (e.g. `TaskRouterCallback`)",
            ),
            ("N".repeat(256), "fn", "is 256 characters long"),
            (
                "Task$Router".to_owned(),
                "fn",
                "the metrics namespace `Task$Router` contains '$': CloudWatch allows only ASCII \
                 letters, digits, spaces and `. - _ / # :`",
            ),
            ("Tâches".to_owned(), "fn", "contains 'â'"),
            (
                ":TaskRouter".to_owned(),
                "fn",
                "the metrics namespace `:TaskRouter` starts with `:`: start it with a letter or digit",
            ),
            (
                "AWS/Lambda".to_owned(),
                "fn",
                "the metrics namespace `AWS/Lambda` starts with `AWS/`, which is reserved for AWS \
                 services: choose your own prefix",
            ),
            (
                "TaskRouterCallback".to_owned(),
                "",
                "the function name `` cannot be a CloudWatch dimension value: use 1 to 1024 \
                 printable ASCII characters, at least one of them not a space",
            ),
            (
                "TaskRouterCallback".to_owned(),
                "función",
                "the function name `función` cannot be a CloudWatch dimension value",
            ),
        ];
        for (namespace, function, expected) in cases {
            let error = Metrics::new(&namespace, function).expect_err(expected);
            assert!(
                error.to_string().contains(expected),
                "namespace {namespace:?}, function {function:?}: {error}"
            );
        }
    }
}
