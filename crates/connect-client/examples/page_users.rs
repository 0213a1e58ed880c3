//! Creates a few users, then streams them back page by page with `Client::all_users`.
//!
//! ```text
//! cargo run -p connect-server          # prints a development key
//! CONNECT_API_KEY=<key> cargo run -p connect-client --example page_users
//! ```
//!
//! `CONNECT_URL` overrides the server's address (default `http://127.0.0.1:8080`).

use std::process::ExitCode;

use connect_client::{ApiError, Client, types};
use futures::TryStreamExt;

/// Users created per run.
const USERS: usize = 7;
/// Users per request: small, so that the stream crosses several page boundaries.
const PAGE_SIZE: u32 = 3;

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
    // A tag unique to this run, to filter on.
    let tag = format!("pager-{}", chrono::Utc::now().format("%H%M%S%3f"));

    for i in 1..=USERS {
        client
            .create_user()
            .body(types::CreateUserRequest::builder().name(format!("{tag} user {i}")))
            .send()
            .await
            .map_err(ApiError::from)?;
    }
    println!("created {USERS} users named `{tag} user N`");

    let mut users = client
        .all_users()
        .filter(tag.as_str())
        .page_size(PAGE_SIZE)
        .stream();
    let mut count: usize = 0;
    while let Some(user) = users.try_next().await? {
        count += 1;
        println!(
            "{count:>3}. {} {} (created {})",
            user.user_id,
            user.name.as_str(),
            user.created_at
        );
    }
    println!(
        "streamed {count} users matching `{tag}`, {PAGE_SIZE} per request ({} requests)",
        count.div_ceil(PAGE_SIZE as usize)
    );

    let total = client
        .all_users()
        .stream()
        .try_fold(0, |total, _| async move { Ok(total + 1) })
        .await?;
    println!("the tenant has {total} users in all");
    Ok(())
}

/// A client for `CONNECT_URL` with the key in `CONNECT_API_KEY`.
fn connect() -> Result<Client, Box<dyn std::error::Error>> {
    let url = std::env::var("CONNECT_URL").unwrap_or("http://127.0.0.1:8080".to_string());
    let key = std::env::var("CONNECT_API_KEY")
        .map_err(|_| "set CONNECT_API_KEY to the key `cargo run -p connect-server` printed")?;
    Ok(Client::with_api_key(&url, &key)?)
}
