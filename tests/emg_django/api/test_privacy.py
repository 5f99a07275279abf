"""Private and suppressed objects are a 404 (and absent from lists) for everyone but their owner
and staff, on every list, detail, nested and annotation endpoint."""

from __future__ import annotations

import pytest

from tests.emg_django.api.conftest import OWNER, STRANGER, World, bearer, url
from tests.emg_django.api.endpoints import LIST_ENDPOINTS, OBJECT_ENDPOINTS

pytestmark = pytest.mark.django_db

ANONYMOUS: dict[str, str] = {}


def _listed(client, world_tree, name: str, headers: dict[str, str]) -> set[str]:
    path, query, _ = LIST_ENDPOINTS[name]
    response = client.get(url(path), {**query(world_tree), "page_size": 250}, headers=headers)
    assert response.status_code == 200, response.content
    return {item["accession"] for item in response.json()["items"]}


@pytest.mark.parametrize("endpoint", sorted(OBJECT_ENDPOINTS))
@pytest.mark.parametrize("tree", ["private", "suppressed"])
def test_hidden_objects_are_404_for_anonymous_and_strangers(
    client, world: World, endpoint: str, tree: str
) -> None:
    path = url(OBJECT_ENDPOINTS[endpoint](getattr(world, tree)))
    for headers in (ANONYMOUS, bearer(STRANGER)):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, (path, headers, response.content)
        assert set(response.json()) == {"detail"}
    # The same endpoint answers for the public tree: the 404 is about visibility, not the path.
    assert client.get(url(OBJECT_ENDPOINTS[endpoint](world.public))).status_code == 200


@pytest.mark.parametrize("endpoint", sorted(OBJECT_ENDPOINTS))
def test_private_objects_are_visible_to_their_owner_and_staff(
    client, admin_client, world: World, endpoint: str
) -> None:
    path = url(OBJECT_ENDPOINTS[endpoint](world.private))
    assert client.get(path, headers=bearer(OWNER)).status_code == 200
    assert admin_client.get(path).status_code == 200


@pytest.mark.parametrize("endpoint", sorted(OBJECT_ENDPOINTS))
def test_suppressed_objects_are_hidden_from_their_owner_but_not_staff(
    client, admin_client, world: World, endpoint: str
) -> None:
    world.suppressed.study.ena_study.webin_submitter = OWNER
    world.suppressed.study.ena_study.save()  # propagates the owner down the tree
    path = url(OBJECT_ENDPOINTS[endpoint](world.suppressed))
    assert client.get(path, headers=bearer(OWNER)).status_code == 404
    assert admin_client.get(path).status_code == 200


@pytest.mark.parametrize("name", sorted(LIST_ENDPOINTS))
def test_lists_hide_private_and_suppressed_objects(
    client, admin_client, world: World, name: str
) -> None:
    expected = LIST_ENDPOINTS[name][2]
    for tree in (world.private, world.suppressed):
        hidden = expected(tree)
        assert not hidden & _listed(client, tree, name, ANONYMOUS)
        assert not hidden & _listed(client, tree, name, bearer(STRANGER))
        assert hidden <= _listed(admin_client, tree, name, ANONYMOUS)
    assert expected(world.private) <= _listed(client, world.private, name, bearer(OWNER))
    assert not expected(world.suppressed) & _listed(client, world.suppressed, name, bearer(OWNER))
    assert expected(world.public) <= _listed(client, world.public, name, ANONYMOUS)


def test_my_data_lists_the_owners_private_studies_only(client, world: World) -> None:
    path = url("my-data/studies/")
    response = client.get(path, headers=bearer(OWNER))
    assert response.status_code == 200
    assert [item["accession"] for item in response.json()["items"]] == [
        world.private.study.accession
    ]
    assert client.get(path, headers=bearer(STRANGER)).json() == {"count": 0, "items": []}


def test_my_data_needs_a_token(client, admin_client, world: World) -> None:
    for caller in (client, admin_client):
        response = caller.get(url("my-data/studies/"))
        assert response.status_code == 401
        assert "authentication required" in response.json()["detail"]


def test_has_analyses_filter_does_not_reveal_hidden_studies(client, world: World) -> None:
    response = client.get(url("studies/"), {"has_analyses_from_pipeline": "V6", "page_size": 250})
    listed = {item["accession"] for item in response.json()["items"]}
    assert listed == {world.public.study.accession, world.soil.study.accession}
