//! Which region a bucket is in, asked of S3 when a register event does not say, so the domain
//! is given the form AWS requires for that region.

use http::{HeaderMap, Method, StatusCode};
use signing::DomainRequest;

use crate::OsnapError;
use crate::api_error::from_signing;
use crate::context::Context;
use crate::contract::Target;

/// S3 names a bucket's region in this header on a HeadBucket answer, also on the redirect it
/// sends when asked in another region and on a 403 when listing the bucket is not allowed.
const REGION_HEADER: &str = "x-amz-bucket-region";

/// The region of `bucket`, from a signed `HEAD /<bucket>` to S3 in the domain's region.
pub(crate) async fn resolve(
    ctx: &Context,
    target: &Target,
    bucket: &str,
) -> Result<String, OsnapError> {
    let client = ctx
        .connector
        .s3_client(&target.domain, ctx.defaults.s3_endpoint.as_deref())
        .await?;
    let response = client
        .send(&DomainRequest::new(Method::HEAD, &[bucket]))
        .await
        .map_err(|e| from_signing(&e))?;
    let region = region_from_answer(bucket, response.status, &response.headers)?;
    tracing::info!(bucket, region, "bucket region resolved with S3");
    Ok(region)
}

fn region_from_answer(
    bucket: &str,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<String, OsnapError> {
    let named = headers
        .get(REGION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(region) = named {
        return Ok(region.to_owned());
    }
    Err(match status {
        StatusCode::NOT_FOUND => OsnapError::invalid(format!(
            "bucket `{bucket}` does not exist; create it first or correct settings.bucket"
        )),
        StatusCode::FORBIDDEN => OsnapError::AccessDenied {
            message: format!("S3 would not tell the region of bucket `{bucket}`"),
            advice: "; give settings.region, or allow s3:ListBucket on the bucket to the \
                     function's role"
                .into(),
        },
        status if status.is_server_error() => OsnapError::DomainUnavailable {
            message: format!("S3 answered {status} when asked for bucket `{bucket}`'s region"),
        },
        status => OsnapError::invalid(format!(
            "S3 answered {status} without bucket `{bucket}`'s region; give settings.region"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(region: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        if let Some(region) = region {
            map.insert(REGION_HEADER, region.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_region_header_answers_whatever_the_status() {
        for status in [
            StatusCode::OK,
            StatusCode::MOVED_PERMANENTLY,
            StatusCode::FORBIDDEN,
        ] {
            assert_eq!(
                region_from_answer("b", status, &headers(Some("eu-west-1"))).unwrap(),
                "eu-west-1"
            );
        }
    }

    #[test]
    fn without_the_header_the_status_decides_the_error() {
        let cases = [
            (StatusCode::NOT_FOUND, "InvalidRequest", "does not exist"),
            (StatusCode::FORBIDDEN, "AccessDenied", "s3:ListBucket"),
            (StatusCode::SERVICE_UNAVAILABLE, "DomainUnavailable", "503"),
            (StatusCode::OK, "InvalidRequest", "settings.region"),
        ];
        for (status, error_type, says) in cases {
            let error = region_from_answer("logs", status, &headers(None)).unwrap_err();
            assert_eq!(error.error_type(), error_type, "{status}");
            assert!(error.to_string().contains(says), "{error}");
            assert!(error.to_string().contains("logs"), "{error}");
        }
    }
}
