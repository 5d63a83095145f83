"""The portal's owners (users and queues a record can be assigned to), as the seed gives them."""

from __future__ import annotations

from typing import Any

# The user who created the app: a real portal always lists at least this owner, so an
# empty sandbox portal does too (a seed replaces the list with its own people).
APP_CREATOR: dict[str, Any] = {
    "id": "40000001", "email": "admin@handoff-sync.sandbox", "type": "PERSON",
    "firstName": "Sandbox", "lastName": "Admin", "userId": 8000001,
    "userIdIncludingInactive": 8000001, "createdAt": "2020-01-01T00:00:00.000Z",
    "updatedAt": "2020-01-01T00:00:00.000Z", "archived": False, "teams": [],
}


class OwnerDirectory:
    def __init__(self) -> None:
        self._owners: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        self._owners = [dict(APP_CREATOR)]

    def load(self, owners: list[dict[str, Any]]) -> None:
        loaded = [{"archived": False, **owner} for owner in owners]
        self._owners = sorted(loaded, key=lambda owner: int(owner["id"]))

    def active_ids(self) -> list[str]:
        return [str(owner["id"]) for owner in self._owners if not owner["archived"]]

    def select(self, *, email: str | None, archived: bool) -> list[dict[str, Any]]:
        """Owners in id order, filtered as GET /crm/v3/owners/ filters them."""
        wanted = email.strip().lower() if email else None
        return [
            owner for owner in self._owners
            if owner["archived"] == archived
            and (wanted is None or str(owner.get("email", "")).lower() == wanted)
        ]

    def find(self, value: str, *, by_user_id: bool, archived: bool) -> dict[str, Any] | None:
        for owner in self._owners:
            key = owner.get("userId") if by_user_id else owner["id"]
            if str(key) == value and owner["archived"] == archived:
                return owner
        return None

    def labelled_options(self) -> list[tuple[str, str]]:
        """(label, owner id) pairs: the options of owner-valued properties."""
        return [
            (f"{owner.get('firstName', '')} {owner.get('lastName', '')}".strip()
             or str(owner.get("email", owner["id"])), str(owner["id"]))
            for owner in self._owners if not owner["archived"]
        ]
