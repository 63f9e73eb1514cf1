//! Checks on names and ARNs that events carry, made before anything is sent.

use crate::OsnapError;

/// Repository names: the engine's repository naming rules (uppercase allowed), and never
/// AWS's `cs-` automated ones.
pub fn validate_repository_name(name: &str) -> Result<(), OsnapError> {
    if name.starts_with("cs-") {
        return Err(OsnapError::UnsafeOperation {
            reason: format!(
                "`{name}`: repositories starting with `cs-` belong to AWS's automated snapshots \
                 and are not managed by osnap"
            ),
        });
    }
    policy::naming::validate_repository_name(name)
        .map_err(|e| OsnapError::invalid(e.to_string().replace("snapshot name", "repository name")))
}

/// An IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<name>`.
pub fn validate_role_arn(arn: &str, field: &str) -> Result<(), OsnapError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.len() > "role/".len()
            && resource.starts_with("role/"));
    if valid {
        Ok(())
    } else {
        Err(OsnapError::invalid(format!(
            "{field} `{arn}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        assert!(validate_role_arn("arn:aws:iam::222233334444:role/osnap-operator", "f").is_ok());
        assert!(validate_role_arn("arn:aws-cn:iam::222233334444:role/path/r", "f").is_ok());
        for bad in [
            "",
            "osnap-operator",
            "arn:aws:iam::2222:role/x",
            "arn:aws:iam::222233334444:user/x",
            "arn:aws:sts::222233334444:role/x",
            "arn:aws:iam::222233334444:role/",
        ] {
            assert!(validate_role_arn(bad, "f").is_err(), "{bad}");
        }
    }

    #[test]
    fn repository_names() {
        assert!(validate_repository_name("nightly").is_ok());
        assert_eq!(
            validate_repository_name("cs-automated")
                .unwrap_err()
                .error_type(),
            "UnsafeOperation"
        );
        // Uppercase is the engine's to allow, as it does.
        assert!(validate_repository_name("Nightly").is_ok());
        assert_eq!(
            validate_repository_name("night#ly")
                .unwrap_err()
                .error_type(),
            "InvalidRequest"
        );
    }
}
