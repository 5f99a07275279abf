"""Slack notifications: a resource that posts to an incoming webhook (off when none is set)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import httpx
from pydantic import Field


class NotificationError(RuntimeError):
    """Slack did not accept a message."""


class SlackWebhook(dg.ConfigurableResource):
    """Posts messages to a Slack incoming webhook."""

    webhook_url: str | None = Field(
        default=None, description="Incoming-webhook URL (a secret: from env)."
    )
    timeout_seconds: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url)

    def post(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """Send one message.

        :raises NotificationError: when Slack answers anything but 2xx, or cannot be reached.
        """
        if not self.webhook_url:
            raise NotificationError(
                "no Slack webhook is configured (EMG_NOTIFICATIONS__SLACK_WEBHOOK_URL)"
            )
        payload: dict[str, Any] = {"text": text}
        if blocks:
            payload["blocks"] = blocks
        try:
            response = httpx.post(self.webhook_url, json=payload, timeout=self.timeout_seconds)
        except httpx.HTTPError as exc:
            raise NotificationError(f"Slack webhook unreachable: {exc}") from exc
        if not response.is_success:
            raise NotificationError(
                f"Slack webhook answered {response.status_code}: {response.text[:200]}"
            )
