"""``python -m peewee_authjs``: the ``peewee-authjs`` command."""

from peewee_authjs.cli import main

raise SystemExit(main())
