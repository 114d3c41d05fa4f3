"""Retention: the words of comments are kept for `storage.purge_text_after_days`, then dropped
(their hashes, decisions and the audit log stay). Words that were escalated are evidence and
are kept by the school's safeguarding records policy, not by this clock. Every purge that drops
anything is in the audit log."""

from __future__ import annotations

from datetime import timedelta

from bot.config.settings import Settings
from bot.store import Store


def purge_old_text(store: Store, settings: Settings, by: str = "modbot") -> int:
    days = settings.storage.purge_text_after_days
    before = store.now() - timedelta(days=days)
    purged = store.purge_text(before)
    if purged:
        store.audit("retention.purged", actor=by, versions=purged, older_than_days=days)
    return purged
