//! The conveniences generated from `x-conventions`, through HTTP: a retry-safe write sends one
//! idempotency key on every attempt (so a retry after a lost response creates nothing twice),
//! and a paged list streams every match once, asking for pages by the cursor each one gives,
//! with its required parameters and filters on every request.

use std::collections::HashMap;
use std::sync::Mutex;

use codegen_golden::conventions_api::{self, ConventionsApi};
use codegen_golden::conventions_machinery::RetryPolicy;
use codegen_golden::{conventions_client as client, conventions_types as types};
use dropshot::{
    ErrorStatusCode, HttpResponseCreated, HttpResponseDeleted, HttpResponseOk, RequestContext,
};
use futures::TryStreamExt;
use spec_runtime::{JsonBody, Params};

use crate::common::serve;

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    operation: &'static str,
    key: Option<String>,
    query: String,
}

#[derive(Default)]
struct State {
    memos: Mutex<Vec<(String, types::Memo)>>,
    /// The outcome kept for each idempotency key.
    kept: Mutex<HashMap<String, Option<types::Memo>>>,
    seen: Mutex<Vec<Seen>>,
    /// How many more writes are carried out but answered 503, as if the answer were lost.
    lose_answers: Mutex<u32>,
}

impl State {
    fn see(&self, operation: &'static str, key: Option<String>, query: Option<&str>) {
        self.seen.lock().unwrap().push(Seen {
            operation,
            key,
            query: query.unwrap_or_default().to_string(),
        });
    }

    /// Whether this write's answer is to be lost.
    fn lose_answer(&self) -> bool {
        let mut lose = self.lose_answers.lock().unwrap();
        let lost = *lose > 0;
        *lose = lose.saturating_sub(1);
        lost
    }
}

fn unavailable() -> conventions_api::ApiError {
    conventions_api::ApiError::new(
        ErrorStatusCode::SERVICE_UNAVAILABLE,
        types::Problem {
            title: "the answer was lost".to_string(),
        },
    )
}

enum Server {}

impl ConventionsApi for Server {
    type Context = State;

    async fn list_memos(
        rqctx: RequestContext<State>,
        path: Params<conventions_api::ListMemosPath>,
        query: Params<conventions_api::ListMemosQuery>,
    ) -> Result<HttpResponseOk<types::MemoPage>, conventions_api::ApiError> {
        let state = rqctx.context();
        state.see("listMemos", None, rqctx.request.uri().query());
        let folder = path.into_inner()?.folder;
        let query = query.into_inner()?;
        let matches: Vec<types::Memo> = state
            .memos
            .lock()
            .unwrap()
            .iter()
            .filter(|(f, _)| *f == folder)
            .map(|(_, memo)| memo.clone())
            .filter(|memo| memo.priority >= query.min_priority)
            .filter(|memo| query.tag.is_empty() || memo.tags.iter().any(|t| query.tag.contains(t)))
            .filter(|memo| query.status.is_none_or(|status| memo.status == status))
            .filter(|memo| {
                query
                    .contains
                    .as_ref()
                    .is_none_or(|text| memo.text.contains(text.as_str()))
            })
            .collect();
        // A cursor is the number of the last memo seen; the page starts after it.
        let start = match &query.after {
            Some(after) => {
                let after: i64 = after.parse().expect("a cursor this server made");
                matches.iter().take_while(|n| n.number <= after).count()
            }
            None => usize::try_from(query.start).unwrap(),
        };
        let size = usize::try_from(query.page_size).unwrap();
        let data: Vec<types::Memo> = matches.iter().skip(start).take(size).cloned().collect();
        let next = (start + data.len() < matches.len())
            .then(|| data.last().map(|n| n.number.to_string()))
            .flatten();
        Ok(HttpResponseOk(types::MemoPage {
            data,
            meta: types::MemoPageMeta {
                count: i64::try_from(matches.len()).unwrap(),
                next,
            },
        }))
    }

    async fn create_memo(
        rqctx: RequestContext<State>,
        path: Params<conventions_api::CreateMemoPath>,
        headers: Params<conventions_api::IdempotencyKeyHeaders>,
        body: JsonBody<types::MemoInput>,
    ) -> Result<HttpResponseCreated<types::Memo>, conventions_api::ApiError> {
        let state = rqctx.context();
        let folder = path.into_inner()?.folder;
        let key = headers.into_inner()?.idempotency_key;
        state.see("createMemo", key.clone(), None);
        let input = body.read(&Default::default()).await.into_inner()?;
        if let Some(Some(kept)) = key
            .as_ref()
            .and_then(|k| state.kept.lock().unwrap().get(k).cloned())
        {
            // A replay, whose answer may be lost as well.
            if state.lose_answer() {
                return Err(unavailable());
            }
            return Ok(HttpResponseCreated(kept));
        }
        let memo = {
            let mut memos = state.memos.lock().unwrap();
            let memo = types::Memo {
                number: i64::try_from(memos.len()).unwrap() + 1,
                priority: input.priority.map_or(0, |p| i64::try_from(p).unwrap()),
                status: input.status.unwrap_or(types::Status::Draft),
                tags: input.tags,
                text: input.text.to_string(),
            };
            memos.push((folder, memo.clone()));
            memo
        };
        if let Some(key) = key {
            state.kept.lock().unwrap().insert(key, Some(memo.clone()));
        }
        if state.lose_answer() {
            return Err(unavailable());
        }
        Ok(HttpResponseCreated(memo))
    }

    async fn get_memo(
        _rqctx: RequestContext<State>,
        _path: Params<conventions_api::GetMemoPath>,
    ) -> Result<HttpResponseOk<types::Memo>, conventions_api::ApiError> {
        Err(unavailable())
    }

    async fn delete_memo(
        rqctx: RequestContext<State>,
        path: Params<conventions_api::DeleteMemoPath>,
        headers: Params<conventions_api::IdempotencyKeyHeaders>,
    ) -> Result<HttpResponseDeleted, conventions_api::ApiError> {
        let state = rqctx.context();
        let path = path.into_inner()?;
        let key = headers.into_inner()?.idempotency_key;
        state.see("deleteMemo", key.clone(), None);
        let replay = key
            .as_ref()
            .is_some_and(|k| state.kept.lock().unwrap().contains_key(k));
        if !replay {
            let mut memos = state.memos.lock().unwrap();
            let before = memos.len();
            memos.retain(|(folder, memo)| !(*folder == path.folder && memo.number == path.number));
            if memos.len() == before {
                return Err(conventions_api::ApiError::new(
                    ErrorStatusCode::NOT_FOUND,
                    types::Problem {
                        title: "no such memo".to_string(),
                    },
                ));
            }
            if let Some(key) = key {
                state.kept.lock().unwrap().insert(key, None);
            }
            if state.lose_answer() {
                return Err(unavailable());
            }
        }
        Ok(HttpResponseDeleted())
    }
}

async fn start() -> (dropshot::HttpServer<State>, client::Client) {
    let api = conventions_api::conventions_api_mod::api_description::<Server>()
        .expect("the trait registers");
    let (server, url) = serve(api, State::default()).await;
    (server, client::Client::new(&url))
}

fn input(text: &str, tags: &[&str], priority: u64) -> client::types::builder::MemoInput {
    client::types::MemoInput::builder()
        .text(text)
        .tags(tags.iter().map(|t| t.to_string()).collect::<Vec<_>>())
        .priority(priority)
}

fn seen(server: &dropshot::HttpServer<State>) -> Vec<Seen> {
    server.app_private().seen.lock().unwrap().clone()
}

#[tokio::test]
async fn a_retried_write_sends_one_key_and_creates_once() {
    let (server, client) = start().await;
    *server.app_private().lose_answers.lock().unwrap() = 2;

    let memo = client
        .retrying()
        .create_memo("inbox", input("call back", &[], 1))
        .await
        .expect("the third attempt gets the kept answer")
        .into_inner();

    assert_eq!(memo.number, 1);
    assert_eq!(
        server.app_private().memos.lock().unwrap().len(),
        1,
        "created once"
    );
    let writes = seen(&server);
    assert_eq!(writes.len(), 3, "{writes:?}");
    let key = writes[0].key.clone().expect("the key header is sent");
    assert!(
        writes
            .iter()
            .all(|w| w.key.as_deref() == Some(key.as_str())),
        "{writes:?}"
    );

    // The next logical write gets a key of its own.
    client
        .retrying()
        .create_memo("inbox", input("write up", &[], 1))
        .await
        .unwrap();
    let next = seen(&server).last().unwrap().key.clone().unwrap();
    assert_ne!(next, key);
}

#[tokio::test]
async fn a_retried_write_without_a_body_passes_its_path() {
    let (server, client) = start().await;
    for text in ["a", "b"] {
        client
            .retrying()
            .create_memo("inbox", input(text, &[], 0))
            .await
            .unwrap();
    }
    *server.app_private().lose_answers.lock().unwrap() = 1;
    let number = std::num::NonZeroU64::new(2).unwrap();

    client
        .retrying()
        .delete_memo("inbox", number)
        .await
        .expect("the retry gets the kept answer");

    let left: Vec<i64> = server
        .app_private()
        .memos
        .lock()
        .unwrap()
        .iter()
        .map(|(_, n)| n.number)
        .collect();
    assert_eq!(left, [1]);
    let deletes: Vec<Seen> = seen(&server)
        .into_iter()
        .filter(|s| s.operation == "deleteMemo")
        .collect();
    assert_eq!(deletes.len(), 2);
    assert_eq!(deletes[0].key, deletes[1].key);

    // A 4xx is not retried.
    let error = client
        .retrying()
        .delete_memo("inbox", number)
        .await
        .expect_err("already deleted");
    assert_eq!((error.status, error.attempts), (Some(404), 1));
}

#[tokio::test]
async fn a_paged_list_streams_every_match_once_by_cursor() {
    let (server, client) = start().await;
    let mut expected = Vec::new();
    for i in 0..9_u64 {
        let tags: &[&str] = if i % 3 == 0 { &["red"] } else { &["blue"] };
        let folder = if i == 4 { "other" } else { "inbox" };
        let memo = client
            .create_memo()
            .folder(folder)
            .body(input(&format!("memo {i}"), tags, i % 2))
            .send()
            .await
            .unwrap()
            .into_inner();
        if folder == "inbox" && i % 2 == 1 {
            expected.push(memo.number);
        }
    }

    let odd: Vec<client::types::Memo> = client
        .all_memos("inbox", 1)
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(odd.iter().map(|n| n.number).collect::<Vec<_>>(), expected);

    let pages: Vec<String> = seen(&server)
        .into_iter()
        .filter(|s| s.operation == "listMemos")
        .map(|s| s.query)
        .collect();
    // Memos 2, 4, 6 and 8 in pages of 2: the first page by offset, the second by its cursor.
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(
        pages[0].contains("start=0") && !pages[0].contains("after="),
        "{pages:?}"
    );
    assert!(pages[1].contains("after=4"), "{pages:?}");
    assert!(
        pages
            .iter()
            .all(|q| q.contains("minPriority=1") && q.contains("pageSize=2"))
    );

    // Filters reach every page: red memos whose text contains "memo".
    let red: Vec<client::types::Memo> = client
        .all_memos("inbox", 0)
        .tag("red")
        .contains("memo")
        .page_size(1)
        .retry_policy(RetryPolicy { max_attempts: 1 })
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(red.iter().map(|n| n.number).collect::<Vec<_>>(), [1, 4, 7]);
    let last = seen(&server).last().unwrap().query.clone();
    assert!(
        last.contains("tag=red") && last.contains("contains=memo"),
        "{last}"
    );

    // Without a page size, the spec's default `pageSize`.
    let other: Vec<client::types::Memo> = client
        .all_memos("other", 0)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(other.iter().map(|n| n.number).collect::<Vec<_>>(), [5]);
    let last = seen(&server).last().unwrap().query.clone();
    assert!(last.contains("pageSize=10"), "{last}");
}
