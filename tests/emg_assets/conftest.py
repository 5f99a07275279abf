"""Fixtures of the code-location tests: a fake ENA, a client pointed at it, a Dagster instance."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from emg_assets.ena.client import ENAClient
from emg_assets.partitions import add_study_partitions
from tests.fakes.ena.datasets import DATAHUB_PASSWORD, DATAHUB_USERNAME, seed_realistic
from tests.fakes.ena.server import FakeENA


@pytest.fixture
def fake_ena() -> Iterator[FakeENA]:
    """A fake ENA seeded with the realistic records (ENA.md), shuffled like the real one."""
    with FakeENA(shuffle_seed=7) as fake:
        seed_realistic(fake)
        yield fake


@pytest.fixture
def ena(fake_ena: FakeENA) -> ENAClient:
    """A client of the fake ENA with the data-hub account and short back-offs."""
    return ENAClient(
        portal_api_url=fake_ena.portal_api_url,
        datahub_username=DATAHUB_USERNAME,
        datahub_password=DATAHUB_PASSWORD,
        max_retries=3,
        backoff_base_seconds=0.01,
        backoff_cap_seconds=0.05,
        timeout_seconds=2,
        max_requests_per_second=50,
    )


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def partitions(instance: dg.DagsterInstance):  # noqa: ANN201 - a function
    """Add study partitions to the test instance."""

    def add(*accessions: str) -> list[str]:
        return add_study_partitions(instance, accessions)

    return add
