"""Django's database session store, with the read every request makes in one plain statement.

Every ``$connect`` reads the browser's session (its token must belong to the session's user),
and Django's store builds that read through the ORM each time: about as much CPU as the rest
of the connect's SQL together (docs/performance.md, the profile). This store reads the same
row with the same conditions (the key, not expired) through a cursor; everything else, the
format of the data, its signing and every write, is Django's own, so a session written by
either store reads in the other. Django documents subclassing the store as its extension
point ("Extending database-backed session engines").
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> AbstractBaseSession | None:
        model = self.model
        alias = router.db_for_read(model)
        with connections[alias].cursor() as cursor:
            cursor.execute(
                f"SELECT session_data, expire_date FROM {model._meta.db_table} "  # noqa: S608 - the model's table
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            # As Django's store does: an unknown or expired key starts a new session.
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
