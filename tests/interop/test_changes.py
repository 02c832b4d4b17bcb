"""Updates and deletes made by one adapter are seen by the other, on every backend and schema."""

from __future__ import annotations

from peewee import Database

from peewee_authjs.sessions import SessionManager
from tests.helpers import count
from tests.interop.node import op
from tests.interop.node import to_js
from tests.interop.node import to_py
from tests.interop.records import account_record
from tests.interop.records import bare_user_record
from tests.interop.records import full_user
from tests.interop.records import kept
from tests.interop.records import kept_dates
from tests.interop.records import later
from tests.interop.records import session_record
from tests.interop.records import user_record
from tests.interop.schemas import Shared


def test_session_extension_and_deletion_cross_sides(shared: Shared) -> None:
    """An expiry pushed by either side (Auth.js's sliding session: the JS updateSession, Python's
    update_session and SessionManager.read) is what the other reads, and a session deleted by either
    side (deleteSession, delete_session, SessionManager.read of an expired one) is gone for the other."""
    py, js = shared.py, shared.js
    user = py.create_user(user_record())
    from_py = py.create_session(session_record(user["id"], days=1))
    from_js, from_js_too = session_record(user["id"], days=1), session_record(user["id"], days=1)
    stale = session_record(user["id"], days=-1)
    js_extended = later(30)
    results = js.batch(
        *(op("createSession", to_js(record)) for record in (from_js, from_js_too, stale)),
        op("updateSession", {"sessionToken": from_py["session_token"], "expires": js_extended}),
        op("getSessionAndUser", from_py["session_token"]),
    )
    created, created_too, updated, found = results[0], results[1], results[3], results[4]
    assert to_py(updated)["expires"] == to_py(found["session"])["expires"]
    assert to_py(found["session"])["expires"] == kept(js_extended, shared.backend, shared.schema, "js")
    read = py.get_session_and_user(from_py["session_token"])
    assert read is not None
    assert read["session"] == {**from_py, "expires": kept(js_extended, shared.backend, shared.schema, "js")}

    py_extended = later(29)
    assert py.update_session({"session_token": from_js["session_token"], "expires": py_extended}) is not None
    manager = SessionManager(py)
    renewed = manager.read(from_js_too["session_token"])  # 1 day left: due for Auth.js's update
    assert renewed is not None and renewed["session"]["expires"] > later(29)
    assert manager.read(stale["session_token"]) is None
    assert py.delete_session(from_py["session_token"]) is not None
    found_js, found_js_too, gone, gone_stale, deleted = js.batch(
        op("getSessionAndUser", from_js["session_token"]),
        op("getSessionAndUser", from_js_too["session_token"]),
        op("getSessionAndUser", from_py["session_token"]),
        op("getSessionAndUser", stale["session_token"]),
        op("deleteSession", from_js["session_token"]),
    )
    expected = kept_dates(
        {**from_js, "id": created["id"], "expires": py_extended}, shared.backend, shared.schema, "py"
    )
    assert to_py(found_js["session"]) == expected
    assert to_py(found_js_too["session"]) == kept_dates(
        {**from_js_too, "id": created_too["id"], "expires": renewed["session"]["expires"]},
        shared.backend,
        shared.schema,
        "py",
    )
    assert gone is None and gone_stale is None
    assert to_py(deleted) == expected
    assert py.get_session_and_user(from_js["session_token"]) is None


def test_user_updates_cross_sides(shared: Shared) -> None:
    """A user changed by Python (name, email_verified) reads changed from Node, and a user changed by
    Node the way Auth.js does it (updateUser({id, emailVerified})) reads changed from Python."""
    py, js = shared.py, shared.js
    bare = bare_user_record()
    js.call("createUser", to_js(bare))
    verified = later(-1)
    updated = py.update_user({"id": bare["id"], "name": "Grace", "email_verified": verified})
    assert updated == full_user(
        {**bare, "name": "Grace", "email_verified": kept(verified, shared.backend, shared.schema, "py")}
    )

    verified_again = later(0)
    seen, js_updated = js.batch(
        op("getUser", bare["id"]),
        op(
            "updateUser",
            {"id": bare["id"], "emailVerified": verified_again, "image": "https://example.com/g.png"},
        ),
    )
    assert to_py(seen) == updated
    expected = full_user(
        {
            **bare,
            "name": "Grace",
            "image": "https://example.com/g.png",
            "email_verified": kept(verified_again, shared.backend, shared.schema, "js"),
        }
    )
    assert to_py(js_updated) == expected
    assert py.get_user(bare["id"]) == expected


def _raw_children(database: Database, user_id: str) -> tuple[int, int]:
    where = "user_id = ?"
    return count(database, "accounts", where, user_id), count(database, "sessions", where, user_id)


def test_python_delete_user_cascade_is_seen_by_node(shared: Shared, database: Database) -> None:
    """PeeweeAdapter.delete_user on a user made by Node removes its accounts and sessions for Node too,
    and leaves the other users' rows alone."""
    user, other = user_record(), user_record()
    account = account_record(user["id"])
    session, other_session = session_record(user["id"]), session_record(other["id"])
    shared.js.batch(
        op("createUser", to_js(user)),
        op("createUser", to_js(other)),
        op("linkAccount", to_js(account)),
        op("createSession", to_js(session)),
        op("createSession", to_js(other_session)),
    )
    deleted = shared.py.delete_user(user["id"])
    assert deleted == kept_dates(user, shared.backend, shared.schema, "js")
    results = shared.js.batch(
        op("getUser", user["id"]),
        op(
            "getUserByAccount",
            {"provider": account["provider"], "providerAccountId": account["provider_account_id"]},
        ),
        op("getSessionAndUser", session["session_token"]),
        op("findAll", "account", {"userId": user["id"]}),
        op("findAll", "session", {"userId": user["id"]}),
        op("getSessionAndUser", other_session["session_token"]),
    )
    assert results[:5] == [None, None, None, [], []]
    assert to_py(results[5]["user"])["id"] == other["id"]


def test_node_delete_user_cascade_is_seen_by_python(shared: Shared, database: Database) -> None:
    """The JS adapter's deleteUser (a DELETE relying on ON DELETE CASCADE) on a user made by Python
    leaves no account or session of it for Python, and the other users' rows alone."""
    py = shared.py
    user, other = py.create_user(user_record()), py.create_user(user_record())
    account = py.link_account(account_record(user["id"]))
    session = py.create_session(session_record(user["id"]))
    other_session = py.create_session(session_record(other["id"]))
    deleted = shared.js.call("deleteUser", user["id"])
    assert to_py(deleted) == kept_dates(user, shared.backend, shared.schema, "py")
    assert py.get_user(user["id"]) is None
    assert py.get_account(account["provider"], account["provider_account_id"]) is None
    assert py.get_session_and_user(session["session_token"]) is None
    assert _raw_children(database, user["id"]) == (0, 0)
    assert py.get_session_and_user(other_session["session_token"]) is not None


def test_unlinked_accounts_are_gone_for_the_other_side(shared: Shared) -> None:
    """An account unlinked by the JS adapter (unlinkAccount) or by Python (unlink_account) no longer
    leads to its user on the other side, and the user's other account still does."""
    py = shared.py
    user = py.create_user(user_record())
    from_py, from_js, kept_account = (account_record(user["id"]) for _ in range(3))
    py.link_account(from_py)
    py.link_account(kept_account)

    def key(account: dict[str, object]) -> dict[str, object]:
        return {"provider": account["provider"], "providerAccountId": account["provider_account_id"]}

    shared.js.batch(op("linkAccount", to_js(from_js)), op("unlinkAccount", key(from_py)))
    assert py.get_account(from_py["provider"], from_py["provider_account_id"]) is None
    unlinked = py.unlink_account(from_js["provider"], from_js["provider_account_id"])
    assert unlinked is not None and unlinked["user_id"] == user["id"]
    gone_py, gone_js, still = shared.js.batch(
        op("getUserByAccount", key(from_py)),
        op("getUserByAccount", key(from_js)),
        op("getUserByAccount", key(kept_account)),
    )
    assert (gone_py, gone_js) == (None, None)
    assert to_py(still)["id"] == user["id"]
