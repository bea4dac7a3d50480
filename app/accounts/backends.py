"""Django's ModelBackend, with the user lookup every signed-in request makes in one plain
statement.

Django's ``get_user`` (the session's user, after which it checks the session's auth hash
itself) loads the user through the ORM on every request, ``$connect`` included: about as much
CPU as the rest of the connect's SQL (docs/performance.md, the profile). This backend reads
the same row through a cursor and builds the model with ``from_db``, as the ORM does;
signing in, permissions and ``user_can_authenticate`` are ModelBackend's own.

Sessions name the backend that signed the user in. ModelBackend stays listed after this one
(settings.AUTHENTICATION_BACKENDS), so sessions signed in before it keep working; a rollback
to a release without it signs out the users who signed in since.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections, router


@cache
def _user_query() -> tuple[str, list[str]]:
    """The statement and the field names it returns, for the configured user model."""
    model = get_user_model()
    fields = model._meta.concrete_fields
    columns = ", ".join(connections["default"].ops.quote_name(field.column) for field in fields)
    primary_key = model._meta.pk.column
    sql = f"SELECT {columns} FROM {model._meta.db_table} WHERE {primary_key} = %s"  # noqa: S608
    return sql, [field.attname for field in fields]


class UserBackend(ModelBackend):
    def get_user(self, user_id) -> AbstractBaseUser | None:
        model = get_user_model()
        sql, names = _user_query()
        alias = router.db_for_read(model)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = model.from_db(alias, names, row)
        return user if self.user_can_authenticate(user) else None
