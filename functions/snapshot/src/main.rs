//! The osnap `snapshot` Lambda function: a thin shell over `operations::snapshot`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    function_shell::run(operations::snapshot::handle).await
}
