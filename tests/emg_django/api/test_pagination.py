"""Page and page size: defaults, caps, last page and out-of-range pages."""

from __future__ import annotations

import pytest

from emg_django.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from tests.emg_django.api.conftest import url
from tests.factories import make_biome, make_study

pytestmark = pytest.mark.django_db

STUDIES = 30


@pytest.fixture
def studies(db: None) -> list[str]:
    biome = make_biome()
    return [make_study(f"PRJEB{5000 + i}", biome=biome).accession for i in range(STUDIES)]


def test_defaults(client, studies: list[str]) -> None:
    assert DEFAULT_PAGE_SIZE == 25 and MAX_PAGE_SIZE == 250
    body = client.get(url("studies/")).json()
    assert body["count"] == STUDIES
    assert [item["accession"] for item in body["items"]] == studies[::-1][:DEFAULT_PAGE_SIZE]


def test_pages_cover_the_list_without_overlap(client, studies: list[str]) -> None:
    seen = []
    for page in (1, 2, 3, 4):
        body = client.get(
            url("studies/"), {"page": page, "page_size": 8, "order": "accession"}
        ).json()
        assert body["count"] == STUDIES
        seen += [item["accession"] for item in body["items"]]
    assert seen == studies
    last = client.get(url("studies/"), {"page": 4, "page_size": 8}).json()
    assert len(last["items"]) == STUDIES - 3 * 8


def test_page_past_the_end_is_404(client, studies: list[str]) -> None:
    response = client.get(url("studies/"), {"page": 5, "page_size": 8})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page: 5 (the last page is 4)"}
    huge = client.get(url("studies/"), {"page": 10**30})
    assert huge.status_code in (404, 422)


def test_empty_list_has_one_empty_page(client, db: None) -> None:
    assert client.get(url("studies/")).json() == {"count": 0, "items": []}
    assert client.get(url("studies/"), {"page": 2}).status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": 0}, "page: Input should be greater than or equal to 1"),
        ({"page": -3}, "page: Input should be greater than or equal to 1"),
        ({"page": "two"}, "page: Input should be a valid integer"),
        ({"page_size": 0}, "page_size: Input should be greater than or equal to 1"),
        (
            {"page_size": MAX_PAGE_SIZE + 1},
            f"page_size: Input should be less than or equal to {MAX_PAGE_SIZE}",
        ),
    ],
)
def test_bad_page_parameters_are_422_naming_them(
    client, studies: list[str], params: dict, message: str
) -> None:
    response = client.get(url("studies/"), params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(message)
    assert response.json()["errors"][0]["loc"][-1] in params


def test_max_page_size_is_allowed(client, studies: list[str]) -> None:
    assert len(client.get(url("studies/"), {"page_size": MAX_PAGE_SIZE}).json()["items"]) == STUDIES
