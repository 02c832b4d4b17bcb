"""Random sequences of adapter calls against an in-memory model of the contract, on every backend."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import consumes
from hypothesis.stateful import invariant
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test
from peewee import Database

from peewee_authjs import DuplicateError
from peewee_authjs import NotFoundError
from peewee_authjs import PeeweeAdapter
from tests.backends import quote
from tests.helpers import count

UTC = timezone.utc
BASE = datetime(2030, 1, 1, tzinfo=UTC)

emails = st.sampled_from(["ada@example.com", "Ada@Example.com", "bob@example.com", "cy@example.com", None])
providers = st.sampled_from(["github", "google"])
provider_account_ids = st.sampled_from(["1", "2", "3"])
tokens = st.sampled_from(["t1", "t2", "t3", "t4"])
identifiers = st.sampled_from(["ada@example.com", "bob@example.com"])
instants = st.integers(min_value=-10_000, max_value=10_000).map(
    lambda s: BASE + timedelta(seconds=s, milliseconds=7)
)


class AdapterMachine(RuleBasedStateMachine):
    """Drives one adapter and mirrors what the contract says the database then holds."""

    users = Bundle("users")

    def __init__(self, adapter: PeeweeAdapter, database: Database) -> None:
        super().__init__()
        self.adapter = adapter
        self.database = database
        for table in ("authenticators", "accounts", "sessions", "verification_tokens", "users"):
            database.execute_sql(f"DELETE FROM {quote(database, table)}")
        self.model_users: dict[str, dict[str, Any]] = {}
        self.model_accounts: dict[tuple[str, str], str] = {}  # (provider, id) -> user id
        self.model_sessions: dict[str, dict[str, Any]] = {}  # token -> session
        self.model_tokens: dict[str, dict[str, Any]] = {}  # hashed token -> record

    # -- users ------------------------------------------------------------------------------

    @rule(target=users, email=emails, name=st.sampled_from(["Ada", None]))
    def create_user(self, email: str | None, name: str | None) -> str:
        taken = email is not None and any(u["email"] == email.lower() for u in self.model_users.values())
        if taken:
            try:
                self.adapter.create_user({"email": email, "name": name})
            except DuplicateError:
                return str(uuid.uuid4())  # a user id that exists nowhere
            raise AssertionError("duplicate e-mail accepted")
        user = self.adapter.create_user({"email": email, "name": name})
        expected = {"id": user["id"], "name": name, "email": email.lower() if email else None,
                    "email_verified": None, "image": None}  # fmt: skip
        assert user == expected
        self.model_users[user["id"]] = expected
        return user["id"]

    @rule(user_id=users)
    def get_user(self, user_id: str) -> None:
        assert self.adapter.get_user(user_id) == self.model_users.get(user_id)

    @rule(email=emails.filter(lambda e: e is not None))
    def get_user_by_email(self, email: str) -> None:
        expected = next((u for u in self.model_users.values() if u["email"] == email.lower()), None)
        assert self.adapter.get_user_by_email(email) == expected

    @rule(user_id=users, name=st.sampled_from(["Ada L.", "B", None]), verified=st.none() | instants)
    def update_user(self, user_id: str, name: str | None, verified: datetime | None) -> None:
        result = self.adapter.update_user({"id": user_id, "name": name, "email_verified": verified})
        if user_id in self.model_users:
            self.model_users[user_id].update(name=name, email_verified=verified)
        assert result == self.model_users.get(user_id)

    @rule(user_id=consumes(users))
    def delete_user(self, user_id: str) -> None:
        assert self.adapter.delete_user(user_id) == self.model_users.pop(user_id, None)
        self.model_accounts = {k: v for k, v in self.model_accounts.items() if v != user_id}
        self.model_sessions = {k: v for k, v in self.model_sessions.items() if v["user_id"] != user_id}

    # -- accounts ---------------------------------------------------------------------------

    @rule(user_id=users, provider=providers, pai=provider_account_ids)
    def link_account(self, user_id: str, provider: str, pai: str) -> None:
        record = {"user_id": user_id, "type": "oauth", "provider": provider, "provider_account_id": pai}
        expected: tuple[type[Exception], ...] = ()
        if user_id not in self.model_users:
            expected += (NotFoundError,)
        if (provider, pai) in self.model_accounts:
            expected += (DuplicateError,)
        if expected:  # either error may win when both apply
            try:
                self.adapter.link_account(record)
            except expected:
                return
            raise AssertionError(f"link_account should have raised one of {expected}")
        self.adapter.link_account(record)
        self.model_accounts[(provider, pai)] = user_id

    @rule(provider=providers, pai=provider_account_ids)
    def get_user_by_account(self, provider: str, pai: str) -> None:
        owner = self.model_accounts.get((provider, pai))
        expected = self.model_users.get(owner) if owner else None
        assert self.adapter.get_user_by_account(provider, pai) == expected

    @rule(provider=providers, pai=provider_account_ids)
    def unlink_account(self, provider: str, pai: str) -> None:
        owner = self.model_accounts.pop((provider, pai), None)
        result = self.adapter.unlink_account(provider, pai)
        assert (result is None) == (owner is None)
        if result is not None:
            assert result["user_id"] == owner

    # -- sessions ---------------------------------------------------------------------------

    @rule(user_id=users, token=tokens, expires=instants)
    def create_session(self, user_id: str, token: str, expires: datetime) -> None:
        record = {"session_token": token, "user_id": user_id, "expires": expires}
        expected: tuple[type[Exception], ...] = ()
        if user_id not in self.model_users:
            expected += (NotFoundError,)
        if token in self.model_sessions:
            expected += (DuplicateError,)
        if expected:
            try:
                self.adapter.create_session(record)
            except expected:
                return
            raise AssertionError(f"create_session should have raised one of {expected}")
        self.model_sessions[token] = dict(self.adapter.create_session(record))

    @rule(token=tokens)
    def get_session_and_user(self, token: str) -> None:
        session = self.model_sessions.get(token)
        expected = {"session": session, "user": self.model_users[session["user_id"]]} if session else None
        assert self.adapter.get_session_and_user(token) == expected

    @rule(token=tokens, expires=instants)
    def update_session(self, token: str, expires: datetime) -> None:
        if token in self.model_sessions:
            self.model_sessions[token]["expires"] = expires
        assert self.adapter.update_session(
            {"session_token": token, "expires": expires}
        ) == self.model_sessions.get(token)

    @rule(token=tokens)
    def delete_session(self, token: str) -> None:
        assert self.adapter.delete_session(token) == self.model_sessions.pop(token, None)

    # -- verification tokens ----------------------------------------------------------------

    @rule(identifier=identifiers, token=tokens, expires=instants)
    def create_verification_token(self, identifier: str, token: str, expires: datetime) -> None:
        record = {"identifier": identifier, "token": token, "expires": expires}
        if token in self.model_tokens:
            try:
                self.adapter.create_verification_token(record)
            except DuplicateError:
                return
            raise AssertionError("duplicate verification token accepted")
        assert self.adapter.create_verification_token(record) == record
        self.model_tokens[token] = record

    @rule(identifier=st.none() | identifiers, token=tokens)
    def use_verification_token(self, identifier: str | None, token: str) -> None:
        stored = self.model_tokens.get(token)
        matches = stored is not None and (identifier is None or stored["identifier"] == identifier)
        expected = self.model_tokens.pop(token) if matches else None
        assert self.adapter.use_verification_token(identifier, token) == expected

    # -- what the database holds ------------------------------------------------------------

    @invariant()
    def row_counts_match(self) -> None:
        assert count(self.database, "users") == len(self.model_users)
        assert count(self.database, "accounts") == len(self.model_accounts)
        assert count(self.database, "sessions") == len(self.model_sessions)
        assert count(self.database, "verification_tokens") == len(self.model_tokens)


def test_adapter_follows_the_contract_model(adapter: PeeweeAdapter, database: Database) -> None:
    """Any sequence of calls leaves the database as the contract's model says, and returns what it says."""
    run_state_machine_as_test(
        lambda: AdapterMachine(adapter, database),
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None),
    )
