//! `motif function create --cluster`: from a git repository made here to a ready
//! Function the cluster built. The real `motif controller` (as its restricted service
//! account) makes the build Job; the test plays the builder, the Job controller and the
//! kubelet (the pod's termination message, the Job's status), then Knative.

use k8s_openapi::api::batch::v1::Job;

use super::*;

const PUSH: &str = "127.0.0.1:5000/fns/square";

/// The builder's arguments in a build Job.
fn builder_args(job: &Job) -> Vec<String> {
    let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    pod.containers[0].args.clone().unwrap_or_default()
}

/// Plays the builder: waits for the build Job of `function`, checks that it builds
/// `commit` of `repository`, and finishes it with `report` as the builder's.
async fn build(
    cluster: &Cluster,
    namespace: &str,
    function: &str,
    (repository, commit): (&str, &str),
    report: &Value,
) {
    let client = cluster.client().await;
    let jobs = Api::<Job>::namespaced(client.clone(), namespace);
    let selector = format!("motif.dev/function={function}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let job = loop {
        let listed = jobs
            .list(&ListParams::default().labels(&selector))
            .await
            .unwrap();
        if let Some(job) = listed.items.into_iter().next() {
            break job;
        }
        assert!(
            Instant::now() < deadline,
            "no build Job for {function} in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let args = builder_args(&job);
    let has = |flag: &str, value: &str| args.windows(2).any(|w| w[0] == flag && w[1] == value);
    assert!(has("--git-repo", repository), "{args:?}");
    assert!(has("--git-revision", commit), "{args:?}");
    assert!(has("--sub-path", "square"), "{args:?}");
    assert!(has("--handler", "square.js"), "{args:?}");
    assert!(has("--push", PUSH), "{args:?}");
    let name = job.metadata.name.clone().unwrap();
    let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let image = pod.containers[0].image.clone().unwrap();
    let message = report.to_string();
    motif_test_support::finish_job(
        &client,
        namespace,
        &name,
        ("build", &image),
        &message,
        report.get("image").is_some(),
    )
    .await;
}

#[tokio::test]
async fn function_create_on_a_cluster_is_built_by_a_job_and_serves_the_digest() {
    let Some((cluster, ns)) = namespace_with_motif("fn-create").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("fns");
    std::fs::create_dir_all(repo.join("square")).unwrap();
    std::fs::write(
        repo.join("square/square.js"),
        "exports.handle = (r) => `${Number(r.text()) ** 2}\\n`;\n",
    )
    .unwrap();
    common::git(&repo, &["init", "--quiet"]);
    common::git(&repo, &["add", "-A"]);
    common::git(&repo, &["commit", "--quiet", "-m", "square"]);
    let commit = common::git(&repo, &["rev-parse", "HEAD"]);
    let url = repo.to_str().unwrap();

    let controller = Controller::start(cluster, dir.path(), &ns);
    let create = |force: bool| {
        let mut args = vec![
            "function",
            "create",
            "square",
            "--cluster",
            "--namespace",
            &ns,
            "--git-repo",
            url,
            "--sub-path",
            "square",
            "--image",
            PUSH,
            "--registry-secret",
            "push-creds",
            "--timeout",
            "60s",
            "--tail",
        ];
        if force {
            args.push("--force");
        }
        tokio::process::Command::from(motif_at(&cluster.kubeconfig(), dir.path(), &args)).output()
    };
    let built = format!("{PUSH}@sha256:{}", "5".repeat(64));
    let report = json!({ "image": built, "commit": commit });
    let (out, (), ()) = tokio::join!(
        create(false),
        build(cluster, &ns, "square", (url, &commit), &report),
        play_knative(cluster, &ns, "square", ("True", None, None)),
    );
    let out = out.unwrap();
    ok(&out);
    let text = stdout(&out);
    assert!(text.contains("Function square is ready"), "{text}");
    assert!(text.contains(&format!("Image:    {built}")), "{text}");

    let function = &functions(cluster, &ns).await[0];
    let source = function.spec.source.as_ref().unwrap();
    assert_eq!(
        (
            source.git.url.as_str(),
            source.git.revision.as_deref(),
            source.sub_path.as_deref()
        ),
        (url, Some(commit.as_str()), Some("square"))
    );
    assert_eq!(function.spec.build.image.as_deref(), Some(PUSH));
    assert_eq!(
        function.spec.build.registry_secret.as_deref(),
        Some("push-creds")
    );
    assert_eq!(function.spec.artifact.image, None);
    let status = function.status.as_ref().unwrap();
    assert_eq!(status.latest_image.as_deref(), Some(built.as_str()));
    let services = Api::<KnativeService>::namespaced(cluster.client().await, &ns);
    let service = services.get("square").await.unwrap();
    let image = &service.spec.template.spec.containers[0].image;
    assert_eq!(image.as_deref(), Some(built.as_str()));

    let described = motif_on(
        cluster,
        dir.path(),
        &["function", "status", "square", "--cluster", "-n", &ns],
    );
    ok(&described);
    let text = stdout(&described);
    assert!(
        text.contains(&format!("Source:        {url} (square) at {commit}")),
        "{text}"
    );
    assert!(text.contains(&format!("Latest image:  {built}")), "{text}");
    assert!(text.contains("BuildSucceeded  True"), "{text}");

    // It exists: again needs --force. A build that fails says why, and exits 6.
    let again = create(false).await.unwrap();
    exits(&again, 7);
    std::fs::write(repo.join("square/square.js"), "syntax error(\n").unwrap();
    common::git(&repo, &["commit", "--quiet", "-am", "broken"]);
    let broken = common::git(&repo, &["rev-parse", "HEAD"]);
    let failure = json!({ "error": "building square (js): square.js: SyntaxError" });
    let failing = async {
        // The first Job is done; wait for the one of the new commit.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let client = cluster.client().await;
        let jobs = Api::<Job>::namespaced(client, &ns);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let listed = jobs.list(&ListParams::default()).await.unwrap();
            let new = listed
                .items
                .iter()
                .find(|j| builder_args(j).contains(&broken));
            if let Some(job) = new {
                let name = job.metadata.name.clone().unwrap();
                let message = failure.to_string();
                let admin = cluster.client().await;
                motif_test_support::finish_job(
                    &admin,
                    &ns,
                    &name,
                    ("build", "motif-builder"),
                    &message,
                    false,
                )
                .await;
                return;
            }
            assert!(Instant::now() < deadline, "no Job for the broken commit");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (out, ()) = tokio::join!(create(true), failing);
    let out = out.unwrap();
    controller.stop().await;
    exits(&out, 6);
    let text = stderr(&out);
    assert!(
        text.contains("BuildFailed") && text.contains("SyntaxError"),
        "{text}"
    );
    // The last good image keeps serving.
    let service = services.get("square").await.unwrap();
    let image = &service.spec.template.spec.containers[0].image;
    assert_eq!(image.as_deref(), Some(built.as_str()));
}
