//! The osnap `verify` Lambda function: a thin shell over `operations::verify`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    function_shell::run(operations::verify::handle).await
}
