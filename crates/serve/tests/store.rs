//! The store on real database files: revisions, routes, tags, persistence, concurrency.

use std::collections::BTreeMap;
use std::path::PathBuf;

use motif_api::{FunctionSpec, Language, TrafficTarget};
use motif_serve::store::{Store, StoreError};

/// A fresh file path for one test, under the target's temporary folder.
fn fresh(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("store");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{test}.redb"));
    let _ = std::fs::remove_file(&path);
    path
}

fn open(test: &str) -> Store {
    Store::open(fresh(test)).unwrap()
}

fn spec() -> FunctionSpec {
    FunctionSpec::default()
}

fn spec_with_env(key: &str, value: &str) -> FunctionSpec {
    let mut spec = spec();
    spec.env.insert(key.into(), value.into());
    spec
}

fn target(revision: Option<&str>, percent: u32, tag: Option<&str>) -> TrafficTarget {
    TrafficTarget {
        revision: revision.map(Into::into),
        percent,
        tag: tag.map(Into::into),
    }
}

fn invalid_field(error: StoreError) -> String {
    match error {
        StoreError::Invalid { field, .. } => field,
        other => panic!("expected an invalid value, got {other:?}"),
    }
}

#[test]
fn deploys_number_revisions_from_00001() {
    let store = open("numbering");
    for (i, artifact) in ["sha256:a", "sha256:b", "sha256:c"].iter().enumerate() {
        let deployed = store.deploy("hello", &spec(), artifact).unwrap();
        assert_eq!(deployed.revision, format!("hello-{:05}", i + 1));
        assert!(deployed.created);
    }
    let revisions = store.revisions("hello").unwrap();
    let numbers: Vec<u32> = revisions.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    let second = store.revision("hello-00002").unwrap();
    assert_eq!(second.artifact, "sha256:b");
    assert_eq!(second.function, "hello");
    assert!(second.digest.starts_with("sha256:"));
    assert!(second.created_millis > 0);
}

#[test]
fn an_unchanged_deploy_makes_no_revision() {
    let store = open("unchanged");
    let first = store.deploy("hello", &spec(), "sha256:a").unwrap();
    let again = store.deploy("hello", &spec(), "sha256:a").unwrap();
    assert_eq!(again.revision, first.revision);
    assert!(!again.created);
    assert_eq!(store.revisions("hello").unwrap().len(), 1);
}

#[test]
fn a_changed_spec_or_artifact_makes_a_revision() {
    let store = open("changed");
    store.deploy("hello", &spec(), "sha256:a").unwrap();
    let env = store
        .deploy("hello", &spec_with_env("A", "1"), "sha256:a")
        .unwrap();
    assert_eq!((env.revision.as_str(), env.created), ("hello-00002", true));
    let artifact = store
        .deploy("hello", &spec_with_env("A", "1"), "sha256:b")
        .unwrap();
    assert_eq!(
        (artifact.revision.as_str(), artifact.created),
        ("hello-00003", true)
    );
    let mut wasm = spec_with_env("A", "1");
    wasm.language = Language::RustWasm;
    assert!(store.deploy("hello", &wasm, "sha256:b").unwrap().created);
    // Back to an earlier spec is still a change from the latest.
    assert!(store.deploy("hello", &spec(), "sha256:a").unwrap().created);
    let record = store.get("hello").unwrap().unwrap();
    assert_eq!(record.latest.name, "hello-00005");
    assert_eq!(record.latest.spec, spec());
    assert_eq!(record.revisions.len(), 5);
}

#[test]
fn changing_only_the_traffic_makes_no_revision() {
    let store = open("traffic-only");
    store.deploy("hello", &spec(), "sha256:a").unwrap();
    store
        .deploy("hello", &spec_with_env("A", "1"), "sha256:a")
        .unwrap();
    let mut split = spec_with_env("A", "1");
    split.traffic = vec![
        target(Some("hello-00001"), 30, None),
        target(None, 70, None),
    ];
    let deployed = store.deploy("hello", &split, "sha256:a").unwrap();
    assert_eq!(
        (deployed.revision.as_str(), deployed.created),
        ("hello-00002", false)
    );
    assert_eq!(store.resolve("hello").unwrap().targets, split.traffic);
    assert!(
        store
            .revision("hello-00002")
            .unwrap()
            .spec
            .traffic
            .is_empty()
    );
}

#[test]
fn everything_survives_closing_and_reopening_the_file() {
    let path = fresh("reopen");
    {
        let store = Store::open(&path).unwrap();
        store.deploy("hello", &spec(), "sha256:a").unwrap();
        store.deploy("hello", &spec(), "sha256:b").unwrap();
        store
            .set_traffic(
                "hello",
                vec![
                    target(Some("hello-00001"), 50, Some("old")),
                    target(None, 50, None),
                ],
            )
            .unwrap();
        store.deploy("other", &spec(), "sha256:x").unwrap();
    }
    let store = Store::open(&path).unwrap();
    let names: Vec<String> = store.list().unwrap().into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["hello", "other"]);
    let route = store.resolve("hello").unwrap();
    assert_eq!(route.latest, "hello-00002");
    assert_eq!(route.tagged("old"), Some("hello-00001"));
    assert!(!store.deploy("hello", &spec(), "sha256:b").unwrap().created);
    let next = store.deploy("hello", &spec(), "sha256:c").unwrap();
    assert_eq!(next.revision, "hello-00003");
    assert_eq!(store.resolve("hello").unwrap().pick(99), "hello-00003");
}

#[test]
fn the_file_is_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let path = fresh("mode");
    drop(Store::open(&path).unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_first_deploy_routes_everything_to_the_latest() {
    let store = open("default-route");
    store.deploy("hello", &spec(), "sha256:a").unwrap();
    let route = store.resolve("hello").unwrap();
    assert_eq!(route.targets, [target(None, 100, None)]);
    store.deploy("hello", &spec(), "sha256:b").unwrap();
    let route = store.resolve("hello").unwrap();
    assert!((0..100).all(|x| route.pick(x) == "hello-00002"));
}

#[test]
fn traffic_is_validated_before_it_is_written() {
    let store = open("traffic-validation");
    store.deploy("hello", &spec(), "sha256:a").unwrap();
    store.deploy("hello", &spec(), "sha256:b").unwrap();
    store.deploy("other", &spec(), "sha256:a").unwrap();

    let short = vec![
        target(Some("hello-00001"), 40, None),
        target(None, 50, None),
    ];
    let error = store.set_traffic("hello", short).unwrap_err();
    assert!(error.to_string().contains("sum to 90"), "{error}");
    assert_eq!(invalid_field(error), "traffic");

    let unknown = vec![
        target(Some("hello-00009"), 50, None),
        target(None, 50, None),
    ];
    let error = store.set_traffic("hello", unknown).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`hello-00009` is not a revision of `hello`"),
        "{error}"
    );
    assert_eq!(invalid_field(error), "traffic[0].revision");

    let elsewhere = vec![
        target(Some("other-00001"), 50, None),
        target(None, 50, None),
    ];
    let error = store.set_traffic("hello", elsewhere).unwrap_err();
    assert_eq!(invalid_field(error), "traffic[0].revision");

    let twice = vec![
        target(Some("hello-00001"), 50, Some("same")),
        target(None, 50, Some("same")),
    ];
    assert_eq!(
        invalid_field(store.set_traffic("hello", twice).unwrap_err()),
        "traffic[1].tag"
    );

    let bad_tag = vec![target(None, 100, Some("Not_A_Label"))];
    assert_eq!(
        invalid_field(store.set_traffic("hello", bad_tag).unwrap_err()),
        "traffic[0].tag"
    );

    let too_much = vec![target(None, 101, None)];
    assert_eq!(
        invalid_field(store.set_traffic("hello", too_much).unwrap_err()),
        "traffic[0].percent"
    );

    // Nothing of the refused routes was written.
    assert_eq!(
        store.resolve("hello").unwrap().targets,
        [target(None, 100, None)]
    );
    assert!(matches!(
        store.set_traffic("missing", vec![target(None, 100, None)]),
        Err(StoreError::NotFound {
            kind: "function",
            ..
        })
    ));
}

#[test]
fn a_good_split_is_accepted_and_picked_exactly_by_percentage() {
    let store = open("split");
    for artifact in ["sha256:a", "sha256:b", "sha256:c"] {
        store.deploy("hello", &spec(), artifact).unwrap();
    }
    let targets = vec![
        target(Some("hello-00001"), 20, None),
        target(Some("hello-00002"), 30, Some("previous")),
        target(None, 50, None),
    ];
    let route = store.set_traffic("hello", targets.clone()).unwrap();
    assert_eq!(store.resolve("hello").unwrap(), route);
    assert_eq!(route.targets, targets);
    let mut counts = BTreeMap::new();
    for x in 0..100 {
        *counts.entry(route.pick(x).to_owned()).or_insert(0) += 1;
    }
    let expected = BTreeMap::from([
        ("hello-00001".to_owned(), 20),
        ("hello-00002".to_owned(), 30),
        ("hello-00003".to_owned(), 50),
    ]);
    assert_eq!(counts, expected);
}

#[test]
fn a_deploy_with_invalid_traffic_writes_nothing() {
    let store = open("deploy-invalid-traffic");
    let mut bad = spec();
    bad.traffic = vec![target(None, 90, None)];
    assert_eq!(
        invalid_field(store.deploy("hello", &bad, "sha256:a").unwrap_err()),
        "traffic"
    );
    assert!(store.get("hello").unwrap().is_none());
    // The spec's traffic may name the revision the deploy makes.
    let mut good = spec();
    good.traffic = vec![target(Some("hello-00001"), 100, Some("first"))];
    store.deploy("hello", &good, "sha256:a").unwrap();
    assert_eq!(
        store.resolve("hello").unwrap().tagged("first"),
        Some("hello-00001")
    );
}

#[test]
fn tags_route_to_one_revision_and_move() {
    let store = open("tags");
    store.deploy("hello", &spec(), "sha256:a").unwrap();
    store.deploy("hello", &spec(), "sha256:b").unwrap();
    let route = store.tag("hello", "canary", "hello-00001").unwrap();
    assert_eq!(route.tagged("canary"), Some("hello-00001"));
    assert!(
        (0..100).all(|x| route.pick(x) == "hello-00002"),
        "a tag takes no traffic"
    );

    let route = store.tag("hello", "canary", "hello-00002").unwrap();
    assert_eq!(route.tagged("canary"), Some("hello-00002"));
    assert_eq!(
        route.targets.len(),
        2,
        "the moved tag's 0% target is gone: {route:?}"
    );

    // A tag on a target with traffic leaves the traffic where it is when it moves.
    store
        .set_traffic(
            "hello",
            vec![
                target(Some("hello-00001"), 40, Some("blue")),
                target(None, 60, None),
            ],
        )
        .unwrap();
    let route = store.tag("hello", "blue", "hello-00002").unwrap();
    assert_eq!(route.tagged("blue"), Some("hello-00002"));
    assert_eq!(route.pick(0), "hello-00001");
    assert_eq!(route.targets.iter().map(|t| t.percent).sum::<u32>(), 100);

    assert!(matches!(
        store.tag("hello", "x", "hello-00007"),
        Err(StoreError::NotFound {
            kind: "revision",
            ..
        })
    ));
    store.deploy("other", &spec(), "sha256:a").unwrap();
    assert_eq!(
        invalid_field(store.tag("hello", "x", "other-00001").unwrap_err()),
        "revision"
    );
    assert_eq!(
        invalid_field(store.tag("hello", "", "hello-00001").unwrap_err()),
        "tag"
    );
    assert_eq!(
        invalid_field(store.tag("hello", "Bad Tag", "hello-00001").unwrap_err()),
        "tag"
    );
}

#[test]
fn delete_removes_the_function_its_revisions_and_its_route() {
    let store = open("delete");
    store.deploy("hello", &spec(), "sha256:a").unwrap();
    store.deploy("hello", &spec(), "sha256:b").unwrap();
    store.deploy("hello-2", &spec(), "sha256:a").unwrap();
    store.delete("hello").unwrap();
    assert!(store.get("hello").unwrap().is_none());
    assert!(matches!(
        store.resolve("hello"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.revisions("hello"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.revision("hello-00001"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.delete("hello"),
        Err(StoreError::NotFound { .. })
    ));
    // A function whose name starts the same is untouched.
    assert_eq!(store.revisions("hello-2").unwrap().len(), 1);
    // A new function of the same name starts over.
    assert_eq!(
        store.deploy("hello", &spec(), "sha256:b").unwrap().revision,
        "hello-00001"
    );
}

#[test]
fn two_functions_are_independent() {
    let store = open("independent");
    store.deploy("a", &spec(), "sha256:1").unwrap();
    store.deploy("a", &spec(), "sha256:2").unwrap();
    assert_eq!(
        store.deploy("b", &spec(), "sha256:1").unwrap().revision,
        "b-00001"
    );
    store
        .set_traffic("b", vec![target(Some("b-00001"), 100, None)])
        .unwrap();
    store.deploy("b", &spec(), "sha256:3").unwrap();
    assert_eq!(store.resolve("a").unwrap().pick(0), "a-00002");
    assert_eq!(
        store.resolve("b").unwrap().pick(0),
        "b-00001",
        "a pinned route stays pinned"
    );
    assert_eq!(store.revisions("a").unwrap().len(), 2);
    assert_eq!(store.list().unwrap().len(), 2);
}

#[test]
fn concurrent_deploys_get_distinct_consecutive_numbers() {
    const THREADS: usize = 4;
    const EACH: usize = 10;
    let store = open("concurrent");
    let mut made: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let store = &store;
                scope.spawn(move || {
                    (0..EACH)
                        .map(|i| {
                            let artifact = format!("sha256:{t}-{i}");
                            store.deploy("busy", &spec(), &artifact).unwrap().revision
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    made.sort();
    let expected: Vec<String> = (1..=THREADS * EACH)
        .map(|n| format!("busy-{n:05}"))
        .collect();
    assert_eq!(made, expected);
    assert_eq!(store.revisions("busy").unwrap().len(), THREADS * EACH);
}

#[test]
fn bad_names_and_artifacts_are_refused() {
    let store = open("bad-input");
    assert_eq!(
        invalid_field(store.deploy("Bad_Name", &spec(), "sha256:a").unwrap_err()),
        "name"
    );
    assert_eq!(
        invalid_field(store.deploy("", &spec(), "sha256:a").unwrap_err()),
        "name"
    );
    assert_eq!(
        invalid_field(store.deploy("ok", &spec(), " ").unwrap_err()),
        "artifact"
    );
    for name in ["nothing", "x-1", "x-00000", "-00001", "x-0001", "x-abcde"] {
        assert!(
            matches!(store.revision(name), Err(StoreError::NotFound { .. })),
            "{name}"
        );
    }
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn a_foreign_file_is_not_a_store() {
    let path = fresh("foreign");
    std::fs::write(
        &path,
        b"this is not a database, just some text that is long enough".repeat(100),
    )
    .unwrap();
    let error = Store::open(&path).err().expect("a text file is no store");
    assert!(
        matches!(
            error,
            StoreError::NotAStore { .. } | StoreError::Database { .. }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("foreign.redb"), "{error}");

    let other = fresh("other-program");
    {
        let db = redb::Database::create(&other).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<u64, u64>::new("accounts"))
            .unwrap();
        txn.commit().unwrap();
    }
    let error = Store::open(&other)
        .err()
        .expect("another program's database is no store");
    assert!(error.to_string().contains("`accounts`"), "{error}");
}

#[test]
fn a_second_open_of_one_file_is_refused() {
    let path = fresh("in-use");
    let _store = Store::open(&path).unwrap();
    assert!(matches!(Store::open(&path), Err(StoreError::InUse { .. })));
}

#[test]
fn a_missing_folder_is_an_open_error() {
    let path = fresh("missing")
        .with_file_name("no-such-folder")
        .join("store.redb");
    assert!(matches!(Store::open(&path), Err(StoreError::Open { .. })));
}

#[test]
fn a_damaged_record_is_an_error_naming_it() {
    let path = fresh("damaged-record");
    {
        let store = Store::open(&path).unwrap();
        store.deploy("hello", &spec(), "sha256:a").unwrap();
    }
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let definition = redb::TableDefinition::<&str, &str>::new("functions");
            let mut functions = txn.open_table(definition).unwrap();
            functions.insert("hello", "{not json").unwrap();
        }
        txn.commit().unwrap();
    }
    let store = Store::open(&path).unwrap();
    let error = store.get("hello").unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("`hello`"), "{error}");
    assert!(store.list().is_err());
}

#[test]
fn a_file_damaged_on_disk_gives_an_error_not_a_panic() {
    let path = fresh("damaged-file");
    {
        let store = Store::open(&path).unwrap();
        for artifact in ["sha256:a", "sha256:b", "sha256:c"] {
            store.deploy("hello", &spec(), artifact).unwrap();
        }
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    // Past the header: the pages of the tables.
    for byte in &mut bytes[len / 4..] {
        *byte ^= 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();
    // The pages' checksums catch it when the store opens.
    let error = Store::open(&path).err().expect("a damaged file is refused");
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error:?}");
    assert!(error.to_string().contains("damaged"), "{error}");
}
