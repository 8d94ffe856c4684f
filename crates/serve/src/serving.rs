//! The serving layer as a whole: the store, the artifacts, and a running [`Revision`]
//! for every revision a route can reach. Deploys, traffic changes and deletes go
//! through here; so does the gateway's "which revision serves this request?".
//!
//! # Guarantees
//! - A deploy that makes a revision starts one instance of it before recording it: a
//!   function that cannot start is refused with its reason and last output, and the
//!   route keeps serving what it served (Knative routes "latest" to the latest *ready*
//!   revision; here an unready revision is never recorded).
//! - Only reachable revisions (a traffic share above 0 %, or a tag) run; when a change
//!   makes one unreachable, requests already sent to it finish, and its instances drain.
//! - Everything deployed is in the store: a restart serves the same functions (each
//!   from zero instances until its first request or its `scale.min`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use motif_api::{FunctionSpec, Subscription, TrafficTarget};
use motif_events::log::LogOptions;
use motif_events::{Broker, Target, TriggerStatus};
use motif_wasm::EngineSettings;
use serde::{Deserialize, Serialize};

use crate::artifact::{ArtifactError, Artifacts, Source};
use crate::autoscale;
use crate::events::{BROKER_HOST, GatewayDispatch, Pings};
use crate::logs::FunctionLog;
use crate::revision::{Revision, RevisionStatus};
use crate::runtime::{Host, Instance, Launch};
use crate::settings::Settings;
use crate::store::{FunctionRecord, Route, Store, StoreError};

/// What went wrong with a request to the serving layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The store refused or failed (a missing function, an invalid split, ...).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The artifact could not be stored or read.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The spec is invalid.
    #[error("invalid function: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// The new revision's first instance did not start; nothing was recorded.
    #[error("`{revision}` did not start: {reason}")]
    NotReady {
        /// The revision it would have been.
        revision: String,
        /// Why.
        reason: String,
        /// Its last lines of output.
        logs: Vec<String>,
    },
    /// The broker's log could not be opened.
    #[error("cannot open the event log")]
    Events(#[from] motif_events::log::LogError),
    /// The state directory could not be prepared.
    #[error("cannot use the state directory `{path}`")]
    StateDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The outcome of a deploy.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The function.
    pub name: String,
    /// Its latest revision.
    pub revision: String,
    /// Whether this deploy made it.
    pub created: bool,
    /// Where the function is served.
    pub url: String,
    /// The new revision's first cold start, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_after_millis: Option<f64>,
    /// The route after the deploy.
    pub route: Route,
}

/// A function as `motif list` and `motif describe` show it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionView {
    /// What the store has.
    #[serde(flatten)]
    pub record: FunctionRecord,
    /// Where it is served.
    pub url: String,
    /// The URL of each tag.
    pub tag_urls: Vec<(String, String)>,
    /// Its running revisions.
    pub running: Vec<RevisionStatus>,
    /// The triggers that deliver events to it.
    pub triggers: Vec<TriggerStatus>,
}

/// One function's reachable revisions, as the gateway sees them.
pub(crate) struct Routed {
    pub(crate) route: Route,
    revisions: HashMap<String, Arc<Revision>>,
    /// Revisions that cannot run (their artifact is gone or damaged), and why.
    broken: HashMap<String, String>,
}

impl Routed {
    /// The running revision named `name`, or why it cannot run.
    pub(crate) fn revision(&self, name: &str) -> Result<Arc<Revision>, String> {
        if let Some(revision) = self.revisions.get(name) {
            return Ok(revision.clone());
        }
        Err(self
            .broken
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("`{name}` is not running")))
    }
}

/// The serving layer of one state directory.
pub struct Serving {
    settings: Arc<Settings>,
    store: Store,
    artifacts: Artifacts,
    host: Arc<Host>,
    routes: RwLock<HashMap<String, Arc<Routed>>>,
    logs: Mutex<HashMap<String, FunctionLog>>,
    /// Deploys, traffic changes and deletes, one at a time.
    changes: tokio::sync::Mutex<()>,
    gateway: OnceLock<SocketAddr>,
    broker: OnceLock<Arc<Broker>>,
    pings: Pings,
    /// Trigger and ping source changes, one at a time (each reads the store whole).
    events_sync: tokio::sync::Mutex<()>,
}

impl Serving {
    /// Opens the state directory (creating it `0700`) and its store, and routes every
    /// stored function. Must run inside a tokio runtime (revisions get their tasks).
    pub fn open(settings: Settings) -> Result<Arc<Serving>, ServeError> {
        let dir = settings.state_dir.clone();
        create_private_dir(&dir).map_err(|source| ServeError::StateDir {
            path: dir.clone(),
            source,
        })?;
        let store = Store::open(dir.join("serve.redb"))?;
        // The store's lock is ours: what a killed server left behind can go.
        crate::oci::remove_stale_instances(&dir.join("artifacts"));
        let host = Arc::new(Host::new(
            &settings.cache_dir,
            EngineSettings {
                instances: settings.wasm_instances,
                ..EngineSettings::default()
            },
            settings.wasm_keep_loaded,
        ));
        let serving = Arc::new(Serving {
            artifacts: Artifacts::new(dir.join("artifacts")),
            settings: Arc::new(settings),
            store,
            host,
            routes: RwLock::default(),
            logs: Mutex::default(),
            changes: tokio::sync::Mutex::new(()),
            gateway: OnceLock::new(),
            broker: OnceLock::new(),
            pings: Pings::default(),
            events_sync: tokio::sync::Mutex::new(()),
        });
        let dispatch = Arc::new(GatewayDispatch {
            serving: Arc::downgrade(&serving),
        });
        let options = LogOptions {
            fsync: serving.settings.event_fsync,
            ..LogOptions::default()
        };
        let broker = Broker::open(&dir.join("events"), options, dispatch)?;
        let _ = serving.broker.set(broker);
        for record in serving.store.list()? {
            serving.reconcile(&record.name, None)?;
        }
        // Triggers resume at their cursors, whenever they start: nothing published in
        // the meantime is missed.
        let starting = serving.clone();
        tokio::spawn(async move {
            if let Err(e) = starting.reconcile_events().await {
                tracing::error!("cannot start the triggers: {e}");
            }
        });
        Ok(serving)
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The broker.
    pub fn broker(&self) -> &Arc<Broker> {
        self.broker
            .get()
            .expect("the broker is opened with the serving layer")
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn host(&self) -> &Host {
        &self.host
    }

    pub(crate) fn pings(&self) -> &Pings {
        &self.pings
    }

    pub(crate) fn events_sync(&self) -> &tokio::sync::Mutex<()> {
        &self.events_sync
    }

    /// Notes where the gateway listens, for the URLs it reports.
    pub fn set_gateway(&self, addr: SocketAddr) {
        let _ = self.gateway.set(addr);
    }

    /// `http://NAME.DOMAIN:PORT/`.
    pub fn url(&self, host: &str) -> String {
        let port = self.gateway.get().map_or(8080, SocketAddr::port);
        format!("http://{host}.{}:{port}/", self.settings.domain)
    }

    /// The log of `name` (made on first use).
    pub fn log(&self, name: &str) -> FunctionLog {
        let mut logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
        logs.entry(name.to_owned())
            .or_insert_with(|| FunctionLog::new(self.settings.log_lines))
            .clone()
    }

    /// Deploys `spec` running `source` as `name`: a new revision unless nothing
    /// changed, started once before it is recorded; then `tag` (if any) points at it.
    pub async fn deploy(
        &self,
        name: &str,
        spec: &FunctionSpec,
        source: &Source,
        tag: Option<&str>,
    ) -> Result<Deployment, ServeError> {
        let mut problems = motif_api::validate_function(name, spec);
        if name == BROKER_HOST {
            problems.push(motif_api::Invalid {
                field: "name".into(),
                message: format!(
                    "`{BROKER_HOST}` is the broker's address here ({BROKER_HOST}.localhost); \
                     choose another name"
                ),
            });
        }
        if !problems.is_empty() {
            return Err(ServeError::Invalid(
                problems.iter().map(ToString::to_string).collect(),
            ));
        }
        let _change = self.changes.lock().await;
        let artifact = tokio::task::block_in_place(|| self.artifacts.ingest(source))?;
        let mut initial = None;
        let mut ready_after = None;
        if let Some(revision) = self.store.preview(name, spec, &artifact)? {
            let launch = self.launch(name, &revision, spec, &artifact)?;
            let log = launch.log.clone();
            let source = format!("{revision}/1");
            match Instance::start(&self.host, &launch, source).await {
                Ok((instance, after)) => {
                    ready_after = Some(after.as_secs_f64() * 1e3);
                    initial = Some((revision, instance, after));
                }
                Err(reason) => {
                    log.push(&revision, format!("did not start: {reason}"));
                    return Err(ServeError::NotReady {
                        logs: log
                            .tail(20)
                            .into_iter()
                            .filter(|line| line.source.starts_with(&revision))
                            .map(|line| line.text)
                            .collect(),
                        revision,
                        reason,
                    });
                }
            }
        }
        let deployed = self.store.deploy(name, spec, &artifact)?;
        if let Some(tag) = tag {
            self.store.tag(name, tag, &deployed.revision)?;
        }
        let initial = initial.filter(|(revision, ..)| *revision == deployed.revision);
        let route = self.reconcile(name, initial.map(|(_, i, after)| (i, after)))?;
        self.reconcile_events().await?;
        self.log(name).push(
            &deployed.revision,
            if deployed.created {
                "deployed"
            } else {
                "deployed again, unchanged: no new revision"
            },
        );
        Ok(Deployment {
            name: name.to_owned(),
            revision: deployed.revision,
            created: deployed.created,
            url: self.url(name),
            ready_after_millis: ready_after,
            route,
        })
    }

    /// Sets the route of `name`.
    pub async fn set_traffic(
        &self,
        name: &str,
        targets: Vec<TrafficTarget>,
    ) -> Result<Route, ServeError> {
        let _change = self.changes.lock().await;
        self.store.set_traffic(name, targets)?;
        self.reconcile(name, None)
    }

    /// Deletes `name`: its route goes at once, its instances drain.
    pub async fn delete(&self, name: &str) -> Result<(), ServeError> {
        let _change = self.changes.lock().await;
        self.store.delete(name)?;
        let old = self
            .routes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        if let Some(old) = old {
            for revision in old.revisions.values() {
                revision.retire().await;
            }
        }
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        self.reconcile_events().await
    }

    /// Adds `subscription` (named) to `name` beside its spec's, replacing one of the
    /// same name; `true` if it replaced one.
    pub async fn subscribe(
        &self,
        name: &str,
        subscription: Subscription,
    ) -> Result<bool, ServeError> {
        let _change = self.changes.lock().await;
        let record = self.store.get(name)?.ok_or_else(|| {
            ServeError::Store(StoreError::NotFound {
                kind: "function",
                name: name.to_owned(),
            })
        })?;
        // Checked as a subscription of the function's spec would be.
        let spec = FunctionSpec {
            subscriptions: vec![subscription.clone()],
            ..record.latest.spec
        };
        let problems = motif_api::validate_function(name, &spec);
        if subscription.name.is_none() {
            return Err(ServeError::Invalid(vec![
                "`name`: a subscription added on its own needs a name".into(),
            ]));
        }
        if !problems.is_empty() {
            return Err(ServeError::Invalid(
                problems.iter().map(ToString::to_string).collect(),
            ));
        }
        let replaced = self.store.subscribe(name, &subscription)?;
        self.reconcile_events().await?;
        Ok(replaced)
    }

    /// Removes the subscription `subscription` that `motif subscribe` added to `name`.
    pub async fn unsubscribe(&self, name: &str, subscription: &str) -> Result<(), ServeError> {
        let _change = self.changes.lock().await;
        self.store.unsubscribe(name, subscription)?;
        self.reconcile_events().await
    }

    /// The subscriptions `motif subscribe` added to `name`.
    pub fn subscriptions(&self, name: &str) -> Result<Vec<Subscription>, ServeError> {
        Ok(self.store.subscriptions(name)?)
    }

    /// Every function.
    pub fn list(&self) -> Result<Vec<FunctionView>, ServeError> {
        let records = self.store.list()?;
        // Every trigger's status once, not once per function.
        let triggers = self.broker().triggers();
        Ok(records
            .into_iter()
            .map(|r| self.view(r, &triggers))
            .collect())
    }

    /// One function, or `None`.
    pub fn describe(&self, name: &str) -> Result<Option<FunctionView>, ServeError> {
        Ok(self
            .store
            .get(name)?
            .map(|r| self.view(r, &self.broker().triggers())))
    }

    fn view(&self, record: FunctionRecord, triggers: &[TriggerStatus]) -> FunctionView {
        let running = self.routed(&record.name).map_or_else(Vec::new, |routed| {
            let mut running: Vec<_> = routed.revisions.values().map(|r| r.status()).collect();
            running.sort_by(|a, b| a.name.cmp(&b.name));
            running
        });
        let tag_urls = record
            .route
            .targets
            .iter()
            .filter_map(|t| t.tag.as_ref())
            .map(|tag| (tag.clone(), self.url(&format!("{tag}-{}", record.name))))
            .collect();
        let subscriber = Target::Function(record.name.clone()).to_string();
        let triggers = triggers
            .iter()
            .filter(|t| t.subscriber == subscriber)
            .cloned()
            .collect();
        FunctionView {
            url: self.url(&record.name),
            tag_urls,
            running,
            triggers,
            record,
        }
    }

    /// The gateway's view of `name`.
    pub(crate) fn routed(&self, name: &str) -> Option<Arc<Routed>> {
        self.routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// Stops the ping sources and the triggers (what they had in flight is delivered
    /// again at the next start), then every revision, draining their instances.
    pub async fn shutdown(&self) {
        self.pings.stop();
        self.broker().shutdown().await;
        let all: Vec<_> = self
            .routes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .collect();
        let mut drains = Vec::new();
        for (_, routed) in all {
            for revision in routed.revisions.values() {
                let revision = revision.clone();
                drains.push(tokio::spawn(async move { revision.retire().await }));
            }
        }
        for drain in drains {
            let _ = drain.await;
        }
    }

    /// Makes the running revisions of `name` those its route reaches now: new ones are
    /// set up (`initial` is the first instance of the latest, when a deploy started
    /// it), unreachable ones retire.
    fn reconcile(
        &self,
        name: &str,
        mut initial: Option<(Instance, Duration)>,
    ) -> Result<Route, ServeError> {
        let route = self.store.resolve(name)?;
        let old = self.routed(name);
        let mut revisions = HashMap::new();
        let mut broken = HashMap::new();
        let reachable = route
            .targets
            .iter()
            .filter(|t| t.percent > 0 || t.tag.is_some())
            .map(|t| t.revision.clone().unwrap_or_else(|| route.latest.clone()));
        for revision in reachable {
            if revisions.contains_key(&revision) {
                continue;
            }
            if let Some(running) = old.as_ref().and_then(|o| o.revisions.get(&revision)) {
                revisions.insert(revision, running.clone());
                continue;
            }
            let first = if revision == route.latest {
                initial.take()
            } else {
                None
            };
            match self.start_revision(name, &revision, first) {
                Ok(running) => {
                    revisions.insert(revision, running);
                }
                Err(e) => {
                    let why = format!("`{revision}` cannot run: {e}");
                    self.log(name).push(&revision, why.clone());
                    broken.insert(revision, why);
                }
            }
        }
        let retired: Vec<_> = old
            .map(|o| {
                o.revisions
                    .iter()
                    .filter(|(name, _)| !revisions.contains_key(*name))
                    .map(|(_, r)| r.clone())
                    .collect()
            })
            .unwrap_or_default();
        self.routes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                name.to_owned(),
                Arc::new(Routed {
                    route: route.clone(),
                    revisions,
                    broken,
                }),
            );
        for revision in retired {
            self.log(name)
                .push(revision.name(), "no longer routed: draining");
            tokio::spawn(async move { revision.retire().await });
        }
        if let Some((instance, _)) = initial {
            // The deploy's instance was not needed after all (a route pins older ones).
            tokio::spawn(instance.stop(self.settings.drain));
        }
        Ok(route)
    }

    fn start_revision(
        &self,
        name: &str,
        revision: &str,
        initial: Option<(Instance, Duration)>,
    ) -> Result<Arc<Revision>, ServeError> {
        let stored = self.store.revision(revision)?;
        let launch = self.launch(name, revision, &stored.spec, &stored.artifact)?;
        let mut config = autoscale::Config::from_spec(&stored.spec);
        config.stable_window = self.settings.stable_window;
        config.scale_to_zero_grace = self.settings.scale_to_zero_grace;
        Ok(Revision::start(
            revision.to_owned(),
            launch,
            config,
            stored.spec.concurrency.unwrap_or(0),
            self.host.clone(),
            self.settings.clone(),
            initial,
        ))
    }

    /// How to start an instance of `revision`: its artifact, and the environment
    /// Knative would give it (`K_SERVICE`, `K_CONFIGURATION`, `K_REVISION`) beside the
    /// function's own.
    fn launch(
        &self,
        name: &str,
        revision: &str,
        spec: &FunctionSpec,
        artifact: &str,
    ) -> Result<Launch, ServeError> {
        let runnable = self.artifacts.runnable(artifact)?;
        let mut env = spec.runtime_env(name);
        env.push(("K_SERVICE".into(), name.into()));
        env.push(("K_CONFIGURATION".into(), name.into()));
        env.push(("K_REVISION".into(), revision.into()));
        Ok(Launch {
            runnable,
            env,
            ready_timeout: self.settings.ready_timeout,
            log: self.log(name),
        })
    }
}

/// Creates `dir` (and its parents) owner-only, or checks that an existing one is a
/// directory.
pub(crate) fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
