"""What accounts tells the apps above it; they connect receivers in their ``AppConfig.ready``.

accounts imports no app above it. When a change to a user has consequences that another
app owns, accounts sends one of these signals inside the same transaction and the owner
acts on it (for example ``apikeys`` switches the user's API keys off).
"""

from django.dispatch import Signal

# The user may no longer use API keys: their state left ``active`` or their 2FA went off.
# Sent with ``user=`` inside the transaction that made the change.
api_access_lost = Signal()

# ``api_access_lost`` for many users at once (a level resync banning them): ``ids=`` (a list
# of user ids), inside the transaction that made the change.
users_api_access_lost = Signal()

# These users' rows were rewritten by a bulk ``UPDATE`` (a level resync), which sends no
# ``post_save``: whoever caches them drops its copies. Sent with ``ids=`` and ``uids=``
# (lists, in the same order).
users_updated_in_bulk = Signal()
