"""Sessions kept in the database and read from the shared cache (SESSION_ENGINE when CACHE_URL
names Redis or memcached; config/settings.py says why only then).

Django's cached_db sessions: every write goes to the database, then to the cache; a read takes
the cache's copy and falls back to the database on a miss (Redis down included: django-redis
then answers every read with a miss). A copy is kept in the cache for CACHED_SECONDS at most,
not for the session's whole life: a logout removes the session from the database and from the
cache, but a server that cannot reach a Redis still running (a network cut, not Redis stopped)
fails to remove the cached copy, which would be read again once the network is back. Bounded,
such a copy lapses within CACHED_SECONDS; the database has the last word after that.
"""

from django.contrib.sessions.backends import cached_db

CACHED_SECONDS = 300


class ShortLivedCopies:
    """The session cache, each copy kept at most CACHED_SECONDS."""

    def __init__(self, cache):
        self.cache = cache

    def __getattr__(self, name):
        return getattr(self.cache, name)

    def __contains__(self, key) -> bool:
        return key in self.cache

    def set(self, key, value, timeout=None, **kwargs):
        return self.cache.set(key, value, bounded(timeout), **kwargs)

    async def aset(self, key, value, timeout=None, **kwargs):
        return await self.cache.aset(key, value, bounded(timeout), **kwargs)


def bounded(timeout: float | None) -> float:
    return CACHED_SECONDS if timeout is None else min(timeout, CACHED_SECONDS)


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = ShortLivedCopies(self._cache)
