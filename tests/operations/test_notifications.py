"""Notifications: the steward's e-mail on a refused delivery, an article-7 deadline passed, a
failed blocking check and a failed or dead run, sent by the Dagster sensors to a real SMTP server
on 127.0.0.1 (aiosmtpd) and read as it arrived. Off until a host is configured; no personal
value in a message."""

from __future__ import annotations

import email
import email.policy
import socket

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from orchestration.compliance import notifications
from orchestration.compliance.notifications import ENV, build_notification_sensors


class Inbox:
    """aiosmtpd handler: keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv(ENV + "HOST", "127.0.0.1")
    monkeypatch.setenv(ENV + "PORT", str(port))
    monkeypatch.setenv(ENV + "TO", "steward@example.org, dpo@example.org")
    try:
        yield inbox
    finally:
        controller.stop()


def _sensors():
    """(on a failed run, on a successful run)"""
    return tuple(build_notification_sensors())


# A tiny code location with the checks the warehouse mails about (same names, same kinds).
@dg.asset
def raw_thing():
    return 1


@dg.asset_check(asset=raw_thing, blocking=True, name="unknown_code_geslacht")
def blocking_rule():
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"unexpected_count": 3, "unit": "records"})


@dg.asset_check(asset=raw_thing, name="article7_findings_within_deadline")
def deadline():
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"overdue": 2})


@dg.asset
def delivery_thing():
    return 1


@dg.asset_check(asset=delivery_thing, name="delivery_allowed")
def allowed():
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.WARN,
        metadata={"refusals": 1, "reason": "antwerpen_okan expired on 2025-08-31",
                  "remedy": "register a renewal of the protocol in the registry"})


@dg.asset_check(asset=delivery_thing, name="columns_match_registry")
def passing():
    return dg.AssetCheckResult(passed=True)


def _materialise(instance, *checks):
    result = dg.materialize([raw_thing, delivery_thing, *checks], instance=instance,
                            raise_on_error=False)
    return result, instance.get_run_by_id(result.run_id)


def _context(instance, result, run, kind):
    [event] = [e for e in result.all_events if e.event_type_value == kind]
    context = dg.build_run_status_sensor_context(
        sensor_name="notify", dagster_instance=instance, dagster_run=run, dagster_event=event)
    return context.for_run_failure() if kind == "PIPELINE_FAILURE" else context


def test_a_refused_delivery_and_a_passed_deadline_reach_the_steward_in_one_message(smtp):
    _, on_success = _sensors()
    with dg.instance_for_test() as instance:
        result, run = _materialise(instance, deadline, allowed, passing)
        assert result.success  # WARN checks: the run goes on
        on_success(_context(instance, result, run, "PIPELINE_SUCCESS"))
    [message] = smtp.messages
    body = message.get_content()
    assert message["To"] == "steward@example.org, dpo@example.org"
    assert "2 alert(s)" in message["Subject"]
    assert "refused delivery: delivery_thing / delivery_allowed: antwerpen_okan expired on " \
           "2025-08-31; remedy: register a renewal" in body
    assert "article-7 deadline passed: raw_thing / article7_findings_within_deadline: 2 " \
           "finding(s)" in body
    assert "columns_match_registry" not in body  # it passed
    assert f"run: {run.run_id}" in body


def test_a_failed_blocking_check_fails_the_run_and_reaches_the_steward(smtp):
    on_failure, _ = _sensors()
    with dg.instance_for_test() as instance:
        result, run = _materialise(instance, blocking_rule, passing)
        assert not result.success
        on_failure(_context(instance, result, run, "PIPELINE_FAILURE"))
    [message] = smtp.messages
    body = message.get_content()
    assert "run failed" in message["Subject"]
    assert "blocking check failed: raw_thing / unknown_code_geslacht: 3 records" in body


def test_a_failed_run_reaches_the_steward(smtp):
    on_failure, _ = _sensors()

    @dg.op
    def breaks():
        raise RuntimeError("the warehouse file is locked by another process")

    @dg.job
    def fragile_job():
        breaks()

    with dg.instance_for_test() as instance:
        result = fragile_job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        run = instance.get_run_by_id(result.run_id)
        on_failure(_context(instance, result, run, "PIPELINE_FAILURE"))
    [message] = smtp.messages
    body = message.get_content()
    assert "run failed: fragile_job" in message["Subject"]
    assert f"run: {result.run_id}" in body and "failed steps: breaks" in body


def test_nothing_is_sent_while_no_smtp_host_is_set(monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        monkeypatch.delenv(ENV + "HOST", raising=False)
        on_failure, on_success = _sensors()
        with dg.instance_for_test() as instance:
            result, run = _materialise(instance, deadline, allowed)
            off = on_success(_context(instance, result, run, "PIPELINE_SUCCESS"))
            result, run = _materialise(instance, blocking_rule)
            off_too = on_failure(_context(instance, result, run, "PIPELINE_FAILURE"))
    finally:
        controller.stop()
    assert "notifications are off" in off.skip_message
    assert "notifications are off" in off_too.skip_message
    assert inbox.messages == []


def test_a_line_that_looks_personal_is_withheld():
    assert notifications.safe("error: row holds 85.07.30-033.28") == notifications.WITHHELD
    assert notifications.safe("refused delivery: delivery/zorgthuis") == \
        "refused delivery: delivery/zorgthuis"


def test_a_host_without_recipients_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv(ENV + "HOST", "127.0.0.1")
    monkeypatch.delenv(ENV + "TO", raising=False)
    with pytest.raises(ValueError, match="names no recipient"):
        notifications.mail_settings()
