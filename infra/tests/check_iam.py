"""Least privilege, read from infra/template.yaml itself.

Run with the Python that has cfn-lint installed (./dev test does): it prints one line per
check and a closing 'N passed, N failed' line, and exits non-zero on any failure.
"""

import json
import sys
from pathlib import Path

from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok    " if ok else "FAIL  ") + name + ("" if ok else f": {detail}"))


def as_list(value):
    return value if isinstance(value, list) else [value]


def statements(policy_document):
    return as_list(policy_document.get("Statement", []))


def role_statements(resource):
    """(policy name, statement) of a role's inline policies, conditional ones included."""
    for policy in resource["Properties"].get("Policies", []):
        if "Fn::If" in policy:
            _, then, _ = policy["Fn::If"]
            policy = then
        for statement in statements(policy["PolicyDocument"]):
            yield policy["PolicyName"], statement


def main():
    template = cfn_yaml.load(str(TEMPLATE))
    resources = template["Resources"]
    roles = {k: v for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"}

    for role_name, role in roles.items():
        for policy_name, st in role_statements(role):
            where = f"{role_name}/{policy_name}/{st.get('Sid', '?')}"
            actions = as_list(st["Action"])
            check(f"{where}: no wildcard action", all("*" not in a for a in actions), actions)
            check(f"{where}: no Resource '*'", "*" not in as_list(st["Resource"]), st["Resource"])

    function_role = roles["FunctionRole"]
    by_sid = {st.get("Sid"): st for _, st in role_statements(function_role)}

    pass_role = by_sid["PassSnapshotRole"]
    check("PassRole only on the snapshot role",
          pass_role["Resource"] == {"Fn::GetAtt": ["SnapshotRole", "Arn"]}, pass_role["Resource"])
    check("PassRole has no iam:PassedToService condition (AWS's snapshot guide uses none)",
          "iam:PassedToService" not in json.dumps(pass_role.get("Condition", {})), pass_role.get("Condition"))
    check("PassRole is the only iam: action and appears once",
          [a for _, st in role_statements(function_role) for a in as_list(st["Action"]) if a.startswith("iam:")]
          == ["iam:PassRole"])

    domain_http = by_sid["DomainHttp"]
    check("domain HTTP actions are the ESHttp verbs only",
          all(a.startswith("es:ESHttp") for a in as_list(domain_http["Action"])), domain_http["Action"])
    check("domain HTTP resources come from the DomainArns parameter only",
          "DomainArns" in json.dumps(domain_http["Resource"]) and "*\"" not in json.dumps(domain_http["Resource"]).replace("/*", ""),
          domain_http["Resource"])

    assume = by_sid.get("AssumeNamedRoles")
    check("sts:AssumeRole only on the CrossAccountRoleArns parameter",
          assume is not None and assume["Resource"] == {"Ref": "CrossAccountRoleArns"}, assume)
    for sid, st in by_sid.items():
        if sid != "AssumeNamedRoles":
            check(f"{sid}: no sts:AssumeRole", "sts:AssumeRole" not in as_list(st["Action"]), st["Action"])

    snapshot_role = roles["SnapshotRole"]
    trust = statements(snapshot_role["Properties"]["AssumeRolePolicyDocument"])
    check("the snapshot role trusts OpenSearch Service only",
          [t["Principal"] for t in trust] == [{"Service": "es.amazonaws.com"}], trust)
    objects = [st for _, st in role_statements(snapshot_role) if st.get("Sid") == "ReadWriteSnapshots"][0]
    check("snapshot objects are scoped to the base path",
          "${BucketBasePath}/*" in json.dumps(objects["Resource"]), objects["Resource"])

    bucket = resources["SnapshotBucket"]["Properties"]
    check("the bucket is encrypted", "BucketEncryption" in bucket)
    check("the bucket blocks public access",
          all(bucket["PublicAccessBlockConfiguration"].values()), bucket["PublicAccessBlockConfiguration"])
    check("no lifecycle rule moves snapshots to Glacier", "LifecycleConfiguration" not in bucket)

    functions = [v for v in resources.values() if v["Type"] == "AWS::Serverless::Function"]
    check("five functions, each with the function role",
          len(functions) == 5 and all(f["Properties"]["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]} for f in functions))

    log_groups = {k: v for k, v in resources.items() if v["Type"] == "AWS::Logs::LogGroup"}
    check("every log group has a retention, from the LogRetentionInDays parameter",
          log_groups and all(g["Properties"].get("RetentionInDays") == {"Ref": "LogRetentionInDays"}
                             for g in log_groups.values()), list(log_groups))
    for fn_name, fn in resources.items():
        if fn["Type"] != "AWS::Serverless::Function":
            continue
        group = fn["Properties"].get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
        check(f"{fn_name} logs to a log group of the stack's own", group in log_groups, group)
        if group in log_groups:
            suffix = fn["Properties"]["FunctionName"]["Fn::Sub"].removeprefix("${AWS::StackName}-")
            check(f"{fn_name}'s log group has Lambda's default name for it",
                  log_groups[group]["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{suffix}"},
                  log_groups[group]["Properties"]["LogGroupName"])
    logs = by_sid["OwnLogGroups"]
    check("log permissions only on the stack's log groups",
          sorted(json.dumps(r) for r in as_list(logs["Resource"]))
          == sorted(json.dumps({"Fn::GetAtt": [g, "Arn"]}) for g in log_groups), logs["Resource"])
    log_actions = [a for _, st in role_statements(function_role) for a in as_list(st["Action"]) if a.startswith("logs:")]
    check("logs: only CreateLogStream and PutLogEvents (the stack creates the groups)",
          sorted(log_actions) == ["logs:CreateLogStream", "logs:PutLogEvents"], log_actions)

    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
