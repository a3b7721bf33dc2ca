"""Telling people when a run fails: a JSON POST to the configured webhook, from the flows'
``on_failure`` and ``on_crashed`` hooks. The message is the run's state message (which names
the file or check and why), never personal data: state messages are built from counts."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


def payload(flow_name: str, run_name: str, run_id: str, state: Any) -> dict[str, Any]:
    return {
        "text": f"minsheng: {flow_name} run {run_name} {state.type.value}: {state.message or ''}".strip(),
        "flow": flow_name,
        "flow_run": run_name,
        "flow_run_id": run_id,
        "state": state.type.value,
        "message": state.message,
    }


def post(url: str, body: dict[str, Any], timeout: float = 10.0) -> bool:
    """POST ``body`` as JSON; a webhook that is down is logged, never raised: the run's own
    state says what happened."""
    try:
        httpx.post(url, json=body, timeout=timeout).raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("could not notify %s: %s", url, exc)
        return False
    return True


def on_bad_end(flow: Any, flow_run: Any, state: Any) -> None:
    """Flow hook: announce a failed or crashed run to ``notify.webhook_url``, if set."""
    from minsheng.settings import load_settings

    if getattr(flow_run, "parent_task_run_id", None):
        return  # a subflow: the run that called it fails too and is the one announced
    s = load_settings()
    if s.notify.webhook_url:
        post(s.notify.webhook_url, payload(flow.name, flow_run.name, str(flow_run.id), state),
             s.notify.timeout_seconds)


HOOKS: dict[str, Any] = {"on_failure": [on_bad_end], "on_crashed": [on_bad_end]}
