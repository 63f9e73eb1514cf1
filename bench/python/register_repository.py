"""Registers an S3 snapshot repository the way AWS's developer guide shows it: a
`PUT _snapshot/<repository>` signed for the service `es` with requests-aws4auth.

osnap-bench runs it as the comparison for osnap's `register` function, whole process
start to exit. Credentials come from the environment, as in Lambda. It prints one JSON
line: the HTTP status, the answer, the process's peak memory and its CPU time.
"""

import json
import os
import resource
import sys

import requests
from requests_aws4auth import AWS4Auth


def main():
    host, repository, bucket, base_path, role_arn, region = sys.argv[1:7]
    auth = AWS4Auth(
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        region,
        "es",
        session_token=os.environ.get("AWS_SESSION_TOKEN"),
    )
    payload = {
        "type": "s3",
        "settings": {
            "bucket": bucket,
            "base_path": base_path,
            "region": region,
            "role_arn": role_arn,
        },
    }
    answer = requests.put(
        host + "/_snapshot/" + repository,
        auth=auth,
        json=payload,
        headers={"Content-Type": "application/json"},
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "status": answer.status_code,
        "body": answer.text,
        "peak_rss_kib": usage.ru_maxrss,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }))


main()
