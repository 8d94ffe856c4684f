//! `motif_build::oci` against a real `docker-registry` on loopback, checked with skopeo,
//! and an image run with umoci and runc.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use motif_build::oci::{
    self, Error, Image, ImageConfig, Layer, LayerBuilder, NoProgress, Platform, Progress,
    RegistryOptions,
};
use motif_test_support::{Container, Registry, http, require_tool, run_tool};
use serde_json::{Value, json};

fn options() -> RegistryOptions {
    RegistryOptions::default()
}

fn layer(files: &[(&str, &str)]) -> Layer {
    let mut layer = LayerBuilder::new();
    for (path, contents) in files {
        layer.add_file(path, contents.as_bytes().to_vec(), 0o644);
    }
    layer.finish().unwrap()
}

fn skopeo_inspect(args: &[&str], reference: &str) -> Value {
    require_tool("skopeo", "skopeo").unwrap();
    let target = format!("docker://{reference}");
    let mut all = vec!["inspect", "--tls-verify=false"];
    all.extend_from_slice(args);
    all.push(&target);
    serde_json::from_str(&run_tool("skopeo", &all).unwrap()).unwrap()
}

/// Counts what a push reports.
#[derive(Default)]
struct Recorded {
    total: AtomicU64,
    advanced: AtomicU64,
    finished: AtomicU64,
}

impl Progress for Recorded {
    fn start(&self, _: &str, total_bytes: u64) {
        self.total.store(total_bytes, Ordering::SeqCst);
    }
    fn advance(&self, bytes: u64) {
        self.advanced.fetch_add(bytes, Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

/// The blob uploads the registry has completed so far.
fn blob_uploads(registry: &Registry) -> usize {
    registry
        .requests()
        .iter()
        .filter(|r| r.starts_with("PUT ") && r.contains("/blobs/uploads/") && r.ends_with(" 201"))
        .count()
}

#[tokio::test]
async fn a_pushed_image_reads_back_with_skopeo_and_serves_requests_under_runc() {
    let registry = Registry::start().unwrap();
    let work = tempfile::tempdir().unwrap();

    // A base of this machine's binaries: motif-invoker (without its debug info) serving
    // a shell command, with /bin/sh, /bin/cat and their shared libraries.
    let invoker = motif_test_support::motif_invoker().unwrap();
    let invoker = motif_test_support::strip_debug(&invoker, work.path()).unwrap();
    let mut files = LayerBuilder::new();
    motif_test_support::add_host_binaries(
        &mut files,
        &[
            ("/usr/local/bin/motif-invoker", &invoker),
            ("/bin/sh", Path::new("/bin/sh")),
            ("/bin/cat", Path::new("/bin/cat")),
        ],
    )
    .unwrap();
    files.add_dir("/tmp", 0o1777);
    let config = ImageConfig {
        entrypoint: vec![
            "/usr/local/bin/motif-invoker".into(),
            "--command".into(),
            "/bin/sh".into(),
            "-c".into(),
            r#"printf '%s ' "$REQUEST_METHOD"; cat"#.into(),
        ],
        env: vec!["PORT=8080".into(), "MOTIF_FUNCTION_NAME=echo".into()],
        labels: [("org.example.function".to_owned(), "echo".to_owned())].into(),
        exposed_ports: vec!["8080/tcp".into()],
        ..Default::default()
    };
    let platform = Platform::host();
    let image = Image::assemble(None, vec![files.finish().unwrap()], &config, &platform).unwrap();

    let reference = format!("{}/functions/echo:v1", registry.host());
    let progress = Recorded::default();
    let digest = image.push(&reference, &options(), &progress).await.unwrap();
    assert_eq!(digest, image.digest());
    assert_eq!(progress.total.load(Ordering::SeqCst), image.size());
    assert_eq!(progress.advanced.load(Ordering::SeqCst), image.size());
    assert_eq!(progress.finished.load(Ordering::SeqCst), 1);

    let inspect = skopeo_inspect(&[], &reference);
    assert_eq!(inspect["Digest"], digest);
    assert_eq!(inspect["Architecture"], platform.architecture);
    assert_eq!(inspect["Os"], "linux");
    assert_eq!(inspect["Labels"]["org.example.function"], "echo");
    assert_eq!(
        inspect["Env"],
        json!(["PORT=8080", "MOTIF_FUNCTION_NAME=echo"])
    );
    let pushed_config = skopeo_inspect(&["--config"], &reference);
    assert_eq!(
        pushed_config["config"]["Entrypoint"],
        json!(config.entrypoint)
    );

    // Copy it out of the registry with skopeo, unpack it with umoci, run it with runc.
    let layout = work.path().join("layout");
    run_tool(
        "skopeo",
        &[
            "copy",
            "--src-tls-verify=false",
            &format!("docker://{reference}"),
            &format!("oci:{}:v1", layout.display()),
        ],
    )
    .unwrap();
    let port = http::free_port();
    let mut container = Container::run(&layout, "v1", &[("PORT", &port.to_string())]).unwrap();
    let addr = format!("127.0.0.1:{port}");
    if let Err(e) = http::wait_ok(&addr, "/_/ready", Duration::from_secs(30)) {
        panic!(
            "the container did not turn ready: {e} (exited: {:?})\n{}",
            container.exited(),
            container.logs()
        );
    }
    let reply = http::request("POST", &addr, "/", b"hello from the host").unwrap();
    assert_eq!(reply.status, 200, "{}\n{}", reply.text(), container.logs());
    assert_eq!(reply.text(), "POST hello from the host");
}

#[tokio::test]
async fn pushing_again_sends_no_blob_the_registry_has() {
    let registry = Registry::start().unwrap();
    let image = Image::assemble(
        None,
        vec![layer(&[("/a.txt", "a")]), layer(&[("/b.txt", "b")])],
        &ImageConfig::default(),
        &Platform::host(),
    )
    .unwrap();
    let first = format!("{}/app:1", registry.host());
    image.push(&first, &options(), &NoProgress).await.unwrap();
    // Two layers and the config.
    assert_eq!(blob_uploads(&registry), 3, "{:#?}", registry.requests());

    let again = format!("{}/app:2", registry.host());
    let progress = Recorded::default();
    image.push(&again, &options(), &progress).await.unwrap();
    assert_eq!(blob_uploads(&registry), 3, "{:#?}", registry.requests());
    assert_eq!(progress.advanced.load(Ordering::SeqCst), image.size());
    assert_eq!(skopeo_inspect(&[], &again)["Digest"], image.digest());
}

#[tokio::test]
async fn an_image_built_on_a_pulled_base_has_its_layers_then_ours() {
    let registry = Registry::start().unwrap();
    let host = Platform::host();
    let base_config = ImageConfig {
        entrypoint: vec!["/base".into()],
        cmd: vec!["--base-flag".into()],
        env: vec!["PATH=/usr/bin".into(), "LANG=C".into()],
        labels: [("from".to_owned(), "base".to_owned())].into(),
        ..Default::default()
    };
    let base_image = Image::assemble(
        None,
        vec![
            layer(&[("/etc/os", "base")]),
            layer(&[("/usr/bin/tool", "tool")]),
        ],
        &base_config,
        &host,
    )
    .unwrap();
    let base_ref = format!("{}/base:1", registry.host());
    base_image
        .push(&base_ref, &options(), &NoProgress)
        .await
        .unwrap();

    let cache = tempfile::tempdir().unwrap();
    let base = oci::pull(&base_ref, &host, &options(), cache.path())
        .await
        .unwrap();
    assert_eq!(base.digest(), base_image.digest());
    assert_eq!(base.reference(), base_ref);
    let base_layers: Vec<String> = base.layers().iter().map(|l| l.digest.clone()).collect();
    for digest in &base_layers {
        assert!(
            base.blob_path(digest).unwrap().is_file(),
            "{digest} not cached"
        );
    }

    let ours = layer(&[("/app/main", "app")]);
    let ours_digest = ours.digest.clone();
    let config = ImageConfig {
        entrypoint: vec!["/app/main".into()],
        env: vec!["LANG=C.UTF-8".into(), "PORT=8080".into()],
        labels: [("from".to_owned(), "app".to_owned())].into(),
        ..Default::default()
    };
    let image = Image::assemble(Some(&base), vec![ours], &config, &host).unwrap();
    let app_ref = format!("{}/app:1", registry.host());
    image.push(&app_ref, &options(), &NoProgress).await.unwrap();

    let inspect = skopeo_inspect(&[], &app_ref);
    let mut expected = base_layers.clone();
    expected.push(ours_digest);
    assert_eq!(inspect["Layers"], json!(expected));
    assert_eq!(
        inspect["Env"],
        json!(["PATH=/usr/bin", "LANG=C.UTF-8", "PORT=8080"])
    );
    assert_eq!(inspect["Labels"], json!({ "from": "app" }));
    let pushed = skopeo_inspect(&["--config"], &app_ref);
    assert_eq!(pushed["config"]["Entrypoint"], json!(["/app/main"]));
    assert!(pushed["config"].get("Cmd").is_none(), "{pushed}");
    assert_eq!(pushed["rootfs"]["diff_ids"].as_array().unwrap().len(), 3);
    let manifest = skopeo_inspect(&["--raw"], &app_ref);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.name"],
        base_ref
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.digest"],
        base_image.digest()
    );

    // Pulling again with the same cache fetches no blob; a corrupt cached blob is
    // fetched again.
    let cached = base.blob_path(&base_layers[0]).unwrap();
    fs::write(&cached, b"corrupt").unwrap();
    let again = oci::pull(&base_ref, &host, &options(), cache.path())
        .await
        .unwrap();
    assert_eq!(again.digest(), base.digest());
    let blob_gets = |r: &Registry| {
        r.requests()
            .iter()
            .filter(|l| l.starts_with("GET /v2/base/blobs/sha256:"))
            .count()
    };
    // The first pull fetched the config and two layers, the second only the corrupt one.
    assert_eq!(blob_gets(&registry), 4, "{:#?}", registry.requests());
    assert_eq!(sha256(&fs::read(&cached).unwrap()), base_layers[0]);
}

#[tokio::test]
async fn a_base_with_docker_media_types_keeps_its_layers_media_types() {
    let registry = Registry::start().unwrap();
    let host = Platform::host();
    let base_image = Image::assemble(
        None,
        vec![layer(&[("/etc/os", "docker base")])],
        &ImageConfig::default(),
        &host,
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    base_image.write_layout(&layout, "1").unwrap();
    let base_ref = format!("{}/docker-base:1", registry.host());
    run_tool(
        "skopeo",
        &[
            "copy",
            "--dest-tls-verify=false",
            "--format",
            "v2s2",
            &format!("oci:{}:1", layout.display()),
            &format!("docker://{base_ref}"),
        ],
    )
    .unwrap();

    let base = oci::pull(&base_ref, &host, &options(), work.path())
        .await
        .unwrap();
    let docker_layer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    assert_eq!(base.layers()[0].media_type, docker_layer);
    let image = Image::assemble(
        Some(&base),
        vec![layer(&[("/app", "x")])],
        &ImageConfig::default(),
        &host,
    )
    .unwrap();
    let app_ref = format!("{}/on-docker:1", registry.host());
    image.push(&app_ref, &options(), &NoProgress).await.unwrap();
    let manifest = skopeo_inspect(&["--raw"], &app_ref);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], docker_layer);
    assert_eq!(
        manifest["layers"][1]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
}

#[tokio::test]
async fn a_pull_follows_an_index_to_the_platforms_manifest() {
    let registry = Registry::start().unwrap();
    let amd64: Platform = "linux/amd64".parse().unwrap();
    let arm64: Platform = "linux/arm64/v8".parse().unwrap();
    let for_platform = |platform: &Platform| {
        let files = layer(&[("/arch", &platform.to_string())]);
        Image::assemble(None, vec![files], &ImageConfig::default(), platform).unwrap()
    };
    let (amd64_image, arm64_image) = (for_platform(&amd64), for_platform(&arm64));
    let reference = format!("{}/multi:1", registry.host());
    let index_digest = oci::push_index(&reference, &[&amd64_image, &arm64_image], &options())
        .await
        .unwrap();
    let raw = skopeo_inspect(&["--raw"], &reference);
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(raw["manifests"].as_array().unwrap().len(), 2);
    assert!(index_digest.starts_with("sha256:"));

    let cache = tempfile::tempdir().unwrap();
    let pulled = oci::pull(&reference, &arm64, &options(), cache.path())
        .await
        .unwrap();
    assert_eq!(pulled.digest(), arm64_image.digest());
    assert_eq!(pulled.config()["architecture"], "arm64");
    let bare_arm64: Platform = "linux/arm64".parse().unwrap();
    let pulled = oci::pull(&reference, &bare_arm64, &options(), cache.path())
        .await
        .unwrap();
    assert_eq!(pulled.digest(), arm64_image.digest());
    let pulled = oci::pull(&reference, &amd64, &options(), cache.path())
        .await
        .unwrap();
    assert_eq!(pulled.digest(), amd64_image.digest());

    let s390x: Platform = "linux/s390x".parse().unwrap();
    let err = oci::pull(&reference, &s390x, &options(), cache.path())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PlatformNotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("`{reference}` has no image for linux/s390x (it has: linux/amd64, linux/arm64/v8)")
    );

    // A base for one platform under an image for another is refused.
    let err = Image::assemble(Some(&pulled), vec![], &ImageConfig::default(), &arm64).unwrap_err();
    assert!(
        err.to_string()
            .contains("is for linux/amd64, not linux/arm64/v8"),
        "{err}"
    );
}

#[tokio::test]
async fn registry_failures_say_what_failed_and_for_which_image() {
    let registry = Registry::start().unwrap();
    let host = Platform::host();
    let cache = tempfile::tempdir().unwrap();

    let missing = format!("{}/missing:1", registry.host());
    let err = oci::pull(&missing, &host, &options(), cache.path())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("`{missing}` not found: the registry has no manifest")
    );

    let nowhere = format!("127.0.0.1:{}/x:1", http::free_port());
    let err = oci::pull(&nowhere, &host, &options(), cache.path())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("cannot connect to the registry `127.0.0.1:"),
        "{err}"
    );
    let image = Image::assemble(None, vec![], &ImageConfig::default(), &host).unwrap();
    let err = image
        .push(&nowhere, &options(), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");

    let err = oci::pull("127.0.0.1:5000/Bad:1", &host, &options(), cache.path())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidReference { .. }), "{err:?}");

    // A blob whose stored bytes no longer match its digest is refused, and not cached.
    let image = Image::assemble(
        None,
        vec![layer(&[("/data", "the real content")])],
        &ImageConfig::default(),
        &host,
    )
    .unwrap();
    let reference = format!("{}/tampered:1", registry.host());
    image
        .push(&reference, &options(), &NoProgress)
        .await
        .unwrap();
    let layer_digest = image.layers().next().unwrap().digest.clone();
    let stored = registry.blob_file(&layer_digest);
    let len = fs::metadata(&stored).unwrap().len() as usize;
    fs::write(&stored, vec![b'x'; len]).unwrap();
    let err = oci::pull(&reference, &host, &options(), cache.path())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "layer {layer_digest} of `{reference}` does not match its digest"
        )),
        "{message}"
    );
    let cached = cache.path().join("blobs/sha256").join(&layer_digest[7..]);
    assert!(!cached.exists(), "a blob that failed its digest was cached");
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}
