//! The template's dashboard and alarms against what is really published: every metric name and
//! dimension set a widget or an alarm names must be one the function writes (`metrics::PUBLISHED`)
//! or AWS publishes for Lambda and HTTP APIs, and every log field a dashboard query reads must be
//! one the function's log lines (or Lambda's own) carry. CloudWatch finds a metric only by its
//! exact name and set of dimension keys, so anything else would silently show "no data".
//!
//! The template is read as CloudFormation reads it: short-form tags (`!Sub`, `!Ref`) become their
//! long forms, and `${…}` in `Fn::Sub` is replaced by parameter defaults and placeholders (an
//! unknown name is an error too).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use taskrouter_lambda::config::DEFAULT_METRICS_NAMESPACE;
use taskrouter_lambda::metrics::PUBLISHED;

use crate::support::ssm::{Limit, SsmStandIn};
use crate::support::{DEV_TOKEN, Function, fixture, repo};

/// Metrics AWS Lambda publishes per function, dimension `FunctionName`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html>). Lambda
/// publishes no init-duration or cold-start metric: those are read from its report log lines.
const LAMBDA_METRICS: &[&str] = &[
    "Invocations",
    "Errors",
    "Throttles",
    "Duration",
    "ConcurrentExecutions",
    "DeadLetterErrors",
    "DestinationDeliveryFailures",
    "ProvisionedConcurrencyInvocations",
    "ProvisionedConcurrencySpilloverInvocations",
    "ProvisionedConcurrentExecutions",
    "ProvisionedConcurrencyUtilization",
];

/// Metrics API Gateway publishes for HTTP APIs, by `ApiId` and by `ApiId` and `Stage`
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html>). The
/// `Route` dimension needs detailed metrics, which the template does not enable.
/// The SQS metrics of a queue (<https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html>).
const SQS_METRICS: &[&str] = &[
    "ApproximateNumberOfMessagesVisible",
    "ApproximateAgeOfOldestMessage",
    "NumberOfMessagesSent",
    "NumberOfMessagesDeleted",
];

const HTTP_API_METRICS: &[&str] = &[
    "Count",
    "4xx",
    "5xx",
    "Latency",
    "IntegrationLatency",
    "DataProcessed",
];

/// Fields Lambda itself puts in the function's log group: the report line of the text format
/// (`@type`, `@initDuration`, …, discovered by Logs Insights) and of the JSON format (`type`,
/// `record.metrics.…`; <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html>),
/// plus the fields Logs Insights adds to every event.
const LAMBDA_LOG_FIELDS: &[&str] = &[
    "@timestamp",
    "@message",
    "@logStream",
    "@log",
    "@type",
    "@requestId",
    "@duration",
    "@billedDuration",
    "@memorySize",
    "@maxMemoryUsed",
    "@initDuration",
    "type",
    "record.requestId",
    "record.status",
    "record.metrics.durationMs",
    "record.metrics.billedDurationMs",
    "record.metrics.memorySizeMB",
    "record.metrics.maxMemoryUsedMB",
    "record.metrics.initDurationMs",
];

/// Logs Insights words that are not fields.
const QUERY_KEYWORDS: &[&str] = &[
    "source", "fields", "filter", "stats", "sort", "limit", "display", "parse", "dedup", "by",
    "as", "and", "or", "not", "in", "like", "asc", "desc",
];

/// One metric a widget or an alarm asks CloudWatch for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Reference {
    /// Where in the template, for the message.
    place: String,
    namespace: String,
    name: String,
    dimensions: BTreeSet<String>,
}

/// One metric that is published, with each dimension set it is published under.
struct Known {
    namespace: String,
    name: String,
    sets: Vec<BTreeSet<String>>,
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|key| (*key).to_owned()).collect()
}

/// What the function and AWS publish.
fn catalogue() -> Vec<Known> {
    let mut known: Vec<Known> = PUBLISHED
        .iter()
        .map(|metric| Known {
            namespace: DEFAULT_METRICS_NAMESPACE.to_owned(),
            name: metric.name.to_owned(),
            sets: metric.dimension_sets.iter().map(|keys| set(keys)).collect(),
        })
        .collect();
    known.extend(LAMBDA_METRICS.iter().map(|name| Known {
        namespace: "AWS/Lambda".to_owned(),
        name: (*name).to_owned(),
        sets: vec![set(&["FunctionName"])],
    }));
    // The deferral queues' alarm (template.yaml, DeferredDeadLetterAlarm).
    known.extend(SQS_METRICS.iter().map(|name| Known {
        namespace: "AWS/SQS".to_owned(),
        name: (*name).to_owned(),
        sets: vec![set(&["QueueName"])],
    }));
    known.extend(HTTP_API_METRICS.iter().map(|name| Known {
        namespace: "AWS/ApiGateway".to_owned(),
        name: (*name).to_owned(),
        sets: vec![set(&["ApiId"]), set(&["ApiId", "Stage"])],
    }));
    known
}

/// Every reference that would find no data, as a message naming it.
fn check(references: &[Reference], catalogue: &[Known]) -> Vec<String> {
    let describe = |sets: &[BTreeSet<String>]| {
        sets.iter()
            .map(|keys| format!("{keys:?}"))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let mut problems = Vec::new();
    for reference in references {
        let same_namespace: Vec<&Known> = catalogue
            .iter()
            .filter(|known| known.namespace == reference.namespace)
            .collect();
        if same_namespace.is_empty() {
            problems.push(format!(
                "{}: namespace `{}` is neither the function's (`{DEFAULT_METRICS_NAMESPACE}`) nor \
                 AWS/Lambda or AWS/ApiGateway",
                reference.place, reference.namespace
            ));
            continue;
        }
        match same_namespace
            .iter()
            .find(|known| known.name == reference.name)
        {
            None => problems.push(format!(
                "{}: no metric `{}` is published in `{}` (there are: {})",
                reference.place,
                reference.name,
                reference.namespace,
                same_namespace
                    .iter()
                    .map(|known| known.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(known) if !known.sets.contains(&reference.dimensions) => problems.push(format!(
                "{}: `{}` is published with dimensions {}, not {:?}: CloudWatch matches the set \
                 exactly, so this shows no data",
                reference.place,
                reference.name,
                describe(&known.sets),
                reference.dimensions
            )),
            Some(_) => {}
        }
    }
    problems
}

/// The metrics of a dashboard body's metric widgets.
fn dashboard_references(dashboard: &str, body: &Value) -> Result<Vec<Reference>, String> {
    let mut found = Vec::new();
    let widgets = body["widgets"]
        .as_array()
        .ok_or_else(|| format!("{dashboard}: the body has no widgets array"))?;
    for (index, widget) in widgets.iter().enumerate() {
        if widget["type"] != "metric" {
            continue;
        }
        let place = format!(
            "{dashboard}, widget {index} ({})",
            widget["properties"]["title"].as_str().unwrap_or("untitled")
        );
        let rows = widget["properties"]["metrics"]
            .as_array()
            .ok_or_else(|| format!("{place}: a metric widget without a metrics array"))?;
        let mut previous: Vec<Value> = Vec::new();
        for row in rows {
            let row = row
                .as_array()
                .ok_or_else(|| format!("{place}: a metrics row that is not an array: {row}"))?;
            if let [only] = row.as_slice()
                && let Some(expression) = only.get("expression").and_then(Value::as_str)
            {
                found.extend(expression_references(&place, expression)?);
                continue;
            }
            // A row is [namespace, name, key, value, …, {options}]; "." repeats the previous
            // row's item at that position and "..." the whole previous row.
            let items: Vec<&Value> = row.iter().filter(|item| !item.is_object()).collect();
            let items: Vec<Value> = if items.len() == 1 && items[0] == "..." {
                previous.clone()
            } else {
                items
                    .iter()
                    .enumerate()
                    .map(|(position, item)| {
                        if *item == "." {
                            previous.get(position).cloned().ok_or_else(|| {
                                format!("{place}: \".\" at position {position} with nothing above")
                            })
                        } else {
                            Ok((*item).clone())
                        }
                    })
                    .collect::<Result<_, _>>()?
            };
            let text = |position: usize| items.get(position).and_then(Value::as_str);
            let (Some(namespace), Some(name)) = (text(0), text(1)) else {
                return Err(format!(
                    "{place}: a metrics row without namespace and name: {row:?}"
                ));
            };
            if !items.len().is_multiple_of(2) {
                return Err(format!(
                    "{place}: a dimension key without a value in {row:?}"
                ));
            }
            let dimensions = (2..items.len())
                .step_by(2)
                .map(|position| text(position).map(str::to_owned))
                .collect::<Option<BTreeSet<String>>>()
                .ok_or_else(|| format!("{place}: a dimension key that is not a string: {row:?}"))?;
            found.push(Reference {
                place: place.clone(),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                dimensions,
            });
            previous = items;
        }
    }
    Ok(found)
}

/// The metrics a metric-math expression reads: each `SEARCH('{ns,k1,…} MetricName="m" …', …)`
/// and a Metrics Insights `SELECT f(m) FROM SCHEMA("ns", k1, …)`. Math over other ids reads none.
fn expression_references(place: &str, expression: &str) -> Result<Vec<Reference>, String> {
    let mut found = Vec::new();
    let mut rest = expression;
    while let Some(at) = rest.find("SEARCH(") {
        let after = rest[at + "SEARCH(".len()..].trim_start();
        let query = after
            .strip_prefix('\'')
            .and_then(|inner| inner.split_once('\''))
            .map(|(query, tail)| {
                rest = tail;
                query
            })
            .ok_or_else(|| format!("{place}: SEARCH without a quoted query: {expression}"))?;
        found.push(search_reference(place, query)?);
    }
    if let Some(at) = expression.find("SELECT ") {
        found.push(select_reference(place, &expression[at..])?);
    }
    Ok(found)
}

/// `{ns,k1,k2} MetricName="m" …`: the schema fixes the namespace and the exact dimension keys.
fn search_reference(place: &str, query: &str) -> Result<Reference, String> {
    let schema = query
        .split_once('{')
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(schema, _)| schema)
        .ok_or_else(|| {
            format!("{place}: SEARCH without a {{namespace,keys}} schema matches any dimensions: {query}")
        })?;
    let mut parts = schema
        .split(',')
        .map(|part| part.trim().trim_matches('"').to_owned());
    let namespace = parts.next().unwrap_or_default();
    let dimensions: BTreeSet<String> = parts.collect();
    let name = query
        .split_once("MetricName=")
        .map(|(_, rest)| match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or_default(),
            None => rest.split_whitespace().next().unwrap_or_default(),
        })
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            format!("{place}: SEARCH without MetricName= matches any metric: {query}")
        })?;
    Ok(Reference {
        place: place.to_owned(),
        namespace,
        name: name.to_owned(),
        dimensions,
    })
}

/// `SELECT SUM(m) FROM SCHEMA("ns", k1, k2) …`.
fn select_reference(place: &str, query: &str) -> Result<Reference, String> {
    let name = query
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(name, _)| name.trim().trim_matches('"'))
        .ok_or_else(|| format!("{place}: a SELECT without an aggregated metric: {query}"))?;
    let schema = query
        .split_once("FROM SCHEMA(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(schema, _)| schema)
        .ok_or_else(|| {
            format!("{place}: a SELECT without FROM SCHEMA(…) matches any dimensions: {query}")
        })?;
    let mut parts = schema
        .split(',')
        .map(|part| part.trim().trim_matches('"').to_owned());
    let namespace = parts.next().unwrap_or_default();
    Ok(Reference {
        place: place.to_owned(),
        namespace,
        name: name.to_owned(),
        dimensions: parts.collect(),
    })
}

/// The metrics an alarm reads: its own `Namespace`/`MetricName`/`Dimensions`, or each entry of
/// `Metrics` (a `MetricStat` or an `Expression`).
fn alarm_references(place: &str, properties: &Value) -> Result<Vec<Reference>, String> {
    let stat = |metric: &Value| -> Result<Reference, String> {
        let text = |key: &str| {
            metric[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{place}: no {key}"))
        };
        let dimensions = metric["Dimensions"]
            .as_array()
            .map(|dimensions| {
                dimensions
                    .iter()
                    .filter_map(|dimension| dimension["Name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Reference {
            place: place.to_owned(),
            namespace: text("Namespace")?,
            name: text("MetricName")?,
            dimensions,
        })
    };
    if properties.get("MetricName").is_some() {
        return Ok(vec![stat(properties)?]);
    }
    let mut found = Vec::new();
    for metric in properties["Metrics"].as_array().into_iter().flatten() {
        if let Some(expression) = metric["Expression"].as_str() {
            found.extend(expression_references(place, expression)?);
        } else if metric.get("MetricStat").is_some() {
            found.push(stat(&metric["MetricStat"]["Metric"])?);
        }
    }
    Ok(found)
}

/// Turns CloudFormation's YAML into the JSON form CloudFormation works on: a short-form tag
/// `!Name x` is `{"Fn::Name": x}`, except `!Ref` and `!Condition`, and `!GetAtt A.B` is
/// `{"Fn::GetAtt": ["A", "B"]}`.
fn cloudformation_json(value: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(flag),
        Yaml::Number(number) => {
            if let Some(int) = number.as_i64() {
                json!(int)
            } else if let Some(uint) = number.as_u64() {
                json!(uint)
            } else {
                json!(number.as_f64())
            }
        }
        Yaml::String(text) => Value::String(text),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(cloudformation_json).collect()),
        Yaml::Mapping(mapping) => Value::Object(
            mapping
                .into_iter()
                .map(|(key, value)| {
                    let key = match key {
                        Yaml::String(key) => key,
                        other => serde_yaml_ng::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                    };
                    (key, cloudformation_json(value))
                })
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!').to_owned();
            let inner = cloudformation_json(tagged.value);
            match name.as_str() {
                "Ref" | "Condition" => json!({ name: inner }),
                "GetAtt" => {
                    let parts = match &inner {
                        Value::String(text) => {
                            json!(text.splitn(2, '.').collect::<Vec<_>>())
                        }
                        _ => inner,
                    };
                    json!({ "Fn::GetAtt": parts })
                }
                _ => json!({ format!("Fn::{name}"): inner }),
            }
        }
    }
}

fn template() -> Value {
    let path = repo().join("template.yaml");
    let text = std::fs::read_to_string(&path).expect("template.yaml is readable");
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("template.yaml is YAML");
    cloudformation_json(yaml)
}

/// What `${Name}` stands for in `Fn::Sub`: a parameter's default, or a placeholder for a
/// resource, a resource attribute or a pseudo parameter.
fn names(template: &Value) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for (name, parameter) in template["Parameters"].as_object().into_iter().flatten() {
        let default = match &parameter["Default"] {
            Value::String(text) => text.clone(),
            Value::Null => format!("parameter-{name}"),
            other => other.to_string(),
        };
        names.insert(name.clone(), default);
    }
    for name in template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name)
    {
        names.insert(name.clone(), format!("ref-{name}"));
    }
    for (name, value) in [
        ("AWS::Region", "us-east-1"),
        ("AWS::AccountId", "123456789012"),
        ("AWS::StackName", "taskrouter"),
        ("AWS::Partition", "aws"),
        ("AWS::URLSuffix", "amazonaws.com"),
    ] {
        names.insert(name.to_owned(), value.to_owned());
    }
    names
}

/// The string `Fn::Sub` makes of `value`.
fn substitute(value: &Value, names: &BTreeMap<String, String>) -> Result<String, String> {
    let (text, extra) = match &value["Fn::Sub"] {
        Value::String(text) => (text.as_str(), BTreeMap::new()),
        Value::Array(pair) => {
            let text = pair.first().and_then(Value::as_str).unwrap_or_default();
            let extra = pair
                .get(1)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(key, value)| (key.clone(), format!("sub-{key}-{}", value.is_object())))
                .collect();
            (text, extra)
        }
        Value::Null => match value {
            Value::String(text) => (text.as_str(), BTreeMap::new()),
            other => return Err(format!("not a string or Fn::Sub: {other}")),
        },
        other => return Err(format!("Fn::Sub of neither a string nor a pair: {other}")),
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        if let Some(literal) = after.strip_prefix('!') {
            out.push_str("${");
            rest = literal;
            continue;
        }
        let (name, tail) = after
            .split_once('}')
            .ok_or_else(|| format!("an unclosed ${{ in {text}"))?;
        let resolved = extra
            .get(name)
            .or_else(|| names.get(name))
            .or_else(|| {
                // `${Resource.Attribute}`.
                name.split_once('.')
                    .and_then(|(resource, _)| names.get(resource))
            })
            .ok_or_else(|| {
                format!("`${{{name}}}` names no parameter, resource or pseudo parameter")
            })?;
        out.push_str(resolved);
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

/// A dashboard's log query: where it is, and its text.
type LogQuery = (String, String);

/// Every metric reference of every dashboard and alarm in the template, and each dashboard's log
/// queries.
fn template_references(template: &Value) -> Result<(Vec<Reference>, Vec<LogQuery>), String> {
    let names = names(template);
    let mut references = Vec::new();
    let mut queries = Vec::new();
    for (name, resource) in template["Resources"].as_object().into_iter().flatten() {
        let properties = &resource["Properties"];
        match resource["Type"].as_str() {
            Some("AWS::CloudWatch::Dashboard") => {
                let body = substitute(&properties["DashboardBody"], &names)
                    .map_err(|error| format!("dashboard {name}: {error}"))?;
                let body: Value = serde_json::from_str(&body)
                    .map_err(|error| format!("dashboard {name}: the body is not JSON: {error}"))?;
                references.extend(dashboard_references(&format!("dashboard {name}"), &body)?);
                for (index, widget) in body["widgets"].as_array().into_iter().flatten().enumerate()
                {
                    if widget["type"] == "log" {
                        let query = widget["properties"]["query"].as_str().unwrap_or_default();
                        queries.push((
                            format!("dashboard {name}, widget {index}"),
                            query.to_owned(),
                        ));
                    }
                }
            }
            Some("AWS::CloudWatch::Alarm") => {
                // Alarm expressions are `Fn::Sub` strings too.
                let mut resolved = properties.clone();
                for metric in resolved["Metrics"].as_array_mut().into_iter().flatten() {
                    if metric.get("Expression").is_some_and(Value::is_object) {
                        metric["Expression"] = Value::String(
                            substitute(&metric["Expression"], &names)
                                .map_err(|error| format!("alarm {name}: {error}"))?,
                        );
                    }
                }
                references.extend(alarm_references(&format!("alarm {name}"), &resolved)?);
            }
            _ => {}
        }
    }
    Ok((references, queries))
}

/// A Logs Insights query's words: identifiers (fields, functions, keywords), strings, others.
#[derive(Debug, Clone, PartialEq)]
enum Word {
    Name(String),
    Text(String),
    Other(char),
}

fn words(query: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '"' {
            let text: String = chars.by_ref().take_while(|&next| next != c).collect();
            words.push(Word::Text(text));
        } else if c == '/' && matches!(words.last(), Some(Word::Name(word)) if word == "like") {
            // A regular expression: skipped whole.
            for next in chars.by_ref() {
                if next == '/' {
                    break;
                }
            }
        } else if c.is_ascii_alphabetic() || c == '@' || c == '_' {
            let mut name = c.to_string();
            while let Some(&next) = chars.peek() {
                if next.is_ascii_alphanumeric() || next == '_' || next == '.' || next == '@' {
                    name.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            words.push(Word::Name(name));
        } else if c.is_ascii_digit() {
            // Numbers and durations such as `1m`.
            while chars.peek().is_some_and(char::is_ascii_alphanumeric) {
                chars.next();
            }
        } else if !c.is_whitespace() {
            words.push(Word::Other(c));
        }
    }
    words
}

/// The fields a query reads and the `message` values it compares with.
fn query_fields(query: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let words = words(query);
    let name = |index: usize| match words.get(index) {
        Some(Word::Name(name)) => Some(name.as_str()),
        _ => None,
    };
    let aliases: BTreeSet<&str> = (1..words.len())
        .filter(|&index| name(index - 1).is_some_and(|word| word.eq_ignore_ascii_case("as")))
        .filter_map(name)
        .collect();
    let mut fields = BTreeSet::new();
    let mut messages = BTreeSet::new();
    for index in 0..words.len() {
        let Some(word) = name(index) else { continue };
        let is_call = words.get(index + 1) == Some(&Word::Other('('));
        let is_keyword = QUERY_KEYWORDS.contains(&word.to_ascii_lowercase().as_str());
        if is_call || is_keyword || aliases.contains(word) {
            continue;
        }
        fields.insert(word.to_owned());
        if word == "message"
            && words.get(index + 1) == Some(&Word::Other('='))
            && let Some(Word::Text(text)) = words.get(index + 2)
        {
            messages.insert(text.clone());
        }
    }
    (fields, messages)
}

/// Every field path (`a`, `a.b`) and every `message` of the JSON lines in `output`.
fn log_vocabulary(output: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    fn paths(prefix: &str, value: &Value, into: &mut BTreeSet<String>) {
        if let Value::Object(map) = value {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                paths(&path, value, into);
                into.insert(path);
            }
        }
    }
    let mut fields = BTreeSet::new();
    let mut messages = BTreeSet::new();
    for line in output.lines() {
        if let Ok(line) = serde_json::from_str::<Value>(line) {
            paths("", &line, &mut fields);
            if let Some(message) = line["message"].as_str() {
                messages.insert(message.to_owned());
            }
        }
    }
    (fields, messages)
}

/// Every field or message a query reads that neither Lambda nor the function writes.
fn check_query(
    place: &str,
    query: &str,
    fields_written: &BTreeSet<String>,
    messages_written: &BTreeSet<String>,
) -> Vec<String> {
    let (fields, messages) = query_fields(query);
    let mut problems = Vec::new();
    for field in fields {
        if !LAMBDA_LOG_FIELDS.contains(&field.as_str()) && !fields_written.contains(&field) {
            problems.push(format!(
                "{place}: the query reads `{field}`, which no log line of the function or of \
                 Lambda carries"
            ));
        }
    }
    for message in messages {
        if !messages_written.contains(&message) {
            problems.push(format!(
                "{place}: the query looks for message \"{message}\", which the function never logs"
            ));
        }
    }
    problems
}

#[test]
fn every_metric_the_dashboard_and_the_alarms_read_is_published_with_that_dimension_set() {
    let (references, _) = template_references(&template()).expect("the template reads");
    let problems = check(&references, &catalogue());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let alarms = references
        .iter()
        .filter(|r| r.place.starts_with("alarm"))
        .count();
    let widgets = references
        .iter()
        .filter(|r| r.place.starts_with("dashboard"))
        .count();
    assert!(alarms >= 4 && widgets >= 10, "{references:#?}");
}

#[test]
fn every_metric_the_function_publishes_is_on_the_dashboard() {
    let (references, _) = template_references(&template()).expect("the template reads");
    for metric in PUBLISHED {
        assert!(
            references
                .iter()
                .any(|reference| reference.place.starts_with("dashboard")
                    && reference.namespace == DEFAULT_METRICS_NAMESPACE
                    && reference.name == metric.name),
            "`{}` is published but on no dashboard widget",
            metric.name
        );
    }
}

#[test]
fn the_checker_reports_each_widget_or_alarm_that_would_show_no_data() {
    let ns = DEFAULT_METRICS_NAMESPACE;
    let widget = |metrics: Value| json!({"widgets": [{"type": "metric", "properties": {"title": "t", "metrics": metrics}}]});
    let search = |schema: &str, metric: &str| {
        widget(
            json!([[{"expression": format!("SEARCH('{{{schema}}} MetricName=\"{metric}\" Function=\"f\"', 'Sum', 60)"), "id": "e"}]]),
        )
    };
    let cases = [
        (
            widget(json!([[ns, "Decision", "Function", "f"]])),
            "no metric `Decision` is published",
            "a misspelt metric",
        ),
        (
            widget(json!([[ns, "Decisions", "Function", "f"]])),
            "`Decisions` is published with dimensions",
            "a dimension set the function never writes",
        ),
        (
            widget(json!([[
                ns,
                "HandlingTime",
                "Function",
                "f",
                "Rule",
                "vip"
            ]])),
            "`HandlingTime` is published with dimensions",
            "an extra dimension",
        ),
        (
            search(&format!("{ns},Function,Queue"), "Decisions"),
            "`Decisions` is published with dimensions",
            "a SEARCH over a dimension that does not exist",
        ),
        (
            search(&format!("{ns},Function,Rule"), "Decision"),
            "no metric `Decision`",
            "a SEARCH for a misspelt metric",
        ),
        (
            json!({"widgets": [{"type": "metric", "properties": {"metrics": [[{"expression": format!("SEARCH('{{{ns},Function,Rule}}', 'Sum', 60)")}]]}}]}),
            "SEARCH without MetricName=",
            "a SEARCH that cannot be checked",
        ),
        (
            widget(json!([["AWS/Lambda", "InitDuration", "FunctionName", "f"]])),
            "no metric `InitDuration` is published in `AWS/Lambda`",
            "a Lambda metric that does not exist",
        ),
        (
            widget(json!([
                ["AWS/ApiGateway", "Count", "ApiId", "a"],
                [".", "5xx", "Route", "."]
            ])),
            "`5xx` is published with dimensions",
            "a dimension key changed on a \".\" row",
        ),
        (
            widget(json!([["Custom/Thing", "Decisions", "Function", "f"]])),
            "namespace `Custom/Thing`",
            "another namespace",
        ),
    ];
    let valid = widget(json!([
        [ns, "HandlingTime", "Function", "f", {"stat": "p99"}],
        ["..."],
        ["AWS/ApiGateway", "Count", "ApiId", "a"],
        [".", "5xx", ".", "."],
        [{"expression": format!("SUM(SEARCH('{{{ns},Function,Rule}} MetricName=\"Decisions\" Function=\"f\"', 'Sum', 60))")}]
    ]));
    let references = dashboard_references("valid", &valid).expect("reads");
    assert_eq!(references.len(), 5, "{references:#?}");
    assert_eq!(
        check(&references, &catalogue()),
        Vec::<String>::new(),
        "the valid widget"
    );
    for (body, expected, why) in cases {
        let problems = match dashboard_references("case", &body) {
            Ok(references) => check(&references, &catalogue()),
            Err(error) => vec![error],
        };
        assert!(
            problems.iter().any(|problem| problem.contains(expected)),
            "{why}: expected a problem containing {expected:?}, got {problems:?}"
        );
    }
}

#[test]
fn the_checker_reads_alarms_by_metric_by_metric_stat_and_by_metrics_insights() {
    let ns = DEFAULT_METRICS_NAMESPACE;
    let cases = [
        (
            json!({"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": "f"}]}),
            None,
            "a plain alarm",
        ),
        (
            json!({"Metrics": [{"Id": "m", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "SignatureFailures", "Dimensions": [{"Name": "Route", "Value": "/x"}]}}}]}),
            Some("`SignatureFailures` is published with dimensions"),
            "a MetricStat without the Function dimension",
        ),
        (
            json!({"Metrics": [{"Id": "m", "Expression": format!("SELECT SUM(SignatureFailures) FROM SCHEMA(\"{ns}\", Function, Route) WHERE Function = 'f'")}]}),
            None,
            "a Metrics Insights query on the published set",
        ),
        (
            json!({"Metrics": [{"Id": "m", "Expression": format!("SELECT SUM(SignatureFailures) FROM SCHEMA(\"{ns}\", Function)")}]}),
            Some("`SignatureFailures` is published with dimensions"),
            "a Metrics Insights query on another set",
        ),
        (
            json!({"Metrics": [{"Id": "m", "Expression": format!("SELECT SUM(Decisions) FROM \"{ns}\"")}]}),
            Some("without FROM SCHEMA"),
            "a Metrics Insights query that cannot be checked",
        ),
    ];
    for (alarm, expected, why) in cases {
        let problems = match alarm_references("alarm", &alarm) {
            Ok(references) => {
                assert!(!references.is_empty(), "{why}: nothing read");
                check(&references, &catalogue())
            }
            Err(error) => vec![error],
        };
        match expected {
            None => assert!(problems.is_empty(), "{why}: {problems:?}"),
            Some(expected) => assert!(
                problems.iter().any(|problem| problem.contains(expected)),
                "{why}: expected {expected:?}, got {problems:?}"
            ),
        }
    }
}

#[test]
fn the_checker_reports_log_queries_reading_fields_or_messages_nobody_writes() {
    let written = set(&["message", "code", "status", "route"]);
    let messages = set(&["auth token loaded"]);
    let cases = [
        (
            "SOURCE 'g' | filter ispresent(status) | stats count(*) as requests by status, code | sort requests desc",
            vec![],
            "fields the function writes, an alias reused",
        ),
        (
            "SOURCE 'g' | fields coalesce(record.metrics.initDurationMs, @initDuration) as init_ms | filter type = \"platform.report\" | stats pct(init_ms, 99) by bin(1m)",
            vec![],
            "Lambda's own report fields",
        ),
        (
            "SOURCE 'g' | stats count(*) by decision_rule",
            vec!["`decision_rule`"],
            "a field nobody writes",
        ),
        (
            "SOURCE 'g' | filter message = \"auth token fetched\" or message like /token/",
            vec!["message \"auth token fetched\""],
            "a message the function never logs",
        ),
    ];
    for (query, expected, why) in cases {
        let problems = check_query("q", query, &written, &messages);
        assert_eq!(problems.len(), expected.len(), "{why}: {problems:?}");
        for (problem, expected) in problems.iter().zip(expected) {
            assert!(problem.contains(expected), "{why}: {problem}");
        }
    }
}

#[test]
fn a_reference_to_a_name_the_template_does_not_define_is_an_error() {
    let names = names(&template());
    let cases = [
        (
            json!({"Fn::Sub": "${MetricsNamespace}/${Function}"}),
            Ok("TaskRouterCallback/ref-Function"),
        ),
        (
            json!({"Fn::Sub": "${!Literal} ${AWS::Region}"}),
            Ok("${Literal} us-east-1"),
        ),
        (
            json!({"Fn::Sub": ["${Thing}", {"Thing": "x"}]}),
            Ok("sub-Thing-false"),
        ),
        (
            json!({"Fn::Sub": "${Functoin}"}),
            Err("`${Functoin}` names no parameter"),
        ),
    ];
    for (value, expected) in cases {
        match (substitute(&value, &names), expected) {
            (Ok(text), Ok(expected)) => assert_eq!(text, expected),
            (Err(error), Err(expected)) => assert!(error.contains(expected), "{error}"),
            (got, expected) => panic!("{value}: got {got:?}, expected {expected:?}"),
        }
    }
}

#[tokio::test]
async fn every_log_field_the_dashboard_queries_is_one_the_function_writes() {
    let (_, queries) = template_references(&template()).expect("the template reads");
    assert!(queries.len() >= 3, "{queries:?}");

    // Make the function write every kind of line an operator looks for: a token that cannot be
    // loaded and the 503 it causes, a token loaded, an answered callback, a refused signature.
    let ssm = SsmStandIn::start(
        &[("/taskrouter/auth-token", DEV_TOKEN)],
        Limit::Bucket {
            rate: 0.0,
            burst: 0.0,
        },
    )
    .await;
    let endpoint = ssm.endpoint();
    let function = Function::start_with(&[
        ("TWILIO_AUTH_TOKEN_PARAMETER", "/taskrouter/auth-token"),
        ("AWS_ENDPOINT_URL_SSM", &endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ])
    .await;
    let callback = fixture("assignment-http-api");
    assert_eq!(function.http(callback.clone()).await.status, 503);
    ssm.set_limit(Limit::Unlimited);
    let status = function.http_once_recovered(callback.clone()).await.status;
    assert_eq!(status, 200, "{}", function.output());
    let mut forged = callback;
    forged["headers"]["x-twilio-signature"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_eq!(function.http(forged).await.status, 403);

    let (fields, messages) = log_vocabulary(&function.output());
    let problems: Vec<String> = queries
        .iter()
        .flat_map(|(place, query)| check_query(place, query, &fields, &messages))
        .collect();
    assert!(
        problems.is_empty(),
        "{}\n--- the function wrote ---\n{}",
        problems.join("\n"),
        function.output()
    );
}
