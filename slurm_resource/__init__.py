"""A Dagster resource for Slurm, with no Django in it.

Public API: :class:`SlurmResource`, :class:`JobSpec`, :class:`SlurmJobHandle`,
:class:`SlurmJobResult`, :class:`SlurmJobFailed`, :class:`NextflowJob`, :func:`parse_trace`,
the state enums and the errors.
"""

from slurm_resource.errors import (
    SlurmAuthenticationError,
    SlurmCommandError,
    SlurmError,
    SlurmHostKeyError,
    SlurmTransportError,
)
from slurm_resource.job_spec import JobSpec
from slurm_resource.monitor import JobMonitor, JobStatus
from slurm_resource.nextflow import NextflowJob, NextflowResult, TraceTask, parse_trace
from slurm_resource.resource import (
    CancelPolicy,
    ResubmitPolicy,
    SlurmJobFailed,
    SlurmJobHandle,
    SlurmJobResult,
    SlurmResource,
    TransportKind,
    close_all,
)
from slurm_resource.states import JobOutcome, SlurmState, parse_state

__all__ = [
    "CancelPolicy",
    "JobMonitor",
    "JobOutcome",
    "JobSpec",
    "JobStatus",
    "NextflowJob",
    "NextflowResult",
    "ResubmitPolicy",
    "SlurmAuthenticationError",
    "SlurmCommandError",
    "SlurmError",
    "SlurmHostKeyError",
    "SlurmJobFailed",
    "SlurmJobHandle",
    "SlurmJobResult",
    "SlurmResource",
    "SlurmState",
    "SlurmTransportError",
    "TraceTask",
    "TransportKind",
    "close_all",
    "parse_state",
    "parse_trace",
]
