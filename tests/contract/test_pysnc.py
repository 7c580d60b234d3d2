"""ServiceNow's own Python client (pysnc) against `groupgate sim servicenow`:
records, display values, paging, writes and errors as an instance answers
them."""

from __future__ import annotations

from typing import Iterator

import pysnc
import pysnc.client
import pytest

from conftest import Emulator

ADA = "00000000000000000000000000000001"
CARL = "00000000000000000000000000000003"
GRACE = "00000000000000000000000000000002"
RITM1 = "00000000000000000000000000010001"


@pytest.fixture
def snow(servicenow: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[pysnc.ServiceNowClient]:
    # pysnc refuses any http:// instance (rightly, for real instances); the
    # emulator listens on loopback http, so that one check is relaxed here and
    # nothing else about the client changes.
    monkeypatch.setattr(pysnc.client, "get_instance", lambda instance: instance.rstrip("/"))
    url = servicenow.settings["GROUPGATE_SNOW_INSTANCE_URL"]
    user = servicenow.settings["GROUPGATE_SNOW_USER"]
    yield pysnc.ServiceNowClient(url, (user, "contract-pass"), auto_retry=False)


def test_a_record_shows_raw_and_display_values(snow: pysnc.ServiceNowClient) -> None:
    gr = snow.GlideRecord("sc_req_item")
    gr.add_query("number", "RITM0010001")
    gr.query()
    assert gr.get_row_count() == 1
    assert gr.next()
    assert gr.get_value("sys_id") == RITM1
    assert gr.get_value("requested_for") == ADA
    assert gr.get_display_value("requested_for") == "ada.lovelace@contoso.com"
    assert gr.get_value("state") == "1"
    assert gr.get_display_value("state") == "Open"
    assert gr.get_display_value("cat_item") == "Request access to application"


def test_get_by_sys_id_and_a_missing_record(snow: pysnc.ServiceNowClient) -> None:
    gr = snow.GlideRecord("sys_user")
    assert gr.get(CARL)
    assert gr.get_value("user_name") == "carl.contractor@contoso.com"
    assert not snow.GlideRecord("sys_user").get("ffffffffffffffffffffffffffffffff")


def test_queries_page_through_every_record(snow: pysnc.ServiceNowClient) -> None:
    gr = snow.GlideRecord("sys_user", batch_size=5)
    gr.add_encoded_query("user_nameLIKE@contoso.com^ORDERBYuser_name")
    gr.query()
    names = [r.get_value("user_name") for r in gr]
    assert len(names) == 16
    assert names == sorted(names)
    assert gr.get_row_count() == 16


def test_an_encoded_query_with_or_and_in(snow: pysnc.ServiceNowClient) -> None:
    gr = snow.GlideRecord("sys_user")
    gr.add_encoded_query(f"sys_idIN{ADA},{CARL}^ORuser_name=grace.hopper@contoso.com")
    gr.query()
    assert sorted(r.get_value("sys_id") for r in gr) == [ADA, GRACE, CARL]


def test_inserts_updates_and_journal_fields(snow: pysnc.ServiceNowClient) -> None:
    approval = snow.GlideRecord("sysapproval_approver")
    approval.initialize()
    approval.set_value("sysapproval", RITM1)
    approval.set_value("approver", GRACE)
    approval.set_value("state", "requested")
    approval.set_value("comments", "Please approve [contract-test]")
    sys_id = approval.insert()
    assert sys_id
    assert approval.get_display_value("approver") == "grace.hopper@contoso.com"
    assert approval.get_display_value("state") == "Requested"
    # The comment went to the journal, as on an instance.
    journal = snow.GlideRecord("sys_journal_field")
    journal.add_query("element_id", str(sys_id))
    journal.add_query("element", "comments")
    journal.query()
    assert [j.get_value("value") for j in journal] == ["Please approve [contract-test]"]
    # Approving rolls up to the RITM.
    approval.set_value("state", "approved")
    approval.update()
    ritm = snow.GlideRecord("sc_req_item")
    assert ritm.get(RITM1)
    assert ritm.get_value("approval") == "approved"
    assert ritm.get_display_value("approval") == "Approved"


def test_an_unknown_table_is_an_error(snow: pysnc.ServiceNowClient) -> None:
    gr = snow.GlideRecord("u_no_such_table")
    with pytest.raises(Exception) as failed:
        gr.query()
    assert "Invalid table" in str(failed.value)


def test_wrong_credentials_are_refused(servicenow: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pysnc.client, "get_instance", lambda instance: instance.rstrip("/"))
    url = servicenow.settings["GROUPGATE_SNOW_INSTANCE_URL"]
    client = pysnc.ServiceNowClient(url, ("groupgate.integration", "wrong"), auto_retry=False)
    gr = client.GlideRecord("sys_user")
    with pytest.raises(Exception) as refused:
        gr.query()
    assert "401" in str(refused.value) or "Authenticated" in str(refused.value)
