//! `motif_build::oci` without a registry: layers as tar and gzip readers see them,
//! reproducible digests, and image layouts that skopeo and umoci read.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::Path;

use motif_build::oci::{Image, ImageConfig, Layer, LayerBuilder, Platform};
use motif_test_support::{require_tool, run_tool};

/// A layer entry as a tar reader sees it.
#[derive(Debug)]
struct Listed {
    path: String,
    kind: char,
    mode: u32,
    owner: (u64, u64),
    mtime: u64,
    names: (String, String),
}

/// Every entry of a layer, in order.
fn entries(layer: &Layer) -> Vec<Listed> {
    let gz = flate2::read::GzDecoder::new(layer.data.as_slice());
    let mut archive = tar::Archive::new(gz);
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let h = entry.header();
            let kind = match h.entry_type() {
                tar::EntryType::Directory => 'd',
                tar::EntryType::Symlink => 'l',
                tar::EntryType::Regular => '-',
                other => panic!("unexpected entry type {other:?}"),
            };
            let name = |bytes: Option<&[u8]>| {
                String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
            };
            Listed {
                path: entry.path().unwrap().display().to_string(),
                kind,
                mode: h.mode().unwrap(),
                owner: (h.uid().unwrap(), h.gid().unwrap()),
                mtime: h.mtime().unwrap(),
                names: (name(h.username_bytes()), name(h.groupname_bytes())),
            }
        })
        .collect()
}

/// One way to add an entry to a layer.
type Add = Box<dyn Fn(&mut LayerBuilder)>;

fn sample_layer(reversed: bool) -> Layer {
    let mut adds: Vec<Add> = vec![
        Box::new(|l| l.add_file("/app/bin/run", b"#!/bin/sh\necho hi\n".to_vec(), 0o755)),
        Box::new(|l| l.add_file("/app/data/config.json", b"{}".to_vec(), 0o644)),
        Box::new(|l| l.add_symlink("/usr/local/bin/run", "/app/bin/run")),
        Box::new(|l| l.add_dir("/var/cache", 0o700)),
    ];
    if reversed {
        adds.reverse();
    }
    let mut layer = LayerBuilder::new();
    for add in adds {
        add(&mut layer);
    }
    layer.finish().unwrap()
}

#[test]
fn the_same_entries_in_any_order_make_the_same_layer() {
    let a = sample_layer(false);
    let b = sample_layer(true);
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.diff_id, b.diff_id);
    assert_eq!(a.data, b.data);
    assert_eq!(a.size, a.data.len() as u64);
    assert_eq!(a.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
}

#[test]
fn layer_entries_are_sorted_with_parents_once_owned_by_root_at_time_zero() {
    let layer = sample_layer(false);
    let listed: Vec<_> = entries(&layer)
        .into_iter()
        .map(|e| {
            assert_eq!((e.owner, e.mtime), ((0, 0), 0), "{}", e.path);
            assert_eq!(e.names, (String::new(), String::new()), "{}", e.path);
            (e.path, e.kind, e.mode)
        })
        .collect();
    let expected = [
        ("app/", 'd', 0o755),
        ("app/bin/", 'd', 0o755),
        ("app/bin/run", '-', 0o755),
        ("app/data/", 'd', 0o755),
        ("app/data/config.json", '-', 0o644),
        ("usr/", 'd', 0o755),
        ("usr/local/", 'd', 0o755),
        ("usr/local/bin/", 'd', 0o755),
        ("usr/local/bin/run", 'l', 0o777),
        ("var/", 'd', 0o755),
        ("var/cache/", 'd', 0o700),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(p, k, m)| ((*p).to_owned(), *k, *m))
        .collect();
    assert_eq!(listed, expected);

    // The gzip header: no file name (FLG 0), mtime 0, "unknown" OS.
    assert_eq!(&layer.data[..4], &[0x1f, 0x8b, 8, 0]);
    assert_eq!(&layer.data[4..8], &[0, 0, 0, 0]);
    assert_eq!(layer.data[9], 255);

    // The digests are of the gzip and of the tar.
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(layer.data.as_slice())
        .read_to_end(&mut tar)
        .unwrap();
    assert_eq!(layer.diff_id, sha256(&tar));
    assert_eq!(layer.digest, sha256(&layer.data));
}

#[test]
fn source_date_epoch_sets_every_timestamp_and_must_be_seconds() {
    // An environment variable cannot be set safely in a multi-threaded test binary: run
    // the check below in a child process that has it.
    for value in ["1700000000", "yesterday"] {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "in_a_child_with_source_date_epoch", "--ignored"])
            .env("SOURCE_DATE_EPOCH", value)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "SOURCE_DATE_EPOCH={value}: {stdout}"
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}

#[test]
#[ignore = "run by source_date_epoch_sets_every_timestamp_and_must_be_seconds"]
fn in_a_child_with_source_date_epoch() {
    let mut layer = LayerBuilder::new();
    layer.add_file("/app/x", b"x".to_vec(), 0o644);
    match std::env::var("SOURCE_DATE_EPOCH").as_deref() {
        Ok("1700000000") => {
            let layer = layer.finish().unwrap();
            assert!(entries(&layer).iter().all(|e| e.mtime == 1_700_000_000));
            // The gzip header keeps mtime 0 whatever the epoch.
            assert_eq!(&layer.data[4..8], &[0, 0, 0, 0]);
            let image = Image::assemble(
                None,
                vec![layer],
                &ImageConfig::default(),
                &Platform::host(),
            )
            .unwrap();
            let config: serde_json::Value = serde_json::from_slice(image.config_json()).unwrap();
            assert_eq!(config["created"], "2023-11-14T22:13:20Z");
            assert_eq!(config["history"][0]["created"], "2023-11-14T22:13:20Z");
        }
        Ok(other) => {
            let expected = format!("invalid SOURCE_DATE_EPOCH `{other}`");
            let err = layer.finish().unwrap_err().to_string();
            assert!(err.starts_with(&expected), "{err}");
            let err = Image::assemble(None, vec![], &ImageConfig::default(), &Platform::host())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(&expected), "{err}");
        }
        Err(_) => panic!("run with SOURCE_DATE_EPOCH set"),
    }
}

#[test]
fn gnu_tar_lists_the_layer_as_written() {
    require_tool("tar", "tar").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layer.tar.gz");
    fs::write(&path, sample_layer(false).data).unwrap();
    let listing = run_tool("tar", &["--numeric-owner", "-tzvf", path.to_str().unwrap()]).unwrap();
    let run = listing
        .lines()
        .find(|l| l.ends_with("app/bin/run"))
        .unwrap_or_else(|| panic!("no app/bin/run in:\n{listing}"));
    assert!(run.starts_with("-rwxr-xr-x 0/0"), "{run}");
    assert!(run.contains("1970-01-01 00:00"), "{run}");
    assert!(
        listing.contains("usr/local/bin/run -> /app/bin/run"),
        "{listing}"
    );
}

#[test]
fn a_host_tree_keeps_symlinks_modes_and_only_what_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("src/nested")).unwrap();
    fs::create_dir_all(root.join("target/debug")).unwrap();
    fs::write(root.join("src/main.py"), "print('hi')\n").unwrap();
    fs::write(root.join("src/nested/tool.sh"), "#!/bin/sh\n").unwrap();
    fs::write(root.join("target/debug/big"), "x").unwrap();
    std::os::unix::fs::symlink("main.py", root.join("src/link.py")).unwrap();
    set_mode(&root.join("src/nested/tool.sh"), 0o750);

    let mut layer = LayerBuilder::new();
    layer
        .add_tree("/app", root, &|p: &Path| !p.starts_with("target"))
        .unwrap();
    let listed: BTreeMap<String, (char, u32)> = entries(&layer.finish().unwrap())
        .into_iter()
        .map(|e| (e.path, (e.kind, e.mode)))
        .collect();
    assert_eq!(listed["app/src/main.py"], ('-', 0o644));
    assert_eq!(listed["app/src/nested/tool.sh"], ('-', 0o755));
    assert_eq!(listed["app/src/link.py"], ('l', 0o777));
    assert!(!listed.keys().any(|p| p.contains("target")), "{listed:?}");
}

#[test]
fn bad_platforms_are_refused_with_what_was_wrong() {
    let err = "linux".parse::<Platform>().unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid platform `linux`: expected OS/ARCH or OS/ARCH/VARIANT, as `linux/amd64`"
    );
    let err = "linux/AMD64".parse::<Platform>().unwrap_err().to_string();
    assert!(err.contains("`AMD64` may hold only"), "{err}");
    let host = Platform::host();
    assert_eq!(host.os, "linux");
    assert_eq!(host.to_string().parse::<Platform>().unwrap(), host);
}

/// An image from host files, built from scratch each call.
fn app_image(dir: &Path) -> Image {
    let mut layer = LayerBuilder::new();
    layer.add_tree("/app", dir, &|_| true).unwrap();
    layer
        .add_file_from("/app/bin/cat", Path::new("/bin/cat"))
        .unwrap();
    let config = ImageConfig {
        entrypoint: vec!["/app/bin/cat".into()],
        cmd: vec!["/app/hello.txt".into()],
        env: vec!["GREETING=hello".into()],
        working_dir: Some("/app".into()),
        labels: [("org.example.kind".to_owned(), "test".to_owned())].into(),
        exposed_ports: vec!["8080/tcp".into()],
        user: Some("0:0".into()),
    };
    Image::assemble(
        None,
        vec![layer.finish().unwrap()],
        &config,
        &Platform::host(),
    )
    .unwrap()
}

fn app_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("hello.txt"), "hello from a layer\n").unwrap();
    dir
}

#[test]
fn the_same_input_gives_the_same_manifest_digest() {
    let dir = app_dir();
    let first = app_image(dir.path());
    let second = app_image(dir.path());
    assert_eq!(first.digest(), second.digest());
    assert_eq!(first.manifest_json(), second.manifest_json());
    assert!(first.digest().starts_with("sha256:"));
    assert_eq!(
        first.size(),
        first.layers().map(|l| l.size).sum::<u64>() + first.config_json().len() as u64
    );
    let config: serde_json::Value = serde_json::from_slice(first.config_json()).unwrap();
    assert_eq!(config["created"], "1970-01-01T00:00:00Z");
    assert_eq!(config["history"][0]["created"], "1970-01-01T00:00:00Z");

    // Any change shows in the digest.
    fs::write(dir.path().join("hello.txt"), "hello again\n").unwrap();
    assert_ne!(app_image(dir.path()).digest(), first.digest());
}

#[test]
fn a_layout_reads_back_with_skopeo_and_unpacks_with_umoci() {
    require_tool("skopeo", "skopeo").unwrap();
    require_tool("umoci", "umoci").unwrap();
    let app = app_dir();
    let image = app_image(app.path());
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("layout");
    image.write_layout(&layout, "v1").unwrap();
    // A second tag, then the first tag again: two entries, the first one replaced.
    image.write_layout(&layout, "v2").unwrap();
    image.write_layout(&layout, "v1").unwrap();
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let tags: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(tags, ["v2", "v1"]);

    let target = format!("oci:{}:v1", layout.display());
    let inspect: serde_json::Value =
        serde_json::from_str(&run_tool("skopeo", &["inspect", &target]).unwrap()).unwrap();
    assert_eq!(inspect["Digest"], image.digest());
    assert_eq!(inspect["Architecture"], Platform::host().architecture);
    assert_eq!(inspect["Os"], "linux");
    assert_eq!(inspect["Labels"]["org.example.kind"], "test");
    assert_eq!(inspect["Env"], serde_json::json!(["GREETING=hello"]));
    let config: serde_json::Value =
        serde_json::from_str(&run_tool("skopeo", &["inspect", "--config", &target]).unwrap())
            .unwrap();
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/app/bin/cat"])
    );
    assert_eq!(config["config"]["WorkingDir"], "/app");
    assert_eq!(
        config["config"]["ExposedPorts"],
        serde_json::json!({"8080/tcp": {}})
    );

    let bundle = out.path().join("bundle");
    let source = format!("{}:v1", layout.display());
    run_tool(
        "umoci",
        &["unpack", "--image", &source, bundle.to_str().unwrap()],
    )
    .unwrap();
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        fs::read_to_string(rootfs.join("app/hello.txt")).unwrap(),
        "hello from a layer\n"
    );
    assert_eq!(mode(&rootfs.join("app/bin/cat")), 0o755);
    let runtime: serde_json::Value =
        serde_json::from_slice(&fs::read(bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        runtime["process"]["args"],
        serde_json::json!(["/app/bin/cat", "/app/hello.txt"])
    );
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(data);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}
