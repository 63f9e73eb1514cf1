//! The osnap `restore` Lambda function: a thin shell over `operations::restore`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    function_shell::run(operations::restore::handle).await
}
