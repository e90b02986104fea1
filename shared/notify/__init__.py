"""Customer and client-team e-mails: rendering (``render``) and delivery (``mailers``).

``shared.notify.mailers`` is not imported here so that code which only renders (or only sends)
loads no more than it needs.
"""

from shared.notify.render import (
    DEFAULT_LOCALE,
    TEAM_KINDS,
    ContextError,
    EmailKind,
    RenderedEmail,
    format_money,
    render,
)

__all__ = [
    "DEFAULT_LOCALE",
    "TEAM_KINDS",
    "ContextError",
    "EmailKind",
    "RenderedEmail",
    "format_money",
    "render",
]
