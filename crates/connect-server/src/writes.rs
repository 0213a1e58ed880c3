//! Writes that run to the end on a task of their own.
//!
//! The server runs its handlers in the request's own task (dropshot's `CancelOnDisconnect`), so
//! a read whose client hangs up stops there, and a read costs no task of its own. A write must
//! not stop half way: once it has claimed its idempotency key, it has to store its change, keep
//! its outcome under the key and announce its events, whether or not its client is still
//! there. So each write runs on its own task, as dropshot's `Detached` mode would run every
//! handler (a spawned task, a channel and a second wake-up: about a tenth of a GET's cost on
//! the server thread, measured with `cargo bench -p connect-server --bench compare`), and
//! [`Writes::finished`] lets a graceful shutdown wait for the ones whose clients have gone.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The writes running on their own tasks.
#[derive(Default)]
pub struct Writes {
    running: AtomicUsize,
    idle: Notify,
}

impl Writes {
    /// Runs `write` to its end on a task of its own, and answers what it answers; dropping the
    /// returned future (the client hung up) leaves the write running. A panic in `write` is
    /// raised here, as it would have been in the handler.
    ///
    /// The task is spawned at once, not when the answer is first awaited: `write` is moved into
    /// the task once, and the handler's own future holds only the task's handle. (Holding
    /// `write` until the first poll made every write handler's future the size of its whole
    /// write, which the framework moves several times per request: `memmove` was 9-10% of the
    /// server thread on POST /users, against 4% on a GET (which holds no write: bare dropshot's
    /// level). Spawning at once, unkeyed POST /users went from 52,025 and 50,480 to 56,838 and
    /// 53,994 req/s, in two A/B runs of `benches/compare.rs`.)
    pub fn run<T>(
        self: Arc<Self>,
        write: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T>
    where
        T: Send + 'static,
    {
        self.running.fetch_add(1, Ordering::AcqRel);
        let running = Running(self);
        let task = tokio::spawn(async move {
            let _running = running;
            write.await
        });
        async move {
            match task.await {
                Ok(answer) => answer,
                Err(error) => match error.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    // A task is cancelled only when the runtime shuts down, which drops this
                    // request's task too: there is no one left to answer.
                    Err(_) => std::future::pending().await,
                },
            }
        }
    }

    /// Waits until no write is running (those started meanwhile included).
    pub async fn finished(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the count is read, so a write ending in between still wakes it.
            idle.as_mut().enable();
            if self.running.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// How many writes are running.
    #[cfg(test)]
    fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }
}

/// One running write, counted until its task ends (or is dropped).
struct Running(Arc<Writes>);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_whose_caller_is_gone_still_runs_and_is_waited_for() {
        let writes = Arc::new(Writes::default());
        let release = Arc::new(Notify::new());
        let started = Arc::new(Notify::new());
        let done = Arc::new(AtomicUsize::new(0));
        let caller = tokio::spawn(writes.clone().run({
            let (started, release, done) = (started.clone(), release.clone(), done.clone());
            async move {
                started.notify_one();
                release.notified().await;
                done.fetch_add(1, Ordering::AcqRel);
            }
        }));
        started.notified().await;
        caller.abort();
        assert!(caller.await.unwrap_err().is_cancelled());
        assert_eq!(writes.running(), 1, "the write outlives its caller");
        let finished = tokio::spawn({
            let writes = writes.clone();
            async move { writes.finished().await }
        });
        tokio::task::yield_now().await;
        assert!(!finished.is_finished(), "a write is still running");
        release.notify_one();
        finished.await.unwrap();
        assert_eq!(done.load(Ordering::Acquire), 1);
        assert_eq!(writes.running(), 0);
    }

    #[tokio::test]
    #[should_panic(expected = "the write's own panic")]
    async fn a_panic_in_a_write_is_raised_to_its_caller() {
        let writes = Arc::new(Writes::default());
        writes.run(async { panic!("the write's own panic") }).await
    }
}
