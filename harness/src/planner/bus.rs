//! Plan distribution: the planner publishes, every enactor reads the newest plan it was given.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::model::Plan;

/// What a delivery fault puts between the planner and one enactor: given each published plan,
/// what (if anything) the enactor sees now.
pub type Filter = Box<dyn FnMut(&Arc<Plan>) -> Option<Arc<Plan>> + Send>;

struct Subscriber {
    name: String,
    tx: watch::Sender<Option<Arc<Plan>>>,
    /// A fault may rewrite what this subscriber sees (delay, reorder).
    filter: Option<Filter>,
}

#[derive(Default)]
struct Inner {
    subscribers: Vec<Subscriber>,
    history: BTreeMap<u64, Arc<Plan>>,
}

/// Fan-out of plans to enactors. Cloning shares it.
#[derive(Clone, Default)]
pub struct PlanBus {
    inner: Arc<Mutex<Inner>>,
}

/// One enactor's view of the plan stream.
#[derive(Clone)]
pub struct PlanFeed {
    rx: watch::Receiver<Option<Arc<Plan>>>,
}

impl PlanBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// A feed for `name` that starts with the newest plan published so far.
    pub fn subscribe(&self, name: &str) -> PlanFeed {
        let mut inner = self.inner.lock().expect("plan bus");
        let newest = inner.history.values().next_back().cloned();
        let (tx, rx) = watch::channel(newest);
        inner.subscribers.push(Subscriber { name: name.to_string(), tx, filter: None });
        PlanFeed { rx }
    }

    /// Publish a plan to every subscriber.
    pub fn publish(&self, plan: Plan) {
        let plan = Arc::new(plan);
        let mut inner = self.inner.lock().expect("plan bus");
        inner.history.insert(plan.generation, plan.clone());
        for sub in &mut inner.subscribers {
            let seen = match &mut sub.filter {
                Some(f) => f(&plan),
                None => Some(plan.clone()),
            };
            if let Some(p) = seen {
                sub.tx.send_replace(Some(p));
            }
        }
    }

    /// Make `name` see plans through `filter` (None clears it). Returns false if no such subscriber.
    pub fn set_filter(&self, name: &str, filter: Option<Filter>) -> bool {
        let mut inner = self.inner.lock().expect("plan bus");
        match inner.subscribers.iter_mut().find(|s| s.name == name) {
            Some(s) => {
                s.filter = filter;
                true
            }
            None => false,
        }
    }

    /// Deliver `plan` to `name` only (used by delivery faults).
    pub fn deliver_to(&self, name: &str, plan: Arc<Plan>) {
        let inner = self.inner.lock().expect("plan bus");
        if let Some(s) = inner.subscribers.iter().find(|s| s.name == name) {
            s.tx.send_replace(Some(plan));
        }
    }

    /// A published plan by generation.
    pub fn plan(&self, generation: u64) -> Option<Arc<Plan>> {
        self.inner.lock().expect("plan bus").history.get(&generation).cloned()
    }

    /// The newest published plan.
    pub fn newest(&self) -> Option<Arc<Plan>> {
        self.inner.lock().expect("plan bus").history.values().next_back().cloned()
    }
}

impl PlanFeed {
    /// The newest plan this enactor has been given.
    pub fn latest(&self) -> Option<Arc<Plan>> {
        self.rx.borrow().clone()
    }

    /// Wait until a plan with a generation above `seen` arrives; `None` when the bus is gone.
    pub async fn newer_than(&mut self, seen: u64) -> Option<Arc<Plan>> {
        let res = self.rx.wait_for(|p| p.as_ref().is_some_and(|p| p.generation > seen)).await;
        res.ok().and_then(|p| p.clone())
    }

    /// Wait until the plan given is another one than generation `seen` (newer, or older when a
    /// delivery fault reorders plans); `None` when the bus is gone.
    pub async fn other_than(&mut self, seen: u64) -> Option<Arc<Plan>> {
        let res = self.rx.wait_for(|p| p.as_ref().is_some_and(|p| p.generation != seen)).await;
        res.ok().and_then(|p| p.clone())
    }
}
