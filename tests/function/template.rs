//! The SAM template with its conditions resolved for each way of deploying it: which SSM
//! parameters the function's role may read, what the function's environment holds, which layers
//! it gets, and which parameter combinations the template's `Rules` refuse at deploy time.
//!
//! `sam validate --lint` (`make validate`) checks that the template is valid; it cannot say what
//! a stack of given parameters gets. This reads the template with cfn-lint's own YAML loader
//! (installed with the SAM CLI) and resolves the intrinsic functions the template uses (`!Ref`,
//! `!Sub`, `!If`, `!Equals`, `!Not`, `!And`, `!Or`, `Condition`) the way CloudFormation does.

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
policies = resolve(resources["FunctionRole"]["Properties"]["Policies"])
[read] = [p for p in policies if p["PolicyName"] == "read-auth-token"]
function = resolve(resources["Function"]["Properties"])
print(json.dumps({
    "ssm": [s["Resource"] for s in read["PolicyDocument"]["Statement"] if "kms:Decrypt" not in s["Action"]],
    "ssm_actions": [s["Action"] for s in read["PolicyDocument"]["Statement"] if "kms:Decrypt" not in s["Action"]],
    "environment": function["Environment"]["Variables"],
    "layers": function.get("Layers"),
    "layer_resource": "TenantRulesLayer" in resources and condition(resources["TenantRulesLayer"]["Condition"]),
    "refused_by": [name for name, rule in template["Rules"].items() if not rule_holds(rule)],
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

#[test]
fn a_single_account_stack_may_read_exactly_its_named_parameters() {
    let cases = [
        (
            json!({"AuthTokenParameterName": "/taskrouter/auth-token"}),
            json!([[format!("{ARN}/taskrouter/auth-token")]]),
            "one parameter",
        ),
        (
            json!({
                "AuthTokenParameterName": "/taskrouter/auth-token",
                "SecondaryAuthTokenParameterName": "/taskrouter/auth-token-secondary",
            }),
            json!([[
                format!("{ARN}/taskrouter/auth-token"),
                format!("{ARN}/taskrouter/auth-token-secondary"),
            ]]),
            "with a secondary during a rotation",
        ),
    ];
    for (parameters, ssm, why) in cases {
        let stack = resolved(&parameters);
        assert_eq!(stack["ssm"], ssm, "{why}");
        assert_eq!(
            stack["ssm_actions"],
            json!([["ssm:GetParameter", "ssm:GetParameters"]]),
            "{why}: a primary alone is read with GetParameter, with its secondary in one \
             GetParameters"
        );
        assert_eq!(stack["refused_by"], json!([]), "{why}");
        let environment = stack["environment"].as_object().expect("variables");
        assert_eq!(
            environment["TWILIO_AUTH_TOKEN_PARAMETER"],
            "/taskrouter/auth-token"
        );
        for per_account in [
            "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX",
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
fn a_per_account_stack_may_read_only_under_its_prefix_and_sets_only_per_account_variables() {
    let stack = resolved(&json!({
        "AuthTokenParameterPrefix": "/taskrouter/accounts/",
        "AccountSids": "AC0123456789abcdef0123456789abcdef,ACfedcba9876543210fedcba9876543210",
        "AccountLookupsPerMinute": "20",
        "TenantRules": "Enabled",
    }));
    assert_eq!(
        stack["ssm"],
        json!([format!("{ARN}/taskrouter/accounts/*")])
    );
    assert_eq!(
        stack["ssm_actions"],
        json!([["ssm:GetParameter", "ssm:GetParameters"]]),
        "an account's primary and secondary are read with one GetParameters"
    );
    assert_eq!(stack["refused_by"], json!([]));
    assert_eq!(
        stack["environment"],
        json!({
            "TWILIO_AUTH_TOKEN_PARAMETER_PREFIX": "/taskrouter/accounts/",
            "TWILIO_ACCOUNT_SIDS": "AC0123456789abcdef0123456789abcdef,ACfedcba9876543210fedcba9876543210",
            "ACCOUNT_LOOKUPS_PER_MINUTE": "20",
            "ASSIGNMENT_RULES_DIR": "/opt/tenants",
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
    ];
    for (parameters, refused_by, why) in cases {
        assert_eq!(resolved(&parameters)["refused_by"], refused_by, "{why}");
    }
}
