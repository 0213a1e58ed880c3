//! Creates users with writes that are safe to retry, and shows what a retry gets: the first
//! attempt's result, replayed, never a second user.
//!
//! ```text
//! cargo run -p connect-server          # prints a development key
//! CONNECT_API_KEY=<key> cargo run -p connect-client --example retry_safe_create
//! ```
//!
//! `CONNECT_URL` overrides the server's address (default `http://127.0.0.1:8080`).

use std::process::ExitCode;

use connect_client::{ApiError, Client, RetryPolicy, types};

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

    // The usual way: one call, retried under one idempotency key when that is safe.
    let user = client
        .retrying()
        .create_user(types::CreateUserRequest::builder().name("Grace Hopper"))
        .await?;
    println!(
        "created user {} ({}) with client.retrying()",
        user.user_id,
        user.name.as_str()
    );

    // The same with the generic form, which shows the key: every attempt gets the same one.
    let body: types::CreateUserRequest = types::CreateUserRequest::builder()
        .name("Katherine Johnson")
        .try_into()?;
    let mut used = String::new();
    let policy = RetryPolicy::default().with_max_attempts(5);
    let user = client
        .retrying_with(policy)
        .write(|key| {
            println!("sending createUser with X-Idempotency-Key {key}");
            used = key.clone();
            client
                .create_user()
                .x_idempotency_key(key)
                .body(body.clone())
                .send()
        })
        .await?;
    println!("created user {} ({})", user.user_id, user.name.as_str());

    // What a retry after a lost response does: same key, same request.
    let again = client
        .create_user()
        .x_idempotency_key(used.as_str())
        .body(body.clone())
        .send()
        .await
        .map_err(ApiError::from)?;
    let replayed = again
        .headers()
        .get("idempotent-replayed")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("false");
    println!(
        "sent it again with the same key: got user {} back (Idempotent-Replayed: {replayed}); {}",
        again.user_id,
        if again.user_id == user.user_id {
            "no second user was created"
        } else {
            "a second user was created!"
        }
    );

    // A different request under a used key is a programming error: it is never retried.
    let other: types::CreateUserRequest = types::CreateUserRequest::builder()
        .name("Someone Else")
        .try_into()?;
    let error = client
        .retrying()
        .write(|_fresh_key| {
            client
                .create_user()
                .x_idempotency_key(used.as_str())
                .body(other.clone())
                .send()
        })
        .await
        .expect_err("a key mismatch");
    println!(
        "a different body under the same key failed after {} attempt(s): {error}",
        error.attempts()
    );
    Ok(())
}

/// A client for `CONNECT_URL` with the key in `CONNECT_API_KEY`.
fn connect() -> Result<Client, Box<dyn std::error::Error>> {
    let url = std::env::var("CONNECT_URL").unwrap_or("http://127.0.0.1:8080".to_string());
    let key = std::env::var("CONNECT_API_KEY")
        .map_err(|_| "set CONNECT_API_KEY to the key `cargo run -p connect-server` printed")?;
    Ok(Client::with_api_key(&url, &key)?)
}
