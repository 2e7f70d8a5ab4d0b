"""`flask ncmec check-schema`: does the schema NCMEC serves still match the vendored copy?"""

from __future__ import annotations

import pytest
from lxml import etree

from console.ncmec import schema
from simulator import serve_in_thread
from tests.reporting.helpers import connect_ncmec

XS = "{http://www.w3.org/2001/XMLSchema}"


def test_the_same_schema_is_reported_identical(ctx, runner, ncmec_simulator):
    connect_ncmec(ncmec_simulator)
    result = runner.invoke(args=["ncmec", "check-schema"])
    assert result.exit_code == 0, result.output
    assert "identical to the vendored copy" in result.output


def test_a_changed_schema_names_what_was_added_and_removed(ctx, runner, tmp_path):
    tree = etree.fromstring(schema.xsd_bytes())
    person = tree.find(f"{XS}complexType[@name='person']/{XS}sequence")
    etree.SubElement(person, f"{XS}element", name="pronouns", minOccurs="0", type="xs:string")
    served = tmp_path / "served.xsd"
    served.write_bytes(etree.tostring(tree))
    with serve_in_thread(username="esp", password="pw", xsd_path=served) as newer:
        connect_ncmec(newer)
        result = runner.invoke(args=["ncmec", "check-schema"])
    assert result.exit_code == 1
    assert "differs from the vendored copy" in result.output
    assert "added: " in result.output and "reportingPerson/pronouns" in result.output


def test_an_unreachable_service_says_so(ctx, runner, ncmec_simulator):
    connect_ncmec(ncmec_simulator)
    ncmec_simulator.set_fault("xsd", "http_500", times=None)
    result = runner.invoke(args=["ncmec", "check-schema"])
    assert result.exit_code == 1
    assert "Could not compare NCMEC's schema" in result.output


def test_test_connection_also_says_whether_the_schema_moved(ctx, tmp_path):
    from console.reporting import agencies
    from console.settings import service as settings

    with serve_in_thread(username="esp", password="pw") as same:
        connect_ncmec(same)
        check = settings.check_connection(agencies.ncmec().id, actor_label="test")
    assert check.status == "connected"
    assert "identical to the vendored copy" in check.message

    tree = etree.fromstring(schema.xsd_bytes())
    enum = tree.find(f"{XS}simpleType[@name='ipCaptureType']/{XS}restriction")
    etree.SubElement(enum, f"{XS}enumeration", value="Logout")
    served = tmp_path / "served.xsd"
    served.write_bytes(etree.tostring(tree))
    with serve_in_thread(username="esp", password="pw", xsd_path=served) as newer:
        connect_ncmec(newer)
        check = settings.check_connection(agencies.ncmec().id, actor_label="test")
    assert check.status == "connected"
    assert "differs from the vendored copy" in check.message and "ipCaptureType" in check.message


# --- a failed fetch is "could not check", never drift -------------------------------------------------------


def test_an_error_reply_to_the_schema_request_is_not_drift(ctx, runner, ncmec_simulator):
    """The service answers /xsd with a reportResponse (code 4000, HTTP 200): the sweep saw "every element
    removed". It says it could not check, and names the service's error."""
    connect_ncmec(ncmec_simulator)
    ncmec_simulator.set_fault("xsd", "code", code=4000, times=None)
    result = runner.invoke(args=["ncmec", "check-schema"])
    assert result.exit_code == 1
    assert "Could not compare NCMEC's schema" in result.output and "Invalid request" in result.output
    assert "removed" not in result.output and "differs" not in result.output


def test_test_connection_says_it_could_not_check_the_schema(ctx, ncmec_simulator):
    from console.reporting import agencies
    from console.settings import service as settings

    connect_ncmec(ncmec_simulator)
    ncmec_simulator.set_fault("xsd", "code", code=4000, times=None)
    check = settings.check_connection(agencies.ncmec().id, actor_label="test")
    assert check.status == "connected"  # /status answered: the credentials are fine
    assert "Could not compare NCMEC's schema" in check.message
    assert "removed" not in check.message and "differs" not in check.message


def test_a_reply_that_is_xml_but_no_schema_is_not_drift(tmp_path):
    """Whatever sends XML without a schema in it (an HTML error page, another service's answer)."""
    for served in (
        b"<html><body>Maintenance</body></html>",
        b"<reportResponse><responseCode>0</responseCode></reportResponse>",
    ):
        with pytest.raises(ValueError, match="not an XML schema"):
            schema.drift(served)
