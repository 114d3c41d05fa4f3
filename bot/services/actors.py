"""Who is acting, and what their role lets them do. Checked here, in the use cases, for every
face: the CLI and the web pages cannot skip it by hiding a menu."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.config.settings import SchoolSettings
from bot.core.errors import ModbotError


class Role(StrEnum):
    ADMIN = "admin"  # moderation queue and items, acknowledge, restore, suggest a ban
    DSL = "dsl"  # all of admin, plus escalations with full text, evidence, refer, close, ban
    SLT = "slt"  # aggregates and reports only: no comment text, no child's name


class Forbidden(ModbotError):
    """The actor's role does not allow this."""


class NotFound(ModbotError):
    """No such item, escalation or comment."""


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise Forbidden(f"{self.name} ({self.role.value}) may not do this: needs {allowed}")

    @property
    def sees_comment_text(self) -> bool:
        return self.role in (Role.ADMIN, Role.DSL)


def actor_from_config(settings: SchoolSettings, name: str) -> Actor:
    """The role the configuration gives a person: DSL and deputy are dsl, administrators
    admin, SLT slt. Anyone else is refused."""
    if name in (settings.dsl.name, settings.deputy_dsl.name):
        return Actor(name, Role.DSL)
    if name in {a.name for a in settings.administrators}:
        return Actor(name, Role.ADMIN)
    if name == settings.slt.name:
        return Actor(name, Role.SLT)
    known = ", ".join(sorted(settings.people()))
    raise Forbidden(f"{name!r} is not named in the configuration (one of: {known})")
