//! A backend session: start a backend, run a body against it, and tear everything down on
//! every exit path (success, error, panic, Ctrl-C / SIGTERM).

use std::future::Future;
use std::sync::Arc;

use crate::backend::{self, Backend, BackendConfig, BackendKind};
use crate::error::{Error, Result};
use crate::route53::Route53;

/// What a session body gets.
#[derive(Clone)]
pub struct Session {
    pub backend: Arc<dyn Backend>,
    /// A client with SDK retries off; zones it creates are remembered for cleanup.
    pub r53: Route53,
}

/// SIGINT and SIGTERM, listened to from the moment this is created (a signal that arrives
/// between two awaits is not lost).
pub struct Interrupts {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Interrupts {
    pub fn new() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        Interrupts {
            term: signal(SignalKind::terminate()).expect("install SIGTERM handler"),
            int: signal(SignalKind::interrupt()).expect("install SIGINT handler"),
        }
    }

    /// Resolves on the next SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
        // Not biased: either signal means the same; whichever is first wins.
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

impl Default for Interrupts {
    fn default() -> Self {
        Self::new()
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn interrupted() {
    Interrupts::new().recv().await
}

/// Start the backend, run `body`, then tear down. A panic or signal in the body still tears down.
pub async fn with_backend<F, Fut, T>(config: &BackendConfig, body: F) -> Result<T>
where
    F: FnOnce(Session) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let mut interrupts = Interrupts::new();
    // Dropping a half-started backend (on a signal) tears it down through its Drop.
    // Biased: a signal wins over a backend that became ready at the same moment.
    let backend = tokio::select! {
        biased;
        _ = interrupts.recv() => return Err(Error::Interrupted),
        b = backend::start(config) => b?,
    };
    let r53 = match backend::client(backend.as_ref(), &crate::clock::Clock::wall()).await {
        Ok(r) => r,
        Err(e) => {
            let _ = backend.shutdown().await;
            return Err(e);
        }
    };
    let session = Session { backend: backend.clone(), r53: r53.clone() };
    let mut task = tokio::spawn(body(session));
    // Biased: a body that finished wins over a signal that arrives at the same moment.
    let outcome = tokio::select! {
        biased;
        joined = &mut task => match joined {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(Error::setup(format!("the run panicked: {}", panic_message(e.into_panic())))),
            Err(e) => Err(Error::setup(format!("the run was cancelled: {e}"))),
        },
        _ = interrupts.recv() => {
            task.abort();
            let _ = task.await;
            Err(Error::Interrupted)
        }
    };
    if config.kind == BackendKind::Endpoint || backend.info().kind == "endpoint" {
        // Emulators we run die with their zones; on someone else's server, delete ours.
        r53.delete_created_zones().await;
    }
    if let Err(e) = backend.shutdown().await {
        tracing::error!(error = %e, "backend teardown failed");
        if outcome.is_ok() {
            return Err(e);
        }
    }
    // The backend's log is large (about 1 MB a run) and read rarely: keep it compressed.
    if let Some(log) = backend.info().log_path.as_ref().filter(|p| p.exists()) {
        if let Err(e) = crate::paths::gzip_in_place(log) {
            tracing::warn!(path = %log.display(), error = %e, "could not compress the backend log");
        }
    }
    outcome
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}
