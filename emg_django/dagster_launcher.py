"""Launch Dagster runs for a study from Django (admin actions, admin API) through GraphQL.

The only module of ``emg_django`` that talks to Dagster; it speaks GraphQL over HTTP and imports
nothing of Dagster. A study is a partition of ``ena_studies``: the partition is added if missing
(validated by the caller), then the job is launched with the ``dagster/partition`` tag.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

import httpx

from emg_django.config import DagsterConfig, get_config

PARTITIONS_DEF_NAME = "ena_studies"
#: Definitions objects are served as a repository of this name.
REPOSITORY_NAME = "__repository__"
PARTITION_TAG = "dagster/partition"
TRIGGER_TAG = "emg/trigger"

ADD_PARTITION = """
mutation AddPartition(
  $repositorySelector: RepositorySelector!, $partitionsDefName: String!, $partitionKey: String!
) {
  addDynamicPartition(
    repositorySelector: $repositorySelector, partitionsDefName: $partitionsDefName,
    partitionKey: $partitionKey
  ) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { partitionName }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}
"""

LAUNCH_RUN = """
mutation Launch($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
    ... on PresetNotFoundError { message }
    ... on ConflictingExecutionParamsError { message }
    ... on NoModeProvidedError { message }
    ... on PythonError { message }
  }
}
"""


class LaunchProblem(enum.IntEnum):
    """What went wrong, as the HTTP status an API would answer."""

    BAD_REQUEST = 400
    NOT_FOUND = 404
    CONFLICT = 409
    UNAVAILABLE = 503


class LaunchError(RuntimeError):
    """A run could not be launched; :attr:`problem` says whose fault it is."""

    def __init__(self, message: str, problem: LaunchProblem) -> None:
        super().__init__(message)
        self.problem = problem


@dataclasses.dataclass(frozen=True)
class LaunchedRun:
    run_id: str
    job_name: str
    partition_key: str
    url: str


class DagsterLauncher:
    """Launches partitioned jobs on a Dagster webserver.

    :param config: where the webserver is and which code location holds the jobs.
    """

    def __init__(self, config: DagsterConfig | None = None) -> None:
        self.config = config or get_config().dagster

    @property
    def graphql_url(self) -> str:
        return self.config.webserver_url.rstrip("/") + "/graphql"

    def run_url(self, run_id: str) -> str:
        return (self.config.public_url or self.config.webserver_url).rstrip("/") + f"/runs/{run_id}"

    def launch(
        self,
        job_name: str,
        partition_key: str,
        *,
        run_config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> LaunchedRun:
        """Add the study partition if needed and launch ``job_name`` for it.

        :param partition_key: a validated study accession.
        :raises LaunchError: Dagster unreachable (UNAVAILABLE), no such job (NOT_FOUND), invalid
            run config (BAD_REQUEST) or any other refusal (CONFLICT), with Dagster's message.
        """
        selector = {
            "repositoryLocationName": self.config.location_name,
            "repositoryName": REPOSITORY_NAME,
        }
        added = self._execute(
            ADD_PARTITION,
            {
                "repositorySelector": selector,
                "partitionsDefName": PARTITIONS_DEF_NAME,
                "partitionKey": partition_key,
            },
        )["addDynamicPartition"]
        if added["__typename"] not in {
            "AddDynamicPartitionSuccess",
            "DuplicateDynamicPartitionError",
        }:
            raise LaunchError(
                f"Dagster refused partition {partition_key}: {added.get('message')}",
                LaunchProblem.CONFLICT,
            )
        all_tags = {PARTITION_TAG: partition_key, TRIGGER_TAG: "django", **(tags or {})}
        launched = self._execute(
            LAUNCH_RUN,
            {
                "executionParams": {
                    "selector": {**selector, "jobName": job_name},
                    "runConfigData": dict(run_config or {}),
                    "executionMetadata": {
                        "tags": [{"key": k, "value": v} for k, v in all_tags.items()]
                    },
                }
            },
        )["launchRun"]
        kind = launched["__typename"]
        if kind == "LaunchRunSuccess":
            run_id = launched["run"]["runId"]
            return LaunchedRun(
                run_id=run_id,
                job_name=job_name,
                partition_key=partition_key,
                url=self.run_url(run_id),
            )
        if kind == "PipelineNotFoundError":
            raise LaunchError(
                f"Dagster has no job {job_name!r} in {self.config.location_name}",
                LaunchProblem.NOT_FOUND,
            )
        if kind == "RunConfigValidationInvalid":
            messages = "; ".join(error["message"] for error in launched["errors"])
            raise LaunchError(
                f"invalid run config for {job_name}: {messages}", LaunchProblem.BAD_REQUEST
            )
        raise LaunchError(
            f"Dagster refused to launch {job_name}: {kind}: {launched.get('message')}",
            LaunchProblem.CONFLICT,
        )

    def _execute(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        try:
            response = httpx.post(
                self.graphql_url,
                json={"query": query, "variables": variables},
                timeout=self.config.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            raise LaunchError(
                f"Dagster is unreachable at {self.graphql_url}: {exc}", LaunchProblem.UNAVAILABLE
            ) from exc
        if not response.is_success:
            raise LaunchError(
                f"Dagster answered {response.status_code} at {self.graphql_url}: "
                f"{response.text[:200]}",
                LaunchProblem.UNAVAILABLE,
            )
        body = response.json()
        if body.get("errors"):
            messages = "; ".join(str(error.get("message")) for error in body["errors"])
            raise LaunchError(f"Dagster GraphQL error: {messages}", LaunchProblem.CONFLICT)
        return body["data"]
