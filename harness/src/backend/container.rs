//! LocalStack in Docker, through testcontainers.
//!
//! The image is pinned (`localstack/localstack:4.13.1` unless `--image` says otherwise). On a
//! machine with no registry the same tag is built locally by `fixtures/localstack/build-image.sh`
//! and testcontainers finds it there. The gateway port is published on 127.0.0.1 only.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use testcontainers::bollard::query_parameters::{
    CreateImageOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use testcontainers::bollard::Docker;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use super::owner::{Owner, OwnerState, PIDNS_LABEL, START_LABEL};
use super::{Backend, BackendConfig, BackendInfo, LogTail, OWNER_LABEL, PID_LABEL};
use crate::error::{Error, Result};

const GATEWAY_PORT: u16 = 4566;

pub struct ContainerBackend {
    info: BackendInfo,
    container: tokio::sync::Mutex<Option<ContainerAsync<GenericImage>>>,
    tail: LogTail,
}

/// True when a Docker engine answers a ping within two seconds.
pub async fn docker_answers() -> bool {
    match Docker::connect_with_local_defaults() {
        Ok(docker) => matches!(
            tokio::time::timeout(Duration::from_secs(2), docker.ping()).await,
            Ok(Ok(_))
        ),
        Err(_) => false,
    }
}

fn split_image(image: &str) -> Result<(String, String)> {
    // The tag is after the last ':' that comes after the last '/' (registries may have ports).
    let slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[slash..].rfind(':') {
        Some(i) if i > 0 => {
            let (name, tag) = image.split_at(slash + i);
            let tag = &tag[1..];
            if tag == "latest" {
                return Err(Error::bad_input(format!(
                    "image {image:?} uses the tag latest, which needs a LocalStack auth token since 2026-03 (hint: pin a community tag such as {})",
                    super::DEFAULT_IMAGE
                )));
            }
            Ok((name.to_string(), tag.to_string()))
        }
        _ => Err(Error::bad_input(format!(
            "image {image:?} has no tag (hint: pin one, e.g. {})",
            super::DEFAULT_IMAGE
        ))),
    }
}

impl ContainerBackend {
    pub async fn start(config: &BackendConfig) -> Result<Self> {
        let (name, tag) = split_image(&config.image)?;
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| Error::setup(format!("cannot connect to docker: {e} (hint: start the docker engine, or use --backend process)")))?;
        match tokio::time::timeout(Duration::from_secs(5), docker.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(Error::setup(format!(
                    "docker engine does not answer: {e} (hint: start it, or use --backend process)"
                )))
            }
            Err(_) => {
                return Err(Error::setup(
                    "docker engine did not answer within 5s (hint: start it, or use --backend process)",
                ))
            }
        }
        remove_orphans(&docker).await;
        ensure_image(&docker, &config.image).await?;
        let me = Owner::current().map_err(|e| {
            Error::setup(format!(
                "cannot read this process's start time from /proc/self/stat: {e} (hint: the container backend needs /proc to label its containers)"
            ))
        })?;

        let log_path = config.run_dir.join("backend.log");
        let clock = crate::clock::Clock::wall();
        let started = clock.now();
        let request = GenericImage::new(name, tag)
            .with_exposed_port(GATEWAY_PORT.tcp())
            .with_wait_for(WaitFor::message_on_stdout("Ready."))
            .with_env_var("SERVICES", "route53")
            .with_env_var("EAGER_SERVICE_LOADING", "1")
            // No certificate download, no analytics: nothing leaves the machine.
            .with_env_var("SKIP_SSL_CERT_DOWNLOAD", "1")
            .with_env_var("DISABLE_EVENTS", "1")
            // LocalStack rewrites resolv.conf when its DNS server is on; keep it off everywhere.
            .with_env_var("DNS_ADDRESS", "0")
            .with_label(OWNER_LABEL, "dnschaos")
            .with_label(PID_LABEL, me.pid.to_string())
            .with_label(START_LABEL, me.start_ticks.to_string())
            .with_label(PIDNS_LABEL, me.pidns.clone())
            .with_startup_timeout(config.startup_timeout)
            .with_host_config_modifier(|host| {
                // Publish the gateway on loopback only, on a port Docker picks.
                host.publish_all_ports = Some(false);
                host.port_bindings = Some(HashMap::from([(
                    format!("{GATEWAY_PORT}/tcp"),
                    Some(vec![testcontainers::bollard::models::PortBinding {
                        host_ip: Some("127.0.0.1".into()),
                        host_port: Some(String::new()),
                    }]),
                )]));
            });
        let container = request.start().await.map_err(|e| {
            Error::setup(format!(
                "localstack container from {} did not start: {e} (hint: run with RUST_LOG=debug, or try --backend process)",
                config.image
            ))
        })?;
        let tail = LogTail::default();
        spawn_log_copy(&container, &log_path, tail.clone()).await;
        let port = container.get_host_port_ipv4(GATEWAY_PORT).await.map_err(|e| {
            Error::setup(format!("cannot read the container's published port: {e}"))
        })?;
        let url = format!("http://127.0.0.1:{port}");
        let mut backend = ContainerBackend {
            info: BackendInfo {
                kind: "container".into(),
                source: config.image.clone(),
                version: Some(super::LOCALSTACK_VERSION.to_string())
                    .filter(|v| config.image.ends_with(v.as_str())),
                endpoint_url: Some(url.clone()),
                real_aws: false,
                ready_ms: 0,
                log_path: Some(log_path),
                handle: Some(container.id().to_string()),
            },
            container: tokio::sync::Mutex::new(Some(container)),
            tail,
        };
        super::wait_route53_healthy(&url, Duration::from_secs(30)).await?;
        backend.info.ready_ms = clock.since(started).as_millis() as u64;
        Ok(backend)
    }

}

#[async_trait]
impl Backend for ContainerBackend {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    async fn pause(&self) -> Result<()> {
        let guard = self.container.lock().await;
        let container = guard.as_ref().ok_or_else(|| Error::setup("the container is already removed"))?;
        container
            .pause()
            .await
            .map_err(|e| Error::setup(format!("cannot pause the localstack container: {e}")))
    }

    async fn resume(&self) -> Result<()> {
        let guard = self.container.lock().await;
        let container = guard.as_ref().ok_or_else(|| Error::setup("the container is already removed"))?;
        container
            .unpause()
            .await
            .map_err(|e| Error::setup(format!("cannot unpause the localstack container: {e}")))
    }

    async fn log_tail(&self, n: usize) -> Vec<String> {
        self.tail.last(n)
    }

    async fn shutdown(&self) -> Result<()> {
        let taken = self.container.lock().await.take();
        if let Some(container) = taken {
            let id = container.id().to_string();
            // A paused container cannot be stopped; unpausing one that is not paused fails harmlessly.
            let _ = container.unpause().await;
            container
                .rm()
                .await
                .map_err(|e| Error::setup(format!("cannot remove container {id}: {e} (hint: docker rm -f {id})")))?;
        }
        Ok(())
    }
}

/// Fail with a hint when the image is neither local nor pullable.
async fn ensure_image(docker: &Docker, image: &str) -> Result<()> {
    if docker.inspect_image(image).await.is_ok() {
        return Ok(());
    }
    tracing::info!(image, "image not present locally: trying to pull it");
    let options = CreateImageOptionsBuilder::new().from_image(image).build();
    let pull = async {
        use futures_util::StreamExt;
        let mut stream = docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            item?;
        }
        Ok::<_, testcontainers::bollard::errors::Error>(())
    };
    match tokio::time::timeout(Duration::from_secs(300), pull).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::setup(format!(
            "image {image} is not present locally and could not be pulled ({}) (hint: on a machine without a registry run `dnschaos backend build-image`)",
            first_line(&e.to_string())
        ))),
        Err(_) => Err(Error::setup(format!(
            "pulling image {image} took over 300s (hint: run `dnschaos backend build-image` to build it locally)"
        ))),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Remove containers we started from harness processes that no longer exist. The owner is the
/// harness's pid and start time, so a recycled pid does not keep a dead run's container alive;
/// a container labelled in another pid namespace is never removed (its harness may well run).
async fn remove_orphans(docker: &Docker) {
    let filters = HashMap::from([("label".to_string(), vec![format!("{OWNER_LABEL}=dnschaos")])]);
    let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
    let Ok(containers) = docker.list_containers(Some(options)).await else { return };
    for c in containers {
        let labels = c.labels.clone().unwrap_or_default();
        if orphaned(&labels) {
            if let Some(id) = c.id {
                tracing::warn!(container = %id, owner_pid = ?labels.get(PID_LABEL), "removing a leftover dnschaos container");
                let options = RemoveContainerOptionsBuilder::new().force(true).build();
                let _ = docker.remove_container(&id, Some(options)).await;
            }
        }
    }
}

/// True when the harness named by a container's labels is gone.
fn orphaned(labels: &HashMap<String, String>) -> bool {
    if let Some(owner) = Owner::from_labels(labels) {
        return owner.state() == OwnerState::Gone;
    }
    // Labelled by a dnschaos without the start-time label: judge by the pid alone.
    let pid = labels.get(PID_LABEL).and_then(|p| p.parse::<i32>().ok());
    // SAFETY: signal 0 only checks that the pid exists.
    !pid.is_some_and(|p| unsafe { libc::kill(p, 0) } == 0)
}

/// Follow the container's stdout and stderr into the run folder's backend.log and the tail.
async fn spawn_log_copy(container: &ContainerAsync<GenericImage>, path: &std::path::Path, tail: LogTail) {
    let Ok(file) = tokio::fs::File::create(path).await else { return };
    let file = std::sync::Arc::new(tokio::sync::Mutex::new(file));
    for reader in [container.stdout(true), container.stderr(true)] {
        let file = file.clone();
        let tail = tail.clone();
        tokio::spawn(async move {
            let mut lines = reader.lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut f = file.lock().await;
                let _ = f.write_all(line.as_bytes()).await;
                let _ = f.write_all(b"\n").await;
                let _ = f.flush().await;
                tail.push(&line);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::split_image;

    #[test]
    fn image_names_split_and_latest_is_refused() {
        assert_eq!(
            split_image("localstack/localstack:4.13.1").unwrap(),
            ("localstack/localstack".to_string(), "4.13.1".to_string())
        );
        assert_eq!(
            split_image("registry:5000/ls/localstack:4.13.1").unwrap(),
            ("registry:5000/ls/localstack".to_string(), "4.13.1".to_string())
        );
        assert!(split_image("localstack/localstack:latest").is_err());
        assert!(split_image("localstack/localstack").is_err());
        assert!(split_image("registry:5000/localstack").is_err());
    }
}
