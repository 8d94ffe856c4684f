//! Cluster builds: a Function with a `source` and no `artifact.image` is built by a Job
//! that runs the builder image. No Job controller or kubelet runs here: the test plays
//! them and the builder, as an admin may: it makes the Job's pod, writes the builder's
//! report as the `build` container's termination message (`pods/status`), then marks the
//! Job finished (`jobs/status`).

use k8s_openapi::api::core::v1::Container;
use motif_api::build_key;

use super::*;

const REPOSITORY: &str = "https://git.example/fns.git";
const PUSH: &str = "127.0.0.1:5000/fns/square";
const BUILD: &str =
    "[build]\nimage = \"127.0.0.1:5000/fns/square\"\nregistrySecret = \"push-creds\"\n";
const COMMIT_1: &str = "1111111111111111111111111111111111111111";
const COMMIT_2: &str = "2222222222222222222222222222222222222222";
const COMMIT_3: &str = "3333333333333333333333333333333333333333";

fn digest(n: char) -> String {
    format!("{PUSH}@sha256:{}", n.to_string().repeat(64))
}

/// A JavaScript Function built from `square/` of [`REPOSITORY`] at `revision`; `build`
/// is its `[build]` table.
fn sourced(name: &str, revision: &str, build: &str) -> Function {
    function(&format!(
        "name = \"{name}\"\nlanguage = \"js\"\nhandler = \"square.js\"\n\
         [source]\nsubPath = \"square\"\n[source.git]\nurl = \"{REPOSITORY}\"\n\
         revision = \"{revision}\"\n{build}"
    ))
}

fn container(job: &Job) -> &Container {
    &job.spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
}

async fn jobs_of(jobs: &Api<Job>, function: &str) -> Vec<Job> {
    let selector = format!("{FUNCTION_LABEL}={function}");
    jobs.list(&ListParams::default().labels(&selector))
        .await
        .unwrap()
        .items
}

/// The build Job of `revision`, once the controller has made it.
async fn build_job(jobs: &Api<Job>, function: &str, revision: &str) -> Job {
    eventually(&format!("the build Job of {revision}"), || async {
        jobs_of(jobs, function).await.into_iter().find(|job| {
            let args = container(job).args.clone().unwrap_or_default();
            args.iter().any(|a| a == revision)
        })
    })
    .await
}

/// Plays the Job controller, the kubelet and the builder: the Job's pod with its `build`
/// container terminated, `report` as its termination message, then the Job succeeded
/// or failed.
async fn finish(client: &Client, ns: &str, job: &str, report: Value, succeeded: bool) {
    let message = report.to_string();
    motif_test_support::finish_job(client, ns, job, ("build", BUILDER), &message, succeeded).await;
}

/// The Function once its status is for its generation and `Ready` has `reason`.
async fn with_reason(functions: &Api<Function>, name: &str, reason: &str) -> Function {
    eventually(&format!("Ready with {reason}"), || async {
        let f = functions.get(name).await.unwrap();
        (ready_of(&f)?.1.as_deref() == Some(reason)).then_some(f)
    })
    .await
}

async fn image_of(services: &Api<KnativeService>, name: &str) -> Option<String> {
    let service = services.get_opt(name).await.unwrap()?;
    service.spec.template.spec.containers[0].image.clone()
}

#[tokio::test]
async fn a_sourced_function_is_built_by_a_job_and_served_by_the_digest_it_reports() {
    let Some(cluster) = cluster() else { return };
    let admin = cluster.client().await;
    install(&admin).await;
    let ns = cluster.namespace("build").await;
    let _controller = start_controller(cluster, &ns).await;
    let functions: Api<Function> = Api::namespaced(admin.clone(), &ns);
    let services: Api<KnativeService> = Api::namespaced(admin.clone(), &ns);
    let jobs: Api<Job> = Api::namespaced(admin.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(admin.clone(), &ns);
    let secret: Secret = serde_json::from_value(json!({
        "metadata": { "name": "push-creds" },
        "type": "kubernetes.io/basic-auth",
        "stringData": { "username": "pusher", "password": "s3cret" },
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();

    // A Job builds the source, valid for the apiserver, owned by the Function.
    let created = apply_function(&functions, &sourced("square", COMMIT_1, BUILD)).await;
    let key = build_key(&created.spec).unwrap();
    let job = build_job(&jobs, "square", COMMIT_1).await;
    let job_name = job.name_any();
    assert_eq!(job_name, format!("square-build-{}", &key[..10]));
    let owner = &job.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str(), owner.controller),
        (
            "Function",
            created.metadata.uid.as_deref().unwrap(),
            Some(true)
        )
    );
    assert_eq!(job.labels().get("motif.dev/build-key"), Some(&key));
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.backoff_limit, Some(0));
    let pod = spec.template.spec.as_ref().unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    assert_eq!(pod.automount_service_account_token, Some(false));
    let build = container(&job);
    assert_eq!(build.image.as_deref(), Some(BUILDER));
    assert_eq!(
        build.args.as_deref().unwrap(),
        [
            "function",
            "build",
            "square",
            "--git-repo",
            REPOSITORY,
            "--git-revision",
            COMMIT_1,
            "--sub-path",
            "square",
            "--language",
            "js",
            "--kind",
            "http",
            "--handler",
            "square.js",
            "--push",
            PUSH,
            "--report",
            "/dev/termination-log",
        ]
    );
    assert_eq!(
        build.termination_message_policy.as_deref(),
        Some("FallbackToLogsOnError")
    );
    let env = build.env.as_deref().unwrap();
    for (name, key) in [
        ("MOTIF_REGISTRY_USERNAME", "username"),
        ("MOTIF_REGISTRY_PASSWORD", "password"),
    ] {
        let var = env.iter().find(|e| e.name == name).unwrap();
        assert_eq!(var.value, None, "{name} is not in clear");
        let selector = var
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(
            (selector.name.as_str(), selector.key.as_str()),
            ("push-creds", key)
        );
    }
    let job_text = serde_json::to_string(&job).unwrap();
    assert!(!job_text.contains("s3cret") && !job_text.contains("pusher"));

    // Nothing is served until the build reports.
    let f = with_reason(&functions, "square", "Building").await;
    let (status, _, message) = ready_of(&f).unwrap();
    assert_eq!(status, "Unknown");
    let message = message.unwrap();
    assert!(
        message.contains(&job_name) && message.contains(COMMIT_1),
        "{message}"
    );
    assert!(services.get_opt("square").await.unwrap().is_none());

    // The builder reports the pushed digest: the Service runs it.
    let report = json!({ "image": digest('a'), "commit": COMMIT_1 });
    finish(&admin, &ns, &job_name, report, true).await;
    eventually("the Service on the digest", || async {
        (image_of(&services, "square").await? == digest('a')).then_some(())
    })
    .await;
    let f = functions.get("square").await.unwrap();
    let status = f.status.unwrap();
    assert_eq!(status.latest_image, Some(digest('a')));
    let record = status.build.clone().unwrap();
    assert_eq!(
        (
            record.job.as_str(),
            record.key.as_str(),
            record.commit.as_deref()
        ),
        (job_name.as_str(), key.as_str(), Some(COMMIT_1))
    );
    assert!(status.condition("BuildSucceeded").unwrap().is_true());
    set_service_ready(&services, "square", "True", "", "").await;
    eventually("Ready=True", || async {
        (ready_of(&functions.get("square").await.unwrap())?.0 == "True").then_some(())
    })
    .await;

    // A new revision: a new Job, while the Service keeps the first build's digest.
    apply_function(&functions, &sourced("square", COMMIT_2, BUILD)).await;
    let second = build_job(&jobs, "square", COMMIT_2).await;
    assert_ne!(second.name_any(), job_name);
    with_reason(&functions, "square", "Building").await;
    assert_eq!(image_of(&services, "square").await, Some(digest('a')));
    let report = json!({ "image": digest('b'), "commit": COMMIT_2 });
    finish(&admin, &ns, &second.name_any(), report, true).await;
    eventually("the Service on the new digest", || async {
        (image_of(&services, "square").await? == digest('b')).then_some(())
    })
    .await;
    eventually("the first Job deleted", || async {
        jobs.get_opt(&job_name)
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;

    // A build that fails leaves the last good digest serving, and says why.
    apply_function(&functions, &sourced("square", COMMIT_3, BUILD)).await;
    let third = build_job(&jobs, "square", COMMIT_3).await;
    let report = json!({ "error": "npm install failed: E404 left-pad not found" });
    finish(&admin, &ns, &third.name_any(), report, false).await;
    let f = with_reason(&functions, "square", "BuildFailed").await;
    let (status, _, message) = ready_of(&f).unwrap();
    assert_eq!(status, "False");
    assert!(message.unwrap().contains("E404 left-pad not found"));
    assert_eq!(f.status.unwrap().latest_image, Some(digest('b')));
    assert_eq!(image_of(&services, "square").await, Some(digest('b')));
}

#[tokio::test]
async fn a_failed_build_or_no_build_image_leaves_the_function_unserved_and_says_why() {
    let Some(cluster) = cluster() else { return };
    let admin = cluster.client().await;
    install(&admin).await;
    let ns = cluster.namespace("build-fail").await;
    let _controller = start_controller(cluster, &ns).await;
    let functions: Api<Function> = Api::namespaced(admin.clone(), &ns);
    let services: Api<KnativeService> = Api::namespaced(admin.clone(), &ns);
    let jobs: Api<Job> = Api::namespaced(admin.clone(), &ns);

    apply_function(&functions, &sourced("broken", COMMIT_1, BUILD)).await;
    let job = build_job(&jobs, "broken", COMMIT_1).await;
    let report = json!({ "error": "npm install failed: E404 left-pad not found" });
    finish(&admin, &ns, &job.name_any(), report, false).await;
    let f = with_reason(&functions, "broken", "BuildFailed").await;
    let (status, _, message) = ready_of(&f).unwrap();
    assert_eq!(status, "False");
    let message = message.unwrap();
    assert!(
        message.contains("npm install failed: E404 left-pad not found"),
        "{message}"
    );
    let built = f
        .status
        .as_ref()
        .unwrap()
        .condition("BuildSucceeded")
        .unwrap();
    assert_eq!(
        (built.status.as_str(), built.reason.as_deref()),
        ("False", Some("BuildFailed"))
    );
    assert!(services.get_opt("broken").await.unwrap().is_none());

    // Without `build.image` there is nowhere to push: no Job, and the status says so.
    apply_function(&functions, &sourced("nowhere", COMMIT_1, "")).await;
    let f = with_reason(&functions, "nowhere", "NoBuildImage").await;
    let (status, _, message) = ready_of(&f).unwrap();
    assert_eq!(status, "False");
    assert!(message.unwrap().contains("build.image"));
    assert!(jobs_of(&jobs, "nowhere").await.is_empty());
    assert!(services.get_opt("nowhere").await.unwrap().is_none());
}
