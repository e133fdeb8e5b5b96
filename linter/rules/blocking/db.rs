//! ## What it does
//! Finds synchronous database drivers used on an async executor thread: `postgres::Client`,
//! `rusqlite::Connection` and `Statement`, synchronous `redis` connections and commands,
//! the `mysql` crate, and `r2d2` pool checkouts.
//!
//! ## Why is this bad?
//! Each query waits for a server round trip (or, for SQLite, for the disk) on the executor
//! thread. Under load every task on that thread queues behind the slowest query.
//!
//! ## Example
//! ```rust,ignore
//! async fn count_users(db: Arc<Mutex<rusqlite::Connection>>) -> rusqlite::Result<i64> {
//!     let conn = db.lock().unwrap();
//!     conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
//! }
//! ```
//!
//! ## Use instead
//! ```rust,ignore
//! async fn count_users(db: Arc<Mutex<rusqlite::Connection>>) -> rusqlite::Result<i64> {
//!     tokio::task::spawn_blocking(move || {
//!         let conn = db.lock().unwrap();
//!         conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
//!     })
//!     .await
//!     .expect("query task panicked")
//! }
//! ```
//!
//! ## Known limitations
//! A connection is recognised through its declared type or the constructor that made it.
//! Connections hidden behind type aliases or returned by other functions are not followed.

crate::registry::declare_rule! {
    BlockingDb = "blocking-db",
    summary: "a synchronous database driver in async code",
    severity: Warning,
    fixable: false,
}

#[cfg(test)]
mod tests {
    use crate::testing::check;

    #[test]
    fn a_sync_driver_held_in_a_field_not_an_async_pool() {
        check(
            r#"
struct Store {
    conn: rusqlite::Connection,
}

impl Store {
    async fn count(&self) -> i64 {
        self.conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
//      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ blocking-db: blocking call `Connection::query_row` in async fn `count`
    }
}

async fn pooled(pool: &sqlx::PgPool) {
    sqlx::query("SELECT 1").execute(pool).await.unwrap();
}
"#,
        );
    }
}
