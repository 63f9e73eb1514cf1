//! The osnap `prune` Lambda function: a thin shell over `operations::prune`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    function_shell::run(operations::prune::handle).await
}
