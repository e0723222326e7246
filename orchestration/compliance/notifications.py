"""E-mail to the data steward when something needs a person: an article-7 deadline passed, a
delivery was refused, a blocking check failed, or a run died or failed.

Two Dagster run status sensors (they act while the daemon runs, ``make ui``), one message per
run that needs one:

- ``notify_run_failure_sensor`` (a run failure sensor): any run that fails, including one the
  dead-run sensor marks failed after its process died (``platform/recovery.py``), with the
  run's failed checks;
- ``notify_check_failures_sensor`` (runs that succeed): the run's failed blocking checks, failed
  ``delivery_allowed`` checks (a refused delivery, with its reason and remedy) and failed
  ``article7_findings_within_deadline`` checks (findings past their article-7 deadline).

Off by default: nothing is sent until ``PROTOCOL_WAREHOUSE_SMTP_HOST`` is set. The settings, all
from the environment: ``..._SMTP_HOST``, ``..._SMTP_PORT`` (25), ``..._SMTP_FROM``
(``protocol-warehouse@localhost``), ``..._SMTP_TO`` (comma-separated; required when a host is
set), ``..._SMTP_STARTTLS`` (``1`` to upgrade the connection), ``..._SMTP_USER`` and
``..._SMTP_PASSWORD``. While off, the sensors still move their cursors, so switching mail on
does not send the past.

A message names jobs, runs, steps, assets, checks, protocols and counts; before it goes out it
passes the audit trail's test for personal values (INSZ, names, birth dates, addresses,
pseudonyms); a line that fails it is replaced by a pointer to the run in the UI.
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import dagster as dg

from orchestration.foundations import audit

ENV = "PROTOCOL_WAREHOUSE_SMTP_"
SUBJECT_PREFIX = "[protocol warehouse]"
WATCHED_CHECKS = {"delivery_allowed": "refused delivery",
                  "article7_findings_within_deadline": "article-7 deadline passed"}
WITHHELD = "(withheld: it may hold a personal value; open the run in the Dagster UI)"


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = False
    user: str | None = None
    password: str | None = None


def mail_settings() -> MailSettings | None:
    """The SMTP settings from the environment; None when mail is off (no host set)."""
    host = os.environ.get(ENV + "HOST", "").strip()
    if not host:
        return None
    recipients = tuple(a.strip() for a in os.environ.get(ENV + "TO", "").split(",") if a.strip())
    if not recipients:
        raise ValueError(f"{ENV}HOST is set but {ENV}TO names no recipient")
    return MailSettings(host, int(os.environ.get(ENV + "PORT") or 25),
                        os.environ.get(ENV + "FROM") or "protocol-warehouse@localhost",
                        recipients, os.environ.get(ENV + "STARTTLS") == "1",
                        os.environ.get(ENV + "USER") or None,
                        os.environ.get(ENV + "PASSWORD") or None)


def safe(line: str) -> str:
    """The line, or a pointer to the UI when it looks like it holds a personal value."""
    try:
        audit.check_fields({"line": line})
    except audit.AuditRefused:
        return WITHHELD
    return line


def send(settings: MailSettings, subject: str, lines: list[str]) -> None:
    msg = EmailMessage()
    msg["Subject"] = f"{SUBJECT_PREFIX} {safe(subject)}"
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.recipients)
    msg.set_content("\n".join(safe(line) for line in lines) + "\n")
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(msg)


# ------------------------------------------------------------------------------ what to say


def check_alert(evaluation) -> str | None:
    """One line for a failed check worth a mail (AssetCheckEvaluation), None otherwise."""
    if evaluation.passed:
        return None
    meta = {k: getattr(v, "value", v) for k, v in (evaluation.metadata or {}).items()}
    where = f"{evaluation.asset_key.to_user_string()} / {evaluation.check_name}"
    if evaluation.check_name == "delivery_allowed":
        return (f"refused delivery: {where}: {meta.get('reason') or evaluation.description}"
                + (f"; remedy: {meta['remedy']}" if meta.get("remedy") else ""))
    if evaluation.check_name == "article7_findings_within_deadline":
        return (f"article-7 deadline passed: {where}: {meta.get('overdue', '?')} finding(s) "
                "past the deadline" + (f"; report: {meta['report']}" if meta.get("report")
                                       else ""))
    if evaluation.blocking:
        return (f"blocking check failed: {where}"
                + (f": {meta['unexpected_count']} {meta.get('unit', 'records')}"
                   if "unexpected_count" in meta else "")
                + "; the assets downstream did not run")
    return None


def run_failure_lines(run, failed_steps: list[str], error: str | None) -> list[str]:
    tags = run.tags or {}
    lines = [f"job: {run.job_name}", f"run: {run.run_id}"]
    if tags.get("dagster/partition") or tags.get("dagster/asset_partition_range_start"):
        lines.append("school years: " + (tags.get("dagster/partition") or
                                         f"{tags['dagster/asset_partition_range_start']}.."
                                         f"{tags.get('dagster/asset_partition_range_end')}"))
    if failed_steps:
        lines.append(f"failed steps: {', '.join(failed_steps)}")
    if error:
        lines.append(f"error: {error.strip().splitlines()[0][:300]}")
    lines.append("Open the run in the Dagster UI (make ui) for its log.")
    return lines


# ------------------------------------------------------------------------------ sensors


def run_check_alerts(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The alerts among one run's check results (run-scoped: works on every event storage)."""
    records = instance.get_records_for_run(
        run_id=run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    alerts = []
    for r in records:
        event = r.event_log_entry.dagster_event
        line = check_alert(event.event_specific_data) if event else None
        if line:
            alerts.append(line)
    return alerts


def build_notification_sensors(default_status: dg.DefaultSensorStatus
                               = dg.DefaultSensorStatus.RUNNING) -> list[dg.SensorDefinition]:
    @dg.run_failure_sensor(name="notify_run_failure_sensor", default_status=default_status,
                           description="E-mails the steward when a run fails or dies, with its "
                                       "failed checks (off until "
                                       f"{ENV}HOST is set).")
    def notify_run_failure(context: dg.RunFailureSensorContext):
        settings = mail_settings()
        if settings is None:
            return dg.SkipReason(f"notifications are off ({ENV}HOST is not set)")
        run = context.dagster_run
        steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
        error = context.failure_event.message if context.failure_event else None
        alerts = run_check_alerts(context.instance, run.run_id)
        send(settings, f"run failed: {run.job_name}",
             run_failure_lines(run, steps, error) + ([""] + alerts if alerts else []))
        return None

    @dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS,
                          name="notify_check_failures_sensor", default_status=default_status,
                          description="E-mails the steward, per run that succeeded, its failed "
                                      "blocking checks, refused deliveries (delivery_allowed) and "
                                      "findings past their article-7 deadline (off until "
                                      f"{ENV}HOST is set).")
    def notify_check_failures(context: dg.RunStatusSensorContext):
        run = context.dagster_run
        alerts = run_check_alerts(context.instance, run.run_id)
        if not alerts:
            return dg.SkipReason("nothing to tell")
        settings = mail_settings()
        if settings is None:
            return dg.SkipReason(f"{len(alerts)} alert(s), but notifications are off "
                                 f"({ENV}HOST is not set)")
        kinds = sorted({a.split(":")[0] for a in alerts})
        send(settings, f"{len(alerts)} alert(s) in {run.job_name}: {', '.join(kinds)}",
             [*alerts, "", f"job: {run.job_name}", f"run: {run.run_id}",
              "Open the run in the Dagster UI (make ui) for the checks' metadata."])
        return None

    return [notify_run_failure, notify_check_failures]
