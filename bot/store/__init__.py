"""The only place with SQL: schema and migrations, one repository per aggregate."""

from bot.store.db import Store

__all__ = ["Store"]
