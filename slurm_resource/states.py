"""Slurm job states and what they mean for the caller.

Every state ``sacct``/``squeue`` can print is mapped to one :class:`JobOutcome`: still running,
succeeded, or failed with a human-readable reason. ``sacct`` prints ``CANCELLED by 1234`` (the
uid that cancelled); that suffix is kept as the reason, the state itself is ``CANCELLED``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SlurmState(enum.StrEnum):
    """The job states of Slurm 22.05+ (``man squeue``, JOB STATE CODES), plus ``LOST``."""

    BOOT_FAIL = "BOOT_FAIL"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    COMPLETING = "COMPLETING"
    CONFIGURING = "CONFIGURING"
    DEADLINE = "DEADLINE"
    FAILED = "FAILED"
    NODE_FAIL = "NODE_FAIL"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    PENDING = "PENDING"
    PREEMPTED = "PREEMPTED"
    RESV_DEL_HOLD = "RESV_DEL_HOLD"
    REQUEUE_FED = "REQUEUE_FED"
    REQUEUE_HOLD = "REQUEUE_HOLD"
    REQUEUED = "REQUEUED"
    RESIZING = "RESIZING"
    REVOKED = "REVOKED"
    RUNNING = "RUNNING"
    SIGNALING = "SIGNALING"
    SPECIAL_EXIT = "SPECIAL_EXIT"
    STAGE_OUT = "STAGE_OUT"
    STOPPED = "STOPPED"
    SUSPENDED = "SUSPENDED"
    TIMEOUT = "TIMEOUT"
    #: Not a Slurm state: submitted, but neither sacct nor squeue has shown it yet.
    SUBMITTED = "SUBMITTED"
    #: Not a Slurm state: unknown to both sacct and squeue for longer than the grace period.
    LOST = "LOST"


class JobOutcome(enum.StrEnum):
    """What a state means to the waiting caller."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# States in which the job may still run (or run again: REQUEUED, PREEMPTED with requeue, holds).
_ACTIVE = {
    SlurmState.SUBMITTED,
    SlurmState.PENDING,
    SlurmState.CONFIGURING,
    SlurmState.RUNNING,
    SlurmState.COMPLETING,
    SlurmState.RESIZING,
    SlurmState.SIGNALING,
    SlurmState.STAGE_OUT,
    SlurmState.STOPPED,
    SlurmState.SUSPENDED,
    SlurmState.REQUEUED,
    SlurmState.REQUEUE_FED,
    SlurmState.REQUEUE_HOLD,
    SlurmState.RESV_DEL_HOLD,
}

_FAILURE_REASONS = {
    SlurmState.BOOT_FAIL: "the node failed to boot",
    SlurmState.CANCELLED: "cancelled",
    SlurmState.DEADLINE: "the job reached its deadline",
    SlurmState.FAILED: "the job exited with a non-zero exit code",
    SlurmState.NODE_FAIL: "the node running the job failed",
    SlurmState.OUT_OF_MEMORY: "out of memory",
    SlurmState.PREEMPTED: "preempted",
    SlurmState.REVOKED: "revoked (federation sibling job started elsewhere)",
    SlurmState.SPECIAL_EXIT: "special exit (held after a requeue with a special exit code)",
    SlurmState.TIMEOUT: "the job reached its time limit",
    SlurmState.LOST: "the job is unknown to both sacct and squeue",
}

#: Failures caused by the infrastructure, not by the job itself: worth a plain resubmission.
INFRASTRUCTURE_FAILURES = frozenset(
    {SlurmState.NODE_FAIL, SlurmState.BOOT_FAIL, SlurmState.PREEMPTED, SlurmState.LOST}
)


@dataclass(frozen=True)
class ParsedState:
    """A state string from Slurm, split into the state and its detail.

    :param state: the state.
    :param detail: what followed the state, e.g. ``by 1234`` in ``CANCELLED by 1234``.
    """

    state: SlurmState
    detail: str = ""

    @property
    def outcome(self) -> JobOutcome:
        return outcome_of(self.state)

    @property
    def reason(self) -> str:
        """Why the job failed (empty unless the outcome is :attr:`JobOutcome.FAILED`)."""
        if self.outcome is not JobOutcome.FAILED:
            return ""
        base = _FAILURE_REASONS.get(self.state, self.state.value.lower())
        return f"{base} ({self.detail})" if self.detail else base


def parse_state(text: str) -> ParsedState:
    """Parse a state as printed by ``sacct``/``squeue`` (``CANCELLED by 0``, ``CA``, ``TIMEOUT``).

    :param text: the state column.
    :raises ValueError: for a state this module does not know (so it is never silently taken
        for success).
    """
    text = text.strip()
    head, _, detail = text.partition(" ")
    head = head.rstrip("+")  # sacct marks truncated columns with a trailing '+'
    try:
        state = SlurmState(head.upper())
    except ValueError:
        try:
            state = _SHORT_CODES[head.upper()]
        except KeyError:
            raise ValueError(f"unknown Slurm job state {text!r}") from None
    return ParsedState(state, detail.strip())


def outcome_of(state: SlurmState) -> JobOutcome:
    """:returns: the outcome of a state (``COMPLETED`` is the only success)."""
    if state in _ACTIVE:
        return JobOutcome.RUNNING
    if state is SlurmState.COMPLETED:
        return JobOutcome.SUCCEEDED
    return JobOutcome.FAILED


_SHORT_CODES = {
    "BF": SlurmState.BOOT_FAIL,
    "CA": SlurmState.CANCELLED,
    "CD": SlurmState.COMPLETED,
    "CF": SlurmState.CONFIGURING,
    "CG": SlurmState.COMPLETING,
    "DL": SlurmState.DEADLINE,
    "F": SlurmState.FAILED,
    "NF": SlurmState.NODE_FAIL,
    "OOM": SlurmState.OUT_OF_MEMORY,
    "PD": SlurmState.PENDING,
    "PR": SlurmState.PREEMPTED,
    "R": SlurmState.RUNNING,
    "RD": SlurmState.RESV_DEL_HOLD,
    "RF": SlurmState.REQUEUE_FED,
    "RH": SlurmState.REQUEUE_HOLD,
    "RQ": SlurmState.REQUEUED,
    "RS": SlurmState.RESIZING,
    "RV": SlurmState.REVOKED,
    "SI": SlurmState.SIGNALING,
    "SE": SlurmState.SPECIAL_EXIT,
    "SO": SlurmState.STAGE_OUT,
    "ST": SlurmState.STOPPED,
    "S": SlurmState.SUSPENDED,
    "TO": SlurmState.TIMEOUT,
}
