#!/bin/sh
# Creates the `osnap` role on a domain with fine-grained access control and maps osnap's
# function role to it, through the security plugin's REST API. Run it as the domain's master
# user (an IAM principal mapped to all_access), with its credentials in the environment
# (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and AWS_SESSION_TOKEN for temporary ones).
#
#   infra/fgac/apply-osnap-role.sh https://search-mydomain-….us-east-1.es.amazonaws.com \
#       us-east-1 arn:aws:iam::123456789012:role/osnap-FunctionRole-…
#
# Needs curl 7.75 or later (SigV4 signing). The mapping replaces the role's earlier mapping.
# On an Elasticsearch domain (Open Distro's security plugin) set
# SECURITY_API=_opendistro/_security; OpenSearch takes either.
set -eu

if [ "$#" -ne 3 ]; then
    echo "usage: $0 <domain endpoint https://…> <region> <function role ARN>" >&2
    exit 2
fi
endpoint=${1%/}
region=$2
function_role=$3
here=$(dirname "$0")
api=${SECURITY_API:-_plugins/_security}

# Credentials never travel in the clear: https, or plain http to this machine only.
case "$endpoint" in
    https://*|http://127.0.0.1:*) ;;
    *) echo "the endpoint must start with https://" >&2; exit 2 ;;
esac
case "$function_role" in
    arn:aws*:iam::*:role/*) ;;
    *) echo "not an IAM role ARN: $function_role" >&2; exit 2 ;;
esac

signed_put() {
    set -- --fail-with-body --silent --show-error --request PUT \
        --aws-sigv4 "aws:amz:$region:es" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        --header "Content-Type: application/json" "$@"
    if [ -n "${AWS_SESSION_TOKEN:-}" ]; then
        set -- --header "x-amz-security-token: $AWS_SESSION_TOKEN" "$@"
    fi
    curl "$@"
    echo
}

signed_put --data-binary "@$here/osnap-role.json" \
    "$endpoint/$api/api/roles/osnap"
printf '{"backend_roles": ["%s"]}' "$function_role" |
    signed_put --data-binary @- "$endpoint/$api/api/rolesmapping/osnap"
