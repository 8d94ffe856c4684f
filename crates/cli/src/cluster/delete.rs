//! `motif delete --cluster`: a Function off the cluster.

use kube::api::DeleteParams;
use serde::Serialize;

use crate::cluster::{Target, TargetArgs};
use crate::error::CliError;
use crate::output::Format;

/// Delete a Function from the cluster.
///
/// Its Knative Service and Triggers are not deleted one by one: the cluster's garbage
/// collector deletes them, since the controller made them with owner references to the
/// Function. With `-o json` or `-o yaml`: `{kind, name, namespace}` of what was deleted.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// The Function's name.
    name: String,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    state: crate::local::StateArgs,
}

#[derive(Debug, Serialize)]
struct Deleted {
    kind: &'static str,
    name: String,
    namespace: String,
}

/// Runs `motif delete`.
pub async fn delete(args: DeleteArgs, format: Format) -> Result<(), CliError> {
    if !args.target.cluster {
        return crate::local::view::delete(&args.name, &args.state, format).await;
    }
    let target = Target::connect(&args.target).await?;
    let name = args.name;
    // In the background, as kubectl does: the Function goes now, its children after it.
    target
        .functions()
        .delete(&name, &DeleteParams::background())
        .await
        .map_err(|e| target.fail_function(e, &name, "deleting"))?;
    let deleted = Deleted {
        kind: "Function",
        name,
        namespace: target.namespace,
    };
    format.print(&deleted, |out| {
        let _ = writeln!(
            out,
            "Function {} deleted from namespace {}; its Knative Service and Triggers are \
             garbage-collected through their owner references",
            deleted.name, deleted.namespace
        );
    });
    Ok(())
}
