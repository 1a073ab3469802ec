//! Our nodes through the codec: a lowered plan encodes, decodes to the same plan (same
//! bytes again, same result as local), and a plan holding a closure or an unregistered
//! function fails at encoding with an error naming the node.

use super::common;

use arrow::datatypes::{DataType, Field};
use common::{assert_identical, dataset, ensemble};
use datafusion::prelude::SessionContext;
use datafusion_proto::physical_plan::AsExecutionPlan;
use datafusion_proto::protobuf::PhysicalPlanNode;
use lsstseries::analysis::closure_function;
use lsstseries::analysis::structure_function::SfOptions;
use lsstseries::plan::MapFunction;
use lsstseries::{col, lit, Role};
use lsstseries_ballista::{lower_frame, Error, LsstCodec};
use std::sync::Arc;

fn encode(plan: Arc<dyn datafusion::physical_plan::ExecutionPlan>, codec: &LsstCodec) -> Vec<u8> {
    let mut buf = Vec::new();
    PhysicalPlanNode::try_from_physical_plan(plan, codec)
        .unwrap()
        .try_encode(&mut buf)
        .unwrap();
    buf
}

#[test]
fn a_lowered_plan_round_trips_through_the_codec() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 30, true);
    let ens = ensemble(dir.path());
    let frame = ens
        .source()
        .unwrap()
        .query("flux > -1e300 and band in ('g', 'r', 'i')")
        .unwrap()
        .assign(&[
            ("snr", col("flux") / col("flux_err")),
            ("x", lit(-0.1) * col("mjd") + 3.25),
        ])
        .unwrap()
        .batch_named("features")
        .unwrap();
    let local = frame.compute().unwrap();
    let lowered = lower_frame(&frame).unwrap();
    let codec = LsstCodec::builtins();
    let bytes = encode(lowered.plan.clone(), &codec);
    let ctx = SessionContext::new();
    let decoded = PhysicalPlanNode::try_decode(&bytes)
        .unwrap()
        .try_into_physical_plan(&ctx.task_ctx(), &codec)
        .unwrap();
    assert_eq!(
        encode(decoded.clone(), &codec),
        bytes,
        "re-encoding differs"
    );
    let rt = common::runtime(2);
    let batches = rt
        .block_on(datafusion::physical_plan::collect(decoded, ctx.task_ctx()))
        .unwrap();
    assert_identical("decoded plan", &local, &lowered.finish(&batches).unwrap());
}

fn local_only(err: Error) -> (String, String) {
    match err {
        Error::LocalOnly { node, reason } => (node, reason),
        other => panic!("expected LocalOnly, got {other}"),
    }
}

#[test]
fn closures_and_unregistered_functions_fail_at_encoding_naming_the_node() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 5, false);
    let ens = ensemble(dir.path());
    let codec = LsstCodec::builtins();
    let src = ens.source().unwrap();

    let mapped = src
        .map(MapFunction::new("double_flux_in_place", vec![], |b| {
            Ok(b.clone())
        }))
        .unwrap();
    let err = codec
        .check_shippable(lower_frame(&mapped).unwrap().plan.as_ref())
        .unwrap_err();
    let (node, reason) = local_only(err);
    assert!(node.contains("double_flux_in_place"), "{node}");
    assert!(reason.contains("closure"), "{reason}");

    let mean = closure_function(
        "my_mean_flux",
        &[Role::Flux],
        vec![Field::new("mean", DataType::Float64, true)],
        |lc, out| out.push(lc.flux.iter().sum::<f64>() / lc.flux.len() as f64),
    );
    let err = codec
        .check_shippable(
            lower_frame(&src.batch(mean).unwrap())
                .unwrap()
                .plan
                .as_ref(),
        )
        .unwrap_err();
    let (node, reason) = local_only(err);
    assert_eq!(node, "my_mean_flux");
    assert!(reason.contains("not in the function registry"), "{reason}");

    // Same name as a registered function, other parameters, nothing to build it from them:
    // refused, not silently computed with the registered defaults.
    use lsstseries::analysis::{BandScope, Feature, FeatureSet};
    let few = FeatureSet::new(vec![Feature::Amplitude], BandScope::PerBand).unwrap();
    let err = codec
        .check_shippable(
            lower_frame(&src.batch(Arc::new(few)).unwrap())
                .unwrap()
                .plan
                .as_ref(),
        )
        .unwrap_err();
    let (node, reason) = local_only(err);
    assert_eq!(node, "features");
    assert!(
        reason.contains("nothing builds it from parameters"),
        "{reason}"
    );

    // sf2 with other options ships: its parameters (the options as JSON) travel, and the
    // receiving registry builds the same function from them.
    let wide = SfOptions {
        bin_count_target: 7,
        ..SfOptions::default()
    };
    codec
        .check_shippable(
            lower_frame(&src.structure_function(&wide).unwrap())
                .unwrap()
                .plan
                .as_ref(),
        )
        .unwrap();
}
