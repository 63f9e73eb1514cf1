//! The osnap `register` Lambda function: a thin shell over `operations::register`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    function_shell::run(operations::register::handle).await
}
