"""Least privilege, the alarms' wiring and the schedule's input, read from
infra/template.yaml itself.

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


def unless_no_value(value):
    """(condition, value) of an Fn::If whose other branch is AWS::NoValue, else (None, value)."""
    if isinstance(value, dict) and "Fn::If" in value:
        condition, then, otherwise = value["Fn::If"]
        assert otherwise == {"Ref": "AWS::NoValue"}, value
        return condition, then
    return None, value


def role_policies(resource):
    """(condition or None, policy) of a role's inline policies."""
    for policy in resource["Properties"].get("Policies", []):
        yield unless_no_value(policy)


def role_statements(resource):
    """(policy name, statement) of a role's inline policies, conditional ones included."""
    for _, policy in role_policies(resource):
        for statement in statements(policy["PolicyDocument"]):
            yield policy["PolicyName"], statement


# The only actions allowed on Resource "*", each with the reason it cannot be scoped.
UNSCOPABLE = {
    "ec2:DescribeNetworkInterfaces": "EC2 Describe actions support no resource-level permission "
                                     "(Lambda's VPC guide: it works only on \"*\")",
    "ec2:DescribeSubnets": "EC2 Describe actions support no resource-level permission",
}


def main():
    template = cfn_yaml.load(str(TEMPLATE))
    resources = template["Resources"]
    roles = {k: v for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"}

    for role_name, role in roles.items():
        for policy_name, st in role_statements(role):
            where = f"{role_name}/{policy_name}/{st.get('Sid', '?')}"
            actions = as_list(st["Action"])
            check(f"{where}: no wildcard action", all("*" not in a for a in actions), actions)
            if "*" in as_list(st["Resource"]):
                check(f"{where}: Resource '*' only for actions that cannot be scoped ({', '.join(actions)})",
                      all(a in UNSCOPABLE for a in actions), actions)
            else:
                check(f"{where}: no Resource '*'", True)

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

    logins = by_sid.get("ReadSourceLogins")
    check("secretsmanager:GetSecretValue only, on the SourceSecretArns parameter only",
          logins is not None and as_list(logins["Action"]) == ["secretsmanager:GetSecretValue"]
          and logins["Resource"] == {"Ref": "SourceSecretArns"}, logins)
    check("secretsmanager: actions in one statement",
          [sid for sid, st in by_sid.items()
           if any(a.startswith("secretsmanager:") for a in as_list(st["Action"]))] == ["ReadSourceLogins"])
    login_policies = [c for c, p in role_policies(function_role)
                      if any(st.get("Sid") == "ReadSourceLogins" for st in statements(p["PolicyDocument"]))]
    check("the source logins' policy is present only with the HasSourceSecrets condition",
          login_policies == ["HasSourceSecrets"], login_policies)

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

    # The VPC: no managed policy (AWSLambdaVPCAccessExecutionRole grants logs and ENIs on "*"),
    # the ENI actions only in a VPC, on the given subnets and security groups.
    for role_name, role in roles.items():
        check(f"{role_name}: no managed policy", "ManagedPolicyArns" not in role["Properties"],
              role["Properties"].get("ManagedPolicyArns"))
    ec2_policies = [(c, p) for c, p in role_policies(function_role)
                    if any(a.startswith("ec2:") for st in statements(p["PolicyDocument"]) for a in as_list(st["Action"]))]
    check("ec2: actions in one policy, present only with the InVpc condition",
          [c for c, _ in ec2_policies] == ["InVpc"], [c for c, _ in ec2_policies])
    for role_name, role in roles.items():
        for condition, policy in role_policies(role):
            if role_name == "FunctionRole" and condition == "InVpc":
                continue
            acts = [a for st in statements(policy["PolicyDocument"]) for a in as_list(st["Action"])]
            check(f"{role_name}/{policy['PolicyName']}: no ec2: action", not any(a.startswith("ec2:") for a in acts), acts)
    eni = {st["Sid"]: st for st in statements(ec2_policies[0][1]["PolicyDocument"])} if ec2_policies else {}
    eni_actions = sorted(a for st in eni.values() for a in as_list(st["Action"]))
    check("ENI actions are exactly Lambda's VPC ones",
          sorted(set(eni_actions)) == sorted(["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                                              "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
                                              "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]),
          eni_actions)
    own = "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:"
    for st in eni.values():
        scopable = [a for a in as_list(st["Action"]) if a not in UNSCOPABLE]
        if not scopable:
            continue
        resource = st["Resource"]
        cond = json.dumps(st.get("Condition"))
        in_account = isinstance(resource, dict) and resource.get("Fn::Sub", "").startswith(own)
        check(f"{st['Sid']}: in the stack's own account and region", in_account, resource)
        kind = resource.get("Fn::Sub", "").removeprefix(own) if in_account else ""
        expected = {"subnet/*": '"ec2:SubnetID": {"Ref": "SubnetIds"}',
                    "security-group/*": '"ec2:SecurityGroupID": {"Ref": "SecurityGroupIds"}',
                    "network-interface/*": '"ec2:Subnet"'}.get(kind)
        check(f"{st['Sid']}: {kind} limited by a condition on the given subnets or security groups",
              expected is not None and expected in cond and ("SubnetIds" in cond or "SecurityGroupIds" in cond), cond)

    # SSE-KMS: only with the key parameter, on that key, through S3 only.
    kms = [(role_name, c, st) for role_name, role in roles.items() for c, p in role_policies(role)
           for st in statements(p["PolicyDocument"]) if any(a.startswith("kms:") for a in as_list(st["Action"]))]
    check("kms: actions only in the snapshot role and the function role (the manifests), only with "
          "the HasKmsKey condition",
          sorted(k[:2] for k in kms) == [("FunctionRole", "HasKmsKey"), ("SnapshotRole", "HasKmsKey")],
          [k[:2] for k in kms])
    for role_name, _, st in kms:
        check(f"kms ({role_name}): GenerateDataKey and Decrypt only",
              sorted(as_list(st["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"], st["Action"])
        check(f"kms ({role_name}): on the SnapshotKmsKeyArn key only",
              st["Resource"] == {"Ref": "SnapshotKmsKeyArn"}, st["Resource"])
        via = st.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService", {})
        check(f"kms ({role_name}): only through S3 (kms:ViaService s3.<region>)",
              isinstance(via, dict) and via.get("Fn::Sub", [""])[0].startswith("s3."), st.get("Condition"))

    # The manifests: the functions read and write objects only in osnap's own folder under the
    # base path, and never delete one; nothing else of the bucket's objects.
    object_grants = [(sid, st) for sid, st in by_sid.items()
                     if any(a.startswith("s3:") and a.endswith("Object") for a in as_list(st["Action"]))]
    check("function role: object actions only in SnapshotManifests",
          [sid for sid, _ in object_grants] == ["SnapshotManifests"], [sid for sid, _ in object_grants])
    manifests = by_sid.get("SnapshotManifests", {})
    check("manifests: GetObject and PutObject only (never a delete)",
          sorted(as_list(manifests.get("Action"))) == ["s3:GetObject", "s3:PutObject"], manifests.get("Action"))
    resources_text = [json.dumps(r) for r in as_list(manifests.get("Resource"))]
    check("manifests: only <bucket>/<BucketBasePath>[/<sub-path>]/osnap/manifests/*",
          len(resources_text) == 2
          and all("/${BucketBasePath}/" in r and r.count("/osnap/manifests/*") == 1 for r in resources_text)
          and any("${BucketBasePath}/osnap/manifests/*" in r for r in resources_text)
          and any("${BucketBasePath}/*/osnap/manifests/*" in r for r in resources_text),
          resources_text)
    check("a created bucket uses the key when one is given",
          "SnapshotKmsKeyArn" in json.dumps(bucket["BucketEncryption"]), bucket["BucketEncryption"])

    # The bucket policy: cross-account grants only with the parameter, to the given roles only,
    # with only a snapshot repository's actions, under the base path.
    policy = resources["SnapshotBucketPolicy"]
    check("the bucket policy exists only with the bucket it governs", policy.get("Condition") == "CreateBucket")
    unconditional, granted = [], []
    for raw in statements(policy["Properties"]["PolicyDocument"]):
        condition, st = unless_no_value(raw)
        (granted if condition else unconditional).append((condition, st))
    check("without the parameter the bucket policy only denies (insecure transport)",
          all(st["Effect"] == "Deny" for _, st in unconditional), [st.get("Sid") for _, st in unconditional])
    check("cross-account grants only with the GrantOtherAccounts condition",
          granted and all(c == "GrantOtherAccounts" for c, _ in granted), [c for c, _ in granted])
    check("GrantOtherAccounts needs the created bucket and CrossAccountSnapshotRoleArns",
          "CreateBucket" in json.dumps(template["Conditions"]["GrantOtherAccounts"])
          and "CrossAccountSnapshotRoleArns" in json.dumps(template["Conditions"]["GrantOtherAccounts"]))
    bucket_actions = {"s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation"}
    object_actions = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                      "s3:ListMultipartUploadParts"}
    for _, st in granted:
        sid, actions, resource = st.get("Sid"), set(as_list(st["Action"])), json.dumps(st["Resource"])
        check(f"{sid}: names only the CrossAccountSnapshotRoleArns roles",
              st["Principal"] == {"AWS": {"Ref": "CrossAccountSnapshotRoleArns"}}, st["Principal"])
        check(f"{sid}: allows only", st["Effect"] == "Allow")
        if actions <= bucket_actions:
            check(f"{sid}: bucket actions on the bucket itself",
                  st["Resource"] == {"Fn::GetAtt": ["SnapshotBucket", "Arn"]}, st["Resource"])
            if "s3:ListBucket" in actions:
                check(f"{sid}: listing limited to the base path", "BucketBasePath" in json.dumps(st.get("Condition")))
        else:
            check(f"{sid}: only a snapshot repository's object actions", actions <= object_actions, actions)
            check(f"{sid}: objects under the base path only", "${BucketBasePath}/*" in resource, resource)

    endpoints = {k: v for k, v in resources.items() if v["Type"] == "AWS::EC2::VPCEndpoint"}
    check("VPC endpoints only when asked (each under its condition)",
          sorted((k, v.get("Condition")) for k, v in endpoints.items())
          == [("S3GatewayEndpoint", "MakeS3Endpoint"),
              ("SecretsManagerInterfaceEndpoint", "MakeSecretsManagerEndpoint"),
              ("StsInterfaceEndpoint", "MakeStsEndpoint")],
          {k: v.get("Condition") for k, v in endpoints.items()})

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

    check_alarms(template)

    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def check_alarms(template):
    """Every alarm tells the failure topic, which CloudWatch can actually publish to."""
    resources = template["Resources"]
    alarms = {k: v for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    topic = {"Ref": "FailureTopic"}
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        check(f"{name}: its actions are the failure topic",
              props.get("AlarmActions") == [topic] and props.get("OKActions", [topic]) == [topic],
              (props.get("AlarmActions"), props.get("OKActions")))
        check(f"{name}: named after the stack (the key policy's alarm pattern)",
              props.get("AlarmName", {}).get("Fn::Sub", "").startswith("${AWS::StackName}-"), props.get("AlarmName"))

    dead = alarms.get("BackupMissingAlarm", {}).get("Properties", {})
    check("the dead-man's switch exists", bool(dead))
    check("the dead-man's switch watches osnap's SnapshotSucceeded (written only on success)",
          (dead.get("Namespace"), dead.get("MetricName")) == ("osnap", "SnapshotSucceeded"),
          (dead.get("Namespace"), dead.get("MetricName")))
    check("the dead-man's switch treats missing data as breaching", dead.get("TreatMissingData") == "breaching",
          dead.get("TreatMissingData"))
    check("the dead-man's switch alarms on fewer than one success in every hour of BackupAlarmHours",
          (dead.get("Statistic"), dead.get("Period"), dead.get("Threshold"), dead.get("ComparisonOperator"))
          == ("Sum", 3600, 1, "LessThanThreshold")
          and dead.get("EvaluationPeriods") == dead.get("DatapointsToAlarm") == {"Ref": "BackupAlarmHours"},
          dead)
    hours = template["Parameters"]["BackupAlarmHours"]
    check("BackupAlarmHours fits CloudWatch's 7-day evaluation window",
          1 <= hours.get("MinValue", 0) and hours.get("MaxValue", 10**9) * 3600 <= 604800, hours)
    dimensions = {d["Name"]: d["Value"] for d in dead.get("Dimensions", [])}
    check("the dead-man's switch is per domain and repository, from parameters",
          sorted(dimensions) == ["Domain", "Repository"] and dimensions["Repository"] == {"Ref": "RepositoryName"}
          and "BackupAlarmDomain" in json.dumps(dimensions["Domain"]) and "DomainEndpoint" in json.dumps(dimensions["Domain"]),
          dimensions)
    check("the dead-man's switch exists only with a domain to watch", alarms.get("BackupMissingAlarm", {}).get("Condition") == "MakeBackupAlarm")

    machines = sorted(k for k, v in resources.items() if v["Type"] == "AWS::Serverless::StateMachine")
    watched = sorted(
        a["Properties"]["Dimensions"][0]["Value"]["Ref"] for a in alarms.values()
        if (a["Properties"].get("Namespace"), a["Properties"].get("MetricName")) == ("AWS/States", "ExecutionsFailed")
        and a["Properties"]["Dimensions"][0]["Name"] == "StateMachineArn")
    check("every state machine's failed executions alarm", watched == machines, (watched, machines))

    # The topic's key: AWS's managed aws/sns key cannot let CloudWatch publish.
    check("the failure topic is encrypted with the stack's own key",
          resources["FailureTopic"]["Properties"].get("KmsMasterKeyId") == {"Ref": "FailureTopicKey"},
          resources["FailureTopic"]["Properties"])
    key_statements = statements(resources["FailureTopicKey"]["Properties"]["KeyPolicy"])
    services = [st for st in key_statements if "Service" in st["Principal"]]
    check("the key's only service principal is CloudWatch",
          [st["Principal"]["Service"] for st in services] == ["cloudwatch.amazonaws.com"], services)
    for st in services:
        check("CloudWatch may only encrypt and decrypt with the key",
              sorted(as_list(st["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"], st["Action"])
        cond = json.dumps(st.get("Condition"))
        check("CloudWatch uses the key only for this account's stack alarms",
              "aws:SourceAccount" in cond and ":alarm:${AWS::StackName}-*" in cond, cond)
    others = [st for st in key_statements if "Service" not in st["Principal"]]
    check("otherwise the key is the account's, administered through IAM",
          [st["Principal"] for st in others]
          == [{"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}], others)
    for machine in machines:
        uses = [st for p in resources[machine]["Properties"]["Policies"] if isinstance(p, dict) and "Statement" in p
                for st in statements(p) if any(a.startswith("kms:") for a in as_list(st["Action"]))]
        check(f"{machine}: the topic key only, through SNS only",
              len(uses) == 1 and uses[0]["Resource"] == {"Fn::GetAtt": ["FailureTopicKey", "Arn"]}
              and sorted(as_list(uses[0]["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
              and "sns." in json.dumps(uses[0].get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")),
              uses)

    dashboards = {k: v for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Dashboard"}
    check("the dashboard only when asked", all(d.get("Condition") == "MakeDashboard" for d in dashboards.values())
          and "CreateDashboard" in json.dumps(template["Conditions"]["MakeDashboard"]), list(dashboards))


    check_schedule_input(template)


def render(value, parameters, conditions):
    """Fn::Sub, Fn::If and Ref of the schedule's input, with `parameters` and `conditions`."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return str(parameters[value["Ref"]])
    if "Fn::If" in value:
        condition, then, otherwise = value["Fn::If"]
        return render(then if conditions[condition] else otherwise, parameters, conditions)
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, variables = (sub, {}) if isinstance(sub, str) else sub
        names = dict(parameters)
        names.update({k: render(v, parameters, conditions) for k, v in variables.items()})
        for name, replacement in names.items():
            text = text.replace("${" + name + "}", str(replacement))
        return text
    raise ValueError(f"cannot render {value}")


def check_schedule_input(template):
    """The nightly schedule's input is a backup workflow input for every DrillOn and
    DrillSampleSize (with the other parameters' defaults)."""
    parameters = {k: v.get("Default", "") for k, v in template["Parameters"].items()}
    parameters["DomainEndpoint"] = "https://search-logs-abc.eu-west-1.es.amazonaws.com"
    schedule = template["Resources"]["NightlyBackupSchedule"]["Properties"]["Target"]["Input"]
    for on, size, expected in [("never", 3, None), ("sunday", 3, {"on": "sunday", "sample": {"random": 3}}),
                               ("daily", 0, {"on": "daily", "sample": "all"})]:
        parameters.update(DrillOn=on, DrillSampleSize=size)
        conditions = {"MakeDrill": on != "never", "DrillEveryIndex": size == 0}
        text = render(schedule, parameters, conditions)
        try:
            domain = json.loads(text)["domains"][0]
        except (ValueError, KeyError) as error:
            check(f"the schedule's input with DrillOn={on} is JSON", False, f"{error}: {text}")
            continue
        check(f"the schedule's input with DrillOn={on}, DrillSampleSize={size}",
              domain.get("drill") == expected and domain["retention"]["keep_last"] == 14, domain)


if __name__ == "__main__":
    main()
