//! `osnap repos`: the domain's snapshot repositories.

use operations::api_error::{Subject, from_api};
use snapshot_api::SnapshotApi;

use crate::cli::Common;
use crate::error::CliError;
use crate::session::Session;
use crate::terminal::{print_json, print_out};

pub async fn run(session: &Session, common: &Common) -> Result<(), CliError> {
    let domain = session.domain()?;
    let api = SnapshotApi::new(session.context.connector.client(&domain).await?);
    let repositories = api.get_repositories().await.map_err(|e| {
        from_api(
            e,
            Subject {
                repository: "_all",
                snapshot: None,
            },
        )
    })?;
    if common.json {
        return print_json(&repositories);
    }
    let mut table = super::table(&["repository", "type", "bucket", "base path", "readonly"]);
    for (name, repository) in &repositories {
        let settings = &repository.settings;
        table.add_row(vec![
            name.clone(),
            repository.repository_type.clone(),
            settings.bucket.clone(),
            settings.base_path.clone().unwrap_or_default(),
            if settings.readonly == Some(true) {
                "yes".to_owned()
            } else {
                String::new()
            },
        ]);
    }
    print_out(&table.to_string())
}
