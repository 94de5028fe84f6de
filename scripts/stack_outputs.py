#!/usr/bin/env python3
"""Helpers of `make connect`: the deployed stack's name and its outputs, without the AWS SDK in
the `taskrouter` binary.

  stack_outputs.py --stack-name-from samconfig.toml   prints the stack_name `sam deploy` saved
  sam list stack-outputs --output json | stack_outputs.py --get AssignmentCallbackUrl
                                                      prints that output's value
"""

import argparse
import json
import sys
import tomllib


def stack_name(path: str) -> str:
    try:
        with open(path, "rb") as file:
            config = tomllib.load(file)
    except FileNotFoundError:
        sys.exit(f"error: no {path}: deploy first (make deploy), or pass STACK=<stack name>")
    default = config.get("default", {})
    for section in ("global", "deploy"):
        name = default.get(section, {}).get("parameters", {}).get("stack_name")
        if name:
            return name
    sys.exit(f"error: {path} names no stack_name: pass STACK=<stack name>")


def output(key: str) -> str:
    try:
        outputs = json.load(sys.stdin)
    except json.JSONDecodeError as error:
        sys.exit(f"error: the stack outputs are not JSON ({error})")
    for item in outputs:
        if item.get("OutputKey") == key:
            return item["OutputValue"]
    names = ", ".join(item.get("OutputKey", "?") for item in outputs)
    sys.exit(f"error: the stack has no output {key} (it has: {names}); is it this project's stack?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--stack-name-from", metavar="SAMCONFIG")
    group.add_argument("--get", metavar="OUTPUT_KEY")
    args = parser.parse_args()
    print(stack_name(args.stack_name_from) if args.stack_name_from else output(args.get))


if __name__ == "__main__":
    main()
