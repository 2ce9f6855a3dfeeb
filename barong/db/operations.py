"""Migration operations that keep a big PostgreSQL table writable while they run.

On PostgreSQL, ``AddIndexOnline`` and ``RemoveIndexOnline`` build and drop indexes with
``CONCURRENTLY`` (the migration must then say ``atomic = False``); elsewhere (SQLite) they
are plain ``AddIndex``/``RemoveIndex``. ``PostgresOnly`` runs raw SQL only on PostgreSQL,
for what other engines have no equivalent of (``pg_trgm`` indexes, extended statistics).
docs/operations.md tells how long they take on a million users.
"""

from django.db import migrations


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _index_online(operation, schema_editor, state, app_label: str, index, *, add: bool) -> None:
    """Add or drop ``index`` on the model as ``state`` has it: ``CONCURRENTLY`` on PostgreSQL,
    plainly elsewhere; nothing where the router keeps the model off this database."""
    model = state.apps.get_model(app_label, operation.model_name)
    if not operation.allow_migrate_model(schema_editor.connection.alias, model):
        return
    change = schema_editor.add_index if add else schema_editor.remove_index
    if _postgres(schema_editor):
        change(model, index, concurrently=True)
    else:
        change(model, index)


class AddIndexOnline(migrations.AddIndex):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL, a plain ``CREATE INDEX`` elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        _index_online(self, schema_editor, to_state, app_label, self.index, add=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        _index_online(self, schema_editor, from_state, app_label, self.index, add=False)


class RemoveIndexOnline(migrations.RemoveIndex):
    """``DROP INDEX CONCURRENTLY`` on PostgreSQL, a plain ``DROP INDEX`` elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
        _index_online(self, schema_editor, from_state, app_label, index, add=False)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
        _index_online(self, schema_editor, to_state, app_label, index, add=True)


class PostgresOnly(migrations.RunSQL):
    """Raw SQL that only PostgreSQL runs (extensions, ``gin_trgm_ops`` indexes)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
