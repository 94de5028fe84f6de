//! The SAM template with its conditions resolved for each way of deploying it: what the function's
//! role may read (SSM parameters, Secrets Manager secrets, their keys, the listing of a prefix),
//! what the function's environment holds, which layers it gets, and which parameter combinations
//! the template's `Rules` refuse at deploy time.
//!
//! `sam validate --lint` (`make validate`) checks that the template is valid; it cannot say what
//! a stack of given parameters gets. This reads the template with cfn-lint's own YAML loader
//! (installed with the SAM CLI) and resolves the intrinsic functions the template uses (`!Ref`,
//! `!Sub`, `!If`, `!Equals`, `!Not`, `!And`, `!Or`, `!Select`, `!Split`, `Condition`) the way
//! CloudFormation does.

use serde_json::{Value, json};

use crate::support::repo;

/// Resolves the template for the parameter values given as JSON in `argv[2]`.
const RESOLVE: &str = r#"
import json, re, sys
from cfnlint.decode import cfn_yaml

template = cfn_yaml.load(sys.argv[1])
values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
values.update(json.loads(sys.argv[2]))
values.update({"AWS::Partition": "aws", "AWS::Region": "us-east-1",
               "AWS::AccountId": "123456789012", "AWS::StackName": "stack"})
NO_VALUE = object()

def condition(name):
    return bool(resolve(template["Conditions"][name]))

def resolve(node):
    if isinstance(node, dict) and len(node) == 1:
        (key, arg), = node.items()
        if key == "Ref":
            return NO_VALUE if arg == "AWS::NoValue" else values.get(arg, {"Ref": arg})
        if key == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], arg)
        if key == "Fn::If":
            return resolve(arg[1] if condition(arg[0]) else arg[2])
        if key == "Fn::Equals":
            return resolve(arg[0]) == resolve(arg[1])
        if key == "Fn::Not":
            return not resolve(arg[0])
        if key == "Fn::And":
            return all(resolve(item) for item in arg)
        if key == "Fn::Or":
            return any(resolve(item) for item in arg)
        if key == "Fn::Select":
            return resolve(arg[1])[int(resolve(arg[0]))]
        if key == "Fn::Split":
            return resolve(arg[1]).split(arg[0])
        if key == "Condition":
            return condition(arg)
    if isinstance(node, dict):
        resolved = {key: resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}
    if isinstance(node, list):
        return [item for item in (resolve(item) for item in node) if item is not NO_VALUE]
    return node

def rule_holds(rule):
    if "RuleCondition" in rule and not resolve(rule["RuleCondition"]):
        return True
    return all(resolve(assertion["Assert"]) for assertion in rule["Assertions"])

resources = template["Resources"]
read = resolve(resources["ReadAuthTokenPolicy"]["Properties"])
function = resolve(resources["Function"]["Properties"])
decider = resolve(resources["Decider"]["Properties"])
statements = read["PolicyDocument"]["Statement"]
def sqs_grants(role):
    policies = resolve(resources[role]["Properties"]["Policies"])
    return sorted(action for p in policies for s in p["PolicyDocument"]["Statement"]
                  for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
                  if action.startswith("sqs:"))
print(json.dumps({
    "grants": [[s["Action"], s["Resource"], s.get("Condition")] for s in statements],
    "token_roles": [role["Ref"] for role in read["Roles"]],
    "sqs": {"Function": sqs_grants("FunctionRole"), "Decider": sqs_grants("DeciderRole")},
    "decider_environment": decider["Environment"]["Variables"],
    "decider_events": decider["Events"],
    "environment": function["Environment"]["Variables"],
    "layers": function.get("Layers"),
    "layer_resource": "TenantRulesLayer" in resources and condition(resources["TenantRulesLayer"]["Condition"]),
    "refused_by": [name for name, rule in template["Rules"].items() if not rule_holds(rule)],
    "rotation": {
        name: resolve(resources[name]["Properties"]) if condition(resources[name]["Condition"]) else None
        for name in ["RotationFunctionRole", "RotationFunction", "RotationPermission", "RotationSchedule"]
    },
}))
"#;

/// The template resolved for `parameters`.
fn resolved(parameters: &Value) -> Value {
    let template = repo().join("template.yaml");
    let output = std::process::Command::new("python3")
        .args(["-c", RESOLVE])
        .arg(&template)
        .arg(parameters.to_string())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "resolving the template needs cfn-lint (installed with the SAM CLI: make tools)\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the resolved template as JSON")
}

const ARN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter";
const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret";

/// The grant that lets SSM decrypt SecureStrings for the role.
fn ssm_decrypt() -> Value {
    json!([
        "kms:Decrypt",
        "arn:aws:kms:us-east-1:123456789012:key/*",
        {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}
    ])
}

#[test]
fn a_single_account_stack_may_read_exactly_its_named_parameters() {
    let read = json!(["ssm:GetParameter", "ssm:GetParameters"]);
    let cases = [
        (
            json!({"AuthTokenParameterName": "/taskrouter/auth-token"}),
            json!([
                [read, [format!("{ARN}/taskrouter/auth-token")], null],
                ssm_decrypt()
            ]),
            "one parameter, read with GetParameter",
        ),
        (
            json!({
                "AuthTokenParameterName": "/taskrouter/auth-token",
                "SecondaryAuthTokenParameterName": "/taskrouter/auth-token-secondary",
            }),
            json!([
                [
                    read,
                    [
                        format!("{ARN}/taskrouter/auth-token"),
                        format!("{ARN}/taskrouter/auth-token-secondary"),
                    ],
                    null
                ],
                ssm_decrypt()
            ]),
            "with a secondary during a rotation, both read with one GetParameters",
        ),
    ];
    for (parameters, grants, why) in cases {
        let stack = resolved(&parameters);
        assert_eq!(stack["grants"], grants, "{why}");
        assert_eq!(stack["refused_by"], json!([]), "{why}");
        let environment = stack["environment"].as_object().expect("variables");
        assert_eq!(
            environment["TWILIO_AUTH_TOKEN_PARAMETER"],
            "/taskrouter/auth-token"
        );
        for per_account in [
            "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX",
            "TWILIO_AUTH_TOKEN_SECRET_ID",
            "TWILIO_AUTH_TOKEN_SECRET_PREFIX",
            "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS",
            "TWILIO_ACCOUNT_SIDS",
            "ACCOUNT_LOOKUPS_PER_MINUTE",
            "ASSIGNMENT_RULES_DIR",
        ] {
            assert!(
                !environment.contains_key(per_account),
                "{why}: {per_account} is set"
            );
        }
        assert_eq!(stack["layers"], Value::Null, "{why}: no layer");
        assert_eq!(stack["layer_resource"], false, "{why}");
    }
}

#[test]
fn a_per_account_stack_may_read_only_under_its_prefix_and_list_that_prefix_alone() {
    let stack = resolved(&json!({
        "AuthTokenParameterPrefix": "/taskrouter/accounts/",
        "AccountSids": "AC0123456789abcdef0123456789abcdef,ACfedcba9876543210fedcba9876543210",
        "AccountLookupsPerMinute": "20",
        "TenantRules": "Enabled",
    }));
    assert_eq!(
        stack["grants"],
        json!([
            [
                ["ssm:GetParameter", "ssm:GetParameters"],
                format!("{ARN}/taskrouter/accounts/*"),
                null
            ],
            [
                "ssm:GetParametersByPath",
                format!("{ARN}/taskrouter/accounts/"),
                null
            ],
            ssm_decrypt()
        ]),
        "an account's primary and secondary read with one GetParameters; the prefix itself, and \
         no path below it, listed once the look-up budget is spent"
    );
    assert_eq!(stack["refused_by"], json!([]));
    assert_eq!(
        stack["environment"],
        json!({
            "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX": "/taskrouter/accounts/",
            "TWILIO_ACCOUNT_SIDS": "AC0123456789abcdef0123456789abcdef,ACfedcba9876543210fedcba9876543210",
            "ACCOUNT_LOOKUPS_PER_MINUTE": "20",
            "ASSIGNMENT_RULES_DIR": "/opt/tenants",
            "DEFERRED_QUEUE_URL": {"Ref": "DeferredQueue"},
            "METRICS_NAMESPACE": "TaskRouterCallback",
        })
    );
    assert_eq!(stack["layers"], json!([{"Ref": "TenantRulesLayer"}]));
    assert_eq!(stack["layer_resource"], true);

    let open = resolved(&json!({"AuthTokenParameterPrefix": "/taskrouter/accounts/"}));
    assert_eq!(
        open["environment"]["ACCOUNT_LOOKUPS_PER_MINUTE"], "10",
        "the default budget"
    );
    assert_eq!(open["environment"].get("TWILIO_ACCOUNT_SIDS"), None);
}

#[test]
fn a_secrets_manager_stack_may_read_exactly_its_secret_and_decrypt_only_with_its_own_key() {
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let read = "secretsmanager:GetSecretValue";
    let decrypt = json!([
        "kms:Decrypt",
        key,
        {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    ]);
    let arn = format!("{SECRET_ARN}:taskrouter/auth-token-AbCdEf");
    let cases = [
        (
            json!({"AuthTokenSource": "SecretsManager", "AuthTokenSecretId": "taskrouter/auth-token"}),
            json!([[
                read,
                format!("{SECRET_ARN}:taskrouter/auth-token-??????"),
                null
            ]]),
            json!({
                "TWILIO_AUTH_TOKEN_SECRET_ID": "taskrouter/auth-token",
                "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS": "60",
                "DEFERRED_QUEUE_URL": {"Ref": "DeferredQueue"},
                "METRICS_NAMESPACE": "TaskRouterCallback",
            }),
            "a secret by name: its ARN with Secrets Manager's six-character suffix, no KMS grant \
             for the AWS-managed key",
        ),
        (
            json!({
                "AuthTokenSource": "SecretsManager",
                "AuthTokenSecretId": arn,
                "AuthTokenSecretKmsKeyArn": key,
                "PreviousTokenGraceSeconds": "30",
            }),
            json!([[read, arn, null], decrypt]),
            json!({
                "TWILIO_AUTH_TOKEN_SECRET_ID": arn,
                "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS": "30",
                "DEFERRED_QUEUE_URL": {"Ref": "DeferredQueue"},
                "METRICS_NAMESPACE": "TaskRouterCallback",
            }),
            "a secret by ARN, encrypted with a customer-managed key",
        ),
        (
            json!({
                "AuthTokenSource": "SecretsManager",
                "AuthTokenSecretPrefix": "taskrouter/accounts/",
                "AuthTokenSecretKmsKeyArn": key,
            }),
            json!([
                [
                    read,
                    format!(
                        "{SECRET_ARN}:taskrouter/accounts/AC{}-??????",
                        "?".repeat(32)
                    ),
                    null
                ],
                ["secretsmanager:ListSecrets", "*", null],
                decrypt
            ]),
            json!({
                "TWILIO_AUTH_TOKEN_SECRET_PREFIX": "taskrouter/accounts/",
                "AUTH_TOKEN_PREVIOUS_GRACE_SECONDS": "60",
                "ACCOUNT_LOOKUPS_PER_MINUTE": "10",
                "DEFERRED_QUEUE_URL": {"Ref": "DeferredQueue"},
                "METRICS_NAMESPACE": "TaskRouterCallback",
            }),
            "a secret per account: only names of an account SID under the prefix, and the \
             listing of names, which has no resource-level permission",
        ),
    ];
    for (parameters, grants, environment, why) in cases {
        let stack = resolved(&parameters);
        assert_eq!(stack["grants"], grants, "{why}: no ssm grant either");
        assert_eq!(stack["environment"], environment, "{why}");
        assert_eq!(stack["refused_by"], json!([]), "{why}");
    }
}

#[test]
fn the_template_refuses_mixed_or_missing_token_settings_at_deploy_time() {
    let cases = [
        (
            json!({}),
            json!(["OneTokenSetting"]),
            "neither a name nor a prefix",
        ),
        (
            json!({
                "AuthTokenParameterName": "/taskrouter/auth-token",
                "AuthTokenParameterPrefix": "/taskrouter/accounts/",
            }),
            json!(["OneTokenSetting"]),
            "both",
        ),
        (
            json!({
                "AuthTokenParameterPrefix": "/taskrouter/accounts/",
                "SecondaryAuthTokenParameterName": "/taskrouter/auth-token-secondary",
            }),
            json!(["SecondaryNeedsName"]),
            "a single-account secondary with a prefix",
        ),
        (
            json!({
                "AuthTokenParameterName": "/taskrouter/auth-token",
                "AccountSids": "AC0123456789abcdef0123456789abcdef",
            }),
            json!(["AccountSidsNeedPrefix"]),
            "a list of accounts for a single-account stack",
        ),
        (
            json!({
                "AuthTokenParameterName": "/taskrouter/auth-token",
                "AuthTokenSecretId": "taskrouter/auth-token",
            }),
            json!(["OneTokenSetting"]),
            "a secret next to a parameter, the source left at Parameter Store",
        ),
        (
            json!({
                "AuthTokenSource": "SecretsManager",
                "AuthTokenParameterName": "/taskrouter/auth-token",
                "AuthTokenSecretId": "taskrouter/auth-token",
            }),
            json!(["OneSecretSetting"]),
            "a parameter next to a secret, the source Secrets Manager",
        ),
        (
            json!({"AuthTokenSource": "SecretsManager"}),
            json!(["OneSecretSetting"]),
            "Secrets Manager without a secret",
        ),
        (
            json!({
                "AuthTokenSource": "SecretsManager",
                "AuthTokenSecretId": "taskrouter/auth-token",
                "AuthTokenSecretPrefix": "taskrouter/accounts/",
            }),
            json!(["OneSecretSetting"]),
            "a secret and a secret prefix",
        ),
    ];
    for (parameters, refused_by, why) in cases {
        assert_eq!(resolved(&parameters)["refused_by"], refused_by, "{why}");
    }
}

#[test]
fn a_secret_rotates_by_the_stacks_function_whose_role_may_touch_that_secret_alone() {
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let actions = json!([
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage"
    ]);
    let by_name = resolved(&json!({
        "AuthTokenSource": "SecretsManager",
        "AuthTokenSecretId": "taskrouter/auth-token",
        "TokenRotationDays": "30",
    }));
    let rotation = &by_name["rotation"];
    let [logs, rotate] = rotation["RotationFunctionRole"]["Policies"]
        .as_array()
        .expect("policies")
        .clone()
        .try_into()
        .expect("two policies");
    assert_eq!(logs["PolicyName"], "write-own-logs");
    assert_eq!(
        rotate["PolicyDocument"]["Statement"],
        json!([{
            "Effect": "Allow",
            "Action": actions,
            "Resource": format!("{SECRET_ARN}:taskrouter/auth-token-??????"),
        }]),
        "the one secret, no KMS grant for the AWS-managed key"
    );
    assert_eq!(
        rotation["RotationSchedule"]["RotationRules"],
        json!({"AutomaticallyAfterDays": "30"})
    );
    assert_eq!(
        rotation["RotationSchedule"]["SecretId"],
        "taskrouter/auth-token"
    );
    assert_eq!(
        rotation["RotationPermission"]["Principal"],
        "secretsmanager.amazonaws.com"
    );
    assert_eq!(
        rotation["RotationPermission"]["SourceAccount"],
        "123456789012"
    );
    assert_eq!(rotation["RotationFunction"]["Timeout"], 300);

    let with_key = resolved(&json!({
        "AuthTokenSource": "SecretsManager",
        "AuthTokenSecretId": "taskrouter/auth-token",
        "AuthTokenSecretKmsKeyArn": key,
    }));
    assert_eq!(
        with_key["rotation"]["RotationFunctionRole"]["Policies"][1]["PolicyDocument"]["Statement"]
            [1],
        json!({
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key,
            "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
        }),
        "a customer-managed key, through Secrets Manager only"
    );
    assert!(
        with_key["rotation"]["RotationSchedule"].is_null(),
        "no schedule by default: the function is there for a rotation started by hand"
    );

    for (parameters, why) in [
        (
            json!({"AuthTokenParameterName": "/taskrouter/auth-token"}),
            "Parameter Store rotates with `taskrouter token rotate`",
        ),
        (
            json!({"AuthTokenSource": "SecretsManager", "AuthTokenSecretPrefix": "taskrouter/accounts/", "TokenRotationDays": "30"}),
            "a secret per account has no schedule the template could list",
        ),
    ] {
        let stack = resolved(&parameters);
        assert_eq!(
            stack["rotation"],
            json!({"RotationFunctionRole": null, "RotationFunction": null, "RotationPermission": null, "RotationSchedule": null}),
            "{why}"
        );
    }
}

#[test]
fn the_decider_reads_the_same_tokens_consumes_only_its_queue_and_reports_partial_batches() {
    for parameters in [
        json!({"AuthTokenParameterName": "/twilio/token"}),
        json!({"AuthTokenParameterPrefix": "/twilio/accounts/"}),
        json!({"AuthTokenSource": "SecretsManager", "AuthTokenSecretId": "twilio"}),
    ] {
        let stack = resolved(&parameters);
        assert_eq!(
            stack["token_roles"],
            json!(["FunctionRole", "DeciderRole"]),
            "one token policy for both functions: {parameters}"
        );
        let environment = &stack["environment"];
        let decider = &stack["decider_environment"];
        for (name, value) in environment.as_object().expect("variables") {
            if name.starts_with("TWILIO_")
                || name.starts_with("AUTH_TOKEN")
                || name.starts_with("ACCOUNT_")
            {
                assert_eq!(&decider[name], value, "{name} for {parameters}");
            }
        }
        assert_eq!(
            decider["DEFERRED_QUEUE_URL"],
            json!({"Ref": "DeferredQueue"})
        );
        assert_eq!(
            environment["DEFERRED_QUEUE_URL"],
            json!({"Ref": "DeferredQueue"})
        );
    }
    let stack = resolved(&json!({"AuthTokenParameterName": "/twilio/token"}));
    assert_eq!(stack["sqs"]["Function"], json!(["sqs:SendMessage"]));
    assert_eq!(
        stack["sqs"]["Decider"],
        json!([
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage"
        ])
    );
    let events = &stack["decider_events"]["Deferred"];
    assert_eq!(events["Type"], "SQS");
    assert_eq!(
        events["Properties"]["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
}
