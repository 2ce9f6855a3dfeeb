"""Django's cache sessions, each write one cache round trip (``SESSION_ENGINE``).

Django's cache store checks that a new key is free (EXISTS), writes an empty session
(SET NX), then on every save reads the key back so that a session ended meanwhile is
not brought back (GET, then SET): a login made eleven round trips. Here a new key is
claimed by its first write (SET NX; a clash of 32 random characters is a CreateError,
as before), a save of an existing session is one SET XX (the same refusal, without the
gap between the GET and the SET), and ``also`` carries writes that belong with the
session (its entry in the user's session index, a rate-limit reset) into that same
round trip (``barong.cache.batch``).

Django's ``load()`` treats any cache exception as "no such session" (memcached raises
on odd keys): with Redis away, every logged-in user would look logged out, and
``SessionMiddleware`` would answer with a cookie-clearing ``Set-Cookie``. Here a
connection failure propagates and becomes a 503 (barong/api/failures.py); only a
session known to be missing or invalid ends.
"""

import secrets

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from barong.api.failures import DEPENDENCY_ERRORS
from barong.cache import batch

KEY_LENGTH = 32  # Django's session keys: 32 characters of [a-z0-9]


class SessionStore(CacheSessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self.also: list[tuple] = []
        self._unwritten = False  # the key is new and nothing is stored under it yet

    def load(self) -> dict:
        try:
            session_data = self._cache.get(self.cache_key)
        except DEPENDENCY_ERRORS:
            raise
        except Exception:  # an odd key some backends refuse: no such session, as Django
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    @classmethod
    def stored_under(cls, session_key: str) -> str | None:
        """The cache key of the session a cookie names; None for a key Django refuses
        (``_validate_session_key``, which reads nothing of the instance)."""
        if not cls._validate_session_key(cls, session_key):
            return None
        return cls.cache_key_prefix + session_key

    def _get_new_session_key(self) -> str:
        """32 characters of Django's alphabet from 256 random bits: the same keys as
        ``get_random_string(32, VALID_KEY_CHARS)`` (165 bits of entropy, every character
        uniform to within 2**-90) at a tenth of its cost (one ``secrets.choice`` each)."""
        number = int.from_bytes(secrets.token_bytes(32))
        characters = []
        for _ in range(KEY_LENGTH):
            number, digit = divmod(number, len(VALID_KEY_CHARS))
            characters.append(VALID_KEY_CHARS[digit])
        return "".join(characters)

    def rotate(self) -> None:
        """A new key for the same data, stored by the next save; the old key goes with it."""
        old = self.session_key
        data = self._session
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self._unwritten = True
        self.modified = True
        if old:
            self.also.append(("delete", self.cache_key_prefix + old))

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        create = must_create or self._unwritten
        data = self._get_session(no_load=create)
        op = ("set", self.cache_key, data, self.get_expiry_age(), "nx" if create else "xx")
        written = batch([op, *self.also], using=self._cache)[0]
        self.also = []
        if not written:
            raise CreateError if create else UpdateError
        self._unwritten = False
        return None
