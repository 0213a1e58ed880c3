//! Creates a user and a customer linked to it, then reads both back.
//!
//! ```text
//! cargo run -p connect-server          # prints a development key
//! CONNECT_API_KEY=<key> cargo run -p connect-client --example create_and_fetch
//! ```
//!
//! `CONNECT_URL` overrides the server's address (default `http://127.0.0.1:8080`).

use std::process::ExitCode;

use connect_client::{ApiError, Client, types};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let client = connect()?;
    // A referenceId of our own, unique per run: it is unique per tenant.
    let reference = format!("example-{}", chrono::Utc::now().format("%Y%m%d%H%M%S%3f"));

    let user = client
        .create_user()
        .body(
            types::CreateUserRequest::builder()
                .name("Ada Lovelace")
                .email("ada@example.com".parse::<types::CreateUserRequestEmail>()?)
                .reference_id(reference.parse::<types::CreateUserRequestReferenceId>()?),
        )
        .send()
        .await
        .map_err(ApiError::from)?;
    println!(
        "created user {} ({}) with referenceId {reference}",
        user.user_id,
        user.name.as_str()
    );

    let by_id = client
        .get_user()
        .user_id(user.user_id.to_string())
        .send()
        .await
        .map_err(ApiError::from)?;
    let by_reference = client
        .get_user()
        .user_id(format!("rid_{reference}"))
        .send()
        .await
        .map_err(ApiError::from)?;
    println!(
        "fetched it back by userId ({}) and by rid_{reference} ({})",
        by_id.name.as_str(),
        by_reference.name.as_str()
    );

    let customer = client
        .create_customer()
        .body(
            types::CreateCustomerRequest::builder()
                .customer_type(types::CustomerType::Business)
                .name("Analytical Engines Ltd")
                .user_ids(vec![user.user_id]),
        )
        .send()
        .await
        .map_err(ApiError::from)?;
    println!(
        "created customer {} ({}), human-readable id {}",
        customer.customer_id,
        customer.name.as_str(),
        customer.human_readable_id.as_str()
    );

    let user = client
        .get_user()
        .user_id(user.user_id.to_string())
        .send()
        .await
        .map_err(ApiError::from)?;
    let linked: Vec<&str> = user.customers.iter().map(|c| c.name.as_str()).collect();
    println!("the user is now linked to: {}", linked.join(", "));
    Ok(())
}

/// A client for `CONNECT_URL` with the key in `CONNECT_API_KEY`.
fn connect() -> Result<Client, Box<dyn std::error::Error>> {
    let url = std::env::var("CONNECT_URL").unwrap_or("http://127.0.0.1:8080".to_string());
    let key = std::env::var("CONNECT_API_KEY")
        .map_err(|_| "set CONNECT_API_KEY to the key `cargo run -p connect-server` printed")?;
    Ok(Client::with_api_key(&url, &key)?)
}
