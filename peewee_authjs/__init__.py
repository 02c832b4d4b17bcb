"""Auth.js's database adapter on Peewee, sharing one database with ``@auth/sequelize-adapter``.

::

    from peewee_authjs import PeeweeAdapter

    adapter = PeeweeAdapter("sqlite:///auth.db")
    adapter.create_tables()
    user = adapter.create_user({"email": "ada@example.com"})
"""

from peewee_authjs.adapter import PeeweeAdapter
from peewee_authjs.contract import Adapter
from peewee_authjs.contract import AdapterAccount
from peewee_authjs.contract import AdapterAuthenticator
from peewee_authjs.contract import AdapterSession
from peewee_authjs.contract import AdapterUser
from peewee_authjs.contract import SessionAndUser
from peewee_authjs.contract import VerificationToken
from peewee_authjs.errors import AdapterError
from peewee_authjs.errors import BackendError
from peewee_authjs.errors import ConfigurationError
from peewee_authjs.errors import DuplicateError
from peewee_authjs.errors import InvalidInputError
from peewee_authjs.errors import MigrationError
from peewee_authjs.errors import NotFoundError
from peewee_authjs.errors import OAuthAccountNotLinkedError
from peewee_authjs.errors import SignInError
from peewee_authjs.errors import VerificationError
from peewee_authjs.fields import utcnow

__all__ = [
    "Adapter",
    "AdapterAccount",
    "AdapterAuthenticator",
    "AdapterError",
    "AdapterSession",
    "AdapterUser",
    "BackendError",
    "ConfigurationError",
    "DuplicateError",
    "InvalidInputError",
    "MigrationError",
    "NotFoundError",
    "OAuthAccountNotLinkedError",
    "PeeweeAdapter",
    "SessionAndUser",
    "SignInError",
    "VerificationError",
    "VerificationToken",
    "utcnow",
]
