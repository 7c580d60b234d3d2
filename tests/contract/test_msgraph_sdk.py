"""Microsoft's Graph SDK for Python against `groupgate sim graph`: every call
on groupgate's path, with the shapes and the paging the SDK relies on."""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine, TypeVar
from urllib.parse import urlparse

import httpx
import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User
from msgraph.generated.users.item.check_member_groups.check_member_groups_post_request_body import (
    CheckMemberGroupsPostRequestBody,
)
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

from conftest import Emulator

T = TypeVar("T")

ADA = "11111111-0000-0000-0000-00000000000a"
PAT = "11111111-0000-0000-0000-00000000000e"
TOM = "11111111-0000-0000-0000-000000000016"
TEAM_ALPHA = "aaaaaaaa-0000-0000-0000-000000000002"
TEAM_ALPHA_CORE = "aaaaaaaa-0000-0000-0000-000000000009"
HR_PORTAL = "aaaaaaaa-0000-0000-0000-000000000003"
ADMINS = "aaaaaaaa-0000-0000-0000-000000000006"


# One event loop for the module: the SDK's HTTP client stays bound to the
# loop it first ran on.
LOOP = asyncio.new_event_loop()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return LOOP.run_until_complete(coroutine)


class EmulatorToken(AccessTokenProvider):
    """A token from the emulator's token endpoint (client credentials), as
    azure-identity would get one from the identity platform; azure-identity
    itself refuses a non-https authority, so the grant is made here."""

    def __init__(self, settings: dict[str, str], secret: str) -> None:
        url = (
            f"{settings['GROUPGATE_GRAPH_AUTHORITY_URL']}/"
            f"{settings['GROUPGATE_GRAPH_TENANT_ID']}/oauth2/v2.0/token"
        )
        answer = httpx.post(
            url,
            data={
                "client_id": settings["GROUPGATE_GRAPH_CLIENT_ID"],
                "client_secret": secret,
                "scope": "https://graph.microsoft.com/.default",
                "grant_type": "client_credentials",
            },
        )
        answer.raise_for_status()
        body = answer.json()
        assert body["token_type"] == "Bearer"
        self.token: str = body["access_token"]
        self.host = urlparse(settings["GROUPGATE_GRAPH_BASE_URL"]).hostname or ""

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([self.host])


def client(graph: Emulator) -> GraphServiceClient:
    auth = BaseBearerTokenAuthenticationProvider(EmulatorToken(graph.settings, "contract-secret"))
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = graph.settings["GROUPGATE_GRAPH_BASE_URL"]
    return GraphServiceClient(request_adapter=adapter)


def test_a_wrong_secret_gets_the_identity_platforms_error(graph: Emulator) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        EmulatorToken(graph.settings, "wrong-secret")
    body = refused.value.response.json()
    assert body["error"] == "invalid_client"
    assert "AADSTS" in body["error_description"]


def test_users_and_managers_read_with_select(graph: Emulator) -> None:
    sdk = client(graph)
    config = RequestConfiguration(
        query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
            select=["id", "userPrincipalName", "displayName", "accountEnabled", "userType", "employeeType"]
        )
    )
    ada = run(sdk.users.by_user_id("ada.lovelace@contoso.com").get(request_configuration=config))
    assert isinstance(ada, User)
    assert ada.id == ADA
    assert ada.account_enabled is True
    assert ada.user_type == "Member"
    assert ada.employee_type == "Employee"
    manager = run(sdk.users.by_user_id(ADA).manager.get())
    assert manager is not None
    assert manager.odata_type == "#microsoft.graph.user"
    # Without $select, Graph's default set only: no accountEnabled.
    plain = run(sdk.users.by_user_id(ADA).get())
    assert plain is not None and plain.account_enabled is None


def test_errors_are_odata_errors_with_inner_error(graph: Emulator) -> None:
    sdk = client(graph)
    with pytest.raises(ODataError) as missing:
        run(sdk.users.by_user_id("nobody@contoso.com").get())
    error = missing.value.error
    assert missing.value.response_status_code == 404
    assert error is not None and error.code == "Request_ResourceNotFound"
    assert error.inner_error is not None
    assert error.inner_error.request_id
    assert error.inner_error.date is not None


def test_groups_read_with_their_kind(graph: Emulator) -> None:
    sdk = client(graph)
    admins = run(sdk.groups.by_group_id(ADMINS).get())
    assert isinstance(admins, Group)
    assert admins.is_assignable_to_role is True
    team = run(sdk.groups.by_group_id(TEAM_ALPHA).get())
    assert team is not None and team.group_types == ["Unified"]


def test_members_page_with_top_and_next_link_and_include_nested_groups(graph: Emulator) -> None:
    sdk = client(graph)
    members = sdk.groups.by_group_id(TEAM_ALPHA).members
    config = RequestConfiguration(
        query_parameters=MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(
            top=1, select=["id", "userPrincipalName"]
        )
    )
    page = run(members.get(request_configuration=config))
    seen: list[object] = []
    pages = 0
    while page is not None:
        pages += 1
        assert page.value is not None and len(page.value) <= 1
        seen.extend(page.value)
        if not page.odata_next_link:
            break
        page = run(members.with_url(page.odata_next_link).get())
    assert pages == 2
    users = [m for m in seen if isinstance(m, User)]
    groups = [m for m in seen if isinstance(m, Group)]
    assert [u.id for u in users] == [PAT]
    assert [g.id for g in groups] == [TEAM_ALPHA_CORE]
    transitive = run(sdk.groups.by_group_id(TEAM_ALPHA).transitive_members.get())
    assert transitive is not None and transitive.value is not None
    ids = {m.id for m in transitive.value}
    assert {PAT, TOM, TEAM_ALPHA_CORE} <= ids


def test_direct_membership_by_filter_needs_eventual_consistency(graph: Emulator) -> None:
    sdk = client(graph)
    members = sdk.groups.by_group_id(TEAM_ALPHA).members
    query = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(
        filter=f"id eq '{PAT}'", count=True, select=["id"]
    )
    with pytest.raises(ODataError) as refused:
        run(members.get(request_configuration=RequestConfiguration(query_parameters=query)))
    assert refused.value.response_status_code == 400
    config = RequestConfiguration(query_parameters=query)
    config.headers.add("ConsistencyLevel", "eventual")
    found = run(members.get(request_configuration=config))
    assert found is not None and found.value is not None
    assert [m.id for m in found.value] == [PAT]
    assert found.odata_count == 1


def test_check_member_groups_is_transitive(graph: Emulator) -> None:
    sdk = client(graph)
    body = CheckMemberGroupsPostRequestBody(group_ids=[TEAM_ALPHA, HR_PORTAL])
    answer = run(sdk.users.by_user_id(TOM).check_member_groups.post(body))
    assert answer is not None and answer.value == [TEAM_ALPHA]


def test_member_of_pages_through_next_link(graph: Emulator) -> None:
    sdk = client(graph)
    first = run(sdk.users.by_user_id(TOM).member_of.get())
    assert first is not None and first.value is not None
    assert [g.id for g in first.value] == [TEAM_ALPHA_CORE]


def test_adds_and_removals_through_the_reference(graph: Emulator) -> None:
    sdk = client(graph)
    reference = ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{ADA}")
    members = sdk.groups.by_group_id(HR_PORTAL).members
    run(members.ref.post(reference))
    with pytest.raises(ODataError) as again:
        run(members.ref.post(reference))
    assert again.value.response_status_code == 400
    assert again.value.error is not None and again.value.error.message is not None
    assert "already exist" in again.value.error.message
    run(members.by_directory_object_id(ADA).ref.delete())
    with pytest.raises(ODataError) as gone:
        run(members.by_directory_object_id(ADA).ref.delete())
    assert gone.value.response_status_code in (400, 404)
    # A role-assignable group refuses, as Graph does without the role permission.
    with pytest.raises(ODataError) as denied:
        run(sdk.groups.by_group_id(ADMINS).members.ref.post(reference))
    assert denied.value.response_status_code == 403
