"""A separate process that waits on a Slurm job, for tests that kill or interrupt the waiter.

    python helper_process.py run '<resource kwargs json>' '<job spec json>'
    python helper_process.py materialize '<resource kwargs json>' '<job spec json>' DAGSTER_HOME

``run`` calls ``SlurmResource.run`` in plain Python; ``materialize`` runs a one-asset Dagster job
in-process on a persistent instance in DAGSTER_HOME, so the test can mark the run CANCELING
there and then signal this process -- what Dagster's run termination does.
"""

import json
import logging
import sys

import dagster as dg

from slurm_resource import JobSpec, SlurmResource


def main(argv: list[str]) -> int:
    mode, resource_json, spec_json = argv[:3]
    resource = SlurmResource(**json.loads(resource_json))
    spec = JobSpec.model_validate_json(spec_json)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    if mode == "run":
        result = resource.run(spec, log=logging.getLogger("helper"))
        print(f"RESULT {result.job_id} {result.state.value}", flush=True)
        return 0

    @dg.asset
    def slurm_asset(
        context: dg.AssetExecutionContext, slurm: SlurmResource
    ) -> dg.MaterializeResult:
        result = slurm.run(spec, context=context)
        return dg.MaterializeResult(metadata=result.to_metadata())

    instance = dg.DagsterInstance.local_temp(tempdir=argv[3])
    outcome = dg.materialize(
        [slurm_asset], resources={"slurm": resource}, instance=instance, raise_on_error=False
    )
    print(f"RUN {outcome.run_id} success={outcome.success}", flush=True)
    return 0 if outcome.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
