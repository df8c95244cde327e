"""Who acts and what they may do: roles' rights, the user a request acts as, the local user."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from salesml.audit import Actor
from salesml.choices import ROLES
from salesml.errors import PermissionDeniedError

# The least role that may do each thing; a role may do everything a lesser one may.
ACTIONS = {
    "read": "viewer",  # look at sales, models, forecasts and results
    "forecast": "viewer",  # forecast from a saved model without storing it
    "load": "analyst",  # upload and load sales files
    "train": "analyst",  # train and compare models
    "save": "analyst",  # save models and forecasts (what-if runs included)
    "delete": "admin",  # delete loaded batches and saved models
    "manage": "admin",  # add and change users and API tokens, read the audit log
}


# The names under which a request reaches this machine only: while sign-in is off the server
# listens on, and answers requests addressed to, nothing else.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_local_host(host: str | None) -> bool:
    """Whether an address or a Host header ('localhost:8501', '[::1]:80') names this machine."""
    return (urlsplit(f"//{host or ''}").hostname or "") in LOCAL_HOSTS


@dataclass(frozen=True)
class Principal:
    """The user a request or browser session acts as."""

    name: str
    role: str
    user_id: int | None = None  # None for the single-user mode's local user
    # Changes when the password does: a browser session signed in with the old one ends.
    stamp: str = field(default="", compare=False, repr=False)

    def can(self, action: str) -> bool:
        """Whether the role allows the action (one of ACTIONS)."""
        return ROLES.index(self.role) >= ROLES.index(ACTIONS[action])

    def require(self, action: str) -> None:
        """Raise PermissionDeniedError unless the role allows the action."""
        if not self.can(action):
            least = ACTIONS[action]
            raise PermissionDeniedError(
                f"{self.name} is a {self.role}; this needs the {least} role or higher "
                "(an admin can change roles)"
            )

    def actor(self, via: str) -> Actor:
        """This user as the audit log names them."""
        return Actor(self.name, via)


# With no user in the database everyone who reaches the (local) server is this user.
LOCAL = Principal("local", "admin")
